"""`sselang explain` and its catalog (sselang/checks/catalog.py).

(a) the catalog and the codes emitted in sselang/ stay in step;
(b) every example study really triggers its code, with the catalog's severity;
(c) the command line: one code, an unknown code, the listing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import sselang
from sselang.checks.catalog import CATALOG, Entry
from sselang.cli import cli

PACKAGE = Path(sselang.__file__).resolve().parent
CODE = re.compile(r"SSE\d{3}")

# Examples that cannot trigger their code because of a bug in the checker:
# code -> reason (the test is marked xfail, strict, so a fix is noticed).
CHECKER_BUGS: dict[str, str] = {}


def source_codes() -> dict[str, list[str]]:
    """Every SSE code written in the package's source (the catalog itself
    excluded), with the files it appears in."""
    found: dict[str, list[str]] = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        if f.name == "catalog.py" and f.parent.name == "checks":
            continue
        for code in set(CODE.findall(f.read_text(encoding="utf-8"))):
            found.setdefault(code, []).append(str(f.relative_to(PACKAGE)))
    return found


# ---- (a) catalog <-> source ---------------------------------------------------------
def test_source_has_codes():
    assert len(source_codes()) > 20  # the grep itself works


def test_every_emitted_code_is_explained():
    missing = {c: fs for c, fs in source_codes().items() if c not in CATALOG}
    assert not missing, f"codes without a catalog entry: {missing}"


def test_no_stale_catalog_entries():
    stale = sorted(set(CATALOG) - set(source_codes()))
    assert not stale, f"catalog entries for codes nothing emits: {stale}"


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_entry_is_well_formed(code):
    e = CATALOG[code]
    assert isinstance(e, Entry)
    assert CODE.fullmatch(code)
    assert e.severity in ("error", "warning")
    assert e.title and e.title == e.title.strip() and not e.title.endswith(".")
    assert len(e.explanation) > 80
    assert e.fix
    assert e.example and e.example.strip()


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_render(code):
    e = CATALOG[code]
    page = e.render(code)
    lines = page.splitlines()
    assert lines[0] == f"{code}: {e.title} ({e.severity})"
    assert lines[1] == ""
    assert any(line.startswith("Example") for line in lines)
    assert any(line.startswith("Fix: ") for line in lines)
    for line in lines:
        assert len(line) <= 88, line
    # the example appears verbatim, indented by four spaces
    for ex_line in e.example.splitlines():
        if ex_line.strip():
            assert "    " + ex_line in lines


def test_catalog_import_is_light():
    prog = ("import sys; from click.testing import CliRunner; from sselang.cli import cli; "
            "r = CliRunner().invoke(cli, ['explain', 'SSE032']); assert r.exit_code == 0, r.output; "
            "heavy = [m for m in ('pint', 'pymatgen', 'lark', 'pydantic') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", prog], check=True)


# ---- (b) the examples trigger their codes ------------------------------------------------
def _file_examples():
    for code in sorted(CATALOG):
        if not CATALOG[code].example_is_file:
            continue
        marks = [pytest.mark.xfail(reason=CHECKER_BUGS[code], strict=True)] if code in CHECKER_BUGS else []
        yield pytest.param(code, id=code, marks=marks)


@pytest.mark.parametrize("code", list(_file_examples()))
def test_example_triggers_its_code(code, tmp_path):
    e = CATALOG[code]
    path = tmp_path / "example.cell"
    path.write_text(e.example, encoding="utf-8")
    for name, text in e.companions:
        (tmp_path / name).write_text(text, encoding="utf-8")
    diags = sselang.check(path)
    got = {(d.code, d.severity.value) for d in diags}
    shown = "\n".join(f"  {d.code} {d.severity.value}: {d.message}" for d in diags) or "  (none)"
    assert code in {c for c, _ in got}, f"{code} example does not trigger {code}; got:\n{shown}"
    assert (code, e.severity) in got, f"{code} is reported, but not as {e.severity}:\n{shown}"


def test_non_file_examples_are_few():
    # only what no study text can reproduce by `check`: unreadable/huge files, internal
    # errors, the codes of compile's data stage (tests/test_data_stage.py triggers those),
    # a chain of 17 used files (SSE064) and compile's build checks (tests/test_hostile.py)
    compile_stage = {"SSE102", "SSE104", "SSE105", "SSE106", "SSE107", "SSE108", "SSE109", "SSE110", "SSE111"}
    assert {c for c, e in CATALOG.items() if not e.example_is_file} <= {"SSE005", "SSE006", "SSE064", "SSE099"} | compile_stage


# ---- (c) the command line ----------------------------------------------------------------
def _runner() -> CliRunner:
    return CliRunner()


def test_explain_one_code():
    r = _runner().invoke(cli, ["explain", "SSE031"])
    assert r.exit_code == 0, r.output
    assert CATALOG["SSE031"].title in r.output
    assert r.output.startswith("SSE031: ")
    assert "LjCoO2" in r.output


@pytest.mark.parametrize("spelling", ["sse031", "31", "031"])
def test_explain_code_spellings(spelling):
    r = _runner().invoke(cli, ["explain", spelling])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("SSE031: ")


def test_explain_unknown_code():
    r = _runner().invoke(cli, ["explain", "SSE999"])
    assert r.exit_code == 2
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    assert "SSE999" in r.stderr
    assert r.stdout == ""


def test_explain_lists_all_codes():
    r = _runner().invoke(cli, ["explain"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    listed = [line.split()[0] for line in lines]
    assert listed == sorted(CATALOG)
    for line in lines:
        code = line.split()[0]
        assert CATALOG[code].title in line
        assert CATALOG[code].severity in line
