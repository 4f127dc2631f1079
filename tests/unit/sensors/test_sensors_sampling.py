"""Sampler (fake clock and a short real period), case sampling, registry, cool-down."""

from __future__ import annotations

import json
import time

import pytest

from edgebench.sensors.base import ReplayRunner, Sensor, SysRoot
from edgebench.sensors.cooldown import wait_for_cooldown
from edgebench.sensors.registry import UnknownSensorError, builtin_sensor_names, load_sensor
from edgebench.sensors.sampler import MAX_ERRORS_PER_SENSOR, Sampler
from edgebench.sensors.sampling import start_case_sampling
from edgebench.sensors.thermal import ThermalSensor
from tests.fixtures.sensors.sysfs_trees import build_nano_jp4, fixture


class Counting(Sensor):
    name = "counting"

    def __init__(self, late: bool = False) -> None:
        super().__init__()
        self.n = 0
        self.late = late
        self.closed = False

    def available(self):
        return None

    def read(self):
        self.n += 1
        out = {"n_count": self.n}
        if self.late and self.n >= 2:
            out["late_mw"] = 10.0 * self.n
        return out

    def close(self):
        self.closed = True


class Broken(Counting):
    name = "broken"

    def read(self):
        raise OSError("i2c read failed")


class Absent(Counting):
    name = "absent"

    def available(self):
        return "missing file: /sys/nowhere"


def fake_clock(step_ns: int = 100):
    state = {"t": 0}

    def clock():
        state["t"] += step_ns
        return state["t"]

    return clock


def test_sampler_ticks_on_a_fake_clock_align_channels_and_record_errors():
    c, b, a = Counting(late=True), Broken(), Absent()
    s = Sampler([c, b, a], 0.1, clock_ns=fake_clock())
    s._open()
    for _ in range(3 + MAX_ERRORS_PER_SENSOR):
        s.tick()
    out = s.result()
    n = 3 + MAX_ERRORS_PER_SENSOR
    assert out["t_ns"] == [100 * (k + 1) for k in range(n)]
    assert out["channels"]["counting.n_count"] == list(range(1, n + 1))
    assert out["channels"]["counting.late_mw"][:3] == [None, 20.0, 30.0]
    assert len(out["channels"]["counting.late_mw"]) == n
    assert out["sensors"]["absent"] == {
        "available": False,
        "reason": "missing file: /sys/nowhere",
        "meta": {},
    }
    assert out["sensors"]["broken"]["available"] is True
    assert out["errors"][0] == {"sensor": "broken", "t_ns": 100, "error": "OSError: i2c read failed"}
    assert len(out["errors"]) == MAX_ERRORS_PER_SENSOR + 1 and out["errors"][-1] == {
        "dropped_errors": {"broken": 3}
    }
    json.dumps(out)


def test_sampler_real_thread_fixed_period_and_own_cpu_time():
    c = Counting()
    s = Sampler([c], 0.01)
    s.start()
    time.sleep(0.2)
    out = s.stop()
    t = out["t_ns"]
    assert 10 <= len(t) <= 22
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert all(g > 0 for g in gaps)
    assert sorted(gaps)[len(gaps) // 2] == pytest.approx(10_000_000, rel=0.3)
    assert out["sampler_cpu_ns"] > 0 and out["period_ms"] == 10.0
    assert c.closed is True
    now = time.perf_counter_ns()
    assert 0 < now - t[-1] < 1_000_000_000  # same clock as the latency loop


def test_start_case_sampling_with_fake_tree_and_tegrastats_replay(tmp_path):
    root = build_nano_jp4(tmp_path / "nano")
    spec = {
        "names": ["thermal", "jetson_power", "tegrastats", "nope"],
        "root": str(root),
        "period_ms": 20,
        "idle_seconds": 0.05,
        "replay": {"tegrastats": str(fixture("tegrastats_nano_jp4.txt"))},
        "options": {"jetson_power": {"total_rail": "POM_5V_IN"}},
    }
    cs = start_case_sampling(spec, time.perf_counter_ns)
    cs.idle_window()
    cs.mark("loop_start")
    time.sleep(0.1)
    cs.mark("loop_end")
    out = cs.stop()
    json.dumps(out)
    assert [m[0] for m in out["marks"]] == ["idle_start", "idle_end", "loop_start", "loop_end"]
    assert out["marks"][1][1] - out["marks"][0][1] >= 50_000_000
    assert set(out["channels"]["thermal.cpu_c"]) == {23.0}
    assert set(out["channels"]["jetson_power.total_mw"]) == {2132.0}
    assert out["sensors"]["jetson_power"]["meta"]["total_source"] == "rail POM_5V_IN"
    assert (
        out["sensors"]["nope"]["available"] is False
        and "unknown sensor 'nope'" in out["sensors"]["nope"]["reason"]
    )
    ts = [v for v in out["channels"]["tegrastats.total_mw"] if v is not None]
    assert ts and ts[0] == 2132.0  # paced replay: the first recorded line first
    assert len(out["t_ns"]) == len(out["channels"]["thermal.cpu_c"])


def test_registry_builtins_and_entry_points(monkeypatch, tmp_path):
    names = builtin_sensor_names()
    assert names == [
        "psutil",
        "thermal",
        "cpufreq",
        "intel_throttle",
        "rapl",
        "hwmon",
        "jetson_power",
        "jetson_gpu",
        "tegrastats",
        "rpi",
        "nvml",
        "nvidia_smi",
        "serial_meter",
    ]
    root, runner = SysRoot(tmp_path), ReplayRunner({})
    for name in names:
        sensor = load_sensor(name, root, runner, {})
        assert sensor.name == name and isinstance(sensor.available(), (str, type(None)))
    with pytest.raises(UnknownSensorError, match="unknown sensor 'x'"):
        load_sensor("x", root, runner, {})
    # a third-party sensor: an installed distribution (dist-info on sys.path) with an edgebench.sensors entry point
    site = tmp_path / "site"
    (site / "mythermal-1.0.dist-info").mkdir(parents=True)
    (site / "mythermal-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: mythermal\nVersion: 1.0\n")
    (site / "mythermal-1.0.dist-info" / "entry_points.txt").write_text(
        "[edgebench.sensors]\nmythermal = mythermal_plugin:MyThermal\n")
    (site / "mythermal_plugin.py").write_text("from edgebench.sensors.thermal import ThermalSensor\n\n\n"
                                              "class MyThermal(ThermalSensor):\n    pass\n")
    monkeypatch.syspath_prepend(str(site))
    sensor = load_sensor("mythermal", root, runner, {})
    assert type(sensor).__name__ == "MyThermal" and isinstance(sensor, ThermalSensor) and sensor.name == "mythermal"


class FakeTime:
    def __init__(self):
        self.t = 0.0

    def clock(self):
        return self.t

    def sleep(self, s):
        self.t += s


def test_cooldown_below_max_after_polls():
    ft = FakeTime()
    temps = iter([80.0, 75.0, 68.0, 59.0])
    out = wait_for_cooldown(lambda: next(temps), 60.0, None, 300.0, ft.sleep, ft.clock, poll_s=5.0)
    assert out["outcome"] == "below_max" and out["waited_s"] == 15.0 and out["polls"] == 4
    assert (out["start_temp_c"], out["end_temp_c"]) == (80.0, 59.0)


def test_cooldown_stable_and_timeout_and_no_rule():
    ft = FakeTime()
    out = wait_for_cooldown(
        lambda: 70.0, None, 0.5, 300.0, ft.sleep, ft.clock, poll_s=2.0, stable_window_s=10.0
    )
    assert out["outcome"] == "stable" and out["waited_s"] == 10.0
    ft = FakeTime()
    out = wait_for_cooldown(lambda: 90.0, 60.0, None, 30.0, ft.sleep, ft.clock, poll_s=4.0)
    assert out["outcome"] == "timeout" and out["waited_s"] == 30.0
    ft = FakeTime()
    assert wait_for_cooldown(lambda: None, 60.0, None, 6.0, ft.sleep, ft.clock)["outcome"] == "no_temperature"
    assert wait_for_cooldown(lambda: 50.0, None, None, 6.0, ft.sleep, ft.clock)["outcome"] == "no_rule"
