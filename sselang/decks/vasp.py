"""VASP decks: INCAR, KPOINTS, POSCAR, POTCAR.spec (no POTCAR is ever needed).

The Materials Project input sets of pymatgen give the defaults (GGA/GGA+U
with the MP U values, MAGMOM for magnetic ions, PAW choices, k-point
density).  Deliberate difference: pymatgen's MPMDSet leaves EDIFF at the
relaxation set's value scaled by the atom count of the wrong setting and writes
a bogus EDIFF_PER_ATOM tag; here EDIFF = 1e-5 eV x atoms for MD (the per-atom
criterion MPMDSet intends) and EDIFF_PER_ATOM never reaches the INCAR.

NpT MD (settings ensemble = "npt"): pymatgen's NpT sets cannot be written
without POTCAR files (their ENCUT is read from the POTCARs), so the NpT tags
are set here on top of MPMDSet: the Langevin thermostat with Parrinello-Rahman
lattice dynamics (MDALGO 3, ISIF 3: the VASP wiki's NpT recipe), PSTRESS from
the study's pressure, and MPRelaxSet's cutoff instead of MPMDSet's ENMAX
default, because the cell now moves under the stress tensor and Pulay stress
would shrink it.
"""

from __future__ import annotations

from . import DeckRequest, environment

MD_EDIFF_PER_ATOM = 1e-5
# In-plane k-spacing (1/Å, with the 2 pi) of interface slabs: the Materials
# Project relaxation density of 64 k-points per 1/Å^3 is a spacing of 64^(-1/3).
MP_KSPACING = 0.25
# NpT (Langevin) defaults.  Friction 10 ps^-1 on atoms and lattice: the values of
# the VASP wiki's NpT example INCAR.  PMASS: VASP's default of 1000 amu makes the
# lattice follow the stress slowly (the wiki: too large a mass samples the volume
# inefficiently); 10 amu is pymatgen's MVLNPTMDSet value.
NPT_LANGEVIN_GAMMA = 10.0  # ps^-1, one value per species
NPT_LANGEVIN_GAMMA_L = 10.0  # ps^-1
NPT_PMASS = 10.0  # amu
MPA_PER_KBAR = 100.0  # 1 kBar = 1000 bar = 100 MPa

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
    if req.kind in ("relax", "neb", "interface"):
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


def incar(req: DeckRequest, vis=None) -> tuple[dict, dict[str, str]]:
    """The INCAR tags and where each came from (default reason or 'study').
    `vis`: the request's pymatgen input set, when already made."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tags = dict((vis if vis is not None else _set_for(req)).incar)
    why = {k: REASONS.get(k, "Materials Project input set (pymatgen)") for k in tags}
    n = len(req.structure)
    if req.kind == "md":
        tags.pop("EDIFF_PER_ATOM", None)  # pymatgen's MPMDSet writes it; VASP has no such tag
        tags["EDIFF"] = MD_EDIFF_PER_ATOM * n
        why["EDIFF"] = f"{MD_EDIFF_PER_ATOM:g} eV per atom x {n} atoms (not MPMDSet's relaxation value)"
        tags["POTIM"] = float(req.settings.get("timestep_fs", 2.0))
        why["POTIM"] = REASONS["POTIM"]
        if ensemble(req) == "npt":
            _npt(req, tags, why)  # before the study's values below, so those still win
    if req.kind == "interface":
        _interface(req, tags, why)  # before the study's values below, so those still win
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


def ensemble(req: DeckRequest) -> str:
    return str(req.settings.get("ensemble", "nvt")).lower() if req.kind == "md" else ""


def _npt(req: DeckRequest, tags: dict, why: dict) -> None:
    """NpT tags over the MPMDSet ones (VASP wiki, "NpT ensemble")."""
    from pymatgen.io.vasp import Poscar
    from pymatgen.io.vasp.sets import MPRelaxSet

    # LANGEVIN_GAMMA takes one value per species, in POSCAR (= POTCAR) order
    species = Poscar(req.structure).site_symbols
    tags["LANGEVIN_GAMMA"] = [NPT_LANGEVIN_GAMMA] * len(species)
    why["LANGEVIN_GAMMA"] = (f"atom friction, {NPT_LANGEVIN_GAMMA:g} ps^-1 for each species in POSCAR order "
                             f"({' '.join(species)}): the VASP wiki NpT example")
    tags["LANGEVIN_GAMMA_L"] = NPT_LANGEVIN_GAMMA_L
    why["LANGEVIN_GAMMA_L"] = (f"lattice friction, {NPT_LANGEVIN_GAMMA_L:g} ps^-1: the VASP wiki NpT example "
                               "(VASP's default 0 samples another ensemble)")
    tags["PMASS"] = NPT_PMASS
    why["PMASS"] = (f"fictitious lattice mass, {NPT_PMASS:g} amu (pymatgen MVLNPTMDSet): with VASP's default "
                    "1000 amu the lattice responds slowly and samples volumes inefficiently")
    tags["MDALGO"] = 3
    why["MDALGO"] = "3: Langevin thermostat with Parrinello-Rahman lattice dynamics (the VASP wiki's NpT recipe)"
    tags["ISIF"] = 3
    why["ISIF"] = "3: cell shape and volume move with the stress (Parrinello-Rahman NpT)"
    p_mpa = float(req.settings.get("pressure_MPa") or 0.0)
    tags["PSTRESS"] = p_mpa / MPA_PER_KBAR
    why["PSTRESS"] = (f"target pressure in kBar: the cell's {p_mpa:g} MPa (1 kBar = 100 MPa)" if p_mpa
                      else "target pressure in kBar: 0, no cell pressure in the study")
    # MPMDSet leaves ENCUT to VASP (ENMAX of the POTCARs): fine at fixed cell, but
    # the NpT cell moves under the stress tensor, which needs Pulay stress small
    # (the VASP wiki asks for a large ENCUT in NpT; the usual rule is 1.3 x ENMAX)
    encut = float(MPRelaxSet.CONFIG["INCAR"]["ENCUT"])
    tags["ENCUT"] = encut
    why["ENCUT"] = (f"{encut:g} eV, MPRelaxSet's cutoff for cell relaxations (1.3 x ENMAX of O/F/N): Pulay stress "
                    "moves an NpT cell; Li_sv's ENMAX x 1.3 is higher (~650 eV): set encut to converge volumes")
    why["PREC"] = "Normal: the VASP wiki advises against PREC = Low for NpT (stresses)"
    why["IBRION"] = "0: molecular dynamics"
    # SMASS selects the Nose-Hoover thermostat of MDALGO 0/2; Langevin has no use for it
    tags.pop("SMASS", None)
    why.pop("SMASS", None)


def _interface(req: DeckRequest, tags: dict, why: dict) -> None:
    """Interface relax tags over MPRelaxSet's (as pymatgen's MVLSlabSet does
    for slabs, but keeping MP's cutoff, smearing and mixing so that energies
    compare with the bulk relaxations of the same study)."""
    info = req.settings["interface"]
    vacuum = float(info["vacuum_A"]) > 0
    tags["ISIF"] = 2
    why["ISIF"] = ("2: ions relax in a fixed cell: the in-plane lattice is the substrate's (the lattice match)"
                   + (", and a cell relax would close the vacuum" if vacuum else ""))
    tags["IBRION"] = 2
    why["IBRION"] = "2: conjugate-gradient ionic relaxation"
    tags["EDIFFG"] = -0.05
    why["EDIFFG"] = "relax until forces are below 0.05 eV/Å"
    tags["ISYM"] = 0
    why["ISYM"] = "symmetry off: the relaxation may break the symmetry of the starting model (as MVLSlabSet)"
    if vacuum:
        import numpy as np

        weights = [float(site.specie.atomic_mass) for site in req.structure]
        com = [round(float(x), 4) for x in np.average(req.structure.frac_coords, axis=0, weights=weights)]
        tags["LDIPOL"] = True
        why["LDIPOL"] = "dipole correction: the two surfaces of the slab differ, so it carries a dipole"
        tags["IDIPOL"] = 3
        why["IDIPOL"] = "3: correct the dipole along c, the interface normal"
        tags["DIPOL"] = com
        why["DIPOL"] = "centre of mass of the model (fractional), so the correction sits in the vacuum (as MVLSlabSet)"
        # VASP reads KSPACING only without a KPOINTS file; a slab always has one (kz = 1)
        tags.pop("KSPACING", None)


def _slab_kpoints(req: DeckRequest) -> str:
    """Gamma-centred mesh of an interface with vacuum: one k-point along the
    normal, the in-plane divisions from a k-spacing (the study's kspacing, else
    MP_KSPACING, the spacing of the Materials Project relaxation density).
    Deliberately not MVLSlabSet's 50 / length rule: the same density as the
    bulk relaxations of the study, so slab and bulk energies compare."""
    import math

    spacing = float(req.settings.get("kspacing", MP_KSPACING))
    rec = req.structure.lattice.reciprocal_lattice.abc  # with the 2 pi, as VASP's KSPACING
    mesh = [max(1, math.ceil(rec[0] / spacing - 1e-9)), max(1, math.ceil(rec[1] / spacing - 1e-9)), 1]
    source = "the study's kspacing" if "kspacing" in req.settings else "the Materials Project relaxation density"
    return environment().get_template("vasp/slab.KPOINTS.j2").render(spacing=f"{spacing:g}", source=source, mesh=mesh)


def render(req: DeckRequest, calc_id: str = "calculation", version: str = "") -> dict[str, str]:
    import warnings

    from pymatgen.io.vasp import Poscar

    req = _sorted(req)
    # one input set for the INCAR, KPOINTS and POTCAR.spec: making it is most of a deck's time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vis = _set_for(req)
    tags, why = incar(req, vis)
    rows = [(k, _fmt(tags[k]), why[k]) for k in sorted(tags)]
    env = environment()
    ctx = {"tags": rows, "calc_id": calc_id, "version": version,
           "temperature": req.settings.get("temperature_K", ""), "images": req.settings.get("images", ""),
           "pressure": _fmt(tags.get("PSTRESS", ""))}
    template = "npt" if ensemble(req) == "npt" else req.kind
    files = {"INCAR": env.get_template(f"vasp/{template}.INCAR.j2").render(**ctx)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kp = vis.kpoints
    if req.kind == "md" or "KSPACING" in tags:
        if "KSPACING" not in tags:
            files["KPOINTS"] = env.get_template("vasp/KPOINTS.j2").render(gamma_only=True)
    else:
        files["KPOINTS"] = env.get_template("vasp/KPOINTS.j2").render(
            gamma_only=False, density=vis.user_kpoints_settings.get("reciprocal_density", 64)
            if isinstance(vis.user_kpoints_settings, dict) else 64,
            style=kp.style.name, mesh=list(kp.kpts[0]))
    if req.kind == "interface" and float(req.settings["interface"]["vacuum_A"]) > 0:
        files["KPOINTS"] = _slab_kpoints(req)
    if req.kind == "neb":
        # 00 and NN are the endpoints, 01..N the images (VASP's NEB layout)
        path = [req.structure, *req.settings["image_structures"], req.settings["final_structure"]]
        for k, st in enumerate(path):
            files[f"{k:02d}/POSCAR"] = Poscar(st, comment=_safe_comment(f"{req.title} image {k}")).get_str(
                significant_figures=8)
    else:
        files["POSCAR"] = _poscar(req.structure, _safe_comment(req.title))
    files["POTCAR.spec"] = "\n".join(vis.potcar_symbols) + "\n"
    files["README.md"] = env.get_template("vasp/README.md.j2").render(
        calc_id=calc_id, description=_describe(req), material=req.title, natoms=len(req.structure),
        formula=req.structure.composition.reduced_formula, version=version, tags=rows, details=_details(req))
    return files


_POSCARS: dict[tuple, str] = {}


def _poscar(structure, comment: str) -> str:
    """POSCAR text, made once per structure: the AIMD runs of a series (one per temperature
    and engine) share their supercell, and pymatgen takes 30 ms per POSCAR of 200 atoms."""
    from pymatgen.io.vasp import Poscar

    key = (comment, tuple(structure.lattice.matrix.flat), tuple(site.species_string for site in structure),
           structure.frac_coords.tobytes())
    text = _POSCARS.get(key)
    if text is None:
        if len(_POSCARS) > 256:
            _POSCARS.clear()
        text = _POSCARS[key] = Poscar(structure, comment=comment).get_str(significant_figures=8)
    return text


def _sorted(req: DeckRequest) -> DeckRequest:
    """The request with its atoms in the order pymatgen's input sets write POTCAR.spec
    and MAGMOM (by electronegativity, stable), so POSCAR, POTCAR.spec, MAGMOM and the
    per-species LANGEVIN_GAMMA always agree; NEB images get the same permutation."""
    from dataclasses import replace

    from pymatgen.core import Structure

    s = req.structure
    perm = sorted(range(len(s)), key=lambda i: s[i].specie.X)
    if perm == list(range(len(s))):
        return req

    def apply(st):
        return Structure.from_sites([st[i] for i in perm])

    settings = dict(req.settings)
    if "image_structures" in settings:
        settings["image_structures"] = [apply(x) for x in settings["image_structures"]]
        settings["final_structure"] = apply(settings["final_structure"])
    return replace(req, structure=apply(s), settings=settings)


def _safe_comment(title: str) -> str:
    # the POSCAR comment line must stay one line whatever a name holds
    return "".join(c if c.isprintable() and c not in "\n\r" else "_" for c in title)[:60] or "sselang"


def _describe(req: DeckRequest) -> str:
    if ensemble(req) == "npt":
        p = float(req.settings.get("pressure_MPa") or 0.0) / MPA_PER_KBAR
        return (f"NpT molecular dynamics (Langevin thermostat, Parrinello-Rahman cell) at "
                f"{req.settings['temperature_K']:g} K and {p:g} kBar, {req.settings['steps']} steps of "
                f"{req.settings.get('timestep_fs', 2.0):g} fs.")
    if req.kind == "md":
        return (f"NVT molecular dynamics at {req.settings['temperature_K']:g} K, {req.settings['steps']} steps of "
                f"{req.settings.get('timestep_fs', 2.0):g} fs.")
    if req.kind == "neb":
        return (f"Climbing-image NEB of a {req.settings['species']} hop ({req.settings['hop_distance']:.2f} Å) "
                f"along {req.settings.get('direction') or 'the shortest path'}, {req.settings['images']} images.")
    if req.kind == "interface":
        i = req.settings["interface"]
        where = (f"{i['vacuum_A']:g} Å of vacuum above the film (dipole-corrected)" if i["vacuum_A"] > 0
                 else "periodic along the normal: the cell holds two film/substrate interfaces")
        return (f"Relaxation of the ions of a lattice-matched interface model, cell fixed; {where}. "
                "The first phase of the request is the substrate, the second the film strained onto it.")
    return {"relax": "Relaxation of ions and cell.", "static": "Static total-energy run."}[req.kind]


def _details(req: DeckRequest) -> list[tuple[str, str]]:
    """The interface match data for the README (empty for other kinds)."""
    if req.kind != "interface":
        return []
    i = req.settings["interface"]

    def hkl(v):
        return "(" + "".join(str(x) for x in v) + ")"

    def vecs(vs):
        return ", ".join("[" + " ".join(f"{x:g}" for x in v) + "]" for v in vs)

    e1, e2 = i["strain_principal"]
    return [
        ("planes", f"film {hkl(i['film_miller'])} on substrate {hkl(i['substrate_miller'])} "
                   "(conventional standard cells)"),
        ("terminations", f"film {i['film_termination']}, substrate {i['substrate_termination']} "
                         f"(the first of {i['terminations_found']} pairs pymatgen finds)"),
        ("area", f"{i['area_A2']:.2f} Å^2"),
        ("strain", f"the film is strained onto the substrate: principal strains {e1 * 100:+.2f} % and "
                   f"{e2 * 100:+.2f} %, von Mises {i['von_mises_strain'] * 100:.2f} %"),
        ("substrate supercell", f"{vecs(i['substrate_vectors'])} (fractions of its conventional cell)"),
        ("film supercell", f"{vecs(i['film_vectors'])} (fractions of its conventional cell)"),
        ("atoms", f"{i['natoms']}: substrate {i['substrate_atoms']} ({i['substrate_units']} formula units), "
                  f"film {i['film_atoms']} ({i['film_units']} formula units)"),
        ("thickness", f"substrate {i['substrate_thickness_A']:.2f} Å, film {i['film_thickness_A']:.2f} Å "
                      "(outermost atomic planes)"),
        ("gap", f"{i['gap_A']:g} Å between film and substrate before relaxation"),
        ("vacuum", f"{i['vacuum_A']:g} Å" if i["vacuum_A"] > 0 else "none (periodic interface)"),
    ]
