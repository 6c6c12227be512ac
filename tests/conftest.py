import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.cell"))
SHARED = ROOT.parent / "shared"

# a real 500 K Li6PS5Cl AIMD run (2 fs steps, every 50th written) and a study whose planned
# runs it can stand in for: the diffusion and report tests place it in the build folder
LPSCL_500K_XDATCAR = SHARED / "data" / "trajectories" / "Li6PS5Cl_500K_XDATCAR.gz"
LPSCL_MD_STUDY = '''study "lpscl-md" { title = "argyrodite AIMD" }

material LPSCl {
  formula   = Li6PS5Cl
  structure = library("Li6PS5Cl")
}

analyze LPSCl {
  diffusion {
    temperatures = [500, 600] K
    duration     = 10 ps
    timestep     = 2 fs
    equilibrate  = 1 ps
  }
}

engine vasp { preset = mp }
data { thermo = bundled }
'''

settings.register_profile("ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def examples():
    assert EXAMPLES, "examples/ is empty"
    return EXAMPLES
