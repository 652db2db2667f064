"""The tear sheet in a real browser: headless Chromium, driven over the DevTools protocol.

Chromium (the Debian package, ``/usr/bin/chromium``) loads the self-contained HTML file with the
network off; the test collects every uncaught exception (``Runtime.exceptionThrown``), console
error and browser log error, and asks the DOM whether each plotly graph div drew its SVG. Skipped
when Chromium is not installed, except in CI (``BARTER_CI=1``), where that fails.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

import barter
from barter.results import tear_sheet
from barter.results.tearsheet import DIV_IDS

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
LOAD_TIMEOUT_S = 60.0
SETTLE_S = 3.0  # after the load event, how long a chart may take to draw

# Per graph div: did plotly draw (an SVG with marks in it)?
RENDERED_JS = """JSON.stringify(Array.from(document.querySelectorAll('div.plotly-graph-div')).map(d => ({
  id: d.id,
  plotly: d.classList.contains('js-plotly-plot'),
  svgs: d.querySelectorAll('svg.main-svg').length,
  marks: d.querySelectorAll('path, rect.nsewdrag, image').length,
  width: d.getBoundingClientRect().width,
})))"""


def chromium() -> str:
    """Path of a Chromium binary; skips (fails with BARTER_CI=1) when there is none."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    message = f"no headless browser: none of {', '.join(CHROMIUM_NAMES)} on PATH (apt-get install chromium)"
    if os.environ.get("BARTER_CI"):
        pytest.fail(message)
    pytest.skip(message)


class Browser:
    """A headless Chromium process and the DevTools websocket address it printed."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ws_url = self._devtools_url()

    def _devtools_url(self) -> str:
        assert self.proc.stderr is not None
        seen = []
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            seen.append(line)
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                return found.group(1)
        self.close()
        raise AssertionError("Chromium did not start its DevTools server:\n" + "".join(seen[-20:]))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Page:
    """One tab over a flattened DevTools session: commands and the events it collected."""

    def __init__(self, ws: Any, session: str) -> None:
        self.ws, self.session = ws, session
        self.next_id = 1000
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params,
                                       "sessionId": self.session}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method} failed: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Uncaught exceptions, console.error calls and error-level browser log entries."""
        out = []
        for e in self.events:
            method, p = e["method"], e.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                out.append(details.get("exception", {}).get("description") or details.get("text", "?"))
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log: {p['entry']['text']} ({p['entry'].get('url', '')})")
        return out


async def render(ws_url: str, html_file: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Load ``html_file`` offline and wait for the plots; (per graph div facts, errors)."""
    from websockets.asyncio.client import connect

    async with connect(ws_url, max_size=None) as ws:
        await ws.send(json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}}))
        target = await _reply(ws, 1)
        await ws.send(json.dumps({"id": 2, "method": "Target.attachToTarget",
                                  "params": {"targetId": target["targetId"], "flatten": True}}))
        page = Page(ws, (await _reply(ws, 2))["sessionId"])
        for domain in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
            await page.call(domain)
        await page.call("Network.emulateNetworkConditions", offline=True, latency=0,
                        downloadThroughput=-1, uploadThroughput=-1)  # self-contained: no network needed
        await page.call("Page.navigate", url=html_file.resolve().as_uri())
        charts: list[dict[str, Any]] = []
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        loaded_at = None
        while time.monotonic() < deadline:
            if loaded_at is None and await page.evaluate("document.readyState") == "complete":
                loaded_at = time.monotonic()
            charts = json.loads(await page.evaluate(RENDERED_JS) or "[]")
            if loaded_at is not None and (all(c["svgs"] for c in charts) or time.monotonic() > loaded_at + SETTLE_S):
                break  # drawn, or given up on: plotly draws synchronously once the page has loaded
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # late errors (resize handlers, timers)
        await page.evaluate("1")  # collect the events that arrived meanwhile
        return charts, page.errors()


async def _reply(ws: Any, message_id: int) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.recv())
        if message.get("id") == message_id:
            if "error" in message:
                raise AssertionError(f"DevTools command {message_id} failed: {message['error']}")
            return message["result"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def browser() -> Any:
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="barter-chromium-") as profile:
        b = Browser(binary, Path(profile))
        try:
            yield b
        finally:
            b.close()


def load(browser: Browser, html_file: Path) -> tuple[list[dict[str, Any]], list[str]]:
    return asyncio.run(render(browser.ws_url, html_file))


def test_tear_sheet_renders_every_chart_without_errors(browser: Browser, synthetic: barter.BacktestResult,
                                                        tmp_path: Path) -> None:
    charts, errors = load(browser, tear_sheet(synthetic, tmp_path / "report.html"))
    assert errors == []
    assert [c["id"] for c in charts] == list(DIV_IDS)
    for chart in charts:
        assert chart["plotly"], chart  # Plotly.newPlot ran on the div
        assert chart["svgs"] >= 1 and chart["marks"] >= 3, chart  # and drew into it
        assert chart["width"] > 300, chart


def test_a_broken_page_is_caught(browser: Browser, tmp_path: Path) -> None:
    """The harness itself: a script error and a div plotly never drew are both seen."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><div id="x" class="plotly-graph-div"></div>'
                    '<script>console.error("bad data"); undefinedFunction();</script></body></html>')
    charts, errors = load(browser, page)
    assert charts == [{"id": "x", "plotly": False, "svgs": 0, "marks": 0, "width": charts[0]["width"]}]
    assert any("undefinedFunction" in e for e in errors) and any("bad data" in e for e in errors)

