"""What the editor features know agrees with the compiler: the keys offered in
each block are the keys the checker accepts there, every unit offered for a
kind is one the unit registry reads as that kind, every reserved keyword has
its hover text, and positions convert as LSP counts them.  None of this needs
pygls: the server is a thin layer over these modules.
"""

from __future__ import annotations

import re

import pytest

from sselang.lsp import lexer
from sselang.lsp.completion import complete
from sselang.lsp.hover import hover
from sselang.lsp.positions import LineIndex, document_end, normalise, units
from sselang.lsp.words import BLOCK_KEYS, KEY_KINDS, KEYWORD_DOCS, SI_UNITS, UNITS
from sselang.model.units import KINDS, kind_of, parse_unit, registry
from sselang.pipeline import front_end_text
from sselang.syntax.grammar import keywords

# A study with an unknown key in the block named: the checker's help then lists
# every key that block takes ("<block> takes: a, b, c").
PROBE = "zzqx"
_CELL = "cathode = LiCoO2  electrolyte = Li3PS4  anode = Li"
BLOCK_PROBES = {
    "study": f'study "p" {{ {PROBE} = 1 }}\nanalyze Li3PS4 {{ window }}',
    "material": f'study "p" {{ }}\nmaterial M {{ formula = Li3PS4  {PROBE} = 1 }}\nanalyze M {{ window }}',
    "order": f'study "p" {{ }}\nmaterial M {{ formula = Li3PS4  order = ewald {{ {PROBE} = 1 }} }}\nanalyze M {{ window }}',
    "role:cathode": f'study "p" {{ }}\ncell c {{ {_CELL.replace("LiCoO2", "LiCoO2 { " + PROBE + " = 1 }")} }}',
    "role:electrolyte": f'study "p" {{ }}\ncell c {{ {_CELL.replace("Li3PS4", "Li3PS4 { " + PROBE + " = 1 }")} }}',
    "role:anode": f'study "p" {{ }}\ncell c {{ {_CELL.replace("anode = Li", "anode = Li { " + PROBE + " = 1 }")} }}',
    "role:coating": f'study "p" {{ }}\ncell c {{ {_CELL}  coating = LiNbO3 {{ {PROBE} = 1 }} }}',
    "conditions": f'study "p" {{ }}\ncell c {{ {_CELL}  conditions {{ {PROBE} = 1 }} }}',
    "observed": f'study "p" {{ }}\ncell c {{ {_CELL}  observed {{ {PROBE} = 1 }} }}',
    "diffusion": f'study "p" {{ }}\nanalyze Li3PS4 {{ diffusion {{ {PROBE} = 1 }} }}',
    "barrier": f'study "p" {{ }}\nanalyze Li3PS4 {{ barrier {{ {PROBE} = 1 }} }}',
    "interface": f'study "p" {{ }}\nanalyze Li3PS4 {{ interface Li3PS4 | Li2S {{ {PROBE} = 1 }} }}',
    "data": f'study "p" {{ }}\nanalyze Li3PS4 {{ window }}\ndata {{ {PROBE} = 1 }}',
    "run": f'study "p" {{ }}\nanalyze Li3PS4 {{ window }}\nrun {{ {PROBE} = 1 }}',
    "executor:local": f'study "p" {{ }}\nanalyze Li3PS4 {{ window }}\nrun {{ executor = local {{ {PROBE} = 1 }} }}',
    "executor:slurm": f'study "p" {{ }}\nanalyze Li3PS4 {{ window }}\nrun {{ executor = slurm {{ {PROBE} = 1 }} }}',
    "engine:vasp": f'study "p" {{ }}\nanalyze Li3PS4 {{ window }}\nengine vasp {{ {PROBE} = 1 }}',
    "engine:qe": f'study "p" {{ }}\nanalyze Li3PS4 {{ window }}\nengine qe {{ {PROBE} = 1 }}',
    "engine:cp2k": f'study "p" {{ }}\nanalyze Li3PS4 {{ window }}\nengine cp2k {{ {PROBE} = 1 }}',
}


@pytest.mark.parametrize("block", sorted(BLOCK_PROBES))
def test_offered_keys_are_the_keys_the_checker_accepts(block):
    fe = front_end_text(BLOCK_PROBES[block], "probe.cell")
    (d,) = [d for d in fe.diagnostics if d.code == "SSE010"]
    assert f"unknown key '{PROBE}'" in d.message
    listed = re.fullmatch(r".* takes: (.*)", d.help).group(1).split(", ")
    assert sorted(listed) == sorted(BLOCK_KEYS[block])


def test_offered_roles_and_screen_keys_are_the_checkers():
    fe = front_end_text(f'study "p" {{ }}\ncell c {{ {_CELL}  {PROBE} = 1 }}', "probe.cell")
    (d,) = [d for d in fe.diagnostics if d.code == "SSE010"]
    roles = re.fullmatch(r"roles: (.*)", d.help).group(1).split(", ")
    assert roles + ["conditions", "observed"] == list(BLOCK_KEYS["cell"])
    fe = front_end_text(f'study "p" {{ }}\ncell c {{ {_CELL} }}\nanalyze c {{ screen coating {{ {PROBE} = 1 }} }}',
                        "probe.cell")
    (d,) = [d for d in fe.diagnostics if d.code == "SSE010"]
    assert d.help == "screen takes candidates, exclude, require and rank by"
    assert BLOCK_KEYS["screen"] == ("candidates", "exclude")


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_offered_units_are_units_of_their_kind(kind):
    assert kind in KINDS
    for u in UNITS[kind]:
        parse_unit(u)
        assert kind in kind_of(u), u
        # and the SI unit the hover converts to is of the same kind
        assert registry().Quantity(1, parse_unit(u)).is_compatible_with(SI_UNITS[kind]), u


def test_every_key_kind_is_a_kind():
    assert set(KEY_KINDS.values()) <= set(KINDS)


def test_every_reserved_keyword_has_a_hover():
    assert set(KEYWORD_DOCS) == set(keywords())


# ---- the scanner reads units and keywords as the parser does ------------------------------------
def _kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in lexer.tokenize(text) if t.kind != "punct"]


def test_a_word_after_a_number_is_a_unit_unless_a_key_or_keyword_follows():
    assert ("word", "keep") in _kinds("order = ewald { seed = 7  keep = 1 }")
    assert ("unit", "keep") in _kinds("order = ewald { seed = 7  keep 1 }")  # the documented pitfall
    assert ("word", "rank") in _kinds("require e_hull <= 0  rank by e_hull")
    assert ("unit", "min") in _kinds("walltime = 30 min")
    assert ("word", "min") in _kinds("supercell = min 10 Å")
    assert ("unit", "K") in _kinds("temperatures = [600, 800] K")
    assert ("unit", "meV/atom") in _kinds("require e_hull <= 25 meV/atom")
    assert ("word", "conditions") in _kinds('authors = ["A"]  conditions { }')
    assert ("word", "LiTi2(PO4)3") in _kinds("candidates = [LiTi2(PO4)3]")
    assert ("string", '"open') in _kinds('title = "open\n}')  # an unterminated string stops at its line


def test_blocks_are_found_in_half_typed_text():
    text = 'cell c {\n  cathode = LiCoO2 { charged_to = 4.3 V\n'  # nothing closed yet
    assert [b.kind for b in lexer.blocks_at(lexer.tokenize(text), len(text))] == ["cell", "role:cathode"]


# ---- positions --------------------------------------------------------------------------------
def test_positions_count_utf16_code_units():
    text = 'title = "🔋 Å"  x\nsecond'
    index = LineIndex(text)
    x = text.index("x")
    assert index.position(x) == (0, x + 1)  # the emoji is two UTF-16 units, Å one
    assert index.position(x, "utf-32") == (0, x)
    assert index.position(x, "utf-8") == (0, x + 3 + 1)  # 4 bytes and 2 bytes
    assert index.offset(0, x + 1) == x
    assert index.offset(0, 10) == text.index("🔋")  # inside the emoji: snaps to its start
    assert index.offset(1, 99) == len(text)  # past the end of a line: its end
    assert index.offset(7, 0) == len(text)
    assert units("🔋") == 2 and units("🔋", "utf-8") == 4


def test_line_breaks_and_document_end():
    assert normalise("a\r\nb\rc\n") == "a\nb\nc\n"
    assert document_end("a\r\nbé") == (1, 2)
    assert document_end("a\n") == (1, 0)
    assert document_end("") == (0, 0)


# ---- hover and completion without a server ------------------------------------------------------
def test_hover_on_a_unit_converts_with_the_registry():
    text = "cell c { conditions { pressure = 50 MPa } }"
    h = hover(text, text.index("MPa"))
    assert "unit of pressure" in h.markdown and "50 MPa = 5e+07 Pa" in h.markdown
    text = "analyze c { screen coating { require e_hull <= 25 meV/atom } }"
    h = hover(text, text.index("meV/atom") + 4)
    assert "unit of energy per atom" in h.markdown
    assert "25 meV/atom = 4.005442e-21 J/atom" in h.markdown
    assert "stored as 0.025" in h.markdown
    assert "degC" in hover("x = 0 degF", 7).markdown  # the other temperature units are named


def test_completion_of_units_after_a_number_without_a_space():
    text = "cell c { cathode = LiCoO2 { charged_to = 4.3"
    c = complete(text, len(text))
    assert [(i.label, i.insert) for i in c.items] == [("V", " V"), ("mV", " mV")]
    assert c.start == c.end == len(text)
