"""`edgebench sensors` on fake trees and recorded tool output (run(args) through its own parser)."""

from __future__ import annotations

import argparse
import json

from edgebench.cli import sensors_cmd
from tests.fixtures.sensors.sysfs_trees import (
    build_intel_rapl,
    build_nano_jp4,
    build_orin_jp5,
    build_pi4,
    fixture,
)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="edgebench")
    sensors_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["sensors", *argv])
    return args.func(args)


def json_samples(capsys) -> tuple[list[dict], str]:
    cap = capsys.readouterr()
    return [json.loads(line) for line in cap.out.splitlines()], cap.err


def test_nano_tree_once_json(tmp_path, capsys):
    root = build_nano_jp4(tmp_path)
    assert run_cli("--root", str(root), "--once", "--json") == 0
    samples, err = json_samples(capsys)
    assert len(samples) == 1
    ch = samples[0]["channels"]
    assert ch["thermal.cpu_c"] == 23.0 and ch["jetson_power.total_mw"] == 2132.0
    assert ch["jetson_gpu.gpu_cur_mhz"] == 76.8 and ch["cpufreq.cpu0_cur_khz"] == 102000
    assert "psutil             unavailable" not in err and "psutil          unavailable: psutil reads" in err
    assert "rapl            unavailable: missing file" in err


def test_orin_tree(tmp_path, capsys):
    assert run_cli("--root", str(build_orin_jp5(tmp_path)), "--json") == 0
    ch = json_samples(capsys)[0][0]["channels"]
    assert ch["jetson_power.vdd_in_mw"] == 4914.768 and ch["thermal.tj_c"] is None


def test_pi4_tree_with_vcgencmd_replay(tmp_path, capsys):
    root, rec = build_pi4(tmp_path / "pi")
    assert run_cli("--root", str(root), "--replay", f"vcgencmd={rec}", "--json") == 0
    ch = json_samples(capsys)[0][0]["channels"]
    assert ch["rpi.soc_c"] == 57.9 and ch["rpi.throttled_now"] is True and ch["thermal.cpu_c"] == 57.939


def test_intel_rapl_tree_reads_counter(tmp_path, capsys):
    assert (
        run_cli(
            "--root",
            str(build_intel_rapl(tmp_path, energy_uj=123456789)),
            "--json",
            "--sensor",
            "rapl",
            "--sensor",
            "intel_throttle",
            "--sensor",
            "thermal",
        )
        == 0
    )
    ch = json_samples(capsys)[0][0]["channels"]
    assert ch == {
        "rapl.package_0_uj": 123456789,
        "rapl.package_0_core_uj": 61728394,
        "intel_throttle.package0_throttle_count": 0,
        "intel_throttle.package0_throttle_total_time_ms": 0,
        "intel_throttle.core_throttle_count": 0,
        "thermal.x86_pkg_temp_c": 52.0,
    }


def test_tegrastats_replay_duration_gives_one_sample_per_recorded_line(tmp_path, capsys):
    rc = run_cli(
        "--root",
        str(tmp_path),
        "--replay",
        f"tegrastats={fixture('tegrastats_tx1_tx2.txt')}",
        "--sensor",
        "tegrastats",
        "--duration",
        "0.3",
        "--interval",
        "100",
        "--json",
    )
    assert rc == 0
    samples, _ = json_samples(capsys)
    assert len(samples) == 3
    totals = [s["channels"].get("tegrastats.total_mw") for s in samples]
    assert totals[0] is None and 3140.0 in totals  # TX1 legacy line has no rails; the TX2 line says VDD_IN


def test_profile_reports_missing_expected(tmp_path, capsys):
    root = build_nano_jp4(tmp_path / "nano")
    profile = tmp_path / "fake.toml"
    profile.write_text(
        'name = "fake-nano"\n[sensors]\nexpected = ["thermal", "jetson_power.total_mw", '
        '"rapl", "thermal.nope_c"]\n'
    )
    assert run_cli("--profile", str(profile), "--root", str(root)) == 0
    out = capsys.readouterr().out
    assert "thermal.cpu_c" in out
    assert out.strip().splitlines()[-1] == "profile fake-nano: missing expected: rapl, thermal.nope_c"


def test_bad_replay_argument_is_one_clear_error(tmp_path):
    from edgebench.errors import EdgebenchError

    for bad, msg in (
        ("tegrastats", "expected TOOL=FILE"),
        ("foo=x", "unknown tool 'foo'"),
        (f"tegrastats={tmp_path / 'missing.txt'}", "replay recording for tegrastats not found"),
    ):
        try:
            run_cli("--replay", bad)
        except EdgebenchError as exc:
            assert msg in str(exc)
        else:
            raise AssertionError(bad)


def test_python_m_edgebench_sensors_on_a_fake_tree(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    root = build_nano_jp4(tmp_path / "nano")
    done = subprocess.run(
        [sys.executable, "-m", "edgebench", "sensors", "--root", str(root), "--once", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    ch = json.loads(line)["channels"]
    assert ch["thermal.cpu_c"] == 23.0 and ch["jetson_power.pom_5v_in_mw"] == 2132.0


def test_a_sensor_root_in_the_profile_is_honoured_as_the_run_does(tmp_path, capsys):
    # [sensors] root is one tree; thermal reads another (its own "root" option), as start_case_sampling does
    nano = build_nano_jp4(tmp_path / "nano")
    pi, _ = build_pi4(tmp_path / "pi")
    profile = tmp_path / "split.toml"
    profile.write_text(f'name = "split"\n[sensors]\nexpected = ["thermal", "jetson_power"]\nroot = "{nano}"\n'
                       f'[sensors.options.thermal]\nroot = "{pi}"\n')
    assert run_cli("--profile", str(profile), "--json") == 0
    samples, _ = json_samples(capsys)
    channels = samples[0]["channels"]
    assert channels["thermal.cpu_c"] == 57.939  # the Pi tree's zone, not the Nano's 23.0
    assert channels["jetson_power.total_mw"] == 2132.0  # the profile's root for the others


def test_doctor_lists_sensors_with_their_own_roots(tmp_path):
    from edgebench.system.cli import sensors_available

    nano = build_nano_jp4(tmp_path / "nano")
    pi, _ = build_pi4(tmp_path / "pi")
    empty = tmp_path / "empty"
    empty.mkdir()
    found = sensors_available(str(empty), {"thermal": {"root": str(pi)}, "jetson_power": {"root": str(nano)}})
    assert found["thermal"] is None and found["jetson_power"] is None
    assert found["cpufreq"] is not None  # the empty root has none


def test_doctor_honours_a_sensor_root(tmp_path, capsys):
    from edgebench.cli.main import main

    pi, _ = build_pi4(tmp_path / "pi")
    empty = tmp_path / "empty"
    empty.mkdir()
    profile = tmp_path / "split.toml"
    profile.write_text(f'name = "split"\n[sensors]\nexpected = ["thermal"]\nroot = "{empty}"\n'
                       f'[sensors.options.thermal]\nroot = "{pi}"\n')
    assert main(["doctor", "--profile", str(profile), "--suite", str(tmp_path / "none.toml")]) == 0
    [line] = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("thermal")]
    assert line.split()[:2] == ["thermal", "yes"]
