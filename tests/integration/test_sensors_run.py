"""Sensors in a real run: worker subprocesses through the local transport, the run directory, summary.csv.

1. `--profile local`: the psutil series lands in the raw case file with the loop marks; the power columns of
   summary.csv exist and are empty (no power sensor on this machine).
2. A profile whose [sensors] root is a fake Intel RAPL tree, whose package counter a background thread
   advances at a known 5 W (its max_energy_range_uj set to ~1 J, so it wraps every 0.2 s, many times in the
   run): power, idle power and energy per inference come out as computed by hand.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import textwrap
import threading
import time
from pathlib import Path

import pytest

from edgebench.config.profile import load_profile
from edgebench.config.suite import load_suite
from edgebench.harness import runner
from edgebench.results.store import RunStore
from tests.conftest import write
from tests.fixtures.sensors.sysfs_trees import RAPL_ZONE, build_intel_rapl

pytestmark = pytest.mark.slow

SUITE = """
[rules]
warmup_iterations = 2
warmup_seconds = 0
min_iterations = 20
min_seconds = 0.3
max_seconds = 0.4
target_ci_rel_width = 0.0

[[models]]
name = "tiny"
path = "models/tiny.onnx"
"""
POWER_COLUMNS = ("power_avg_w", "power_idle_w", "energy_per_inference_mj", "temp_max_c", "throttled")


def raw_cases(out: Path) -> dict[str, dict]:
    store = RunStore.open(out)
    return {r["case_id"]: json.loads(gzip.decompress((out / r["raw_file"]).read_bytes()))
            for r in store.records() if r.get("raw_file")}


def csv_rows(out: Path) -> dict[str, dict]:
    with (out / "summary.csv").open() as handle:
        return {row["case_id"]: row for row in csv.DictReader(handle)}


def test_local_run_records_the_psutil_series(tmp_path, tiny_onnx):
    suite = load_suite(write(tmp_path / "s.toml", SUITE + textwrap.dedent("""
        [[backends]]
        name = "onnxruntime"
        threads = 1
        [[backends]]
        name = "null"
        busy_wait_us = 200
        [[scenarios]]
        name = "single_stream"
    """)))
    out = tmp_path / "run"
    runner.run(suite, load_profile("local"), out, runner.RunOptions())
    raws = raw_cases(out)
    assert set(raws) == {"tiny.fp32.onnxruntime.threads=1.single_stream.b1",
                         "tiny.fp32.null.busy_wait_us=200.single_stream.b1"}
    for raw in raws.values():
        assert raw["status"] == "ok", raw.get("error")
        rec = raw["sensors"]
        assert rec["sensors"]["psutil"]["available"] is True and rec["period_ms"] == 100.0
        marks = dict(rec["marks"])
        assert set(marks) >= {"idle_start", "idle_end", "load_start", "loop_start", "loop_end"}
        assert marks["loop_start"] <= raw["loop_started_ns"] < marks["loop_end"]
        n = len(rec["t_ns"])
        assert n >= 3 and rec["t_ns"] == sorted(rec["t_ns"])
        rss = rec["channels"]["psutil.proc_rss_bytes"]
        assert len(rss) == n and all(isinstance(v, int) and v > 10 * 2**20 for v in rss)
        cpu = rec["channels"]["psutil.proc_cpu_pct"]
        assert cpu[0] is None and all(isinstance(v, float) for v in cpu[1:])  # first None, never 0.0
        in_loop = [c for t, c in zip(rec["t_ns"], cpu) if marks["loop_start"] < t <= marks["loop_end"]]
        assert in_loop and max(in_loop) > 20.0  # the timed loop keeps a CPU busy
        assert rec["sampler_cpu_ns"] > 0 and rec["errors"] == []
        # the sampled RSS stays under the worker's high-water mark, give or take the kernel's batched per-CPU
        # RSS counters (a page was seen in CI): same unit, same process
        assert max(rss) <= raw["peak_rss_bytes"] + 2**20
    rows = csv_rows(out)
    for row in rows.values():
        assert all(column in row for column in POWER_COLUMNS)
        assert [row[c] for c in POWER_COLUMNS] == ["", "", "", "", ""]  # no sensor here can say
    details = RunStore.open(out).record(next(iter(raws)))["summary"]["sensors"]["details"]
    assert details["energy"] == {"reason": "no power or energy channel with readings"}


POWER_MW = 5000.0  # what the fake package draws: 5 W = 5000 uJ per ms
WRAP_UJ = 999_999  # the fake counter's max_energy_range_uj: it wraps every 0.2 s at 5 W


class RaplDriver:
    """Advances the fake package counter like the hardware: +5000 uJ/ms, wrapping at max_energy_range_uj."""

    def __init__(self, root: Path) -> None:
        self.path = root / RAPL_ZONE.lstrip("/") / "energy_uj"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.perf_counter()
        tmp = self.path.with_name("energy_uj.tmp")
        while not self._stop.is_set():
            total = int((time.perf_counter() - t0) * POWER_MW * 1000)
            tmp.write_text(f"{total % (WRAP_UJ + 1)}\n")
            os.replace(tmp, self.path)  # readers never see a half-written file
            self._stop.wait(0.002)

    def __enter__(self) -> RaplDriver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_rapl_tree_run_gives_power_and_energy_per_inference(tmp_path, tiny_onnx):
    tree = build_intel_rapl(tmp_path / "intel")
    for cpu in (0, 1):
        d = f"/sys/devices/system/cpu/cpu{cpu}/cpufreq"
        for name, value in (("scaling_cur_freq", 2_400_000), ("scaling_min_freq", 400_000),
                            ("scaling_max_freq", 2_400_000), ("cpuinfo_max_freq", 2_400_000),
                            ("scaling_governor", "performance")):
            write(tree / d.lstrip("/") / name, f"{value}\n")
    profile = load_profile(write(tmp_path / "fake-intel.toml", textwrap.dedent(f"""
        name = "fake-intel"
        description = "this machine, with a fake Intel RAPL tree as its /sys"
        [transport]
        kind = "local"
        [backends.null]
        [sensors]
        expected = ["rapl", "thermal", "cpufreq"]
        root = "{tree}"
        period_ms = 20
        idle_seconds = 0.3
        total_power_channel = "rapl.package_0_uj"
    """)))
    suite = load_suite(write(tmp_path / "s.toml", SUITE + textwrap.dedent("""
        [[backends]]
        name = "null"
        busy_wait_us = 200
        [[scenarios]]
        name = "single_stream"
    """)))
    out = tmp_path / "run"
    write(tree / RAPL_ZONE.lstrip("/") / "max_energy_range_uj", f"{WRAP_UJ}\n")
    with RaplDriver(tree):
        runner.run(suite, profile, out, runner.RunOptions())
    (case_id, raw), = raw_cases(out).items()
    assert raw["status"] == "ok", raw.get("error")
    rec = raw["sensors"]
    assert {n for n, s in rec["sensors"].items() if s["available"]} == {"rapl", "thermal", "cpufreq"}
    assert rec["sensors"]["rapl"]["meta"]["max_energy_range_uj"]["package_0_uj"] == WRAP_UJ
    counter = rec["channels"]["rapl.package_0_uj"]
    assert all(isinstance(v, int) for v in counter)
    assert sum(b < a for a, b in zip(counter, counter[1:])) >= 3  # it wrapped, several times
    marks = dict(rec["marks"])
    summary = RunStore.open(out).record(case_id)["summary"]["sensors"]
    energy = summary["details"]["energy"]
    assert energy["method"] == "counter delta" and energy["channels"] == ["rapl.package_0_uj"]
    t_ns = rec["t_ns"]

    def by_hand_w(start: int, end: int) -> float:
        """The counter's wrapped deltas over the samples inside the window, over the time they span."""
        inside = [k for k, t in enumerate(t_ns) if start <= t <= end]
        uj = sum((counter[b] - counter[a]) % (WRAP_UJ + 1) for a, b in zip(inside, inside[1:]))
        return uj / 1e6 / ((t_ns[inside[-1]] - t_ns[inside[0]]) / 1e9)

    loop_w = by_hand_w(marks["loop_start"], marks["loop_end"])
    idle_w = by_hand_w(marks["idle_start"], marks["idle_end"])
    loop_s = (marks["loop_end"] - marks["loop_start"]) / 1e9
    by_hand_mj = loop_w * 1000 * loop_s / raw["iterations"]  # mean loop power x loop time / inferences
    assert summary["power_avg_w"] == pytest.approx(loop_w, rel=1e-9)
    assert summary["power_idle_w"] == pytest.approx(idle_w, rel=1e-9)
    assert summary["energy_per_inference_mj"] == pytest.approx(by_hand_mj, rel=1e-9)
    assert energy["active_energy_per_inference_mj"] == pytest.approx((loop_w - idle_w) * 1000 * loop_s
                                                                     / raw["iterations"], rel=1e-9, abs=1e-12)
    # and the fake counter is the 5 W it was driven at, give or take when its thread got a core
    assert loop_w == pytest.approx(POWER_MW / 1000, rel=0.15) and idle_w == pytest.approx(POWER_MW / 1000, rel=0.15)
    assert summary["temp_max_c"] == 52.0 and summary["throttled"] is False
    row = csv_rows(out)[case_id]
    assert float(row["power_avg_w"]) == pytest.approx(loop_w, rel=1e-5)
    assert float(row["energy_per_inference_mj"]) == pytest.approx(by_hand_mj, rel=1e-5)
    assert row["temp_max_c"] == "52" and row["throttled"] == "false"


def test_rapl_tree_with_a_still_counter_reads_zero_power_not_none(tmp_path, tiny_onnx):
    """The fake counter does not move by itself: a zero delta is 0 W and 0 mJ, recorded as such."""
    tree = build_intel_rapl(tmp_path / "intel")
    profile = load_profile(write(tmp_path / "still.toml", textwrap.dedent(f"""
        name = "still-intel"
        [transport]
        kind = "local"
        [backends.null]
        [sensors]
        expected = ["rapl"]
        root = "{tree}"
        period_ms = 50
    """)))
    suite = load_suite(write(tmp_path / "s.toml", SUITE + textwrap.dedent("""
        [[backends]]
        name = "null"
        [[scenarios]]
        name = "single_stream"
    """)))
    out = tmp_path / "run"
    runner.run(suite, profile, out, runner.RunOptions())
    (case_id, raw), = raw_cases(out).items()
    assert set(raw["sensors"]["channels"]["rapl.package_0_uj"]) == {1_000_000}
    summary = RunStore.open(out).record(case_id)["summary"]["sensors"]
    assert summary["power_avg_w"] == 0.0 and summary["energy_per_inference_mj"] == 0.0
    assert summary["power_idle_w"] is None  # no idle window: no idle figure, not 0
