"""The seams every sensor reads through: an injected filesystem root, a command runner, the Sensor base.

Nothing here knows a device. Tests (and users debugging a device) point `SysRoot` at a copied tree and give
sensors a `ReplayRunner` fed with recorded tool output.
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Dict, Optional, Protocol, Tuple, Union

from edgebench.sensors.channels import Channel
from edgebench.sensors.options import Option

# spelled with typing's names: evaluated at import, and the device agent runs on Python 3.8
Value = Optional[Union[float, int, str, bool]]
Reading = Dict[str, Value]


class RootOnlyError(PermissionError):
    """A file exists but only root may read it (EACCES): reported as "root-only", never as a 0 reading."""


class CommandNotFoundError(FileNotFoundError):
    """An external tool (tegrastats, vcgencmd, nvpmodel, nvidia-smi) is not on this device."""


class SysRoot:
    """All reads of /sys, /proc, /dev and /etc go through here; `root` replaces "/" (default: live system)."""

    def __init__(self, root: str | Path = "/") -> None:
        self.root = Path(root)
        self._prefix = str(self.root).rstrip("/")
        self._hooked = type(self).check_readable is not SysRoot.check_readable

    def path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def check_readable(self, real: Path) -> None:
        """Hook for permission policy; the real filesystem's answer comes from open() itself."""

    def read_text(self, path: str) -> str:
        """Read a file; FileNotFoundError when missing, RootOnlyError when permission is denied.

        Plain os.open/os.read on a string path: this runs for every file of every sensor at every tick, and
        it is ~6x cheaper than Path.read_text (sysfs attributes come back in one read)."""
        real = f"{self._prefix}/{path.lstrip('/')}"
        try:
            if self._hooked:
                self.check_readable(Path(real))
            fd = os.open(real, os.O_RDONLY)
        except RootOnlyError:
            raise
        except PermissionError as exc:
            raise RootOnlyError(f"root-only: {path} (permission denied)") from exc
        try:
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(fd)
        return b"".join(chunks).decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        return self.path(path).exists()

    def glob(self, pattern: str) -> list[str]:
        """Paths (as seen from inside the root, starting with "/") matching `pattern`, sorted."""
        hits = _glob.glob(str(self.path(pattern)))
        return sorted("/" + h[len(self._prefix) :].lstrip("/") for h in hits)

    def read_str(self, path: str) -> str | None:
        """Stripped contents, or None when missing, unreadable, root-only or empty."""
        try:
            text = self.read_text(path).strip()
        except OSError:
            return None
        return text or None

    def read_int(self, path: str) -> int | None:
        text = self.read_str(path)
        if text is None:
            return None
        try:
            return int(text.split()[0])
        except ValueError:
            return None

    def unreadable_reason(self, path: str) -> str | None:
        """None when `path` can be read, else why: "missing file ...", "root-only ...", "unreadable ..."."""
        try:
            self.read_text(path)
        except RootOnlyError:
            return f"root-only: {path} (permission denied)"
        except FileNotFoundError:
            return f"missing file: {path}"
        except OSError as exc:
            return f"unreadable: {path} ({exc.strerror or exc})"
        return None


class LineStream(Protocol):
    """Lines of a tool that keeps printing. The iteration ends when the tool stops (or close() is called);
    ``end_reason()`` then says why, e.g. "exited with status 1: <its last stderr line>"."""

    def __iter__(self) -> Iterator[str]: ...

    def close(self) -> None: ...

    def end_reason(self) -> str: ...


class CommandRunner(Protocol):
    def which(self, tool: str) -> bool: ...

    def run(self, argv: list[str]) -> str: ...

    def stream(self, argv: list[str]) -> LineStream: ...


class _ProcessStream:
    def __init__(self, argv: list[str]) -> None:
        # stderr goes to a file, not a pipe: nobody reads it while the tool runs, and a full pipe would block it
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=self._stderr, text=True, bufsize=1
            )
        except FileNotFoundError as exc:
            self._stderr.close()
            raise CommandNotFoundError(f"command not found: {argv[0]}") from exc

    def __iter__(self) -> Iterator[str]:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            yield line.rstrip("\n")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()

    def end_reason(self) -> str:
        """How the tool ended: its exit status (or signal) and the last line it wrote to stderr."""
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "closed its output but is still running"
        how = f"exited with status {code}" if code >= 0 else f"killed by signal {-code}"
        try:
            self._stderr.seek(0)
            last = self._stderr.read().decode("utf-8", errors="replace").strip().splitlines()
        except (OSError, ValueError):  # closed meanwhile
            last = []
        return f"{how}: {last[-1]}" if last else how


class SubprocessRunner:
    """Runs real tools. `run` times out after `timeout_s`; errors name the tool."""

    def __init__(self, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s

    def which(self, tool: str) -> bool:
        return shutil.which(tool) is not None

    def run(self, argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s, check=False)
        except FileNotFoundError as exc:
            raise CommandNotFoundError(f"command not found: {argv[0]}") from exc
        if done.returncode != 0:
            msg = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {msg[0] if msg else ''}")
        return done.stdout

    def stream(self, argv: list[str]) -> LineStream:
        return _ProcessStream(argv)


def recorded_lines(path: str | Path) -> list[str]:
    """The sample lines of a recording: blank lines and lines starting with '#' are skipped."""
    lines = Path(path).read_text().splitlines()
    return [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


class _ReplayStream:
    def __init__(self, lines: list[str], line_period_s: float, sleep: Callable[[float], None] | None) -> None:
        self._lines = lines
        self._period_s = line_period_s
        self._sleep = sleep
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[str]:
        for i, line in enumerate(self._lines):
            if self._closed.is_set():
                return
            if i and self._period_s > 0:
                if self._sleep is None:
                    self._closed.wait(self._period_s)
                else:
                    self._sleep(self._period_s)
                if self._closed.is_set():
                    return
            yield line

    def close(self) -> None:
        self._closed.set()

    def end_reason(self) -> str:
        return f"the recording ended ({len(self._lines)} lines)"


class ReplayRunner:
    """Feeds recorded output instead of running tools: `recordings` maps a tool name to a file.

    `run(argv)` returns every sample line of the tool's recording (parsers pick what they asked for);
    `stream(argv)` yields the lines one by one, `line_period_s` apart. Tools without a recording go to
    `fallback` (None: "command not found").
    """

    def __init__(
        self,
        recordings: Mapping[str, str | Path],
        line_period_s: float = 0.0,
        fallback: CommandRunner | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.recordings = {tool: Path(p) for tool, p in recordings.items()}
        self.line_period_s = line_period_s
        self.fallback = fallback
        self._sleep = sleep
        for tool, p in self.recordings.items():
            if not p.is_file():
                raise FileNotFoundError(f"replay recording for {tool} not found: {p}")

    def _recording(self, argv: list[str]) -> Path | None:
        return self.recordings.get(Path(argv[0]).name)

    def which(self, tool: str) -> bool:
        if tool in self.recordings:
            return True
        return self.fallback.which(tool) if self.fallback is not None else False

    def run(self, argv: list[str]) -> str:
        rec = self._recording(argv)
        if rec is None:
            if self.fallback is None:
                raise CommandNotFoundError(f"command not found: {argv[0]} (no replay recording)")
            return self.fallback.run(argv)
        return "\n".join(recorded_lines(rec)) + "\n"

    def stream(self, argv: list[str]) -> LineStream:
        rec = self._recording(argv)
        if rec is None:
            if self.fallback is None:
                raise CommandNotFoundError(f"command not found: {argv[0]} (no replay recording)")
            return self.fallback.stream(argv)
        return _ReplayStream(recorded_lines(rec), self.line_period_s, self._sleep)


class Sensor:
    """One source of readings. Subclasses set `name` and implement `available()` and `read()`.

    `available()` returns None when the sensor can run, else the reason. `read()` returns one sample:
    channel name (with a unit suffix) -> value; a missing reading is None. `channels()` declares what each
    channel means (its kind and unit: edgebench.sensors.channels), which is all the analysis knows of it;
    `meta()` returns other constant facts for the record (zones, paths, which rail is the total). The sampler
    stores the declarations under the meta's "channels" key.
    `OPTIONS` lists the options a profile may give it (``[sensors.options.NAME]``), checked when the profile
    loads; every sensor also takes ``root`` (its own filesystem root).
    """

    name: str = ""
    streaming: bool = False
    OPTIONS: Tuple[Option, ...] = ()

    def __init__(
        self,
        root: SysRoot | None = None,
        runner: CommandRunner | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.root = root if root is not None else SysRoot()
        self.runner: CommandRunner = runner if runner is not None else SubprocessRunner()
        self.options: dict[str, Any] = dict(options or {})

    def available(self) -> str | None:
        raise NotImplementedError

    def start(self) -> None:
        """Called once before the first read() (streaming sensors start their tool here)."""

    def read(self) -> Reading:
        raise NotImplementedError

    def channels(self) -> list[Channel]:
        """What each channel means. Called after reads (a tool's channels are known once it printed), possibly
        from another thread than read(): return a snapshot."""
        return []

    def meta(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        """Release what start() took."""


def channel_slug(name: str) -> str:
    """A channel-safe lower-case name: "VDD_CPU_GPU_CV" -> "vdd_cpu_gpu_cv", "package-0" -> "package_0"."""
    out = "".join(ch.lower() if ch.isalnum() else "_" for ch in name.strip())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_") or "unnamed"
