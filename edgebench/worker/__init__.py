"""What runs on a device: one case in a fresh process (``main``), from a case's JSON on stdin to its raw result.

This package ships in the agent (``edgebench.transports.agent_bundle``), so it imports nothing host-side: the
standard library, numpy, and from edgebench only the wire objects (``edgebench.wire``), the low helpers beside
them, backends and sensors (tests/unit/test_layers.py holds this). Python 3.8 syntax.
"""
