"""Device profiles: what the device is, how it is reached, what it offers, how it is measured and prepared."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from edgebench.config.fields import Table, load_toml
from edgebench.config.locate import locate
from edgebench.errors import ConfigError


@dataclass(frozen=True)
class DeviceInfo:
    board: str = ""
    soc: str = ""
    cpu: str = ""
    cores: int | None = None
    ram_gb: float | None = None
    accelerator: str = ""
    os: str = ""
    tdp_w: float | None = None
    price_usd: float | None = None

    @classmethod
    def parse(cls, table: Table) -> DeviceInfo:
        info = cls(
            board=table.get("board", str, ""),
            soc=table.get("soc", str, ""),
            cpu=table.get("cpu", str, ""),
            cores=table.get("cores", int, None),
            ram_gb=table.number("ram_gb", None, minimum=0),
            accelerator=table.get("accelerator", str, ""),
            os=table.get("os", str, ""),
            tdp_w=table.number("tdp_w", None, minimum=0),
            price_usd=table.number("price_usd", None, minimum=0),
        )
        table.done()
        return info


@dataclass(frozen=True)
class TransportConfig:
    """``kind`` picks the transport plugin; ``options`` are validated by that plugin (it names file + key).
    ``overrides`` says which options the command line set instead of the file (``host`` -> ``--host``), so a
    message about them names the option, not the file's key."""

    kind: str = "local"
    options: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    overrides: Mapping[str, str] = field(default_factory=dict)

    def origin(self, key: str) -> str:
        """Where an option's value comes from: ``--host``, or ``[transport] host in <profile file>``."""
        return self.overrides.get(key) or f"[transport] {key} in {self.source}"


@dataclass(frozen=True)
class SensorsConfig:
    expected: tuple[str, ...] = ("psutil",)
    period_ms: int = 100
    idle_seconds: float = 0.0
    total_power_channel: str | None = None
    root: str = "/"
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, table: Table) -> SensorsConfig:
        expected = table.get("expected", list, ["psutil"])
        for index, name in enumerate(expected):
            if not isinstance(name, str):
                raise ConfigError(table.source, f"{table.key('expected')}[{index}]", "expected a string")
        options = table.get("options", dict, {})
        config = cls(
            expected=tuple(expected),
            period_ms=int(table.number("period_ms", 100, minimum=1)),
            idle_seconds=float(table.number("idle_seconds", 0.0, minimum=0)),
            total_power_channel=table.get("total_power_channel", str, None),
            root=table.get("root", str, "/"),
            options={k: dict(v) for k, v in options.items()},
        )
        table.done()
        return config


@dataclass(frozen=True)
class CooldownConfig:
    """Before each case: wait until the temperature is under ``max_temp_c`` or stable, up to a timeout."""

    max_temp_c: float | None = None
    stable_delta_c: float | None = None
    timeout_s: float = 0.0
    channel: str | None = None

    @classmethod
    def parse(cls, table: Table) -> CooldownConfig:
        config = cls(
            max_temp_c=table.number("max_temp_c", None),
            stable_delta_c=table.number("stable_delta_c", None, minimum=0),
            timeout_s=float(table.number("timeout_s", 0.0, minimum=0)),
            channel=table.get("channel", str, None),
        )
        table.done()
        return config


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    path: Path
    description: str
    device: DeviceInfo
    transport: TransportConfig
    #: backend name -> what the device offers for it (providers, delegates); empty = not declared
    backends: Mapping[str, Mapping[str, Any]]
    sensors: SensorsConfig
    cooldown: CooldownConfig
    #: device preparation (governor, nvpmodel, jetson_clocks, fan), validated by the system operations
    prepare: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "name": self.name,
            "path": str(self.path),
            "description": self.description,
            "device": asdict(self.device),
            "transport": {"kind": self.transport.kind, **_redact(self.transport.options),
                          **({"overrides": dict(self.transport.overrides)} if self.transport.overrides else {})},
            "backends": {k: dict(v) for k, v in self.backends.items()},
            "sensors": {**asdict(self.sensors), "expected": list(self.sensors.expected)},
            "cooldown": asdict(self.cooldown),
            "prepare": dict(self.prepare),
        }


_SECRET_KEYS = ("password", "passphrase", "secret", "token")


def _redact(options: Mapping[str, Any]) -> dict[str, Any]:
    """Passwords never reach results or logs."""
    return {k: ("***" if any(s in k.lower() for s in _SECRET_KEYS) else v) for k, v in options.items()}


def parse_profile(data: Mapping[str, Any], path: Path) -> DeviceProfile:
    top = Table(data, str(path))
    name = top.get("name", str, path.stem)
    description = top.get("description", str, "")
    device = DeviceInfo.parse(top.table("device"))
    transport_table = top.table("transport")
    kind = transport_table.get("kind", str, "local")
    options = {k: v for k, v in transport_table.data.items() if k != "kind"}
    transport = TransportConfig(kind, options, str(path))
    backends_table = top.table("backends")
    backends: dict[str, dict[str, Any]] = {}
    for backend_name in backends_table.data:
        backends[backend_name] = dict(backends_table.table(backend_name).data)
    backends_table.done()
    sensors = SensorsConfig.parse(top.table("sensors"))
    cooldown = CooldownConfig.parse(top.table("cooldown"))
    prepare = dict(top.table("prepare").data)
    top.done()
    return DeviceProfile(name, path, description, device, transport, backends, sensors, cooldown, prepare)


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    path = locate(name_or_path, "device_profiles")
    return parse_profile(load_toml(path), path)
