"""The sustained scenario's analysis: time to throttle and sustained/initial throughput, on literal series."""

from __future__ import annotations

import pytest

from edgebench.analysis.declared import RecordChannels
from edgebench.analysis.sensor_summary import summarize_sensors
from edgebench.analysis.sustained import (
    analyse_sustained,
    is_sustained,
    latency_onset,
    sample_offsets_s,
    sensor_onset,
    sustained_ratio,
)

MS = 1_000_000
# 60 iterations at 1 ms, then the device throttles: 40 at 2 ms
STEP = [1 * MS] * 60 + [2 * MS] * 40


def test_offsets_are_latency_sums_stretched_to_the_elapsed_time():
    assert sample_offsets_s([MS, 2 * MS, MS]) == [0.0, 0.001, 0.003]
    assert sample_offsets_s([MS, 2 * MS, MS], elapsed_ns=8 * MS) == [0.0, 0.002, 0.006]


def test_latency_onset_by_hand():
    # n=100: window 5, step 1; the window [i, i+5) has a median > 1.1 ms once 3 of its 5 are slow:
    # i + 5 - 60 >= 3 -> i = 58; onset = its middle sample 58 + 2 = 60, which starts at 60 x 1 ms
    assert latency_onset(STEP) == (pytest.approx(0.060), 60)
    # the loop took 154 ms for 140 ms of inference: every time stretched by 1.1
    assert latency_onset(STEP, elapsed_ns=154 * MS) == (pytest.approx(0.066), 60)
    # n=400: window 20, step 4; 250 at 1 ms then 1.5 ms. A median of 20 is the mean of the 10th and 11th:
    # with 10 slow ones it is (1 + 1.5) / 2 = 1.25 > 1.1 -> i + 20 - 250 >= 10 -> i = 240, onset 240 + 10
    lat = [MS] * 250 + [3 * MS // 2] * 150
    assert latency_onset(lat) == (pytest.approx(0.250), 250)


def test_latency_onset_ignores_spikes_and_short_series():
    spiky = [MS] * 100
    spiky[30] = spiky[31] = 5 * MS  # 2 of a 5-window: its median stays 1 ms
    assert latency_onset(spiky) is None
    assert latency_onset([MS] * 9 + [5 * MS]) is None  # under two windows
    assert latency_onset([MS] * 100) is None


def test_sustained_ratio_by_hand():
    # first tenth: 10 x 1 ms (1000 /s); last tenth: 10 x 2 ms (500 /s)
    assert sustained_ratio(STEP) == pytest.approx(0.5)
    assert sustained_ratio([MS] * 50) == 1.0
    assert sustained_ratio([MS] * 9) is None
    out = analyse_sustained(STEP, batch=4)
    assert out["initial_ips"] == pytest.approx(4000.0) and out["sustained_ips"] == pytest.approx(2000.0)
    assert out["time_to_throttle_s"] == pytest.approx(0.060) and out["time_to_throttle_source"] == "latency"


def old(series, meta):
    """The declarations of a record from before sensors declared them: inferred from names and meta."""
    return RecordChannels.from_record(series, {name: {"meta": m} for name, m in meta.items()})


T = [k * 100 * MS for k in range(6)]  # samples at 0, 100 ... 500 ms; the loop starts at 150 ms


def test_sensor_onset_explicit_flags_and_trip_points():
    loop_start = 150 * MS
    intel = {"intel_throttle.package0_throttle_count": [5, 5, 5, 5, 7, 7]}
    # base 5 at the first in-loop sample (200 ms); +2 at 400 ms -> 250 ms after loop start
    assert sensor_onset(T, intel, old(intel, {}), loop_start) == (
        pytest.approx(0.25), "intel_throttle.package0_throttle_count +2")
    thermal = {"thermal.cpu_c": [99.0, 50.0, 60.0, 95.0, 96.0, 90.0]}
    meta = {"thermal": {"trip_points_c": {"cpu_c": [[80.0, "active"], [95.0, "passive"]]}}}
    # the 99 C sample is before the loop; active trips (fans) are not throttling; 95 C at 300 ms
    assert sensor_onset(T, thermal, old(thermal, meta), loop_start) == (
        pytest.approx(0.15), "thermal.cpu_c 95 C >= trip 95 C")
    assert sensor_onset(T, {**intel, **thermal}, old({**intel, **thermal}, meta), loop_start)[0] == pytest.approx(0.15)
    rpi = {"rpi.throttled_occurred": [True] * 6,  # sticky since boot: not this case
           "rpi.soft_temp_limit_occurred": [False, False, False, False, False, True],
           "rpi.throttled_now": [True, False, False, False, False, False]}
    assert sensor_onset(T, rpi, old(rpi, {}), loop_start) == (pytest.approx(0.35), "rpi.soft_temp_limit_occurred")
    nvml = {"nvml.clock_event_reasons": [0, 0, 0x4, 0x4, 0x24, 0x20]}  # sw_power_cap alone is no throttle
    assert sensor_onset(T, nvml, old(nvml, {}), loop_start) == (pytest.approx(0.25), "nvml.clock_event_reasons 0x24")
    assert sensor_onset(T, nvml, old(nvml, {}), loop_start, loop_end_ns=350 * MS) is None
    assert sensor_onset(T, {"psutil.cpu_pct": [1.0] * 6}, old({"psutil.cpu_pct": [1.0] * 6}, {}), loop_start) is None


def series_ns(spans):
    """Latencies for (seconds, ms per inference) spans, back to back."""
    out = []
    for dur_s, lat_ms in spans:
        out += [int(lat_ms * MS)] * int(round(dur_s * 1000 / lat_ms))
    return out


def test_latency_onset_is_the_sustained_change_not_the_first_bump():
    # the two reported series: a brief slowdown early, then the real one
    # (1) no sensor signal; a 0.8 s slowdown at 0.6 s, then 2x from 9.54 s to the end (16 s): it said 0.73 s
    early = series_ns([(0.6, 1.0), (0.8, 2.0), (9.54 - 1.4, 1.0), (6.0, 2.0)])
    assert latency_onset(early)[0] == pytest.approx(9.54, abs=0.01)
    # (2) a 1 s bump at 3 s before a 2x step at 12.2 s: it said 3.03 s
    bump = series_ns([(3.0, 1.0), (1.0, 2.0), (8.2, 1.0), (6.0, 2.0)])
    assert latency_onset(bump)[0] == pytest.approx(12.2, abs=0.01)
    out = analyse_sustained(bump)
    assert out["time_to_throttle_s"] == pytest.approx(12.2, abs=0.01)
    assert "3 windows" in out["method"] and "to the end" in out["method"]
    # a bump and nothing after it: no throttling at all
    assert latency_onset(series_ns([(3.0, 1.0), (1.0, 2.0), (14.0, 1.0)])) is None
    # a slowdown in the last windows that lasts to the end still counts
    late = series_ns([(19.0, 1.0), (1.0, 2.0)])
    assert latency_onset(late)[0] == pytest.approx(19.0, abs=0.01)


def test_sensor_onset_ignores_a_brief_signal():
    # 100 ms samples over a 20 s loop: over the trip for 1 s at 3 s, then from 12.2 s to the end
    t = [k * 100 * MS for k in range(201)]
    temps = [96.0 if 30 <= k < 40 or k >= 122 else 80.0 for k in range(201)]
    meta = {"thermal": {"trip_points_c": {"cpu_c": [[95.0, "passive"]]}}}
    assert sensor_onset(t, {"thermal.cpu_c": temps}, old({"thermal.cpu_c": temps}, meta), 0)[0] == pytest.approx(12.2)
    nvml = [0x20 if 30 <= k < 40 or k >= 122 else 0 for k in range(201)]
    reasons = {"nvml.clock_event_reasons": nvml}
    assert sensor_onset(t, reasons, old(reasons, {}), 0)[0] == pytest.approx(12.2)
    brief = [0x20 if 30 <= k < 40 else 0 for k in range(201)]
    assert sensor_onset(t, {"nvml.clock_event_reasons": brief}, old({"nvml.clock_event_reasons": brief}, {}), 0) is None


def test_is_sustained():
    assert is_sustained({"stop_reason": "duration"})
    assert is_sustained({"case_id": "m.fp32.null.sustained.b1"})
    assert is_sustained({"scenario": "sustained"})
    assert not is_sustained({"case_id": "m.fp32.null.single_stream.b1", "stop_reason": "target_precision"})


def test_summary_details_of_a_sustained_case():
    base = {"case_id": "m.fp32.null.sustained.b1", "latency_ns": STEP, "iterations": 100, "batch": 1,
            "stop_reason": "duration", "loop_elapsed_ns": 140 * MS, "loop_started_ns": 150 * MS}
    sensors = {
        "t_ns": T,
        "channels": {"intel_throttle.package0_throttle_count": [5, 5, 5, 5, 7, 7]},
        "marks": [["loop_start", 150 * MS], ["loop_end", 500 * MS]],
        "sensors": {"intel_throttle": {"available": True, "reason": None, "meta": {}}},
    }
    out = summarize_sensors({**base, "sensors": sensors})
    d = out["details"]
    assert d["time_to_throttle_s"] == pytest.approx(0.060) and d["sustained_ratio"] == pytest.approx(0.5)
    assert d["sustained"]["sensor_onset_s"] == pytest.approx(0.25)
    assert d["sustained"]["time_to_throttle_source"] == "latency"
    assert out["throttled"] is True  # the intel counter delta
    # no sensor series at all: the latency series still gives both figures
    d = summarize_sensors(base)["details"]
    assert d["reason"] == "no sensor series"
    assert d["time_to_throttle_s"] == pytest.approx(0.060) and d["sustained_ratio"] == pytest.approx(0.5)
    # not a sustained case: no such keys
    plain = {**base, "case_id": "m.fp32.null.single_stream.b1", "stop_reason": "max_seconds",
             "sensors": sensors}
    assert "sustained_ratio" not in summarize_sensors(plain)["details"]
