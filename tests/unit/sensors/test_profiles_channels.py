"""Every shipped device profile names sensors that exist, and channels those sensors really produce.

Each profile is checked against its board: a fake sysfs tree from the layouts in tests/fixtures/sensors/
(JetPack 4 IIO rails, JetPack 5/6 hwmon rails, a Pi with a vcgencmd recording, an Intel host with RAPL) or a
fake NVML library. A channel is "<sensor>.<channel>" exactly as the sampler stores it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from edgebench.config.profile import DeviceProfile, load_profile
from edgebench.sensors.base import ReplayRunner, SysRoot
from edgebench.sensors.nvml import CHANNELS as NVML_CHANNELS
from edgebench.sensors.registry import load_sensor, sensor_class
from tests.fixtures.sensors.sysfs_trees import (
    build_intel_rapl,
    build_nano_jp4,
    build_orin_jp5,
    build_pi4,
    fixture,
    write,
)

PROFILES = sorted((Path(__file__).resolve().parents[3] / "device_profiles").glob("*.toml"))
TOTAL_SUFFIXES = ("_mw", "_uw", "_uj", "_mj")


def _thermal(root: Path, zones: list[tuple[str, int]]) -> None:
    for idx, (ztype, temp) in enumerate(zones):
        write(root, f"/sys/class/thermal/thermal_zone{idx}/type", ztype)
        write(root, f"/sys/class/thermal/thermal_zone{idx}/temp", temp)


def _gpu(root: Path, node: str, load_permille: int, cur_hz: int, max_hz: int) -> None:
    write(root, "/sys/devices/gpu.0/load", load_permille)
    write(root, f"/sys/class/devfreq/{node}/cur_freq", cur_hz)
    write(root, f"/sys/class/devfreq/{node}/max_freq", max_hz)


def build_tx2_jp4(root: Path) -> Path:
    """TX2, JetPack 4: two IIO INA3221 at 0-0040 / 0-0041 (order from jetson_sysfs_power_rails.txt), powers
    from the first TX2 tegrastats line in tegrastats_tx1_tx2.txt; voltages/currents illustrative."""
    for dev, rails in (
        ("0-0040/iio:device0", [("VDD_SYS_GPU", 153), ("VDD_SYS_SOC", 536), ("VDD_4V0_WIFI", 633)]),
        ("0-0041/iio:device1", [("VDD_IN", 3140), ("VDD_SYS_CPU", 536), ("VDD_SYS_DDR", 557)]),
    ):
        base = f"/sys/bus/i2c/drivers/ina3221x/{dev}"
        for k, (name, mw) in enumerate(rails):
            write(root, f"{base}/rail_name_{k}", name)
            write(root, f"{base}/in_power{k}_input", mw)
            write(root, f"{base}/in_voltage{k}_input", 5000)
            write(root, f"{base}/in_current{k}_input", mw // 5)
    _thermal(root, [("BCPU-therm", 42500), ("MCPU-therm", 42500), ("GPU-therm", 41000), ("PMIC-Die", 100000)])
    _gpu(root, "17000000.gp10b", 0, 114750000, 1300500000)  # GR3D_FREQ 0%@114 / 71%@1300 in the TX2 lines
    return root


def build_xavier_nx_jp5(root: Path) -> Path:
    """Xavier NX, JetPack 5: hwmon INA3221 at 7-0040 (in1..3 VDD_IN, VDD_CPU_GPU_CV, VDD_SOC; in7 the sum of
    shunt voltages), values illustrative."""
    dev = "/sys/bus/i2c/drivers/ina3221/7-0040/hwmon/hwmon4"
    for k, (label, mv, ma) in enumerate([("VDD_IN", 5000, 900), ("VDD_CPU_GPU_CV", 5000, 200),
                                         ("VDD_SOC", 5000, 250)], start=1):
        write(root, f"{dev}/in{k}_label", label)
        write(root, f"{dev}/in{k}_input", mv)
        write(root, f"{dev}/curr{k}_input", ma)
    write(root, f"{dev}/in7_label", "sum of shunt voltages")
    write(root, f"{dev}/in7_input", 1200)
    _thermal(root, [("CPU-therm", 45000), ("GPU-therm", 44000), ("AUX-therm", 43000)])
    _gpu(root, "17000000.gv11b", 0, 114750000, 1109250000)  # illustrative
    return root


def pmic_block() -> str:
    text = fixture("rpi_vcgencmd_samples.txt").read_text()
    return text.split("### BEGIN pmic_read_adc\n", 1)[1].split("### END", 1)[0]


def build_pi5(root: Path) -> tuple[Path, Path]:
    """Pi 5: the Pi sysfs tree plus a vcgencmd recording with the verbatim pmic_read_adc block."""
    root, rec = build_pi4(root)
    rec.write_text(rec.read_text() + pmic_block())
    return root, rec


class FakeNvml(SimpleNamespace):
    """pynvml's surface as NvmlSensor uses it; values illustrative (an A100 at load)."""

    def __init__(self) -> None:
        super().__init__(
            NVML_CLOCK_SM=1, NVML_CLOCK_MEM=2, NVML_TEMPERATURE_GPU=0,
            nvmlInit=lambda: None, nvmlShutdown=lambda: None, nvmlDeviceGetCount=lambda: 1,
            nvmlDeviceGetHandleByIndex=lambda i: "h0", nvmlDeviceGetPowerUsage=lambda h: 71234,
            nvmlDeviceGetTotalEnergyConsumption=lambda h: 123456789,
            nvmlDeviceGetClockInfo=lambda h, c: {1: 1410, 2: 1215}[c],
            nvmlDeviceGetTemperature=lambda h, s: 64,
            nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=97, memory=40),
            nvmlDeviceGetCurrentClocksEventReasons=lambda h: 0x4, nvmlDeviceGetName=lambda h: b"NVIDIA A100",
            nvmlDeviceGetMaxClockInfo=lambda h, c: 1410, nvmlDeviceGetEnforcedPowerLimit=lambda h: 400000,
        )


BOARD_SPECIFIC = {"jetson_power", "jetson_gpu", "tegrastats", "rpi", "rapl", "hwmon", "thermal", "cpufreq",
                  "nvml", "nvidia_smi", "intel_throttle"}


def board(name: str, tmp: Path, monkeypatch, profile: DeviceProfile | None = None) -> tuple[SysRoot, ReplayRunner]:
    """The fake device a profile describes: (root, command runner). A profile of this machine (psutil at
    most, no channel named) needs none: the live root."""
    none = ReplayRunner({})
    tree = tmp / name
    if name == "jetson-nano":
        return SysRoot(build_nano_jp4(tree)), none
    if name == "jetson-tx2":
        return SysRoot(build_tx2_jp4(tree)), none
    if name == "jetson-xavier-nx":
        return SysRoot(build_xavier_nx_jp5(tree)), none
    if name in ("jetson-orin-nano", "jetson-agx-orin"):
        return SysRoot(build_orin_jp5(tree, "orin_nx" if name == "jetson-orin-nano" else "agx")), none
    if name in ("raspberry-pi-4", "raspberry-pi-5"):
        root, rec = (build_pi4 if name == "raspberry-pi-4" else build_pi5)(tree)
        return SysRoot(root), ReplayRunner({"vcgencmd": rec})
    if name == "intel-x86":
        return SysRoot(build_intel_rapl(tree)), none
    if name == "nvidia-gpu-host":
        monkeypatch.setitem(sys.modules, "pynvml", FakeNvml())
        return SysRoot("/"), none
    if profile is not None and not BOARD_SPECIFIC & set(profile.sensors.expected) and not (
            profile.sensors.total_power_channel or profile.cooldown.channel):
        return SysRoot("/"), none
    raise AssertionError(f"no fake board for profile {name}: add one to {Path(__file__).name}")


def channels_of(profile: DeviceProfile, sensor: str, root: SysRoot, runner: ReplayRunner) -> dict:
    s = load_sensor(sensor, root, runner, profile.sensors.options.get(sensor, {}))
    reason = s.available()
    assert reason is None, f"{profile.name}: sensor {sensor} unavailable on its fake board: {reason}"
    s.start()
    try:
        s.read()
        return {f"{sensor}.{ch}": v for ch, v in s.read().items()}
    finally:
        s.close()


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_profile_sensors_and_channels(path, tmp_path, monkeypatch):
    profile = load_profile(path)
    for name in profile.sensors.expected:
        sensor_class(name.split(".", 1)[0])  # registered (raises UnknownSensorError otherwise)
    root, runner = board(profile.name, tmp_path, monkeypatch, profile)
    wanted = {"total_power_channel": profile.sensors.total_power_channel, "cooldown.channel": profile.cooldown.channel}
    for key, channel in wanted.items():
        if channel is None:
            continue
        sensor = channel.split(".", 1)[0]
        assert sensor in profile.sensors.expected, f"{path.name} {key} {channel}: sensor {sensor} not expected"
        produced = channels_of(profile, sensor, root, runner)
        assert channel in produced, f"{path.name} {key} = {channel!r}; {sensor} produces {sorted(produced)}"
        assert produced[channel] is not None, f"{path.name} {key} {channel} reads None on its board"
        if key == "total_power_channel":
            assert channel.endswith(TOTAL_SUFFIXES), f"{channel}: not a power or energy channel"
        else:
            assert channel.endswith("_c"), f"{channel}: not a temperature"


def test_every_expected_sensor_runs_on_its_board(tmp_path, monkeypatch):
    """What the fake boards cover: the board-specific sensors of each profile are available there."""
    for path in PROFILES:
        profile = load_profile(path)
        root, runner = board(profile.name, tmp_path / "all", monkeypatch, profile)
        for name in BOARD_SPECIFIC & set(profile.sensors.expected) - {"cpufreq"}:  # no cpufreq on Jetson trees
            assert channels_of(profile, name, root, runner), f"{profile.name}: {name} read nothing"


def test_board_totals_match_the_fixture_readme(tmp_path, monkeypatch):
    """POM_5V_IN / VDD_IN are the module input; AGX Orin has none and sums its rails."""
    totals = {}
    for name in ("jetson-nano", "jetson-tx2", "jetson-orin-nano", "jetson-agx-orin"):
        profile = load_profile(next(p for p in PROFILES if p.stem == name))
        root, runner = board(name, tmp_path, monkeypatch)
        got = channels_of(profile, "jetson_power", root, runner)
        channel = profile.sensors.total_power_channel or "jetson_power.total_mw"
        totals[name] = got[channel]
    assert totals["jetson-nano"] == 2132.0 and totals["jetson-tx2"] == 3140.0
    assert totals["jetson-orin-nano"] == pytest.approx(5168 * 951 / 1000)
    assert totals["jetson-agx-orin"] == pytest.approx((480 + 80 + 806 + 60) * 5000 / 1000)


def test_a_profile_total_without_readings_falls_back_and_says_so():
    from edgebench.analysis.sensor_summary import pick_total_channels, summarize_sensors

    chans = {"nvml.energy_mj": [None, None, None], "nvml.power_mw": [1000.0, 3000.0, 3000.0]}
    from edgebench.analysis.declared import RecordChannels

    nvml = RecordChannels.from_record(chans, {"nvml": {"meta": {"channels": [c.to_json() for c in NVML_CHANNELS]}}})
    assert pick_total_channels(chans, nvml, "nvml.energy_mj") == ["nvml.power_mw"]  # a pre-Volta GPU
    assert pick_total_channels({**chans, "nvml.energy_mj": [1, 2]}, nvml, "nvml.energy_mj") == ["nvml.energy_mj"]
    ms = 1_000_000
    case = {"latency_ns": [ms] * 10, "iterations": 10,
            "sensors": {"t_ns": [0, 100 * ms, 200 * ms], "channels": chans, "sensors": {},
                        "marks": [["loop_start", 0], ["loop_end", 200 * ms]]}}
    out = summarize_sensors(case, "nvml.energy_mj")
    # trapezoid: 0.1 s x (1 + 3) / 2 W + 0.1 s x 3 W = 0.5 J over 0.2 s -> 2.5 W, 50 mJ per iteration
    assert out["power_avg_w"] == pytest.approx(2.5) and out["energy_per_inference_mj"] == pytest.approx(50.0)
    assert out["details"]["total_power_channel"] == "the profile's nvml.energy_mj has no readings; used nvml.power_mw"
