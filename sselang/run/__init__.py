"""`sselang run`: the plan's calculations carried out, at preview (ML potential) or
DFT fidelity, with a state file per calculation so an interrupted run resumes.

    state.py     <calc_dir>/.sselang-run.json: pending, running, done or failed
    tasks.py     RunOptions and the run_calculation interface of both fidelities
    dft.py       the engine binary (cp2k.psmp, pw.x, vasp_std) in the calculation folder
    executor.py  Parsl (local threads; a SLURM config that is built, never submitted)
"""
