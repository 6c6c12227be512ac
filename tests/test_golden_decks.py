"""Golden-file tests of the decks: input and expected output side by side.

Every case is a folder tests/decks/<case>/ with

    study.cell      a small study (few atoms, one or two calculations)
    expected/       the files sselang writes for it, byte for byte:
                    expected/<calculation id>/...  (INCAR, KPOINTS, POSCAR, POTCAR.spec,
                                                    pw.in, cp2k.inp, README.md, job.sh, NEB
                                                    image folders 00/ 01/ ...)
                    expected/jobs/<series>.sh      (the job arrays of the AIMD series)

The test compiles each study into tmp_path, as `sselang compile` does, and
compares every file of calcs/ and jobs/ with expected/: a missing, extra or
different file fails the case, with a unified diff of each difference.  The
only normalisation is the sselang version, written "<version>" on both sides,
so that a release does not touch the golden files.

After a deliberate change in the decks (or in a case), rewrite expected/ with

    SSELANG_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_decks.py

and review `git diff tests/decks` before committing: the golden files are the
record of what the clusters are given to run.  A change in a deck for the same
inputs also needs plan.DECK_VERSION bumped (the ids then change too).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from pathlib import Path

import pytest

from sselang import __version__
from sselang.compile import resolve_data, write_build
from sselang.decks import cp2k
from sselang.pipeline import front_end

DECKS = Path(__file__).resolve().parent / "decks"
CASES = sorted(p for p in DECKS.iterdir() if p.is_dir()) if DECKS.is_dir() else []
UPDATE = os.environ.get("SSELANG_UPDATE_GOLDEN") == "1"
# the version as a whole token (a full stop may end the sentence after it), never
# part of a longer number such as 10.1.05 or 0.1.0.2
_VERSION = re.compile(rf"(?<![\w.]){re.escape(__version__)}(?!\w|\.\w)")
MAX_DIFF_LINES = 60  # per file; a POSCAR diff can run to hundreds of lines


def _normalise(text: str) -> str:
    return _VERSION.sub("<version>", text)


def _compile(study: Path, out: Path) -> Path:
    fe = front_end(study)
    data = resolve_data(fe, study) if fe.ok else None
    errors = [f"{d.code} {d.message}" for d in fe.diagnostics if d.is_error]
    assert fe.ok and data is not None, f"{study} does not compile: {errors}"
    return write_build(fe.study, fe.sources, out, data)


def _written(build: Path) -> dict[str, str]:
    """Relative path (under calcs/ without the prefix, or jobs/...) -> normalised text."""
    files = {}
    for sub, prefix in (("calcs", ""), ("jobs", "jobs/")):
        root = build / sub
        if root.is_dir():
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    files[prefix + p.relative_to(root).as_posix()] = _normalise(p.read_bytes().decode("utf-8"))
    return files


def _expected(case: Path) -> dict[str, str]:
    root = case / "expected"
    return {p.relative_to(root).as_posix(): p.read_bytes().decode("utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


def _report(got: dict[str, str], want: dict[str, str]) -> str:
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    different = sorted(n for n in set(got) & set(want) if got[n] != want[n])
    out = []
    if missing:
        out.append("missing (expected, not written): " + ", ".join(missing))
    if extra:
        out.append("extra (written, not expected): " + ", ".join(extra))
    if different:
        out.append("different: " + ", ".join(different))
    for n in different:
        diff = list(difflib.unified_diff(want[n].splitlines(), got[n].splitlines(),
                                         f"expected/{n}", f"written/{n}", lineterm=""))
        if len(diff) > MAX_DIFF_LINES:
            diff = diff[:MAX_DIFF_LINES] + [f"... {len(diff) - MAX_DIFF_LINES} more diff lines"]
        out.append("\n".join(diff))
    return "\n".join(out)


def _needs_cp2k_data(case: Path) -> bool:
    # the CP2K deck names the data folder it chose its basis sets from
    return "cp2k" in (case / "study.cell").read_text(encoding="utf-8")


def test_cases_are_complete():
    assert len(CASES) >= 7, f"only {len(CASES)} cases in {DECKS}"
    for case in CASES:
        assert (case / "study.cell").is_file(), f"{case.name} has no study.cell"
        if not UPDATE:
            assert (case / "expected").is_dir(), f"{case.name} has no expected/; create it with SSELANG_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decks_match_the_golden_files(case: Path, tmp_path: Path, monkeypatch):
    # the CP2K deck reads $CP2K_DATA_DIR: pin it to the Debian default for every run
    monkeypatch.delenv("CP2K_DATA_DIR", raising=False)
    if _needs_cp2k_data(case) and not (Path(cp2k.DEBIAN_DATA_DIR) / "BASIS_MOLOPT").is_file():
        pytest.skip("cp2k-data is not installed (apt-get install cp2k-data)")
    got = _written(_compile(case / "study.cell", tmp_path / "build"))
    assert got, f"{case.name}: the study plans no calculation"
    if UPDATE:
        expected = case / "expected"
        if expected.exists():
            shutil.rmtree(expected)
        for name, text in got.items():
            target = expected / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
    want = _expected(case)
    if got != want:  # our report, not pytest's comparison of two large dicts
        pytest.fail(f"{case.name}: the decks differ from tests/decks/{case.name}/expected/ "
                    f"(SSELANG_UPDATE_GOLDEN=1 rewrites them)\n" + _report(got, want), pytrace=False)


def test_the_report_names_every_kind_of_difference():
    want = {"a/INCAR": "ISIF = 3\nNSW = 99\n", "a/KPOINTS": "Gamma\n"}
    got = {"a/INCAR": "ISIF = 3\nNSW = 0\n", "a/POSCAR": "Li\n"}
    text = _report(got, want)
    assert "missing (expected, not written): a/KPOINTS" in text
    assert "extra (written, not expected): a/POSCAR" in text
    assert "different: a/INCAR" in text and "-NSW = 99" in text and "+NSW = 0" in text


def test_only_the_version_is_normalised():
    assert _normalise(f"# Generated by sselang {__version__} for x\n") == "# Generated by sselang <version> for x\n"
    assert _normalise(f"by sselang {__version__}. Resources") == "by sselang <version>. Resources"
    # numbers that merely contain the version's digits stay as they are
    for text in (f"1{__version__}5", f"x{__version__}", f"{__version__}.2"):
        assert _normalise(text) == text
