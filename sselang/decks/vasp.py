"""VASP decks: INCAR, KPOINTS, POSCAR, POTCAR.spec (no POTCAR is ever needed).

The Materials Project input sets of pymatgen give the defaults (GGA/GGA+U
with the MP U values, MAGMOM for magnetic ions, PAW choices, k-point
density).  Deliberate difference: pymatgen's MPMDSet leaves EDIFF at the
relaxation set's value scaled by the atom count of the wrong setting and writes
a bogus EDIFF_PER_ATOM tag; here EDIFF = 1e-5 eV x atoms for MD (the per-atom
criterion MPMDSet intends) and EDIFF_PER_ATOM never reaches the INCAR.
"""

from __future__ import annotations

from . import DeckRequest, environment

MD_EDIFF_PER_ATOM = 1e-5

# Reasons for the defaults a reader most often asks about; other tags are
# marked as the Materials Project set's.
REASONS = {
    "ENCUT": "1.3 x the largest ENMAX of the MP PAW set: converged stresses",
    "EDIFF": "electronic convergence (per-atom criterion x number of atoms)",
    "ISMEAR": "smearing suited to the calculation",
    "LDAU": "GGA+U for transition-metal oxides/fluorides (MP2020-compatible)",
    "LDAUU": "Materials Project U values (eV)",
    "MAGMOM": "initial moments for magnetic ions (ferromagnetic start)",
    "ISPIN": "spin polarised where the set expects magnetism",
    "IBRION": "ionic update: 2 = conjugate gradient, 0 = molecular dynamics",
    "ISIF": "3 relaxes ions and cell; 0 for NVT MD",
    "ISYM": "symmetry off in MD: atoms leave their sites",
    "POTIM": "MD timestep in fs",
    "SMASS": "Nose-Hoover thermostat (SMASS 0: period from the temperature)",
    "TEBEG": "MD temperature (K)",
    "TEEND": "MD temperature (K)",
    "NSW": "number of ionic steps",
    "PREC": "Normal in MD (speed), Accurate for energies",
    "LREAL": "real-space projection (large cells)",
    "KSPACING": "k-point spacing (1/Å) set in the study",
}


def _set_for(req: DeckRequest):
    from pymatgen.io.vasp.sets import MPMDSet, MPRelaxSet, MPStaticSet

    s = req.structure
    if req.kind in ("relax", "neb"):
        return MPRelaxSet(s)
    if req.kind == "static":
        return MPStaticSet(s)
    if req.kind == "md":
        t = float(req.settings["temperature_K"])
        return MPMDSet(s, start_temp=t, end_temp=t, nsteps=int(req.settings["steps"]))
    raise ValueError(f"no VASP deck for a {req.kind!r} calculation")


def _fmt(v) -> str:
    if isinstance(v, bool):
        return ".TRUE." if v else ".FALSE."
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return " ".join(_fmt(x) for x in v)
    return str(v)


def incar(req: DeckRequest) -> tuple[dict, dict[str, str]]:
    """The INCAR tags and where each came from (default reason or 'study')."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tags = dict(_set_for(req).incar)
    why = {k: REASONS.get(k, "Materials Project input set (pymatgen)") for k in tags}
    n = len(req.structure)
    if req.kind == "md":
        tags.pop("EDIFF_PER_ATOM", None)  # pymatgen's MPMDSet writes it; VASP has no such tag
        tags["EDIFF"] = MD_EDIFF_PER_ATOM * n
        why["EDIFF"] = f"{MD_EDIFF_PER_ATOM:g} eV per atom x {n} atoms (not MPMDSet's relaxation value)"
        tags["POTIM"] = float(req.settings.get("timestep_fs", 2.0))
        why["POTIM"] = REASONS["POTIM"]
    if not tags.get("LDAU", False) and "LDAU" in tags:
        why["LDAU"] = "no +U" + (" in MD (MPMDSet's choice)" if req.kind == "md" else ": no transition-metal oxide")
    user = req.settings
    overrides = {"encut": "ENCUT", "ediff": "EDIFF", "kspacing": "KSPACING", "ediffg": "EDIFFG"}
    for key, tag in overrides.items():
        if key in user:
            tags[tag] = float(user[key])
            why[tag] = "study"
    if req.kind == "neb":
        neb = {"IMAGES": int(user["images"]), "IBRION": 3, "POTIM": 0.0, "IOPT": 3, "SPRING": -5.0, "ISIF": 2,
               "EDIFFG": -0.05, "ISYM": 0, "NSW": 300}
        reasons = {"IMAGES": "images between the endpoints", "IBRION": "3 + POTIM 0: the VTST optimiser drives the ions",
                   "POTIM": "0: ionic steps by the VTST optimiser", "IOPT": "3: the VTST quick-min optimiser, robust far from the path",
                   "SPRING": "-5: nudged elastic band (VASP's recommendation)", "ISIF": "2: fixed cell, ions move",
                   "EDIFFG": "forces below 0.05 eV/Å on every image", "ISYM": "symmetry off along the path",
                   "NSW": "ionic step limit"}
        tags.update(neb)
        why.update(reasons)
        if user.get("climb", True):
            tags["LCLIMB"] = True
            why["LCLIMB"] = "climbing image: the saddle point itself (VTST tag)"
        tags.pop("LREAL", None)
    if req.kind == "md" and "timestep_fs" in user:
        why["POTIM"] = "study"
    if user.get("functional") == "PBEsol":
        tags["GGA"] = "PS"
        why["GGA"] = "study (functional = PBEsol)"
    if "spin" in user:
        tags["ISPIN"] = 2 if user["spin"] else 1
        why["ISPIN"] = "study"
        if not user["spin"]:
            tags.pop("MAGMOM", None)
    return tags, why


def render(req: DeckRequest, calc_id: str = "calculation", version: str = "") -> dict[str, str]:
    import warnings

    from pymatgen.io.vasp import Poscar

    tags, why = incar(req)
    rows = [(k, _fmt(tags[k]), why[k]) for k in sorted(tags)]
    env = environment()
    ctx = {"tags": rows, "calc_id": calc_id, "version": version,
           "temperature": req.settings.get("temperature_K", ""), "images": req.settings.get("images", "")}
    files = {"INCAR": env.get_template(f"vasp/{req.kind}.INCAR.j2").render(**ctx)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vis = _set_for(req)
        kp = vis.kpoints
    if req.kind == "md" or "KSPACING" in tags:
        if "KSPACING" not in tags:
            files["KPOINTS"] = env.get_template("vasp/KPOINTS.j2").render(gamma_only=True)
    else:
        files["KPOINTS"] = env.get_template("vasp/KPOINTS.j2").render(
            gamma_only=False, density=vis.user_kpoints_settings.get("reciprocal_density", 64)
            if isinstance(vis.user_kpoints_settings, dict) else 64,
            style=kp.style.name, mesh=list(kp.kpts[0]))
    if req.kind == "neb":
        # 00 and NN are the endpoints, 01..N the images (VASP's NEB layout)
        path = [req.structure, *req.settings["image_structures"], req.settings["final_structure"]]
        for k, st in enumerate(path):
            files[f"{k:02d}/POSCAR"] = Poscar(st, comment=_safe_comment(f"{req.title} image {k}")).get_str(
                significant_figures=8)
    else:
        files["POSCAR"] = Poscar(req.structure, comment=_safe_comment(req.title)).get_str(significant_figures=8)
    files["POTCAR.spec"] = "\n".join(vis.potcar_symbols) + "\n"
    files["README.md"] = env.get_template("vasp/README.md.j2").render(
        calc_id=calc_id, description=_describe(req), material=req.title, natoms=len(req.structure),
        formula=req.structure.composition.reduced_formula, version=version, tags=rows)
    return files


def _safe_comment(title: str) -> str:
    # the POSCAR comment line must stay one line whatever a name holds
    return "".join(c if c.isprintable() and c not in "\n\r" else "_" for c in title)[:60] or "sselang"


def _describe(req: DeckRequest) -> str:
    if req.kind == "md":
        return (f"NVT molecular dynamics at {req.settings['temperature_K']:g} K, {req.settings['steps']} steps of "
                f"{req.settings.get('timestep_fs', 2.0):g} fs.")
    if req.kind == "neb":
        return (f"Climbing-image NEB of a {req.settings['species']} hop ({req.settings['hop_distance']:.2f} Å) "
                f"along {req.settings.get('direction') or 'the shortest path'}, {req.settings['images']} images.")
    return {"relax": "Relaxation of ions and cell.", "static": "Static total-energy run."}[req.kind]
