"""The CLI's last line of defence: an unexpected error is one line plus a log file with the traceback, exit 70;
and a run directory can never be placed outside reports/ by a name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edgebench.cli import main as cli
from edgebench.errors import ConfigError


def test_internal_error_is_one_line_and_a_log(tmp_path, monkeypatch, capsys):
    from edgebench.cli import show_cmd

    def broken(args):
        raise KeyError("a bug\nover two lines")

    monkeypatch.setattr(show_cmd, "run", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("edgebench.results.store._being_written", [])
    assert cli.main(["show", "somewhere"]) == cli.EXIT_INTERNAL == 70
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("edgebench: internal error: KeyError: 'a bug\\nover two lines' (traceback in ")
    log = Path(err[0][err[0].index("traceback in ") + len("traceback in "):-1])
    assert log.parent == tmp_path / "state" / "edgebench"
    text = log.read_text()
    assert "command: " in text and "show somewhere" in text
    assert "Traceback (most recent call last)" in text and "KeyError" in text


def test_internal_error_log_falls_back_to_the_temp_dir(tmp_path, monkeypatch, capsys):
    from edgebench.cli import show_cmd

    monkeypatch.setattr(show_cmd, "run", lambda args: 1 / 0)
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))  # a file: the directory cannot be made
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("edgebench.results.store._being_written", [])
    assert cli.main(["show", "x"]) == 70
    err = capsys.readouterr().err
    assert f"(traceback in {tmp_path / 'tmp'}/edgebench-crash-" in err


def test_the_run_directory_stays_inside_reports(tmp_path, repo):
    from edgebench.config.suite import load_suite
    from edgebench.harness.runner import default_out_dir

    suite = load_suite(repo / "suites" / "smoke.toml")
    out = default_out_dir(suite, "local", base=tmp_path / "reports")
    assert out.parent == tmp_path / "reports" and out.name.endswith("-local-smoke")
    for name in ("../../../../X", "a/b"):
        with pytest.raises(ConfigError, match="would not be inside"):
            default_out_dir(dataclasses.replace(suite, name=name), "local", base=tmp_path / "reports")
    with pytest.raises(ConfigError, match="would not be inside"):
        default_out_dir(suite, "../up", base=tmp_path / "reports")


def test_suites_lists_a_broken_file_among_the_others(tmp_path, monkeypatch, capsys, repo):
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "bad.toml").write_bytes(b"\xff\xfe")
    (tmp_path / "suites" / "smoke.toml").write_text((repo / "suites" / "smoke.toml").read_text())
    monkeypatch.setenv("EDGEBENCH_HOME", str(tmp_path))
    assert cli.main(["suites"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["bad", "?"] and "not a UTF-8 text file" in out[0]
    assert any(line.startswith("smoke ") for line in out)
