"""Quantum ESPRESSO (pw.x) decks: relax, vc-relax, md.

Pseudopotential file names and cutoffs come from a named family (the SSSP
efficiency library by default, table in decks/data/); the cutoffs are the
largest the family recommends for the elements present.  A study may instead
name its own files with a pattern (`pseudo_files = "{element}.pbe-tm.UPF"`);
there is then no recommendation to take ecutwfc from, so the study must give
it, and ecutrho defaults to pw.x's own 4 x ecutwfc.  k-points come from a
spacing in reciprocal space (2π included, like VASP's KSPACING); MD runs at
the Gamma point with the stochastic velocity rescaling (CSVR) thermostat.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

from . import DeckRequest, environment

RY_IN_EV = 13.605693122994
AU_TIME_FS = 0.048378  # pw.x's time unit (Rydberg atomic units) in fs
DEFAULT_KSPACING = 0.3  # 1/Å, 2π included
CONV_THR_PER_ATOM = 1e-9  # Ry
KINDS = {"relax": "vc-relax", "static": "scf", "md": "md"}
INPUT_DFT = {"PBE": "PBE", "PBEsol": "PBESOL"}  # the language's functional -> pw.x input_dft
PLACEHOLDER = "{element}"
# a file name pw.x reads from the ATOMIC_SPECIES line: one whitespace-free field
_FILE_NAME = re.compile(r"[A-Za-z0-9._+-]+")


def pseudo_file_names(pattern: object, symbols) -> dict[str, str]:
    """The file per element from a `pseudo_files` pattern; ValueError for a
    pattern that names no element or would not be a single plain file name."""
    if not isinstance(pattern, str) or PLACEHOLDER not in pattern \
            or not _FILE_NAME.fullmatch(pattern.replace(PLACEHOLDER, "X")):
        raise ValueError(f"pseudo_files must be a file name containing {PLACEHOLDER}, such as "
                         f"\"{PLACEHOLDER}.pbe-tm.UPF\" (letters, digits, . _ + - only), not {pattern!r}")
    return {e: pattern.replace(PLACEHOLDER, e) for e in symbols}


@lru_cache(maxsize=None)
def family(name: str) -> dict:
    import tomllib

    files = {"SSSP-efficiency": "sssp_efficiency_1.3.0.toml"}
    if name not in files:
        raise ValueError(f"unknown pseudopotential family {name!r}; known: {', '.join(files)}")
    with open(Path(__file__).with_name("data") / files[name], "rb") as fh:
        return tomllib.load(fh)


def kpoints(structure, spacing: float) -> list[int]:
    return [max(1, math.ceil(b / spacing - 1e-9)) for b in structure.lattice.reciprocal_lattice.abc]


def render(req: DeckRequest, calc_id: str = "calculation", version: str = "") -> dict[str, str]:
    from pymatgen.core import Element

    s = req.structure
    user = req.settings
    symbols = sorted({site.specie.symbol for site in s}, key=lambda e: Element(e).Z)
    defaults = []
    if "pseudo_files" in user:  # the study's own files: no family, no recommended cutoffs
        if "pseudos" in user:
            raise ValueError("give either pseudos (a family) or pseudo_files (your own files), not both")
        if "ecutwfc" not in user:
            raise ValueError("pseudo_files needs ecutwfc: only a family's table recommends cutoffs")
        filenames = pseudo_file_names(user["pseudo_files"], symbols)
        fam_name = "pseudo_files"
    else:
        fam_name = str(user.get("pseudos", "SSSP-efficiency"))
        fam = family(fam_name)
        missing = [e for e in symbols if e not in fam["element"]]
        if missing:
            raise ValueError(f"the {fam_name} table here has no pseudopotential for {', '.join(missing)}")
        filenames = {e: fam["element"][e]["filename"] for e in symbols}
    if "ecutwfc" in user:  # engine settings are stored in eV
        ecutwfc = round(float(user["ecutwfc"]) / RY_IN_EV, 2)
    else:
        ecutwfc = max(fam["element"][e]["cutoff_wfc"] for e in symbols)
        defaults.append(("ecutwfc", f"{ecutwfc} Ry", f"largest {fam_name} {fam['version']} recommendation"))
    if "ecutrho" in user:
        ecutrho = round(float(user["ecutrho"]) / RY_IN_EV, 2)
    elif "pseudo_files" in user:
        ecutrho = round(4 * ecutwfc, 2)
        defaults.append(("ecutrho", f"{ecutrho} Ry", "4 x ecutwfc, pw.x's own default: enough for norm-conserving "
                                                     "files; ultrasoft and PAW files need 8-12 x"))
    else:
        ecutrho = max(fam["element"][e]["cutoff_rho"] for e in symbols)
        defaults.append(("ecutrho", f"{ecutrho} Ry", f"largest {fam_name} {fam['version']} recommendation"))
    spacing = float(user.get("kspacing", DEFAULT_KSPACING))
    if "kspacing" not in user and req.kind != "md":
        defaults.append(("k-points", f"spacing {spacing} 1/Å", "about the Materials Project density"))
    conv = CONV_THR_PER_ATOM * len(s)
    defaults.append(("conv_thr", f"{conv:.1e} Ry", f"{CONV_THR_PER_ATOM:g} Ry per atom"))
    pseudo_dir = str(user.get("pseudo_dir", "./pseudo"))
    if "pseudo_dir" not in user:
        defaults.append(("pseudo_dir", pseudo_dir, "link or copy the family's files there" if "pseudo_files" not in user
                         else "put the files pseudo_files names there"))
    if any(c in pseudo_dir for c in "'\n\r"):
        raise ValueError("pseudo_dir must not contain quotes or line breaks")
    functional = user.get("functional")
    if functional is not None and functional not in INPUT_DFT:
        raise ValueError(f"functional must be one of {', '.join(INPUT_DFT)}, not {functional!r}")
    if req.kind == "md":
        # random starting velocities break the crystal's symmetry: with symmetry on, pw.x
        # symmetrises them to zero (a NaN temperature under the CSVR thermostat) or stops
        # in checkallsym once the atoms have moved
        defaults.append(("nosym", ".true.", "MD starts from random velocities, which have no symmetry"))
    spin = bool(user.get("spin", any(Element(e).is_transition_metal for e in symbols)))
    species = [{"symbol": e, "mass": f"{float(Element(e).atomic_mass):.4f}", "filename": filenames[e],
                "magnetization": 0.5 if Element(e).is_transition_metal else 0.0} for e in symbols]
    ctx = dict(
        calc_id=calc_id, version=version, description=_describe(req), defaults=defaults,
        calculation=KINDS[req.kind], pseudo_dir=pseudo_dir, nat=len(s), species=species,
        ecutwfc=ecutwfc, ecutrho=ecutrho, nspin=2 if spin else 1, conv_thr=f"{conv:.1e}",
        input_dft=INPUT_DFT.get(functional, ""), nosym=req.kind == "md",
        cell=[[f"{x:.8f}" for x in row] for row in s.lattice.matrix],
        positions=[(site.specie.symbol, *(f"{x:.8f}" for x in site.frac_coords)) for site in s],
        gamma=req.kind == "md", kpts=kpoints(s, spacing),
        nstep=int(user.get("steps", 200)), dt=round(float(user.get("timestep_fs", 2.0)) / AU_TIME_FS, 3),
        temperature=float(user.get("temperature_K", 300.0)),
    )
    return {"pw.in": environment().get_template("qe/pw.in.j2").render(**ctx)}


def _describe(req: DeckRequest) -> str:
    if req.kind == "md":
        return f"NVT MD at {req.settings['temperature_K']:g} K, {req.settings['steps']} steps"
    return {"relax": "relaxation of ions and cell (vc-relax)", "static": "static total energy (scf)"}[req.kind]
