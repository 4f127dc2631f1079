"""A missing optional dependency is one line naming the extra that brings it.

The module is made missing for real: each command runs in a subprocess whose ``sitecustomize`` (on PYTHONPATH,
before the checkout) puts a finder first on ``sys.meta_path`` that answers "No module named ..." for the
blocked top-level names, as Python does for a module that is not installed. Worker subprocesses inherit it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench import optional
from edgebench.config.fields import load_toml
from tests.conftest import MODELS, REPO, write

BLOCKER = '''\
import sys

BLOCKED = {blocked!r}


class NotInstalled:
    """Finds nothing for the blocked names, and stops the search: they are not installed here."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError("No module named %r" % name, name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
'''

NULL_SUITE = """\
name = "nulls"
[rules]
warmup_iterations = 1
warmup_seconds = 0
min_iterations = 5
min_seconds = 0
max_seconds = 0.05
[[models]]
name = "m"
path = "m.onnx"
[[backends]]
name = "null"
[[scenarios]]
name = "single_stream"
"""


def without(tmp_path: Path, *modules: str, args: tuple = (), code: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``edgebench ARGS`` (or ``python -c CODE``) with ``modules`` not importable."""
    site = tmp_path / "not-installed"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=set(modules)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    argv = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "edgebench", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd or tmp_path, timeout=120)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def null_suite(tmp_path: Path) -> Path:
    # the null backend never loads the model, but its file is checked like any other: a real one
    (tmp_path / "suite").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MODELS / "kws_dscnn_int8.onnx", tmp_path / "suite" / "m.onnx")
    return write(tmp_path / "suite" / "nulls.toml", NULL_SUITE)


def test_the_blocker_makes_the_module_missing(tmp_path: Path) -> None:
    done = without(tmp_path, "asyncssh", code="import asyncssh")
    assert "ModuleNotFoundError: No module named 'asyncssh'" in done.stderr


def test_ssh_profile_without_asyncssh(tmp_path: Path) -> None:
    profile = write(tmp_path / "nano.toml", 'name = "nano"\n[transport]\nkind = "ssh"\nhost = "nano.lab"\n'
                                            '[backends.null]\n[sensors]\nexpected = []\n')
    suite = null_suite(tmp_path)
    for command in (("run", "--profile", str(profile), "--suite", str(suite), "--out", str(tmp_path / "run")),
                    ("doctor", "--profile", str(profile)),
                    ("run", "--profile", "jetson-nano", "--suite", "smoke", "--out", str(tmp_path / "run"))):
        done = without(tmp_path, "asyncssh", args=command)
        assert error_lines(done.stderr) == [
            "edgebench: error: the SSH transport needs asyncssh: pip install 'edgebench[ssh]'"], done.stderr
        assert done.returncode == 2
        assert not (tmp_path / "run").exists()  # stopped before anything was planned or written


def test_farm_and_agent_without_distributed(tmp_path: Path) -> None:
    suite = null_suite(tmp_path)
    run = without(tmp_path, "distributed", args=("run", "--cluster", "tcp://127.0.0.1:9", "--profile", "local",
                                                 "--suite", str(suite), "--out", str(tmp_path / "run")))
    assert error_lines(run.stderr) == [
        "edgebench: error: a farm run (the dask transport) needs distributed: pip install 'edgebench[farm]'"]
    assert run.returncode == 2 and not (tmp_path / "run").exists()
    agent = without(tmp_path, "distributed", args=("agent", "--scheduler", "tcp://127.0.0.1:9", "--profile", "local"))
    assert error_lines(agent.stderr) == [
        "edgebench: error: edgebench agent needs distributed: pip install 'edgebench[farm]'"]
    assert agent.returncode == 2


def test_a_run_without_matplotlib_keeps_its_measurements_and_says_why_there_are_no_plots(tmp_path: Path) -> None:
    suite = null_suite(tmp_path)
    run_dir = tmp_path / "run"
    done = without(tmp_path, "matplotlib", args=("run", "--profile", "local", "--suite", str(suite), "--out",
                                                 str(run_dir)))
    assert done.returncode == 0, done.stderr
    note = f"edgebench: note: {run_dir / 'report.html'} has no plots: plotting needs matplotlib: " \
           f"pip install 'edgebench[report]'"
    assert note in done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    html = (run_dir / "report.html").read_text()
    assert "plotting needs matplotlib: pip install &#x27;edgebench[report]&#x27;" in html
    assert "<svg" not in html
    records = json.loads((run_dir / "run.json").read_text())["cases"]
    assert [r["status"] for r in records] == ["ok"]
    report = without(tmp_path, "matplotlib", args=("report", str(run_dir), "--format", "html", "-o",
                                                   str(tmp_path / "r.html")))
    assert report.returncode == 0
    assert f"edgebench: note: {tmp_path / 'r.html'} has no plots: plotting needs matplotlib: " \
           f"pip install 'edgebench[report]'" in report.stderr.splitlines()


def test_the_nvml_sensor_names_its_extra(tmp_path: Path) -> None:
    done = without(tmp_path, "pynvml", args=("sensors", "--sensor", "nvml"))
    assert done.returncode == 0
    assert "nvml            unavailable: nvidia-ml-py not installed: pip install 'edgebench[nvml]'" in \
        done.stdout.splitlines()


@pytest.mark.slow
def test_a_missing_runtime_skips_its_cases_with_the_extra_to_install(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = without(tmp_path, "onnxruntime", args=("run", "--profile", "local", "--suite", "smoke", "--fast",
                                                  "--filter", "backend=onnxruntime", "--out", str(run_dir)))
    records = json.loads((run_dir / "run.json").read_text())["cases"]
    assert records and {r["status"] for r in records} == {"skipped"}, done.stderr
    assert all(r["skip_reason"].endswith("runtime not installed (none of: onnxruntime): "
                                         "pip install 'edgebench[onnx]'") for r in records)


def test_an_installed_module_whose_own_dependency_is_missing_is_named(tmp_path: Path) -> None:
    code = ("from edgebench.optional import require\n"
            "try:\n    require('matplotlib', 'plotting')\nexcept ImportError as exc:\n    print(exc)\n")
    done = without(tmp_path, "numpy", code=code)  # matplotlib imports numpy first thing
    assert done.stdout.strip() == ("plotting needs matplotlib, which cannot be imported (No module named 'numpy'): "
                                   "pip install 'edgebench[report]'"), done.stderr


def test_require_returns_the_module_or_raises_one_line() -> None:
    import json as json_module

    assert optional.require("json", "reading") is json_module
    with pytest.raises(optional.MissingDependency) as caught:
        optional.require("edgebench_no_such_module", "the frobnicator")
    assert str(caught.value) == "the frobnicator needs edgebench_no_such_module: pip install edgebench_no_such_module"
    assert isinstance(caught.value, ImportError)  # code that degrades on ImportError keeps doing so
    assert optional.missing("edgebench_no_such_module") and not optional.missing("json")


def test_every_extra_named_exists_in_pyproject_and_installs_the_distribution() -> None:
    extras = load_toml(REPO / "pyproject.toml")["project"]["optional-dependencies"]
    for module, (distribution, extra) in optional.EXTRAS.items():
        assert extra in extras, module
        wanted = {extra}
        names: set[str] = set()
        while wanted:  # follow self-references: all = ["edgebench[onnx,...]", ...]
            for requirement in extras[wanted.pop()]:
                name = requirement.split(";")[0].split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip()
                if name == "edgebench":
                    wanted |= set(requirement.split("[", 1)[1].split("]")[0].split(","))
                else:
                    names.add(name.lower())
        assert distribution.lower() in names, (module, extra)


def test_on_a_device_without_edgebench_the_agent_names_the_package_not_the_extra(tmp_path: Path) -> None:
    """The agent zipapp on a Python that has nothing installed (``-S``: no site-packages): an extra of edgebench
    would not help there, the runtime's own package does."""
    from edgebench.transports import agent_bundle

    done = subprocess.run([sys.executable, "-S", str(agent_bundle.build()), "probe"], capture_output=True, text=True,
                          timeout=120, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    [line] = [x for x in done.stdout.splitlines() if x.startswith("EDGEBENCH-RESULT ")]
    backends = json.loads(line.split(" ", 1)[1])["backends"]
    assert backends["onnxruntime"]["reason"] == "runtime not installed (none of: onnxruntime): pip install onnxruntime"
    assert backends["tflite"]["reason"].endswith("): pip install ai-edge-litert")
