"""The TextMate grammar of the editor package (editors/vscode/) highlights real
studies as intended, checked with the tokenizer VS Code uses: vscode-textmate
with the Oniguruma regex engine, run by tests/textmate/tokenize.js on node.

The two npm packages are installed with `npm ci` from tests/textmate's lock
file into a cache folder (once per lock file); without node or npm the test
is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT
from sselang.syntax.grammar import keywords

GRAMMAR = ROOT / "editors" / "vscode" / "syntaxes" / "sselang.tmLanguage.json"
HARNESS = ROOT / "tests" / "textmate"
PACKAGE = ROOT / "editors" / "vscode" / "package.json"
DOC = ROOT / "docs" / "language.md"

KEYWORD = ("keyword.declaration.sselang", "keyword.other.request.sselang", "keyword.other.sselang")
UNIT = "keyword.other.unit.sselang"
NUMBER = "constant.numeric.sselang"
FORMULA = "entity.name.type.formula.sselang"
STRING = "string.quoted.double.sselang"
COMMENT = "comment.line.number-sign.sselang"


def _node_modules() -> Path:
    lock = (HARNESS / "package-lock.json").read_bytes()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sselang"
    cache = base / f"textmate-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (cache / "node_modules" / "vscode-textmate" / "package.json").exists():
        cache.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HARNESS / name, cache / name)
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=cache,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"npm ci failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return cache / "node_modules"


def _doc_examples(tmp: Path) -> list[Path]:
    """The ```cell blocks of docs/language.md, each written to a file."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for n, m in enumerate(re.finditer(r"^```cell\n(.*?)^```$", text, re.S | re.M)):
        p = tmp / f"doc-{n:02d}.cell"
        p.write_text(m.group(1), encoding="utf-8")
        out.append(p)
    return out


@pytest.fixture(scope="module")
def tokens(tmp_path_factory) -> dict[str, list[dict]]:
    """File name -> tokens, for the examples and the documentation's examples."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the TextMate tokenizer (apt-get install nodejs npm)")
    modules = _node_modules()
    files = list(EXAMPLES) + _doc_examples(tmp_path_factory.mktemp("docs"))
    env = {**os.environ, "NODE_PATH": str(modules)}
    r = subprocess.run(["node", str(HARNESS / "tokenize.js"), str(GRAMMAR), *map(str, files)], capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return {Path(k).name: v for k, v in json.loads(r.stdout).items()}


def _code(toks: list[dict]) -> list[dict]:
    """Tokens outside comments and strings."""
    return [t for t in toks if not any(s.startswith(("comment.", "string.")) for s in t["scopes"])]


def _scope(tok: dict) -> str:
    return tok["scopes"][-1]


def _line(toks: list[dict], start: str) -> list[tuple[str, str]]:
    """(text, innermost scope) of the tokens of the one line that starts with `start`."""
    lines: dict[int, list[dict]] = {}
    for t in toks:
        lines.setdefault(t["line"], []).append(t)
    (line,) = [ts for ts in lines.values() if "".join(t["text"] for t in ts).strip().startswith(start)]
    return [(t["text"], _scope(t)) for t in line if t["text"].strip()]


def _all(tokens, names=None) -> list[dict]:
    return [t for name, toks in tokens.items() if names is None or name in names for t in toks]


EXAMPLE_NAMES = {p.name for p in EXAMPLES}


@pytest.mark.parametrize("word", ["study", "material", "cell", "analyze", "engine", "data", "run", "window",
                                  "profile", "reactivity", "diffusion", "barrier", "open", "at", "screen", "require",
                                  "rank", "by", "with", "substitute", "add", "along", "after", "min"])
def test_keywords(tokens, word):
    found = [t for t in _code(_all(tokens, EXAMPLE_NAMES)) if t["text"] == word]
    assert found, f"'{word}' does not occur in the examples"
    for t in found:
        assert _scope(t) in KEYWORD, (word, t)


def test_declared_names(tokens):
    toks = _all(tokens, {"baseline.cell"})
    scopes = {t["text"]: _scope(t) for t in toks}
    assert scopes["LPSCl"] in ("entity.name.type.material.sselang", FORMULA)
    assert _line(toks, "material LPSCl") == [
        ("material", "keyword.declaration.sselang"), ("LPSCl", "entity.name.type.material.sselang"),
        ("{", "punctuation.section.block.begin.sselang")]
    assert ("baseline", "entity.name.type.cell.sselang") in [(t["text"], _scope(t)) for t in toks]
    assert ("vasp", "entity.name.type.engine.sselang") in [(t["text"], _scope(t)) for t in toks]


@pytest.mark.parametrize("formula", ["Li6PS5Cl", "LiTi2(PO4)3", "Li10GeP2S12", "Li6.25PS4O1.25Cl0.75",
                                     "LiNi0.8Mn0.1Co0.1O2", "LiCoO2", "LiNbO3", "Li3PS4"])
def test_formulas_are_one_token(tokens, formula):
    found = [t for t in _code(_all(tokens, EXAMPLE_NAMES)) if t["text"] == formula]
    assert found, f"'{formula}' is not a token of its own in the examples"
    for t in found:
        assert _scope(t) in (FORMULA, "entity.name.type.material.sselang"), t


@pytest.mark.parametrize("unit", ["K", "V", "meV/atom", "degC", "Å", "ps", "fs", "wt%", "%", "nm", "MPa", "C",
                                  "mAh/g", "mS/cm", "eV", "cycles"])
def test_units_after_numbers(tokens, unit):
    for name in sorted(EXAMPLE_NAMES):
        toks = tokens[name]
        for i, t in enumerate(toks):
            if t["text"] == unit and _scope(t) == UNIT:
                before = [x for x in toks[:i] if x["text"].strip()][-1]
                assert _scope(before) in (NUMBER, "punctuation.section.brackets.end.sselang"), (unit, before)
    found = [t for t in _code(_all(tokens, EXAMPLE_NAMES)) if t["text"] == unit]
    assert found, f"'{unit}' does not occur in the examples"
    assert all(_scope(t) == UNIT for t in found), [t for t in found if _scope(t) != UNIT]


def test_numbers_and_lists(tokens):
    toks = tokens["baseline.cell"]
    assert _line(toks, "temperatures") == [("temperatures", "variable.other.property.sselang"), ("=", "keyword.operator.assignment.sselang"),
                    ("[", "punctuation.section.brackets.begin.sselang"), ("600", NUMBER),
                    (",", "punctuation.separator.comma.sselang"), ("800", NUMBER),
                    (",", "punctuation.separator.comma.sselang"), ("1000", NUMBER),
                    (",", "punctuation.separator.comma.sselang"), ("1200", NUMBER),
                    ("]", "punctuation.section.brackets.end.sselang"), ("K", UNIT)]
    assert _line(toks, "cutoff")[:7] == [("cutoff", "variable.other.property.sselang"), ("=", "keyword.operator.assignment.sselang"),
                        ("1.9", NUMBER), ("V", UNIT), ("..", "keyword.operator.range.sselang"), ("3.6", NUMBER),
                        ("V", UNIT)]


def test_a_key_after_a_number_is_not_a_unit(tokens):
    toks = tokens["lgps_transport.cell"]
    seed = _line(toks, "order")  # order = ewald { seed = 7  keep = 1 }  # ...
    assert ("keep", "variable.other.property.sselang") in seed and ("7", NUMBER) in seed
    assert ("encut", "variable.other.property.sselang") in [(t["text"], _scope(t)) for t in toks]
    retention = _line(tokens["lpsocl.cell"], "retention")  # retention = 60 % after 450 cycles
    assert ("%", UNIT) in retention and ("after", "keyword.other.sselang") in retention
    assert ("cycles", UNIT) in retention


def test_strings_and_comments(tokens):
    toks = tokens["baseline.cell"]
    assert [_scope(t) for t in toks if t["line"] == 0] == ["punctuation.definition.comment.sselang", COMMENT]
    title = [t for t in toks if t["line"] == 2 and STRING in t["scopes"]]
    assert "".join(t["text"] for t in title) == '"Does a LiNbO3 buffer stop LiCoO2 | Li6PS5Cl from reacting?"'
    comment = [text for text, scope in _line(toks, "structure = library(\"Li6PS5Cl\")") if scope == COMMENT]
    assert "".join(comment) == " bundled ordered approximant"
    assert _line(toks, "structure = library(\"Li6PS5Cl\")")[:4] == [("structure", "variable.other.property.sselang"),
                           ("=", "keyword.operator.assignment.sselang"), ("library", "support.function.sselang"),
                           ("(", "punctuation.section.parens.begin.sselang")]


def test_escapes_and_hashes_inside_strings(tokens):
    # docs/language.md's strings example: `"Li6PS5Cl: \"argyrodite\" # 1"  # the '#' in the string is kept`
    marker = "the '#' in the string is kept"
    (name,) = [n for n, toks in tokens.items() if any(marker in t["text"] for t in toks)]
    (line,) = {t["line"] for t in tokens[name] if marker in t["text"]}
    toks = [t for t in tokens[name] if t["line"] == line]
    string = "".join(t["text"] for t in toks if STRING in t["scopes"])
    assert string == '"Li6PS5Cl: \\"argyrodite\\" # 1"'
    assert [t["text"] for t in toks if _scope(t) == "constant.character.escape.sselang"] == ['\\"', '\\"']
    assert "".join(t["text"] for t in toks if COMMENT in t["scopes"]) == "# the '#' in the string is kept"


def test_every_token_of_every_study_has_a_scope(tokens):
    """Nothing in the examples or the documentation's examples is left unhighlighted."""
    bare = [(name, t["line"] + 1, t["text"]) for name, toks in tokens.items() for t in toks
            if t["text"].strip() and t["scopes"] == ["source.sselang"]]
    assert bare == []
    assert len(tokens) >= 20


def test_the_grammar_knows_every_reserved_keyword():
    """Offline: each keyword of grammar/sselang.lark is in one of the grammar's keyword rules."""
    g = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    rules = g["repository"]["keyword"]["patterns"]
    words = set()
    for r in rules:
        words |= set(re.findall(r"[a-z]+", r["match"].replace(r"\b", " ").replace(r"\s", " ").replace(r"\d", " ")))
    assert keywords() <= words


def test_the_package_associates_cell_files():
    pkg = json.loads(PACKAGE.read_text(encoding="utf-8"))
    (lang,) = pkg["contributes"]["languages"]
    assert lang["extensions"] == [".cell"]
    first = re.compile(lang["firstLine"])
    assert first.search('study "lco-linbo3-lpscl" {') and first.search("# LiNbO3-coated LiCoO2")
    assert all(first.search(p.read_text(encoding="utf-8").splitlines()[0]) for p in EXAMPLES)
    assert not first.search("%BLOCK LATTICE_CART")  # a CASTEP cell file
    (gr,) = pkg["contributes"]["grammars"]
    assert (PACKAGE.parent / gr["path"]).resolve() == GRAMMAR
    assert gr["scopeName"] == json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"]
    config = json.loads((PACKAGE.parent / lang["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
