"""What a sensor's channels mean: each sensor declares, per channel, its kind and unit (and, for some kinds, what it
bounds or how it signals), so the analysis, the cool-down and the plots read meaning from the declaration instead
of guessing it from the channel's name. The sampler stores the declarations in the record beside the samples
(``sensors.<name>.meta.channels``).

This module imports nothing from edgebench: it runs on the device (Python 3.8) and in the analysis alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

# kinds
POWER_TOTAL = "power_total"  # the power of a whole device, board or GPU; `rank` says how good a total it is
RAIL = "rail"  # one supply rail or input of a board: its power, voltage or current
ENERGY_COUNTER = "energy_counter"  # cumulative energy (deltas give energy); may wrap at `wraps_at`
TEMPERATURE = "temperature"
TRIP_POINT = "trip_point"  # a constant `value`: the temperature at which `of` throttles (passive, hot, critical)
CLOCK = "clock"
CLOCK_MAX = "clock_max"  # the maximum of the clock `of`: a sampled series, or a constant `value`
THROTTLE_FLAG = "throttle_flag"  # says the device throttles; `signal` says how
UTILISATION = "utilisation"
MEMORY = "memory"
INFO = "info"  # a reading the analysis does not interpret (a power mode, a raw register, a clock floor)
KINDS = (POWER_TOTAL, RAIL, ENERGY_COUNTER, TEMPERATURE, TRIP_POINT, CLOCK, CLOCK_MAX, THROTTLE_FLAG, UTILISATION,
         MEMORY, INFO)

# how a throttle flag signals
LEVEL = "level"  # on (True) while the device throttles
STICKY = "sticky"  # set since boot: it counts when it goes from clear to set during the window
COUNTER = "counter"  # a count of throttle events since boot: it counts when it increases
BITMASK = "bitmask"  # an integer whose `bits` marked "slowdown" say the device throttles
SIGNALS = (LEVEL, STICKY, COUNTER, BITMASK)
SLOWDOWN = "slowdown"

# How good a stand-in for the device's total power a channel is (`rank`, lower is better): the summary takes the
# best one that has readings. An external meter sees everything the device draws; then energy counters (a delta is
# exact), widest first; then sampled power, widest first; a tool printing what a file also gives comes after it.
RANK_EXTERNAL_POWER = 5  # a meter on the device's supply (a USB power meter)
RANK_PLATFORM_ENERGY = 10  # the whole platform's counter (RAPL psys)
RANK_PACKAGE_ENERGY = 20  # CPU package counters, summed over the packages (RAPL package-N)
RANK_GPU_ENERGY = 30  # a GPU's counter (NVML)
RANK_SOCKET_ENERGY = 40  # a CPU socket's counter from hwmon (amd_energy)
RANK_CHIP_ENERGY = 50  # any other hwmon energy counter
RANK_BOARD_POWER = 60  # a board's input power from its monitor chip (Jetson INA3221)
RANK_BOARD_POWER_TOOL = 65  # the same, printed by a tool (tegrastats)
RANK_PMIC_POWER = 70  # the sum of a PMIC's rails (Raspberry Pi 5)
RANK_GPU_POWER = 80  # a GPU's power draw (NVML)
RANK_GPU_POWER_TOOL = 85  # the same, printed by a tool (nvidia-smi)
RANK_CHIP_POWER = 90  # any other hwmon power reading

#: power units -> factor to mW; energy units -> factor to mJ
POWER_TO_MW = {"mW": 1.0, "uW": 1e-3, "W": 1e3}
ENERGY_TO_MJ = {"uJ": 1e-3, "mJ": 1.0, "J": 1e3}
#: clock units -> factor to MHz
CLOCK_TO_MHZ = {"MHz": 1.0, "kHz": 1e-3, "Hz": 1e-6}


@dataclass(frozen=True)
class Channel:
    """One channel of a sensor: ``name`` as in its readings (a constant such as a trip point has a name too but no
    series), its ``kind`` and ``unit`` ("mW", "uJ", "C", "kHz", "%", "bytes", "bool", "count", ...)."""

    name: str
    kind: str
    unit: str
    #: TRIP_POINT, CLOCK_MAX: the channel this one is the limit of
    of: Optional[str] = None
    #: a constant (a trip point's temperature, a hardware clock maximum) instead of a sampled series
    value: Optional[float] = None
    #: POWER_TOTAL, ENERGY_COUNTER: how good a stand-in for the device's total it is (RANK_*); None: never the total
    rank: Optional[int] = None
    #: the total is the sum of this sensor's channels of the same rank (one counter per CPU package)
    summed: bool = False
    #: ENERGY_COUNTER: the largest value before the counter wraps to 0
    wraps_at: Optional[int] = None
    #: THROTTLE_FLAG: how it signals (LEVEL, STICKY, COUNTER, BITMASK)
    signal: Optional[str] = None
    #: BITMASK: (bit, name, meaning): meaning SLOWDOWN marks throttling, other text a note shown when the bit is set
    bits: Tuple[Tuple[int, str, str], ...] = ()
    #: CLOCK: clocks of one group (the cores of a CPU) are judged together, by the fastest of them
    group: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"channel {self.name!r}: unknown kind {self.kind!r} (known: {', '.join(KINDS)})")
        if self.kind == THROTTLE_FLAG and self.signal not in SIGNALS:
            raise ValueError(f"channel {self.name!r}: a throttle flag needs signal, one of {', '.join(SIGNALS)}")

    @property
    def slowdown_mask(self) -> int:
        mask = 0
        for bit, _, meaning in self.bits:
            if meaning == SLOWDOWN:
                mask |= bit
        return mask

    def to_json(self) -> Dict[str, Any]:
        """The declaration as stored in a record: name, kind and unit, and the other fields that are set."""
        out: Dict[str, Any] = {"name": self.name, "kind": self.kind, "unit": self.unit}
        for key in ("of", "value", "rank", "wraps_at", "signal", "group"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.summed:
            out["summed"] = True
        if self.bits:
            out["bits"] = [list(b) for b in self.bits]
        return out

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Channel:
        fields = dict(data)
        fields["bits"] = tuple((int(b), str(n), str(m)) for b, n, m in fields.get("bits") or ())
        return cls(**fields)
