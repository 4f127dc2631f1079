"""The LoadGen-driven scenarios' settings: the suite keys that map onto MLPerf LoadGen's ``TestSettings``.

Every key defaults to LoadGen's own default, so a suite that names none gets runs LoadGen calls valid by its
rules. A user may shorten a run (``min_duration_s``, ``min_query_count`` below LoadGen's defaults); the
record then says ``shortened``, since such a run answers a quick question but is not comparable with a
published MLPerf figure.

Parsed on the host; the worker receives the plain dict of :meth:`LoadgenSettings.to_json` in the case.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edgebench.config.fields import Table

#: the scenarios only LoadGen drives; ``single_stream`` goes through LoadGen with ``loadgen = true``
LOADGEN_SCENARIOS = ("server", "offline", "multistream")

#: LoadGen's defaults (mlperf::TestSettings, loadgen 6.0)
LOADGEN_MIN_DURATION_S = 10.0
LOADGEN_MIN_QUERY_COUNT = 100
DEFAULT_PERCENTILE = {"single_stream": 0.90, "multistream": 0.99, "server": 0.99}
LOADGEN_SERVER_LATENCY_BOUND_MS = 100.0
LOADGEN_SAMPLES_PER_QUERY = 8
#: trials of the server search (bisection over LoadGen runs)
DEFAULT_MAX_TRIALS = 8

#: a LoadGen run's time beyond min_duration_s, for the worker's timeout: the queries LoadGen also requires
#: (min_query_count, early stopping's few hundred at p99) take longer than min_duration_s at low rates
RUN_SLACK_S = 30.0

INSTALL_HINT = "pip install 'edgebench[loadgen]' (MLPerf LoadGen, the mlcommons-loadgen package)"


@dataclass(frozen=True)
class LoadgenSettings:
    """One LoadGen scenario's settings, as the worker hands them to ``mlperf_loadgen.TestSettings``."""

    scenario: str
    min_duration_s: float = LOADGEN_MIN_DURATION_S
    min_query_count: int = LOADGEN_MIN_QUERY_COUNT
    #: 0: no cap (LoadGen's default)
    max_duration_s: float = 0.0
    #: the latency percentile the scenario is judged on (single_stream p90, multistream and server p99)
    latency_percentile: float = 0.99
    #: the server scenario: the bound the chosen percentile must stay within
    latency_bound_ms: float = LOADGEN_SERVER_LATENCY_BOUND_MS
    #: a run must also pass LoadGen's early-stopping estimate of the percentile; ``false`` makes the server
    #: search judge trials on the measured percentile alone (LoadGen still says INVALID, and the record keeps it)
    early_stopping: bool = True
    #: LoadGen's qsl, sample-index and schedule seeds
    seed: int = 0
    #: the server scenario: LoadGen runs the QPS search may take
    max_trials: int = DEFAULT_MAX_TRIALS
    #: the server scenario: the first QPS tried (0: the capacity the warm-up measured, halved)
    target_qps: float = 0.0
    #: the multistream scenario: samples per query
    samples_per_query: int = LOADGEN_SAMPLES_PER_QUERY

    @property
    def shortened(self) -> bool:
        """Below LoadGen's minimum duration or query count: the user asked for a quick, non-compliant run."""
        return self.min_duration_s < LOADGEN_MIN_DURATION_S or self.min_query_count < LOADGEN_MIN_QUERY_COUNT

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "shortened": self.shortened}

    @classmethod
    def defaults(cls, scenario: str) -> LoadgenSettings:
        """LoadGen's defaults for a scenario (an include rule that names a scenario the suite does not list)."""
        return cls.parse(Table({}, "(defaults)"), scenario)

    @classmethod
    def parse(cls, table: Table, scenario: str) -> LoadgenSettings:
        """Read the LoadGen keys of one ``[[scenarios]]`` table (the caller reads the others)."""
        values: dict[str, Any] = {
            "scenario": scenario,
            "min_duration_s": table.number("min_duration_s", LOADGEN_MIN_DURATION_S, minimum=0),
            "min_query_count": int(table.number("min_query_count", LOADGEN_MIN_QUERY_COUNT, minimum=1)),
            "max_duration_s": table.number("max_duration_s", 0.0, minimum=0),
            "early_stopping": table.get("early_stopping", bool, True),
            "seed": table.get("loadgen_seed", int, 0),
        }
        if values["max_duration_s"] and values["max_duration_s"] < values["min_duration_s"]:
            raise table.error("max_duration_s", f"must be 0 (no cap) or >= min_duration_s ({values['min_duration_s']})")
        if scenario in DEFAULT_PERCENTILE:
            percentile = table.number("latency_percentile", DEFAULT_PERCENTILE[scenario], minimum=0.5)
            if not percentile < 1:
                raise table.error("latency_percentile", f"must be below 1 (0.99 is p99), got {percentile}")
            values["latency_percentile"] = percentile
        if scenario == "server":
            bound = table.number("latency_bound_ms", LOADGEN_SERVER_LATENCY_BOUND_MS, minimum=0)
            if not bound > 0:
                raise table.error("latency_bound_ms", "must be > 0")
            values["latency_bound_ms"] = bound
            values["max_trials"] = int(table.number("max_trials", DEFAULT_MAX_TRIALS, minimum=1))
            values["target_qps"] = table.number("target_qps", 0.0, minimum=0)
        if scenario == "multistream":
            values["samples_per_query"] = int(table.number("samples_per_query", LOADGEN_SAMPLES_PER_QUERY, minimum=1))
        return cls(**values)



def expected_duration_s(settings: dict[str, Any]) -> float:
    """About how long a case's LoadGen runs take (every trial of the server search): for the worker's timeout."""
    one_run = settings.get("max_duration_s") or 2 * float(settings.get("min_duration_s", 0)) + RUN_SLACK_S
    runs = int(settings.get("max_trials", 1)) if settings.get("scenario") == "server" else 1
    return runs * float(one_run)


def fast_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``--fast``: LoadGen runs of half a second, a server search of 3 trials judged on the percentile alone (so
    short a run cannot pass early stopping). A smoke test of the suite, marked ``shortened``."""
    out = dict(settings)
    out["min_duration_s"] = min(float(out.get("min_duration_s", LOADGEN_MIN_DURATION_S)), 0.5)
    out["min_query_count"] = min(int(out.get("min_query_count", LOADGEN_MIN_QUERY_COUNT)), 10)
    if out.get("max_duration_s"):
        out["max_duration_s"] = max(min(float(out["max_duration_s"]), 0.5), out["min_duration_s"])
    if out.get("scenario") == "server":
        out["max_trials"] = min(int(out.get("max_trials", DEFAULT_MAX_TRIALS)), 3)
        out["early_stopping"] = False
    out["shortened"] = True
    return out
