"""Transport: trajectories in, diffusivity, conductivity and barriers out.

    trajectory  the one in-memory form every reader produces
    readers     XDATCAR, vasprun.xml, CP2K xyz, QE md output, extxyz, ASE .traj,
                pymatgen DiffusionAnalyzer JSON -> Trajectory
    msd         unwrapping, drift removal, FFT mean-squared displacements
    fit         diffusive window, D with its uncertainty, Arrhenius, Nernst-Einstein
    barrier     finished NEB runs -> barrier and energy profile
"""
