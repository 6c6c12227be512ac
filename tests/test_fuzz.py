"""Property-based fuzzing of the front end (`check` only, no compile).

The grammar-aware mutations of tests/fuzzing.py (the strategy the compile fuzzer and
bench/fuzz.py use) and random text go through `check`: never an exception, always either a
clean study or diagnostics with valid spans, within 5 s.  CI runs about 2,200 inputs; set
SSELANG_FUZZ_SCALE=10 (or more) for a longer run.
"""

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing
from sselang.pipeline import front_end_text

SCALE = float(os.environ.get("SSELANG_FUZZ_SCALE", "1"))


def _assert_well_formed(text: str) -> None:
    t0 = time.perf_counter()
    fe = front_end_text(text, "study.cell")
    elapsed = time.perf_counter() - t0
    assert elapsed < fuzzing.HANG_SECONDS, f"front end took {elapsed:.1f} s"
    problem = fuzzing.well_formed(fe, len(text))
    assert problem is None, problem


@settings(max_examples=int(1600 * SCALE), deadline=None, suppress_health_check=list(HealthCheck))
@given(fuzzing.grammar_input())
def test_mutated_examples_never_crash(text):
    _assert_well_formed(text)


GRAMMAR_CHARS = st.sampled_from(list('abcdeLiCoOPSK{}[]()=,|."#<>-+ \n0123456789%/Åμ°'))


@settings(max_examples=int(600 * SCALE), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.text(GRAMMAR_CHARS, max_size=200), st.text(max_size=200)))
def test_random_text_never_crashes(text):
    _assert_well_formed(text)


@settings(max_examples=int(100 * SCALE), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300))
def test_random_bytes_through_the_file_reader(tmp_path_factory, data):
    from sselang.pipeline import front_end

    p = tmp_path_factory.mktemp("bytes") / "x.cell"
    p.write_bytes(data)
    fe = front_end(p)
    problem = fuzzing.well_formed(fe, None)
    assert problem is None, problem


def test_deep_nesting_and_long_lines_are_refused_quickly():
    for text in ('study "x" { }\nanalyze x { diffusion { temperatures = ' + "[" * 5000 + "]" * 5000 + " } }",
                 'study "x" { title = "' + "a" * 200_000 + '" }',
                 "material " + "A" * 100_000 + " { }"):
        _assert_well_formed(text)
