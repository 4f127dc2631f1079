"""tegrastats: a pure line parser for every known format, and a streaming sensor around it.

Formats (see tests/fixtures/sensors/README.md): TX1 legacy (`cpu [a%,b%]@f`, `GR3D x%@f`), JetPack 4
(`POM_5V_IN 2132/2132`, mW without suffix), JetPack 5 (timestamp, `VDD_IN 4963mW/4963mW`, `GR3D2_FREQ`,
`-256C` offline zones), JetPack 6 (`GR3D_FREQ 0%@[0,0]`, lower-case temps), JetPack 7 (`cur/avg/peak`),
Thor (`GR3D_FREQ @[f,f,f]`, no load). CPUs may be `off`; non-root lines lack `@MHz`. Parsed by token and
keyed by name, never by position; `NC` rails are dropped.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from edgebench.sensors.base import LineStream, Reading, Sensor, channel_slug
from edgebench.sensors.channels import (
    CLOCK,
    INFO,
    MEMORY,
    POWER_TOTAL,
    RAIL,
    RANK_BOARD_POWER_TOOL,
    TEMPERATURE,
    UTILISATION,
    Channel,
)
from edgebench.sensors.options import Option
from edgebench.sensors.rails import NOT_CONNECTED, board_total

MIB = 1024 * 1024
OFFLINE_C = -256.0
PLACEHOLDER_TEMPS = ("PMIC",)  # constant placeholders (PMIC@100C / PMIC@50C), not real temperatures

_DATE = re.compile(r"^\d\d-\d\d-\d{4}$")
_TIME = re.compile(r"^\d\d:\d\d:\d\d$")
_MEM = re.compile(r"^(\d+)/(\d+)(kB|MB|GB)")
_TEMP = re.compile(r"^([A-Za-z][\w\-]*)@(-?\d+(?:\.\d+)?)C(?:/.*)?$")
_RAIL = re.compile(r"^(\d+)(?:mW)?/(\d+)(?:mW)?(?:/(\d+)(?:mW)?)?$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_LOADFREQ = re.compile(r"^(?:(\d+)%)?(?:@(?:\[([\d,]*)\]|(\d+)))?$")
_GPU = re.compile(r"^GR3D(\d*)(?:_FREQ)?$")
_CPU_CORE = re.compile(r"^(\d+)%(?:@(\d+))?$")
_ENGINE_VAL = re.compile(r"^\d+(?:%@\d+)?$")
_LEGACY_CPUS = re.compile(r"^\[([\d%,]*)\](?:@(\d+))?$")


@dataclass(frozen=True)
class CpuCore:
    online: bool
    load_pct: int | None
    freq_mhz: int | None


@dataclass(frozen=True)
class Engine:
    """A clocked unit: GPU (GR3D_FREQ, GR3D2_FREQ), EMC, or APE/VIC/NVENC/... (frequency only)."""

    load_pct: int | None
    freqs_mhz: tuple[int, ...] = ()

    @property
    def freq_mhz(self) -> int | None:
        return max(self.freqs_mhz) if self.freqs_mhz else None


@dataclass(frozen=True)
class Rail:
    cur_mw: int
    avg_mw: int
    peak_mw: int | None = None  # JetPack 7 third value (undocumented; probably peak)


@dataclass(frozen=True)
class TegraStats:
    timestamp: str | None = None
    ram_used_mb: int | None = None
    ram_total_mb: int | None = None
    swap_used_mb: int | None = None
    swap_total_mb: int | None = None
    swap_cached_mb: int | None = None
    cpus: tuple[CpuCore, ...] = ()
    emc: Engine | None = None
    gpus: dict[str, Engine] = field(default_factory=dict)  # "GR3D_FREQ" / "GR3D2_FREQ" / legacy "GR3D"
    engines: dict[str, Engine] = field(default_factory=dict)
    temps_c: dict[str, float | None] = field(default_factory=dict)  # None = offline (-256C)
    rails: dict[str, Rail] = field(default_factory=dict)  # NC dropped
    unparsed: tuple[str, ...] = ()


def _mem(token: str) -> tuple[int, int] | None:
    m = _MEM.match(token)
    if not m:
        return None
    scale = {"kB": 1 / 1024, "MB": 1, "GB": 1024}[m.group(3)]
    return int(int(m.group(1)) * scale), int(int(m.group(2)) * scale)


def _skip_group(toks: list[str], i: int) -> tuple[int, list[str]]:
    """If toks[i] opens a "(...)" group, return the index after it and its words."""
    if i >= len(toks) or "(" not in toks[i]:
        return i, []
    words = []
    while i < len(toks):
        words.append(toks[i].strip("()"))
        if toks[i].endswith(")"):
            return i + 1, words
        i += 1
    return i, words


def _load_freq(token: str) -> Engine | None:
    m = _LOADFREQ.match(token)
    if not m or token == "":
        return None
    load = int(m.group(1)) if m.group(1) else None
    if m.group(2) is not None:
        freqs = tuple(int(f) for f in m.group(2).split(",") if f)
    elif m.group(3) is not None:
        freqs = (int(m.group(3)),)
    else:
        freqs = ()
    return Engine(load, freqs)


def _cpus(token: str) -> tuple[CpuCore, ...] | None:
    m = _LEGACY_CPUS.match(token)
    if m and "@" not in m.group(1):  # legacy: [a%,b%,...]@shared_freq
        shared = int(m.group(2)) if m.group(2) else None
        return tuple(CpuCore(True, int(p.rstrip("%")), shared) for p in m.group(1).split(",") if p)
    if not (token.startswith("[") and token.endswith("]")):
        return None
    cores = []
    for part in token[1:-1].split(","):
        if part == "off":
            cores.append(CpuCore(False, None, None))
            continue
        c = _CPU_CORE.match(part)
        if not c:
            return None
        cores.append(CpuCore(True, int(c.group(1)), int(c.group(2)) if c.group(2) else None))
    return tuple(cores)


def parse_tegrastats_line(line: str) -> TegraStats:
    """Parse one tegrastats line of any known format. Unknown tokens land in `unparsed`."""
    toks = line.split()
    out: dict[str, Any] = {"gpus": {}, "engines": {}, "temps_c": {}, "rails": {}}
    unparsed: list[str] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < n else ""
        if _DATE.match(t) and _TIME.match(nxt):
            out["timestamp"] = f"{t} {nxt}"
            i += 2
        elif t in ("RAM", "SWAP", "IRAM") and _mem(nxt):
            used, total = _mem(nxt) or (0, 0)
            i, words = _skip_group(toks, i + 1) if "(" in nxt else _skip_group(toks, i + 2)
            if t == "RAM":
                out["ram_used_mb"], out["ram_total_mb"] = used, total
            elif t == "SWAP":
                out["swap_used_mb"], out["swap_total_mb"] = used, total
                if len(words) == 2 and words[0] == "cached":
                    out["swap_cached_mb"] = (_mem(f"0/{words[1]}") or (0, 0))[1]
        elif t in ("CPU", "cpu") and _cpus(nxt) is not None:
            out["cpus"] = _cpus(nxt)
            i += 2
        elif t in ("EMC_FREQ", "EMC") and _load_freq(nxt):
            out["emc"] = _load_freq(nxt)
            i += 2
        elif _GPU.match(t) and _load_freq(nxt):
            out["gpus"][t] = _load_freq(nxt)
            i += 2
        elif t == "MTS" and nxt == "fg":
            i += 5
        elif t == "EDP" and nxt == "limit" and i + 2 < n:
            out["engines"]["EDP_limit"] = Engine(None, (int(toks[i + 2]),))
            i += 3
        elif _TEMP.match(t):
            m = _TEMP.match(t)
            assert m is not None
            value = float(m.group(2))
            out["temps_c"][m.group(1)] = None if value == OFFLINE_C else value
            i += 1
        elif _NAME.match(t) and _RAIL.match(nxt):
            r = _RAIL.match(nxt)
            assert r is not None
            if t != NOT_CONNECTED:
                name = t
                k = 2
                while name in out["rails"]:
                    name, k = f"{t}_{k}", k + 1
                out["rails"][name] = Rail(
                    int(r.group(1)), int(r.group(2)), int(r.group(3)) if r.group(3) else None
                )
            i += 2
        elif _NAME.match(t) and (nxt == "off" or _ENGINE_VAL.match(nxt)):
            if nxt == "off":
                out["engines"][t] = Engine(None, ())
            elif nxt.isdigit():
                out["engines"][t] = Engine(None, (int(nxt),))
            else:
                out["engines"][t] = _load_freq(nxt)
            i += 2
        else:
            unparsed.append(t)
            i += 1
    return TegraStats(unparsed=tuple(unparsed), **out)


def tegrastats_channels(stats: TegraStats, total_rail: str | None = None,
                        declared: dict[str, Channel] | None = None) -> tuple[Reading, str]:
    """Channels of one parsed line, and where the board total came from; `declared` gets what each one means."""
    ch: Reading = {}
    kinds: dict[str, tuple[str, str]] = {}

    def put(name: str, value: Any, kind: str, unit: str) -> None:
        ch[name] = value
        kinds[name] = (kind, unit)

    if stats.ram_used_mb is not None:
        put("ram_used_bytes", stats.ram_used_mb * MIB, MEMORY, "bytes")
        put("ram_total_bytes", stats.ram_total_mb * MIB if stats.ram_total_mb is not None else None, MEMORY, "bytes")
    if stats.swap_used_mb is not None:
        put("swap_used_bytes", stats.swap_used_mb * MIB, MEMORY, "bytes")
    for k, core in enumerate(stats.cpus):
        put(f"cpu{k}_online", core.online, INFO, "bool")
        put(f"cpu{k}_load_pct", core.load_pct, UTILISATION, "%")
        put(f"cpu{k}_mhz", core.freq_mhz, CLOCK, "MHz")
    for name, eng in stats.gpus.items():
        m = _GPU.match(name)
        prefix = f"gpu{m.group(1)}" if m else channel_slug(name)
        put(f"{prefix}_load_pct", eng.load_pct, UTILISATION, "%")
        put(f"{prefix}_mhz", eng.freq_mhz, CLOCK, "MHz")
    if stats.emc is not None:
        put("emc_load_pct", stats.emc.load_pct, UTILISATION, "%")
        put("emc_mhz", stats.emc.freq_mhz, CLOCK, "MHz")
    for name, eng in stats.engines.items():
        put(f"{channel_slug(name)}_mhz", eng.freq_mhz, CLOCK, "MHz")
    for name, temp in stats.temps_c.items():
        if name.upper() not in PLACEHOLDER_TEMPS:
            put(f"{channel_slug(name)}_c", temp, TEMPERATURE, "C")
    rails_mw = {name: float(r.cur_mw) for name, r in stats.rails.items()}
    for name, mw in rails_mw.items():
        put(f"{channel_slug(name)}_mw", mw, RAIL, "mW")
    total = board_total(rails_mw, total_rail)
    if rails_mw:
        ch["total_mw"] = total.mw
    if declared is not None:  # declared once per name: a name means the same on every line
        declared.update((name, Channel(name, kind, unit)) for name, (kind, unit) in kinds.items()
                        if name not in declared)
        if rails_mw and "total_mw" not in declared:
            declared["total_mw"] = Channel("total_mw", POWER_TOTAL, "mW", rank=RANK_BOARD_POWER_TOOL)
    return ch, total.source


class TegrastatsSensor(Sensor):
    """Runs `tegrastats --interval MS` as a stream on a background thread; read() returns the latest line.

    A tool that stops (it exited, was killed, its recording ended) is not a device that stopped changing:
    from then on read() raises, saying how it ended, so the sampler records an error and a gap (None) on
    its channels instead of the last line as if it were live.

    options: interval_ms (default 1000), total_rail (profile's total rail name or "sum").
    """

    name = "tegrastats"
    streaming = True
    OPTIONS = (
        Option("interval_ms", "int", "tegrastats --interval (default: the sampling period)", minimum=1,
               maximum=60_000),
        Option("total_rail", "str", 'the rail that is the board total, or "sum"'),
    )

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._latest: Reading = {}
        self._declared: dict[str, Channel] = {}
        self._total_source: str | None = None
        self._lock = threading.Lock()
        self._stream: LineStream | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self.lines_seen = 0
        self.error: str | None = None

    def available(self) -> str | None:
        return None if self.runner.which("tegrastats") else "command not found: tegrastats"

    def start(self) -> None:
        interval = int(self.options.get("interval_ms", 1000))
        self._stream = self.runner.stream(["tegrastats", "--interval", str(interval)])
        self._thread = threading.Thread(target=self._pump, name="edgebench-tegrastats", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._stream is not None
        try:
            for line in self._stream:
                if not line.strip():
                    continue
                declared = dict(self._declared)
                channels, source = tegrastats_channels(
                    parse_tegrastats_line(line), self.options.get("total_rail"), declared
                )
                with self._lock:
                    self._latest, self._total_source, self._declared = channels, source, declared
                    self.lines_seen += 1
        except Exception as exc:  # noqa: BLE001 - surfaced through read()
            self.error = f"tegrastats stream failed after {self.lines_seen} line(s): {exc}"
            return
        if not self._closing:
            ended = getattr(self._stream, "end_reason", None)
            reason = ended() if ended is not None else "its output ended"
            self.error = f"tegrastats stopped after {self.lines_seen} line(s): {reason}"

    def read(self) -> Reading:
        if self.error is not None:
            raise RuntimeError(self.error)
        with self._lock:
            return dict(self._latest)

    def channels(self) -> list[Channel]:
        with self._lock:
            return list(self._declared.values())

    def meta(self) -> dict[str, Any]:
        return {"total_source": self._total_source, "period_ms": int(self.options.get("interval_ms", 1000))}

    def close(self) -> None:
        self._closing = True
        if self._stream is not None:
            self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
