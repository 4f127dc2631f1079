"""The gate rule language: what parses, what it means, and errors that name the bad rule."""

from __future__ import annotations

import pytest

from edgebench.analysis.gates import DEFAULT_RULES, RuleError, parse_rule, parse_rules
from edgebench.record import CaseRecord


def test_relative_rules():
    rule = parse_rule("latency.p90:+5%")
    assert (rule.metric.name, rule.amount, rule.relative, rule.scope) == ("latency.p90", 5.0, True, ())
    assert rule.exceeded(1.0, 1.06)[1:] == (True, False)
    assert rule.exceeded(1.0, 1.04)[1:] == (False, False)
    assert rule.exceeded(1.0, 0.90)[1:] == (False, True)
    assert rule.threshold_text() == "+5%"


def test_throughput_gets_worse_when_it_drops():
    rule = parse_rule("throughput.mean:-5%")
    assert rule.metric.worse == -1
    assert rule.exceeded(100.0, 94.0)[1:] == (True, False)
    assert rule.exceeded(100.0, 106.0)[1:] == (False, True)
    assert rule.threshold_text() == "-5%"


def test_throughput_of_concurrent_streams_is_what_they_finished_together():
    single = CaseRecord.from_json({"batch": 2, "summary": {"latency": {"mean_ns": 4e6, "p50_ns": 5e6},
                                                           "throughput_ips": 500.0}})
    assert parse_rule("throughput.mean:-5%").metric.value(single) == 2 * 1e9 / 4e6
    assert parse_rule("throughput.p50:-5%").metric.value(single) == 2 * 1e9 / 5e6
    # 4 streams: the wall-clock figure for the mean, 4 x batch at the median latency for p50
    streams = CaseRecord.from_json({"batch": 2, "concurrency": 4,
                                    "summary": {"latency": {"mean_ns": 4e6, "p50_ns": 5e6}, "throughput_ips": 1800.0}})
    assert parse_rule("throughput.mean:-5%").metric.value(streams) == 1800.0
    assert parse_rule("throughput.p50:-5%").metric.value(streams) == 4 * 2 * 1e9 / 5e6


def test_sign_may_be_left_out():
    assert parse_rule("memory.peak:10%").metric.worse == 1
    assert parse_rule("throughput.mean:5%").exceeded(100.0, 94.0)[1]


@pytest.mark.parametrize("text, metric, amount", [
    ("latency.p50:+0.2ms", "latency.p50", 0.2),
    ("latency.p50:+200us", "latency.p50", 0.2),
    ("latency.p99.9:+1s", "latency.p99.9", 1000.0),
    ("memory.peak:+20MiB", "memory.peak", 20.0),
    ("memory.peak:+1GB", "memory.peak", 1024.0),
    ("memory.peak:+512KiB", "memory.peak", 0.5),
    ("energy.per_inference:+3%", "energy.per_inference", 3.0),
    ("energy.per_inference:+0.5mJ", "energy.per_inference", 0.5),
    ("energy.per_inference:+1J", "energy.per_inference", 1000.0),
    ("power.avg:+250mW", "power.avg", 0.25),
    ("temperature.max:+5C", "temperature.max", 5.0),
    ("load.time:+1.5s", "load.time", 1500.0),
])
def test_absolute_units(text, metric, amount):
    rule = parse_rule(text)
    assert rule.metric.name == metric and not rule.relative or rule.relative
    assert rule.amount == pytest.approx(amount)


def test_absolute_threshold_compares_differences():
    rule = parse_rule("latency.p50:+0.2ms")
    assert rule.exceeded(2.0, 2.25)[1] and not rule.exceeded(2.0, 2.15)[1]
    assert rule.threshold_text() == "+0.2 ms"


def test_scope():
    rule = parse_rule("latency.p99:+10%@model=kws_*,backend=tflite")
    assert rule.scope == (("model", "kws_*"), ("backend", "tflite"))
    assert rule.applies(CaseRecord.from_json({"model": "kws_int8", "backend": "tflite"}))
    assert not rule.applies(CaseRecord.from_json({"model": "kws_int8", "backend": "onnxruntime"}))
    assert not rule.applies(CaseRecord.from_json({"model": "mobilenet", "backend": "tflite"}))
    assert parse_rule("latency.p50:+5%@device=jetson*").applies(CaseRecord.from_json({"device": "jetson-nano"}))
    assert parse_rule("latency.p50:+5%@case=*b4").applies(CaseRecord.from_json({"case_id": "m.fp32.null.batch.b4"}))


@pytest.mark.parametrize("text, fragment", [
    ("latency.p90", "expected METRIC.STAT:+N%"),
    ("latency.p90:+5", "expected METRIC.STAT:+N%"),
    ("latency.p90:+five%", "expected METRIC.STAT:+N%"),
    ("latency.p42:+5%", "unknown metric 'latency.p42'"),
    ("speed.max:+5%", "unknown metric 'speed.max'"),
    ("latency.p50:-5%", "latency.p50 gets worse when it grows; write latency.p50:+5%"),
    ("throughput.mean:+5%", "throughput.mean gets worse when it drops; write throughput.mean:-5%"),
    ("latency.p50:+5MB", "unit 'MB' does not fit latency.p50"),
    ("memory.peak:+5ms", "unit 'ms' does not fit memory.peak"),
    ("latency.p50:+5%@colour=red", "scope 'colour=red'"),
    ("latency.p50:+5%@model", "scope 'model'"),
])
def test_errors_name_the_rule(text, fragment):
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    message = str(info.value)
    assert f"gate rule {text!r}" in message and fragment in message
    assert "\n" not in message


def test_default_rules_parse():
    assert [r.metric.name for r in parse_rules(list(DEFAULT_RULES))] == ["latency.p50", "latency.p90", "memory.peak"]
