"""The report written by compile: build/<study>/report/{index.html, report.md, report.json, figures/}."""

import gzip
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LPSCL_500K_XDATCAR as XDATCAR
from conftest import LPSCL_MD_STUDY as MD_STUDY
from conftest import ROOT

BASELINE = ROOT / "examples" / "baseline.cell"


def _compile(study: Path, build: Path, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir", str(build)],
                          capture_output=True, text=True, timeout=900, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def baseline_report(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    r = _compile(BASELINE, build)
    assert r.returncode == 0, r.stderr
    return build / "lco-linbo3-lpscl"


def test_the_report_folder_holds_the_three_documents_and_a_figure_per_plot(baseline_report):
    rep = baseline_report / "report"
    assert {p.name for p in rep.iterdir()} == {"index.html", "report.md", "report.json", "figures"}
    doc = json.loads((rep / "report.json").read_text())
    figs = [f["id"] for s in doc["sections"] for f in s["figures"]]
    assert sorted(p.stem for p in (rep / "figures").iterdir()) == sorted(figs)
    assert (rep / "index.html").stat().st_size < 2_000_000
    # every file of the report is listed in the manifest with its hash
    manifest = json.loads((baseline_report / "manifest.json").read_text())["files"]
    assert "report/index.html" in manifest and "report/report.json" in manifest


def test_report_json_follows_its_exported_schema(baseline_report):
    from sselang.report.document import Report

    doc = json.loads((baseline_report / "report" / "report.json").read_text())
    Report.model_validate(doc)  # the schema `sselang schema --report` prints is this model's
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "schema", "--report"], capture_output=True, text=True)
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert set(schema["required"]) >= {"study", "title", "reproducibility"}
    assert "Number" in schema["$defs"] and "fidelity" in schema["$defs"]["Number"]["required"]


def test_every_number_names_its_fidelity_and_source(baseline_report):
    doc = json.loads((baseline_report / "report" / "report.json").read_text())
    numbers = [n for s in doc["sections"] for n in s["numbers"]] + [n for v in doc["verdicts"] for n in v["numbers"]]
    assert len(numbers) > 10
    for n in numbers:
        assert n["fidelity"] and n["source"], n


def test_the_report_shows_the_analyses_numbers(baseline_report):
    """The report prints what analyses.json computed, with the study's labels, and puts the
    cutoffs (written vs Li-In) on the Li/Li+ scale: 1.9 V + 0.62 V = 2.52 V, 3.6 + 0.62 = 4.22 V."""
    analyses = json.loads((baseline_report / "analyses.json").read_text())["results"]
    page = html.unescape((baseline_report / "report" / "index.html").read_text())
    md = (baseline_report / "report" / "report.md").read_text()
    (w,) = [r for r in analyses if r["kind"] == "window" and r["material"] == "LPSCl"]
    for text in (page, md):
        assert f"{w['reduction']['voltage_V']:.2f} V" in text and f"{w['oxidation']['voltage_V']:.2f} V" in text
        assert "2.52–4.22 V vs Li/Li+" in text
    for r in (r for r in analyses if r["kind"] == "reactivity"):
        assert f"{r['minimum_meV_atom']:.0f} meV/atom" in page
    doc = json.loads((baseline_report / "report" / "report.json").read_text())
    assert doc["cells"][0]["operating_range_V_vs_Li"] == [2.52, 4.22]
    # the worst first: the closed LiCoO2 | Li6PS5Cl reaction (-351 meV/atom) is a problem, LiCoO2 | LiNbO3 is not
    levels = [v["level"] for v in doc["verdicts"]]
    assert levels == sorted(levels, key=["bad", "warn", "ok", "info"].index)
    text = {v["text"].split(":")[0]: v["level"] for v in doc["verdicts"]}
    assert text["Li6PS5Cl is unstable against LiCoO2"] == "bad"
    assert any(v["level"] == "ok" and v["text"].startswith("LiCoO2 | LiNbO3") for v in doc["verdicts"])


def test_the_page_fetches_nothing_and_holds_no_script(baseline_report):
    page = (baseline_report / "report" / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page.lower() and "@import" not in page
    assert page.count("<svg") == len(list((baseline_report / "report" / "figures").iterdir()))
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "figures inline in one page must not share ids"


def test_same_inputs_give_the_same_report_bytes(tmp_path, baseline_report):
    """Compiled again elsewhere, with another hash seed, locale and time zone."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "LC_ALL": "C.UTF-8", "TZ": "Asia/Tokyo"}
    r = _compile(BASELINE, tmp_path / "b", env=env)
    assert r.returncode == 0, r.stderr
    a, b = baseline_report / "report", tmp_path / "b" / "lco-linbo3-lpscl" / "report"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_user_text_is_escaped_in_the_page(tmp_path):
    study = tmp_path / "x.cell"
    study.write_text('study "esc" { title = "Li2S <script>alert(1)</script> & co" }\n'
                     'material Li2S {\n  formula = Li2S\n}\nanalyze Li2S {\n  window\n}\n')
    r = _compile(study, tmp_path / "build")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "build" / "esc" / "report" / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


@pytest.mark.skipif(not XDATCAR.exists(), reason="shared trajectories not present")
def test_a_diffusion_series_gives_msd_and_arrhenius_plots_with_error_bars(tmp_path):
    """The same trajectory stands for both temperatures: an analytic case of the Arrhenius
    fit (equal D at 500 and 600 K: Ea = 0 and D(300 K) = D), which the report must show."""
    study = tmp_path / "s.cell"
    study.write_text(MD_STUDY)
    assert _compile(study, tmp_path / "build").returncode == 0
    out = tmp_path / "build" / "lpscl-md"
    for d in (out / "calcs").iterdir():
        if d.name.startswith("md-"):
            (d / "INCAR").write_text((d / "INCAR").read_text() + "NBLOCK = 50\n")
            with gzip.open(XDATCAR, "rb") as src, open(d / "XDATCAR", "wb") as dst:
                shutil.copyfileobj(src, dst)
    r = _compile(study, tmp_path / "build")
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "report" / "report.json").read_text())
    (sec,) = [s for s in doc["sections"] if s["kind"] == "diffusion"]
    assert [f["id"] for f in sec["figures"]] == ["msd-1", "arrhenius-1"]
    assert sec["fidelity"] == ["DFT (VASP)"]
    nums = {n["label"]: n for n in sec["numbers"]}
    ea = nums["activation energy of Li diffusion in Li6PS5Cl"]
    assert abs(ea["value"]) < 1e-6 and ea["err"] > 0
    d500 = nums["D(Li) of Li6PS5Cl at 500 K"]
    d300 = nums["D(Li) of Li6PS5Cl at 300 K (extrapolated)"]
    assert d300["value"] == pytest.approx(d500["value"], rel=1e-6)
    sigma = nums["sigma of Li6PS5Cl at 300 K (extrapolated)"]
    assert sigma["err"] > 0 and "±" in sigma["text"]
    svg = (out / "report" / "figures" / "msd-1.svg").read_text()
    assert svg.count("500 K") == 1 and svg.count("600 K") == 1  # one legend entry per temperature
    page = (out / "report" / "index.html").read_text()
    assert ea["text"] in html.unescape(page)


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.cell")), ids=lambda p: p.stem)
def test_every_example_gets_a_report_with_a_section_per_result(example, tmp_path):
    r = _compile(example, tmp_path)
    assert r.returncode == 0, r.stderr
    (out,) = [d for d in tmp_path.iterdir() if d.is_dir()]
    analyses = json.loads((out / "analyses.json").read_text())["results"]
    doc = json.loads((out / "report" / "report.json").read_text())
    kinds = {s["kind"] for s in doc["sections"]}
    assert {r["kind"] for r in analyses} == kinds
    assert (out / "report" / "index.html").stat().st_size < 2_000_000
    md = (out / "report" / "report.md").read_text()
    for s in doc["sections"]:
        assert f"## {s['title']}" in md
        for f in s["figures"]:
            assert f"(figures/{f['id']}.svg)" in md and (out / "report" / "figures" / f"{f['id']}.svg").is_file()


def test_the_baseline_shows_its_bundled_preview_diffusion_labelled_as_such(baseline_report):
    """The bundled CHGNet runs stand in for the baseline's MD on a fresh machine, and the
    report says so on every number and in a cautious verdict."""
    from sselang.analyses.diffusion import BUNDLED_PREVIEWS

    doc = json.loads((baseline_report / "report" / "report.json").read_text())
    (sec,) = [s for s in doc["sections"] if s["kind"] == "diffusion"]
    assert sec["fidelity"] == ["bundled preview (CHGNet 0.3.0, 3 ps)"]
    nums = {n["label"]: n for n in sec["numbers"]}
    assert all(n["fidelity"].startswith("bundled preview") for n in sec["numbers"])
    ea = nums["activation energy of Li diffusion in Li6PS5Cl"]
    assert ea["value"] > 0 and ea["err"] > 0
    assert any(v["level"] == "warn" and v["text"].startswith("Li6PS5Cl: Ea =") for v in doc["verdicts"])
    index = json.loads((BUNDLED_PREVIEWS / "index.json").read_text())["previews"]
    assert sorted(e["temperature_K"] for e in index if e["study"] == "lco-linbo3-lpscl") == [600, 800, 1000, 1200]
    assert sum(p.stat().st_size for p in BUNDLED_PREVIEWS.rglob("*") if p.is_file()) < 5e6
