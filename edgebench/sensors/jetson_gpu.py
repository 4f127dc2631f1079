"""Jetson integrated GPU: load (per-mille in <gpu>/load -> `gpu_load_pct`), devfreq clocks (Hz -> MHz), and
the `nvpmodel -q` power mode. GPU devfreq nodes are found by name (gv11b, gp10b, ga10b, gb10b, gpu, ...)."""

from __future__ import annotations

from typing import Any

from edgebench.sensors.base import Reading, Sensor
from edgebench.sensors.channels import CLOCK, CLOCK_MAX, INFO, UTILISATION, Channel
from edgebench.sensors.nvpmodel import parse_nvpmodel_q

LOAD_FILES = ("/sys/devices/gpu.0/load", "/sys/devices/platform/gpu.0/load")
DEVFREQ_GLOB = "/sys/class/devfreq/*"
GPU_NODE_NAMES = ("gv11b", "gp10b", "ga10b", "gb10b", "gm20b", "gpu")


def load_permille_to_pct(raw: int | None) -> float | None:
    return None if raw is None else raw / 10.0


def hz_to_mhz(raw: int | None) -> float | None:
    return None if raw is None else raw / 1e6


class JetsonGpuSensor(Sensor):
    name = "jetson_gpu"

    def __init__(self, root=None, runner=None, options=None) -> None:
        super().__init__(root, runner, options)
        self._power_mode: dict[str, Any] | None = None
        self._paths: dict[str, str | None] = {}

    def _load_file(self) -> str | None:
        if "load" not in self._paths:
            self._paths["load"] = self._find_load_file()
        return self._paths["load"]

    def _devfreq(self) -> str | None:
        if "devfreq" not in self._paths:
            self._paths["devfreq"] = self._find_devfreq()
        return self._paths["devfreq"]

    def _find_load_file(self) -> str | None:
        return next((f for f in LOAD_FILES if self.root.exists(f)), None)

    def _find_devfreq(self) -> str | None:
        for node in self.root.glob(DEVFREQ_GLOB):
            base = node.rsplit("/", 1)[-1]
            of_name = self.root.read_str(f"{node}/device/of_node/name") or ""
            if (
                of_name in GPU_NODE_NAMES
                or any(n in base for n in GPU_NODE_NAMES)
                or base.startswith("gpu-gpc")
            ):
                return node
        return None

    def available(self) -> str | None:
        if self._load_file() is None and self._devfreq() is None and not self.runner.which("nvpmodel"):
            return f"missing file: {LOAD_FILES[0]}, no GPU node under {DEVFREQ_GLOB}, no nvpmodel"
        return None

    def read(self) -> Reading:
        out: Reading = {}
        load = self._load_file()
        if load is not None:
            out["gpu_load_pct"] = load_permille_to_pct(self.root.read_int(load))
        node = self._devfreq()
        if node is not None:
            out["gpu_cur_mhz"] = hz_to_mhz(self.root.read_int(f"{node}/cur_freq"))
            out["gpu_max_mhz"] = hz_to_mhz(self.root.read_int(f"{node}/max_freq"))
        if self.runner.which("nvpmodel"):
            out["power_mode"] = self.power_mode()["name"]
        return out

    def channels(self) -> list[Channel]:
        out = []
        if self._load_file() is not None:
            out.append(Channel("gpu_load_pct", UTILISATION, "%"))
        if self._devfreq() is not None:
            out += [Channel("gpu_cur_mhz", CLOCK, "MHz"), Channel("gpu_max_mhz", CLOCK_MAX, "MHz", of="gpu_cur_mhz")]
        if self.runner.which("nvpmodel"):
            out.append(Channel("power_mode", INFO, ""))
        return out

    def power_mode(self) -> dict[str, Any]:
        if self._power_mode is None:
            if not self.runner.which("nvpmodel"):
                self._power_mode = {"name": None, "id": None, "reason": "command not found: nvpmodel"}
            else:
                try:
                    mode = parse_nvpmodel_q(self.runner.run(["nvpmodel", "-q"]))
                    self._power_mode = {
                        "name": mode.name if mode else None,
                        "id": mode.mode_id if mode else None,
                        "reason": None,
                    }
                except Exception as exc:  # noqa: BLE001 - recorded, not fatal
                    self._power_mode = {"name": None, "id": None, "reason": f"nvpmodel -q failed: {exc}"}
        return self._power_mode

    def meta(self) -> dict[str, Any]:
        node = self._devfreq()
        return {
            "devfreq": node,
            "load_file": self._load_file(),
            "power_mode": self.power_mode(),
            "gpu_max_mhz": hz_to_mhz(self.root.read_int(f"{node}/max_freq")) if node else None,
        }
