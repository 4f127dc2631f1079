"""The HTML report of a run with sensor series, rendered by a real headless Chromium (Debian's package).

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages ended by NUL on
file descriptors 3 and 4), so no websocket library is needed. The test collects console messages, uncaught
exceptions and log entries (failed loads, CSP) while the page loads at a phone's width, checks that nothing
overflows sideways, and saves a full-page screenshot under the test's temp dir.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from edgebench.reporting.html import render_html
from edgebench.reporting.model import build_model
from tests.conftest import need_tool
from tests.run_fixtures import hardware_runs

pytestmark = pytest.mark.slow

PHONE_WIDTH = 412  # CSS pixels of a common Android phone
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome"))
                 if p), None)


class Chromium:
    """A headless Chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, profile_dir: Path) -> None:
        assert CHROMIUM is not None
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        read_fd, write_fd = 3, 4

        def setup() -> None:  # runs in the child: put the pipe ends on fds 3 and 4 (via fds >= 10, no clash)
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, read_fd)
            os.dup2(high_w, write_fd)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             f"--user-data-dir={profile_dir}", "about:blank"],
            preexec_fn=setup, pass_fds=(read_fd, write_fd), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                errors = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"chromium closed the pipe: {errors[-2000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, session: bool = True,
             timeout: float = 60.0) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def open_page(self, width: int, height: int) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(domain)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})

    def load(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        return self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and error log entries seen so far."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                words = " ".join(str(a.get("value")) for a in params.get("args", []))
                out.append(f"console.{params['type']}: {words}")
            elif method == "Runtime.exceptionThrown":
                out.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                out.append(f"log {params['entry'].get('source')}: {params['entry'].get('text')}")
        return out

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:  # noqa: BLE001 - it may close the pipe before it answers
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture
def chromium(tmp_path):
    if CHROMIUM is None:
        need_tool("chromium is not installed (CI installs Debian's chromium package)")
    browser = Chromium(tmp_path / "chromium-profile")
    try:
        browser.open_page(PHONE_WIDTH, 915)
        yield browser
    finally:
        browser.close()


def test_harness_sees_console_errors(chromium, tmp_path):
    """The check below would be worthless if errors went unseen: a page that logs one must be caught."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('boom')</script>"
                    "<img src='missing.png'></body></html>")
    chromium.load(page.as_uri())
    time.sleep(0.3)
    chromium.send("Runtime.evaluate", {"expression": "1"})  # drain events
    problems = chromium.problems()
    assert any("boom" in p for p in problems), problems


def test_html_report_with_sensors_renders_without_console_errors(chromium, tmp_path):
    runs = hardware_runs(tmp_path / "runs")
    html_path = tmp_path / "report.html"
    html_path.write_text(render_html(build_model(runs, by="device")), encoding="utf-8")
    chromium.load(html_path.as_uri())
    facts = chromium.evaluate(
        "JSON.stringify({title: document.title, svgs: document.querySelectorAll('svg.plot').length, "
        "timelines: document.querySelectorAll('details').length, tables: document.querySelectorAll('table').length, "
        "width: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), "
        "images: Array.from(document.images).filter(i => !i.complete).length})")
    shot = tmp_path / "report-phone.png"
    chromium.screenshot(shot)
    chromium.send("Runtime.evaluate", {"expression": "1"})
    facts = json.loads(facts)
    assert chromium.problems() == []
    assert facts["title"] == "edgebench report"
    assert facts["svgs"] >= 5  # pareto, throughput, distribution, 3 sensor timelines
    assert facts["timelines"] == 3 and facts["tables"] >= 5
    assert facts["width"] <= PHONE_WIDTH, "the page is wider than a phone (tables must scroll inside their box)"
    assert shot.stat().st_size > 20_000
    print(f"\nscreenshot: {shot}")


#: in the page at a phone's width: (1) how far any element reaches right, outside the boxes that scroll sideways
#: (tables); (2) every plot's text as drawn: its size in px (font size times the SVG's scale on screen) and
#: whether it lies inside its plot (a clipped label would not)
LAYOUT_PROBE = """JSON.stringify((() => {
  const outside = Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('.scroll'))
    .map(e => ({tag: e.tagName, cls: String(e.className && e.className.baseVal !== undefined ? e.className.baseVal
                                                            : e.className), right: e.getBoundingClientRect().right}));
  const texts = [];
  for (const svg of document.querySelectorAll('svg.plot')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      const m = t.getScreenCTM();
      const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
      const r = t.getBoundingClientRect();
      texts.push({text: t.textContent.slice(0, 40), px: px,
                  inside: r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1
                          && r.bottom <= box.bottom + 1});
    }
  }
  return {page: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
          viewport: window.innerWidth, outside: outside, texts: texts,
          plots: document.querySelectorAll('svg.plot').length};
})())"""


def test_html_report_fits_a_phone_and_its_plot_text_is_readable(chromium, tmp_path):
    """At 412 px nothing reaches past the screen's edge (tables scroll in their own box), every plot's text is
    drawn at 10 px or more and lies inside its plot: the farm's devices, the budget's choice and every plot."""
    from edgebench.reporting.model import Budget
    from tests.run_fixtures import farm_runs

    runs = [*hardware_runs(tmp_path / "runs"), farm_runs(tmp_path / "farm")]
    html_path = tmp_path / "report.html"
    html_path.write_text(render_html(build_model(runs, by="device", budget=Budget(5.0))), encoding="utf-8")
    chromium.load(html_path.as_uri())
    facts = json.loads(chromium.evaluate(LAYOUT_PROBE))
    chromium.screenshot(tmp_path / "report-phone.png")
    assert facts["viewport"] == PHONE_WIDTH and facts["page"] <= PHONE_WIDTH
    wide = [e for e in facts["outside"] if e["right"] > PHONE_WIDTH + 0.5]
    assert wide == [], f"past the right edge at {PHONE_WIDTH} px: {wide[:5]}"
    assert facts["plots"] >= 6 and len(facts["texts"]) > 100
    small = [t for t in facts["texts"] if t["px"] < 10]
    assert small == [], f"plot text under 10 px at {PHONE_WIDTH} px: {small[:5]}"
    clipped = [t for t in facts["texts"] if not t["inside"]]
    assert clipped == [], f"plot text outside its plot: {clipped[:5]}"
    print(f"\nsmallest plot text {min(t['px'] for t in facts['texts']):.1f} px; screenshot {tmp_path}")
