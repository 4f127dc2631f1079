"""edgebench history: the SQLite index, the DataFrame, step detection on run directories written by the store,
and the CLI."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

from edgebench.analysis.steps import detect_steps
from edgebench.cli.main import main
from edgebench.results.frame import COLUMNS, load, load_with_refresh
from edgebench.results.index import RunIndex
from tests.run_fixtures import case, latency_samples, make_run

pytest.importorskip("pandas")

CASES = [case("kws", "onnxruntime", 1), case("mnv2", "onnxruntime", 4)]
START = 1_790_000_000.0  # 2026-09-21


def _history(root: Path, runs: int, step_at: int | None = None, factor: float = 1.10, seed: int = 7,
             cases=CASES) -> list[Path]:
    """``runs`` run directories written by the store, one hour apart, each case's samples scaled by a per-run
    factor with realistic noise (2 % run to run); from ``step_at`` on, the first case is ``factor`` slower."""
    rng = random.Random(seed)
    out = []
    for k in range(runs):
        samples = {}
        for index, c in enumerate(cases):
            scale = np.exp(rng.gauss(0.0, 0.02))
            if step_at is not None and k >= step_at and index == 0:
                scale *= factor
            base = int(2_000_000 * scale)
            samples[c["case_id"]] = latency_samples(seed * 1000 + k * 10 + index, 120, base, base // 10)
        directory = root / f"run{k:03d}"
        store = make_run(directory, cases=cases, samples=samples, git_commit=f"{k:04d}" + "f" * 36)
        store.document["created_at"] = START + 3600 * k
        store.flush()
        out.append(directory)
    return out


@pytest.fixture(scope="module")
def stepped(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _history(tmp_path_factory.mktemp("stepped"), 60, step_at=40)


def test_a_planted_step_is_found_with_its_commit_range(stepped: list[Path], tmp_path: Path) -> None:
    from edgebench.reporting.history import build_histories, step_rows
    from edgebench.results.frame import STATISTICS

    frame = load(stepped, index=tmp_path / "index.sqlite")
    histories = {h.case_id: h for h in build_histories(frame, STATISTICS["p50"])}
    slow = histories[CASES[0]["case_id"]]
    assert [s.index for s in slow.steps] == [40]
    assert slow.steps[0].change == pytest.approx(0.10, abs=0.03)
    assert histories[CASES[1]["case_id"]].steps == []
    (row,) = step_rows(histories.values())
    assert row["commits"] == "0039ffffff..0040ffffff" and "worse" in row["change"]


def test_no_step_in_sixty_a_a_runs(tmp_path: Path) -> None:
    from edgebench.reporting.history import build_histories
    from edgebench.results.frame import STATISTICS

    frame = load(_history(tmp_path, 60, seed=11), index=tmp_path / "index.sqlite")
    for statistic in ("p50", "p90", "mean"):
        assert [h.steps for h in build_histories(frame, STATISTICS[statistic])] == [[], []]


def test_detector_on_noise_with_outliers_and_on_a_step() -> None:
    rng = np.random.default_rng(3)
    noise = 5.0 * np.exp(rng.normal(0.0, 0.02, 60))
    noise[[7, 30]] *= 1.25  # two wild runs are not a step
    assert detect_steps(noise) == []
    stepped = noise.copy()
    stepped[25:] *= 0.85
    (step,) = detect_steps(stepped)
    assert step.index == 25 and step.change == pytest.approx(-0.15, abs=0.03)
    assert detect_steps([1.0, 2.0, 3.0]) == []  # too short to hold two levels
    with pytest.raises(ValueError):
        detect_steps([1.0] * 10 + [0.0])


def test_the_frame_has_one_row_per_case_and_run(tmp_path: Path) -> None:
    runs = _history(tmp_path, 3)
    frame = load(runs, index=tmp_path / "index.sqlite")
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 6 and not frame.duplicated(["run_id", "case_id"]).any()
    first = frame.iloc[0]
    assert first["run_id"] == "run000" and first["git_commit"].startswith("0000")
    assert first["device"] == "jetson-orin-nano" and first["model"] == "kws" and first["threads"] == 1
    assert first["scenario"] == "single_stream" and first["batch"] == 1 and first["n"] == 120
    assert str(first["created_at"].tz) == "UTC" and first["p50_ms"] > 1.0
    import edgebench.results

    assert edgebench.results.load(runs, index=tmp_path / "index.sqlite").equals(frame)


def test_the_index_is_reused_and_refreshed_when_a_run_changes(tmp_path: Path) -> None:
    runs = _history(tmp_path, 3)
    index_file = tmp_path / "index.sqlite"
    _, first = load_with_refresh(runs, index=index_file)
    assert (first.read, first.reused) == (3, 0)
    _, again = load_with_refresh(runs, index=index_file)
    assert (again.read, again.reused) == (0, 3)
    from edgebench.results.store import RunStore

    store = RunStore.open(runs[1])
    store.record(CASES[0]["case_id"])["summary"]["latency"]["p50_ns"] = 123_000_000
    store.flush()
    frame, changed = load_with_refresh(runs, index=index_file)
    assert (changed.read, changed.reused) == (1, 2)
    assert frame[(frame.run_id == "run001") & (frame.case_id == CASES[0]["case_id"])].p50_ms.item() == 123.0


def test_a_corrupt_or_missing_run_is_one_line_and_skipped(tmp_path: Path) -> None:
    runs = _history(tmp_path, 2)
    index_file = tmp_path / "index.sqlite"
    load(runs, index=index_file)
    (runs[1] / "run.json").write_text("{trunc", encoding="utf-8")
    frame, done = load_with_refresh([*runs, tmp_path / "gone"], index=index_file)
    assert set(frame.run_id) == {"run000"}
    assert len(done.skipped) == 2 and "run001" in done.skipped[0] and "not valid JSON" in done.skipped[0]
    assert "gone" in done.skipped[1]
    index_file.write_bytes(b"not an sqlite file at all" * 10)  # a damaged cache is rebuilt, not an error
    with RunIndex(index_file) as index:
        assert index.refresh(runs[:1]).read == 1


def test_history_cli(stepped: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = ["--index", str(tmp_path / "index.sqlite")]
    assert main(["history", *map(str, stepped), *index, "--html", str(tmp_path / "h.html")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("# History: p50") and "60 runs, 2 cases, 1 step found." in out
    assert "| kws.fp32.onnxruntime.threads=1" in out and "0039ffffff..0040ffffff" in out
    page = (tmp_path / "h.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "mnv2" in page
    assert main(["history", *map(str, stepped), *index, "--fail-on-step"]) == 1
    assert main(["history", *map(str, stepped), *index, "--case", "mnv2*", "--fail-on-step",
                 "--statistic", "p90"]) == 0
    out, _ = capsys.readouterr()
    assert "# History: p90" in out and "1 cases, 0 steps found" in out
    since = ["--since", "2026-09-23T07:00"]  # runs 41 on (run 40 started 06:13): the step is before them
    assert main(["history", *map(str, stepped), *index, *since]) == 0
    assert "19 runs, 2 cases, 0 steps found" in capsys.readouterr().out
    assert main(["history", *map(str, stepped), *index, "--case", "nothing*"]) == 2
    assert "no case matches --case 'nothing*'" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    assert main(["history", *map(str, stepped[:8]), *index, "--html", str(tmp_path / "a-file" / "h.html")]) == 2
    assert "a-file/h.html: cannot write the HTML page" in capsys.readouterr().err
    assert main(["history", str(tmp_path / "missing"), *index]) == 2
    err = capsys.readouterr().err
    assert "missing: not a run directory" in err and "no readable run" in err


def test_history_reads_the_baseline_store(stepped: list[Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    for k in (0, 1, 2):
        assert main(["baseline", "save", str(stepped[k]), "--name", f"nightly-{k}", "--store", str(store)]) == 0
    capsys.readouterr()
    os.environ.pop("EDGEBENCH_BASELINES", None)
    assert main(["history", "--store", str(store), "--index", str(tmp_path / "i.sqlite")]) == 0
    assert "3 runs, 2 cases, 0 steps found." in capsys.readouterr().out


def test_history_rejects_a_bad_option_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["--since", "last tuesday"], ["--statistic", "p42"], ["--min-change", "-3"]):
        with pytest.raises(SystemExit) as caught:
            main(["history", str(tmp_path), *bad])
        assert caught.value.code == 2
        assert bad[1] in capsys.readouterr().err


def test_one_case_on_two_devices_is_two_series(tmp_path: Path) -> None:
    from edgebench.reporting.history import build_histories
    from edgebench.results.frame import STATISTICS

    runs = []
    for k, device in enumerate(("orin", "pi5", "orin", "pi5")):
        runs.append(tmp_path / f"r{k}")
        store = make_run(runs[-1], device=device, cases=CASES[:1])
        store.document["created_at"] = START + k
        store.flush()
    histories = build_histories(load(runs, index=tmp_path / "i.sqlite"), STATISTICS["p50"])
    assert [(h.case_id, len(h.points)) for h in histories] == [
        (f"{CASES[0]['case_id']} on orin", 2), (f"{CASES[0]['case_id']} on pi5", 2)]


def test_the_cli_offers_every_statistic() -> None:
    from edgebench.cli.history_cmd import STATISTIC_NAMES
    from edgebench.results.frame import STATISTICS

    assert STATISTIC_NAMES == tuple(STATISTICS)
    assert all(s.column in COLUMNS for s in STATISTICS.values())


def test_a_deleted_run_leaves_the_index(tmp_path: Path) -> None:
    import shutil

    runs = _history(tmp_path, 2)
    with RunIndex(tmp_path / "index.sqlite") as index:
        assert index.refresh(runs).read == 2
        shutil.rmtree(runs[1])
        index.refresh(runs[:1])  # even when nobody asks for it again
        assert [r[0] for r in index.db.execute("SELECT run_id FROM runs")] == ["run000"]
        assert {r[0] for r in index.db.execute("SELECT DISTINCT run_dir FROM cases")} == {str(runs[0].resolve())}
