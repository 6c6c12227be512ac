"""docs/language.md stays true: every ```cell example in it is a complete
study that the checker accepts without errors, there are enough of them, and
every reserved keyword of the grammar is documented.

A fenced block preceded by an HTML comment `<!-- file: NAME -->` is a
companion file (e.g. the file a `use` example imports): it is written next to
every example under that name before the examples are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sselang

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
GRAMMAR = ROOT / "grammar" / "sselang.lark"

MIN_EXAMPLES = 20

# An opening fence at the start of a line, its info string, the body, and the
# closing fence on a line of its own.
_FENCE = re.compile(r"^```[ \t]*([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
_COMPANION = re.compile(r"<!--\s*file:\s*([^\s>]+)\s*-->\s*\Z")


def _blocks(text: str) -> list[tuple[str, str, int, str | None]]:
    """(info string, body, line number, companion file name) of each fenced block."""
    out = []
    for m in _FENCE.finditer(text):
        info = m.group(1).strip()
        line = text.count("\n", 0, m.start()) + 1
        companion = _COMPANION.search(text[: m.start()])
        out.append((info, m.group(2), line, companion.group(1) if companion else None))
    return out


def _doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def _cell_examples() -> list[tuple[int, str]]:
    """(line, text) of each ```cell block that is not a companion file."""
    if not DOC.exists():
        return []
    return [(line, body) for info, body, line, companion in _blocks(_doc_text())
            if info.split()[:1] == ["cell"] and companion is None]


def _companions() -> dict[str, str]:
    return {name: body for _, body, _, name in _blocks(_doc_text()) if name is not None}


def _keywords() -> list[str]:
    """The grammar's alphabetic quoted strings (comments stripped)."""
    text = re.sub(r"(?m)(^|\s)//.*$", r"\1", GRAMMAR.read_text(encoding="utf-8"))
    return sorted(set(re.findall(r'"([A-Za-z]+)"', text)))


def _code_text(text: str) -> str:
    """Everything written as code in the markdown: fenced blocks and `inline` spans."""
    fenced = [body for _, body, _, _ in _blocks(text)]
    prose = _FENCE.sub("", text)
    inline = re.findall(r"`([^`\n]+)`", prose)
    return "\n".join(fenced + inline)


def test_doc_exists():
    assert DOC.is_file(), f"{DOC} is missing"


def test_enough_cell_examples():
    examples = _cell_examples()
    assert len(examples) >= MIN_EXAMPLES, f"docs/language.md has {len(examples)} ```cell examples; want {MIN_EXAMPLES}+"


@pytest.mark.parametrize("line,body", [pytest.param(line, body, id=f"language.md:{line}") for line, body in _cell_examples()])
def test_cell_example_checks_without_errors(tmp_path, line, body):
    assert re.search(r'^\s*study\s+"[^"]*"\s*\{', body, re.M), \
        f"docs/language.md:{line}: a ```cell example must be a complete study (with a study block)"
    for name, text in _companions().items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    path = tmp_path / "example.cell"
    path.write_text(body, encoding="utf-8")
    errors = [d for d in sselang.check(path) if d.is_error]
    shown = "\n".join(f"  {d.code} {d.path}:{d.span.line if d.span else '?'}: {d.message}" for d in errors)
    assert not errors, f"docs/language.md:{line}: the example has errors:\n{shown}\n--- example ---\n{body}"


def test_grammar_has_keywords():
    kws = _keywords()
    # sanity of the extraction itself: top-level items and request words
    for kw in ("use", "study", "material", "cell", "analyze", "engine", "data", "run", "window", "screen"):
        assert kw in kws


def test_every_keyword_is_documented():
    code = _code_text(_doc_text())
    missing = [kw for kw in _keywords() if not re.search(rf"(?<![A-Za-z0-9_]){kw}(?![A-Za-z0-9_])", code)]
    assert not missing, f"keywords of grammar/sselang.lark not shown as code in docs/language.md: {missing}"
