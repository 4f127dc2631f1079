"""The run directory, written case by case and atomically, so Ctrl-C or a crash keeps finished cases.

    <run>/run.json                 schema_version, suite, profile, environment, one record per case
    <run>/cases/<case_id>.json.gz  the raw result of one case: every latency sample, warm-up, sensor series
    <run>/summary.csv              one row per case (see results.summary.CSV_COLUMNS)

Every file is written to a temporary name in the same directory, flushed, and renamed over the old one.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from edgebench.errors import ResultsError
from edgebench.results import schema
from edgebench.results.summary import CSV_COLUMNS, case_summary, csv_row, format_cell

RUN_FILE = "run.json"
CASES_DIR = "cases"
SUMMARY_FILE = "summary.csv"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are for everyone to read
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def case_file_name(case_id: str) -> str:
    return f"{CASES_DIR}/{case_id}.json.gz"


def loadgen_log_path(case_id: str, log_name: str) -> str:
    """``cases/<case_id>.loadgen/mlperf_log_summary.txt``: LoadGen's logs of the case's reported run."""
    return f"{CASES_DIR}/{case_id}.loadgen/{Path(log_name).name}"


class RunStore:
    """One run directory. ``document`` is the content of run.json, kept in memory and rewritten per case."""

    def __init__(self, directory: Path, document: dict[str, Any]) -> None:
        self.directory = directory
        self.document = document

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
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ResultsError(f"{directory}: not a run directory (no {RUN_FILE})") from None
        except ValueError as exc:
            raise ResultsError(f"{path}: not valid JSON ({exc})") from None
        return cls(directory, schema.upgrade(document, str(path)))

    # -- records ----------------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return str(self.document.get("profile", {}).get("name", "unknown"))

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
        raw = gzip.compress(json.dumps(result, separators=(",", ":")).encode(), compresslevel=6, mtime=0)
        atomic_write(self.directory / raw_name, raw)
        for log_name, text in (result.get("loadgen_logs") or {}).items():  # LoadGen's own summary and detail
            atomic_write(self.directory / loadgen_log_path(result["case_id"], log_name), text.encode())
        confidence = self.document.get("suite", {}).get("rules", {}).get("confidence", 0.95)
        total_channel = self.document.get("profile", {}).get("sensors", {}).get("total_power_channel")
        record.update({
            "status": status or result.get("status", schema.FAILED),
            "error": result.get("error"),
            "runtime": result.get("runtime"),
            "summary": case_summary(result, confidence, total_channel),
            "raw_file": raw_name,
            "started_at": result.get("started_at"),
            "finished_at": result.get("finished_at"),
        })
        self.flush()
        return record

    def mark(self, case_id: str, status: str, error: str | None) -> None:
        record = self.record(case_id)
        record.update({"status": status, "error": error})
        self.flush()

    def finish(self, state: str = "complete") -> None:
        self.document["state"] = state
        self.document["finished_at"] = time.time()
        self.flush()

    def raw_path(self, case_id: str) -> Path:
        return self.directory / (self.record(case_id).get("raw_file") or case_file_name(case_id))

    def load_raw(self, case_id: str) -> dict[str, Any]:
        path = self.raw_path(case_id)
        try:
            return json.loads(gzip.decompress(path.read_bytes()))
        except FileNotFoundError:
            raise ResultsError(f"{path}: raw samples missing") from None
        except (OSError, EOFError, ValueError) as exc:  # a truncated or corrupt file
            raise ResultsError(f"{path}: raw samples unreadable ({exc})") from None

    # -- files ------------------------------------------------------------------------------------------
    def flush(self) -> None:
        text = json.dumps(self.document, indent=1, sort_keys=False, default=str)
        atomic_write(self.directory / RUN_FILE, text.encode())
        atomic_write(self.directory / SUMMARY_FILE, self.summary_csv().encode())

    def summary_rows(self) -> list[dict[str, Any]]:
        return [csv_row(self.device, r) for r in self.records()]

    def summary_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.summary_rows():
            writer.writerow([format_cell(row[c]) for c in CSV_COLUMNS])
        return buffer.getvalue()
