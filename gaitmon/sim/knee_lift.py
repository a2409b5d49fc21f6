"""A standing athlete lifts one knee: what both shank sensors measure (the session set-up's leg check).

Lifting a knee from standing flexes the knee first (the foot goes back and up: the shank rotates
backwards, ω < 0 in the swing-positive convention) and lowers it again: the shank angle follows
``θ(t) = −A sin²(π t / T)`` with ``A`` = :data:`LIFT_ANGLE_RAD` (70°) over ``T`` =
:data:`LIFT_DURATION_S`, so its sagittal ω peaks at ``±A π / T ≈ 3.5 rad/s`` (200 °/s), the
order of a brisk knee lift. The standing leg's shank stays still. Both are sampled in the canonical
shank frame of :mod:`gaitmon.sim.waveforms` (gravity along +x at rest, sagittal ω = −g_z, the same
small out-of-plane parts and the kinematics of a sensor :data:`~gaitmon.sim.waveforms.SENSOR_RADIUS_M`
below the knee), then rotated into each sensor's frame by its mounting, with the simulator's white
noise (:func:`gaitmon.sim.realism.add_noise`) when asked.
"""

from __future__ import annotations

import numpy as np

from ..consts import SIDES
from ..consts import STANDARD_GRAVITY as G
from . import realism
from .waveforms import SENSOR_RADIUS_M

#: Peak backward shank rotation of the lift, rad (70°).
LIFT_ANGLE_RAD = np.deg2rad(70.0)
#: Duration of one lift, up and down, s.
LIFT_DURATION_S = 1.1


def knee_lift(side: str, rate_hz: float, mounting: dict[str, np.ndarray] | None = None, noise_seed: int | None = 0,
              duration_s: float = LIFT_DURATION_S) -> dict[str, np.ndarray]:
    """Both legs' samples while the athlete lifts the ``side`` knee once from standing.

    Parameters
    ----------
    side : {"left", "right"}
        The leg that lifts; the other stands still.
    rate_hz : float
        Sample rate, Hz.
    mounting : dict, optional
        side → (3, 3) rotation from the canonical shank frame to the sensor frame (a simulated
        session's ``mounting``); canonical when omitted.
    noise_seed : int or None
        Seed of the sensors' white noise; None: no noise.
    duration_s : float
        Duration of the lift, s.

    Returns
    -------
    dict
        side → ``x[n, 6]`` float32 in the sensor frame (m/s², rad/s), ``n = round(duration_s × rate_hz)``.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    n = max(2, int(round(duration_s * rate_hz)))
    t = np.arange(n) / rate_hz
    phase = np.pi * t / duration_s
    theta = -LIFT_ANGLE_RAD * np.sin(phase) ** 2
    omega = -LIFT_ANGLE_RAD * np.pi / duration_s * np.sin(2 * phase)
    alpha = -2 * LIFT_ANGLE_RAD * (np.pi / duration_s) ** 2 * np.cos(2 * phase)
    rng = None if noise_seed is None else np.random.default_rng(noise_seed)
    samples = {}
    for leg in SIDES:
        lifting = leg == side
        w, a, th = (omega, alpha, theta) if lifting else (np.zeros(n), np.zeros(n), np.zeros(n))
        ch = np.empty((6, n))
        ch[0] = G * np.cos(th) + SENSOR_RADIUS_M * w**2
        ch[1] = G * np.sin(th) + SENSOR_RADIUS_M * a
        ch[2] = 0.06 * ch[1]
        ch[3] = 0.10 * w
        ch[4] = -0.06 * w
        ch[5] = -w
        if mounting is not None:
            realism.rotate(ch, mounting[leg])
        if rng is not None:
            realism.add_noise(ch, rng)
        samples[leg] = ch.T.astype(np.float32, order="C")
    return samples
