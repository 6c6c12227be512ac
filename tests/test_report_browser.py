"""The report opened in a real browser: Debian's headless Chromium loads index.html,
logs no console error, renders the key numbers into the DOM and takes a screenshot."""

import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's)")

def _open(tmp_path: Path, page: Path):
    from chromium_cdp import load

    return load(CHROMIUM, page.as_uri(), str(tmp_path / "profile"))


def test_the_console_check_sees_an_error_when_there_is_one(tmp_path):
    """The detector itself: a page that logs an error, throws and fetches a missing file is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><img src="missing.png">'
                    '<script>console.log("fine"); console.error("boom from the page"); null.x;</script></body></html>')
    errors = _open(tmp_path, page).errors
    assert any("boom from the page" in e for e in errors), errors
    assert any(e.startswith("exception:") for e in errors), errors
    assert any("missing.png" in e for e in errors), errors
    assert not any("fine" in e for e in errors)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(ROOT / "examples" / "baseline.cell"),
                        "--build-dir", str(build)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return build / "lco-linbo3-lpscl" / "report"


def test_the_report_loads_cleanly_its_key_numbers_are_in_the_dom_and_it_renders(report, tmp_path):
    from PIL import Image

    page = _open(tmp_path, report / "index.html")
    assert page.errors == []
    dom = html.unescape(page.dom)
    doc = json.loads((report / "report.json").read_text())
    assert doc["title"] in dom
    key = [n for s in doc["sections"] for n in s["numbers"]] + [n for v in doc["verdicts"] for n in v["numbers"]]
    assert key
    for n in key:
        assert n["text"] in dom, n["label"]
    for v in doc["verdicts"]:
        assert v["text"] in dom
    # the figures were parsed as SVG elements, not left as text
    assert dom.count("<svg") == sum(len(s["figures"]) for s in doc["sections"])

    keep = os.environ.get("SSELANG_SCREENSHOTS")  # a folder to keep the screenshot in, for a look
    shot = (Path(keep) if keep else tmp_path) / f"{doc['study']}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(page.png)
    im = Image.open(shot).convert("L")
    assert im.size == (1200, 3000)
    # a blank or unstyled page would be nearly one colour; the rendered report has text, bars and plots
    hist = im.histogram()
    dark = sum(hist[:128]) / (im.size[0] * im.size[1])
    assert 0.01 < dark < 0.5, dark
    assert len([h for h in hist if h > 0]) > 50  # anti-aliased text and coloured bars: many grey levels
