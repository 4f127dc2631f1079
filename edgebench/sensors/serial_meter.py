"""serial_meter: a power meter that prints its readings as text on a serial port, such as an INA219 breakout on a
microcontroller running Adafruit's `getcurrent` example (`Bus Voltage:   5.04 V`, `Current:       5.20 mA`,
`Bus Power:     26.00 mW`, a blank line after each set). It sits on the device's supply: it sees everything the
device draws, so its power is the best total there is.

options: port (the device path, e.g. "/dev/ttyUSB0"), baud (default 115200), stale_s (a set older than this reads
as an error, default 5). The port is opened under the injected root, so a test can hand it a pseudo-terminal.
"""

from __future__ import annotations

import errno
import os
import re
import time
from typing import Any

from edgebench.sensors.base import Reading, Sensor, channel_slug
from edgebench.sensors.channels import POWER_TOTAL, RAIL, RANK_EXTERNAL_POWER, Channel
from edgebench.sensors.options import Option

_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(-?\d+(?:\.\d+)?)\s*(mV|V|mA|A|mW|W)\s*$")
#: unit as printed -> (channel suffix and unit, scale)
_UNITS = {"V": ("mV", 1000.0), "mV": ("mV", 1.0), "A": ("mA", 1000.0), "mA": ("mA", 1.0), "W": ("mW", 1000.0),
          "mW": ("mW", 1.0)}


def parse_reading_line(line: str) -> tuple[str, float, str] | None:
    """ "Bus Power:     26.00\tmW" -> ("bus_power_mw", 26.0, "mW"); None for any other line."""
    m = _LINE.match(line)
    if not m:
        return None
    unit, scale = _UNITS[m.group(3)]
    return f"{channel_slug(m.group(1))}_{unit.lower()}", float(m.group(2)) * scale, unit


class SerialMeterSensor(Sensor):
    name = "serial_meter"
    OPTIONS = (
        Option("port", "str", "the meter's serial device, e.g. /dev/ttyUSB0", required=True),
        Option("baud", "int", "the port's speed (default 115200)", minimum=50, maximum=4_000_000),
        Option("stale_s", "number", "a reading older than this is an error (default 5)", minimum=0.01, maximum=3600),
    )

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._fd: int | None = None
        self._tty = False
        self._pending = b""
        self._block: Reading = {}
        self._latest: Reading = {}
        self._units: dict[str, str] = {}
        self._latest_at = time.monotonic()

    def _path(self) -> str:
        return str(self.root.path(str(self.options.get("port", ""))))

    def available(self) -> str | None:
        port = self.options.get("port")
        if not port:
            return "no port: give [sensors.options.serial_meter] port (e.g. /dev/ttyUSB0)"
        if not os.path.exists(self._path()):
            return f"missing file: {port}"
        return None if os.access(self._path(), os.R_OK) else f"root-only: {port} (add the user to group dialout)"

    def start(self) -> None:
        self._fd = os.open(self._path(), os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        self._tty = os.isatty(self._fd)
        if self._tty:
            import termios
            import tty

            tty.setraw(self._fd)
            attrs = termios.tcgetattr(self._fd)
            attrs[4] = attrs[5] = getattr(termios, f"B{int(self.options.get('baud', 115200))}")
            termios.tcsetattr(self._fd, termios.TCSANOW, attrs)
        self._latest_at = time.monotonic()

    def read(self) -> Reading:
        """The last complete set of lines; what arrived since the previous read is taken first."""
        assert self._fd is not None
        while True:
            try:
                chunk = os.read(self._fd, 4096)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    break
                raise RuntimeError(f"{self.options['port']}: {exc.strerror} (meter unplugged?)") from None
            if not chunk and self._tty:  # a terminal that reads end-of-file has hung up
                raise RuntimeError(f"{self.options['port']}: hung up (meter unplugged?)")
            if not chunk:
                break
            self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        for raw in lines:
            line = raw.decode("ascii", errors="replace").strip()
            parsed = parse_reading_line(line)
            if parsed is not None:
                self._block[parsed[0]] = parsed[1]
                self._units[parsed[0]] = parsed[2]
            elif not line and self._block:  # a blank line ends a set
                self._latest, self._block, self._latest_at = self._block, {}, time.monotonic()
        stale_s = float(self.options.get("stale_s", 5.0))
        if time.monotonic() - self._latest_at > stale_s:
            raise RuntimeError(f"{self.options['port']}: no complete reading for {stale_s:g} s")
        return dict(self._latest)

    def channels(self) -> list[Channel]:
        """Voltages and currents are rails; the first power of a set is the device's total, any other a rail."""
        powers = [n for n, unit in self._units.items() if unit == "mW"]
        return [Channel(n, POWER_TOTAL, "mW", rank=RANK_EXTERNAL_POWER) if powers[:1] == [n] else
                Channel(n, RAIL, unit) for n, unit in list(self._units.items())]

    def meta(self) -> dict[str, Any]:
        return {"port": self.options.get("port"), "baud": int(self.options.get("baud", 115200))}

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
