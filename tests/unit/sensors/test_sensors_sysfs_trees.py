"""Sysfs sensors on fake trees built from the fixture layouts: Nano JP4, Orin JP5/6, Pi 4, Intel RAPL host."""

from __future__ import annotations

import os

import pytest

from edgebench.analysis.declared import RecordChannels
from edgebench.analysis.energy import counter_delta
from edgebench.analysis.throttling import assess
from edgebench.sensors.base import ReplayRunner, RootOnlyError, SysRoot
from edgebench.sensors.channels import TRIP_POINT
from edgebench.sensors.cpufreq import CpufreqSensor
from edgebench.sensors.hwmon import HwmonSensor
from edgebench.sensors.intel_throttle import IntelThrottleSensor
from edgebench.sensors.jetson_gpu import JetsonGpuSensor
from edgebench.sensors.jetson_power import JetsonPowerSensor
from edgebench.sensors.rapl import RaplSensor
from edgebench.sensors.rpi import RpiSensor
from edgebench.sensors.thermal import ThermalSensor, parse_millidegrees, zone_channel
from tests.fixtures.sensors.sysfs_trees import (
    RAPL_MAX,
    build_intel_rapl,
    build_nano_jp4,
    build_orin_jp5,
    build_pi4,
    fixture,
    root_only_sysroot,
    set_rapl_energy,
    write,
)

NO_TOOLS = ReplayRunner({})


def test_zone_names_follow_tegrastats():
    assert [
        zone_channel(t)
        for t in (
            "AO-therm",
            "CPU-therm",
            "thermal-fan-est",
            "iwlwifi",
            "cpu-thermal",
            "Tboard_tegra",
            "x86_pkg_temp",
        )
    ] == ["ao_c", "cpu_c", "thermal_c", "iwlwifi_c", "cpu_c", "tboard_c", "x86_pkg_temp_c"]
    assert parse_millidegrees("57939") == 57.939
    assert parse_millidegrees("") is None and parse_millidegrees("-256000") is None


def test_nano_jp4_thermal_zones_from_the_verbatim_dump(tmp_path):
    root = SysRoot(build_nano_jp4(tmp_path))
    t = ThermalSensor(root, NO_TOOLS)
    assert t.available() is None
    assert t.read() == {
        "ao_c": 31.0,
        "cpu_c": 23.0,
        "gpu_c": 21.0,
        "pll_c": 19.5,
        "thermal_c": 21.5,
        "iwlwifi_c": 30.0,
    }  # PMIC-Die (fixed 100 C) skipped
    assert t.meta()["zones"]["cpu_c"] == "CPU-therm"


def test_nano_jp4_iio_rails(tmp_path):
    s = JetsonPowerSensor(SysRoot(build_nano_jp4(tmp_path)), NO_TOOLS)
    assert s.available() is None
    r = s.read()
    assert r == {
        "pom_5v_in_mw": 2132.0,
        "pom_5v_in_mv": 5000,
        "pom_5v_in_ma": 426,
        "pom_5v_gpu_mw": 78.0,
        "pom_5v_gpu_mv": 5000,
        "pom_5v_gpu_ma": 15,
        "pom_5v_cpu_mw": 275.0,
        "pom_5v_cpu_mv": 5000,
        "pom_5v_cpu_ma": 55,
        "total_mw": 2132.0,
    }
    assert s.meta()["total_source"] == "rail POM_5V_IN" and s.meta()["layout"] == ["iio"]


def test_nano_jp4_gpu_and_cpufreq(tmp_path):
    root = SysRoot(build_nano_jp4(tmp_path))
    g = JetsonGpuSensor(root, NO_TOOLS)
    assert g.available() is None
    assert g.read() == {"gpu_load_pct": 0.0, "gpu_cur_mhz": 76.8, "gpu_max_mhz": 998.4}
    c = CpufreqSensor(root, NO_TOOLS)
    assert c.available() is None
    r = c.read()
    assert r["cpu0_cur_khz"] == 102000 and r["cpu3_max_khz"] == 1479000 and len(r) == 12
    assert c.meta()["governor"]["cpu2"] == "schedutil"


def test_jetson_gpu_power_mode_from_nvpmodel_replay(tmp_path):
    runner = ReplayRunner({"nvpmodel": fixture("nvpmodel_q_samples.txt")})
    g = JetsonGpuSensor(SysRoot(build_nano_jp4(tmp_path)), runner)
    assert g.read()["power_mode"] == "5W"
    assert g.meta()["power_mode"] == {"name": "5W", "id": 1, "reason": None}


def test_orin_nx_hwmon_rails_power_is_v_times_i(tmp_path):
    s = JetsonPowerSensor(SysRoot(build_orin_jp5(tmp_path)), NO_TOOLS)
    r = s.read()
    assert r["vdd_in_mw"] == 5168 * 951 / 1000 == 4914.768
    assert r["vdd_cpu_gpu_cv_mw"] == 448.92 and r["vdd_soc_mw"] == 1429.32
    assert r["total_mw"] == 4914.768
    assert not any(k.startswith("sum_of") for k in r)  # in7 summation channel skipped
    assert s.meta()["total_source"] == "rail VDD_IN" and s.meta()["layout"] == ["hwmon"]


def test_agx_orin_has_no_input_rail_so_rails_are_summed_and_nc_dropped(tmp_path):
    s = JetsonPowerSensor(SysRoot(build_orin_jp5(tmp_path, board="agx_orin")), NO_TOOLS)
    r = s.read()
    assert r["total_mw"] == 2400.0 + 400.0 + 4030.0 + 300.0
    assert "nc_mw" not in r
    assert s.meta()["total_source"] == "sum of rails VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0+VDDQ_VDD2_1V8AO"
    profile = JetsonPowerSensor(SysRoot(tmp_path), NO_TOOLS, {"total_rail": "VDD_GPU_SOC"})
    assert profile.read()["total_mw"] == 2400.0 and profile.meta()["total_source"] == "rail VDD_GPU_SOC"


def test_orin_thermal_disabled_zone_reads_none_and_trips(tmp_path):
    t = ThermalSensor(SysRoot(build_orin_jp5(tmp_path)), NO_TOOLS)
    assert t.read() == {"cpu_c": 44.093, "gpu_c": 41.343, "soc0_c": 43.281, "tj_c": None}
    assert t.meta()["trip_points_c"] == {"cpu_c": [[99.0, "passive"]]}
    g = JetsonGpuSensor(SysRoot(tmp_path), NO_TOOLS)
    assert g.read() == {"gpu_load_pct": 30.5, "gpu_cur_mhz": 305.0, "gpu_max_mhz": 624.75}


def test_pi4_tree_and_vcgencmd_replay(tmp_path):
    root_dir, rec = build_pi4(tmp_path / "pi4")
    root = SysRoot(root_dir)
    assert ThermalSensor(root, NO_TOOLS).read() == {"cpu_c": 57.939}
    rpi = RpiSensor(root, ReplayRunner({"vcgencmd": rec}))
    r = rpi.read()
    assert (r["soc_c"], r["arm_mhz"], r["throttled_raw"]) == (57.9, 1800.457088, 0x50005)
    assert r["under_voltage_now"] is True and r["throttled_now"] is True and r["arm_freq_capped_now"] is False
    assert r["under_voltage_occurred"] is True and r["soft_temp_limit_occurred"] is False
    assert "pmic_total_mw" not in r and rpi.meta()["pmic"] is False  # a Pi 4 has no pmic_read_adc


def test_intel_rapl_reads_counters_and_wraps(tmp_path):
    root_dir = build_intel_rapl(tmp_path, energy_uj=RAPL_MAX - 1000)
    s = RaplSensor(SysRoot(root_dir), NO_TOOLS)
    assert s.available() is None
    first = s.read()
    assert first == {"package_0_uj": RAPL_MAX - 1000, "package_0_core_uj": (RAPL_MAX - 1000) // 2}
    assert s.meta()["max_energy_range_uj"]["package_0_uj"] == RAPL_MAX
    set_rapl_energy(root_dir, 4000)
    second = s.read()["package_0_uj"]
    assert counter_delta([first["package_0_uj"], second], RAPL_MAX) == 1000 + 1 + 4000
    assert counter_delta([10, 25], RAPL_MAX) == 15 and counter_delta([25, 10], None) is None


def test_intel_rapl_root_only_energy_is_unavailable_not_zero(tmp_path):
    """chmod 000 on energy_uj; as root (these tests' usual case) the test-only ModeBitsSysRoot plays the
    non-root kernel, otherwise the real SysRoot gets the real EACCES."""
    root_dir = build_intel_rapl(tmp_path, root_only=True)
    root = root_only_sysroot(root_dir)
    assert (type(root).__name__ == "ModeBitsSysRoot") == (os.geteuid() == 0)
    with pytest.raises(RootOnlyError):
        root.read_text("/sys/class/powercap/intel-rapl:0/energy_uj")
    s = RaplSensor(root, NO_TOOLS)
    reason = s.available()
    assert reason.startswith("root-only: /sys/class/powercap/intel-rapl:0/energy_uj (permission denied)")
    assert "CVE-2020-8694" in reason
    assert s.read() == {"package_0_uj": None, "package_0_core_uj": None}
    assert s.meta()["root_only"] == ["package_0_uj", "package_0_core_uj"]
    assert root.read_str("/sys/class/powercap/intel-rapl:0/name") == "package-0"  # still readable


def test_intel_throttle_counters_from_the_verbatim_dump(tmp_path):
    root_dir = build_intel_rapl(tmp_path)
    s = IntelThrottleSensor(SysRoot(root_dir), NO_TOOLS)
    assert s.available() is None
    assert s.read() == {
        "package0_throttle_count": 0,
        "package0_throttle_total_time_ms": 0,
        "core_throttle_count": 0,
    }
    write(root_dir, "/sys/devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", 3)
    write(root_dir, "/sys/devices/system/cpu/cpu1/thermal_throttle/package_throttle_count", 7)
    assert s.read()["core_throttle_count"] == 3
    assert s.read()["package0_throttle_count"] == 0  # package count read once, from the first CPU


def test_hwmon_units_and_labels(tmp_path):
    d = "/sys/class/hwmon/hwmon2"
    write(tmp_path, f"{d}/name", "ina226")
    write(tmp_path, f"{d}/power1_input", 2500000)
    write(tmp_path, f"{d}/in1_input", 5012)
    write(tmp_path, f"{d}/curr1_input", 498)
    write(tmp_path, f"{d}/curr1_label", "VIN")
    write(tmp_path, "/sys/class/hwmon/hwmon5/name", "amd_energy")
    write(tmp_path, "/sys/class/hwmon/hwmon5/energy1_input", 123456)
    write(tmp_path, "/sys/class/hwmon/hwmon5/energy1_label", "Esocket0")
    write(tmp_path, "/sys/class/hwmon/hwmon5/temp1_input", 41250)
    s = HwmonSensor(SysRoot(tmp_path), NO_TOOLS)
    assert s.read() == {
        "ina226_power1_mw": 2500.0,
        "ina226_in1_mv": 5012,
        "ina226_vin_ma": 498,
        "amd_energy_esocket0_uj": 123456,
        "amd_energy_temp1_c": 41.25,
    }


def test_missing_everything_gives_reasons(tmp_path):
    root = SysRoot(tmp_path)
    for cls in (
        ThermalSensor,
        CpufreqSensor,
        IntelThrottleSensor,
        RaplSensor,
        HwmonSensor,
        JetsonPowerSensor,
        JetsonGpuSensor,
    ):
        reason = cls(root, NO_TOOLS).available()
        assert reason is not None and reason.startswith("missing file"), (cls, reason)


def test_a_trip_point_of_zero_is_disabled_not_a_0_c_trip(tmp_path):
    # x86_pkg_temp publishes its two programmable thresholds as passive trips reading 0 until someone sets them
    build_intel_rapl(tmp_path)
    zone = "/sys/class/thermal/thermal_zone0"
    write(tmp_path, f"{zone}/trip_point_1_temp", 0)
    write(tmp_path, f"{zone}/trip_point_1_type", "passive")
    write(tmp_path, f"{zone}/trip_point_2_temp", -274000)  # and a negative one: not a real temperature either
    write(tmp_path, f"{zone}/trip_point_2_type", "passive")
    meta = ThermalSensor(SysRoot(tmp_path), NO_TOOLS).meta()
    assert meta["trip_points_c"] == {"x86_pkg_temp_c": [[100.0, "passive"]]}
    # a record stored before the fix still holds the 0 C trip: the analysis ignores it too
    series = {"thermal.x86_pkg_temp_c": [52.0, 53.0]}
    stored = {"thermal": {"meta": {"trip_points_c": {"x86_pkg_temp_c": [[0.0, "passive"], [0.0, "passive"]]}}}}
    th = assess(series, RecordChannels.from_record(series, stored), [1_000_000] * 20)
    assert th.throttled is None and not th.flags
    older = {"thermal": {"meta": {"trip_points_c": {"cpu_c": [[0.0, "passive"], [-5.0, "hot"], [95.0, "passive"]]}}}}
    trips = RecordChannels.from_record({"thermal.cpu_c": []}, older).constants(TRIP_POINT)
    assert [(t.channel.of, t.channel.value) for t in trips] == [("cpu_c", 95.0)]
    # the sensor declares the same: only the real trip, bounding its zone
    declared = [c for c in ThermalSensor(SysRoot(tmp_path), NO_TOOLS).channels() if c.kind == TRIP_POINT]
    assert [(c.of, c.value) for c in declared] == [("x86_pkg_temp_c", 100.0)]


def link_class_hwmon(root, device_hwmon: str) -> None:
    """As the kernel lays it out: /sys/class/hwmon/hwmonN -> the device's hwmon dir, whose `device` link
    points at the device (an i2c address such as 1-0040, an ACPI id)."""
    hdir = root / device_hwmon.lstrip("/")
    (hdir / "device").symlink_to(hdir.parent.parent, target_is_directory=True)
    cls = root / "sys/class/hwmon"
    cls.mkdir(parents=True, exist_ok=True)
    (cls / hdir.name).symlink_to(hdir, target_is_directory=True)


def test_hwmon_reads_power_meters_that_publish_only_an_average(tmp_path):
    # drivers/hwmon/acpi_power_meter.c: power1_average in uW, no power1_input (most servers' system meter)
    meter = "/sys/devices/LNXSYSTM:00/device:00/ACPI000D:00/hwmon/hwmon1"
    write(tmp_path, f"{meter}/name", "power_meter")
    write(tmp_path, f"{meter}/power1_average", 187500000)
    write(tmp_path, f"{meter}/power1_average_interval", 1000)
    link_class_hwmon(tmp_path, meter)
    # a meter with both: the instant value and the chip's own average
    both = "/sys/devices/platform/ina2xx/hwmon/hwmon2"
    write(tmp_path, f"{both}/name", "ina226")
    write(tmp_path, f"{both}/power1_input", 2500000)
    write(tmp_path, f"{both}/power1_average", 2400000)
    link_class_hwmon(tmp_path, both)
    s = HwmonSensor(SysRoot(tmp_path), NO_TOOLS)
    assert s.read() == {"power_meter_power1_avg_mw": 187500.0,
                        "ina226_power1_mw": 2500.0, "ina226_power1_avg_mw": 2400.0}


def test_hwmon_ina3221_units_and_names_with_two_chips(tmp_path):
    # AGX Orin: two INA3221 at 1-0040 and 1-0041 (drivers/hwmon/ina3221.c: in[123] bus mV, curr[123] mA,
    # in[456] shunt uV, in7 the sum of shunt voltages in uV; labels only on in[123])
    build_orin_jp5(tmp_path, board="agx")
    first = "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3"
    second = "/sys/bus/i2c/drivers/ina3221/1-0041/hwmon/hwmon4"
    for d in (first, second):
        write(tmp_path, f"{d}/name", "ina3221")
        link_class_hwmon(tmp_path, d)
    write(tmp_path, f"{first}/in4_input", 4800)  # uV across the VDD_GPU_SOC shunt
    write(tmp_path, f"{first}/in7_input", 13660)
    write(tmp_path, f"{first}/in7_label", "sum of shunt voltages")
    reading = HwmonSensor(SysRoot(tmp_path), NO_TOOLS).read()
    assert reading == {
        "ina3221_1_0040_vdd_gpu_soc_mv": 5000, "ina3221_1_0040_vdd_cpu_cv_mv": 5000,
        "ina3221_1_0040_vin_sys_5v0_mv": 5000,
        "ina3221_1_0040_vdd_gpu_soc_ma": 480, "ina3221_1_0040_vdd_cpu_cv_ma": 80,
        "ina3221_1_0040_vin_sys_5v0_ma": 806,
        "ina3221_1_0040_vdd_gpu_soc_shunt_uv": 4800,
        "ina3221_1_0040_sum_of_shunt_voltages_uv": 13660,
        # the second chip: its NC inputs left out, its one rail named by its label, not "curr2_2"
        "ina3221_1_0041_vddq_vdd2_1v8ao_mv": 5000, "ina3221_1_0041_vddq_vdd2_1v8ao_ma": 60,
    }
