"""Analysis of stored results: statistics, comparisons, energy and throttling."""
