"""The fuzzer of tests/fuzzing.py through check and the whole compile: the CI sample.

About 120 inputs here (SSELANG_FUZZ_SCALE multiplies them); the dedicated run is
`python bench/fuzz.py` (10,000 inputs, its counts in docs/reliability.md).  Each input:
never an exception, well-formed diagnostics, under 5 s of CPU, and when it checks clean a
build whose manifest matches its files.  CHGNet relaxations of derived materials are left
out (as without torch): their minutes are the model's, not the compiler's.
"""

from __future__ import annotations

import os
from collections import Counter
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import fuzzing

SCALE = float(os.environ.get("SSELANG_FUZZ_SCALE", "1"))
STAGES: Counter = Counter()  # where the inputs ended, printed at the end (pytest -s)


@pytest.fixture(autouse=True)
def _no_ml(monkeypatch):
    import sselang.data.ml as ml

    monkeypatch.setattr(ml, "available", lambda: False)


@pytest.fixture(scope="module", autouse=True)
def _warm():
    # every seed compiled once first: the CPU time of an input must not include the first
    # imports of pymatgen's input sets, CIF writer and the like (seconds, once per process)
    import sselang.data.ml as ml

    real, ml.available = ml.available, (lambda: False)
    try:
        for seed in fuzzing.SEEDS:
            with tempfile.TemporaryDirectory() as d:
                res = fuzzing.run_one(seed, Path(d))
            # the mutations start from studies that compile
            assert res["stage"] == "compiled", res
    finally:
        ml.available = real
    yield
    print(f"\nfuzzed through compile: {sum(STAGES.values())} inputs, "
          + ", ".join(f"{k} {v}" for k, v in sorted(STAGES.items())))


def _assert_fine(data) -> None:
    with tempfile.TemporaryDirectory() as d:
        res = fuzzing.run_one(data, Path(d))
    STAGES[res["stage"]] += 1
    assert res["stage"] != "crash", res["problem"]
    assert res["cpu_s"] < fuzzing.HANG_SECONDS, f"{res['cpu_s']:.1f} s of CPU ({res['stage']})"


@settings(max_examples=int(70 * SCALE), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(fuzzing.grammar_input())
def test_grammar_aware_inputs_through_compile(text):
    _assert_fine(text)


@settings(max_examples=int(50 * SCALE), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(fuzzing.byte_input())
def test_byte_level_inputs_through_compile(data):
    _assert_fine(data)


@settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(fuzzing.grammar_input())
def test_inputs_through_the_command_line(text):
    # a traceback printed by the command line itself (stdout or stderr) is a failure too
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "study.cell"
        p.write_bytes(text.encode("utf-8", "surrogatepass"))
        for args in (["check", str(p)], ["compile", str(p), "--build-dir", str(Path(d) / "build")]):
            r = subprocess.run([sys.executable, "-m", "sselang.cli", *args], capture_output=True, cwd=d, timeout=600)
            out = (r.stdout + r.stderr).decode("utf-8", "replace")
            assert "Traceback" not in out and "internal error" not in out, out
            assert r.returncode in (0, 1), out
            if r.returncode:
                break


@pytest.mark.parametrize("path", sorted((Path(__file__).parent / "fuzz_found").glob("*.cell")), ids=lambda p: p.stem)
def test_what_the_dedicated_run_found_stays_fixed(path):
    # inputs bench/fuzz.py once reported (crashes go to tests/bad with their diagnostics;
    # these compile clean and were too slow)
    _assert_fine(path.read_bytes())
