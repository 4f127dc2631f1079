"""The device agent on the oldest Python it supports (3.8: JetPack 5's python3), run for real.

The interpreter is a Python 3.8 venv with numpy and psutil that `.ci/oldest-python.sh` makes in `.ci/py38/`
(from a python3.8 on the machine: pyenv's, or one on PATH), or the one named by $EDGEBENCH_OLDEST_PYTHON.
Without one these tests skip and say how to get it (in CI, CI=true, they fail: see tests/conftest.py need_tool).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from edgebench.digest import sha256_of
from edgebench.transports import agent_bundle
from edgebench.transports.base import find_result
from edgebench.wire import Case, RunRules
from tests.conftest import need_tool
from tests.fixtures.sensors.sysfs_trees import build_orin_jp5, fixture
from tests.integration.conftest import Sshd, edgebench, null_suite, profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[2]


def _interpreter(env: str, default: Path, version: tuple[int, int]) -> str | None:
    candidate = os.environ.get(env) or (str(default) if default.exists() else None)
    if candidate is None:
        return None
    found = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True)
    return candidate if found.stdout.strip() == ".".join(map(str, version)) else None


@pytest.fixture(scope="module")
def py38() -> str:
    python = _interpreter("EDGEBENCH_OLDEST_PYTHON", REPO / ".ci" / "py38" / "bin" / "python", agent_bundle.MIN_PYTHON)
    if python is None:
        need_tool("no Python 3.8 with numpy for the agent: run .ci/oldest-python.sh (or set "
                    "EDGEBENCH_OLDEST_PYTHON to one)")
    return python


@pytest.fixture(scope="module")
def agent() -> Path:
    return agent_bundle.build()


def call(python: str, agent: Path, *args: str, stdin: str | None = None) -> tuple[dict, str]:
    done = subprocess.run([python, str(agent), *args], input=stdin, capture_output=True, text=True, timeout=120)
    found = find_result(done.stdout.splitlines())
    assert found is not None, f"{args}: rc {done.returncode}: {done.stderr[-2000:]}"
    return found, done.stderr


def test_min_python_is_3_8() -> None:
    assert agent_bundle.MIN_PYTHON == (3, 8)


def test_every_bundled_module_imports_on_the_oldest_python(py38: str, agent: Path) -> None:
    modules, _ = agent_bundle.collect_modules()
    script = ("import importlib, sys\nsys.path.insert(0, sys.argv[1])\n"
              "for name in sys.argv[2:]:\n    importlib.import_module(name)\nprint(len(sys.argv) - 2)\n")
    done = subprocess.run([py38, "-c", script, str(agent), *sorted(modules)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout) == len(modules) > 40


def test_probe_worker_and_system_run_on_the_oldest_python(py38: str, agent: Path, tmp_path: Path) -> None:
    probe, _ = call(py38, agent, "probe")
    assert probe["environment"]["python"].startswith("3.8.")
    assert probe["backends"]["null"]["available"] is True

    # a null case with the Orin sensors on a fake sysfs tree, tegrastats replayed from a real recording,
    # and psutil on the live /proc: the sampler, every parser and the energy inputs, on 3.8
    root = build_orin_jp5(tmp_path / "orin")
    model = tmp_path / "m.onnx"
    model.write_bytes(b"the null backend never reads it")
    sensors = {"names": ["jetson_power", "jetson_gpu", "thermal", "tegrastats", "psutil"], "period_ms": 50,
               "root": str(root), "idle_seconds": 0.2, "options": {"psutil": {"root": "/"}},
               "replay": {"tegrastats": str(fixture("tegrastats_orin_jp5.txt"))}}
    rules = RunRules(warmup_iterations=2, warmup_seconds=0.0, min_iterations=50, min_seconds=0.3, max_seconds=0.5)
    case = Case("m.fp32.null.single_stream.b2", "m", "fp32", "onnx", str(model), sha256_of(model), "null",
                {"busy_wait_us": 100}, "single_stream", batch=2, rules=rules, sensors=sensors)
    result, stderr = call(py38, agent, "worker", "--timeout", "60", stdin=json.dumps(case.to_json()))
    assert result["status"] == "ok", result.get("traceback_tail") or result.get("error")
    assert result["iterations"] >= 50 and min(result["latency_ns"]) >= 100_000
    assert result["inputs"][0]["shape"] == [2, 1]
    assert result["peak_rss_bytes"] > 0
    recorded = result["sensors"]
    # the 4 recorded lines last 200 ms of the case: then tegrastats reads as stopped, not as its last line
    assert {e["sensor"] for e in recorded["errors"]} <= {"tegrastats"}
    assert all("the recording ended (4 lines)" in e["error"] for e in recorded["errors"])
    assert set(recorded["sensors"]) >= {"jetson_power", "psutil", "tegrastats"}
    assert all(recorded["sensors"][name]["available"] for name in ("jetson_power", "thermal", "psutil"))
    channels = recorded["channels"]
    assert set(channels["jetson_power.total_mw"]) == {4914.768}  # VDD_IN: 5168 mV x 951 mA, every sample
    assert set(channels["thermal.cpu_c"]) == {44.093} and set(channels["jetson_gpu.gpu_load_pct"]) == {30.5}
    assert any(isinstance(v, int) and v > 0 for v in channels["psutil.proc_rss_bytes"])
    assert any(isinstance(v, (int, float)) for v in channels["tegrastats.total_mw"])  # the recorded lines, parsed

    shown, _ = call(py38, agent, "system", "show", "--prepare", json.dumps({"governor": "performance"}))
    assert [op["name"] for op in shown["operations"]] == ["governor"]
    offered, _ = call(py38, agent, "system", "sensors")
    assert offered["psutil"] is None  # psutil is installed in the 3.8 venv: it can read
    assert "command not found: tegrastats" in offered["tegrastats"]


def test_older_python_is_refused_by_the_agent_itself(agent: Path) -> None:
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = sorted(pyenv.glob("versions/3.7*/bin/python3.7"))
    older = _interpreter("EDGEBENCH_TOO_OLD_PYTHON", found[0] if found else Path("/nonexistent"), (3, 7))
    if older is None:
        need_tool("no Python 3.7 here to show the refusal (set EDGEBENCH_TOO_OLD_PYTHON)")
    done = subprocess.run([older, str(agent), "probe"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stderr.strip() == f"edgebench agent: needs Python 3.8 or newer, this is {older_version(older)}"


def older_version(python: str) -> str:
    return subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                          text=True).stdout.strip()


def test_ssh_run_on_a_device_whose_python_is_3_8(sshd: Sshd, py38: str, tmp_path: Path) -> None:
    suite = null_suite(tmp_path / "suite", threads="[1]")
    remote = profile(tmp_path, "jp5", sshd.transport_table(python=py38, remote_dir=str(tmp_path / "remote")))
    done = edgebench("run", "--profile", str(remote), "--suite", str(suite), "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "run" / "run.json").read_text())
    assert {case["status"] for case in document["cases"]} == {"ok"} and len(document["cases"]) == 2
    assert document["environment"]["python"].startswith("3.8.")
