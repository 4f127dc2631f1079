"""The run directory: its schema, its atomic store, and the per-case summaries."""

from typing import Any


def load(*args: Any, **kwargs: Any) -> Any:
    """Run results as a pandas DataFrame, one row per case and run: see ``edgebench.results.frame.load``."""
    from edgebench.results.frame import load as load_frame

    return load_frame(*args, **kwargs)
