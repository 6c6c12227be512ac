"""A small Chrome DevTools Protocol client over --remote-debugging-pipe (fds 3 and 4,
messages NUL-separated JSON): opens a page in headless Chromium and returns its console
errors, exceptions, failed loads, DOM and a PNG screenshot.  No third-party package:
the protocol is plain JSON over two pipes."""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import time
from dataclasses import dataclass, field

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-extensions", "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
         "--remote-debugging-pipe"]


@dataclass
class PageLoad:
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    dom: str = ""
    png: bytes = b""


class _Pipe:
    def __init__(self, proc, to_browser: int, from_browser: int, deadline: float):
        self.proc, self.w, self.r, self.deadline = proc, to_browser, from_browser, deadline
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})

    def read(self) -> dict:
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        m = json.loads(raw)
        if "method" in m:
            self.events.append(m)
        return m

    def wait_for(self, method: str) -> dict:
        for e in self.events:
            if e["method"] == method:
                return e
        while True:
            m = self.read()
            if m.get("method") == method:
                return m


def load(chromium: str, url: str, profile_dir: str, width: int = 1200, height: int = 3000,
         timeout_s: float = 120.0, settle_s: float = 0.5) -> PageLoad:
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()

    def fds():
        # the browser reads commands on fd 3 and writes answers on fd 4 (copied out of the
        # way first: either pipe end may itself be fd 3 or 4)
        a, b = os.dup(to_browser_r), os.dup(from_browser_w)
        os.dup2(a, 3)
        os.dup2(b, 4)

    # pass_fds keeps 3 and 4 open through the close of inherited descriptors after preexec_fn
    proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile_dir}", f"--window-size={width},{height}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            pass_fds=(3, 4, to_browser_r, from_browser_w), preexec_fn=fds)
    os.close(to_browser_r)
    os.close(from_browser_w)
    pipe = _Pipe(proc, to_browser_w, from_browser_r, time.monotonic() + timeout_s)
    out = PageLoad()
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        pipe.send("Page.navigate", {"url": url}, session=session)
        pipe.wait_for("Page.loadEventFired")
        end = time.monotonic() + settle_s  # late console messages
        while time.monotonic() < end:
            try:
                pipe.deadline = end
                pipe.read()
            except TimeoutError:
                break
        pipe.deadline = time.monotonic() + timeout_s
        out.dom = pipe.send("Runtime.evaluate", {"expression": "document.documentElement.outerHTML",
                                                 "returnByValue": True}, session=session)["result"]["value"]
        out.png = base64.b64decode(pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"])
        for e in pipe.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.errors.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                         for a in p.get("args", [])))
            elif e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.errors.append("exception: " + str(d.get("exception", {}).get("description", d.get("text"))))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                ent = p["entry"]
                out.errors.append(f"log: {ent.get('text')} {ent.get('url', '')}".strip())
        try:
            pipe.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
    finally:
        os.close(to_browser_w)
        os.close(from_browser_r)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return out
