"""How cases reach a device: ``local`` (a worker subprocess here), ``ssh``, ``dask``."""
