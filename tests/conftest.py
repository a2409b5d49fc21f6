"""Shared fixtures: simulated sessions (cached), the real third-party dataset, pylsl on a loopback."""

from __future__ import annotations

import functools
import os
import json
from pathlib import Path

import pytest
from hypothesis import settings

from gaitmon.sim import SimConfig, simulate_session

# Deterministic property tests: the same examples on every run, no example database on disk, and no
# per-example deadline (a busy machine must not fail a test that does real work).
settings.register_profile("gaitmon", derandomize=True, database=None, deadline=None)
settings.load_profile("gaitmon")

REPO = Path(__file__).resolve().parents[1]
#: Real foot-IMU walking data with annotated events (AGPL-3.0): read in place, never copied here.
FOOT_DATASET = REPO.parent / "shared" / "datasets" / "ipol_foot_walk"
#: Treadmill running, virtual shank IMU from motion capture, force-plate events (CC BY 4.0 / MIT).
RUNNING_DATASET = REPO.parent / "shared" / "datasets" / "running_mocap"
#: Packet bytes from vendor SDK tests and docs with their decoded values (one JSON file per family),
#: copied into the repository; sources and licences in tests/data/vectors/README.md.
VECTORS = REPO / "tests" / "data" / "vectors"
#: The workplace's shared folder, for the vector files whose source licence does not allow copying them here.
SHARED_VECTORS = REPO.parent / "shared" / "vectors"
#: Read in place from SHARED_VECTORS (and skipped without it): Polar SDK licence, Movesense SDK licence, no licence.
SHARED_ONLY_VECTORS = frozenset({"polar_pmd", "movesense", "witmotion"})


def load_vectors(name: str) -> dict:
    """``tests/data/vectors/<name>.json``; a file kept out of the repository (:data:`SHARED_ONLY_VECTORS`)
    comes from ``../shared/vectors/`` instead and skips the calling test when that folder is absent."""
    if name in SHARED_ONLY_VECTORS:
        path = SHARED_VECTORS / f"{name}.json"
        if not path.exists():
            pytest.skip(f"vectors not present at {path} (not redistributable: see tests/data/vectors/README.md)")
    else:
        path = VECTORS / f"{name}.json"  # in the repository: a missing file is an error, not a skip
    return json.loads(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def simulated(scenario: str = "balanced", seed: int = 0, rate: float = 500.0, realistic: bool = True,
              n_reps: int = 3, recovery_s: float = 8.0, athlete_seed: int | None = None):
    """A simulated session, cached across tests (treat it as read-only)."""
    make = SimConfig.realistic if realistic else SimConfig
    config = make(sample_rate_hz=rate, n_reps=n_reps, recovery_s=recovery_s)
    return simulate_session(scenario, seed=seed, config=config, athlete_seed=athlete_seed)


@pytest.fixture(autouse=True, scope="session")
def _private_data_dir(tmp_path_factory):
    """Recordings and the athlete history go to a temporary data directory, never ~/: set for the
    whole session, so module- and session-scoped fixtures (an engine run once per file) are
    covered too, not only the tests themselves."""
    before = os.environ.get("GAITMON_HOME")
    os.environ["GAITMON_HOME"] = str(tmp_path_factory.getbasetemp() / "gaitmon-home")
    yield
    if before is None:
        os.environ.pop("GAITMON_HOME", None)
    else:
        os.environ["GAITMON_HOME"] = before


@pytest.fixture
def foot_dataset() -> Path:
    if not FOOT_DATASET.is_dir():
        pytest.skip(f"real dataset not present at {FOOT_DATASET} (it lives in the workplace's shared/ folder)")
    return FOOT_DATASET



@pytest.fixture
def running_dataset() -> Path:
    if not RUNNING_DATASET.is_dir():
        pytest.skip(f"real dataset not present at {RUNNING_DATASET} (it lives in the workplace's shared/ folder)")
    return RUNNING_DATASET


@pytest.fixture(scope="session")
def pylsl(tmp_path_factory):
    """pylsl confined to a loopback on this machine (skips without the extra ``gaitmon[lsl]``).

    Writes the tests' own ``lsl_api.cfg`` (no IPv6, discovery on this machine only, 127.0.0.1 the one
    known peer, a session id of their own so no other LSL stream on the machine is seen) and points
    ``LSLAPICFG`` at it before liblsl reads its configuration (once per process: hence the session scope).
    """
    config = tmp_path_factory.mktemp("lsl") / "lsl_api.cfg"
    config.write_text("[ports]\nIPv6 = disable\n\n"
                      "[multicast]\nResolveScope = machine\n\n"
                      f"[lab]\nKnownPeers = {{127.0.0.1}}\nSessionID = gaitmon-test-{os.getpid()}\n",
                      encoding="utf-8")
    previous = os.environ.get("LSLAPICFG")
    os.environ["LSLAPICFG"] = str(config)
    module = pytest.importorskip("pylsl", reason="the LSL extra is not installed (python -m pip install 'gaitmon[lsl]')")
    yield module
    if previous is None:
        os.environ.pop("LSLAPICFG", None)
    else:
        os.environ["LSLAPICFG"] = previous
