"""Hostile values: studies written to inject lines into the decks, to read or write outside
their folders, or to exhaust time and memory.  Each is refused with a diagnostic that points
at the culprit, or (free text) is shown never to reach a deck."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sselang.checks.printer import render_all
from sselang.compile import BuildError, prepare_build, resolve_data, write_build
from sselang.pipeline import front_end

HEAD = 'study "hostile" { title = "Hostile values" }\n'
LI2S = 'material Li2S { formula = Li2S  structure = library("Li2S") }\n'
ENGINES = ('engine vasp { for = [relax] }\nengine qe { for = [relax] }\n'
           'engine cp2k { for = [relax]  cutoff = 250 Ry  rel_cutoff = 40 Ry }\n')


def check(tmp_path: Path, text: str, name: str = "study.cell"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return front_end(p)


def errors(fe) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line if d.span else 0, d.span.col if d.span else 0) for d in fe.diagnostics if d.is_error]


def compile_study(folder: Path, text: str, build: str = "build"):
    """The whole compile in this process, as `sselang compile` runs it: (front end, build folder or None)."""
    p = folder / "study.cell"
    p.write_text(text, encoding="utf-8")
    fe = front_end(p)
    data = resolve_data(fe, p) if fe.ok else None
    prepared = prepare_build(fe, data, folder / build) if data is not None and fe.ok else None
    if prepared is None:
        return fe, None
    return fe, write_build(fe.study, fe.sources, folder / build, data, prepared=prepared)


def refused(fe, code: str, line: int, col: int) -> None:
    """The study has errors, `code` among them at line:col, and they render with a caret."""
    got = errors(fe)
    assert (code, line, col) in got, f"{code} at {line}:{col} expected; got {got}\n" + render_all(fe.diagnostics,
                                                                                                   fe.sources)
    assert fe.study is None
    text = render_all(fe.diagnostics, fe.sources)
    assert f"[{code}]" in text and "^" in text


# ---- lines injected into decks ------------------------------------------------------------------
INJECTIONS = {
    # (text, code, line, col)
    "title with a newline and an INCAR tag": (
        'study "h" { title = "x\\nENCUT = 1" }\n' + LI2S + "analyze Li2S { window }\n", "SSE013", 1, 21),
    "title with a bidirectional override": (
        'study "h" { title = "safe \u202e gnirts" }\n' + LI2S + "analyze Li2S { window }\n", "SSE013", 1, 21),
    "author with a line break": (
        'study "h" { authors = ["A", "B\\n#SBATCH --nodes=99"] }\n' + LI2S + "analyze Li2S { window }\n",
        "SSE013", 1, 29),
    "&END in a material name": (
        HEAD + "material Li2S&END { formula = Li2S }\nanalyze Li2S { window }\n", "SSE002", 2, 14),
    "&END and a newline in a formula string": (
        HEAD + 'material X { formula = "Li2S\\n&END" }\nanalyze X { window }\n', "SSE030", 2, 24),
    "/ in a material name (ends a QE namelist)": (
        HEAD + "material Li2S/ { formula = Li2S }\nanalyze Li2S { window }\n", "SSE002", 2, 14),
    "&END in a CP2K basis family": (
        HEAD + LI2S + 'analyze Li2S { window }\nengine cp2k { basis = "DZVP\\n&END FORCE_EVAL" }\n', "SSE013", 4, 23),
    "a space and &END in a CP2K potential": (
        HEAD + LI2S + 'analyze Li2S { window }\nengine cp2k { potential = "GTH-PBE &END" }\n', "SSE013", 4, 27),
    "a quote, / and a namelist in QE pseudo_dir": (
        HEAD + LI2S + "analyze Li2S { window }\nengine qe { pseudo_dir = \"./p'\\n/\\n&SYSTEM\" }\n", "SSE013", 4, 26),
    "a newline and / in QE pseudo_files": (
        HEAD + LI2S + 'analyze Li2S { window }\nengine qe { pseudo_files = "{element}.UPF\\n/"  ecutwfc = 30 Ry }\n',
        "SSE013", 4, 28),
    "INCAR ';' and '=' in encut": (
        HEAD + LI2S + 'analyze Li2S { window }\nengine vasp { encut = "520; ISPIN = 2" }\n', "SSE013", 4, 23),
    "INCAR line in potcar_functional": (
        HEAD + LI2S + 'analyze Li2S { window }\nengine vasp { potcar_functional = "PBE\\nLDAU = .TRUE." }\n',
        "SSE013", 4, 35),
    "a cutoff in kelvin": (
        HEAD + LI2S + "analyze Li2S { window }\nengine vasp { encut = 520 K }\n", "SSE041", 4, 27),
    "a flag where a number belongs": (
        HEAD + LI2S + "analyze Li2S { window }\nengine vasp { encut = true }\n", "SSE013", 4, 23),
    "an #SBATCH line in a partition": (
        HEAD + LI2S + 'analyze Li2S { window }\nrun { executor = slurm { partition = "batch\\n#SBATCH --nodes=100" } }\n',
        "SSE018", 4, 38),
}


@pytest.mark.parametrize("case", sorted(INJECTIONS), ids=sorted(INJECTIONS))
def test_injection_is_refused(case, tmp_path):
    text, code, line, col = INJECTIONS[case]
    refused(check(tmp_path, text), code, line, col)


def _deck_lines(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "calcs").rglob("*")) if p.is_file()}


def test_free_text_never_reaches_a_deck(tmp_path):
    # a description may hold line breaks; whatever it holds, the decks, job scripts and
    # job arrays are the bytes a plain study gets
    hostile = ('study "decks" {\n  title = "Plain title; ENCUT = 1 & &END"\n  authors = ["A; B = C", "/"]\n'
               '  reference = "&END FORCE_EVAL /"\n'
               '  description = "line\\nENCUT = 1\\n&END FORCE_EVAL\\n/\\n&SYSTEM\\n  nat = 1\\n#SBATCH --nodes=99"\n}\n'
               + LI2S + "analyze Li2S { window }\n" + ENGINES)
    plain = 'study "decks" { title = "t" }\n' + LI2S + "analyze Li2S { window }\n" + ENGINES
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fe, out = compile_study(tmp_path / "a", hostile)
    assert out is not None, render_all(fe.diagnostics, fe.sources)
    fe2, out2 = compile_study(tmp_path / "b", plain)
    assert out2 is not None
    decks, clean = _deck_lines(out), _deck_lines(out2)
    assert decks == clean and len(decks) >= 12
    incar = next(t for k, t in decks.items() if k.endswith("/INCAR")).decode()
    for line in incar.splitlines():  # one tag per line, nothing after a ';'
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z_]+ *= [^;=#]*?( +# .*)?", line), line
    assert "ENCUT" not in incar.split("# Generated")[0]
    cp2k = next(t for k, t in decks.items() if k.endswith("/cp2k.inp")).decode()
    sections = [ln.strip() for ln in cp2k.splitlines() if ln.strip().startswith("&")]
    assert sections.count("&END FORCE_EVAL") == 1 and sections.count("&FORCE_EVAL") == 1
    pw = next(t for k, t in decks.items() if k.endswith("/pw.in")).decode()
    assert [ln for ln in pw.splitlines() if ln.strip() == "/"] == ["/"] * 5  # CONTROL SYSTEM ELECTRONS IONS CELL
    assert "&SYSTEM" in pw and pw.count("nat =") == 1
    for k, t in decks.items():
        if k.endswith("job.sh"):
            assert [ln for ln in t.decode().splitlines() if ln.startswith("#SBATCH")] == \
                   [ln for ln in clean[k].decode().splitlines() if ln.startswith("#SBATCH")]
    # the report shows the title escaped, never as markup
    html = (out / "report" / "index.html").read_text(encoding="utf-8") if (out / "report").is_dir() else ""
    assert "<script" not in html


def test_markup_in_a_title_is_escaped_in_the_report(tmp_path):
    fe, out = compile_study(tmp_path, 'study "markup" { title = "<script>alert(1)</script>" }\n' + LI2S
                            + "analyze Li2S { window }\n")
    assert out is not None
    html = out / "report" / "index.html"
    if not html.is_file():
        pytest.skip("this build has no HTML report")
    text = html.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


# ---- reading or writing outside the folders ---------------------------------------------------------------
ESCAPES = {
    "study id with ..": ('study "../escape" { title = "t" }\n' + LI2S + "analyze Li2S { window }\n", "SSE015", 1, 7),
    "study id that is an absolute path": ('study "/etc" { title = "t" }\n' + LI2S + "analyze Li2S { window }\n",
                                          "SSE015", 1, 7),
    "structure file above the study folder": (
        HEAD + 'material X { formula = Li2S  structure = file("../outside.cif") }\nanalyze X { window }\n',
        "SSE016", 2, 47),
    "structure file at an absolute path": (
        HEAD + 'material X { formula = Li2S  structure = file("/etc/passwd") }\nanalyze X { window }\n',
        "SSE016", 2, 47),
    "entries file above the study folder": (
        HEAD + LI2S + 'analyze Li2S { window }\ndata { thermo = entries("../e.json") }\n', "SSE016", 4, 25),
    "results folder at an absolute path": (
        HEAD + LI2S + 'analyze Li2S { window }\ndata { thermo = results("/home") }\n', "SSE016", 4, 25),
    "use of an absolute path": ('use "/etc/hosts.cell"\n' + HEAD + LI2S + "analyze Li2S { window }\n", "SSE063", 1, 5),
}


@pytest.mark.parametrize("case", sorted(ESCAPES), ids=sorted(ESCAPES))
def test_escape_is_refused(case, tmp_path):
    text, code, line, col = ESCAPES[case]
    refused(check(tmp_path, text), code, line, col)


def _outside(tmp_path: Path) -> tuple[Path, Path]:
    study = tmp_path / "study"
    outside = tmp_path / "outside"
    study.mkdir()
    outside.mkdir()
    return study, outside


@pytest.mark.parametrize("kind", ["file", "dir-of-file", "entries", "results"])
def test_links_leading_out_of_the_study_folder_are_refused(kind, tmp_path):
    study, outside = _outside(tmp_path)
    (outside / "secret.cif").write_text("data_secret\n")
    (outside / "e.json").write_text("[]")
    (outside / "runs").mkdir()
    if kind == "file":
        os.symlink(outside / "secret.cif", study / "x.cif")
        line = HEAD + 'material X { formula = Li2S  structure = file("x.cif") }\nanalyze X { window }\n'
        where = (2, 47)
    elif kind == "dir-of-file":
        os.symlink(outside, study / "shared")
        line = HEAD + 'material X { formula = Li2S  structure = file("shared/secret.cif") }\nanalyze X { window }\n'
        where = (2, 47)
    elif kind == "entries":
        os.symlink(outside / "e.json", study / "e.json")
        line = HEAD + LI2S + 'analyze Li2S { window }\ndata { thermo = entries("e.json") }\n'
        where = (4, 25)
    else:
        os.symlink(outside / "runs", study / "runs")
        line = HEAD + LI2S + 'analyze Li2S { window }\ndata { thermo = results("runs") }\n'
        where = (4, 25)
    fe = check(study, line)
    refused(fe, "SSE016", *where)
    assert "leads outside the study's folder" in render_all(fe.diagnostics, fe.sources)


def test_a_link_inside_the_study_folder_is_fine(tmp_path):
    study, _ = _outside(tmp_path)
    (study / "structures").mkdir()
    from pymatgen.core import Lattice, Structure

    Structure(Lattice.cubic(5.7), ["Li", "Li", "S"], [[0.25] * 3, [0.75] * 3, [0, 0, 0]]).to(
        filename=str(study / "structures" / "li2s.cif"))
    os.symlink("structures/li2s.cif", study / "x.cif")
    fe = check(study, HEAD + 'material X { formula = Li2S  structure = file("x.cif") }\nanalyze X { window }\n')
    assert not errors(fe)


def test_an_entries_file_cannot_import_modules(tmp_path):
    (tmp_path / "e.json").write_text('[{"@module": "os", "@class": "system", "composition": {"Li": 1}}]')
    fe = check(tmp_path, HEAD + LI2S + 'analyze Li2S { window }\ndata { thermo = entries("e.json") }\n')
    assert fe.ok
    assert resolve_data(fe, tmp_path / "study.cell") is None
    (d,) = [d for d in fe.diagnostics if d.is_error]
    assert d.code == "SSE104" and "'os.system' object" in d.message and (d.span.line, d.span.col) == (4, 17)


# ---- links in the build folder ----------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["study folder", "structures", "calcs", "study.json"])
def test_links_in_the_build_folder_are_refused_and_nothing_is_written(where, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine\n")
    build = tmp_path / "build"
    out = build / "hostile"
    if where == "study folder":
        build.mkdir()
        os.symlink(victim, out)
    elif where == "study.json":
        out.mkdir(parents=True)
        os.symlink(victim / "keep.txt", out / "study.json")
    else:
        out.mkdir(parents=True)
        os.symlink(victim, out / where)
    fe, built = compile_study(tmp_path, HEAD + LI2S + "analyze Li2S { window }\n")
    assert built is None
    (d,) = [d for d in fe.diagnostics if d.is_error]
    assert d.code == "SSE110" and "is a symbolic link" in d.message and (d.span.line, d.span.col) == (1, 7)
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"] and (victim / "keep.txt").read_text() == "mine\n"
    # write_build on its own refuses too (a link made after the check)
    from sselang.compile import _prepare

    fe = front_end(tmp_path / "study.cell")
    data = resolve_data(fe, tmp_path / "study.cell")
    with pytest.raises(BuildError, match="symbolic link"):
        write_build(fe.study, fe.sources, build, data)
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
    assert _prepare  # imported: the same check runs before anything is written


def test_a_link_in_the_build_folder_through_the_command_line(tmp_path):
    (tmp_path / "study.cell").write_text(HEAD + LI2S + "analyze Li2S { window }\n")
    (tmp_path / "build").mkdir()
    os.symlink("/", tmp_path / "build" / "hostile")
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", "study.cell"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout and "internal error" not in r.stderr
    assert "error[SSE110]" in r.stderr and "study.cell:1:7" in r.stderr


# ---- resources -----------------------------------------------------------------------------------------------------
def _diffusion(items: str, extra: str = "") -> str:
    return (HEAD + LI2S + "analyze Li2S {\n  diffusion {\n    temperatures = " + items
            + "\n    duration = 10 ps\n" + extra + "  }\n}\n")


def test_a_million_element_list_is_refused_by_size(tmp_path):
    fe = check(tmp_path, _diffusion("[" + ",".join(["600"] * 1_000_000) + "] K"))
    assert [d.code for d in fe.diagnostics] == ["SSE006"] and fe.study is None


def test_a_hundred_thousand_element_list_is_refused_before_parsing(tmp_path):
    t0 = time.perf_counter()
    fe = check(tmp_path, _diffusion("[" + ",".join(["1"] * 100_000) + "] K"))
    seconds = time.perf_counter() - t0
    assert [d.code for d in fe.diagnostics] == ["SSE006"] and "words and symbols" in fe.diagnostics[0].message
    assert seconds < 5.0


def test_ten_thousand_temperatures(tmp_path):
    fe = check(tmp_path, _diffusion("[" + ", ".join(str(600 + i % 600) for i in range(10_000)) + "] K"))
    refused(fe, "SSE045", 5, 20)
    assert "10000 entries; at most 50" in render_all(fe.diagnostics, fe.sources)


def test_the_token_budget_covers_the_files_a_study_uses(tmp_path):
    for k in range(2):  # each file alone is within the budget (60,000 tokens), together they are not
        (tmp_path / f"part{k}.cell").write_text(f"material M{k} {{ formula = Li2S  mixed_valence = ["
                                                + "1," * 30_000 + "] }\n")
    t0 = time.perf_counter()
    fe = check(tmp_path, 'use "part0.cell"\nuse "part1.cell"\n' + HEAD + LI2S + "analyze Li2S { window }\n")
    refused(fe, "SSE006", 2, 5)
    assert "with the files before it" in render_all(fe.diagnostics, fe.sources)
    assert time.perf_counter() - t0 < 10.0


@pytest.mark.parametrize("extra, code, line, col", [
    ("    supercell = min 1e6 Å\n", "SSE045", 7, 17),
    ("    timestep = 1e-6 fs\n", "SSE045", 6, 16),
])
def test_aimd_beyond_any_budget(extra, code, line, col, tmp_path):
    refused(check(tmp_path, _diffusion("[600, 800, 1000] K", extra)), code, line, col)


def test_an_ordering_cell_of_ten_million_atoms(tmp_path):
    fe = check(tmp_path, HEAD + 'material X {\n  formula = Li6PS5Cl\n  structure = library("Li6PS5Cl")\n'
               "  order = ewald { max_atoms = 10000000 }\n}\nanalyze X { window }\n")
    refused(fe, "SSE045", 5, 31)


def test_a_supercell_of_ten_thousand_atoms_is_refused_at_compile(tmp_path):
    fe, out = compile_study(tmp_path, _diffusion("[600, 800, 1000] K", "    supercell = min 59 Å\n"))
    assert out is None and not (tmp_path / "build").exists()
    (d,) = [d for d in fe.diagnostics if d.is_error]
    assert d.code == "SSE045" and "atoms; a calculation holds at most 5000" in d.message
    assert (d.span.line, d.span.col) == (7, 17)


def test_a_structure_file_of_six_thousand_atoms(tmp_path):
    n = 18  # 18^3 cubic cells of Li2S with one formula unit each: 17,496 atoms
    lines = ["big", "1.0", f"{5.7 * n} 0 0", f"0 {5.7 * n} 0", f"0 0 {5.7 * n}", "Li S", f"{2 * n**3} {n**3}", "Direct"]
    for el, offs in (("Li", [(0.25, 0.25, 0.25), (0.75, 0.75, 0.75)]), ("S", [(0, 0, 0)])):
        for i in range(n):
            for j in range(n):
                for k in range(n):
                    for o in offs:
                        lines.append(f"{(i + o[0]) / n:.6f} {(j + o[1]) / n:.6f} {(k + o[2]) / n:.6f}")
    (tmp_path / "POSCAR").write_text("\n".join(lines) + "\n")
    fe, out = compile_study(tmp_path, HEAD + 'material X { formula = Li2S  structure = file("POSCAR") }\n'
                            "analyze X { window }\n")
    assert out is None
    (d,) = [d for d in fe.diagnostics if d.is_error]
    assert d.code == "SSE102" and "17496 atoms; a calculation takes at most 5000" in d.message
    assert (d.span.line, d.span.col) == (2, 42)


def test_cyclic_use(tmp_path):
    (tmp_path / "a.cell").write_text('use "b.cell"\nmaterial A { formula = Li2S }\n')
    (tmp_path / "b.cell").write_text('use "a.cell"\nmaterial B { formula = Li2S }\n')
    fe = check(tmp_path, 'use "a.cell"\n' + HEAD + "analyze A { window }\n")
    assert ("SSE061", 1, 5) in errors(fe) and fe.study is None
    assert any("cyclic use" in d.message and d.path.endswith("b.cell") for d in fe.diagnostics)


def test_a_use_chain_of_a_thousand_files(tmp_path):
    n = 1000  # the chain once exhausted the recursion (a crash); it stops at 16 files
    for i in range(n):
        (tmp_path / f"f{i}.cell").write_text(f'use "f{i + 1}.cell"\nmaterial M{i} {{ formula = Li2S }}\n')
    (tmp_path / f"f{n}.cell").write_text("material Z { formula = Li2S }\n")
    fe = check(tmp_path, 'use "f0.cell"\n' + HEAD + "analyze Z { window }\n")
    assert [(d.code, Path(d.path).name, d.span.line, d.span.col) for d in fe.diagnostics if d.is_error] == \
        [("SSE064", "f15.cell", 1, 5)]


def test_nesting_and_huge_numbers(tmp_path):
    refused(check(tmp_path, HEAD + "analyze Li2S { window }\nengine vasp { encut = " + "[" * 40 + "]" * 40 + " }\n"),
            "SSE008", 3, 54)
    refused(check(tmp_path, HEAD + LI2S + "analyze Li2S { window }\nengine vasp { encut = 1e400 eV }\n"),
            "SSE044", 4, 23)
