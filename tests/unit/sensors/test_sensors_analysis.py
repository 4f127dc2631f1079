"""Energy and throttling analysis against values computed by hand."""

from __future__ import annotations

import pytest

from edgebench.analysis.declared import RecordChannels
from edgebench.analysis.energy import counter_delta, energy_per_inference_mj, integrate_power_mj, window_power
from edgebench.analysis.sensor_summary import KEYS, pick_total_channels, summarize_sensors
from edgebench.analysis.throttling import (
    assess,
    below_max_fraction,
    bitmask_flags,
    latency_drift,
    level_and_sticky_flags,
    trip_crossings,
)
from edgebench.sensors.channels import LEVEL, STICKY
from edgebench.sensors.nvml import CHANNELS as NVML_CHANNELS


def inferred(series, sensors=None):
    """Declarations of a record written before sensors declared them: inferred from the names."""
    return RecordChannels.from_record(series, sensors)

S = 1_000_000_000
W = 262143328850  # RAPL max_energy_range_uj


def test_counter_delta_with_wrap_and_reset():
    assert counter_delta([100, 300, 50], wrap_at=399) == 200 + 150
    assert counter_delta([100, None, 300]) == 200
    assert counter_delta([300, 100]) is None  # a reset with no known range
    assert counter_delta([5]) is None


def test_trapezoid_with_interpolated_edges():
    # window 0.5..2.5 s: (1500+2000)/2*0.5 + 2000*1 + (2000+3000)/2*0.5 = 875 + 2000 + 1250
    assert integrate_power_mj([0, S, 2 * S, 3 * S], [1000, 2000, 2000, 4000], S // 2, 5 * S // 2) == (
        4125.0,
        2.0,
    )
    assert integrate_power_mj([0, S], [None, 5.0], 0, S) is None


def test_window_power_rapl_counter_across_a_wrap():
    t = [0, S, 2 * S, 3 * S]
    series = {"rapl.package_0_uj": [W - 499_999, 1_500_000, 3_500_000, 5_500_000]}
    uj = {"rapl.package_0_uj": "uJ"}
    wp = window_power(t, series, ["rapl.package_0_uj"], 0, 3 * S, {"rapl.package_0_uj": W}, uj)
    assert (wp.energy_mj, wp.avg_mw, wp.method) == (6000.0, 2000.0, "counter delta")
    no_wrap = window_power(t, series, ["rapl.package_0_uj"], 0, 3 * S, units=uj)
    assert no_wrap.avg_mw is None


def test_energy_per_inference_total_and_active():
    assert energy_per_inference_mj(2875.0, 1000.0, 4.0, 100) == (115.0, 75.0)
    assert energy_per_inference_mj(2875.0, None, 4.0, 100) == (115.0, None)
    assert energy_per_inference_mj(None, 1.0, 4.0, 100) == (None, None)


def test_latency_drift():
    assert latency_drift([1000] * 10 + [1100] * 80 + [1200] * 10) == 1.2
    assert latency_drift([1] * 9) is None


def test_explicit_flags():
    flags, notes = level_and_sticky_flags(
        "rpi",
        {
            "throttled_now": [False, True, False],
            "throttled_occurred": [False, False, True],
            "under_voltage_occurred": [True, True],
        },
        {"throttled_now": LEVEL, "throttled_occurred": STICKY, "under_voltage_occurred": STICKY},
    )
    assert flags == ["rpi throttled_now", "rpi throttled_occurred (during the case)"]
    assert notes == ["rpi under_voltage_occurred (since boot)"]
    reasons = next(c for c in NVML_CHANNELS if c.name == "clock_event_reasons")
    assert bitmask_flags("nvml", reasons, [0x1, 0x4, 0x24, None]) == (
        ["nvml sw_thermal_slowdown"],
        ["nvml sw_power_cap (normal at full load)"],
    )
    assert below_max_fraction([1000, 1479, 1479, 900], 1479) == 0.5
    assert trip_crossings({"cpu_c": [60.0, 71.5]}, {"cpu_c": 70.0}) == ["cpu_c 71.5 C >= trip 70 C"]


def test_assess_signals_and_none_when_no_sensor_can_say():
    cpu = {"psutil.cpu_pct": [50.0]}
    assert assess(cpu, inferred(cpu), [1] * 100).throttled is None
    counts = {"intel_throttle.core_throttle_count": [5, 5, 7]}
    intel = assess(counts, inferred(counts), [])
    assert intel.throttled is True and intel.flags == ("intel_throttle core_throttle_count +2",)
    still = {"intel_throttle.core_throttle_count": [5, 5]}
    calm = assess(still, inferred(still), [])
    assert calm.throttled is False
    slow_clock = {"cpufreq.cpu0_cur_khz": [600000, 600000], "cpufreq.cpu0_max_khz": [1479000, 1479000]}
    clocks = inferred(slow_clock)
    assert assess(slow_clock, clocks, [1000] * 100).throttled is False  # low clock alone: idle is normal
    drifting = assess(slow_clock, clocks, [1000] * 10 + [1100] * 80 + [1200] * 10)
    assert drifting.throttled is True and drifting.flags == ("cpu clock below max with latency drift 1.200",)


def case_with_sensors(**extra):
    t = [k * S // 2 for k in range(13)]  # 0 .. 6 s every 0.5 s
    power = [1000.0] * 5 + [3000.0] * 8  # idle 1 W until 2 s, loaded 3 W from 2.5 s
    temps = [40.0, 40.0, 40.5, 41.0, 41.0, 55.0, 60.0, 65.0, 70.5, 72.5, 72.0, 71.0, 70.0]
    channels = {"jetson_power.total_mw": power, "thermal.cpu_c": temps, "tegrastats.gpu_c": [None] * 13}
    sensors = {
        "jetson_power": {"available": True, "reason": None, "meta": {"total_source": "rail VDD_IN"}},
        "thermal": {
            "available": True,
            "reason": None,
            "meta": {"trip_points_c": {"cpu_c": [[97.0, "passive"]]}},
        },
    }
    channels.update(extra.pop("channels", {}))
    sensors.update(extra.pop("sensors", {}))
    return {
        "latency_ns": [40_000_000] * 100,
        "iterations": 100,
        "batch": 1,
        "sensors": {
            "period_ms": 500.0,
            "t_ns": t,
            "channels": channels,
            "sampler_cpu_ns": 1000,
            "sensors": sensors,
            "errors": [],
            "marks": [["idle_start", 0], ["idle_end", 2 * S], ["loop_start", 2 * S], ["loop_end", 6 * S]],
        },
    }


def test_summary_by_hand():
    out = summarize_sensors(case_with_sensors())
    assert set(out) == {*KEYS, "details"}
    # loop 2..6 s: (1000+3000)/2*0.5 + 3000*3.5 = 11500 mJ / 4 s = 2875 mW; idle 1000 mW
    assert out["power_avg_w"] == 2.875 and out["power_idle_w"] == 1.0
    assert out["energy_per_inference_mj"] == 115.0  # 2875 mW * 4 s / 100
    assert out["details"]["energy"]["active_energy_per_inference_mj"] == 75.0
    assert out["details"]["energy"]["method"] == "power integral (trapezoid)"
    assert out["details"]["energy"]["total_source"] == {"jetson_power": "rail VDD_IN"}
    assert out["temp_max_c"] == 72.5
    assert out["throttled"] is False  # 72.5 C < 97 C passive trip, no other signal
    hot = case_with_sensors(
        sensors={
            "thermal": {
                "available": True,
                "reason": None,
                "meta": {"trip_points_c": {"cpu_c": [[70.0, "passive"]]}},
            }
        }
    )
    summary = summarize_sensors(hot)
    assert summary["throttled"] is True
    batched = case_with_sensors()
    batched["batch"] = 4  # 100 iterations of 4 inferences: 11500 mJ / 400 inferences
    energy = summarize_sensors(batched)
    assert energy["energy_per_inference_mj"] == 28.75
    assert energy["details"]["energy"]["energy_per_iteration_mj"] == 115.0
    assert energy["details"]["energy"]["active_energy_per_inference_mj"] == 18.75
    assert summary["details"]["throttling"]["flags"] == ["thermal cpu_c 72.5 C >= trip 70 C"]


def test_summary_prefers_the_rapl_counter_and_handles_its_wrap():
    uj = [W - 999_999 + k * 1_000_000 for k in range(13)]
    uj = [v if v <= W else v - (W + 1) for v in uj]  # the counter wraps after the first sample
    case = case_with_sensors(
        channels={"rapl.package_0_uj": uj},
        sensors={
            "rapl": {"available": True, "reason": None, "meta": {"max_energy_range_uj": {"package_0_uj": W}}}
        },
    )
    out = summarize_sensors(case)
    assert out["details"]["energy"]["channels"] == ["rapl.package_0_uj"]
    assert out["power_avg_w"] == 2.0 and out["power_idle_w"] == 2.0  # 1 J per 0.5 s
    assert out["energy_per_inference_mj"] == 80.0  # 2000 mW * 4 s / 100
    assert out["details"]["energy"]["active_energy_per_inference_mj"] == 0.0
    forced = summarize_sensors(case, total_power_channel="jetson_power.total_mw")
    assert forced["power_avg_w"] == 2.875


def test_summary_without_sensors_is_all_none():
    out = summarize_sensors({"latency_ns": [1, 2], "iterations": 2, "batch": 1})
    assert {k: out[k] for k in KEYS} == dict.fromkeys(KEYS)
    root_only = case_with_sensors()
    root_only["sensors"]["channels"] = {"rapl.package_0_uj": [None] * 13}
    assert summarize_sensors(root_only)["energy_per_inference_mj"] is None
    silent = {"rapl.package_0_uj": [None, None]}
    assert pick_total_channels(silent, inferred(silent)) == []


def test_summary_without_marks_uses_the_whole_series_and_latency_sum():
    case = case_with_sensors()
    case["sensors"]["marks"] = []
    out = summarize_sensors(case)
    # whole 0..6 s: 1000*2 + 1000 + 3000*3.5 = 13500 mJ / 6 s = 2250 mW; loop time = sum(latency) = 4 s
    assert out["power_avg_w"] == 2.25 and out["power_idle_w"] is None
    assert out["energy_per_inference_mj"] == pytest.approx(2250.0 * 4.0 / 100)
