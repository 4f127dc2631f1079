"""The serial power meter, fed through a real pseudo-terminal (os.openpty) found under the injected root, as the
meter's /dev/ttyUSB0 would be; and the README's worked example, which is this module's code exactly.

The lines are those Adafruit's INA219 example prints (adafruit/Adafruit_INA219, examples/getcurrent/getcurrent.ino:
a greeting, then per reading `Serial.print("Bus Voltage:   "); Serial.print(busvoltage); Serial.println("\\tV");`
... and a blank `Serial.println("")`); Serial.print of a float gives two decimals, println ends lines with CRLF.
The values are illustrative.
"""

from __future__ import annotations

import os
import re
import select
import time
from pathlib import Path

import pytest

from edgebench.analysis.sensor_summary import summarize_sensors
from edgebench.sensors.base import SysRoot
from edgebench.sensors.registry import load_sensor
from edgebench.sensors.sampler import Sampler
from edgebench.sensors.serial_meter import SerialMeterSensor, parse_reading_line

REPO = Path(__file__).resolve().parents[3]
GREETING = "Hello!\r\nMeasuring voltage, current and power with INA219 ...\r\n"


def getcurrent_set(bus_v: float, shunt_mv: float, current_ma: float, power_mw: float) -> str:
    return (f"Bus Voltage:   {bus_v:.2f}\tV\r\nShunt Voltage: {shunt_mv:.2f}\tmV\r\n"
            f"Current:       {current_ma:.2f}\tmA\r\nBus Power:     {power_mw:.2f}\tmW\r\n\r\n")


def read_when(sensor, ready, timeout_s=5.0):
    """read() until `ready(reading)`: the pty hands the bytes on asynchronously (the kernel's line discipline)."""
    deadline = time.monotonic() + timeout_s
    while True:
        reading = sensor.read()
        if ready(reading) or time.monotonic() > deadline:
            return reading
        time.sleep(0.005)


def wait_readable(sensor) -> None:
    select.select([sensor._fd], [], [], 5.0)


@pytest.fixture()
def meter_port(tmp_path):
    """(root, master fd): the pty's other end is <root>/dev/ttyUSB0."""
    master, slave = os.openpty()
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "ttyUSB0").symlink_to(os.ttyname(slave))
    yield tmp_path, master
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def test_parses_the_lines_of_both_example_versions():
    assert parse_reading_line("Bus Voltage:   5.04\tV") == ("bus_voltage_mv", 5040.0, "mV")
    assert parse_reading_line("Shunt Voltage: 0.52 mV") == ("shunt_voltage_mv", 0.52, "mV")
    assert parse_reading_line("Power:         26.00 mW") == ("power_mw", 26.0, "mW")
    assert parse_reading_line("Measuring voltage, current and power with INA219 ...") is None


def test_reads_complete_sets_from_a_pty_and_declares_the_total(meter_port):
    root, master = meter_port
    s = SerialMeterSensor(SysRoot(root), options={"port": "/dev/ttyUSB0", "baud": 115200})
    assert s.available() is None
    s.start()
    try:
        os.write(master, (GREETING + getcurrent_set(5.04, 52.3, 523.0, 2635.92) + "Bus Voltage:   5.0").encode())
        assert read_when(s, bool) == {"bus_voltage_mv": 5040.0, "shunt_voltage_mv": 52.3, "current_ma": 523.0,
                            "bus_power_mw": 2635.92}
        os.write(master, b"1\tV\r\n")  # the rest of a set: nothing new until its blank line
        wait_readable(s)
        assert s.read()["bus_voltage_mv"] == 5040.0
        declared = {c.name: (c.kind, c.unit, c.rank) for c in s.channels()}
        assert declared == {"bus_voltage_mv": ("rail", "mV", None), "shunt_voltage_mv": ("rail", "mV", None),
                            "current_ma": ("rail", "mA", None), "bus_power_mw": ("power_total", "mW", 5)}
        os.close(master)  # unplugged: the pty hangs up
        with pytest.raises(RuntimeError, match="ttyUSB0"):
            s.read()
    finally:
        s.close()


def test_a_silent_meter_reads_as_an_error_not_its_last_set(meter_port):
    root, master = meter_port
    s = SerialMeterSensor(SysRoot(root), options={"port": "/dev/ttyUSB0", "stale_s": 1.0})
    s.start()
    try:
        os.write(master, getcurrent_set(5.0, 10.0, 100.0, 500.0).encode())
        assert read_when(s, bool)["bus_power_mw"] == 500.0
        time.sleep(1.1)
        with pytest.raises(RuntimeError, match="no complete reading for 1 s"):
            s.read()
    finally:
        s.close()


def test_unavailable_reasons(tmp_path):
    assert "no port" in SerialMeterSensor(SysRoot(tmp_path)).available()
    assert SerialMeterSensor(SysRoot(tmp_path), options={"port": "/dev/ttyACM0"}).available() == \
        "missing file: /dev/ttyACM0"


def test_a_run_record_takes_the_meter_as_the_total(meter_port):
    """Through the sampler, as a case records it: the declarations travel in the meta, and the summary uses the
    meter's power (its rank beats every on-board source) without naming it anywhere."""
    root, master = meter_port
    meter = load_sensor("serial_meter", SysRoot(root), None, {"port": "/dev/ttyUSB0"})
    ticks = iter(range(0, 10 ** 10, 500_000_000))
    sampler = Sampler([meter], 0.5, clock_ns=lambda: next(ticks))
    sampler._open()
    for power_mw in (1000.0, 1000.0, 3000.0, 3000.0, 3000.0):
        os.write(master, getcurrent_set(5.0, 10.0, power_mw / 5, power_mw).encode())
        wait_readable(meter)
        sampler.tick()
    meter.close()
    rec = sampler.result()
    assert {"name": "bus_power_mw", "kind": "power_total", "unit": "mW", "rank": 5} in \
        rec["sensors"]["serial_meter"]["meta"]["channels"]
    rec["marks"] = [["loop_start", 0], ["loop_end", 2_000_000_000]]
    out = summarize_sensors({"latency_ns": [1_000_000] * 10, "iterations": 10, "sensors": rec})
    assert out["details"]["energy"]["channels"] == ["serial_meter.bus_power_mw"]
    # 0.5 s x (1 + 1)/2 + 0.5 x (1 + 3)/2 + 1 s x 3 W = 4.5 J over 2 s
    assert out["power_avg_w"] == 2.25


def test_the_readme_example_is_this_module():
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- serial_meter.py -->\n```python\n(.*?)```\n", readme, re.S)
    assert block is not None, "README: the worked sensor example is missing"
    assert block.group(1) == (REPO / "edgebench" / "sensors" / "serial_meter.py").read_text()
