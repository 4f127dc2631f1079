"""Run directories built from seeded, integer-only synthetic samples (byte-stable on every platform), for the
report, compare and HTML tests. The sensor block follows the shape the worker records:
{"t_ns": [...], "channels": {"<sensor>.<channel_unit>": [...]}, "marks": [[event, t_ns], ...], "sensors": {...}}.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Mapping, Sequence

from edgebench.results.store import RunStore

FROZEN_CREATED_AT = 1764000000.0  # 2025-11-24 16:00 UTC
SHA_KWS = "a" * 64
SHA_MNV2 = "b" * 64


def latency_samples(seed: int, n: int, base_ns: int, spread_ns: int, tail: float = 0.02,
                    drift_ns: int = 0) -> list[int]:
    """Right-skewed integer samples: base + triangular-ish body + a rare long tail (+ optional linear drift)."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        value = base_ns + rng.randrange(spread_ns) + rng.randrange(spread_ns) // 2
        if rng.randrange(1000) < int(tail * 1000):
            value += rng.randrange(10 * spread_ns)
        out.append(value + drift_ns * k // max(n, 1))
    return out


def sensor_block(loop_ns: int, n_ticks: int = 60, throttle: bool = True) -> dict[str, Any]:
    """A Jetson-like series of 60 ticks: 10 idle, 45 over the timed loop (``loop_ns`` long), 5 after; with
    ``throttle`` the temperature climbs past the passive trip point and the GPU and CPU clocks drop."""
    period = loop_ns // 45
    t_ns = [k * period for k in range(n_ticks)]
    idle_end = 10
    loop_end = n_ticks - 5
    power, temp, gpu, gpu_max, cpu = [], [], [], [], []
    for k in range(n_ticks):
        active = idle_end <= k < loop_end
        power.append(1800 + (3200 if active else 0) + (k % 3) * 40)
        temp.append(42.0 + (0.25 if throttle else 0.125) * k)
        hot = throttle and k >= 35
        gpu.append(614 if hot else 921)
        gpu_max.append(921)
        cpu.append(1_036_800 if hot else 1_479_000)
    marks: list[list[Any]] = [["idle_start", 0], ["idle_end", idle_end * period], ["loop_start", idle_end * period],
                              ["loop_end", loop_end * period]]
    if throttle:
        marks.append(["thermal throttle: gpu 921 -> 614 MHz", 35 * period])
    return {
        "t_ns": t_ns,
        "channels": {"jetson_power.total_mw": power, "jetson_power.vdd_cpu_gpu_cv_mw": [p // 2 for p in power],
                     "thermal.cpu_c": temp, "thermal.gpu_c": [t - 1.5 for t in temp],
                     "jetson_gpu.gpu_cur_mhz": gpu, "jetson_gpu.gpu_max_mhz": gpu_max,
                     "cpufreq.cpu0_cur_khz": cpu, "cpufreq.cpu0_max_khz": [1_479_000] * n_ticks},
        "marks": marks,
        "sensors": {"thermal": {"available": True, "reason": None,
                                "meta": {"trip_points_c": {"cpu_c": [[50.0, "passive"], [97.0, "critical"]]}}},
                    "jetson_power": {"available": True, "reason": None, "meta": {}},
                    "jetson_gpu": {"available": True, "reason": None, "meta": {}},
                    "cpufreq": {"available": True, "reason": None,
                                "meta": {"cpuinfo_max_khz": {"cpu0": 1_479_000}}}},
    }


def case(model: str, backend: str, threads: int, batch: int = 1, precision: str = "fp32",
         scenario: str = "single_stream", sha: str = SHA_KWS, **settings: Any) -> dict[str, Any]:
    all_settings = {"threads": threads, **settings}
    set_text = ",".join(f"{k}={v}" for k, v in all_settings.items())
    return {"case_id": f"{model}.{precision}.{backend}.{set_text}.{scenario}.b{batch}", "model": model,
            "precision": precision, "format": "onnx", "model_path": f"/models/{model}.onnx", "model_sha256": sha,
            "backend": backend, "settings": all_settings, "scenario": scenario, "batch": batch,
            "duration_s": None, "input_shapes": {}, "skip_reason": None, "status": "pending", "error": None}


def make_run(directory: Path, device: str = "jetson-orin-nano", cases: Sequence[dict[str, Any]] = (),
             samples: dict[str, list[int]] | None = None, sensors: dict[str, dict[str, Any]] | None = None,
             runtime_version: str = "1.17.1", price_usd: float | None = 499.0, tdp_w: float | None = 15.0,
             cpu: str = "ARMv8 Processor rev 1 (v8l)", failed: Sequence[str] = (), peak_rss_mb: float = 96.0,
             git_commit: str = "0123456789abcdef0123", farm: Mapping[str, Mapping[str, Any]] | None = None,
             processes: dict[str, list[list[int]]] | None = None, rules: dict[str, Any] | None = None,
             timer_resolution_ns: int | None = None) -> RunStore:
    """A finished run directory; ``samples`` maps case_id -> latency samples (ns); ``processes`` maps case_id
    -> the samples of each worker process (a case run with ``processes = N``). ``farm``: a farm run as
    runner.start_farm writes it, device name -> its hardware (``price_usd``, ``tdp_w``, ``cpu``) and
    ``total_power_channel``; each case names its device (``device`` key, id ending in ``@device``)."""
    header = {
        "edgebench_version": "0.1.0", "command": ["edgebench", "run"], "suite_digest": "0" * 16,
        "suite": {"name": "vision", "rules": rules or {"confidence": 0.95, "min_iterations": 100, "min_seconds": 1.0,
                                                       "max_seconds": 10.0, "warmup_iterations": 10}},
        "profile": {"name": device, "path": f"device_profiles/{device}.toml", "description": "",
                    "device": {"board": device, "soc": "", "cpu": cpu, "cores": 6, "ram_gb": 8.0,
                               "accelerator": "", "os": "", "tdp_w": tdp_w, "price_usd": price_usd},
                    "transport": {"kind": "local"}, "backends": {},
                    "sensors": {"expected": [], "period_ms": 100, "idle_seconds": 1.0,
                                "total_power_channel": None, "root": "/", "options": {}},
                    "cooldown": {}, "prepare": {}},
        "environment": {"hostname": device, "os": "Ubuntu 22.04", "kernel": "5.15.0", "machine": "aarch64",
                        "cpu_model": cpu, "cpu_count": 6, "python": "3.11.7",
                        **({"timer_resolution_ns": timer_resolution_ns} if timer_resolution_ns else {})},
        "backends": {}, "fast": False, "git_commit": git_commit,
    }
    if farm:
        template = header["profile"]
        header["profile"] = {"name": "farm", "path": None, "transport": {"kind": "dask", "scheduler": "tcp://s:1"},
                             "sensors": {}}
        header["farm"] = {"scheduler": "tcp://s:1", "devices": list(farm),
                          "profile_paths": {n: f"device_profiles/{n}.toml" for n in farm}}
        header["profiles"] = {
            n: {**template, "name": n, "path": f"device_profiles/{n}.toml",
                "device": {**template["device"], **{k: v for k, v in d.items() if k != "total_power_channel"}},
                "sensors": {**template["sensors"], "total_power_channel": d.get("total_power_channel")}}
            for n, d in farm.items()}
        header["environments"] = {n: {**header["environment"], "hostname": f"{n}.lan",
                                      "cpu_model": d.get("cpu", cpu)} for n, d in farm.items()}
        header["environment"] = {}
    store = RunStore.create(directory, header, cases)
    for index, c in enumerate(cases):
        cid = c["case_id"]
        if cid in failed:
            store.write_case({"case_id": cid, "status": "failed", "error": "RuntimeError: delegate crashed",
                              "batch": c["batch"], "latency_ns": [], "peak_rss_bytes": None})
            continue
        lat = (samples or {}).get(cid) or latency_samples(index, 400, 2_000_000, 200_000)
        raw: dict[str, Any] = {
            "case_id": cid, "status": "ok", "error": None, "started_at": FROZEN_CREATED_AT + index,
            "finished_at": FROZEN_CREATED_AT + index + 1, "batch": c["batch"], "load_ns": 120_000_000 + index,
            "load_rss_bytes": 12 * 2**20, "first_inference_ns": 9_000_000, "latency_ns": lat,
            "iterations": len(lat), "stop_reason": "min_iterations", "peak_rss_bytes": int(peak_rss_mb * 2**20),
            "runtime": {"name": c["backend"], "version": runtime_version, "intra_op_threads": c["settings"]["threads"]},
        }
        if sensors and cid in sensors:
            raw["sensors"] = sensors[cid]
        if processes and cid in processes:
            raw["processes"] = [{"latency_ns": g, "peak_rss_bytes": int(peak_rss_mb * 2**20) + k * 4096,
                                 "process_index": k} for k, g in enumerate(processes[cid])]
            raw["latency_ns"] = [v for g in processes[cid] for v in g]
            raw["iterations"] = len(raw["latency_ns"])
        store.write_case(raw)
    store.document["created_at"] = FROZEN_CREATED_AT
    store.finish()
    store.document["finished_at"] = FROZEN_CREATED_AT + 60
    store.flush()
    return store


def hardware_runs(root: Path) -> list[RunStore]:
    """Two devices, two models, threads 1 and 4; the Orin run has sensor series (one case throttles)."""
    cases = [case("kws", "onnxruntime", 1), case("kws", "onnxruntime", 4),
             case("mobilenet_v2", "onnxruntime", 4, sha=SHA_MNV2), case("mobilenet_v2", "tflite", 4, sha=SHA_MNV2,
                                                                       precision="int8")]
    orin_samples = {cases[0]["case_id"]: latency_samples(1, 400, 1_900_000, 150_000),
                    cases[1]["case_id"]: latency_samples(2, 400, 800_000, 90_000, drift_ns=200_000),
                    cases[2]["case_id"]: latency_samples(3, 400, 6_000_000, 400_000),
                    cases[3]["case_id"]: latency_samples(4, 400, 3_100_000, 300_000)}
    pi_samples = {cases[0]["case_id"]: latency_samples(5, 400, 4_800_000, 600_000, tail=0.08),
                  cases[1]["case_id"]: latency_samples(6, 400, 2_300_000, 250_000),
                  cases[2]["case_id"]: latency_samples(7, 400, 21_000_000, 2_500_000),
                  cases[3]["case_id"]: latency_samples(8, 400, 9_500_000, 900_000)}
    orin_sensors = {cases[k]["case_id"]: sensor_block(sum(orin_samples[cases[k]["case_id"]]), throttle=k == 1)
                    for k in (0, 1, 2)}
    orin = make_run(root / "orin-run", "jetson-orin-nano", cases, orin_samples, orin_sensors, price_usd=499.0,
                    tdp_w=15.0)
    pi = make_run(root / "pi5-run", "raspberry-pi-5", cases, pi_samples, None, price_usd=80.0, tdp_w=12.0,
                  cpu="Cortex-A76", failed=(cases[3]["case_id"],), peak_rss_mb=88.0)
    return [orin, pi]


def farm_runs(root: Path) -> RunStore:
    """A farm run of two devices: kws at threads 1 and 4 and the null backend on each. Both devices record the
    same Jetson-like sensor series, but each profile names its own total power channel: nano the board total
    (about 5 W in the loop), pi5 the CPU/GPU rail (half of it), so each case's power is its own device's."""
    devices = {"nano": {"board": "jetson-nano", "price_usd": 99.0, "tdp_w": 10.0, "cpu": "Cortex-A57",
                        "total_power_channel": "jetson_power.total_mw"},
               "pi5": {"board": "raspberry-pi-5", "price_usd": 80.0, "tdp_w": 12.0, "cpu": "Cortex-A76",
                       "total_power_channel": "jetson_power.vdd_cpu_gpu_cv_mw"}}
    base_ns = {("nano", 1): 4_000_000, ("nano", 4): 1_000_000, ("pi5", 1): 3_000_000, ("pi5", 4): 1_600_000}
    cases, samples, sensors = [], {}, {}
    for seed, (name, threads) in enumerate(base_ns):
        c = case("kws", "onnxruntime", threads)
        c = {**c, "case_id": f"{c['case_id']}@{name}", "device": name}
        cases.append(c)
        samples[c["case_id"]] = latency_samples(seed, 400, base_ns[(name, threads)], base_ns[(name, threads)] // 10)
        sensors[c["case_id"]] = sensor_block(sum(samples[c["case_id"]]), throttle=False)
    for name in devices:  # the harness alone: ~100 ns a "query"
        c = case("kws", "null", 1)
        c = {**c, "case_id": f"{c['case_id']}@{name}", "device": name}
        cases.append(c)
        samples[c["case_id"]] = latency_samples(10, 400, 100, 10)
    return make_run(root / "farm-run", "farm", cases, samples, sensors, farm=devices)
