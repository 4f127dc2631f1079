"""Run results as a pandas DataFrame: one tidy row per case and run, for notebooks and for ``edgebench history``.

    >>> import edgebench.results
    >>> df = edgebench.results.load(["reports/run-a", "reports/run-b"])      # or load(store=Path(...))
    >>> df.pivot_table(index="created_at", columns="case_id", values="p50_ms")

Columns (``COLUMNS``): ``run_id`` (the directory's name: the baseline's name in a store), ``run_dir``,
``device``, ``suite``, ``git_commit``, ``created_at`` (a UTC timestamp), ``state``, ``edgebench_version``;
the case: ``case_id``, ``case_device`` (its own device in a farm run), ``model``, ``backend``, ``precision``,
``threads``, ``scenario``, ``batch``, ``status``; its figures: ``n`` (latency samples), ``min_ms``, ``mean_ms``,
``p50_ms``, ``p90_ms``, ``p95_ms``, ``p99_ms``, ``max_ms``, ``stdev_ms``, ``throughput_ips``, ``load_ms``,
``first_inference_ms``, ``peak_rss_mb``, ``power_avg_w``, ``energy_per_inference_mj``, ``temp_max_c``
(NaN where not measured: a failed case, a run without sensors). Rows come oldest run first.

The rows are read through the SQLite index (``results.index``): the first load of a thousand runs parses them,
later loads read the cache and parse only the runs that changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from edgebench.optional import require
from edgebench.results.index import CASE_KEYS, FIGURES, RUN_COLUMNS, Refresh, indexed_table

HISTORY = "edgebench history and edgebench.results.load"


def _ms_name(figure: str) -> str:
    return figure[:-3] + "_ms" if figure.endswith("_ns") else figure


#: the DataFrame's columns, in order
COLUMNS = (*RUN_COLUMNS, *CASE_KEYS, *(_ms_name(f) for f in FIGURES))


@dataclass(frozen=True)
class Statistic:
    """A figure ``edgebench history`` can follow: its column, how to print it, and which way is worse."""

    name: str
    column: str
    unit: str
    higher_is_worse: bool
    what: str


#: the statistics of ``edgebench history --statistic``, by name
STATISTICS = {s.name: s for s in (
    Statistic("p50", "p50_ms", "ms", True, "median latency"),
    Statistic("p90", "p90_ms", "ms", True, "90th percentile latency"),
    Statistic("p95", "p95_ms", "ms", True, "95th percentile latency"),
    Statistic("p99", "p99_ms", "ms", True, "99th percentile latency"),
    Statistic("mean", "mean_ms", "ms", True, "mean latency"),
    Statistic("min", "min_ms", "ms", True, "fastest iteration"),
    Statistic("throughput", "throughput_ips", "inferences/s", False, "throughput"),
    Statistic("peak_rss", "peak_rss_mb", "MB", True, "peak resident memory"),
    Statistic("load", "load_ms", "ms", True, "model load time"),
    Statistic("energy", "energy_per_inference_mj", "mJ", True, "energy per inference"),
    Statistic("power", "power_avg_w", "W", True, "average power"),
)}


def store_runs(store: Path) -> list[Path]:
    """The run directories of a baseline store (``edgebench baseline save`` keeps them there)."""
    from edgebench.results.baselines import list_baselines

    return [store / name for name, _ in list_baselines(store)]


def frame_from_table(names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Any:
    """The DataFrame of the index's rows (``RunIndex.table``): latencies in ms, ``created_at`` a UTC timestamp."""
    pd = require("pandas", HISTORY)
    frame = pd.DataFrame.from_records(list(rows), columns=list(names))
    for figure in FIGURES:
        frame[figure] = pd.to_numeric(frame[figure], errors="coerce")
        if figure.endswith("_ns"):
            frame[figure] = frame[figure] / 1e6
    frame = frame.rename(columns={f: _ms_name(f) for f in FIGURES})
    frame["n"] = frame["n"].astype("Int64")
    frame["batch"] = frame["batch"].astype("Int64")
    threads = frame["threads"].dropna()
    if threads.map(lambda t: str(t).isdigit()).all():  # a count everywhere (a backend may say "auto")
        frame["threads"] = pd.to_numeric(frame["threads"]).astype("Int64")
    frame["created_at"] = pd.to_datetime(frame["created_at"], unit="s", utc=True)
    return frame[list(COLUMNS)]


def load_with_refresh(runs: Iterable[Path | str] = (), store: Path | None = None, index: Path | None = None,
                      since: float | None = None, case_glob: str | None = None) -> tuple[Any, Refresh]:
    """``load`` and what the index refresh did (directories read, reused, skipped with a line each)."""
    directories = [Path(r) for r in runs]
    if store is not None:
        directories += store_runs(store)
    names, rows, done = indexed_table(directories, index, since=since, case_glob=case_glob)
    return frame_from_table(names, rows), done


def load(runs: Iterable[Path | str] = (), store: Path | None = None, index: Path | None = None,
         since: float | None = None, case_glob: str | None = None) -> Any:
    """One tidy row per case and run of ``runs`` (run directories) and of the baselines in ``store``; see the
    module docstring for the columns. A directory that holds no readable run is left out (``load_with_refresh``
    says which). ``index``: the SQLite cache (default ``results.index.default_index()``)."""
    return load_with_refresh(runs, store, index, since, case_glob)[0]
