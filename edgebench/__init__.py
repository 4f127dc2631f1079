"""edgebench: on-device benchmarking and profiling of ML inference.

The public API is deliberately small; everything not listed in ``__all__`` may change.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
