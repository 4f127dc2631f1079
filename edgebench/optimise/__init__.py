"""The optimisation study, host side: variants of a model built from its source (the recipes and their tools;
the suite's ``variants`` key is read by config/variants.py)."""
