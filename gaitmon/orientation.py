"""Which gyro axis is sagittal, and which sign makes the swing positive — found from the data.

A shank (or foot) sensor may be strapped on with its axes permuted, flipped, or tilted by a few
tens of degrees. During gait the leg rotates mostly about the medio-lateral axis, so the dominant
direction of the angular-velocity vector (the principal eigenvector of ``Σ g gᵀ`` over moving
samples) *is* the sagittal axis in the sensor frame, whatever the mounting. Projecting onto it
(rather than picking the nearest sensor axis) also undoes a tilt.

The sign is chosen so that the swing phase is positive: the forward swing is the longest phase
in which the leg rotates fast in one direction (shank swing ≈ 60 % of a sprint stride; the foot's
swing lobe outlasts its brief push-off peak), so the sign whose side of the projection spends
more samples beyond 30 % of the 99th-percentile magnitude is the swing side.

The estimate is streaming and deterministic per sample: samples are held until enough motion has
been seen (``lock_energy`` of ``∫|g|² dt`` over samples faster than ``motion_threshold``, so
standing and fidgeting never lock it), then the axis is fixed and the held samples (at most
``history_s`` seconds of them) are released, projected, followed by every later sample.
"""

from __future__ import annotations

import numpy as np

from gaitmon.consts import ACC_COLUMNS, GYRO_COLUMNS


def sagittal_axis(gyro: np.ndarray) -> np.ndarray:
    """Unit sagittal axis (sensor frame) from gyro samples ``gyro[n, 3]`` (rad/s), swing positive.

    Raises
    ------
    ValueError
        If there is no rotation to learn from.
    """
    gyro = np.asarray(gyro, dtype=np.float64)
    moment = gyro.T @ gyro
    if not np.isfinite(moment).all() or np.trace(moment) <= 0.0:
        raise ValueError("no rotation in the gyro samples: cannot find the sagittal axis")
    axis = np.linalg.eigh(moment)[1][:, -1]
    projection = gyro @ axis
    level = 0.3 * np.percentile(np.abs(projection), 99)
    if np.count_nonzero(projection < -level) > np.count_nonzero(projection > level):
        axis = -axis
    return axis


class SagittalProjector:
    """Streaming: turn sensor-frame samples into (t, ω, |a|) once the axis is known.

    Parameters
    ----------
    motion_threshold_rad_s : float
        Only samples with ``|g|`` above this count as motion (fidgeting stays below).
    lock_energy : float
        ``∫|g|² dt`` over motion samples (rad²/s) needed before the axis is fixed; 100 is three to four walking
        strides or one to two sprint strides (fewer let a single push-off peak decide the sign).
    history_s : float
        At most this much of the pre-lock stream is kept and released at lock.
    axis : array_like, optional
        A known axis (e.g. from a previous session with the same strap); skips the estimate.
    """

    def __init__(self, motion_threshold_rad_s: float = 1.5, lock_energy: float = 100.0,
                 history_s: float = 30.0, axis=None):
        self.motion_threshold = motion_threshold_rad_s
        self.lock_energy = lock_energy
        self.history_s = history_s
        self.axis = None if axis is None else np.asarray(axis, dtype=np.float64)
        self._energy = 0.0
        self._last_t = None
        self._held_t: list[np.ndarray] = []
        self._held_x: list[np.ndarray] = []

    @property
    def locked(self) -> bool:
        return self.axis is not None

    def feed(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Feed sensor-frame samples; returns the released ``(t, ω, |a|)`` (possibly empty)."""
        t = np.asarray(t, dtype=np.float64)
        x = np.asarray(x)
        if self.axis is not None:
            return self._project(t, x)
        lock = self._lock_index(t, x)
        if lock is None:
            self._hold(t, x)
            return self._project(t[:0], x[:0])
        held_t = np.concatenate(self._held_t + [t[: lock + 1]])
        held_x = np.concatenate(self._held_x + [x[: lock + 1]])
        keep = held_t >= held_t[-1] - self.history_s
        held_t, held_x = held_t[keep], held_x[keep]
        self.axis = sagittal_axis(held_x[:, GYRO_COLUMNS][self._moving(held_x)])
        self._held_t, self._held_x = [], []
        return self._project(np.concatenate([held_t, t[lock + 1:]]), np.concatenate([held_x, x[lock + 1:]]))

    def _moving(self, x: np.ndarray) -> np.ndarray:
        gyro = x[:, GYRO_COLUMNS].astype(np.float64)
        return np.einsum("ij,ij->i", gyro, gyro) > self.motion_threshold**2

    def _lock_index(self, t: np.ndarray, x: np.ndarray) -> int | None:
        if len(t) == 0:
            return None
        gyro = x[:, GYRO_COLUMNS].astype(np.float64)
        power = np.einsum("ij,ij->i", gyro, gyro)
        previous = np.concatenate([[t[0] if self._last_t is None else self._last_t], t[:-1]])
        # a hole in the stream must not count as a long stretch of motion
        dt = np.clip(t - previous, 0.0, 0.05)
        energy = np.where(self._moving(x), power * dt, 0.0)
        # accumulate from the carried total, in sample order, so any chunking sums identically
        total = np.cumsum(np.concatenate([[self._energy], energy]))[1:]
        self._last_t = t[-1]
        self._energy = total[-1]
        crossed = np.flatnonzero(total >= self.lock_energy)
        return int(crossed[0]) if len(crossed) else None

    def _hold(self, t: np.ndarray, x: np.ndarray) -> None:
        if len(t) == 0:
            return
        self._held_t.append(t)
        self._held_x.append(x)
        newest = t[-1]
        if self._held_t[0][-1] < newest - self.history_s:
            all_t = np.concatenate(self._held_t)
            all_x = np.concatenate(self._held_x)
            keep = all_t >= newest - self.history_s
            self._held_t, self._held_x = [all_t[keep]], [all_x[keep]]

    def _project(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(t) == 0:
            empty = np.empty(0)
            return t.astype(np.float64), empty, empty
        omega = x[:, GYRO_COLUMNS].astype(np.float64) @ self.axis
        acc = x[:, ACC_COLUMNS].astype(np.float64)
        return t, omega, np.sqrt(np.einsum("ij,ij->i", acc, acc))
