"""The baseline store (results/baselines.py) on run directories built by tests/run_fixtures.py, without the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.errors import EdgebenchError
from edgebench.results import baselines
from tests.run_fixtures import case, make_run


def test_save_copies_the_run_and_replaces_an_older_baseline(tmp_path: Path) -> None:
    first = make_run(tmp_path / "first", cases=[case("kws", "null", 1)], git_commit="1" * 20)
    second = make_run(tmp_path / "second", cases=[case("kws", "null", 1), case("kws", "null", 2)],
                      git_commit="2" * 20)
    store = tmp_path / "store"
    target = baselines.save(first.directory, "main", store)
    assert target == store / "main" and (target / "run.json").is_file() and (target / "cases").is_dir()
    baselines.save(second.directory, "main", store)
    [(name, meta)] = baselines.list_baselines(store)
    assert name == "main"
    assert (meta["cases"], meta["git_commit"], meta["device"], meta["suite"]) == (2, "2" * 20, "jetson-orin-nano",
                                                                                    "vision")
    assert meta["source"] == str(second.directory.resolve())
    assert sorted(p.name for p in store.iterdir()) == ["main"]  # no staging or old copy left behind


def test_save_rebuilds_a_missing_summary_and_says_so(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", cases=[case("kws", "null", 1)])
    (run.directory / "summary.csv").unlink()
    notes: list[str] = []
    target = baselines.save(run.directory, "main", tmp_path / "store", note=notes.append)
    assert (target / "summary.csv").read_text().startswith(run.summary_csv().splitlines()[0])
    assert notes == [f"{run.directory / 'summary.csv'}: was missing; the baseline has it rebuilt from run.json"]


def test_bad_names_and_unknown_specs_are_one_line_errors(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", cases=[case("kws", "null", 1)])
    store = tmp_path / "store"
    for bad in ("../evil", ".hidden", "-x", "a" * 101, "a b"):
        with pytest.raises(EdgebenchError, match="use letters, digits"):
            baselines.save(run.directory, bad, store)
    assert not store.exists()
    baselines.save(run.directory, "main", store)
    assert baselines.resolve(str(run.directory), store) == (run.directory, str(run.directory))
    assert baselines.resolve("main", store) == (store / "main", "baseline main")
    with pytest.raises(EdgebenchError, match=rf"^nope: neither a run directory nor a baseline in {store} "
                                             rf"\(baselines: main\)$"):
        baselines.resolve("nope", store)


def test_list_skips_hidden_and_foreign_entries_and_reads_a_broken_meta_as_empty(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", cases=[case("kws", "null", 1)])
    store = tmp_path / "store"
    baselines.save(run.directory, "b", store)
    baselines.save(run.directory, "a", store)
    (store / "a" / baselines.META_FILE).write_text("{not json")
    (store / ".staging").mkdir()
    (store / "notes").mkdir()
    assert [(n, m.get("cases")) for n, m in baselines.list_baselines(store)] == [("a", None), ("b", 1)]
    assert baselines.list_baselines(tmp_path / "absent") == []
    assert json.loads((store / "b" / baselines.META_FILE).read_text())["name"] == "b"
