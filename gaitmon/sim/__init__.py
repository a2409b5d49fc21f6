"""Sprint-session simulator: synthetic two-shank IMU streams with exact ground truth.

:func:`simulate_session` builds a session — standing, then per rep a standing start, a
mono-exponential acceleration (Furusawa 1927; Samozino & Morin), a few top-speed steps, slowing to a
jog, walking recovery and standing — and samples the 6-axis signals of an IMU on each shank
(m/s², rad/s) from a physically grounded, piecewise model of the sagittal shank angular velocity
and the accelerometer (see :mod:`gaitmon.sim.waveforms`: the stride anatomy of real running, with
the gait events offset from the ω features by amounts drawn per simulated athlete,
:mod:`gaitmon.sim.athlete`). The ground truth (events in continuous time, per-step and per-rep
values) comes with it. Sensor imperfections are switches of :class:`SimConfig`.
:func:`write_session` writes the ``gaitmon analyze`` input (``imu.csv``) and the truth tables.

Modules: ``config`` (SimConfig), ``profile`` (speed curve, step timing and amplitudes from the
literature), ``scenarios`` (rep-to-rep trends), ``timeline`` (contacts and standing spells),
``athlete`` (per-athlete event offsets and shape), ``waveforms`` (ω and acc), ``realism`` (mounting,
bias, noise, clipping, drops), ``session`` (assembly), ``files`` (output; vectorised CSV formatting
in ``_csvfmt``).

An hour of both legs at 1 kHz (``SimConfig.for_duration(3600, 1000)``) generates in ~10 s and writes
in ~15 s on a laptop-class CPU.

Everything is synthetic; nothing here is measured data.
"""

from __future__ import annotations

from .config import SimConfig as SimConfig
from .scenarios import SCENARIOS as SCENARIOS

__all__ = ["SCENARIOS", "SimConfig", "SimulatedSession", "simulate_session", "write_session"]


def __getattr__(name: str):
    # Imported on first use, so that the command line's parser (which lists the scenarios) does not
    # load the analysis and scipy.stats.
    if name in ("SimulatedSession", "simulate_session"):
        from . import session
        return getattr(session, name)
    if name == "write_session":
        from .files import write_session
        return write_session
    raise AttributeError(f"module 'gaitmon.sim' has no attribute {name!r}")
