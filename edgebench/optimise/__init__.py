"""The optimisation study, host side: variants of a model built from its source (variants.py, build.py)."""
