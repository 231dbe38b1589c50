"""A real headless Chromium (Debian's `chromium`) asked what a page shows, through its DevTools
protocol over a pipe: Chromium reads JSON commands on fd 3 and answers on fd 4, each message
ended by a NUL byte. No websocket client and no browser driver to install."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

# Every element of the page, shadow roots included (TensorBoard's dashboards are Polymer).
ALL_ELEMENTS = """const all = (root) => [...root.querySelectorAll('*')]
  .flatMap(e => e.shadowRoot ? [e, ...all(e.shadowRoot)] : [e]);"""


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


class Browser:
    def __init__(self, profile: Path, width: int, height: int):
        commands_read, self.commands = os.pipe()
        self.answers, answers_write = os.pipe()
        arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                     f"--window-size={width},{height}"]
        # bash puts the two pipe ends on the numbers Chromium reads and writes (dash takes
        # only one-digit numbers).
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{commands_read} 4>&{answers_write}', chromium(),
             *arguments], pass_fds=(commands_read, answers_write),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(answers_write)
        self.pending, self.last_id, self.session = b"", 0, None

    def send(self, method: str, **params) -> dict:
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:  # events and other answers come on the same pipe
            while b"\0" not in self.pending:
                chunk = os.read(self.answers, 1 << 16)
                assert chunk, "chromium closed its DevTools pipe"
                self.pending += chunk
            raw, self.pending = self.pending.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.last_id:
                assert "error" not in answer, answer["error"]
                return answer["result"]

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", url=url)["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def close(self) -> None:
        os.close(self.commands)
        os.close(self.answers)
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def table_headers(url: str, profile: Path, width: int, until: str,
                  timeout: float) -> dict[str, tuple]:
    """{header text: (left, right)} in CSS pixels of each `.table-header` cell the page draws
    at `width` px (TensorBoard's HParams table), once the header `until` is drawn."""
    browser = Browser(profile, width, 1000)
    script = f"""(() => {{ {ALL_ELEMENTS}
      return all(document).filter(e => e.classList.contains('table-header')).map(e => {{
        const box = e.getBoundingClientRect();
        return [e.textContent.trim(), box.left, box.right]; }}); }})()"""
    try:
        browser.open(url)
        deadline, headers = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            headers = {text: (left, right) for text, left, right in browser.evaluate(script)}
            if until in headers:
                return headers
            time.sleep(0.5)
        raise AssertionError(f"{url} drew no column {until!r} in {timeout} s: {headers}")
    finally:
        browser.close()
