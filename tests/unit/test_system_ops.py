"""System operations on a fake sysfs tree with a fake command runner (no root, no Jetson needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.errors import ConfigError
from edgebench.sensors.base import CommandNotFoundError, SysRoot
from edgebench.system import cli, ops


class FakeRunner:
    """Records the commands; answers ``nvpmodel -q`` from its state, like the real tool."""

    def __init__(self, tools: tuple[str, ...] = ("nvpmodel", "jetson_clocks"), mode: int = 1) -> None:
        self.tools = tools
        self.mode = mode
        self.calls: list[list[str]] = []

    def which(self, tool: str) -> bool:
        return tool in self.tools

    def run(self, argv: list[str]) -> str:
        self.calls.append(argv)
        if argv[0] not in self.tools:
            raise CommandNotFoundError(f"command not found: {argv[0]}")
        if argv[:2] == ["nvpmodel", "-q"]:
            name = "MAXN" if self.mode == 0 else "5W"
            return f"NVPM WARN: fan mode is not set!\nNV Power Mode: {name}\n{self.mode}\n"
        if argv[:2] == ["nvpmodel", "-m"]:
            self.mode = int(argv[2])
        return ""

    def stream(self, argv: list[str]):  # pragma: no cover - not used by operations
        raise NotImplementedError


def fake_tree(root: Path, governor: str = "schedutil", temps: tuple[int, ...] = (45000, 52000)) -> Path:
    for cpu in range(4):
        base = root / f"sys/devices/system/cpu/cpu{cpu}/cpufreq"
        base.mkdir(parents=True)
        (base / "scaling_governor").write_text(governor + "\n")
        (base / "scaling_available_governors").write_text("schedutil performance powersave\n")
        (base / "scaling_min_freq").write_text("102000\n")
        (base / "scaling_max_freq").write_text("1479000\n")
    fan = root / "sys/devices/pwm-fan"
    fan.mkdir(parents=True)
    (fan / "target_pwm").write_text("0\n")
    for index, temp in enumerate(temps):
        zone = root / f"sys/class/thermal/thermal_zone{index}"
        zone.mkdir(parents=True)
        (zone / "temp").write_text(f"{temp}\n")
        (zone / "type").write_text(f"zone{index}\n")
    return root


def context(root: Path, runner: FakeRunner | None = None, temps: list[float] | None = None) -> ops.Context:
    clock = iter(range(0, 10_000, 2))
    return ops.Context(root=SysRoot(root), runner=runner or FakeRunner(), sleep=lambda s: None,
                       clock=lambda: float(next(clock)), state_dir=str(root / "state"))


def config(**prepare) -> ops.PrepareConfig:
    return ops.PrepareConfig.parse(prepare, "jetson.toml")


def test_prepare_table_is_validated_with_file_and_key() -> None:
    assert config(fan="max").fan == 255
    assert config(governor="performance", nvpmodel=0, jetson_clocks=True).nvpmodel == 0
    with pytest.raises(ConfigError, match=r"jetson.toml: prepare.fan: expected \"max\" or a PWM value 0..255"):
        config(fan=300)
    with pytest.raises(ConfigError, match="prepare.nvpmodel: expected a power mode id"):
        config(nvpmodel="MAXN")
    with pytest.raises(ConfigError, match="prepare.jetson_clock: unknown key"):
        config(jetson_clock=True)
    with pytest.raises(ConfigError, match="prepare.governor"):
        config(governor="perf; reboot")


def test_operations_come_in_order_and_only_those_asked_for(tmp_path: Path) -> None:
    ctx = context(fake_tree(tmp_path))
    names = [op.name for op in ops.operations(config(fan="max", governor="performance", nvpmodel=0,
                                                     jetson_clocks=True), ctx)]
    assert names == ["nvpmodel", "jetson_clocks", "governor", "fan"]
    assert [op.name for op in ops.operations(config(governor="performance"), ctx)] == ["governor"]


def test_show_reports_each_state_and_is_not_ok_when_the_device_differs(tmp_path: Path) -> None:
    ctx = context(fake_tree(tmp_path))
    shown = ops.show(ops.operations(config(governor="performance", nvpmodel=0, fan=255), ctx))
    assert shown["ok"] is False
    states = {s["name"]: s for s in shown["operations"]}
    assert states["governor"]["current"] == {f"cpu{i}": "schedutil" for i in range(4)}
    assert states["nvpmodel"]["current"] == 1 and states["fan"]["current"] == 0
    assert not any(s["ok"] for s in states.values())


def test_tune_then_reset_restores_the_previous_state(tmp_path: Path) -> None:
    root = fake_tree(tmp_path)
    runner = FakeRunner()
    ctx = context(root, runner)
    prepare = config(governor="performance", nvpmodel=0, jetson_clocks=True, fan="max")
    state = str(tmp_path / "state" / "system-state.json")
    tuned = cli.execute("tune", prepare, ctx, state)
    assert tuned["ok"], tuned
    assert (root / "sys/devices/system/cpu/cpu3/cpufreq/scaling_governor").read_text() == "performance\n"
    assert (root / "sys/devices/pwm-fan/target_pwm").read_text() == "255\n"
    assert runner.mode == 0
    assert ["jetson_clocks", "--store", f"{tmp_path}/state/edgebench-jetson-clocks.conf"] in runner.calls
    assert ops.show(ops.operations(prepare, ctx))["operations"][0]["ok"]  # nvpmodel now as asked
    assert json.loads(Path(state).read_text())["saved"]["nvpmodel"] == 1
    reset = cli.execute("reset", prepare, ctx, state)
    assert reset["ok"], reset
    assert (root / "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text() == "schedutil\n"
    assert (root / "sys/devices/pwm-fan/target_pwm").read_text() == "0\n"
    assert runner.mode == 1
    assert ["jetson_clocks", "--restore", f"{tmp_path}/state/edgebench-jetson-clocks.conf"] in runner.calls
    assert not Path(state).exists()
    assert cli.execute("reset", prepare, ctx, state)["note"].startswith("nothing to restore")


def test_unavailable_operations_say_why(tmp_path: Path) -> None:
    ctx = context(tmp_path, FakeRunner(tools=()))  # an empty tree: a VM without cpufreq, not a Jetson
    shown = ops.show(ops.operations(config(governor="performance", nvpmodel=0, fan=255), ctx))
    reasons = {s["name"]: s["reason"] for s in shown["operations"]}
    assert reasons == {"nvpmodel": "nvpmodel not found (not a Jetson?)",
                       "governor": "no cpufreq in /sys/devices/system/cpu (a VM or a kernel without cpufreq)",
                       "fan": "no PWM fan found (pwm-fan, hwmon pwm1)"}
    # nothing this device offers differs: n/a is not "differs" (issue 10; it used to make show exit 1)
    assert shown["ok"] is True and shown["differs"] == [] and shown["unavailable"] == ["nvpmodel", "governor", "fan"]
    tuned = ops.tune(ops.operations(config(governor="performance"), ctx))
    assert tuned["changes"] == [{"name": "governor", "skipped": reasons["governor"]}]


def test_governor_not_offered_is_unavailable(tmp_path: Path) -> None:
    ctx = context(fake_tree(tmp_path))
    [op] = ops.operations(config(governor="turbo"), ctx)
    assert op.available() == "governor turbo not offered (available: schedutil performance powersave)"


def test_cooldown_waits_until_under_the_threshold(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, temps=(61000,))
    ctx = context(root)
    readings = iter([61000, 58000, 49000])
    temp = root / "sys/class/thermal/thermal_zone0/temp"

    def sleep(_: float) -> None:
        temp.write_text(f"{next(readings)}\n")

    ctx.sleep = sleep
    prepare = ops.PrepareConfig(max_temp_c=50.0, cooldown_timeout_s=60)
    [op] = ops.operations(prepare, ctx)
    assert op.show()["ok"] is False and op.show()["current"] == 61.0
    outcome = ops.tune([op])
    change = outcome["changes"][0]
    assert change["cooldown"]["outcome"] == "below_max" and change["after"] == 49.0
    assert "cooldown" not in outcome["saved"]


def test_permission_denied_is_reported_not_raised(tmp_path: Path) -> None:
    root = fake_tree(tmp_path)
    ctx = context(root)
    [op] = ops.operations(config(fan=128), ctx)

    def denied(value: object) -> None:
        raise PermissionError("/sys/devices/pwm-fan/target_pwm: permission denied (run as root, ...)")

    op.write = denied  # type: ignore[method-assign]
    outcome = ops.tune([op])
    assert outcome["ok"] is False and "permission denied" in outcome["changes"][0]["error"]


PROFILE = """name = "bench-box"
[prepare]
governor = "performance"
fan = "max"
nvpmodel = 0          # no nvpmodel here: n/a
"""


def system(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from edgebench.cli.main import main

    code = main(["system", *args])
    return code, capsys.readouterr().out


def test_tune_state_is_kept_per_device_and_root_and_show_tells_differs_from_na(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    profile = tmp_path / "bench-box.toml"
    profile.write_text(PROFILE)
    tree = fake_tree(tmp_path / "tree")
    governor = tree / "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
    fan = tree / "sys/devices/pwm-fan/target_pwm"

    code, out = system(capsys, "show", "--profile", str(profile), "--root", str(tree))
    assert code == 1 and "differs" in out  # governor and fan not as asked
    code, out = system(capsys, "tune", "--profile", str(profile), "--root", str(tree))
    assert code == 0, out
    assert governor.read_text() == "performance\n" and fan.read_text() == "255\n"
    # right after a tune: as asked, except nvpmodel, which this machine does not have (n/a is not "differs")
    code, out = system(capsys, "show", "--profile", str(profile), "--root", str(tree))
    assert code == 0, out
    assert "n/a" in out and "differs" not in out

    # a reset of another root (here: this machine's /) has nothing to restore, and leaves the tree tuned
    code, out = system(capsys, "reset", "--profile", str(profile))
    assert code == 0 and "nothing to restore" in out
    assert governor.read_text() == "performance\n" and fan.read_text() == "255\n"
    # the tree's own reset puts it back, and says what it restored
    code, out = system(capsys, "reset", "--profile", str(profile), "--root", str(tree))
    assert code == 0
    assert governor.read_text() == "schedutil\n" and fan.read_text() == "0\n"
    assert "governor" in out and "restored" in out and "schedutil" in out
    assert "fan" in out and "restored 0" in out


def test_state_files_are_keyed_by_device_and_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = {cli.state_file_for(device, root) for device in ("nano", "orin") for root in ("/", "/tmp/tree")}
    assert len(files) == 4 and all(f.startswith(str(tmp_path / "cache" / "edgebench")) for f in files)
