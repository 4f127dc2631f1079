"""Device profiles: what the device is, how it is reached, what it offers, how it is measured and prepared."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from edgebench import plugins
from edgebench.config.fields import MAX_SECONDS, MISSING, Table, check_name, load_toml
from edgebench.config.locate import locate
from edgebench.errors import ConfigError

#: bounds of a profile's values (the README's "Configuration bounds"); durations: fields.MAX_SECONDS
MAX_CORES = 1024
MAX_RAM_GB = 65_536
MAX_TDP_W = 10_000
MAX_PRICE_USD = 10_000_000
#: sensor sampling period: 1 ms .. 1 min
MAX_PERIOD_MS = 60_000
#: the sensors' idle window before each case (it gives idle power): up to an hour
MAX_IDLE_SECONDS = 3600.0
#: cool-down temperatures, degrees C
TEMP_RANGE_C = (-40.0, 150.0)


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
            cores=table.integer("cores", None, 1, MAX_CORES),
            ram_gb=table.number("ram_gb", None, maximum=MAX_RAM_GB, above=0),
            accelerator=table.get("accelerator", str, ""),
            os=table.get("os", str, ""),
            tdp_w=table.number("tdp_w", None, maximum=MAX_TDP_W, above=0),
            price_usd=table.number("price_usd", None, minimum=0, maximum=MAX_PRICE_USD),
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
        expected = table.strings("expected", ["psutil"])
        known = plugins.names("edgebench.sensors")
        for index, item in enumerate(expected):  # a sensor, or one of its channels ("thermal.cpu_c")
            if item.split(".", 1)[0] not in known:
                raise ConfigError(table.source, f"{table.key('expected')}[{index}]",
                                  f"unknown sensor {item.split('.', 1)[0]!r} (known: {', '.join(known)})")
        options = table.get("options", dict, {})
        for sensor, sensor_options in options.items():
            if not isinstance(sensor_options, dict):
                raise ConfigError(table.source, f"{table.key('options')}.{sensor}",
                                  f"expected a table of the {sensor} sensor's options, got {sensor_options!r}")
            if sensor not in known:
                raise ConfigError(table.source, f"{table.key('options')}.{sensor}",
                                  f"options of an unknown sensor {sensor!r} (known: {', '.join(known)})")
        for sensor in dict.fromkeys([*(e.split(".", 1)[0] for e in expected), *options]):
            check_sensor_options(Table(options.get(sensor, {}), table.source, f"{table.key('options')}.{sensor}"),
                                 sensor)
        config = cls(
            expected=tuple(expected),
            period_ms=table.integer("period_ms", 100, 1, MAX_PERIOD_MS),
            idle_seconds=table.seconds("idle_seconds", 0.0, maximum=MAX_IDLE_SECONDS),
            total_power_channel=table.get("total_power_channel", str, None),
            root=table.get("root", str, "/"),
            options={k: dict(v) for k, v in options.items()},
        )
        table.done()
        return config


def check_sensor_options(table: Table, sensor: str) -> None:
    """The options of one sensor against the schema it declares (its class's OPTIONS): unknown key, wrong type,
    out of bounds or a required one missing is one line naming the file and key. A sensor whose module cannot be
    imported here is not checked: the run says why it is unavailable."""
    from edgebench.sensors.options import option_table

    try:
        schema = option_table(plugins.load("edgebench.sensors", sensor).OPTIONS)
    except Exception:  # noqa: BLE001 - a plugin that does not load is reported when sampling, per case
        return
    for option in schema.values():
        default = MISSING if option.required else None
        if option.type == "int":
            table.integer(option.name, default, _bound(option.minimum), _bound(option.maximum))
        elif option.type == "number":
            table.number(option.name, default, option.minimum, option.maximum)
        elif option.type == "bool":
            table.get(option.name, bool, default)
        elif option.type == "strings":
            table.strings(option.name, default)
        else:
            table.string(option.name, default, choices=option.choices or None)
    table.done()


def _bound(value: float | None) -> int | None:
    return None if value is None else int(value)


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
            max_temp_c=table.number("max_temp_c", None, *TEMP_RANGE_C),
            stable_delta_c=table.number("stable_delta_c", None, maximum=50.0, above=0),
            timeout_s=table.seconds("timeout_s", 0.0, maximum=MAX_SECONDS),
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


def _parse_offered(table: Table) -> dict[str, Any]:
    """``[backends.NAME]``: what the device offers for a backend (``providers``, ``delegates``: names)."""
    offered = {}
    for key in ("providers", "delegates"):
        if table.has(key):
            offered[key] = table.strings(key)
    table.done()
    return offered


def parse_profile(data: Mapping[str, Any], path: Path) -> DeviceProfile:
    top = Table(data, str(path))
    if top.has("name"):
        name = top.safe_name("name")
    else:
        name = check_name(path.stem, str(path), "name (taken from the file name)")
    description = top.get("description", str, "")
    device = DeviceInfo.parse(top.table("device"))
    transport_table = top.table("transport")
    kind = transport_table.string("kind", "local", choices=tuple(plugins.names("edgebench.transports")))
    options = {k: v for k, v in transport_table.data.items() if k != "kind"}
    if kind == "local" and options:
        raise transport_table.error(sorted(options)[0], "unknown key (the local transport takes only kind)")
    transport = TransportConfig(kind, options, str(path))
    backends_table = top.table("backends")
    backends: dict[str, dict[str, Any]] = {}
    for backend_name in backends_table.data:
        backends[backend_name] = _parse_offered(backends_table.table(backend_name))
    backends_table.done()
    sensors = SensorsConfig.parse(top.table("sensors"))
    cooldown = CooldownConfig.parse(top.table("cooldown"))
    prepare = dict(top.table("prepare").data)
    top.done()
    from edgebench.system.ops import PrepareConfig

    PrepareConfig.parse(prepare, str(path), cooldown)  # its errors now, not after the run directory exists
    return DeviceProfile(name, path, description, device, transport, backends, sensors, cooldown, prepare)


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    path = locate(name_or_path, "device_profiles")
    return parse_profile(load_toml(path), path)
