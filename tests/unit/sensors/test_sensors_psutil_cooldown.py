"""psutil's first CPU% is None (never 0.0); the cool-down reads the sampler's samples, not the sensors."""

from __future__ import annotations

import time

from edgebench.sensors.base import Sensor
from edgebench.sensors.channels import TEMPERATURE, Channel
from edgebench.sensors.cooldown import wait_for_cooldown
from edgebench.sensors.sampler import Sampler
from edgebench.sensors.sampling import CaseSampling, start_case_sampling


def test_psutil_first_cpu_pct_is_none_then_measured():
    cs = start_case_sampling({"names": ["psutil"], "period_ms": 20}, time.perf_counter_ns)
    end = time.perf_counter() + 5.0
    while time.perf_counter() < end and len(cs.sampler._t_ns) < 5:  # keep a CPU busy: readings > 0
        pass
    out = cs.stop()
    proc, system = out["channels"]["psutil.proc_cpu_pct"], out["channels"]["psutil.cpu_pct"]
    assert proc[0] is None and system[0] is None
    assert len(proc) >= 3 and all(v is not None for v in proc[1:]) and max(proc[1:]) > 0
    assert all(v > 0 for v in out["channels"]["psutil.proc_rss_bytes"])


class Temps(Sensor):
    name = "temps"

    def __init__(self, values):
        super().__init__()
        self.values = list(values)
        self.reads = 0

    def available(self):
        return None

    def read(self):
        self.reads += 1
        return {"cpu_c": self.values.pop(0) if len(self.values) > 1 else self.values[0], "gpu_c": 30.0}

    def channels(self):
        return [Channel("cpu_c", TEMPERATURE, "C"), Channel("gpu_c", TEMPERATURE, "C")]


def test_cooldown_reads_the_latest_sample_and_only_the_sampler_reads_sensors():
    sensor = Temps([80.0, 70.0, 55.0])
    sampler = Sampler([sensor], 0.1)
    sampler._open()
    cs = CaseSampling(sampler, 0.0, time.perf_counter_ns)

    def sleep(_s):  # each poll of the cool-down sees one more sample
        sampler.tick()

    cs._sleep = sleep
    sampler.tick()
    out = cs.cooldown({"max_temp_c": 60.0, "timeout_s": 100, "channel": "temps.cpu_c"})
    assert out["outcome"] == "below_max" and out["start_temp_c"] == 80.0 and out["end_temp_c"] == 55.0
    assert sensor.reads == len(sampler.result()["t_ns"]) == 3  # no second reader
    assert [m[0] for m in cs.marks] == ["cooldown_start", "cooldown_end"]


def test_cooldown_with_a_misspelt_channel_does_not_wait_out_the_timeout():
    sampler = Sampler([Temps([80.0])], 0.1)
    sampler._open()
    sampler.tick()
    cs = CaseSampling(sampler, 0.0, time.perf_counter_ns, sleep=lambda s: (_ for _ in ()).throw(AssertionError))
    out = cs.cooldown({"max_temp_c": 60.0, "timeout_s": 300, "channel": "temps.CPU-therm_c"})
    assert out["outcome"] == "unknown_channel" and out["known_channels"] == ["temps.cpu_c", "temps.gpu_c"]
    assert cs.stop()["cooldown"]["outcome"] == "unknown_channel"
    out = cs.cooldown({"max_temp_c": 60.0, "timeout_s": 300, "channel": "rpi.soc_c"})  # not sampled here
    assert out["outcome"] == "sensor_unavailable"


class Warming(Temps):
    """A streaming sensor: nothing until its tool prints its first line."""

    def read(self):
        self.reads += 1
        return {} if self.reads < 3 else {"cpu_c": 50.0}


def test_cooldown_waits_for_a_stream_that_has_not_spoken_yet():
    sampler = Sampler([Warming([0.0])], 0.1)
    sampler._open()
    sampler.tick()
    cs = CaseSampling(sampler, 0.0, time.perf_counter_ns, sleep=lambda s: sampler.tick())
    out = cs.cooldown({"max_temp_c": 60.0, "timeout_s": 100, "channel": "temps.cpu_c"})
    assert out["outcome"] == "below_max" and out["end_temp_c"] == 50.0 and out["polls"] == 3


def test_case_sampling_accepts_channel_names_among_the_sensors():
    cs = start_case_sampling({"names": ["psutil", "psutil.proc_rss_bytes"], "period_ms": 50},
                             time.perf_counter_ns)
    out = cs.stop()
    assert list(out["sensors"]) == ["psutil"]


def test_a_sensor_may_read_its_own_root(tmp_path):
    from tests.fixtures.sensors.sysfs_trees import build_nano_jp4

    tree = build_nano_jp4(tmp_path / "nano")
    spec = {"names": ["psutil", "thermal"], "root": str(tree), "period_ms": 50,
            "options": {"psutil": {"root": "/"}}}
    out = start_case_sampling(spec, time.perf_counter_ns).stop()
    assert out["sensors"]["psutil"]["available"] and out["sensors"]["thermal"]["available"]
    assert out["channels"]["thermal.cpu_c"][0] == 23.0
    spec["options"] = {}  # psutil refuses a copied tree: it reads the live /proc
    out = start_case_sampling(spec, time.perf_counter_ns).stop()
    assert out["sensors"]["psutil"]["available"] is False


class NoTemps(Temps):
    name = "load"

    def read(self):
        self.reads += 1
        return {"cpu_pct": 12.0}


def test_cooldown_without_any_temperature_fails_fast_with_a_note():
    # the reported case: psutil only (no *_c channel) and a [cooldown] of 300 s: it waited 300 s before every case
    sampler = Sampler([NoTemps([0.0])], 0.1)
    sampler._open()
    sampler.tick()
    slept = []

    def sleep(s):
        slept.append(s)
        assert sum(slept) < 10, "waited for a temperature that no sensor gives"

    cs = CaseSampling(sampler, 0.0, time.perf_counter_ns, sleep=sleep)
    out = cs.cooldown({"max_temp_c": 60.0, "timeout_s": 300})
    assert out["outcome"] == "no_temperature" and out["waited_s"] < 1.0 and sum(slept) == 0
    assert "load" in out["note"] and "thermal" in out["note"]
    # a temperature channel that never reads (an offline zone): given up after a poll or two, not the timeout
    ft_t = [0.0]
    out = wait_for_cooldown(lambda: None, 60.0, None, 300.0, lambda s: ft_t.__setitem__(0, ft_t[0] + s),
                            lambda: ft_t[0], poll_s=2.0)
    assert out["outcome"] == "no_temperature" and out["waited_s"] <= 2.0 and "note" in out
    # the summary of a case says it ran without cooling down
    from edgebench.analysis.sensor_summary import summarize_sensors

    rec = {"t_ns": [0, 1], "channels": {}, "marks": [], "sensors": {},
           "cooldown": {"outcome": "no_temperature", "note": "no temperature to wait on"}}
    assert summarize_sensors({"sensors": rec})["details"]["cooldown"] == "no_temperature: no temperature to wait on"
