"""Bad input through the CLI: one line naming the file (and key), the documented exit code, no traceback, and no
run directory left behind; corrupt run directories made by really running a tiny suite (null backend, --fast)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edgebench.cli import main as cli
from edgebench.results.store import RunStore
from tests.conftest import MODELS, write

pytestmark = pytest.mark.slow

SUITE = f"""
name = "tiny"
[rules]
min_iterations = 5
min_seconds = 0.0
max_seconds = 0.1
[[models]]
name = "kws"
path = "{MODELS / 'kws_dscnn_int8.onnx'}"
[[backends]]
name = "null"
busy_wait_us = [0, 5]
"""

TWO_CORES = """
name = "two-cores"
[device]
cores = 2
[transport]
kind = "local"
[sensors]
expected = []
"""


def run_main(capsys, *argv: str) -> tuple[int, list[str]]:
    rc = cli.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("old, new, key, problem", [
    ("busy_wait_us = [0, 5]", "threads = 10000", "backends[0].threads", "must be between 1 and 1024"),
    ("busy_wait_us = [0, 5]", "threads = -1", "backends[0].threads", "must be between 1 and 1024"),
    ("min_seconds = 0.0", "min_seconds = nan", "rules.min_seconds", "must be a finite number"),
    ("min_seconds = 0.0\nmax_seconds = 0.1", "min_seconds = 1e9\nmax_seconds = 1e9", "rules.min_seconds",
     "must be between 0 and 86400"),
    (f'path = "{MODELS / "kws_dscnn_int8.onnx"}"', "path = []", "models[0].path", "an empty list"),
    ('name = "tiny"', 'name = "../../../../X"', "name", "'../../../../X' is not a safe name"),
    ("busy_wait_us = [0, 5]", "busy_wait_us = [0, 5]\n[[scenarios]]\nname = \"offline_magic\"", "scenarios[0].name",
     "unknown scenario 'offline_magic'"),
])
def test_bad_suite_value(tmp_path, monkeypatch, capsys, old, new, key, problem):
    monkeypatch.chdir(tmp_path)
    suite = write(tmp_path / "bad.toml", SUITE.replace(old, new))
    rc, err = run_main(capsys, "run", "--profile", "local", "--suite", str(suite), "--fast")
    assert rc == 2
    assert len(err) == 1 and err[0].startswith(f"edgebench: error: {suite}: {key}: {problem}")
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("content", [b"\xff\xfe\x00n\x00a", b"\x7fELF\x02\x01\x01\x00\x00"], ids=["utf16", "elf"])
def test_non_utf8_suite_or_profile(tmp_path, monkeypatch, capsys, content):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(content)
    good = write(tmp_path / "good.toml", SUITE)
    for argv in (["--suite", str(bad)], ["--profile", str(bad), "--suite", str(good)]):
        rc, err = run_main(capsys, "run", *argv, "--fast")
        assert rc == 2 and len(err) == 1 and err[0].startswith(f"edgebench: error: {bad}: ")
    assert not (tmp_path / "reports").exists()


def test_filter_that_matches_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    suite = write(tmp_path / "tiny.toml", SUITE)
    rc, err = run_main(capsys, "run", "--profile", "local", "--suite", str(suite), "--fast", "--filter", "*int9*")
    assert rc == 2
    assert err == ["edgebench: error: --filter '*int9*': matches none of the 2 cases of suite tiny (case ids look "
                   "like kws.int8.null.busy_wait_us=0.single_stream.b1)"]
    assert not (tmp_path / "reports").exists()


def test_threads_above_four_times_the_profiles_cores(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    suite = write(tmp_path / "tiny.toml", SUITE.replace("busy_wait_us = [0, 5]", "threads = [1, 9]"))
    profile = write(tmp_path / "two-cores.toml", TWO_CORES)
    rc, err = run_main(capsys, "run", "--profile", str(profile), "--suite", str(suite), "--fast")
    assert rc == 2
    assert err == [f'edgebench: error: {suite}: backends[0].threads[1]: 9 threads is more than 4 x the 2 cores of '
                   f'two-cores (8); use at most 8, or "all"']
    assert not (tmp_path / "reports").exists()


# -- corrupt run directories -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("runs")
    suite = write(base / "tiny.toml", SUITE)
    assert cli.main(["run", "--profile", "local", "--suite", str(suite), "--fast", "--out", str(base / "good")]) == 0
    return base / "good"


def first_case_file(run: Path) -> Path:
    return sorted((run / "cases").glob("*.json.gz"))[0]


def flip_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CORRUPTIONS = {
    "case-bitflip": lambda run: flip_bit(first_case_file(run)),
    "case-truncated": lambda run: truncate(first_case_file(run)),
    "run.json-truncated": lambda run: truncate(run / "run.json"),
    "summary-missing": lambda run: (run / "summary.csv").unlink(),
}
#: the file each corruption damages, as the one line names it
DAMAGED = {"case-bitflip": first_case_file, "case-truncated": first_case_file,
           "run.json-truncated": lambda run: run / "run.json", "summary-missing": lambda run: run / "summary.csv"}


def commands(good: Path, bad: Path, store: Path) -> dict[str, list[str]]:
    return {
        "show": ["show", str(bad)],
        "report": ["report", str(bad), "--format", "md", "-o", str(store / "r.md")],
        # the suite runs only the null backend, which compare gates only when a rule names it
        "compare-current": ["compare", str(good), str(bad), "--fail-on", "latency.p50:+50%@backend=null"],
        "compare-baseline": ["compare", str(bad), str(good), "--fail-on", "latency.p50:+50%@backend=null"],
        "export": ["export", str(bad), "-o", str(store / "e.json")],
        "baseline-save": ["baseline", "save", str(bad), "--name", "b", "--store", str(store)],
    }


#: (corruption, command) -> exit code; not listed: exit 2 with one line naming the damaged file
RECOVERED = {("case-bitflip", "show"), ("case-bitflip", "report"), ("case-truncated", "show"),
             ("case-truncated", "report")} | {("summary-missing", c) for c in
                                               ("show", "report", "compare-current", "compare-baseline", "export",
                                                "baseline-save")}


@pytest.mark.parametrize("command", ["show", "report", "compare-current", "compare-baseline", "export",
                                     "baseline-save"])
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_corrupt_run_directory(good_run, tmp_path, capsys, corruption, command):
    bad = tmp_path / "bad"
    shutil.copytree(good_run, bad)
    CORRUPTIONS[corruption](bad)
    damaged = DAMAGED[corruption](bad)
    rc, err = run_main(capsys, *commands(good_run, bad, tmp_path / "store")[command])
    err = [line for line in err if not line.startswith(("edgebench: wrote ", "edgebench: saved "))]
    if (corruption, command) not in RECOVERED:
        assert rc == 2
        assert len(err) == 1 and err[0].startswith(f"edgebench: error: {damaged}: "), err
        return
    assert rc == 0
    if corruption == "summary-missing":  # rebuilt from run.json, and said so
        assert err == [f"edgebench: note: {damaged}: was missing; rebuilt from run.json"] or (
            command == "baseline-save" and len(err) == 1 and "rebuilt from run.json" in err[0])
        assert (tmp_path / "store" / "b" / "summary.csv").is_file() if command == "baseline-save" else (
            damaged.read_text() == (good_run / "summary.csv").read_text())
    else:  # show and report read run.json only: the damaged samples cost nothing here
        assert err == []


@pytest.mark.parametrize("corruption", ["case-bitflip", "case-truncated"])
def test_resume_runs_a_case_whose_file_is_corrupt_again(good_run, tmp_path, capsys, corruption):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    CORRUPTIONS[corruption](run)
    damaged = first_case_file(run)
    case_id = damaged.name[: -len(".json.gz")]
    rc, err = run_main(capsys, "run", "--resume", str(run))
    assert rc == 0
    assert err[0].startswith(f"edgebench: {damaged}: raw samples unreadable (truncated or corrupt: ")
    assert err[0].endswith(f"; case {case_id} runs again")
    store = RunStore.open(run)
    assert store.record(case_id)["status"] == "ok" and store.load_raw(case_id)["latency_ns"]
    assert store.unreadable_cases() == {}


def test_resume_of_a_truncated_run_json(good_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    truncate(run / "run.json")
    rc, err = run_main(capsys, "run", "--resume", str(run))
    assert rc == 2 and len(err) == 1 and err[0].startswith(f"edgebench: error: {run / 'run.json'}: not valid JSON")


def test_internal_error_in_a_run_leaves_its_traceback_in_the_run_directory(tmp_path, monkeypatch, capsys):
    from edgebench.cli import run_cmd

    def broken(store):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(run_cmd, "finish", broken)
    suite = write(tmp_path / "tiny.toml", SUITE)
    out = tmp_path / "run"
    rc, err = run_main(capsys, "run", "--profile", "local", "--suite", str(suite), "--fast", "--out", str(out))
    assert rc == 70
    assert len(err) >= 1
    last = err[-1]
    assert last.startswith("edgebench: internal error: ZeroDivisionError: division by zero (traceback in ")
    log = Path(last[last.index("traceback in ") + len("traceback in "):-1])
    assert log.parent == out and "ZeroDivisionError" in log.read_text()


def test_html_report_says_which_plots_it_leaves_out(good_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    flip_bit(first_case_file(run))
    rc, err = run_main(capsys, "report", str(run), "--format", "html", "-o", str(tmp_path / "r.html"))
    assert rc == 0
    assert err[0].startswith(f"edgebench: note: {first_case_file(run)}: raw samples unreadable (truncated or "
                             f"corrupt: ")
    assert err[0].endswith("; its plots are left out")
    assert (tmp_path / "r.html").is_file()


def test_resume_without_the_case_specs_is_one_line(good_run, tmp_path, capsys):
    import json

    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    document = json.loads((run / "run.json").read_text())
    document["cases"][0]["status"] = "pending"
    del document["case_specs"]
    (run / "run.json").write_text(json.dumps(document))
    rc, err = run_main(capsys, "run", "--resume", str(run))
    assert rc == 2
    assert err == [f"edgebench: error: {run / 'run.json'}: case_specs: no spec for case "
                   f"{document['cases'][0]['case_id']}, so it cannot be run again (run.json edited or damaged?)"]
