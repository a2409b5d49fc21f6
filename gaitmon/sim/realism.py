"""Sensor imperfections: mounting rotation, gyro bias, white noise, clipping, dropped samples.

Applied in this order to the canonical, noise-free signals of :mod:`gaitmon.sim.waveforms`
(rotate → bias → noise → clip → float32 → drop), each from its own generator so that switching one
imperfection on or off leaves the others unchanged. Signals are channel-major here, ``ch[6, n]``
(rows ax, ay, az, gx, gy, gz), which keeps every operation on contiguous memory.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..consts import ACC_COLUMNS, ACC_FULL_SCALE_M_S2, GYRO_COLUMNS, GYRO_FULL_SCALE_RAD_S

#: White-noise levels (rms per axis).
GYRO_NOISE_RAD_S = 0.03
ACC_NOISE_M_S2 = 0.15
#: Gyro bias: constant part uniform in ±GYRO_BIAS_RAD_S, plus a sinusoidal drift of amplitude up to
#: GYRO_DRIFT_RAD_S and period 10–30 min.
GYRO_BIAS_RAD_S = 0.05
GYRO_DRIFT_RAD_S = 0.01
#: Largest tilt of a random mounting away from a signed axis permutation.
MAX_TILT_DEG = 20.0


def proper_signed_permutations() -> list[np.ndarray]:
    """The 24 signed permutation matrices with determinant +1 (rotations of the axis frame)."""
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[range(3), perm] = signs
            if np.linalg.det(m) > 0:
                mats.append(m)
    return mats


def axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix for *angle* (rad) about the unit vector *axis* (Rodrigues)."""
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def random_mounting(rng: np.random.Generator, max_tilt_deg: float = MAX_TILT_DEG) -> np.ndarray:
    """A random sensor mounting: rotation *from* the canonical shank frame *to* the sensor frame.

    ``M = T P`` with ``P`` one of the 24 proper signed axis permutations (strapped on rotated by
    multiples of 90°) and ``T`` a tilt by a uniform angle in [0, max_tilt_deg] about a uniformly
    random axis. A canonical vector ``v`` reads ``M @ v`` in the sensor.
    """
    perms = proper_signed_permutations()
    p = perms[int(rng.integers(len(perms)))]
    axis = rng.standard_normal(3)
    tilt = axis_angle(axis, np.deg2rad(rng.uniform(0.0, max_tilt_deg)))
    return tilt @ p


def rotate(ch: np.ndarray, mounting: np.ndarray) -> np.ndarray:
    """Express canonical channels ``ch[6, n]`` in the sensor frame (in place, returns *ch*)."""
    if np.array_equal(mounting, np.eye(3)):
        return ch
    ch[ACC_COLUMNS] = mounting @ ch[ACC_COLUMNS]
    ch[GYRO_COLUMNS] = mounting @ ch[GYRO_COLUMNS]
    return ch


def add_gyro_bias(t: np.ndarray, ch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add a constant per-axis bias (±0.05 rad/s) and a slow drift (≤ 0.01 rad/s) to the gyro."""
    const = rng.uniform(-GYRO_BIAS_RAD_S, GYRO_BIAS_RAD_S, 3)
    drift = rng.uniform(0.0, GYRO_DRIFT_RAD_S, 3)
    period = rng.uniform(600.0, 1800.0, 3)
    phase = rng.uniform(0.0, 2 * np.pi, 3)
    for k in range(3):
        ch[3 + k] += const[k] + drift[k] * np.sin(2 * np.pi * t / period[k] + phase[k])
    return ch


def add_noise(ch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise: 0.15 m/s² rms on each acc axis, 0.03 rad/s rms on each gyro axis."""
    for k, sd in enumerate([ACC_NOISE_M_S2] * 3 + [GYRO_NOISE_RAD_S] * 3):
        noise = rng.standard_normal(ch.shape[1], dtype=np.float32)
        noise *= np.float32(sd)
        ch[k] += noise
    return ch


def clip(ch: np.ndarray) -> np.ndarray:
    """Saturate at the full-scale ranges of :mod:`gaitmon.consts` (±16 g, ±2000 °/s) per axis."""
    np.clip(ch[ACC_COLUMNS], -ACC_FULL_SCALE_M_S2, ACC_FULL_SCALE_M_S2, out=ch[ACC_COLUMNS])
    np.clip(ch[GYRO_COLUMNS], -GYRO_FULL_SCALE_RAD_S, GYRO_FULL_SCALE_RAD_S, out=ch[GYRO_COLUMNS])
    return ch


def drop_mask(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean *keep* mask with ≈ ``rate`` of the samples removed in runs of 1–5.

    Runs start at uniform positions (they may touch or overlap); batches are added until the dropped
    fraction reaches *rate* (within one run).
    """
    keep = np.ones(n, dtype=bool)
    if rate <= 0 or n == 0:
        return keep
    target = int(round(rate * n))
    dropped = 0
    while dropped < target:
        n_runs = max(1, int((target - dropped) / 3.0))
        starts = rng.integers(0, n, n_runs)
        lengths = rng.integers(1, 6, n_runs)
        delta = np.zeros(n + 6, dtype=np.int32)
        np.add.at(delta, starts, 1)
        np.add.at(delta, starts + lengths, -1)
        keep &= np.cumsum(delta[:n]) == 0
        dropped = n - int(np.count_nonzero(keep))
    return keep
