"""The run: matrix expansion, the worker that times one case, and the runner that drives a transport."""
