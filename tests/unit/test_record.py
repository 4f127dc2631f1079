"""The typed result record: parsed once from run.json, the thread count resolved from each backend's spelling,
each case's own device (a farm's too), older and newer run.json read alike."""

from __future__ import annotations

import json
from pathlib import Path

from edgebench.cli.main import main
from edgebench.record import CaseRecord, RunHeader
from edgebench.reporting.csv_report import render_csv
from edgebench.reporting.model import build_model
from edgebench.results.store import RunStore
from tests.run_fixtures import case, make_run


def test_threads_come_from_each_backends_spelling_else_the_setting():
    settings = {"threads": "all"}
    spelled = {"onnxruntime": {"name": "onnxruntime", "intra_op_threads": 6},
               "tflite": {"name": "tflite_runtime", "num_threads": 4},
               "other": {"name": "other", "threads": 2}}
    threads = {k: CaseRecord.from_json({"case_id": k, "status": "ok", "runtime": r, "settings": settings}).threads
               for k, r in spelled.items()}
    assert threads == {"onnxruntime": 6, "tflite": 4, "other": 2}
    # no runtime (a failed or pending case) or one that does not say: the suite's setting; neither: None
    assert CaseRecord.from_json({"case_id": "f", "status": "failed", "settings": settings}).threads == "all"
    assert CaseRecord.from_json({"case_id": "n", "status": "ok", "runtime": {"name": "null"},
                                 "settings": {"busy_wait_us": 5}}).threads is None
    # what the store resolved when it wrote the case wins over re-resolving
    assert CaseRecord.from_json({"case_id": "s", "status": "ok", "threads": 3, "settings": settings}).threads == 3


def test_a_stored_run_reads_as_typed_records(tmp_path):
    c = case("kws", "onnxruntime", 4)
    store = make_run(tmp_path / "run", cases=[c])
    [record] = store.cases()
    assert (record.case_id, record.status, record.model, record.backend, record.threads) == (
        c["case_id"], "ok", "kws", "onnxruntime", 4)
    assert record.device == "jetson-orin-nano" and record.host == "jetson-orin-nano" and not record.farm
    assert record.runtime is not None and record.runtime.label == "onnxruntime 1.17.1"
    assert record.latency is not None and record.latency.n == 400 and record.latency.p50_ns is not None
    assert record.summary is not None and record.summary.peak_rss_mb == 96.0
    assert json.loads((tmp_path / "run" / "run.json").read_text())["cases"][0]["threads"] == 4  # resolved once
    run = store.run_info
    assert (run.device, run.suite, run.confidence, run.state, run.farm) == (
        "jetson-orin-nano", "vision", 0.95, "complete", False)
    [device] = run.devices
    assert (device.price_usd, device.tdp_w, device.environment.cpu_count) == (499.0, 15.0, 6)


def test_old_and_newer_run_json_are_read(tmp_path):
    """A record from before ``threads`` (and ``concurrency``) was stored reads the same; keys a newer edgebench
    adds are ignored, not an error."""
    c = case("kws", "onnxruntime", 2)
    make_run(tmp_path / "run", cases=[c])
    path = tmp_path / "run" / "run.json"
    document = json.loads(path.read_text())
    record = document["cases"][0]
    del record["threads"]
    record.pop("concurrency", None)
    record["from_the_future"] = {"x": 1}
    record["summary"]["latency"]["p42_ns"] = 7
    document["profile"]["sensors"]["new_knob"] = True
    document["a_new_header_key"] = [1, 2]
    path.write_text(json.dumps(document))
    [read] = RunStore.open(tmp_path / "run").cases()
    assert read.threads == 2 and read.concurrency == 1 and read.latency is not None
    assert main(["show", str(tmp_path / "run")]) == 0


def farm_run(directory: Path, devices: dict[str, dict]) -> RunStore:
    """A farm run as runner.start_farm writes it: the synthetic ``farm`` profile, each device's own profile and
    environment, each case naming its device."""
    cases = []
    for name in devices:
        c = case("kws", "onnxruntime", 1)
        cases.append({**c, "case_id": f"{c['case_id']}@{name}", "device": name})
    make_run(directory, device="farm", cases=cases)
    document = json.loads((directory / "run.json").read_text())
    template = document["profile"]
    document["profile"] = {"name": "farm", "path": None, "transport": {"kind": "dask", "scheduler": "tcp://s:1"},
                           "sensors": {}}
    document["farm"] = {"scheduler": "tcp://s:1", "devices": list(devices),
                        "profile_paths": {n: f"device_profiles/{n}.toml" for n in devices}}
    document["profiles"] = {n: {**template, "name": n, "path": f"device_profiles/{n}.toml",
                                "device": {**template["device"], **hardware}}
                            for n, hardware in devices.items()}
    document["environments"] = {n: {"hostname": f"{n}.lan", "cpu_model": f"{n} cpu", "cpu_count": 4,
                                     "os": "Linux"} for n in devices}
    document["environment"] = {}
    (directory / "run.json").write_text(json.dumps(document))
    return RunStore.open(directory)


def test_a_farm_run_names_each_case_by_its_own_device(tmp_path, capsys):
    store = farm_run(tmp_path / "run1", {"nano": {"price_usd": 99.0, "tdp_w": 10.0},
                                         "pi5": {"price_usd": 80.0, "tdp_w": 12.0}})
    run = store.run_info
    assert run.farm and run.device == "farm" and run.scheduler == "tcp://s:1"
    assert [(d.name, d.host, d.price_usd, d.profile_path) for d in run.devices] == [
        ("nano", "nano.lan", 99.0, "device_profiles/nano.toml"), ("pi5", "pi5.lan", 80.0, "device_profiles/pi5.toml")]
    assert [(r.device, r.host, r.farm) for r in store.cases()] == [("nano", "nano.lan", True), ("pi5", "pi5.lan", True)]
    assert [row["device"] for row in store.summary_rows()] == ["nano", "pi5"]

    model = build_model([store], by="device", generated_at="now", version="0")
    assert sorted(e.dims["device"] for e in model.entries) == ["nano", "pi5"]
    assert model.runs[0].device == "nano, pi5"
    assert {(h.device, h.price_usd) for h in model.hardware} == {("nano", 99.0), ("pi5", 80.0)}
    assert "farm" not in render_csv(model)

    assert main(["show", str(tmp_path / "run1"), "--wide"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "farm of 2 devices (tcp://s:1); suite vision"
    assert out[2] == "  device nano on nano.lan: nano cpu, 4 cores, Linux"
    assert out[3] == "  device pi5 on pi5.lan: pi5 cpu, 4 cores, Linux"
    assert out[4].split()[:2] == ["device", "model"] and [line.split()[0] for line in out[6:8]] == ["nano", "pi5"]


def test_run_header_of_an_empty_document_has_defaults():
    run = RunHeader.from_json({})
    assert (run.device, run.suite, run.confidence, run.farm, len(run.devices)) == ("unknown", "", 0.95, False, 1)
