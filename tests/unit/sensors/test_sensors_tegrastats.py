"""Every verbatim tegrastats line in tests/fixtures/sensors parses, with exact values."""

from __future__ import annotations

import pytest

from edgebench.sensors.base import recorded_lines
from edgebench.sensors.rails import board_total
from edgebench.sensors.tegrastats import (
    CpuCore,
    Engine,
    Rail,
    parse_tegrastats_line,
    tegrastats_channels,
)
from tests.fixtures.sensors.sysfs_trees import fixture


def cpus(spec: str) -> tuple[CpuCore, ...]:
    out = []
    for part in spec.split(","):
        if part == "off":
            out.append(CpuCore(False, None, None))
        else:
            load, _, freq = part.partition("@")
            out.append(CpuCore(True, int(load), int(freq) if freq else None))
    return tuple(out)


def rails(spec: str) -> dict[str, Rail]:
    out = {}
    for item in spec.split(";") if spec else []:
        name, values = item.split()
        nums = [int(v) for v in values.split("/")]
        out[name] = Rail(*nums)
    return out


# (file, line index) -> expected fields. ram=(used,total), swap=(used,total,cached), gpu=(load,freq)
NANO = [
    dict(
        ram=(1655, 3956),
        swap=(0, 1978, 0),
        cpu="12@102,10@102,11@102,12@102",
        emc=(3, 1600),
        engines=dict(APE=25),
        gpu=(0, 76),
        temps=dict(PLL=36.5, CPU=39.0, iwlwifi=44.0, PMIC=50.0, GPU=37.0, AO=47.5, thermal=38.0),
        rails="POM_5V_IN 2132/2132;POM_5V_GPU 78/78;POM_5V_CPU 275/275",
        total=2132.0,
    ),
    dict(
        ram=(1655, 3956),
        swap=(0, 1978, 0),
        cpu="14@204,14@204,10@204,11@204",
        emc=(3, 1600),
        engines=dict(APE=25),
        gpu=(16, 76),
        temps=dict(PLL=36.0, CPU=39.0, iwlwifi=44.0, PMIC=50.0, GPU=37.0, AO=47.0, thermal=38.0),
        rails="POM_5V_IN 2247/2189;POM_5V_GPU 78/78;POM_5V_CPU 275/275",
        total=2247.0,
    ),
    dict(
        ram=(1655, 3956),
        swap=(0, 1978, 0),
        cpu="16@204,11@204,13@204,9@204",
        emc=(3, 1600),
        engines=dict(APE=25),
        gpu=(0, 76),
        temps=dict(PLL=36.5, CPU=39.0, iwlwifi=44.0, PMIC=50.0, GPU=37.0, AO=47.0, thermal=38.25),
        rails="POM_5V_IN 2132/2170;POM_5V_GPU 78/78;POM_5V_CPU 236/262",
        total=2132.0,
    ),
    dict(
        ram=(2020, 3964),
        swap=(43, 1982, 1),
        cpu="100@1479,100@1479,100@1479,100@1479",
        emc=(0, None),
        gpu=(99, None),
        temps=dict(PLL=41.5, CPU=48.0, PMIC=100.0, GPU=63.0, AO=54.5, thermal=48.25),
        rails="POM_5V_GPU 8949/8742;POM_5V_IN 3227/3086;POM_5V_CPU 3148/3134",
        total=3227.0,
    ),
    dict(
        ram=(2020, 3964),
        swap=(43, 1982, 1),
        cpu="100@1479,100@1479,100@1479,100@1479",
        emc=(0, None),
        gpu=(83, None),
        temps=dict(PLL=42.0, CPU=48.0, PMIC=100.0, GPU=46.0, AO=53.5, thermal=48.0),
        rails="POM_5V_GPU 8791/8742;POM_5V_IN 3075/3086;POM_5V_CPU 3109/3134",
        total=3075.0,
    ),
    dict(
        ram=(2020, 3964),
        swap=(43, 1982, 1),
        cpu="100@1479,100@1479,100@1479,100@1479",
        emc=(0, None),
        gpu=(99, None),
        temps=dict(PLL=42.0, CPU=48.0, PMIC=100.0, GPU=46.0, AO=54.0, thermal=48.0),
        rails="POM_5V_GPU 8633/8742;POM_5V_IN 2956/3086;POM_5V_CPU 3148/3134",
        total=2956.0,
    ),
    dict(
        ram=(1180, 3965),
        swap=(149, 1024, 7),
        cpu="30@1036,33@1036,28@1036,26@1036",
        emc=(10, 1600),
        gpu=(0, 76),
        engines=dict(NVENC=716, NVDEC=716, APE=25),
        temps=dict(PLL=57.0, CPU=60.5, PMIC=100.0, GPU=59.0, AO=65.0, thermal=59.75),
        rails="POM_5V_IN 4520/4680;POM_5V_GPU 0/0;POM_5V_CPU 1078/1205",
        total=4520.0,
    ),
    dict(
        ram=(2437, 3964),
        swap=(51, 4030, 2),
        cpu="31@1479,27@1479,100@1479,100@1479",
        emc=(0, None),
        gpu=(0, None),
        temps=dict(PLL=33.5, CPU=36.0, iwlwifi=35.0, PMIC=50.0, GPU=34.5, AO=45.5, thermal=35.25),
        rails="",
        total=None,
    ),
    dict(
        ram=(2437, 3964),
        swap=(51, 4030, 2),
        cpu="25@1479,28@1479,100@1479,100@1479",
        emc=(0, None),
        gpu=(0, None),
        temps=dict(PLL=33.0, CPU=36.0, iwlwifi=35.0, PMIC=50.0, GPU=34.5, AO=45.0, thermal=35.25),
        rails="",
        total=None,
    ),
    dict(
        ram=(2437, 3964),
        swap=(51, 4030, 2),
        cpu="29@1479,29@1479,100@1479,100@1479",
        emc=(0, None),
        gpu=(0, None),
        temps=dict(PLL=33.5, CPU=36.0, iwlwifi=35.0, PMIC=50.0, GPU=34.5, AO=45.5, thermal=35.25),
        rails="",
        total=None,
    ),
    dict(
        ram=(2927, 3963),
        swap=(1006, 1981, 36),
        cpu="92@1479,96@1479,95@1479,96@1479",
        emc=(0, None),
        gpu=(99, None),
        temps=dict(PLL=54.5, CPU=59.5, iwlwifi=57.0, PMIC=100.0, GPU=56.5, AO=61.5, thermal=58.5),
        rails="POM_5V_IN 8055/7870;POM_5V_GPU 2424/2206;POM_5V_CPU 3084/3110",
        total=8055.0,
    ),
    dict(
        ram=(2594, 3956),
        swap=(0, 1978, 0),
        cpu="12@1479,4@1479,5@1479,3@1479",
        emc=(8, None),
        gpu=(37, None),
        temps=dict(PLL=39.0, CPU=41.0, PMIC=100.0, GPU=38.0, AO=45.5, thermal=40.25),
        rails="POM_5V_IN 2532/2698;POM_5V_GPU 0/123;POM_5V_CPU 401/452",
        total=2532.0,
    ),
]

AGX_RAILS_0 = "VDD_GPU_SOC 2399/2399;VDD_CPU_CV 400/400;VIN_SYS_5V0 4032/4032;VDDQ_VDD2_1V8AO 301/301"
ORIN = [
    dict(
        ts="04-24-2023 00:01:24",
        ram=(1282, 62795),
        swap=(0, 31398, 0),
        cpu=",".join(["0@729"] * 12),
        emc=(0, 2133),
        gpu=(0, 0),
        gpu2=(0, 0),
        engines=dict(VIC_FREQ=729, APE=174),
        temps=dict(
            CV0=None,
            CPU=42.593,
            Tboard=32.0,
            SOC2=39.343,
            Tdiode=33.25,
            SOC0=39.375,
            CV1=None,
            GPU=None,
            tj=42.593,
            SOC1=40.468,
            CV2=None,
        ),
        rails=AGX_RAILS_0,
        total=7132.0,
        source="sum of rails VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0+VDDQ_VDD2_1V8AO",
    ),
    dict(
        ts="10-16-2023 10:59:22",
        ram=(1205, 30623),
        swap=(0, 15311, 0),
        cpu="0@729,0@729,1@729,0@729,0@729,0@730,0@730,0@729,0@729,0@729,0@729,0@729",
        emc=(0, 204),
        gpu=(0, 114),
        gpu2=(0, 114),
        engines=dict(NVJPG1=729, VIC_FREQ=729, APE=233),
        temps=dict(
            CV0=None,
            CPU=43.5,
            Tdiode=32.5,
            SOC2=40.062,
            SOC0=40.5,
            CV1=None,
            GPU=38.156,
            SOC1=39.125,
            CV2=None,
        ),
        rails="VDD_GPU_SOC 4788/4788;VDD_CPU_CV 798/798;VIN_SYS_5V0 3842/3842;VDDQ_VDD2_1V8AO 707/707",
        total=10135.0,
        source="sum of rails VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0+VDDQ_VDD2_1V8AO",
    ),
    dict(
        ts="01-24-2024 09:17:09",
        ram=(3503, 7337),
        swap=(430, 3668, 1),
        cpu="11@729,13@729,9@729,18@729,off,off",
        emc=(0, 2133),
        gpu=(0, 305),
        gpu2=(0, 0),
        engines=dict(VIC_FREQ=115, APE=174),
        temps=dict(
            CV0=42.718,
            CPU=44.093,
            SOC2=42.625,
            SOC0=43.281,
            CV1=42.25,
            GPU=41.343,
            tj=46.968,
            SOC1=46.968,
            CV2=42.875,
        ),
        rails="VDD_IN 4915/4915;VDD_CPU_GPU_CV 449/449;VDD_SOC 1431/1431",
        total=4915.0,
        source="rail VDD_IN",
    ),
    dict(
        ts="08-21-2026 15:11:33",
        ram=(998, 15389),
        swap=(0, 7694, 0),
        cpu="4@883,0@883,1@883,0@883,0@729,0@729,0@729,0@729",
        emc=(0, None),
        gpu=(0, None),
        gpu2=(0, 0),
        temps=dict(
            CV0=54.156,
            CPU=56.843,
            SOC2=54.906,
            SOC0=56.031,
            CV1=54.093,
            GPU=54.375,
            tj=57.468,
            SOC1=57.468,
            CV2=54.281,
        ),
        rails="",
        total=None,
    ),
]

TX2NX_TEMPS = dict(PLL=50.5, MCPU=50.5, PMIC=50.0, GPU=50.0, BCPU=50.5, thermal=50.3)
TX = [
    dict(
        ram=(1104, 3995),
        swap=None,
        cpu="2@1734,5@1734,8@1734,11@1734",
        emc=(0, 1600),
        gpu=(0, 998),
        gpu_name="GR3D",
        engines=dict(AVP=115, NVDEC=192, MSENC=192, EDP_limit=1734),
        temps={},
        rails="",
        total=None,
    ),
    dict(
        ram=(2020, 7852),
        swap=None,
        cpu="9@345,21@345,25@345,3@345,1@345,1@345",
        emc=(0, None),
        gpu=(0, None),
        temps=dict(
            PLL=42.5, MCPU=42.5, PMIC=100.0, Tboard=40.0, GPU=41.0, BCPU=42.5, thermal=41.9, Tdiode=41.25
        ),
        rails="VDD_SYS_GPU 153/158;VDD_SYS_SOC 536/547;VDD_4V0_WIFI 633/527;VDD_IN 3140/3208;"
        "VDD_SYS_CPU 536/590;"
        "VDD_SYS_DDR 557/601",
        total=3140.0,
    ),
    dict(
        ram=(3276, 7859),
        swap=(1626, 12122, 181),
        cpu="44@1421,49@2031,67@2034,17@1420,25@1419,8@1420",
        emc=(1, 1866),
        gpu=(0, 114),
        engines=dict(APE=150),
        temps=dict(
            PLL=42.5, MCPU=42.5, PMIC=50.0, Tboard=38.0, GPU=39.5, BCPU=42.5, thermal=41.3, Tdiode=39.25
        ),
        rails="VDD_SYS_GPU 182/182;VDD_SYS_SOC 730/730;VDD_4V0_WIFI 0/0;VDD_IN 5297/5297;"
        "VDD_SYS_CPU 1917/1917;"
        "VDD_SYS_DDR 1241/1241",
        total=5297.0,
    ),
    dict(
        ram=(4722, 7844),
        swap=None,
        cpu="55@2035,14@2034,27@2034,55@2035,47@2035,45@2035",
        emc=(2, 1866),
        gpu=(71, 1300),
        engines=dict(APE=150),
        temps=dict(
            BCPU=45.0,
            MCPU=45.0,
            GPU=51.0,
            PLL=45.0,
            AO=47.5,
            Tboard=37.0,
            Tdiode=46.75,
            PMIC=100.0,
            thermal=46.4,
        ),
        rails="VDD_IN 14025/14416;VDD_CPU 2209/2538;VDD_GPU 6854/6903;VDD_SOC 1371/1370;VDD_WIFI 19/19;"
        "VDD_DDR 2702/2702",
        total=14025.0,
    ),
    *[
        dict(
            ram=(1689, 3825),
            swap=(0, 1913, 0),
            cpu=f"{a}@345,off,off,{b}@345,{c}@345,{d}@345",
            emc=(0, None),
            gpu=(0, None),
            temps=TX2NX_TEMPS,
            rails="",
            total=None,
        )
        for a, b, c, d in ((3, 0, 1, 1), (2, 1, 1, 0), (2, 0, 0, 0), (2, 0, 2, 0), (2, 2, 1, 1))
    ],
]

CASES = [("tegrastats_nano_jp4.txt", NANO), ("tegrastats_orin_jp5.txt", ORIN), ("tegrastats_tx1_tx2.txt", TX)]
PARAMS = [(f, i, exp) for f, table in CASES for i, exp in enumerate(table)]


def test_every_fixture_line_has_an_expectation():
    for fname, table in CASES:
        assert len(recorded_lines(fixture(fname))) == len(table), fname


@pytest.mark.parametrize(("fname", "index", "exp"), PARAMS, ids=[f"{f[11:-4]}-{i}" for f, i, _ in PARAMS])
def test_verbatim_line_parses_exactly(fname, index, exp):
    s = parse_tegrastats_line(recorded_lines(fixture(fname))[index])
    assert s.unparsed == ()
    assert s.timestamp == exp.get("ts")
    assert (s.ram_used_mb, s.ram_total_mb) == exp["ram"]
    swap = (s.swap_used_mb, s.swap_total_mb, s.swap_cached_mb)
    assert swap == (exp["swap"] or (None, None, None))
    assert s.cpus == cpus(exp["cpu"])
    assert s.emc == Engine(exp["emc"][0], () if exp["emc"][1] is None else (exp["emc"][1],))
    gpu = s.gpus[exp.get("gpu_name", "GR3D_FREQ")]
    assert (gpu.load_pct, gpu.freq_mhz) == exp["gpu"]
    if "gpu2" in exp:
        assert (s.gpus["GR3D2_FREQ"].load_pct, s.gpus["GR3D2_FREQ"].freq_mhz) == exp["gpu2"]
    assert {k: e.freq_mhz for k, e in s.engines.items()} == exp.get("engines", {})
    assert s.temps_c == exp["temps"]
    assert s.rails == rails(exp["rails"])
    ch, source = tegrastats_channels(s)
    assert ch.get("total_mw") == exp["total"]
    if "source" in exp:
        assert source == exp["source"]


def test_channels_units_and_offline_and_placeholders():
    s = parse_tegrastats_line(recorded_lines(fixture("tegrastats_orin_jp5.txt"))[2])
    ch, source = tegrastats_channels(s)
    assert source == "rail VDD_IN"
    assert ch["ram_used_bytes"] == 3503 * 1024 * 1024
    assert ch["cpu4_online"] is False and ch["cpu4_load_pct"] is None and ch["cpu4_mhz"] is None
    assert ch["gpu_load_pct"] == 0 and ch["gpu_mhz"] == 305 and ch["gpu2_mhz"] == 0
    assert ch["vdd_in_mw"] == 4915.0 and ch["vdd_soc_mw"] == 1431.0
    assert ch["tj_c"] == 46.968
    agx, _ = tegrastats_channels(parse_tegrastats_line(recorded_lines(fixture("tegrastats_orin_jp5.txt"))[0]))
    assert agx["gpu_c"] is None and agx["cv0_c"] is None  # -256C offline -> None, never -256
    assert "nc_mw" not in agx
    nano, _ = tegrastats_channels(
        parse_tegrastats_line(recorded_lines(fixture("tegrastats_nano_jp4.txt"))[3])
    )
    assert "pmic_c" not in nano  # PMIC@100C is a placeholder


def test_board_totals_and_sanity_warning():
    s = parse_tegrastats_line(recorded_lines(fixture("tegrastats_nano_jp4.txt"))[3])
    total = board_total({k: float(r.cur_mw) for k, r in s.rails.items()})
    assert total.mw == 3227.0 and total.source == "rail POM_5V_IN"
    assert total.warning == "POM_5V_IN 3227 mW < POM_5V_GPU 8949 mW: total rail suspect"
    assert board_total({"A": 1.0, "B": 2.0}, "sum") == board_total({"A": 1.0, "B": 2.0})
    assert board_total({"VDD_IN": 5.0}, "POM_5V_IN").mw is None


def test_thermal_fragment_and_zone_names_match():
    text = fixture("jetson_thermal_zones.txt").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("PLL@19C"))
    s = parse_tegrastats_line(line)
    assert s.temps_c == {
        "PLL": 19.0,
        "CPU": 23.5,
        "iwlwifi": 28.0,
        "PMIC": 100.0,
        "GPU": 20.5,
        "AO": 31.5,
        "thermal": 22.0,
    }
    assert s.unparsed == ()


# Built from the README description (no verbatim JP6/JP7/Thor line exists in the fixtures).
def test_jetpack6_format():
    s = parse_tegrastats_line(
        "11-12-2024 10:00:00 RAM 2400/7620MB (lfb 2x4MB) SWAP 0/3810MB (cached 0MB) "
        "CPU [3%@729,2%@729,off,off] "
        "EMC_FREQ 0%@2133 GR3D_FREQ 0%@[0,0] VIC_FREQ 115 APE 200 cpu@45.218C soc2@43.5C gpu@-256C tj@46C "
        "VDD_IN 4963mW/4963mW VDD_CPU_GPU_CV 500mW/500mW VDD_SOC 1450mW/1450mW"
    )
    assert s.unparsed == ()
    assert s.gpus["GR3D_FREQ"] == Engine(0, (0, 0))
    assert s.temps_c == {"cpu": 45.218, "soc2": 43.5, "gpu": None, "tj": 46.0}
    assert s.rails["VDD_IN"] == Rail(4963, 4963)


def test_jetpack7_three_power_values_and_thor_gpu():
    s = parse_tegrastats_line(
        "RAM 5000/125000MB (lfb 10x4MB) CPU [1%@972,0%@972] GR3D_FREQ @[1575,1575,1575] cpu@40.5C/41.0C "
        "VDD_GPU 5139mW/5139mW/5139mW VIN 30000mW/29000mW/31000mW"
    )
    assert s.unparsed == ()
    assert s.gpus["GR3D_FREQ"] == Engine(None, (1575, 1575, 1575))
    assert s.temps_c == {"cpu": 40.5}
    assert s.rails == {"VDD_GPU": Rail(5139, 5139, 5139), "VIN": Rail(30000, 29000, 31000)}
    ch, source = tegrastats_channels(s)
    assert (ch["total_mw"], source) == (30000.0, "rail VIN")
    assert ch["gpu_load_pct"] is None and ch["gpu_mhz"] == 1575


DYING_TEGRASTATS = """#!{python}
# stands in for tegrastats: prints recorded lines, then dies as a tool does when its device goes away
import os, sys, time
lines = [ln for ln in open({recording!r}).read().splitlines() if ln.strip() and not ln.startswith("#")]
for line in lines[:3]:
    print(line, flush=True)
deadline = time.monotonic() + 20
while not os.path.exists({die_when!r}) and time.monotonic() < deadline:
    time.sleep(0.01)
sys.stderr.write("Failed to open /sys/bus/i2c/drivers/ina3221x: No such device\\n")
sys.exit(2)
"""


def test_a_tegrastats_process_that_dies_is_an_error_on_its_channels_not_a_stale_value(tmp_path, monkeypatch):
    import os
    import sys
    import time

    from edgebench.analysis.sensor_summary import summarize_sensors
    from edgebench.sensors.base import SubprocessRunner, SysRoot
    from edgebench.sensors.sampler import Sampler
    from edgebench.sensors.tegrastats import TegrastatsSensor

    tool = tmp_path / "bin" / "tegrastats"
    tool.parent.mkdir()
    die_when = tmp_path / "die"
    tool.write_text(DYING_TEGRASTATS.format(python=sys.executable, die_when=str(die_when),
                                            recording=str(fixture("tegrastats_nano_jp4.txt"))))
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    sensor = TegrastatsSensor(SysRoot(tmp_path), SubprocessRunner(), {"interval_ms": 100})
    sensor.name = "tegrastats"
    clock = iter(range(0, 10**10, 100_000_000))
    sampler = Sampler([sensor], 0.1, clock_ns=lambda: next(clock))
    sampler._open()
    deadline = time.monotonic() + 20
    while sensor.lines_seen < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    sampler.tick()
    sampler.tick()  # alive: its last line (POM_5V_IN 2132)
    die_when.touch()
    assert sensor._thread is not None
    sensor._thread.join(timeout=20)  # the tool has exited
    for _ in range(4):
        sampler.tick()
    out = sampler.stop()
    # the last line it printed is not reported as live: the channels read None, and each tick says why
    assert out["channels"]["tegrastats.total_mw"] == [2132.0, 2132.0, None, None, None, None]
    errors = [e["error"] for e in out["errors"] if e.get("sensor") == "tegrastats"]
    assert len(errors) == 4
    assert errors[0] == ("RuntimeError: tegrastats stopped after 3 line(s): exited with status 2: "
                         "Failed to open /sys/bus/i2c/drivers/ina3221x: No such device")
    # the summary of the case says so
    case = {"latency_ns": [1_000_000] * 20, "iterations": 20,
            "sensors": {**out, "marks": [["loop_start", 0], ["loop_end", 500_000_000]]}}
    summary = summarize_sensors(case)["details"]["sensor_errors"]
    assert summary["tegrastats"]["count"] == 4
    assert "exited with status 2" in summary["tegrastats"]["first"]
    assert summary["tegrastats"]["first_s"] == pytest.approx(0.2)  # 0.2 s after the loop started
