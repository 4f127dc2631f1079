"""The run directory, written case by case and atomically, so Ctrl-C or a crash keeps finished cases.

    <run>/run.json                 schema_version, suite, profile, environment, one record per case
    <run>/cases/<case_id>.json.gz  the raw result of one case: every latency sample, warm-up, sensor series
    <run>/summary.csv              one row per case (see results.summary.CSV_COLUMNS)
    <run>/cases/<case_id>.p<k>.json.gz  with ``processes = N``: the result of worker process k (0-based) as it
                                   landed; the case file above merges them once all N are in

Every file is written to a temporary name in the same directory, flushed, and renamed over the old one
(``edgebench.files.atomic_write``).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
import zlib
from pathlib import Path
from typing import Any, Iterable, Mapping

from edgebench.errors import ResultsError
from edgebench.files import atomic_write
from edgebench.record import CaseRecord, RunHeader, resolve_threads
from edgebench.results import schema
from edgebench.results.summary import CSV_COLUMNS, case_summary, csv_row, format_cell

RUN_FILE = "run.json"
CASES_DIR = "cases"
SUMMARY_FILE = "summary.csv"


#: the run directory this process last wrote (where the CLI puts the traceback of an internal error)
_being_written: list[Path] = []


def directory_being_written() -> Path | None:
    return _being_written[-1] if _being_written else None


def check_records(document: dict[str, Any], path: Path) -> None:
    """The parts of run.json every reader relies on: a list of case records, each with an id and a status."""
    cases = document.get("cases")
    if not isinstance(cases, list):
        raise ResultsError(f"{path}: cases: missing or not a list")
    for index, record in enumerate(cases):
        if not isinstance(record, dict) or not isinstance(record.get("case_id"), str) or not isinstance(
                record.get("status"), str):
            raise ResultsError(f"{path}: cases[{index}]: not a case record (case_id and status)")


def case_file_name(case_id: str) -> str:
    return f"{CASES_DIR}/{case_id}.json.gz"


def op_trace_path(case_id: str) -> str:
    """``cases/<case_id>.ops.json``: the runtime's per-operator profiling trace of the case."""
    return f"cases/{case_id}.ops.json"


def process_file_name(case_id: str, index: int) -> str:
    return f"{CASES_DIR}/{case_id}.p{index}.json.gz"


#: per-process figures a merged case keeps (``processes[i]``)
PROCESS_KEYS = ("latency_ns", "peak_rss_bytes", "load_rss_bytes", "load_ns", "first_inference_ns", "started_at",
                "finished_at", "loop_elapsed_ns", "stop_reason", "process_index", "sequence")


def merge_processes(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """See ``RunStore.merged_processes``; ``parts`` in process order."""
    import statistics

    if not parts:
        raise ResultsError("no process results to merge")
    merged = dict(parts[-1])  # runtime, environment, sensors: the last process's
    for key in ("process_index", "sequence"):
        merged.pop(key, None)
    merged["processes"] = [{k: p.get(k) for k in PROCESS_KEYS} for p in parts]
    merged["latency_ns"] = [v for p in parts for v in (p.get("latency_ns") or [])]
    peaks = [p["peak_rss_bytes"] for p in parts if isinstance(p.get("peak_rss_bytes"), (int, float))]
    merged["peak_rss_bytes"] = max(peaks) if peaks else None
    for key in ("load_ns", "first_inference_ns", "load_rss_bytes"):
        values = [p[key] for p in parts if isinstance(p.get(key), (int, float))]
        merged[key] = statistics.median(values) if values else None
    elapsed = [p["loop_elapsed_ns"] for p in parts if isinstance(p.get("loop_elapsed_ns"), (int, float))]
    merged["loop_elapsed_ns"] = sum(elapsed) if elapsed else None
    merged["started_at"] = parts[0].get("started_at")
    return merged


def _write_json_gz(path: Path, data: Any) -> None:
    """A raw case or process file: compact JSON, gzip level 6, no timestamp (the same bytes for the same data)."""
    atomic_write(path, gzip.compress(json.dumps(data, separators=(",", ":")).encode(), compresslevel=6, mtime=0))


#: what reading a gzip-JSON file raises when it is gone, truncated, bit-flipped or not JSON
_UNREADABLE = (OSError, EOFError, ValueError, zlib.error)


def _read_json_gz(path: Path) -> Any:
    return json.loads(gzip.decompress(path.read_bytes()))


def loadgen_log_path(case_id: str, log_name: str) -> str:
    """``cases/<case_id>.loadgen/mlperf_log_summary.txt``: LoadGen's logs of the case's reported run."""
    return f"{CASES_DIR}/{case_id}.loadgen/{Path(log_name).name}"


class RunStore:
    """One run directory. ``document`` is the content of run.json, kept in memory and rewritten per case; only
    the store writes it. Readers take the typed views: ``run_info`` (the header) and ``cases()`` (the records)."""

    def __init__(self, directory: Path, document: dict[str, Any]) -> None:
        self.directory = directory
        self.document = document
        self._run_info: RunHeader | None = None

    # -- creation and loading ---------------------------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, header: Mapping[str, Any], cases: Iterable[Mapping[str, Any]]) -> RunStore:
        if (directory / RUN_FILE).exists():
            raise ResultsError(f"{directory}: already holds a run; use --resume {directory} or another --out")
        document = {"schema_version": schema.SCHEMA_VERSION, **header, "state": "running",
                    "created_at": time.time(), "finished_at": None, "cases": [dict(c) for c in cases]}
        store = cls(directory, document)
        store.flush()
        return store

    @classmethod
    def open(cls, directory: Path) -> RunStore:
        path = directory / RUN_FILE
        if not directory.is_dir():
            raise ResultsError(f"{directory}: not a run directory (no such directory)")
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ResultsError(f"{directory}: not a run directory (no {RUN_FILE})") from None
        except ValueError as exc:  # truncated, bit-flipped (not UTF-8), not JSON
            raise ResultsError(f"{path}: not valid JSON, truncated or corrupt? ({exc})") from None
        except OSError as exc:
            raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}") from None
        if not isinstance(document, dict):
            raise ResultsError(f"{path}: not a run record (a JSON {type(document).__name__}, not an object)")
        document = schema.upgrade(document, str(path))
        check_records(document, path)
        return cls(directory, document)

    # -- typed views -----------------------------------------------------------------------------------
    @property
    def run_info(self) -> RunHeader:
        """The run's header: its device(s) and their environments, suite, rules, state."""
        if self._run_info is None:
            self._run_info = RunHeader.from_json(self.document)
        return self._run_info

    def cases(self) -> list[CaseRecord]:
        """Every case of the run, in run.json's order, as typed records."""
        run = self.run_info
        return [CaseRecord.from_json(r, run) for r in self.records()]

    def case(self, case_id: str) -> CaseRecord:
        return CaseRecord.from_json(self.record(case_id), self.run_info)

    def case_specs(self) -> dict[str, Any]:
        """case id -> the case as it was planned (``Case.to_json()``), for ``--resume``; {} when run.json has none."""
        specs = self.document.get("case_specs")
        return specs if isinstance(specs, dict) else {}

    @property
    def device(self) -> str:
        return self.run_info.device

    # -- records (the raw dicts of run.json: the store's own, and tests') -------------------------------

    def records(self) -> list[dict[str, Any]]:
        return self.document["cases"]

    def record(self, case_id: str) -> dict[str, Any]:
        for record in self.document["cases"]:
            if record["case_id"] == case_id:
                return record
        raise ResultsError(f"{self.directory}: no case {case_id}")

    def pending(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["status"] in schema.RESUMABLE]

    def write_case(self, result: Mapping[str, Any], status: str | None = None) -> dict[str, Any]:
        """Store one finished case: its raw file first, then its record in run.json, then summary.csv."""
        record = self.record(result["case_id"])
        raw_name = case_file_name(result["case_id"])
        trace = (result.get("op_profile") or {}).get("trace_text")
        if trace:  # the runtime's own per-operator trace, kept as it wrote it
            atomic_write(self.directory / op_trace_path(result["case_id"]), trace.encode())
            result = {**result, "op_profile": {k: v for k, v in result["op_profile"].items() if k != "trace_text"}}
        _write_json_gz(self.directory / raw_name, result)
        for log_name, text in (result.get("loadgen_logs") or {}).items():  # LoadGen's own summary and detail
            atomic_write(self.directory / loadgen_log_path(result["case_id"], log_name), text.encode())
        run = self.run_info
        # the case's own device: a farm run keeps each device's profile, and each has its own total channel
        device = run.device_info(record.get("device") or run.device)
        total_channel = device.total_power_channel if device else None
        runtime = result.get("runtime")
        settings = record.get("settings")
        record.update({
            "status": status or result.get("status", schema.FAILED),
            "error": result.get("error"),
            "runtime": runtime,
            "threads": resolve_threads(runtime if isinstance(runtime, dict) else {},
                                       settings if isinstance(settings, dict) else {}),
            "summary": case_summary(result, run.confidence, total_channel),
            "raw_file": raw_name,
            "started_at": result.get("started_at"),
            "finished_at": result.get("finished_at"),
        })
        self.flush()
        return record

    # -- repeated processes per case ----------------------------------------------------------------------
    def processes_done(self, case_id: str) -> int:
        """How many worker processes of the case are stored (``--resume`` runs the rest)."""
        done = self.record(case_id).get("processes_done")
        return done if isinstance(done, int) else 0

    def write_process(self, result: Mapping[str, Any]) -> int:
        """Store the result of one more worker process of a case; returns its index (0-based). The case stays
        pending in run.json until its last process is merged (``merged_processes``)."""
        case_id = result["case_id"]
        record = self.record(case_id)
        index = self.processes_done(case_id)
        sequence = int(self.document.get("processes_started") or 0)
        part = {**result, "process_index": index, "sequence": sequence}
        _write_json_gz(self.directory / process_file_name(case_id, index), part)
        record["processes_done"] = index + 1
        self.document["processes_started"] = sequence + 1
        self._flush_run_file()  # the case stays pending: summary.csv does not change
        return index

    def merged_processes(self, case_id: str) -> dict[str, Any]:
        """One case result from its stored processes: ``latency_ns`` is every sample concatenated (what a
        reader that knows nothing of processes expects), ``processes`` keeps each process's own samples, peak
        memory and load time; peak memory is the largest process's, load time the median's."""
        parts = []
        for index in range(self.processes_done(case_id)):
            path = self.directory / process_file_name(case_id, index)
            try:
                parts.append(_read_json_gz(path))
            except _UNREADABLE as exc:
                raise ResultsError(f"{path}: process result unreadable ({exc})") from None
        return merge_processes(parts)

    def mark(self, case_id: str, status: str, error: str | None) -> None:
        record = self.record(case_id)
        record.update({"status": status, "error": error})
        self.flush()

    def finish(self, state: str = "complete") -> None:
        self.document["state"] = state
        self.document["finished_at"] = time.time()
        self.flush()

    def mark_resumed(self) -> None:
        """The run is running again; ``resumed_at`` lists when each resume began (written with the next flush)."""
        self.document["state"] = "running"
        self.document.setdefault("resumed_at", []).append(time.time())
        self._run_info = None

    def add_to_summaries(self, figures: Mapping[str, Mapping[str, Any]]) -> None:
        """Figures computed once every case has run (output fidelity against a reference case, accuracy), by
        case id: each mapping's keys are added to that case's ``summary``."""
        for record in self.document["cases"]:
            extra = figures.get(record["case_id"])
            if extra and isinstance(record.get("summary"), dict):
                record["summary"].update(extra)
        if figures:
            self.flush()

    def set_system_state(self, state: Mapping[str, Any]) -> None:
        """The device state the run ran in (``edgebench system show``), or why it could not be read."""
        self.document["system_state"] = dict(state)
        self.flush()

    def raw_path(self, case_id: str) -> Path:
        return self.directory / (self.record(case_id).get("raw_file") or case_file_name(case_id))

    def load_raw(self, case_id: str) -> dict[str, Any]:
        path = self.raw_path(case_id)
        try:
            raw = _read_json_gz(path)
        except FileNotFoundError:
            raise ResultsError(f"{path}: raw samples missing") from None
        except _UNREADABLE as exc:
            raise ResultsError(f"{path}: raw samples unreadable (truncated or corrupt: {exc})") from None
        if not isinstance(raw, dict):
            raise ResultsError(f"{path}: raw samples unreadable (a JSON {type(raw).__name__}, not an object)")
        return raw

    def unreadable_cases(self) -> dict[str, str]:
        """case id -> why its raw file cannot be read, for every case that has one. Decompressing checks the
        gzip CRC and length, which a truncated or bit-flipped file fails; the JSON is not parsed (fast)."""
        found = {}
        for record in self.records():
            if not record.get("raw_file"):
                continue
            path = self.raw_path(record["case_id"])
            try:
                gzip.decompress(path.read_bytes())
            except FileNotFoundError:
                found[record["case_id"]] = f"{path}: raw samples missing"
            except (OSError, EOFError, zlib.error) as exc:
                found[record["case_id"]] = f"{path}: raw samples unreadable (truncated or corrupt: {exc})"
        return found

    def check_raw_files(self) -> None:
        """A ResultsError naming the first unreadable raw file (and how many more), if any."""
        unreadable = self.unreadable_cases()
        if unreadable:
            first = next(iter(unreadable.values()))
            more = f" (and {len(unreadable) - 1} more case files)" if len(unreadable) > 1 else ""
            fix = ("save the baseline again from a sound run" if (self.directory / "baseline.json").exists()
                   else f"`edgebench run --resume {self.directory}` runs those cases again")
            raise ResultsError(f"{first}{more}; {fix}")

    def requeue_unreadable(self) -> dict[str, str]:
        """``--resume``: a case whose raw file is truncated, corrupt or gone is run again (its summary in
        run.json cannot be recomputed or checked without it). Returns case id -> the problem."""
        found = self.unreadable_cases()
        for case_id, problem in found.items():
            record = self.record(case_id)
            record.update({"status": schema.PENDING, "error": f"run again: {problem}", "summary": None,
                           "raw_file": None, "processes_done": 0})
        if found:
            self.flush()
        return found

    def repair_summary(self) -> str | None:
        """A missing ``summary.csv`` is rebuilt from run.json (it holds every row); returns what was done."""
        path = self.directory / SUMMARY_FILE
        if path.is_file():
            return None
        try:
            atomic_write(path, self.summary_csv().encode())
        except OSError as exc:
            return f"{path}: missing, and cannot be rebuilt here ({exc.strerror or exc}); run.json has every row"
        return f"{path}: was missing; rebuilt from run.json"

    # -- files ------------------------------------------------------------------------------------------
    def flush(self) -> None:
        self._flush_run_file()
        atomic_write(self.directory / SUMMARY_FILE, self.summary_csv().encode())

    def _flush_run_file(self) -> None:
        """run.json alone: what a change no summary.csv column shows needs written (a process's progress)."""
        self._run_info = None  # the header may have changed (state, finished_at)
        _being_written[:] = [self.directory]
        text = json.dumps(self.document, indent=1, sort_keys=False, default=str)
        atomic_write(self.directory / RUN_FILE, text.encode())

    def summary_rows(self) -> list[dict[str, Any]]:
        return [csv_row(r) for r in self.cases()]

    def summary_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.summary_rows():
            writer.writerow([format_cell(row[c]) for c in CSV_COLUMNS])
        return buffer.getvalue()
