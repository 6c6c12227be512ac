"""Fuzzing the whole compiler: input generators and the checks every input must pass.

Shared by the CI sample (tests/test_fuzz_compile.py) and the dedicated long run
(bench/fuzz.py).  Two generators, both hypothesis strategies:

  grammar_input   a seed study (the examples, the golden-deck studies) mutated token by
                  token: deletions, swaps, duplications, insertions of keywords, units and
                  hostile strings, unicode, huge and tiny numbers, deep nesting, items
                  copied from other seeds.  Text.
  byte_input      the seed's UTF-8 bytes mutated: bit flips, inserted, deleted and
                  overwritten bytes, truncation, invalid UTF-8, NUL, BOM and CR.  Bytes.

`run_one` puts one input through `check` and, when the study checks clean, through the
full compile (data stage, plan, decks, analyses, report) into a fresh build folder, and
says what happened: never an exception, diagnostics well formed, a build whose manifest
matches its files and no hidden left-over.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import traceback
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = sorted((ROOT / "examples").glob("*.cell")) + sorted((ROOT / "tests" / "decks").glob("*/study.cell"))
SEEDS = [p.read_text(encoding="utf-8") for p in SEED_FILES]
HANG_SECONDS = 5.0

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\s+|[A-Za-z_][A-Za-z0-9_.()]*|[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?'
                   r'|\.\.|->|<=|>=|.', re.S)
ITEM = re.compile(r"^(?:use|study|material|cell|analyze|engine|data|run)\b.*?(?=^(?:use|study|material|cell|analyze|"
                  r"engine|data|run)\b|\Z)", re.S | re.M)

KEYWORDS = ["study", "material", "cell", "analyze", "engine", "data", "run", "use", "window", "profile", "reactivity",
            "diffusion", "barrier", "screen", "interface", "require", "rank", "by", "with", "open", "at", "min", "along",
            "after", "all", "from", "substitute", "add", "remove", "true", "false", "covers", "ascending"]
KEYS = ["formula", "structure", "order", "temperatures", "duration", "equilibrate", "timestep", "supercell",
        "directions", "extrapolate", "species", "ensemble", "thermo", "structures", "preview", "executor", "workers",
        "partition", "account", "walltime", "nodes", "encut", "kspacing", "ediffg", "pseudo_dir", "pseudo_files",
        "cutoff", "basis", "potential", "spin", "for", "max_atoms", "keep", "seed", "images", "climb", "hop",
        "max_area", "vacuum", "thickness", "charged_to", "loading", "cutoff", "candidates", "exclude"]
SYMBOLS = ["{", "}", "[", "]", "(", ")", "=", ",", "|", "..", "->", "<=", ">=", "==", "<", ">", ";", "&", "/", "'",
           "\\", "`", "$", "@", "!", "~", "^"]
UNITS = ["K", "V", "mV", "degC", "meV/atom", "eV", "Ry", "Å", "angstrom", "nm", "wt%", "%", "C", "fs", "ps", "ns",
         "MPa", "GPa", "h", "mS/cm", "mAh/g", "eV/Å", "1/Å", "cycles", "K^-1", "µm"]
NUMBERS = ["0", "-0", "1", "-1", "-5", "0.5", "1e999", "-1e308", "1e-400", "1e12", "1e13", "99999999999999999999999",
           "4.3", "600", "5e8", "2147483648", "1e308", ".5", "3.", "0x10", "1_000", "NaN", "inf"]
NAMES = ["Lj", "LiCoO2", "Li6PS6Cl", "LiTi2(PO4)3", "Xx9", "Li6PS5CI", "LPSCl", "Li", "S", "Li2S", "Li10GeP2S12",
         "LiNbO3", "Li3PS4", "A" * 300, "Li" * 60 + "S", "cathode", "coating", "electrolyte", "anode", "bundled",
         "mp", "chgnet", "entries", "results", "library", "file", "vasp", "qe", "cp2k", "nvt", "npt", "local",
         "slurm", "ewald", "random", "mp-1234", "mp-x"]
STRINGS = ['"\\"', '"a\\nb"', '"x\\nENCUT = 1"', '"&END FORCE_EVAL"', '"/\\n&SYSTEM"', '"a; ISPIN = 2"',
           '"../../etc/passwd"', '"/etc/passwd"', '"..\\\\x"', '""', '"' + "a" * 5000 + '"', '"\\u0000"',
           '"Li6PS5Cl"', '"nonexistent"', '"e.json"', '"study.cell"', '"{element}.UPF"', '"x\'y"', '"\\t\\r"',
           '"\U0001f50b"', '"\u202e"', '"batch\\n#SBATCH --nodes=100"', '"$(rm -rf ~)"']
UNICODE = ["\u00e9", "\u202e", "\u200b", "\U0001f50b", "\u0301", "\ufeff", "\u2028", "\u00a0", "\u3000", "\x00",
           "\x7f", "\x1b[31m", "\t", "\r", "\n", "\f", "\v", "Ω", "µ", "μ", "Å", "°"]
NESTING = ["[" * 40, "{" * 40, "(" * 40, "[" * 33 + "]" * 33, "{" * 200, "[" * 5000 + "]" * 5000]
VOCAB = KEYWORDS + KEYS + SYMBOLS + UNITS + NUMBERS + NAMES + STRINGS + UNICODE + NESTING + [
    'use "self.cell"', 'use "example.cell"', "temperatures = [1, 2] K", "coating = LiNbO3", "supercell = min 59 Å",
    "order = ewald { max_atoms = 10000000 }", "duration = 1e7 ps", "timestep = 1e-3 fs", "images = 32",
    "max_area = 1e6 Å^2", 'structure = file("../x.cif")', 'thermo = entries("e.json")', "preview = none"]


# ---- generators -------------------------------------------------------------------------------
VALUE = re.compile(r"(?<==)[ \t]*([^\n{}#=]+?)[ \t]*(?=\n|\}|#|\s[a-z_]+\s*=)")
VALUES = sorted({m.group(1) for t in SEEDS for m in VALUE.finditer(t)}) + [
    "[600, 800, 1000] K", "[1e9, 2e9] K", "[" + ", ".join(["700"] * 60) + "] K", "min 59 Å", "min 0.1 Å", "0 ps",
    "1e-9 fs", "library(\"Li6PS5Cl\") with { substitute S -> O 0.0001 }", "file(\"missing.cif\")", "mp(\"mp-1\")",
    "entries(\"e.json\")", "[bundled, chgnet]", "ewald { max_atoms = 5000  keep = 1000000 }", "random { seed = 2147483648 }",
    "slurm { partition = \"a\"  walltime = 1e9 h  nodes = 100000 }", "local { workers = 4096 }", "LiX", "Li1e9S",
    "Li0.00000001S", "Li100000S50000", "(Li2S)1000", "\"\"", "npt", "-0.0 V .. 0 V", "5 V .. 5 V", "true", "[]"]
KEYED_VALUE = re.compile(r"\b([a-z_]+)[ \t]*=[ \t]*([^\n{}#=]+?)[ \t]*(?=\n|\}|#|\s[a-z_]+\s*=)")
# values of the same key (the study stays well typed, so more of them reach compile), plus extremes
KEYED: dict[str, list[str]] = {}
for _t in SEEDS:
    for _m in KEYED_VALUE.finditer(_t):
        KEYED.setdefault(_m.group(1), []).append(_m.group(2))
for _k, _extra in {"temperatures": ["[500.0001, 2000] K", "[1, 2, 3] K", "[600] K", "[600, 600, 600] K",
                                    "[" + ", ".join(str(500 + 30 * i) for i in range(50)) + "] K"],
                   "duration": ["1e-3 ps", "1e5 ps", "2 fs"], "supercell": ["min 59 Å", "min 1 Å", "min 30 Å"],
                   "timestep": ["0.001 fs", "10 fs"], "encut": ["1 eV", "1e6 eV", "520 Ry"],
                   "charged_to": ["0.001 V", "6 V"], "thickness": ["1e-9 nm", "1e6 nm"],
                   "temperature": ["-273.15 degC", "1e6 K"], "cutoff": ["0 V .. 6 V", "4.999 V .. 5 V"]}.items():
    KEYED.setdefault(_k, []).extend(_extra)
KEYED = {k: sorted(set(v)) for k, v in KEYED.items()}
BLOCKS = ['engine cp2k { basis = "TZV2P-GTH"  for = [relax] }', 'engine qe { pseudo_dir = "/opt/p"  for = relax }',
          'engine vasp { encut = 100 eV  kspacing = 5  spin = false }', 'engine cp2k { cutoff = 10 Ry  spin = true }',
          'engine qe { pseudo_files = "{element}.UPF"  ecutwfc = 30 Ry }', "data { thermo = [bundled, mp] }",
          'data { thermo = results("runs") }', "run { preview = none  executor = local { workers = 1 } }",
          'use "missing.cell"', "analyze Li2S { barrier { hop = Li along c  images = 32 } }",
          "analyze Li2S { interface Li2S | LiCoO2 { max_area = 1e6 Å^2  vacuum = 1e11 Å } }",
          "analyze Li2S { diffusion { temperatures = [600, 800, 1000] K  duration = 1e7 ps  timestep = 0.01 fs } }",
          "analyze Li2S { reactivity Li2S | Li3PS4 { open Li at 6 V } window Li2S, Li3PS4 profile }",
          'material Z { formula = Li2S  structure = library("Li2S") with { remove Li 2 add S 1 } }']


@st.composite
def grammar_input(draw, seeds=None) -> str:
    """A seed study mutated at the level of its tokens (see the module's docstring)."""
    seeds = seeds or SEEDS
    text = draw(st.sampled_from(seeds))
    # one in two keeps the syntax: a value swapped for another key's, or a block added
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            spots = [m for m in KEYED_VALUE.finditer(text) if m.group(1) in KEYED]
            choice = draw(st.integers(0, 3))
            if choice <= 1 and spots:  # a value of the same key
                m = draw(st.sampled_from(spots))
                text = text[:m.start(2)] + draw(st.sampled_from(KEYED[m.group(1)])) + text[m.end(2):]
            elif choice == 2 and spots:  # any value
                m = draw(st.sampled_from(spots))
                text = text[:m.start(2)] + draw(st.sampled_from(VALUES)) + text[m.end(2):]
            else:
                text += "\n" + draw(st.sampled_from(BLOCKS)) + "\n"
        return text
    tokens = TOKEN.findall(text)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "swap", "dup", "insert", "replace", "replace", "number", "string",
                                   "unicode", "item", "span"]))
        i = draw(st.integers(0, len(tokens) - 1))
        if op == "delete" and len(tokens) > 1:
            del tokens[i]
        elif op == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "dup":
            tokens.insert(i, tokens[i])
        elif op == "insert":
            tokens.insert(i, " " + draw(st.sampled_from(VOCAB)) + " ")
        elif op == "replace":
            tokens[i] = draw(st.one_of(st.sampled_from(VOCAB), st.text(max_size=8)))
        elif op == "number":  # a number of the study replaced: huge, tiny, negative, odd
            nums = [k for k, t in enumerate(tokens) if re.fullmatch(r"[-+]?\d[\d.eE+-]*", t)]
            if nums:
                k = draw(st.sampled_from(nums))
                tokens[k] = draw(st.one_of(st.sampled_from(NUMBERS), st.integers(-10**30, 10**30).map(str),
                                           st.floats(allow_nan=False, allow_infinity=False).map(repr)))
        elif op == "string":  # a string of the study replaced by a hostile one
            strs = [k for k, t in enumerate(tokens) if t.startswith('"')]
            if strs:
                tokens[draw(st.sampled_from(strs))] = draw(st.sampled_from(STRINGS))
        elif op == "unicode":
            tokens.insert(i, draw(st.one_of(st.sampled_from(UNICODE),
                                            st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=4))))
        elif op == "item":  # a whole top-level item of another seed, pasted here
            other = ITEM.findall(draw(st.sampled_from(seeds)))
            if other:
                tokens.insert(i, "\n" + draw(st.sampled_from(other)) + "\n")
        else:  # a run of tokens duplicated
            j = min(len(tokens), i + draw(st.integers(1, 30)))
            tokens[i:i] = tokens[i:j] * draw(st.integers(1, 3))
    return "".join(tokens)


@st.composite
def byte_input(draw, seeds=None) -> bytes:
    """A seed study's bytes mutated below the level of text."""
    data = bytearray(draw(st.sampled_from(seeds or SEEDS)).encode("utf-8"))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "overwrite", "truncate", "splice", "crlf", "bom"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[i:i] = draw(st.one_of(st.binary(min_size=1, max_size=8),
                                       st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf",
                                                        b"\r", b"\x1b", b"\xe2\x80\xae", b"\xf4\x90\x80\x80"])))
        elif op == "delete" and data:
            del data[i:i + draw(st.integers(1, 16))]
        elif op == "overwrite" and data:
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[i:i + len(chunk)] = chunk
        elif op == "truncate":
            del data[i:]
        elif op == "splice":
            other = draw(st.sampled_from(seeds or SEEDS)).encode("utf-8")
            j = draw(st.integers(0, max(0, len(other) - 1)))
            data[i:i] = other[j:j + draw(st.integers(1, 200))]
        elif op == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        else:
            data[0:0] = b"\xef\xbb\xbf"
    return bytes(data)


# ---- one input through the compiler ----------------------------------------------------------------
def well_formed(fe, text_len: int | None) -> str | None:
    """What is wrong with a front end's diagnostics, or None."""
    from sselang.checks.printer import render_all

    for d in fe.diagnostics:
        if not re.fullmatch(r"SSE\d{3}", d.code) or not d.message:
            return f"malformed diagnostic {d}"
        if d.span is not None and (d.span.line < 1 or d.span.col < 1 or d.span.start > d.span.end
                                   or (text_len is not None and d.path == "study.cell" and d.span.end > text_len)):
            return f"bad span {d.span} in {d}"
    if fe.study is None and not any(d.is_error for d in fe.diagnostics):
        return "no study and no error"
    render_all(fe.diagnostics, fe.sources)
    return None


def build_problem(out: Path) -> str | None:
    """A finished build: every file the manifest names has its sha256, every file sselang
    wrote is in the manifest, and nothing hidden is left over."""
    from sselang.plan import OUTPUT_FILES

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    for rel, sha in manifest.items():
        p = out / rel
        if not p.is_file():
            return f"manifest names {rel}, which is missing"
        if hashlib.sha256(p.read_bytes()).hexdigest() != sha:
            return f"{rel} does not match its sha256 in manifest.json"
    for p in out.rglob("*"):
        rel = p.relative_to(out)
        if any(part.startswith(".") for part in rel.parts):
            return f"hidden left-over {rel}"
        if p.is_file() and rel.as_posix() not in manifest and p.name != "manifest.json" and p.name not in OUTPUT_FILES:
            return f"{rel} is not in manifest.json"
    return None


def run_one(data: str | bytes, workdir: Path, compile_: bool = True) -> dict:
    """`check`, then (if clean) the whole compile, of one input; what happened.

    Keys: stage (where it ended: check-errors, data-errors, build-errors, compiled,
    crash), check_s and compile_s (wall), cpu_s (the process's CPU time for both),
    problem (a crash's traceback or a broken promise)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "study.cell"
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    path.write_bytes(raw)
    res = {"stage": "crash", "check_s": 0.0, "compile_s": 0.0, "cpu_s": 0.0, "problem": None}
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        res = _run(res, path, data, compile_, t0)
    finally:
        res["cpu_s"] = time.process_time() - c0
    return res


def _run(res: dict, path: Path, data, compile_: bool, t0: float) -> dict:
    from sselang.compile import prepare_build, resolve_data, write_build
    from sselang.pipeline import front_end

    workdir = path.parent
    try:
        fe = front_end(path)
        res["check_s"] = time.perf_counter() - t0
        problem = well_formed(fe, len(data) if isinstance(data, str) else None)
        if problem:
            res["problem"] = problem
            return res
        if not fe.ok:
            res["stage"] = "check-errors"
            return res
        if not compile_:
            res["stage"] = "checked"
            return res
        t1 = time.perf_counter()
        built = None
        try:
            data_ = resolve_data(fe, path)
            if data_ is None:
                res["stage"] = "data-errors"
            else:
                prepared = prepare_build(fe, data_, workdir / "build")
                if prepared is None:
                    res["stage"] = "build-errors"
                else:
                    built = write_build(fe.study, fe.sources, workdir / "build", data_, prepared=prepared)
                    res["stage"] = "compiled"
        finally:
            res["compile_s"] = time.perf_counter() - t1
        if res["stage"] != "compiled" and not any(d.is_error for d in fe.diagnostics):
            res["stage"], res["problem"] = "crash", "compile stopped without an error diagnostic"
        if built is not None:
            problem = build_problem(built)
            if problem:
                res["stage"], res["problem"] = "crash", problem
    except Exception:  # noqa: BLE001 - a crash is what this looks for
        res["stage"] = "crash"
        res["problem"] = traceback.format_exc()
        if not res["check_s"]:
            res["check_s"] = time.perf_counter() - t0
    return res
