"""The pre-commit hooks (.pre-commit-hooks.yaml) and the CI guide (docs/ci.md)
do what they say: each hook's command, run as pre-commit runs it (the entry
followed by the matching file names), passes the examples and fails a study
that is misformatted or broken, with the exit codes docs/ci.md lists; the
guide's annotation script turns real `check --format json` output into
workflow annotations.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"
GUIDE = ROOT / "docs" / "ci.md"


def _hooks() -> list[dict[str, str]]:
    """The hook file: a YAML list of flat mappings of plain scalars (all it needs to be)."""
    hooks: list[dict[str, str]] = []
    for line in HOOKS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.fullmatch(r"(- |  )(\w+): (.*)", line)
        assert m, f"unexpected line in {HOOKS.name}: {line!r}"
        if m.group(1) == "- ":
            hooks.append({})
        hooks[-1][m.group(2)] = m.group(3)
    return hooks


def _run_hook(hook: dict[str, str], files: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    argv = shlex.split(hook["entry"])
    assert argv[0] == "sselang"
    matching = [str(f) for f in files if re.search(hook["files"], str(f))]
    return subprocess.run([sys.executable, "-m", "sselang.cli", *argv[1:], *matching], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_hooks():
    hooks = {h["id"]: h for h in _hooks()}
    assert set(hooks) == {"sselang-fmt", "sselang-check"}
    assert hooks["sselang-fmt"]["entry"] == "sselang fmt --check"
    assert hooks["sselang-check"]["entry"] == "sselang check"
    for h in hooks.values():
        assert h["language"] == "python"
        assert re.search(h["files"], "studies/baseline.cell") and not re.search(h["files"], "notes.cellar")


def test_the_hooks_pass_the_examples():
    for hook in _hooks():
        r = _run_hook(hook, list(EXAMPLES) + [ROOT / "README.md"], ROOT)
        assert r.returncode == 0, (hook["id"], r.stdout, r.stderr)


def test_the_hooks_fail_what_they_should(tmp_path):
    hooks = {h["id"]: h for h in _hooks()}
    good = tmp_path / "good.cell"
    good.write_text((ROOT / "examples" / "baseline.cell").read_text(encoding="utf-8"), encoding="utf-8")
    messy = tmp_path / "messy.cell"
    messy.write_text(good.read_text(encoding="utf-8").replace("  formula   = Li6PS5Cl", "  formula=Li6PS5Cl"),
                     encoding="utf-8")
    broken = tmp_path / "broken.cell"
    broken.write_text(good.read_text(encoding="utf-8").replace("formula   = Li6PS5Cl", "formula   = Lj6PS5Cl"),
                      encoding="utf-8")

    r = _run_hook(hooks["sselang-fmt"], [good, messy], tmp_path)
    assert r.returncode == 1
    assert "-  formula=Li6PS5Cl\n+  formula   = Li6PS5Cl" in r.stdout  # the diff, on stdout
    assert f"would reformat {messy}" in r.stderr and "good.cell" not in r.stderr
    assert "formula=Li6PS5Cl" in messy.read_text(encoding="utf-8")  # --check writes nothing

    r = _run_hook(hooks["sselang-check"], [good, messy], tmp_path)
    assert r.returncode == 0  # messy but correct
    r = _run_hook(hooks["sselang-check"], [good, broken], tmp_path)
    assert r.returncode == 1 and "error[SSE031]: 'Lj' is not an element" in r.stderr
    assert "Traceback" not in r.stderr


def test_usage_errors_exit_with_2(tmp_path):
    for argv in (["check"], ["fmt", "--check"], ["check", "--no-such-option", "x.cell"]):
        r = subprocess.run([sys.executable, "-m", "sselang.cli", *argv], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2, argv


def _guide_block(lang: str, containing: str) -> str:
    blocks = re.findall(rf"^```{lang}\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    (block,) = [b for b in blocks if containing in b]
    return block


def test_the_guides_local_hooks_match_the_hook_file():
    block = _guide_block("yaml", "repo: local")
    for hook in _hooks():
        assert f"id: {hook['id']}" in block and f"entry: {hook['entry']}" in block
        assert f"files: {hook['files']}" in block


def test_the_guides_annotation_script(tmp_path):
    script = tmp_path / "annotate.py"
    script.write_text(_guide_block("python", "::{kind}"), encoding="utf-8")
    study = tmp_path / "study.cell"
    study.write_text('study "x" { title = "t"  refrence = "r" }\n\nmaterial Unused { formula = Li3PS4 }\n\n'
                     "analyze Li3PS4 { window }\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "check", "--format", "json", "study.cell"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    (tmp_path / "diagnostics.json").write_text(r.stdout, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script), "diagnostics.json"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "::error file=study.cell,line=1,col=26,title=SSE010::unknown key 'refrence' in study "
        "(help: did you mean 'reference'?)",
        "::warning file=study.cell,line=3,col=10,title=SSE090::material 'Unused' is defined but never used "
        "(help: use it in a cell or analysis, or remove it)",
    ]
