"""The run directory: its schema, its atomic store, and the per-case summaries."""
