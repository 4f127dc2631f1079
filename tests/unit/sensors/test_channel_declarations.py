"""Sensors declare what their channels mean, and the analysis reads the declarations.

On every shipped profile's fake board (recorded device output and sysfs layouts, see test_profiles_channels.py):
every channel a sensor produces is declared, and a record's figures are the same whether the analysis reads the
declarations or, as for a record written before sensors declared them, infers them from the names.
"""

from __future__ import annotations

import copy
import json

import pytest

from edgebench.analysis.declared import RecordChannels
from edgebench.analysis.sensor_summary import summarize_sensors
from edgebench.config.profile import load_profile
from edgebench.reporting import plots
from edgebench.sensors.channels import KINDS, TEMPERATURE, Channel
from edgebench.sensors.registry import load_sensor
from edgebench.sensors.sampler import Sampler
from tests.run_fixtures import sensor_block
from tests.unit.sensors.test_profiles_channels import PROFILES, board

S = 1_000_000_000


def sampled_case(path, tmp_path, monkeypatch) -> dict:
    """A case record as the worker writes it: the profile's sensors on its fake board, 13 ticks 0.5 s apart."""
    profile = load_profile(path)
    root, runner = board(profile.name, tmp_path, monkeypatch, profile)
    names = list(dict.fromkeys(n.split(".", 1)[0] for n in profile.sensors.expected))
    sensors = [load_sensor(n, root, runner, profile.sensors.options.get(n, {})) for n in names]
    ticks = iter(range(0, 13 * S // 2, S // 2))
    sampler = Sampler(sensors, 0.5, clock_ns=lambda: next(ticks, 7 * S))
    sampler._open()
    for _ in range(13):
        sampler.tick()
    for s in sampler.live_sensors():
        s.close()
    rec = sampler.result()
    rec["marks"] = [["idle_start", 0], ["idle_end", 2 * S], ["loop_start", 2 * S], ["loop_end", 6 * S]]
    return {"latency_ns": [40_000_000] * 100, "iterations": 100, "batch": 1,
            "sensors": json.loads(json.dumps(rec))}


def without_declarations(case: dict) -> dict:
    old = copy.deepcopy(case)
    for status in old["sensors"]["sensors"].values():
        status.get("meta", {}).pop("channels", None)
    return old


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_every_channel_is_declared_and_old_records_give_the_same_figures(path, tmp_path, monkeypatch):
    profile = load_profile(path)
    case = sampled_case(path, tmp_path, monkeypatch)
    rec = case["sensors"]
    declared = RecordChannels.from_record(rec["channels"], rec["sensors"])
    assert declared.inferred == ()
    undeclared = [k for k in rec["channels"] if declared.get(k) is None]
    assert not undeclared, f"{path.name}: channels without a declaration: {undeclared}"
    assert all(e.channel.kind in KINDS for e in declared.entries)
    old = without_declarations(case)
    if rec["channels"]:
        assert RecordChannels.from_record(old["sensors"]["channels"], old["sensors"]["sensors"]).inferred
    new_summary = summarize_sensors(case, profile.sensors.total_power_channel)
    old_summary = summarize_sensors(old, profile.sensors.total_power_channel)
    assert new_summary == old_summary
    if profile.sensors.total_power_channel:  # the profile's total is a declared power or energy channel
        total = declared.get(profile.sensors.total_power_channel)
        assert total is not None and total.unit in ("mW", "uW", "W", "uJ", "mJ", "J")
        assert new_summary["details"]["energy"]["channels"] == [profile.sensors.total_power_channel]
    if profile.cooldown.channel:
        assert (declared.get(profile.cooldown.channel) or Channel("", "info", "")).kind == TEMPERATURE


def test_the_jetson_board_total_trip_points_and_clock_limits_are_declared(tmp_path, monkeypatch):
    path = next(p for p in PROFILES if p.stem == "jetson-agx-orin")
    rec = sampled_case(path, tmp_path, monkeypatch)["sensors"]
    declared = RecordChannels.from_record(rec["channels"], rec["sensors"])
    total = declared.get("jetson_power.total_mw")
    assert total is not None and (total.kind, total.unit, total.rank) == ("power_total", "mW", 60)
    gpu_max = declared.get("jetson_gpu.gpu_max_mhz")
    assert gpu_max is not None and (gpu_max.kind, gpu_max.of) == ("clock_max", "gpu_cur_mhz")
    # the record keeps them as JSON in the sensor's meta, and reads them back unchanged
    stored = rec["sensors"]["jetson_power"]["meta"]["channels"]
    assert {"name": "total_mw", "kind": "power_total", "unit": "mW", "rank": 60} in stored
    assert Channel.from_json(json.loads(json.dumps(total.to_json()))) == total


def test_an_old_record_from_the_report_fixtures_is_read_by_names():
    """tests/run_fixtures.py writes the sensor block as edgebench did before declarations: the report's golden
    files come from it; the declarations inferred for it are those the sensors now make."""
    block = sensor_block(400 * 2_000_000, throttle=True)
    declared = RecordChannels.from_record(block["channels"], block["sensors"])
    assert set(declared.inferred) == {"jetson_power", "thermal", "jetson_gpu", "cpufreq"}
    kinds = {e.key: (e.channel.kind, e.channel.unit) for e in declared.entries if e.channel.value is None}
    assert kinds == {
        "jetson_power.total_mw": ("power_total", "mW"), "jetson_power.vdd_cpu_gpu_cv_mw": ("rail", "mW"),
        "thermal.cpu_c": ("temperature", "C"), "thermal.gpu_c": ("temperature", "C"),
        "jetson_gpu.gpu_cur_mhz": ("clock", "MHz"), "jetson_gpu.gpu_max_mhz": ("clock_max", "MHz"),
        "cpufreq.cpu0_cur_khz": ("clock", "kHz"), "cpufreq.cpu0_max_khz": ("clock_max", "kHz")}
    trips = [(e.channel.of, e.channel.value) for e in declared.constants("trip_point")]
    assert trips == [("cpu_c", 50.0), ("cpu_c", 97.0)]
    # the same block with declarations gives the same figures and the same timeline
    case = {"latency_ns": [2_000_000] * 400, "iterations": 400, "batch": 1, "sensors": block}
    declaring = copy.deepcopy(block)
    for name, status in declaring["sensors"].items():
        status["meta"] = {**status["meta"], "channels": [
            e.channel.to_json() for e in declared.entries if e.sensor == name]}
    assert summarize_sensors({**case, "sensors": declaring}) == summarize_sensors(case)
    pytest.importorskip("matplotlib")
    assert plots.sensor_timeline({"sensors": declaring}, "t") == plots.sensor_timeline({"sensors": block}, "t")
