"""The front end end to end: the examples resolve to the numbers written in
them (converted by hand), spans point at the right text, the CLI's exit codes
and outputs behave as documented."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import sselang
from sselang.cli import cli
from sselang.model import study as m
from sselang.pipeline import front_end, front_end_text
from sselang.syntax import ast
from sselang.syntax.parser import parse_text
from sselang.syntax.source import SourceFile
from sselang.checks.diagnostics import Reporter

from conftest import ROOT

EX = ROOT / "examples"


def test_examples_check_clean(examples):
    for path in examples:
        diags = sselang.check(path)
        assert [d for d in diags if d.is_error] == [], path
        assert diags == [], f"{path}: unexpected warnings {diags}"


def test_baseline_resolves_to_hand_converted_values():
    s = sselang.load(EX / "baseline.cell")
    assert s.id == "lco-linbo3-lpscl"
    cell = s.cell("baseline")
    assert cell.conditions.temperature_K == pytest.approx(298.15)  # 25 degC
    assert cell.conditions.pressure_MPa == 50
    assert cell.conditions.c_rate == pytest.approx(0.1)
    assert cell.conditions.cutoff_V == (1.9, 3.6)
    assert cell.cathode.material == "LCO" and cell.cathode.loading == pytest.approx(0.70)
    assert cell.cathode.charged_to_V == pytest.approx(4.3)
    (coating,) = cell.coatings
    assert coating.material == "LiNbO3" and coating.thickness_nm == pytest.approx(5.0)
    assert s.material("LiNbO3").inline and s.material("LiNbO3").composition == {"Li": 1, "Nb": 1, "O": 3}
    assert s.material("LiIn").inline
    (analysis,) = s.analyses
    kinds = [r.kind for r in analysis.requests]
    assert kinds == ["window", "window", "reactivity", "reactivity", "reactivity", "reactivity", "diffusion"]
    assert [r.material for r in analysis.requests[:2]] == ["LPSCl", "LiNbO3"]
    closed, charged = analysis.requests[2:4]
    assert (closed.a, closed.b, closed.open_element) == ("LCO", "LPSCl", None)
    assert (charged.open_element, charged.potential_V) == ("Li", pytest.approx(4.0))
    d = analysis.requests[-1]
    assert d.temperatures_K == (600, 800, 1000, 1200)
    assert (d.duration_ps, d.equilibrate_ps, d.timestep_fs, d.supercell_min_length_A) == (40, 5, pytest.approx(2.0), 10)
    assert [e.name for e in s.engines] == ["vasp", "cp2k"]
    assert [t.kind for t in s.data.thermo] == ["bundled"]


def test_lpsocl_observed_record_and_substitutions():
    s = sselang.load(EX / "lpsocl.cell")
    obs = s.cell("lpsocl").observed
    assert obs.initial_capacity_mAh_g == pytest.approx(151.9)
    assert obs.retention == pytest.approx(0.60) and obs.retention_after_cycles == 450
    assert obs.conductivity_mS_cm == pytest.approx(2.8)
    mat = s.material("LPSOC")
    assert mat.composition == pytest.approx({"Li": 6.25, "P": 1, "S": 4, "O": 1.25, "Cl": 0.75})
    assert [(e.op, e.species, e.new_species, e.amount) for e in mat.structure.edits] == [
        ("substitute", "S", "O", 1.25), ("substitute", "Cl", "S", 0.25), ("add", "Li", None, 0.25)]
    assert mat.order.method == "ewald" and mat.order.seed == 1


def test_lgps_transport_requests():
    s = sselang.load(EX / "lgps_transport.cell")
    (a,) = s.analyses
    assert a.target_kind == "material"
    diff, barrier, window, profile = a.requests
    assert diff.directions == ("c", "ab") and diff.extrapolate_K == 300
    assert (barrier.species, barrier.direction, barrier.images, barrier.climb) == ("Li", "c", 7, True)
    assert window.material == profile.material == "LGPS"
    vasp = s.engines[0]
    assert vasp.settings["encut"] == pytest.approx(280) and vasp.applies_to == ("diffusion",)
    assert s.run.executor.kind == "local" and s.run.executor.workers == 2
    assert s.material("LGPS").order.keep == 1


def test_coating_screen_request():
    s = sselang.load(EX / "coating_screen.cell")
    (screen,) = s.analyses[0].requests
    assert len(screen.candidates) == 10 and "LiTi2(PO4)3" in screen.candidates
    reqs = {(r.metric, r.with_role): r for r in screen.requirements}
    assert reqs[("e_hull", None)].value == pytest.approx(0.025)  # 25 meV/atom in eV/atom
    assert reqs[("window", None)].range_V == (2.5, 4.3)
    assert reqs[("reactivity", "cathode")].value == pytest.approx(-0.1)
    assert screen.rank.metric == "reactivity" and screen.rank.with_role == "electrolyte"
    assert screen.rank.order == "descending"  # less negative reaction energy is better


def _walk(node):
    yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            yield from _walk(getattr(node, f.name))
    elif isinstance(node, tuple):
        for x in node:
            yield from _walk(x)


def test_every_node_has_a_span_into_its_text(examples):
    for path in examples:
        src = SourceFile(str(path), path.read_text())
        module = parse_text(src, Reporter(str(path)))
        n = 0
        for node in _walk(module):
            if isinstance(node, ast.Node):
                n += 1
                s = node.span
                assert 0 <= s.start <= s.end <= len(src.text)
                assert src.position(s.start) == (s.line, s.col)
                if isinstance(node, ast.Ident):
                    assert src.text[s.start:s.end] == node.name
                if isinstance(node, ast.Number):
                    assert src.text[s.start:s.end] == node.text
                if isinstance(node, ast.Quantity):
                    assert src.text[node.unit_span.start:node.unit_span.end] == node.unit
        assert n > 50


def test_several_syntax_errors_in_one_run():
    text = ('study "x" { title = "t" }\n'
            "material A { formula = }\n"
            "material B { formula = Li2S\n"
            "cell c { cathode = @ }\n"
            "analyze c { windo electrolyte }\n")
    fe = front_end_text(text, "multi.cell")
    assert [(d.code, d.span.line) for d in fe.diagnostics] == [
        ("SSE001", 2), ("SSE004", 3), ("SSE002", 4), ("SSE001", 5)]
    assert fe.diagnostics[-1].help == "did you mean 'window'?"


def test_use_imports_materials(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "phases.cell").write_text('material LPSCl {\n  formula = Li6PS5Cl\n}\n')
    (tmp_path / "s.cell").write_text('use "lib/phases.cell"\nstudy "s" { }\nanalyze LPSCl {\n  window\n}\n')
    s = sselang.load(tmp_path / "s.cell")
    assert s.material("LPSCl").composition["S"] == 5
    assert s.imports == (str((tmp_path / "lib" / "phases.cell").resolve()),)


def test_load_raises_with_diagnostics(tmp_path):
    p = tmp_path / "bad.cell"
    p.write_text('study "b" { }\nmaterial X { formula = LjCoO2 }\nanalyze X { window }\n')
    with pytest.raises(sselang.StudyError) as ei:
        sselang.load(p)
    (d,) = ei.value.diagnostics
    assert (d.code, d.span.line, d.span.col, d.help) == ("SSE031", 2, 24, "did you mean 'Li'?")
    assert "bad.cell:2:24" in str(ei.value)


# ---- CLI ----------------------------------------------------------------------
def _run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "sselang.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_cli_check_exit_codes(tmp_path):
    r = _run("check", *map(str, sorted(EX.glob("*.cell"))))
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad.cell"
    bad.write_text('study "b" { }\nmaterial X { formula = LjCoO2 }\n')
    r = _run("check", str(bad))
    assert r.returncode == 1
    assert f"{bad}:2:24: error[SSE031]: 'Lj' is not an element" in r.stderr
    assert "= help: did you mean 'Li'?" in r.stderr and "Traceback" not in r.stderr
    r = _run("check", "--format", "json", str(bad))
    data = json.loads(r.stdout)
    assert data[0]["code"] == "SSE031" and (data[0]["line"], data[0]["column"]) == (2, 24)
    r = _run("check")  # usage error
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = _run("frobnicate")
    assert r.returncode == 2


def test_cli_fmt_check_on_examples():
    r = _run("fmt", "--check", *map(str, sorted(EX.glob("*.cell"))))
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_fmt_check_reports_a_diff(tmp_path):
    p = tmp_path / "x.cell"
    text = 'study "x" {\ntitle="t"\n}\n'
    p.write_text(text)
    r = _run("fmt", "--check", str(p))
    assert r.returncode == 1 and "+  title = \"t\"" in r.stdout
    assert p.read_text() == text  # --check writes nothing
    assert _run("fmt", str(p)).returncode == 0
    assert p.read_text() == 'study "x" {\n  title = "t"\n}\n'


def test_compile_is_deterministic_and_records_versions(tmp_path):
    outs = []
    for seed, locale in (("1", "C.UTF-8"), ("12345", "C")):
        env = dict(os.environ, PYTHONHASHSEED=seed, LC_ALL=locale)
        b = tmp_path / f"build{seed}"
        r = _run("compile", str(EX / "baseline.cell"), "--build-dir", str(b), env=env, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        outs.append((b / "lco-linbo3-lpscl" / "study.json").read_bytes())
    assert outs[0] == outs[1]
    doc = json.loads(outs[0])
    assert doc["generator"]["sselang"] == sselang.__version__
    assert {"pymatgen", "pymatgen-core", "pint", "lark", "pydantic"} <= doc["generator"].keys()
    assert m.Study.model_validate(doc["study"]).id == "lco-linbo3-lpscl"


def test_compile_writes_nothing_on_errors(tmp_path):
    bad = tmp_path / "bad.cell"
    bad.write_text('study "b" { }\nmaterial X { formula = LjCoO2 }\n')
    r = _run("compile", str(bad), "--build-dir", str(tmp_path / "build"))
    assert r.returncode == 1
    assert not (tmp_path / "build").exists()


def test_schema_and_version():
    runner = CliRunner()
    r = runner.invoke(cli, ["schema"])
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert schema["title"] == "Study" and "materials" in schema["properties"]
    r = runner.invoke(cli, ["--version"])
    assert r.exit_code == 0 and sselang.__version__ in r.output
    for sub in ("check", "fmt", "compile", "explain", "schema"):
        assert runner.invoke(cli, [sub, "--help"]).exit_code == 0


def test_readme_example_is_a_clean_canonical_study(tmp_path):
    import re

    (block,) = re.findall(r"```cell\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    p = tmp_path / "readme.cell"
    p.write_text(block)
    assert sselang.check(p) == []
    from sselang.syntax.formatter import format_source

    assert format_source(block) == block
