"""What each channel of a recorded case means, read from the declarations its sensors made
(``sensors.<name>.meta.channels``, see edgebench.sensors.channels). The analysis, the plots and the reports ask
this, never the channel's name.

A record from before sensors declared their channels has none: for such a sensor (no ``channels`` in its meta)
the declarations are inferred from the channel names, in one place, edgebench.analysis.legacy_channels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edgebench.analysis.legacy_channels import infer_channels
from edgebench.sensors.channels import TRIP_POINT, Channel


@dataclass(frozen=True)
class Declared:
    sensor: str
    channel: Channel

    @property
    def key(self) -> str:
        """As the sampler stores the series: "<sensor>.<channel>"."""
        return f"{self.sensor}.{self.channel.name}"


class RecordChannels:
    """The declarations of one case: sampled channels in the record's order, then constants (trip points, hardware
    clock maxima). ``inferred`` names the sensors whose declarations were guessed from names (old records)."""

    def __init__(self, entries: Iterable[Declared], inferred: Iterable[str] = ()) -> None:
        self.entries = tuple(entries)
        self.inferred = tuple(inferred)
        self._by_key = {e.key: e for e in self.entries if e.channel.value is None}

    @classmethod
    def from_record(cls, channels: Iterable[str], sensors: Mapping[str, Any] | None = None) -> RecordChannels:
        """From a record's series names (``rec["channels"]``) and its per-sensor status (``rec["sensors"]``)."""
        sensors = sensors or {}
        keys = list(channels)
        names: dict[str, list[str]] = {}
        for key in keys:
            sensor, _, name = key.partition(".")
            names.setdefault(sensor, []).append(name)
        for sensor in sensors:
            names.setdefault(sensor, [])
        declared: dict[str, Channel] = {}
        constants: list[Declared] = []
        inferred = []
        for sensor, sensor_names in names.items():
            meta = (sensors.get(sensor) or {}).get("meta") or {}
            if "channels" in meta:
                found = [c for c in (_channel(d) for d in meta["channels"]) if c is not None]
            else:
                found = infer_channels(sensor, sensor_names, meta)
                if sensor_names:
                    inferred.append(sensor)
            for c in found:
                if c.value is None:
                    declared[f"{sensor}.{c.name}"] = c
                else:
                    constants.append(Declared(sensor, c))
        series = [Declared(k.partition(".")[0], declared[k]) for k in keys if k in declared]
        return cls([*series, *constants], inferred)

    def get(self, key: str) -> Channel | None:
        entry = self._by_key.get(key)
        return entry.channel if entry is not None else None

    def series(self, *kinds: str) -> list[Declared]:
        """The sampled channels of these kinds, in the record's order."""
        return [e for e in self.entries if e.channel.value is None and e.channel.kind in kinds]

    def constants(self, kind: str) -> list[Declared]:
        return [e for e in self.entries if e.channel.value is not None and e.channel.kind == kind]

    def trip_limits(self) -> dict[tuple[str, str], float]:
        """(sensor, temperature channel) -> that channel's lowest trip point: where throttling starts."""
        limits: dict[tuple[str, str], float] = {}
        for e in self.constants(TRIP_POINT):
            if e.channel.of is not None:
                key = (e.sensor, e.channel.of)
                limits[key] = min(float(e.channel.value or 0.0), limits.get(key, float("inf")))
        return limits

    def limits_of(self, kind: str, sensor: str, of: str) -> list[Declared]:
        """The channels of `kind` (TRIP_POINT, CLOCK_MAX) that bound `sensor`'s channel `of`."""
        return [e for e in self.entries if e.channel.kind == kind and e.sensor == sensor and e.channel.of == of]


def _channel(data: Any) -> Channel | None:
    """A stored declaration; one this edgebench cannot read (a kind or field of a newer one) means nothing here."""
    try:
        return Channel.from_json(data)
    except (TypeError, ValueError, AttributeError):
        return None
