"""The catalog behind `sselang explain`: one page per diagnostic code.

Each entry says what the rule is, why it exists (physically or practically),
how to fix it, and gives a complete minimal study that triggers it.  The tests
(tests/test_explain.py) check every example against the checker and check that
the catalog and the codes emitted in sselang/ stay in step.

Kept import-light on purpose: `sselang explain` must not load pint or pymatgen.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

WIDTH = 88


@dataclass(frozen=True)
class Entry:
    title: str
    severity: str  # "error" | "warning"
    explanation: str
    example: str | None
    example_is_file: bool = True  # False: an illustration that no single study text can reproduce
    fix: str | None = None
    # Files the example needs next to it (name, text), e.g. the file it imports.
    companions: tuple[tuple[str, str], ...] = ()

    def render(self, code: str) -> str:
        out = [f"{code}: {self.title} ({self.severity})", ""]
        out.extend(_paragraphs(self.explanation))
        if self.example:
            out.append("")
            if self.example_is_file:
                out.append("Example (example.cell):" if self.companions else "Example:")
            else:
                out.append("Example (an illustration, not a study file):")
            out.append("")
            out.append(_indent(self.example))
            for name, text in self.companions:
                out.append("")
                out.append(f"with {name} next to it:")
                out.append("")
                out.append(_indent(text))
        if self.fix:
            out.append("")
            out.extend(_paragraphs("Fix: " + self.fix))
        return "\n".join(out).rstrip()


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for i, para in enumerate(p for p in textwrap.dedent(text).strip().split("\n\n") if p.strip()):
        if i:
            out.append("")
        out.append(textwrap.fill(" ".join(para.split()), WIDTH, break_on_hyphens=False, break_long_words=False))
    return out


def _indent(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), "    ").rstrip()


def _e(title: str, severity: str, explanation: str, example: str | None, fix: str | None = None,
       example_is_file: bool = True, companions: tuple[tuple[str, str], ...] = ()) -> Entry:
    return Entry(title, severity, " ".join(explanation.split()), textwrap.dedent(example).strip("\n") + "\n" if example else None,
                 example_is_file, " ".join(fix.split()) if fix else None,
                 tuple((n, textwrap.dedent(t).strip("\n") + "\n") for n, t in companions))


_STUDY = 'study "demo" { title = "Example" }'

CATALOG: dict[str, Entry] = {
    # ---- reading and syntax (0xx) ---------------------------------------------------
    "SSE001": _e(
        "unexpected token", "error",
        """The parser met a word, number or symbol where the grammar allows something else.
        Every entry in a block is `key = value` or `name { ... }`, and items are separated by
        whitespace alone, so a missing '=' or a stray word makes the rest of the block
        unreadable. The message lists what the parser expected at that point. Because one
        syntax error would hide every later mistake, each top-level item is parsed on its own
        and the first syntax error of every broken item is reported.""",
        f"""
        {_STUDY}

        material LPSCl {{
          formula Li6PS5Cl
        }}
        """,
        "write the missing '=' (or keyword) the message asks for; a misspelt keyword comes "
        "with a did-you-mean hint.",
    ),
    "SSE002": _e(
        "unexpected character", "error",
        """The file contains a character that cannot start any token of the language: single
        quotes, semicolons, typographic dashes or quotes pasted from a word processor, and the
        like. Strings are written in straight double quotes, ranges with '..', and comments
        start with '#'.""",
        """
        study "demo" {
          title = 'Example'
        }
        """,
        "replace the character: \"...\" for strings, '..' for ranges (1.9 V .. 3.6 V), '#' for "
        "comments.",
    ),
    "SSE003": _e(
        "unterminated string", "error",
        """A string opened with '"' is not closed on the same line. Strings cannot span lines,
        so an unclosed quote would otherwise swallow the rest of the file and make every later
        error message meaningless.""",
        """
        study "demo" {
          title = "Example
        }
        """,
        'close the string with " on the same line; write a literal quote inside a string as \\".',
    ),
    "SSE004": _e(
        "unclosed bracket or unexpected end of file", "error",
        """A '{', '[' or '(' is never closed, or the file ends in the middle of an item. The
        diagnostic points at the bracket that is still open, which is usually far from the
        end of the file where the parser noticed the problem.""",
        """
        study "demo" {
          title = "Example"
        """,
        "add the matching '}', ']' or ')' before the next top-level item.",
    ),
    "SSE005": _e(
        "cannot read the study file", "error",
        """A file is not a readable UTF-8 text file: the study named on the command line does
        not exist or cannot be opened, or a study or an imported file is a directory,
        contains NUL bytes (a binary file, e.g. a structure or a compressed archive passed by
        mistake) or is not valid UTF-8 (typically a file saved as Latin-1 or UTF-16 by an
        editor on Windows). Nothing can be checked until the file can be read as text. (An
        imported file that is missing or cannot be opened is SSE060.)""",
        """
        $ sselang check results.tar.gz
        results.tar.gz: error[SSE005]: results.tar.gz is a binary file, not a study
        $ sselang check studies/
        studies: error[SSE005]: 'studies' is a directory, not a study file
        """,
        "pass the .cell file itself, check the path for typos, and save the file as UTF-8.",
        example_is_file=False,
    ),
    "SSE006": _e(
        "file too large", "error",
        """A study file is a few kilobytes of declarations; a study or imported file over 1 MB
        is refused before it is parsed, because it cannot be a hand-written study (it is usually a
        trajectory, a structure database or a results table passed by mistake) and parsing it
        would only waste time and memory. For the same reason a study and the files it uses may
        hold at most 100,000 words, numbers and symbols in all (a screen of 5000 candidates holds
        about 10,000): a megabyte of dense tokens would take the parser a minute.""",
        """
        $ sselang check XDATCAR
        XDATCAR: error[SSE006]: XDATCAR is larger than 1 MB; a study file is a few kB
        """,
        "pass the study file; keep data in the data sources (data { ... }) or in structure "
        "files referenced with file(\"...\"), not inside the study.",
        example_is_file=False,
    ),
    "SSE007": _e(
        "empty study file", "error",
        """The file holds nothing but whitespace and comments. An empty file is almost always a
        mistake (a wrong path, an editor that did not save, a template never filled in), and
        treating it as a valid, empty study would let a build silently do nothing.""",
        """
        # LiNbO3-coated LiCoO2 against Li6PS5Cl: to be written
        """,
        'start the file with a study block: study "my-study" { title = "..." }.',
    ),
    "SSE008": _e(
        "nesting too deep", "error",
        """Brackets ('{', '[', '(') are nested more than 32 levels deep. A real study nests four
        or five levels (cell, conditions, a list); input nested far deeper is generated or
        corrupted text, and reading it would exhaust the parser's recursion and crash
        instead of reporting anything useful, so it is refused before parsing.""",
        """
        study "demo" {
          title = %s%s
        }
        """ % ("[" * 33, "]" * 33),
        "flatten the value: lists hold names, numbers or strings, not lists of lists.",
    ),
    # ---- structure of blocks and values (01x) ----------------------------------------------
    "SSE010": _e(
        "unknown key or block", "error",
        """A block contains a key, role or nested block that it does not take. Every block has
        a fixed set of keys (a cell takes the roles cathode, coating, electrolyte, anode and
        the blocks conditions and observed; conditions takes temperature, pressure, rate,
        current_density and cutoff; and so on). A misspelt key is not ignored: a silently
        dropped `temprature = 25 degC` would leave the study at its default temperature
        without anyone noticing.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
          anode       = Li
          conditions { temprature = 25 degC }
        }
        """,
        "correct the spelling (the hint names the closest key) or remove the entry; the "
        "message lists the keys the block takes.",
    ),
    "SSE011": _e(
        "given twice", "error",
        """A key, role or statement appears twice in the same block. Which of the two values
        was meant cannot be guessed, and taking the last one (as many configuration formats
        do) hides edits that were meant to replace the first. Only `coating` may repeat in a
        cell, to list several coating layers from the cathode outwards.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
          anode       = Li
          conditions {
            temperature = 25 degC
            temperature = 60 degC
          }
        }
        """,
        "keep one of the entries; to compare several conditions, write one cell per "
        "condition.",
    ),
    "SSE012": _e(
        "required entry missing", "error",
        """A block lacks an entry it cannot do without: a material needs a formula, a
        diffusion request needs temperatures and a duration, a screen needs candidates.
        There is no sensible default for any of these: the formula fixes every energy and the
        charge balance, and an AIMD run without temperatures or length cannot be set up.""",
        """
        study "demo" { title = "Example" }

        material LPSCl {
          structure = library("Li6PS5Cl")
        }

        analyze LPSCl { window }
        """,
        "add the entry named in the message (the hint shows a typical value), e.g. "
        "formula = Li6PS5Cl.",
    ),
    "SSE013": _e(
        "wrong kind of value", "error",
        """A value has the wrong form for its key: a name where a string in double quotes is
        needed, a decimal where a whole number is needed, a single value where a range or a
        list is needed, a compound where an element is needed, and so on. Strings are quoted
        so that free text (titles, references) can never be mistaken for a reference to a
        material or a keyword.""",
        """
        study "demo" {
          title = Example
        }
        """,
        "write the value in the form the message names: \"text\" for strings, 7 for whole "
        "numbers, low .. high for ranges, [a, b] for lists.",
    ),
    "SSE014": _e(
        "unknown choice", "error",
        """The value must be one word out of a fixed set (a data source, an ordering method,
        an executor, a DFT preset or functional, a direction, a calculation kind, a structure
        source) and this word is not one of them. A misspelt choice is an error rather than a
        fallback to a default, because the choice decides which data or method the whole
        build uses.""",
        """
        study "demo" { title = "Example" }

        data { thermo = bundeled }
        """,
        "use one of the words the message lists; the hint names the closest one.",
    ),
    "SSE015": _e(
        "invalid study id", "error",
        """The study id names the build folder (build/<id>/) and appears in file names of
        every generated input deck and report, so it must be a portable file name: letters,
        digits, '.', '_' and '-', at most 64 characters, starting with a letter or a digit.
        Spaces, slashes and non-ASCII characters break shell scripts and job schedulers or
        would write outside the build folder.""",
        """
        study "LCO vs LPSCl" {
          title = "Example"
        }
        """,
        'replace spaces and other characters: study "lco-lpscl" { ... }; the title can be any '
        "text.",
    ),
    "SSE063": _e(
        "use path is not relative", "error",
        """A use "..." path names a .cell file relative to the file that uses it. An absolute
        path (or an empty one) ties the study to one machine and lets a shared study read any
        file of the computer it is checked on, so it is refused.""",
        """
        use "/etc/phases.cell"
        study "demo" { title = "Example" }
        """,
        "put shared definitions next to the study (or in a folder beside it) and write, e.g., "
        "use \"lib/phases.cell\".",
    ),
    "SSE016": _e(
        "structure file outside the study folder", "error",
        """file("...") must give a relative path inside the study's folder. Absolute paths
        and paths that climb out with '..' work on one machine only: the study would no
        longer build on a colleague's computer or on the cluster, and the build folder would
        not record which structure was used.""",
        """
        study "demo" { title = "Example" }

        material LPSCl {
          formula   = Li6PS5Cl
          structure = file("/home/me/POSCAR")
        }

        analyze LPSCl { window }
        """,
        "copy the structure into the study's folder and refer to it relatively, e.g. "
        "file(\"structures/LPSCl.cif\").",
    ),
    # ---- names (02x) ----------------------------------------------------------------
    "SSE017": _e(
        "reserved word used as a name", "error",
        """Keywords of the language (window, profile, reactivity, diffusion, study, run, ...)
        and the cell roles (cathode, coating, electrolyte, anode) cannot name a material or
        a cell: in a request such as `window coating` the reader, and the parser, could not
        tell the name from the keyword or the role.""",
        """
        study "demo" { title = "Example" }

        material window {
          formula = Li2S
        }

        analyze window { profile }
        """,
        "choose another name, e.g. LPS or Li2S_phase.",
    ),
    "SSE018": _e(
        "unsafe name for a job script", "error",
        """Values that sselang writes into job scripts (the SLURM partition and account) must
        be single words of letters, digits, '.', '_' and '-'. A space, a quote or an escaped
        newline would change the script: `partition = "batch\\n#SBATCH --nodes=100"` would
        add a line to every job.""",
        """
        study "demo" { title = "Example" }

        material LPS {
          formula = Li3PS4
        }

        analyze LPS { window }

        run {
          executor = slurm { partition = "batch queue" }
        }
        """,
        "write the partition or account name exactly as SLURM knows it.",
    ),
    "SSE020": _e(
        "unknown name", "error",
        """A name refers to no material, cell or role of this study and is not a chemical
        formula either. Names written with capitals may be formulas (Li3PS4 is an inline
        material), so a typo in a material's name either becomes an unknown name or, worse,
        a different compound; a close match among the defined names is suggested.""",
        """
        study "demo" { title = "Example" }

        material LPSCl {
          formula = Li6PS5Cl
        }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = LPSCI
          anode       = Li
        }

        analyze LPSCl { window }
        """,
        "correct the name (see the hint), define the material with a material block, or "
        "write its chemical formula.",
    ),
    "SSE021": _e(
        "defined twice", "error",
        """Two materials or cells carry the same name, possibly in different imported files,
        or one engine is configured twice for the same calculations. References to the name
        would be ambiguous, and quietly keeping one definition would change results depending
        on file order.""",
        """
        study "demo" { title = "Example" }

        material LPSCl { formula = Li6PS5Cl }
        material LPSCl { formula = Li6PS5Br }

        analyze LPSCl { window }
        """,
        "rename one of them (e.g. LPSCl and LPSBr) or delete the duplicate; the hint gives "
        "the line of the first definition.",
    ),
    "SSE022": _e(
        "cell is missing a role", "error",
        """A cell must name its cathode, electrolyte and anode. The interfaces to compute
        (cathode | electrolyte, electrolyte | anode) and the potentials at which each phase
        sits follow from the full stack; a cell without one of them is not a battery.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
        }
        """,
        "add the missing role, e.g. anode = Li or anode = LiIn.",
    ),
    "SSE023": _e(
        "cell has no coating", "error",
        """A request names the role `coating`, but the analysed cell has no coating layer, so
        there is no material to compute.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
          anode       = Li
        }

        analyze baseline { window coating }
        """,
        "add a coating to the cell (coating = LiNbO3) or remove the request.",
    ),
    "SSE024": _e(
        "request does not fit its target", "error",
        """A request names something its target cannot supply: a role (cathode, electrolyte,
        ...) in the analysis of a single material, a coating screen outside a cell, the
        reactivity of a phase with itself, or a role that stands for several materials where
        one is needed.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS { window electrolyte }
        """,
        "analyze a cell to use roles, or name the material itself (window LGPS).",
    ),
    "SSE025": _e(
        "no study block", "error",
        """The file has no study "id" { ... } block. The study block gives the id that names
        the build folder and the title and references that go into every report; a file
        without one can only be imported into a study with `use`.""",
        """
        material LPSCl { formula = Li6PS5Cl }

        analyze LPSCl { window }
        """,
        'add: study "my-study" { title = "..." }, or `use` this file from a study.',
    ),
    "SSE026": _e(
        "second study, data or run block", "error",
        """A file has exactly one study block and at most one data and one run block. Two of
        them would give two ids or two competing settings for the same build.""",
        """
        study "demo" { title = "Example" }
        study "demo-2" { title = "Another example" }
        """,
        "merge the blocks, or move the second study into a file of its own.",
    ),
    # ---- chemistry (03x) ------------------------------------------------------------
    "SSE030": _e(
        "malformed formula", "error",
        """The formula cannot be read: an unclosed or unmatched parenthesis, a number with no
        element before it, an amount of zero, a lowercase letter that starts no element
        symbol, or another stray character. The formula fixes the composition and therefore
        every computed energy, so it is never guessed.""",
        """
        study "demo" { title = "Example" }

        material LATP {
          formula = "LiTi2(PO43"
        }

        analyze LATP { window }
        """,
        "fix the formula at the marked character, e.g. LiTi2(PO4)3.",
    ),
    "SSE031": _e(
        "unknown element", "error",
        """A symbol in a formula is not a chemical element (Z <= 103). Symbols are one capital
        letter optionally followed by one lowercase letter, so a typo (Lj for Li) or a wrong
        case (CL, co) reads as an unknown element or as different elements; the closest
        element common in battery materials is suggested.""",
        """
        study "demo" { title = "Example" }

        material LCO {
          formula = LjCoO2
        }

        analyze LCO { window }
        """,
        "correct the symbol (see the hint): LiCoO2.",
    ),
    "SSE032": _e(
        "formula not charge balanced", "error",
        """With the usual oxidation states of its elements (the most electronegative element
        kept as an anion), the formula carries a net charge. A typo in a formula such as
        Li6PS6Cl for Li6PS5Cl still parses, but it is a different, non-existent compound:
        its structure cannot be built and it silently changes every energy, hull distance,
        window and reaction computed from it. Phases that are really mixed valence (Fe3O4) or
        off-stoichiometric must say so. Alloys and elements (LiIn, Li15Ge4, Li) carry no
        formal charges and are not checked.""",
        """
        study "demo" { title = "Example" }

        material LPSCl {
          formula = Li6PS6Cl
        }

        analyze LPSCl { window }
        """,
        "correct the formula; if the phase is deliberately mixed valence or off-"
        "stoichiometric, add mixed_valence = true to the material.",
    ),
    "SSE033": _e(
        "structure edits do not fit the formula", "error",
        """Substitutions, additions and removals applied to a library structure (with {
        substitute S -> O 1.25 ... }) must be possible and must add up to the material's
        formula: each amount positive, each species a single element present in the starting
        structure in at least that amount, and the edited composition equal to the formula.
        Otherwise the structure that is computed is not the compound that is named.""",
        """
        study "demo" { title = "Example" }

        material LPSO {
          formula   = Li6PS4OCl
          structure = library("Li6PS5Cl") with { substitute S -> O 2 }
        }

        analyze LPSO { window }
        """,
        "make the edits add up to the formula (here substitute S -> O 1), or correct the "
        "formula.",
    ),
    # ---- units and numbers (04x) --------------------------------------------------------
    "SSE034": _e(
        "look-alike element symbols", "warning",
        """A formula contains letters that read as other elements than were probably
        meant: 'CI' (capital i) is carbon + iodine, not chlorine. Such a formula may even be
        charge balanced with unusual oxidation states (C+2, P+3 in Li6PS5CI), so the charge
        check alone cannot catch it; the corrected formula is the usual phase.""",
        """
        study "demo" { title = "Example" }

        material LPSCl {
          formula = Li6PS5CI
        }

        analyze LPSCl { window }
        """,
        "write chlorine as Cl (capital C, lowercase L).",
    ),
    "SSE035": _e(
        "mobile species not in the material", "error",
        """Diffusion and barrier calculations follow one element's ions through the
        material. The species must be a single element (Li, Na, ...) that the material
        contains: the MSD of Na in Li3PS4 is not defined, and a compound such as Li2S is
        not an ion that hops.""",
        """
        study "demo" { title = "Example" }

        material LPS {
          formula = Li3PS4
        }

        analyze LPS {
          diffusion {
            temperatures = [600, 800, 1000] K
            duration     = 40 ps
            species      = Na
          }
        }
        """,
        "name an element of the material, usually Li.",
    ),
    "SSE040": _e(
        "unknown unit", "error",
        """The unit after a number is not one sselang knows. Units are checked rather than
        taken on trust because a misread unit changes a value by orders of magnitude. Note
        the battery conventions: C is the C-rate (0.1 C is a ten-hour charge), not the
        coulomb; degC is Celsius; wt% and % are fractions; Å may be written as Å or angstrom.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2 { thickness = 50 microns }
          electrolyte = Li6PS5Cl
          anode       = Li
        }
        """,
        "use a known unit (the hint names the closest), e.g. 50 um or 50 µm.",
    ),
    "SSE041": _e(
        "wrong unit for this value", "error",
        """The unit has the wrong dimension for the key (a temperature in C-rate, a time in
        kelvin), a quantity needs a unit that is missing, or a plain count was given a unit.
        A common case: `25 C` is not 25 degrees Celsius, because C is the battery C-rate, not
        Celsius (and not the coulomb); write 25 degC. A bare number is never assumed to be in
        some default unit: 300 could be K or degC.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
          anode       = Li
          conditions { temperature = 25 C }
        }
        """,
        "write the unit of the kind the message names: 25 degC or 298 K; 0.1 C for a rate.",
    ),
    "SSE042": _e(
        "range not ordered", "error",
        """A range low .. high has its bounds swapped or equal. Ranges (voltage cutoffs, the
        window a coating must cover) are read low to high; a reversed range is either a typo
        or a swap of charge and discharge limits, and an empty range would match nothing.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
          anode       = LiIn
          conditions { cutoff = 3.6 V .. 1.9 V }
        }
        """,
        "write the lower bound first: cutoff = 1.9 V .. 3.6 V.",
    ),
    "SSE043": _e(
        "value outside its physical range", "error",
        """A value lies outside the range where it means anything: a temperature at or below
        absolute zero, a non-positive duration, timestep, pressure or rate, a loading above
        100 %, a potential outside 0-6 V vs Li/Li+, more than 32 NEB images, a count below
        its minimum. Such values are typos (43 V for 4.3 V, a missing decimal point or a sign)
        and would produce input decks that fail or, worse, run.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2 { charged_to = 43 V }
          electrolyte = Li6PS5Cl
          anode       = Li
        }
        """,
        "correct the value (here charged_to = 4.3 V); the message gives the allowed range.",
    ),
    "SSE044": _e(
        "number out of range", "error",
        """A number is not finite or exceeds 1e12 in magnitude. No quantity in a study comes
        near that; such a number is an exponent typo (1e31 for 1e3) and would overflow
        conversions and the codes the inputs are written for.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
          anode       = Li
          conditions { pressure = 5e13 MPa }
        }
        """,
        "correct the number or its exponent (here 50 MPa).",
    ),
    "SSE045": _e(
        "beyond any computational budget", "error",
        """The request is larger than anything that can be computed: an AIMD supercell longer
        than 60 Å (hundreds of thousands of atoms), more than 1e8 MD steps, more than 4096
        workers, a list with more entries than allowed, or a calculation (a supercell, an
        ordering cell) of more than 5000 atoms, which compile reports before writing anything.
        Such values are typos (a length in nm read as Å, a duration in ns read as ps) and would
        produce jobs that never finish.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS {
          diffusion {
            temperatures = [600, 800, 1000] K
            duration     = 50 ps
            supercell    = min 100 Å
          }
        }
        """,
        "bring the value to a realistic size: a supercell of 10-15 Å, tens to hundreds of ps "
        "of AIMD.",
    ),
    # ---- AIMD and the cell (05x) --------------------------------------------------------
    "SSE050": _e(
        "too few temperatures for an Arrhenius fit", "warning",
        """Fewer than 3 distinct AIMD temperatures are given. D is computed at each, but the
        activation energy and room-temperature conductivity come from an Arrhenius fit of
        ln D against 1/T, and a line through two points has no error estimate and cannot show
        a change of mechanism. At least 3 (better 4-5) temperatures are needed.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS {
          diffusion {
            temperatures = [800, 1000] K
            duration     = 50 ps
          }
        }
        """,
        "add temperatures, e.g. temperatures = [600, 800, 1000, 1200] K.",
    ),
    "SSE051": _e(
        "extrapolation without an Arrhenius fit", "error",
        """`extrapolate` asks for D or the conductivity at a lower temperature (usually 300 K)
        from an Arrhenius fit of the AIMD temperatures; the fit needs at least 3 distinct
        temperatures. With fewer, the extrapolation over hundreds of kelvin would rest on one
        or two points and its result would be meaningless.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS {
          diffusion {
            temperatures = [800, 1000] K
            duration     = 50 ps
            extrapolate  = 300 K
          }
        }
        """,
        "give at least 3 temperatures (e.g. [600, 800, 1000, 1200] K) or remove extrapolate.",
    ),
    "SSE052": _e(
        "AIMD duration not longer than the equilibration", "error",
        """`duration` is the whole AIMD run and `equilibrate` the part discarded at its start;
        when the duration is not longer, no production trajectory remains to compute the mean
        squared displacement from.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS {
          diffusion {
            temperatures = [600, 800, 1000] K
            duration     = 5 ps
            equilibrate  = 10 ps
          }
        }
        """,
        "make the duration the total length, e.g. duration = 50 ps, equilibrate = 5 ps.",
    ),
    "SSE053": _e(
        "AIMD timestep too long for Li", "warning",
        """The MD timestep is above 2 fs while the diffusing species is Li (or H). Li is
        the lightest metal and at AIMD temperatures (600-1200 K) it moves fast; the timestep
        must stay a small fraction of its fastest vibrations and hops, or the integrator stops
        conserving energy, the thermostat has to remove the drift, and the trajectory (and
        the D fitted from it) is wrong. 1-2 fs is the usual choice for Li conductors, 0.5 fs
        for H.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS {
          diffusion {
            temperatures = [600, 800, 1000] K
            duration     = 50 ps
            timestep     = 5 fs
          }
        }
        """,
        "use timestep = 2 fs (or 1 fs); lengthen the duration instead if more sampling is "
        "needed.",
    ),
    "SSE054": _e(
        "AIMD temperature outside 500-2000 K", "warning",
        """AIMD can afford only tens to hundreds of picoseconds. Below about 500 K too few Li
        hops happen in that time to fit a diffusion coefficient from the mean squared
        displacement (the statistics are dominated by a handful of events); above about
        2000 K sulfide electrolytes melt or decompose, so the run no longer samples the solid.
        Room-temperature values come from extrapolating an Arrhenius fit over 600-1200 K.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS {
          diffusion {
            temperatures = [300, 800, 1000] K
            duration     = 50 ps
          }
        }
        """,
        "run between 500 and 2000 K and use extrapolate = 300 K for room temperature.",
    ),
    "SSE055": _e(
        "temperature listed twice", "warning",
        """The same AIMD temperature appears twice in the list. The second run adds no point to
        the Arrhenius fit but costs a full AIMD trajectory; it is usually a typo for another
        temperature.""",
        """
        study "demo" { title = "Example" }

        material LGPS { formula = Li10GeP2S12 }

        analyze LGPS {
          diffusion {
            temperatures = [600, 800, 800, 1200] K
            duration     = 50 ps
          }
        }
        """,
        "remove the duplicate or replace it with the temperature that was meant.",
    ),
    "SSE057": _e(
        "cell temperature outside battery testing range", "warning",
        """The cell's test temperature is outside -100 to 200 degC, where solid-state cells
        are operated or tested. Almost always the unit is wrong: 25 K written for 25 degC
        (K is kelvin, Celsius is degC), or 300 degC for 300 K.""",
        """
        study "demo" { title = "Example" }

        cell baseline {
          cathode     = LiCoO2
          electrolyte = Li6PS5Cl
          anode       = Li
          conditions { temperature = 25 K }
        }
        """,
        "check the unit: temperature = 25 degC or 298 K.",
    ),
    "SSE058": _e(
        "unusual engine setting", "warning",
        """A value set in an engine block is always used as written, never replaced by a
        default. When it lies outside the range practitioners use (a VASP ENCUT below the
        PAW potentials' ENMAX, a k-point spacing coarser than 0.5 1/Å, a plane-wave cutoff
        far from the pseudopotential's recommendation), the compiler says so once.""",
        """
        study "demo" { title = "Example" }

        material LPS {
          formula = Li3PS4
        }

        analyze LPS { window }

        engine vasp { encut = 150 eV }
        """,
        "check the unit and the value; if it is deliberate (a quick test), keep it.",
    ),
    "SSE059": _e(
        "Li window of a phase without Li", "warning",
        """An electrochemical window or a Li uptake profile is requested for a phase that
        holds no Li. Both are computed against Li/Li+: the window is the range of Li chemical
        potential in which a Li-containing phase neither takes up nor gives off Li. A Li-free
        phase has no Li to give off, so it has no such window; the result would at most say
        where it starts to lithiate, which is likely not what was meant.""",
        """
        study "demo" { title = "Example" }

        analyze Nb2O5 { window }
        """,
        "request the window of the Li-containing phase (e.g. LiNbO3), or drop the request.",
    ),
    # ---- imports (06x) ------------------------------------------------------------------
    "SSE060": _e(
        "imported file cannot be read", "error",
        """A `use "..."` names a file that does not exist or cannot be opened (permissions, a
        broken link). Paths are relative to the file that contains the `use`, so moving a
        study without the files it uses breaks them. (An imported path that is a directory,
        binary or not UTF-8 is reported as SSE005, one over 1 MB as SSE006.)""",
        """
        use "materials.cell"

        study "demo" { title = "Example" }
        """,
        "correct the path (relative to this file) or copy the imported file next to the "
        "study.",
    ),
    "SSE061": _e(
        "cyclic use", "error",
        """A file imports itself, directly or through other files. Following the chain would
        never end, and the definitions in the files would each depend on the others.""",
        """
        use "example.cell"

        study "demo" { title = "Example" }
        """,
        "remove the use that closes the cycle; shared materials belong in a file that imports "
        "nothing back.",
    ),
    "SSE062": _e(
        "imported file defines more than materials and cells", "error",
        """A file brought in with `use` may only define materials and cells. Study, analyze,
        engine, data and run blocks belong to the study that is compiled; an imported file
        carrying them would give a study two ids or run analyses nobody asked for.""",
        """
        use "materials.cell"

        study "demo" { title = "Example" }

        analyze LPSCl { window }
        """,
        "move the block into the study that uses the file, and keep the imported file to "
        "materials and cells.",
        companions=(("materials.cell", """
            study "shared" { title = "Shared materials" }

            material LPSCl { formula = Li6PS5Cl }
            """),),
    ),
    "SSE064": _e(
        "use chain too deep or too many files used", "error",
        """A study and the files it uses (directly or through other files) form a chain of at
        most 16 files, and at most 256 files are used in all. Shared definitions nest two or
        three files deep; a longer chain is generated or looping input (a chain of thousands of
        files would exhaust the checker's recursion), so it is refused where the chain goes
        too deep.""",
        """
        $ sselang check study.cell
        f15.cell:1:5: error[SSE064]: use chain deeper than 16 files
          |
        1 | use "f16.cell"
          |     ^^^^^^^^^^
        """,
        "use the shared files directly from the study, or merge them into fewer files.",
        example_is_file=False,
    ),
    # ---- screening (07x) ----------------------------------------------------------------
    "SSE070": _e(
        "unknown or malformed screening metric", "error",
        """A screen filters and ranks candidate coatings by e_hull, reactivity (with a
        neighbour of the coating), band_gap or barrier. Any other metric cannot be computed;
        reactivity needs its partner (`reactivity with cathode`), and the other metrics take
        no `with`.""",
        """
        study "demo" { title = "Example" }

        cell nmc_lps {
          cathode     = LiNi0.8Mn0.1Co0.1O2
          electrolyte = Li3PS4
          anode       = Li
        }

        analyze nmc_lps {
          screen coating {
            candidates = [LiNbO3, Li3PO4]
            rank by conductivity
          }
        }
        """,
        "use one of e_hull, reactivity with <role>, band_gap, barrier.",
    ),
    "SSE071": _e(
        "screening threshold without a proper unit", "error",
        """A screening threshold must carry a unit of the metric's kind: an energy per atom
        for e_hull and reactivity (25 meV/atom), an energy for band_gap and barrier (0.3 eV).
        A bare number is ambiguous by a factor of 1000 between meV and eV (only 0 needs no
        unit).""",
        """
        study "demo" { title = "Example" }

        cell nmc_lps {
          cathode     = LiNi0.8Mn0.1Co0.1O2
          electrolyte = Li3PS4
          anode       = Li
        }

        analyze nmc_lps {
          screen coating {
            candidates = [LiNbO3, Li3PO4]
            require e_hull <= 25
          }
        }
        """,
        "add the unit: require e_hull <= 25 meV/atom.",
    ),
    # ---- engines (08x) ------------------------------------------------------------------
    "SSE080": _e(
        "unknown engine", "error",
        """sselang writes input decks for vasp, qe (Quantum ESPRESSO) and cp2k. Settings for any
        other code would be ignored, and the calculations would silently run with default
        settings of another engine.""",
        """
        study "demo" { title = "Example" }

        engine castep { cutoff = 500 eV }
        """,
        "use engine vasp, engine qe or engine cp2k.",
    ),
    # ---- hygiene (09x) ------------------------------------------------------------------
    "SSE090": _e(
        "material defined but never used", "warning",
        """A material is defined in this file but no cell or analysis refers to it. Nothing
        will be computed for it, which usually means a reference to it was misspelt or a
        formula was written where the material's name was meant.""",
        """
        study "demo" { title = "Example" }

        material LPSCl { formula = Li6PS5Cl }

        analyze Li3PS4 { window }
        """,
        "use it in a cell or analysis, or remove it.",
    ),
    "SSE099": _e(
        "internal error", "error",
        """The checker accepted the study, but the resolved model failed its own validation.
        This is a bug in sselang, not in the study: it is reported as a diagnostic so that the
        rest of the run still completes.""",
        """
        study.cell: error[SSE099]: internal error while building the study model: ...
        """,
        "please report the study that triggers it (SSELANG_DEBUG=1 shows details); meanwhile "
        "rewriting the offending entry differently usually works around it.",
        example_is_file=False,
    ),
    "SSE101": _e(
        "unknown library structure", "error",
        """library("...") names a phase of the structure library bundled with sselang; this
        name is not one of them. The library holds crystallographic tables (space group,
        lattice, Wyckoff positions, literature reference) of the electrolytes, cathodes,
        coatings and competing phases of the field; `sselang library` lists them.""",
        """
        study "demo" { title = "Example" }

        material LPSCl {
          formula   = Li6PS5Cl
          structure = library("Li6PSCl5")
        }

        analyze LPSCl { window }
        """,
        "use a name from `sselang library`, or give the structure as file(\"...\").",
    ),
    "SSE102": _e(
        "no structure for a material", "error",
        """When a study is compiled each material becomes an ordered crystal structure: the
        library phase (edits applied, partial occupancies ordered by Ewald energy), a
        structure file, or a Materials Project entry. This failed: the formula is in no
        library record, the file is missing or unreadable, the structure's composition is not
        the material's formula, or the ordering needs a cell above max_atoms. A screening
        candidate without a structure is left out of the screen with a warning instead.""",
        """
        $ sselang compile study.cell
        study.cell:8:15: error[SSE102]: LGPS: structure file LGPS.cif does not exist
        """,
        "give the structure with file(\"...\") or mp(\"mp-...\"), or correct the formula or the edits.",
        example_is_file=False,
    ),
    "SSE104": _e(
        "thermo source unusable", "error",
        """A source in `data { thermo = ... }` cannot give energies: mp needs the mp-api package
        and a Materials Project key in MP_API_KEY; entries("file.json") must be a readable JSON
        list of pymatgen ComputedEntry objects with finite energies; results("folder") must be
        a folder of finished calculations.""",
        """
        $ sselang compile study.cell
        study.cell:12:17: error[SSE104]: thermo source 'mp' needs an API key
          in MP_API_KEY
        """,
        "set MP_API_KEY (and pip install mp-api), fix the file named in the message, or use bundled.",
        example_is_file=False,
    ),
    "SSE105": _e(
        "energies of two schemes would mix", "error",
        """A phase diagram is only meaningful if all its energies come from one scheme. DFT
        energies (mp, results) and ML-potential energies (bundled, chgnet) carry different
        errors, and entries without the MP2020 corrections are on another scale again; two
        sources of different schemes may not both feed one chemical system. As a warning, the
        same code says when a study material's CHGNet energy joins DFT energies.""",
        """
        $ sselang compile study.cell
        study.cell:14:17: error[SSE105]: thermo sources 'bundled' (CHGNet 0.3.0
          (MP2020 scale)) and 'mp' (MP2020 GGA/GGA+U) would both give energies
          for Cl-Li-P-S
        """,
        "keep one source per chemical system (e.g. thermo = mp, or thermo = bundled).",
        example_is_file=False,
    ),
    "SSE106": _e(
        "no energies for a chemical system or material", "error",
        """An analysis needs the energies of every phase of a chemical system, and of the
        analysed material itself. No listed source covers the system's elements, or (a
        warning) a derived material has no energy because it is in no dataset and the CHGNet
        potential is not installed to compute one.""",
        """
        $ sselang compile study.cell
        study.cell:3:10: warning[SSE106]: no energy for LPSOC (library:Li6PS5Cl
          with edits): it is in no dataset and the CHGNet potential is not
          installed
        """,
        "add a source that covers the elements, install chgnet, or give the energy in entries(\"...\").",
        example_is_file=False,
    ),
    "SSE107": _e(
        "the lock is out of date", "warning",
        """The study's .lock records the structures and energies a compile used, so a rebuild
        is offline and byte-identical. A material whose structure source, edits or ordering
        changed, or thermo sources that changed, no longer match the lock: those parts are
        resolved again and the build differs from the locked one.""",
        """
        $ sselang compile study.cell
        study.cell:11:10: warning[SSE107]: the lock has an outdated structure
          for 'LCO'; it is resolved again
        """,
        "run `sselang lock study.cell` and commit the new lock with the study.",
        example_is_file=False,
    ),
    "SSE108": _e(
        "unreadable lock file", "error",
        """The study's .lock file is not a JSON lock of this version of sselang (truncated,
        edited by hand into invalid JSON, or written by another version).""",
        """
        $ sselang compile study.cell
        study.cell: error[SSE108]: study.cell.lock is not a readable lock file
          (Expecting value: line 1 column 1 (char 0))
        """,
        "delete the lock or run `sselang lock study.cell` again.",
        example_is_file=False,
    ),
    "SSE110": _e(
        "symbolic link in the build folder", "error",
        """compile writes only inside build/<study>/. A symbolic link in place of that folder or
        of something compile writes at its top (study.json, structures/, calcs/, report/, ...)
        would make it write wherever the link points: into another study's build, a shared
        folder or a system file. Such a link is refused before anything is written. Links
        inside a calculation folder (a POTCAR, a pseudopotential folder) are the user's and
        are left alone.""",
        """
        $ sselang compile study.cell
        study.cell:1:7: error[SSE110]: build/demo/structures is a symbolic link (to /etc);
          compile writes only inside the build folder
        """,
        "remove the link; to build on another disk, name that folder with --build-dir.",
        example_is_file=False,
    ),
    "SSE111": _e(
        "input deck cannot be written", "error",
        """A calculation's input deck is made from the structure and the engine block's
        settings before anything is written. This failed: the engine's data has no entry for
        a setting or an element (a CP2K basis family that the installed BASIS_MOLOPT does not
        hold for an element, a pseudopotential family without one of the elements), so a deck
        would be incomplete or wrong. Nothing is written.""",
        """
        $ sselang compile study.cell
        study.cell:9:8: error[SSE111]: the cp2k deck of relax-LPS-cp2k-0a1b2c3d4e cannot be
          written: cp2k: no basis set of family 'TZV2P-GTH' for P in BASIS_MOLOPT
        """,
        "change the setting the message names, or leave that engine out of these calculations "
        "(for = [...]).",
        example_is_file=False,
    ),
    "SSE109": _e(
        "a result is left out", "warning",
        """A calculation found by results("folder") gives no energy: the run did not converge,
        or it cannot be put on the MP2020 scale of the other energies (another functional,
        a meta-GGA, a hybrid). The rest of the folder is used.""",
        """
        $ sselang compile study.cell
        study.cell:12:17: warning[SSE109]: runs/LiCoO2/vasprun.xml is left out: the run did
          not converge (electronic or ionic)
        """,
        "rerun or continue the calculation, or remove it from the folder.",
        example_is_file=False,
    ),
}
