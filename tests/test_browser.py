"""The HTML statement in a real browser: Debian's headless chromium, started by the test when present.

Checks that the page renders (a screenshot of an A4-shaped window, kept as a test artifact under
tests/artifacts/), that the amounts are in the rendered DOM, that the browser logged no console
message (the page has no script: any message is a blocked load or an error), and that the page
asked for nothing over the network (Chromium's own net log, read for requests the page started).
A canary page that does load a remote image proves the two detectors can fail.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import warnings
import zlib
from pathlib import Path

import pytest

import kpirules
from kpirules.render import html

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is not installed (apt-get install chromium): the HTML statement was not "
           "opened in a browser",
)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
         "--enable-logging=stderr", "--v=0"]


class Run:
    def __init__(self, out: str, err: str, requests: list):
        self.out, self.err, self.requests = out, err, requests

    @property
    def console(self) -> list:
        """Console messages of the page: chromium logs them as `...:CONSOLE:<line>] "message"`."""
        return [line for line in self.err.splitlines() if re.search(r":CONSOLE\b|:CONSOLE\(", line)]


def chromium(page: Path, tmp: Path, *extra: str) -> Run:
    profile = tmp / f"profile-{len(list(tmp.iterdir()))}"
    netlog = tmp / f"{profile.name}.netlog.json"
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}", *extra, page.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within 90s: {' '.join(cmd)}")
    assert done.returncode == 0, f"chromium failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return Run(done.stdout, done.stderr, page_requests(netlog))


def page_requests(netlog: Path) -> list:
    """URLs the page asked for beyond its own file. Chromium's own background traffic (an
    initiator of "not an origin", outside the page's network partition) is not the page's."""
    if not netlog.exists():
        pytest.fail("chromium wrote no net log; cannot tell whether the page used the network")
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
    if not text.endswith("}"):  # a log cut short on exit still has its events; close it
        text = text.rstrip("]").rstrip().rstrip(",") + "]}"
    data = json.loads(text)
    kinds = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    urls = []
    for event in data.get("events", ()):
        if kinds.get(event.get("type")) != "URL_REQUEST_START_JOB":
            continue
        params = event.get("params") or {}
        url = params.get("url", "")
        if not url or url.startswith(("file:", "data:", "chrome:", "about:")):
            continue
        from_page = (params.get("initiator") != "not an origin"
                     or "file://" in str(params.get("network_isolation_key", "")))
        if from_page:
            urls.append(url)
    return urls


def png_facts(path: Path) -> tuple:
    """(width, height, distinct byte values in the pixel data) of a PNG: enough to tell a
    rendered page from a blank or broken one, without an imaging library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    pixels = zlib.decompress(idat)
    return width, height, len(set(pixels))


@pytest.fixture(scope="module")
def statements(tmp_path_factory):
    """The U8 quarterly HTML statement, in both languages, written where the browser can open it."""
    tmp = tmp_path_factory.mktemp("statements")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)  # source lines read `policies/u8_presales.rules:83`, as a user would run it
        policy = kpirules.load_policy("policies/u8_presales.rules")
        result = policy.evaluate(kpirules.read_facts("examples/u8_quarterly.json"), "quarterly",
                                 explain=True).to_json()
    pages = {"values": len(result["trace"]["nodes"])}
    for lang in ("zh", "en"):
        pages[lang] = tmp / f"u8_quarterly.{lang}.html"
        pages[lang].write_text(html.render(result, explain=True, lang=lang), encoding="utf-8")
    return pages


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_statement_renders_in_chromium(statements, tmp_path, lang):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"u8_quarterly.{lang}.png"
    shot.unlink(missing_ok=True)
    run = chromium(statements[lang], tmp_path, f"--screenshot={shot}", "--window-size=1240,1754")
    assert shot.exists(), f"no screenshot was written:\n{run.err[-2000:]}"
    width, height, shades = png_facts(shot)
    assert (width, height) == (1240, 1754)
    assert shot.stat().st_size > 20_000 and shades > 16, "the screenshot is blank"
    assert run.console == [], "the page logged console messages"
    assert run.requests == [], "the page used the network"
    if lang == "zh" and not _has_cjk_font():
        warnings.warn(f"no CJK font is installed: the Chinese text of {shot} shows as boxes "
                      "(apt-get install fonts-noto-cjk or fonts-wqy-microhei to read it)")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_amounts_are_in_the_rendered_dom(statements, tmp_path, lang):
    run = chromium(statements[lang], tmp_path, "--dump-dom")
    dom = run.out
    assert "¥7,488.00" in dom
    assert ("78 分" if lang == "zh" else "78 points") in dom
    assert "该项工作未经过培训推广环节" in dom
    assert "rollout[sales_tools] = false" in dom
    assert dom.count("<details") == statements["values"]  # every value, folded and there to unfold
    assert run.console == [], "the page logged console messages"
    assert run.requests == [], "the page used the network"


def test_the_detectors_can_fail(tmp_path):
    """A page that loads a remote image and logs to the console is caught by both checks."""
    canary = tmp_path / "canary.html"
    canary.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>canary</title></head><body>'
                      '<img src="http://kpirules.invalid/x.png" alt=""><script>console.error("canary")</script>'
                      "</body></html>", encoding="utf-8")
    run = chromium(canary, tmp_path, "--dump-dom")
    assert any("canary" in line for line in run.console), run.err[-2000:]
    assert "http://kpirules.invalid/x.png" in run.requests


def _has_cjk_font() -> bool:
    fc = shutil.which("fc-list")
    if not fc:
        return True  # cannot tell: do not claim it is missing
    done = subprocess.run([fc, ":lang=zh"], capture_output=True, text=True)
    return bool(done.stdout.strip())
