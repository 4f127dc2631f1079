"""Device preparation: small ordered operations (governor, nvpmodel, jetson_clocks, fan, cool-down), each able to
say whether it is available, what state the device is in, and to change it (pyperf's ``system`` idea)."""
