"""An SQLite index of run directories, so a history of a thousand runs does not parse a thousand run.json files.

Run directories stay the source of truth; the index is a cache of the figures ``edgebench history`` and
``edgebench.results.load`` read: one row per run (its header) and one per case (its figures). A run is read
again when its run.json changed (a different size or modification time: the store replaces the file on every
write, so either moves), and dropped from the index when its directory no longer holds a readable run. The
cache is disposable: delete the file, or let a new edgebench rebuild it when its layout (``LAYOUT``) changes.

Default location: $EDGEBENCH_HISTORY_INDEX, else $XDG_CACHE_HOME/edgebench/history.sqlite
(~/.cache/edgebench/history.sqlite). Directories are keyed by absolute path, so one index serves every store.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from edgebench.errors import ResultsError
from edgebench.record import CaseRecord, RunHeader

#: bump when the tables change: an index of another layout is rebuilt from the run directories
LAYOUT = 1

#: run columns, in table order
RUN_COLUMNS = ("run_dir", "run_id", "device", "suite", "git_commit", "created_at", "state", "edgebench_version")
#: case columns that say what the case is
CASE_KEYS = ("case_id", "case_device", "model", "backend", "precision", "threads", "scenario", "batch", "status")
#: the figures of a case (CaseRecord.summary), in the units their names say
FIGURES = ("n", "min_ns", "mean_ns", "p50_ns", "p90_ns", "p95_ns", "p99_ns", "max_ns", "stdev_ns",
           "throughput_ips", "load_ms", "first_inference_ms", "peak_rss_mb", "power_avg_w",
           "energy_per_inference_mj", "temp_max_c")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    run_dir TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
    run_id TEXT, device TEXT, suite TEXT, git_commit TEXT, created_at REAL, state TEXT, edgebench_version TEXT);
CREATE TABLE IF NOT EXISTS cases (
    run_dir TEXT NOT NULL REFERENCES runs(run_dir) ON DELETE CASCADE,
    {", ".join(f"{k} {'INTEGER' if k == 'batch' else 'TEXT'}" for k in CASE_KEYS)},
    {", ".join(f"{k} REAL" for k in FIGURES)});
CREATE INDEX IF NOT EXISTS cases_by_run ON cases(run_dir);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs(created_at);
"""


def default_index() -> Path:
    env = os.environ.get("EDGEBENCH_HISTORY_INDEX")
    if env:
        return Path(env).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "edgebench" / "history.sqlite"


@dataclass
class Refresh:
    """What one ``RunIndex.refresh`` did: directories read again, reused from the index, and skipped (one line
    each, naming the directory and why)."""

    read: int = 0
    reused: int = 0
    skipped: list[str] = field(default_factory=list)


def _figures(record: CaseRecord) -> list[Any]:
    summary = record.summary
    latency = record.latency
    values: dict[str, Any] = {}
    if latency is not None:
        values["n"] = latency.n
        values.update({k: latency.ns(k) for k in FIGURES if k.endswith("_ns")})
    if summary is not None:
        values.update(throughput_ips=summary.throughput_ips, load_ms=summary.load_ms,
                      first_inference_ms=summary.first_inference_ms, peak_rss_mb=summary.peak_rss_mb,
                      power_avg_w=summary.sensors.power_avg_w,
                      energy_per_inference_mj=summary.sensors.energy_per_inference_mj,
                      temp_max_c=summary.sensors.temp_max_c)
    return [values.get(k) for k in FIGURES]


def _threads(value: Any) -> str | None:
    return None if value is None else str(value)


class RunIndex:
    """The index file. ``refresh(dirs)`` brings those directories up to date; ``table(dirs, ...)`` reads them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), timeout=30)
            self._open()
        except sqlite3.DatabaseError as exc:  # not an SQLite file, or a damaged one: it is only a cache
            if not path.is_file():
                raise ResultsError(f"{path}: cannot open the history index: {exc}") from None
            self.db.close()
            path.unlink()
            self.db = sqlite3.connect(str(path), timeout=30)
            self._open()
        except OSError as exc:
            raise ResultsError(f"{path}: cannot create the history index: {exc.strerror or exc}") from None

    def _open(self) -> None:
        self.db.execute("PRAGMA foreign_keys = ON")
        layout = self.db.execute("PRAGMA user_version").fetchone()[0]
        if layout != LAYOUT:
            self.db.executescript("DROP TABLE IF EXISTS cases; DROP TABLE IF EXISTS runs;")
        self.db.executescript(_SCHEMA)
        self.db.execute(f"PRAGMA user_version = {LAYOUT}")
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RunIndex:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- keeping it current --------------------------------------------------------------------------------
    def refresh(self, directories: Iterable[Path]) -> Refresh:
        """Read each directory whose run.json is new or changed since it was indexed; drop the ones that no
        longer hold a readable run (each is one line in ``skipped``), and any indexed run that was deleted."""
        from edgebench.results.store import RUN_FILE, RunStore

        done = Refresh()
        known = {row[0]: (row[1], row[2]) for row in self.db.execute("SELECT run_dir, mtime_ns, size_bytes FROM runs")}
        directories = list(directories)
        with self.db:
            asked = {str(Path(d).resolve()) for d in directories}
            gone = [(k,) for k in known if k not in asked and not (Path(k) / RUN_FILE).is_file()]
            self.db.executemany("DELETE FROM runs WHERE run_dir = ?", gone)  # moved or deleted: forget them
            for directory in directories:
                key = str(Path(directory).resolve())
                try:
                    stat = (Path(key) / RUN_FILE).stat()
                except OSError:
                    self.db.execute("DELETE FROM runs WHERE run_dir = ?", (key,))
                    done.skipped.append(f"{directory}: not a run directory (no {RUN_FILE}); skipped")
                    continue
                if known.get(key) == (stat.st_mtime_ns, stat.st_size):
                    done.reused += 1
                    continue
                self.db.execute("DELETE FROM runs WHERE run_dir = ?", (key,))
                try:
                    run = RunStore.open(Path(key))
                    header = run.run_info
                    cases = run.cases()
                except ResultsError as exc:
                    done.skipped.append(f"{exc}; skipped")
                    continue
                self._insert(key, Path(directory).name, stat, header, cases)
                done.read += 1
        return done

    def _insert(self, key: str, run_id: str, stat: os.stat_result, header: RunHeader,
                cases: Sequence[CaseRecord]) -> None:
        self.db.execute(f"INSERT INTO runs VALUES ({', '.join('?' * 10)})",
                        (key, stat.st_mtime_ns, stat.st_size, run_id, header.device, header.suite or None,
                         header.git_commit, header.created_at, header.state, header.edgebench_version))
        rows = [(key, c.case_id, c.device, c.model, c.backend, c.precision, _threads(c.threads), c.scenario,
                 c.batch, c.status, *_figures(c)) for c in cases]
        marks = ", ".join("?" * (1 + len(CASE_KEYS) + len(FIGURES)))
        self.db.executemany(f"INSERT INTO cases VALUES ({marks})", rows)

    # -- reading --------------------------------------------------------------------------------------------
    def table(self, directories: Iterable[Path], since: float | None = None,
              case_glob: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, one tuple per case and run of ``directories``), oldest run first (as indexed: refresh
        first).
        ``since``: runs created at or after this Unix time; ``case_glob``: case ids matching it (``*``, ``?``,
        ``[...]``, case-sensitive)."""
        keys = [str(Path(d).resolve()) for d in directories]
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (run_dir TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM wanted")
        self.db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", [(k,) for k in keys])
        where, params = [], []  # type: list[str], list[Any]
        if since is not None:
            where.append("r.created_at >= ?")
            params.append(since)
        if case_glob:
            where.append("c.case_id GLOB ?")
            params.append(case_glob)
        columns = [*(f"r.{k}" for k in RUN_COLUMNS), *(f"c.{k}" for k in CASE_KEYS), *(f"c.{k}" for k in FIGURES)]
        query = (f"SELECT {', '.join(columns)} FROM wanted w JOIN runs r ON r.run_dir = w.run_dir "
                 f"JOIN cases c ON c.run_dir = r.run_dir {'WHERE ' + ' AND '.join(where) if where else ''} "
                 f"ORDER BY r.created_at, r.run_id, c.rowid")
        return [c.split(".", 1)[1] for c in columns], self.db.execute(query, params).fetchall()


def indexed_table(directories: Sequence[Path], index_path: Path | None = None, since: float | None = None,
                  case_glob: str | None = None) -> tuple[list[str], list[tuple[Any, ...]], Refresh]:
    """Refresh the index for ``directories`` and read their rows: (column names, rows, what the refresh did)."""
    with RunIndex(index_path or default_index()) as index:
        done = index.refresh(directories)
        names, rows = index.table(directories, since=since, case_glob=case_glob)
    return names, rows, done
