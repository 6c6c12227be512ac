"""Golden tests over the corpus of broken studies in tests/bad/.

Every case is a file tests/bad/NNN_short_name.cell with a golden file
tests/bad/NNN_short_name.expected beside it: the diagnostics the front end
must report, one per line as `CODE LINE:COL` (e.g. `SSE031 12:13`; `0:0` for a
diagnostic about a whole file), errors and warnings alike, in the order the
tool sorts them.  An empty .expected file means the study must check clean.
A diagnostic in a file the case `use`s is listed with its line and column in
that file.

Cases that cannot be committed as files are described by a small
NNN_short_name.gen instead (`key = value` lines) and written into tmp_path by
the test: the 5 MB study.  tests/bad/_support/ holds files the cases `use`;
they are not cases themselves.

Besides the codes and positions, every diagnostic must render (the text
printer, with its caret line), and a handful of cases run through the CLI in
a subprocess: exit code 1 when there are errors, 0 otherwise, never a
traceback.

After a deliberate change in what the checker reports, rewrite the golden
files with

    SSELANG_UPDATE_GOLDEN=1 python -m pytest tests/test_bad_corpus.py

and review `git diff tests/bad` before committing: the golden files are the
record of what a user sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sselang.checks.printer import render, render_all
from sselang.pipeline import front_end

BAD = Path(__file__).resolve().parent / "bad"
CASES = sorted([*BAD.glob("*.cell"), *BAD.glob("*.gen")])
UPDATE = os.environ.get("SSELANG_UPDATE_GOLDEN") == "1"

# Run through the CLI too (a subprocess each, so only a few): one per kind of
# failure that has bitten before or ends the run early.
CLI_CASES = {
    "001_missing_equals",  # syntax error
    "025_cyclic_use",  # error in an imported file
    "029_binary",  # file refused before parsing
    "031_huge",  # generated, refused by size
    "050_mixed_valence_accepted",  # must pass: exit 0
    "074_engine_number_out_of_range",  # crashed the resolver once
    "075_deep_nesting",  # would exhaust the parser's recursion
    "101_engine_setting_name_for_number",  # crashed compile once (float of a name)
    "103_use_chain_too_deep",  # a long chain exhausted the recursion once
}


def _generate(spec: Path, tmp_path: Path) -> Path:
    """Write the file a .gen case describes; return its path."""
    conf = {}
    for line in spec.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            conf[key.strip()] = value.strip()
    head, fill, size = conf["head"] + "\n", conf["fill"] + "\n", int(conf["bytes"])
    n = max(0, -(-(size - len(head.encode())) // len(fill.encode())))
    out = tmp_path / (spec.stem + ".cell")
    out.write_text(head + fill * n, encoding="utf-8")
    assert out.stat().st_size >= size
    return out


def _case_path(case: Path, tmp_path: Path) -> Path:
    return _generate(case, tmp_path) if case.suffix == ".gen" else case


def _listing(diags) -> list[str]:
    return [f"{d.code} {d.span.line if d.span else 0}:{d.span.col if d.span else 0}" for d in diags]


def test_corpus_is_complete():
    assert len(CASES) >= 48, f"only {len(CASES)} cases in {BAD}"
    stems = [c.stem for c in CASES]
    assert len(stems) == len(set(stems)), "two cases share a name"
    orphans = sorted(p.name for p in BAD.glob("*.expected") if p.stem not in stems)
    assert not orphans, f"golden files without a case: {orphans}"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_study(case: Path, tmp_path: Path):
    path = _case_path(case, tmp_path)
    fe = front_end(path)
    got = _listing(fe.diagnostics)

    golden = case.with_suffix(".expected")
    if UPDATE:
        golden.write_text("".join(line + "\n" for line in got), encoding="utf-8")
    assert golden.exists(), f"{golden.name} is missing; create it with SSELANG_UPDATE_GOLDEN=1"
    expected = [line.strip() for line in golden.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert got == expected, "\n" + render_all(fe.diagnostics, fe.sources)

    # every diagnostic renders, and one with a position in a file that was
    # read shows the line and a caret under the culprit
    text = render_all(fe.diagnostics, fe.sources)
    assert isinstance(text, str)
    for d in fe.diagnostics:
        shown = render(d, fe.sources)
        assert f"[{d.code}]" in shown
        if d.span is not None and d.path in fe.sources:
            assert "^" in shown, shown
    if any(d.is_error for d in fe.diagnostics):
        assert fe.study is None and not fe.ok


@pytest.mark.parametrize("case", [c for c in CASES if c.stem in CLI_CASES],
                         ids=[c.stem for c in CASES if c.stem in CLI_CASES])
def test_bad_study_cli(case: Path, tmp_path: Path):
    path = _case_path(case, tmp_path)
    has_errors = any(d.is_error for d in front_end(path).diagnostics)
    proc = subprocess.run([sys.executable, "-m", "sselang.cli", "check", str(path)],
                          capture_output=True, text=True, timeout=120, cwd=BAD)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == (1 if has_errors else 0), proc.stderr


def test_cli_cases_exist():
    assert {c.stem for c in CASES} >= CLI_CASES
