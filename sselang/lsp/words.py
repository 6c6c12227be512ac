"""What the words of a study mean, for hover and completion.

The checker knows which keys each block accepts (sselang/model/resolve.py) but
not how to explain them; the explanations live here, one line each, in the
words of docs/language.md.  tests/test_lsp_words.py checks that the key tables
below agree with what the resolver accepts and that every unit listed for a
kind is one the unit registry parses as that kind, so the editor never offers
something `sselang check` would reject.
"""

from __future__ import annotations

from ..model.resolve import CALCULATION_KINDS, DIRECTIONS, ENGINE_CHOICES, ENGINE_KEYS, ENGINES, ROLES

TOP_LEVEL = ("use", "study", "material", "cell", "analyze", "engine", "data", "run")
REQUESTS = ("window", "profile", "reactivity", "diffusion", "barrier", "interface", "screen")
METRICS = ("e_hull", "reactivity", "band_gap", "barrier", "window")

KEYWORD_DOCS: dict[str, str] = {
    # top-level items
    "use": 'Imports the materials and cells of another study file: `use "shared/materials.cell"`, '
           "a path relative to this file. An imported file holds only materials and cells.",
    "study": 'The study header: `study "id" { title = ...  authors = [...]  reference = ... }`. '
             "The id names the build folder `build/<id>/`; exactly one per file.",
    "material": "A phase with a name: `material NAME { formula = ...  structure = ...  order = ... }`. "
                "Cells, analyses and screens refer to it by name.",
    "cell": "A battery stack: `cathode`, `coating` (any number, cathode outwards), `electrolyte` and "
            "`anode`, with its `conditions` and the `observed` experimental record.",
    "analyze": "The analyses to run on a cell, a material or a formula: `analyze TARGET { requests }`. "
               "With a cell target, requests may name materials by role.",
    "engine": "Settings of one DFT engine (`vasp`, `qe`, `cp2k`) for the generated input decks; "
              "`for = [relax, ...]` limits a block to some kinds of calculation.",
    "data": "Where energies and structures come from: `data { thermo = bundled  structures = bundled }`.",
    "run": "How `sselang run` runs the calculations: the `preview` model and the `executor` "
           "(`local { workers = 2 }` or `slurm { ... }`).",
    # values
    "true": "Boolean true (unquoted; `\"true\"` is a string).",
    "false": "Boolean false (unquoted; `\"false\"` is a string).",
    "min": "`min 10 Å`: a lower bound, for `supercell` (every lattice vector of the AIMD supercell at "
           "least this long). After a number, `min` is the minute.",
    "along": "`Li along c`: the hopping element and the direction of a `barrier`'s `hop`.",
    "after": "`60 % after 450 cycles`: a capacity retention and the cycle count it was measured at.",
    "all": "`all from bundled`: every candidate of a dataset (`bundled` or `mp`), for a screen's `candidates`.",
    "from": "`all from bundled`: every candidate of a dataset (`bundled` or `mp`), for a screen's `candidates`.",
    "with": '`library("...") with { edits }` turns a structure into the material by substitutions, '
            "additions and removals; in a screen, `reactivity with cathode` names the partner phase.",
    # structure edits
    "substitute": "`substitute S -> O 1.25`: replace 1.25 S per formula unit of the parent structure by O.",
    "add": "`add Li 0.25`: add 0.25 Li per formula unit of the parent structure.",
    "remove": "`remove Li 1`: remove 1 Li per formula unit of the parent structure.",
    # requests
    "window": "Electrochemical stability window vs Li/Li+: the range of Li potential over which the "
              "phase stays on the grand-potential convex hull, with the products at each edge. "
              "`window [M, ...]`, default the target or the cell's electrolyte. In a screen: "
              "`require window covers LOW .. HIGH`.",
    "profile": "The Li uptake and removal staircase: the phase equilibria and Li per formula unit against "
               "potential. `profile [M, ...]`, default the target or the cell's electrolyte.",
    "reactivity": "Reaction energy of the mixtures x A + (1-x) B against the convex hull, its minimum over x "
                  "and the products there: `reactivity A | B`, closed by default, "
                  "`{ open Li at 4.0 V }` for a charged cathode. In a screen, the metric "
                  "`reactivity with ROLE`.",
    "open": "`open Li at 4.0 V`: the reaction is open to an element reservoir at a potential vs Li/Li+ "
            "(one single element, 0-6 V).",
    "at": "`open Li at 4.0 V`: the potential vs Li/Li+ of the open element's reservoir.",
    "diffusion": "An AIMD series: Li diffusivity from the mean squared displacement at each temperature, an "
                 "Arrhenius fit and the conductivity (Nernst-Einstein). `diffusion [M] { temperatures = ...  "
                 "duration = ... }`.",
    "barrier": "A climbing-image NEB migration barrier: `barrier [M] { hop = Li along c  images = 5 }`. "
               "In a screen, the Li migration barrier metric.",
    "interface": "Lattice-matched slab models of the interface of two phases for explicit interface DFT: "
                 "`interface A | B { max_area = ...  max_strain = ... }`; A is the substrate, B the film.",
    "screen": "Screens candidate coatings for the analysed cell: `screen coating { candidates = ...  "
              "require ...  rank by ... }`; filters cheapest first, then a ranking of the survivors.",
    "require": "A screening filter: `require METRIC OP VALUE` (`<=` `>=` `<` `>` `==`) or "
               "`require window covers LOW .. HIGH`.",
    "covers": "`require window covers LOW .. HIGH`: the candidate's stability window must contain this "
              "potential range.",
    "rank": "`rank by METRIC [ascending | descending]`: the order of the screen's survivors.",
    "by": "`rank by METRIC`: the metric the survivors are ordered by.",
    "ascending": "Rank lowest value first.",
    "descending": "Rank highest value first.",
}

ROLE_DOCS: dict[str, str] = {
    "cathode": "The positive electrode (required): `cathode = MATERIAL { loading = 70 wt%  charged_to = 4.3 V  "
               "thickness = 50 µm }`.",
    "coating": "A coating layer between cathode and electrolyte (any number, listed from the cathode "
               "outwards). In an analysis, `coating` stands for every coating of the cell.",
    "electrolyte": "The solid electrolyte (required): `electrolyte = MATERIAL { thickness = ... }`. "
                   "Requests without a material default to it.",
    "anode": "The negative (counter) electrode (required): `anode = MATERIAL { thickness = ... }`.",
}

# Keys each block accepts, as the resolver does (blocks named as lexer.Block.kind).
BLOCK_KEYS: dict[str, tuple[str, ...]] = {
    "study": ("title", "authors", "reference", "description"),
    "material": ("formula", "structure", "order", "mixed_valence"),
    "order": ("seed", "keep", "max_atoms"),
    "cell": ROLES + ("conditions", "observed"),
    "role:cathode": ("loading", "charged_to", "thickness"),
    "role:coating": ("thickness",),
    "role:electrolyte": ("thickness",),
    "role:anode": ("thickness",),
    "conditions": ("temperature", "pressure", "rate", "current_density", "cutoff"),
    "observed": ("initial_capacity", "retention", "conductivity", "cycles", "reference"),
    "diffusion": ("temperatures", "duration", "equilibrate", "timestep", "supercell", "directions", "extrapolate",
                  "species", "ensemble"),
    "barrier": ("hop", "images", "climb"),
    "interface": ("max_area", "max_strain", "thickness", "vacuum"),
    "screen": ("candidates", "exclude"),
    "data": ("thermo", "structures"),
    "run": ("preview", "executor"),
    "executor:local": ("workers",),
    "executor:slurm": ("workers", "partition", "account", "walltime", "nodes"),
    **{f"engine:{e}": ENGINE_KEYS[e] for e in ENGINES},
}

# Keywords that start a statement inside a block (besides its keys).
BLOCK_KEYWORDS: dict[str, tuple[str, ...]] = {
    "analyze": REQUESTS,
    "screen": ("require", "rank"),
    "reactivity": ("open",),
    "edits": ("substitute", "add", "remove"),
}

KEY_DOCS: dict[str, str] = {
    "title": "One-line title of the study (string).",
    "authors": 'The authors: a string or a list of strings, `["A. Author", "B. Author"]`.',
    "reference": "The paper the study reproduces or supports (string).",
    "description": "Free text about the study (string).",
    "formula": "The composition per formula unit, bare or quoted: `Li6PS5Cl`, `LiTi2(PO4)3`, "
               "`Li9.54Si1.74P1.44S11.7Cl0.3`. Checked for real elements and charge balance.",
    "structure": 'Where the structure comes from: `library("Li6PS5Cl")` (bundled), `file("x.cif")` (relative '
                 'path) or `mp("mp-696128")`, optionally `with { edits }`. Default: the library phase of the '
                 "formula.",
    "order": "How a partially occupied structure becomes an ordered DFT cell: `ewald` (lowest Ewald energy) or "
             "`random`, optionally `{ seed = 0  keep = 1  max_atoms = 200 }`.",
    "mixed_valence": "`true` switches the charge-balance check off (peroxides, polysulfides, deliberately "
                     "off-stoichiometric compositions).",
    "seed": "Seed of the ordering search (whole number, default 0); the same seed gives the same cell.",
    "keep": "How many lowest-energy orderings are kept (whole number, default 1).",
    "max_atoms": "Largest ordered cell allowed (default 200 atoms); a larger one is an error, not a truncation.",
    "conditions": "The operating conditions of the cell as reported: temperature, pressure, rate, "
                  "current_density, cutoff.",
    "observed": "The experimental record kept with the study: initial_capacity, retention, conductivity, "
                "cycles, reference.",
    "loading": "Mass fraction of active material in the composite cathode: `70 wt%`, `70 %` or `0.7` "
               "(above 0, at most 100 %).",
    "charged_to": "Upper charge potential of the cathode vs Li/Li+ (above 0, at most 6 V): `4.3 V`.",
    "thickness": "Layer thickness, positive: `5 nm`, `50 µm` (stored in nm).",
    "temperature": "Operating temperature of the cell: `25 degC`, `333.15 K` (stored in K; outside -100 to "
                   "200 degC is a warning).",
    "pressure": "Stack pressure, positive: `50 MPa`, `5 bar` (stored in MPa).",
    "rate": "Cycling rate, positive: `0.1 C` (C is the C-rate: 0.1 C is a ten-hour charge).",
    "current_density": "Current density, positive: `0.13 mA/cm^2`.",
    "cutoff": "Voltage window of cycling as written (vs the anode): `1.9 V .. 3.6 V`.",
    "initial_capacity": "Initial specific capacity: `151.9 mAh/g`.",
    "retention": "Capacity retention, 0-150 %, or `60 % after 450 cycles`.",
    "conductivity": "Measured ionic conductivity: `2.8 mS/cm`, `2.8e-3 S/cm`.",
    "cycles": "Number of cycles (whole number ≥ 0).",
    "temperatures": "One AIMD run per temperature: `[600, 800, 1000] K` (at most 50; 3 or more for an "
                    "Arrhenius fit).",
    "duration": "Length of each AIMD run, equilibration included: `40 ps`.",
    "equilibrate": "The start of each run that is discarded: `5 ps` (default 0 ps).",
    "timestep": "MD time step: `2 fs` (the default; at most 2 fs for Li or H).",
    "supercell": "Every lattice vector of the AIMD supercell at least this long: `min 10 Å` (the default).",
    "directions": "Also resolve D along these directions: `[c, ab]` (x y z a b c xy xz yz ab ac bc xyz abc).",
    "extrapolate": "Extrapolate the Arrhenius fit to this temperature: `300 K` (needs 3 or more temperatures).",
    "species": "The mobile species (an element, default `Li`).",
    "ensemble": "Thermodynamic ensemble: `nvt` (default) or `npt` (the cell follows the stack pressure).",
    "hop": "The hopping species and, optionally, its direction: `Li along c` or `Li`.",
    "images": "Number of NEB images (whole number, 1-32, default 5).",
    "climb": "Climbing image on or off (`true` by default).",
    "max_area": "Largest interface area searched: `400 Å^2` (default).",
    "max_strain": "Largest principal strain of the film accepted: `5 %` (default).",
    "vacuum": "Vacuum above the film: `15 Å`; `0` (the default) makes a periodic cell with two interfaces.",
    "candidates": "The coating candidates: `[LiNbO3, Li3PO4, ...]` (materials or formulas) or "
                  "`all from bundled`.",
    "exclude": "Drop candidates that contain these elements: `[Co, Ni]`.",
    "thermo": "Sources of the energies the phase diagrams are built from: `bundled`, `mp`, `chgnet`, "
              '`entries("file.json")`, `results("folder")`, or a list of them (default `bundled`).',
    "structures": "Source of structures looked up by formula: `bundled` (default) or `mp`.",
    "preview": "The machine-learned model for quick previews before DFT: `chgnet` (default) or `none`.",
    "executor": "Where calculations run: `local { workers = 2 }` or `slurm { partition = ...  walltime = ... }`.",
    "workers": "Calculations at a time (1-4096).",
    "partition": "SLURM partition (string).",
    "account": "SLURM account (string).",
    "walltime": "SLURM wall time per job: `12 h`, `30 min`, `2 d`.",
    "nodes": "SLURM nodes per job (whole number ≥ 1).",
    "preset": 'VASP settings preset: `mp` or `"mp-r2scan"` (Materials Project input sets).',
    "encut": "VASP plane-wave cutoff: `520 eV`.",
    "kspacing": "k-point spacing in Å⁻¹ (plain number, e.g. `0.25`).",
    "ediff": "VASP electronic convergence: `1e-6 eV`.",
    "ediffg": "VASP ionic convergence; negative: a force criterion, `-0.02 eV/Å`.",
    "functional": "Exchange-correlation functional: `PBE`, `PBEsol` (VASP also `r2SCAN`).",
    "potcar_functional": 'VASP POTCAR family: `"PBE_54"`.',
    "spin": "Spin-polarised calculation: `true` or `false`.",
    "for": "The kinds of calculation this engine block is for: `relax`, `static`, `diffusion`, `barrier`, "
           "`interface`, `window`, `reactivity` (default: all).",
    "pseudos": 'Pseudopotential family of pw.x: `"SSSP-efficiency"` (default).',
    "pseudo_dir": "Folder pw.x reads the pseudopotentials from (string, default `./pseudo`).",
    "pseudo_files": 'Your own pseudopotential files, `{element}` standing for the symbol: `"{element}.pbe-tm.UPF"`.',
    "ecutwfc": "pw.x wave-function cutoff: `60 Ry`.",
    "ecutrho": "pw.x charge-density cutoff: `480 Ry` (default 4 x ecutwfc with pseudo_files).",
    "basis": 'CP2K basis set: `"DZVP-MOLOPT-SR-GTH"`.',
    "potential": 'CP2K pseudopotential: `"GTH-PBE"`.',
    "rel_cutoff": "CP2K relative cutoff: `60 Ry`.",
}

# Keys whose meaning depends on the block they are in.
BLOCK_KEY_DOCS: dict[tuple[str, str], str] = {
    ("interface", "thickness"): "Least thickness of each slab, between its outermost atomic planes: `12 Å` "
                                "(default).",
    ("observed", "reference"): "Where the observed record comes from (string).",
    ("engine:cp2k", "cutoff"): "CP2K plane-wave cutoff: `400 Ry`.",
    ("engine:qe", "kspacing"): "k-point spacing in Å⁻¹ (plain number, e.g. `0.3`).",
}

# The kind of quantity a key takes (a key of sselang.model.units.KINDS), for units after its number.
KEY_KINDS: dict[str, str] = {
    "temperature": "temperature", "temperatures": "temperature", "extrapolate": "temperature",
    "charged_to": "potential", "cutoff": "potential", "at": "potential", "covers": "potential",
    "duration": "time", "equilibrate": "time", "timestep": "time", "walltime": "time",
    "supercell": "length", "thickness": "length", "vacuum": "length",
    "max_area": "area",
    "pressure": "pressure",
    "encut": "energy", "ediff": "energy", "ecutwfc": "energy", "ecutrho": "energy", "rel_cutoff": "energy",
    "band_gap": "energy", "barrier": "energy",
    "ediffg": "force",
    "e_hull": "energy_per_atom", "reactivity": "energy_per_atom",
    "loading": "fraction", "retention": "fraction", "max_strain": "fraction",
    "rate": "c_rate",
    "current_density": "current_density",
    "initial_capacity": "specific_capacity",
    "conductivity": "conductivity",
    "after": "cycles",
}
BLOCK_KEY_KINDS: dict[tuple[str, str], str] = {("engine:cp2k", "cutoff"): "energy"}

# Units offered for each kind: the ones docs/language.md lists.
UNITS: dict[str, tuple[str, ...]] = {
    "temperature": ("K", "degC", "degF"),
    "potential": ("V", "mV"),
    "time": ("fs", "ps", "ns", "s", "min", "h", "d"),
    "length": ("Å", "angstrom", "nm", "um", "µm", "mm", "bohr"),
    "area": ("Å^2", "nm^2"),
    "pressure": ("MPa", "GPa", "bar", "atm", "Pa"),
    "energy": ("eV", "meV", "Ry", "Ha"),
    "energy_per_atom": ("meV/atom", "eV/atom"),
    "force": ("eV/Å",),
    "fraction": ("%", "wt%", "at%", "ppm"),
    "c_rate": ("C",),
    "current_density": ("mA/cm^2", "A/m^2"),
    "specific_capacity": ("mAh/g", "Ah/kg"),
    "conductivity": ("mS/cm", "S/cm", "S/m"),
    "diffusivity": ("cm^2/s",),
    "cycles": ("cycles", "cycle"),
}

# How each kind is written in SI, for the hover's conversion.
SI_UNITS: dict[str, str] = {
    "temperature": "kelvin", "potential": "volt", "time": "second", "length": "meter", "area": "meter**2",
    "pressure": "pascal", "energy": "joule", "energy_per_atom": "joule/atom", "force": "newton",
    "fraction": "dimensionless", "c_rate": "C_rate", "current_density": "ampere/meter**2",
    "specific_capacity": "coulomb/kilogram", "conductivity": "siemens/meter", "diffusivity": "meter**2/second",
    "cycles": "cycle",
}
SI_LABELS: dict[str, str] = {
    "kelvin": "K", "volt": "V", "second": "s", "meter": "m", "meter**2": "m²", "pascal": "Pa", "joule": "J",
    "joule/atom": "J/atom", "newton": "N", "dimensionless": "", "C_rate": "C", "ampere/meter**2": "A/m²",
    "coulomb/kilogram": "C/kg (A·s/kg)", "siemens/meter": "S/m", "meter**2/second": "m²/s", "cycle": "cycles",
}

# Choices a key takes, offered after `key =`.
VALUE_CHOICES: dict[str, tuple[str, ...]] = {
    "order": ("ewald", "random"),
    "thermo": ("bundled", "mp", "chgnet", 'entries("")', 'results("")'),
    "structures": ("bundled", "mp"),
    "preview": ("chgnet", "none"),
    "executor": ("local", "slurm"),
    "ensemble": ("nvt", "npt"),
    "mixed_valence": ("true", "false"),
    "climb": ("true", "false"),
    "spin": ("true", "false"),
    "directions": DIRECTIONS,
    "for": CALCULATION_KINDS,
    "candidates": ("all from bundled", "all from mp"),
    "hop": ("Li along c", "Li"),
    "species": ("Li",),
    "supercell": ("min",),
    "structure": ('library("")', 'file("")', 'mp("")'),
}
ENGINE_VALUE_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    (f"engine:{e}", k): tuple(f'"{c}"' if not c.isidentifier() else c for c in cs)
    for (e, k), cs in ENGINE_CHOICES.items()
}

VALUE_DOCS: dict[str, str] = {
    "bundled": "The reference data shipped with sselang: the structure library and every library phase "
               "relaxed with the CHGNet 0.3.0 potential (MP2020-compatible energies).",
    "mp": "The Materials Project, through the `mp-api` client (needs `MP_API_KEY`; MP2020 corrections).",
    "chgnet": "CHGNet energies computed on this machine for every phase (needs the `chgnet` package); as a "
              "`preview`, the CHGNet potential for quick previews before DFT.",
    "entries": '`entries("file.json")`: pymatgen ComputedEntry JSON, relative to the study.',
    "results": '`results("folder")`: energies parsed from your finished calculations (vasprun.xml).',
    "library": '`library("name")`: a structure bundled with sselang, by name (`sselang library` lists them).',
    "file": '`file("path")`: a CIF or POSCAR file, relative to the study\'s folder.',
    "ewald": "Order partial occupancies by the lowest electrostatic (Ewald) energy with formal charges.",
    "random": "Order partial occupancies by one random arrangement drawn with the seed.",
    "local": "Run calculations on this machine: `local { workers = 2 }`.",
    "slurm": "Submit calculations to SLURM: `slurm { partition = ...  account = ...  walltime = ...  nodes = ... }`.",
    "nvt": "Constant volume and temperature (the default ensemble).",
    "npt": "Constant pressure and temperature: the cell follows the analysed cell's pressure.",
    "none": "No machine-learned preview: run the DFT engines only.",
    "vasp": "VASP: INCAR, KPOINTS, POSCAR and the POTCAR list for each calculation.",
    "qe": "Quantum ESPRESSO (pw.x) input decks.",
    "cp2k": "CP2K input decks.",
    "e_hull": "Screening metric: energy above the convex hull (per atom; ranked lowest first).",
    "band_gap": "Screening metric: electronic band gap (ranked widest first).",
}
