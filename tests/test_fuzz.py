"""Property-based fuzzing of the front end.

Grammar-aware mutations of the examples (token deletions, swaps, duplications,
insertions of keywords, units, huge numbers, unicode and deep nesting) and
random text go through `check`: never an exception, always either a clean
study or diagnostics with valid spans.  CI runs about 2,200 inputs; set
SSELANG_FUZZ_SCALE=10 (or more) for a dedicated long run.
"""

import os
import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sselang.checks.printer import render_all
from sselang.pipeline import front_end_text

from conftest import EXAMPLES

SCALE = float(os.environ.get("SSELANG_FUZZ_SCALE", "1"))
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\s+|[A-Za-z_][A-Za-z0-9_.()]*|[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\.|->|<=|>=|.', re.S)
SEEDS = [p.read_text() for p in EXAMPLES]
VOCAB = ["study", "material", "cell", "analyze", "engine", "data", "run", "use", "window", "profile", "reactivity",
         "diffusion", "barrier", "screen", "interface", "require", "rank", "by", "with", "open", "at", "min", "along",
         "after", "all", "from", "substitute", "add", "remove", "true", "false", "{", "}", "[", "]", "(", ")", "=",
         ",", "|", "..", "->", "<=", ">=", "K", "V", "degC", "meV/atom", "Å", "wt%", "%", "C", "fs", "ps", "1e999",
         "-1e308", "0", "-5", "99999999999999999999999", "Lj", "LiCoO2", "Li6PS6Cl", "LiTi2(PO4)3", "Xx9",
         '"\\"', '"a\nb"', "\u00e9", "\u202e", "\U0001f50b", "\x00", "\t", "#", "\n", "[" * 200, "{" * 200,
         "use \"self.cell\"", "temperatures = [1, 2] K", "coating = LiNbO3"]


def _assert_well_formed(text: str) -> None:
    t0 = time.perf_counter()
    fe = front_end_text(text, "fuzz.cell")
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"front end took {elapsed:.1f} s"
    for d in fe.diagnostics:
        assert re.fullmatch(r"SSE\d{3}", d.code)
        assert d.message
        if d.span is not None:
            assert 0 <= d.span.start <= d.span.end <= len(text)
            assert d.span.line >= 1 and d.span.col >= 1
    if fe.study is None:
        assert any(d.is_error for d in fe.diagnostics), "no study and no error"
    render_all(fe.diagnostics, fe.sources)


@st.composite
def mutated_example(draw):
    tokens = TOKEN.findall(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "swap", "dup", "insert", "replace"]))
        i = draw(st.integers(0, len(tokens) - 1))
        if op == "delete" and len(tokens) > 1:
            del tokens[i]
        elif op == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "dup":
            tokens.insert(i, tokens[i])
        elif op == "insert":
            tokens.insert(i, draw(st.sampled_from(VOCAB)))
        else:
            tokens[i] = draw(st.one_of(st.sampled_from(VOCAB), st.text(max_size=8)))
    return "".join(tokens)


@settings(max_examples=int(1600 * SCALE), deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_example())
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
    if fe.study is None:
        assert any(d.is_error for d in fe.diagnostics)
    render_all(fe.diagnostics, fe.sources)


def test_deep_nesting_and_long_lines_are_refused_quickly():
    for text in ('study "x" { }\nanalyze x { diffusion { temperatures = ' + "[" * 5000 + "]" * 5000 + " } }",
                 'study "x" { title = "' + "a" * 200_000 + '" }',
                 "material " + "A" * 100_000 + " { }"):
        _assert_well_formed(text)
