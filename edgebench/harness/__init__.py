"""The host side of a run: matrix expansion (``matrix``) and the runner that drives a transport (``runner``).

What runs on the device is ``edgebench.worker``."""
