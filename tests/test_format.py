"""The canonical formatter (sselang/syntax/formatter.py).

Golden files live in tests/format/ as pairs NAME.in.cell / NAME.out.cell.
To refresh an expected output after a deliberate layout change:

    python -c "from sselang.syntax.formatter import format_source as f; import sys; \
        p = sys.argv[1]; open(p.replace('.in.', '.out.'), 'w').write(f(open(p).read()))" tests/format/NAME.in.cell
"""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest

from sselang.checks.diagnostics import Diagnostic, Reporter
from sselang.syntax import ast
from sselang.syntax.formatter import FormatError, format_source
from sselang.syntax.parser import find_comments, parse_text
from sselang.syntax.source import SourceFile

GOLDEN = Path(__file__).resolve().parent / "format"
SHARED_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"

GOLDEN_NAMES = sorted(p.name[: -len(".in.cell")] for p in GOLDEN.glob("*.in.cell"))
EXAMPLES = sorted(SHARED_EXAMPLES.glob("*.cell")) if SHARED_EXAMPLES.is_dir() else []


# ---- helpers ------------------------------------------------------------------------------
def strip_spans(node):
    """The tree as nested tuples, without positions (and without comments,
    which are compared on their own)."""
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            (f.name, strip_spans(getattr(node, f.name)))
            for f in dataclasses.fields(node)
            if f.name not in ("span", "unit_span", "comments")
        )
    if isinstance(node, tuple):
        return tuple(strip_spans(x) for x in node)
    return node


def parse(text: str) -> ast.Module:
    rep = Reporter("<test>")
    module = parse_text(SourceFile("<test>", text), rep)
    assert module is not None and not rep.has_errors, [d.message for d in rep.items]
    return module


def comment_texts(text: str) -> list[str]:
    return [c.text for c in find_comments(SourceFile("<test>", text))]


def check_formatted(text: str) -> str:
    """Format `text` and check every invariant; return the output."""
    out = format_source(text)
    assert out == "" or (out.endswith("\n") and not out.endswith("\n\n"))
    assert strip_spans(parse(out)) == strip_spans(parse(text)), "the output parses to a different tree"
    assert comment_texts(out) == comment_texts(text), "comments lost, changed or reordered"
    assert format_source(out) == out, "not idempotent"
    for line in out.splitlines():
        assert line == line.rstrip(), f"trailing whitespace in {line!r}"
        assert "\t" not in line
    return out


def golden(name: str) -> tuple[str, str]:
    return ((GOLDEN / f"{name}.in.cell").read_text(encoding="utf-8"),
            (GOLDEN / f"{name}.out.cell").read_text(encoding="utf-8"))


# ---- golden files ---------------------------------------------------------------------------
def test_golden_files_exist():
    assert len(GOLDEN_NAMES) >= 8
    for name in GOLDEN_NAMES:
        assert (GOLDEN / f"{name}.out.cell").is_file(), f"{name}.out.cell is missing"


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_golden(name):
    src, expected = golden(name)
    assert format_source(src, f"{name}.in.cell") == expected


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_golden_invariants(name):
    src, expected = golden(name)
    check_formatted(src)
    assert format_source(expected) == expected  # the expected output is canonical itself


# ---- the shared examples ---------------------------------------------------------------------
@pytest.mark.skipif(not EXAMPLES, reason=f"{SHARED_EXAMPLES} not present")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples(path):
    check_formatted(path.read_text(encoding="utf-8"))


# ---- layout independence and robustness, on every input we have --------------------------
def _corpus() -> list[str]:
    texts = [golden(n)[0] for n in GOLDEN_NAMES]
    return texts + [p.read_text(encoding="utf-8") for p in EXAMPLES]


_TOKENISH = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[ \t\r\n]+')


def _relayout(text: str, rng: random.Random, comment_rate: float = 0.0) -> str:
    """Change the whitespace between tokens without adding or removing blank
    lines and without touching the whitespace next to a comment; with
    comment_rate > 0, also insert comments (and blank lines) at random."""
    out: list[str] = []
    pos = 0
    pieces = list(_TOKENISH.finditer(text))
    for i, m in enumerate(pieces):
        out.append(text[pos:m.start()])
        pos = m.end()
        ws = m.group(0)
        if ws[0] in '"#':
            out.append(ws)
            continue
        near_comment = text.startswith("#", m.end()) or (i > 0 and pieces[i - 1].group(0).startswith("#")
                                                         and pieces[i - 1].end() == m.start())
        if near_comment or ws.count("\n") >= 2:
            out.append(ws)
            continue
        r = rng.random()
        if comment_rate and r < comment_rate and not text.startswith("=", m.end()):
            out.append(f"   # c{len(out)}  \n")
        elif comment_rate and r < comment_rate + 0.1:
            out.append("\n\n\n  ")
        else:
            out.append(rng.choice([" ", "\n", "    ", "\n\t  ", " \n ", ws]))
    out.append(text[pos:])
    return "".join(out)


def test_layout_does_not_matter():
    rng = random.Random(20240611)
    for text in _corpus():
        canonical = format_source(text)
        for _ in range(5):
            assert format_source(_relayout(text, rng)) == canonical


def test_random_comments_and_blank_lines():
    rng = random.Random(7)
    for text in _corpus():
        for _ in range(8):
            check_formatted(_relayout(text, rng, comment_rate=0.3))


# ---- specific rules ----------------------------------------------------------------------------
def test_every_comment_kept_in_order():
    src = (
        "# top\n\n"
        "material X { # a\n"
        "  temps = [1, # b\n 2, # c\n 3] K # d\n"
        "  order = ewald { seed = 1 # e\n }\n"
        "  # f\n"
        "} # g\n"
        "# h\n"
    )
    out = check_formatted(src)
    assert comment_texts(out) == ["# top", "# a", "# b", "# c", "# d", "# e", "# f", "# g", "# h"]


def test_alignment_and_blank_lines():
    src = "material X {\n\n\n  a = 1\n  bbb = 2\n\n\n\n  cc = 3\n\n}\nrun { preview = chgnet }"
    assert format_source(src) == (
        "material X {\n  a   = 1\n  bbb = 2\n\n  cc = 3\n}\n\nrun { preview = chgnet }\n"
    )


def test_strings_are_requoted():
    src = 'study "a \\"b\\" \\\\ c\\nd" { title = "x" }'
    out = check_formatted(src)
    assert out.startswith('study "a \\"b\\" \\\\ c\\nd" {')


def test_long_list_is_wrapped_at_88_columns():
    items = ", ".join(str(100 * i) for i in range(1, 40))
    out = check_formatted(f"analyze X {{\n  diffusion {{ temperatures = [{items}] K }}\n}}")
    lines = out.splitlines()
    wrapped = [ln for ln in lines if "temperatures" in ln or ln.startswith(" " * 20)]
    assert len(wrapped) > 1
    assert all(len(ln) <= 88 for ln in lines)
    col = lines[2].index("[") + 1
    for ln in wrapped[1:]:
        assert len(ln) - len(ln.lstrip()) == col
    assert wrapped[-1].endswith("] K")


def test_nested_block_after_a_list_is_not_a_unit():
    src = 'cell c {\n  cathode = LCO { loading = 70 wt% }\n  conditions {\n    cutoff = [1, 2] V\n  }\n}\n'
    assert format_source(src) == src


def test_rank_order():
    src = "analyze X {\n  screen coating {\n    rank by reactivity with electrolyte descending\n  }\n}\n"
    assert format_source(src) == src


@pytest.mark.parametrize(
    "text",
    [
        "data { x = }",
        "material { formula = X }",
        'study "unterminated { }',
        "cell c { cathode = LCO { loading = 70 wt% }",
        # one good item and one broken one: still refused
        "data { thermo = bundled }\nmaterial X { formula = }\n",
        "analyze X { window a, }",
    ],
)
def test_syntax_error_raises(text):
    with pytest.raises(FormatError) as info:
        format_source(text, "broken.cell")
    diags = info.value.diagnostics
    assert diags and all(isinstance(d, Diagnostic) for d in diags)
    assert any(d.is_error for d in diags)
    assert all(d.path == "broken.cell" for d in diags)


def test_empty_input():
    assert format_source("") == ""
    assert format_source("\n\n  \n") == ""
    assert format_source("# just a comment   \n\n\n") == "# just a comment\n"
