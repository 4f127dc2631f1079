"""vcgencmd, nvpmodel, nvidia-smi and NVML parsing on the verbatim fixture lines, exact values."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from edgebench.sensors.base import ReplayRunner, recorded_lines
from edgebench.sensors.nvidia_smi import NvidiaSmiSensor, parse_nvidia_smi_csv, smi_channels
from edgebench.sensors.nvml import NvmlSensor
from edgebench.sensors.nvpmodel import PowerMode, parse_nvpmodel_all, parse_nvpmodel_q
from edgebench.sensors.readings import decode_clock_event_reasons
from edgebench.sensors.rpi import (
    PmicRail,
    RpiSensor,
    parse_get_throttled,
    parse_measure_clock,
    parse_measure_temp,
    parse_measure_volts,
    parse_pmic_read_adc,
)
from tests.fixtures.sensors.sysfs_trees import fixture

VCGEN = recorded_lines(fixture("rpi_vcgencmd_samples.txt"))


def test_measure_temp_every_line():
    temps = [parse_measure_temp(ln) for ln in VCGEN if ln.startswith("temp=")]
    assert temps == [34.0, 43.8, 57.9, 65.5]
    assert parse_measure_temp("temp=60.7C") == 60.7  # the no-apostrophe Pi 3 variant


def test_measure_clock_every_line():
    clocks = [parse_measure_clock(ln) for ln in VCGEN if ln.startswith("frequency(")]
    assert clocks == [2000478464, 1800457088, 1200000000, 700074000, 600000000, 250000000]


def test_measure_volts():
    assert [parse_measure_volts(ln) for ln in VCGEN if ln.startswith("volt=")] == [1.2]


def test_get_throttled_every_line_matches_the_fixture_decode():
    lines = recorded_lines(fixture("rpi_get_throttled.txt"))
    assert len(lines) == 4
    for line in lines:
        t = parse_get_throttled(line)
        documented = tuple(int(b) for b in re.findall(r"\bb(\d+):", line.split("\t")[1]))
        assert t is not None and t.bits == documented, line
    t = parse_get_throttled("throttled=0x50005")
    assert t.raw == 0x50005
    assert t.flags == ("under_voltage_now", "throttled_now", "under_voltage_occurred", "throttled_occurred")
    assert parse_get_throttled("throttled=0x0").flags == ()


PMIC = {  # rail: (V, A) from the verbatim pmic_read_adc block
    "3V7_WL_SW": (3.610692, 0.0585558),
    "3V3_SYS": (3.299826, 0.06148359),
    "1V8_SYS": (1.816848, 0.1327265),
    "DDR_VDD2": (1.101098, 0.139558),
    "DDR_VDDQ": (0.6036624, 0.009804),
    "1V1_SYS": (1.102929, 0.1981138),
    "0V8_SW": (0.8029296, 0.3415755),
    "VDD_CORE": (0.8936988, 5.03652),
    "3V3_DAC": (3.299447, 0.00006105),
    "3V3_ADC": (3.304026, 0.00054945),
    "0V8_AON": (0.7961898, 0.00531135),
    "HDMI": (4.9245, 0.0216117),
    "EXT5V": (4.9245, None),
    "BATT": (0.0034188, None),
}


def test_pmic_read_adc_block_exact():
    rails = parse_pmic_read_adc("\n".join(ln for ln in VCGEN if "current(" in ln or "volt(" in ln))
    assert rails == {k: PmicRail(v, a) for k, (v, a) in PMIC.items()}
    assert rails["VDD_CORE"].power_w == pytest.approx(0.8936988 * 5.03652, rel=1e-12)
    assert rails["EXT5V"].power_w is None


def test_rpi_sensor_on_the_pi5_recording():
    sensor = RpiSensor(runner=ReplayRunner({"vcgencmd": fixture("rpi_vcgencmd_samples.txt")}))
    assert sensor.available() is None
    r = sensor.read()
    assert r["soc_c"] == 34.0 and r["arm_mhz"] == 2000.478464
    assert r["throttled_raw"] is None and r["throttled_now"] is None  # not in this recording: None, not False
    total = sum(v * a for v, a in PMIC.values() if a is not None) * 1000
    assert r["pmic_total_mw"] == pytest.approx(total, rel=1e-12)
    assert r["ext5v_mv"] == pytest.approx(4924.5) and "ext5v_mw" not in r


def test_rpi_without_vcgencmd_says_why():
    assert RpiSensor(runner=ReplayRunner({})).available() == "command not found: vcgencmd"


def test_nvpmodel_samples():
    text = "\n".join(recorded_lines(fixture("nvpmodel_q_samples.txt")))
    assert parse_nvpmodel_all(text) == [PowerMode("5W", 1), PowerMode("MAXN", 0), PowerMode("15W", 0)]
    assert parse_nvpmodel_q("NVPM WARN: something\nNV Power Mode: MAXN_SUPER\n2\n") == PowerMode(
        "MAXN_SUPER", 2
    )
    assert parse_nvpmodel_q("garbage") is None


def smi_block(n: int) -> str:
    text = fixture("nvidia_smi_csv_samples.txt").read_text()
    return re.search(rf"### BEGIN sample-{n}.*?\n(.*?)### END", text, re.S).group(1)


def test_nvidia_smi_sample1_with_units():
    rows = parse_nvidia_smi_csv(smi_block(1))
    assert rows[0] == {
        "timestamp": "2026/09/11 04:19:41.982",
        "index": 0.0,
        "power.draw": 187.8,
        "temperature.gpu": 33.0,
        "clocks.current.sm": 120.0,
        "clocks.current.memory": 3996.0,
        "utilization.gpu": 0.0,
        "utilization.memory": 0.0,
    }
    assert [r["power.draw"] for r in rows] == [187.8, 190.96, 912.1, 905.3]
    ch = smi_channels(rows)
    assert ch["gpu0_power_mw"] == pytest.approx(912100.0) and ch["gpu1_sm_mhz"] == 1965.0
    assert ch["gpu1_mem_util_pct"] == 73.0


def test_nvidia_smi_samples_2_3_4():
    assert parse_nvidia_smi_csv(smi_block(2)) == [
        {
            "index": 0.0,
            "utilization.gpu": 86.0,
            "memory.used": 7850.0,
            "power.draw": 863.87,
            "temperature.gpu": 70.0,
        },
        {
            "index": 1.0,
            "utilization.gpu": 86.0,
            "memory.used": 7850.0,
            "power.draw": 871.89,
            "temperature.gpu": 69.0,
        },
    ]
    rows3 = parse_nvidia_smi_csv(smi_block(3))
    assert [(r["power.draw"], r["temperature.gpu"], r["memory.free"]) for r in rows3] == [
        (48.99, 30.0, 32495.0),
        (383.55, 62.0, 21351.0),
        (56.1, 51.0, 32493.0),
        (49.69, 35.0, 32495.0),
    ]
    assert rows3[1]["uuid"] == "GPU-3410aa41-502b-5cf1-d8c4-58dc1c22fbc9"
    ch3 = smi_channels(rows3)
    assert ch3["gpu1_mem_used_bytes"] == 11149 * 1024 * 1024
    rows4 = parse_nvidia_smi_csv(smi_block(4))
    assert rows4 == [
        {
            "timestamp": "2026/03/07 00:20:37.071",
            "index": 0.0,
            "power.draw": 76.78,
            "temperature.gpu": 30.0,
            "clocks.current.sm": 345.0,
            "clocks.current.memory": 3201.0,
            "utilization.gpu": 0.0,
            "utilization.memory": 0.0,
        }
    ]


def test_nvidia_smi_not_available_values_are_none():
    rows = parse_nvidia_smi_csv("index, power.draw [W], temperature.gpu\n0, [N/A], [Not Supported]\n")
    assert smi_channels(rows) == {"gpu0_power_mw": None, "gpu0_temp_c": None}


def test_nvidia_smi_sensor_replay():
    s = NvidiaSmiSensor(runner=ReplayRunner({"nvidia-smi": fixture("nvidia_smi_csv_samples.txt")}))
    assert s.available() is None
    assert s.read()["gpu0_power_mw"] == pytest.approx(76780.0)  # the last gpu 0 row in the recording


def test_nvml_reason_decoding():
    assert decode_clock_event_reasons(0x1) == ("gpu_idle",)
    assert decode_clock_event_reasons(0x4 | 0x20 | 0x40) == (
        "sw_power_cap",
        "sw_thermal_slowdown",
        "hw_thermal_slowdown",
    )
    assert decode_clock_event_reasons(0) == ()


class NotSupported(Exception):
    pass


def fake_nvml(fail_init: bool = False):
    def raise_ns(*_):
        raise NotSupported("Not Supported")

    def init():
        if fail_init:
            raise NotSupported("Driver Not Loaded")

    return SimpleNamespace(
        NVML_CLOCK_SM=1,
        NVML_CLOCK_MEM=2,
        NVML_TEMPERATURE_GPU=0,
        nvmlInit=init,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: "h0",
        nvmlDeviceGetPowerUsage=lambda h: 71234,
        nvmlDeviceGetTotalEnergyConsumption=lambda h: 123456789,
        nvmlDeviceGetClockInfo=lambda h, c: {1: 1410, 2: 1215}[c],
        nvmlDeviceGetTemperature=lambda h, s: 64,
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=97, memory=40),
        nvmlDeviceGetCurrentClocksEventReasons=lambda h: 0x24,
        nvmlDeviceGetName=lambda h: b"NVIDIA A100",
        nvmlDeviceGetMaxClockInfo=lambda h, c: 1410,
        nvmlDeviceGetEnforcedPowerLimit=raise_ns,
    )


def test_nvml_sensor_with_fake_library():
    s = NvmlSensor(nvml_module=fake_nvml())
    assert s.available() is None
    assert s.read() == {
        "power_mw": 71234,
        "energy_mj": 123456789,
        "sm_mhz": 1410,
        "mem_mhz": 1215,
        "temp_c": 64,
        "util_pct": 97,
        "clock_event_reasons": 0x24,
        "thermal_slowdown": True,
    }
    meta = s.meta()
    assert meta["name"] == "NVIDIA A100" and meta["power_limit_mw"] is None
    s.close()


def test_nvml_unavailable_says_why():
    assert NvmlSensor(nvml_module=fake_nvml(fail_init=True)).available() == (
        "NVML unavailable: Driver Not Loaded (no NVIDIA driver?)"
    )
    reason = NvmlSensor().available()  # the real library on this machine (no driver here)
    assert reason is None or reason.startswith(
        ("NVML unavailable", "nvidia-ml-py not installed", "no NVIDIA")
    )
