"""Which gyro axis is sagittal, and which sign makes the swing positive — found from the data.

Axis
----
A shank (or foot) sensor may be strapped on with its axes permuted, flipped, or tilted by a few
tens of degrees. During gait the leg rotates mostly about the medio-lateral axis, so the dominant
direction of the angular-velocity vector (the principal eigenvector of ``Σ g gᵀ`` over moving
samples, ``|g|`` above :data:`MOTION_THRESHOLD_RAD_S`) *is* the sagittal axis in the sensor frame,
whatever the mounting. Projecting onto it (rather than picking the nearest sensor axis) also undoes
a tilt.

Sign
----
The forward swing is the longest phase in which the leg rotates fast in one direction, so the swing
side is the one whose excursions beyond 30 % of the 99th-percentile magnitude come in the *longest
runs*: the length-weighted mean run length ``Σ L² / Σ L`` of the runs of samples beyond ``+level``
is compared with that of the runs beyond ``−level`` (:func:`swing_sign`). One rule serves both
placements, checked on the real data in ``shared/datasets``:

- foot (ipol_foot_walk): the swing lobe outlasts the taller but brief push-off peak;
- shank, running (running_mocap, 2–5 m/s): the backward rotation is split into two lobes per stride
  (the dip after initial contact and the early-swing minimum after toe-off) which together spend
  *more* samples beyond the level than the one swing lobe. The former rule — "the side with more
  samples beyond the level" — chose stance-positive ω on all 16 legs of that data set; the run
  lengths choose right on all of them;
- shank, simulated sprinting and walking (also scaled down to 3 rad/s swing peaks).

On whole recordings the rule is right on every leg of both data sets. On short stretches starting
anywhere in a recording it is right on 100 % of 0.8 s-of-motion stretches of the running shanks
(1079 stretches; the sample-count rule: 28 %) and on 99 % of 1.5 s-of-motion stretches of the feet
(1039; the sample-count rule: 88 %).

Streaming: lock early, then revise
----------------------------------
:class:`SagittalProjector` holds samples until it has seen ``lock_motion_s`` seconds of motion
(samples with ``|g|`` above the motion threshold; gaps count at most 50 ms), then fixes the axis
from all moving samples so far, decides the sign on the held samples (at most ``history_s`` seconds
of them) and releases them projected, followed by every later sample.

The amount of motion is counted in *seconds of motion*, not in rotation energy ``∫|g|² dt``: per
stride the energy ranges from ≈ 2–4 rad²/s (a slow walk, 3 rad/s swing peaks) to ≈ 40 rad²/s (a
run at 5 m/s), 10–20× apart, while a stride holds 0.27 s (slow walk) to 0.85 s (foot sensor) of
motion (measured on the data sets above). The former lock at 100 rad²/s came after 1–2 sprint
strides but after more than a whole slow 5-stride shank walk (10–20 rad²/s), which therefore gave
no steps at all. Default lock: 0.8 s of motion for a shank (≈ 2–3 slow walking strides, 1–2
running strides), 1.5 s for a foot (≈ 2 strides; its push-off peak makes one stride ambiguous).
Standing stays below the motion threshold; fidgeting above it for 0.8 s can lock the axis on
the fidget, and the revisions correct it once the athlete moves.

The estimate is then **revised** at deterministic points: each time the seconds of motion seen
since the start double (1.6 s, 3.2 s, … for a shank), up to ``revise_until_s`` (60 s of motion; six
revisions for a shank, five for a foot). A revision recomputes the axis from all moving samples so
far and re-decides the sign on the last ``history_s`` seconds; the samples after the revision point
are projected on the new axis. Events already emitted are never retracted. After the last revision
the axis is final (a strap that slips later is not followed). The points depend only on the sample
sequence (a running sum in sample order), never on how the stream is split into blocks, so any
chunking gives identical output.

A revision that **flips the sign** (the earlier decision was wrong) is applied — the newer decision
rests on at least twice the motion — counted in :attr:`SagittalProjector.sign_flips` and marked on
the run of samples it starts (:meth:`SagittalProjector.release`); :class:`gaitmon.stream.pipeline.LegPipeline`
restarts its step detector there, since the detector's running references were learnt on the wrong sign. On the
real data a flip needs the first decision to have been wrong (shanks: never seen; feet: ≈ 1 % of
1.5 s stretches), and comes at one of the early revisions. When the last ``history_s`` seconds
hold less motion than a lock needs (the athlete stood still a long while), the sign is not
re-decided: the revised axis keeps the current one's direction.

Offline analysis (:func:`gaitmon.stream.pipeline.detect_events`) does not stream the orientation: it has
the whole recording, takes :func:`sagittal_axis` of it and feeds the detector with that axis.

Projection
----------
:meth:`SagittalProjector.release` hands back sensor-frame samples with the axis each run is on; the
step core projects them in its compiled loop (``ext/detector.pyx``). :meth:`SagittalProjector.feed`
projects the same runs with numpy, in the same rounding (:func:`_dot3`, :func:`_squared_norm`): the
reference the kernel's projection is tested against, and a projection for callers without a kernel.
"""

from __future__ import annotations

import numpy as np

from gaitmon.consts import ACC_COLUMNS, GYRO_COLUMNS, PLACEMENTS

#: Only samples with ``|g|`` above this (rad/s) count as motion; standing and fidgeting stay below.
MOTION_THRESHOLD_RAD_S = 1.5
#: Runs beyond this fraction of the 99th-percentile ``|ω|`` decide the sign.
SWING_LEVEL_FRACTION = 0.3
#: Seconds of motion before the first estimate, per placement (see the module docstring).
LOCK_MOTION_S = {"shank": 0.8, "foot": 1.5}
#: Revisions stop once this many seconds of motion have been seen.
REVISE_UNTIL_S = 60.0
#: A hole in the stream counts as at most this much motion, s.
_MAX_DT_S = 0.05

# the six distinct products g_i g_j of the moment matrix, in the order of _moment_matrix
_PAIRS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
_PAIR_A = np.array([a for a, _ in _PAIRS])
_PAIR_B = np.array([b for _, b in _PAIRS])


def _dot3(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """``v @ axis`` for ``v[n, 3]``, element by element: each row rounds the same whatever the
    length of the block it is in (a BLAS product may not), which chunking invariance needs."""
    return v[:, 0] * axis[0] + v[:, 1] * axis[1] + v[:, 2] * axis[2]


def _squared_norm(v: np.ndarray) -> np.ndarray:
    """``|v|²`` per row of ``v[n, 3]``, element by element (see :func:`_dot3`)."""
    return v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2]


def principal_axis(moment: np.ndarray) -> np.ndarray:
    """Unit principal eigenvector of the 3×3 moment ``Σ g gᵀ`` (its sign is arbitrary).

    Raises
    ------
    ValueError
        If there is no rotation to learn from.
    """
    moment = np.asarray(moment, dtype=np.float64)
    if not np.isfinite(moment).all() or np.trace(moment) <= 0.0:
        raise ValueError("no rotation in the gyro samples: cannot find the sagittal axis")
    return np.linalg.eigh(moment)[1][:, -1]


def _mean_run_length(mask: np.ndarray) -> float:
    """Length-weighted mean length ``Σ L² / Σ L`` of the runs of True in ``mask`` (0 without any)."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    lengths = (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).astype(np.float64)
    return float(np.sum(lengths**2) / np.sum(lengths)) if len(lengths) else 0.0


def swing_sign(omega: np.ndarray, moving: np.ndarray | None = None) -> float:
    """``+1.0`` if the positive side of ``omega`` (consecutive samples) is the swing side, else ``-1.0``.

    The level is 30 % of the 99th percentile of ``|omega|`` over the ``moving`` samples (all when
    omitted); the side whose runs beyond it are longer (length-weighted mean) is the swing side.
    """
    omega = np.asarray(omega, dtype=np.float64)
    magnitude = np.abs(omega if moving is None else omega[moving])
    if len(magnitude) == 0:
        return 1.0
    level = SWING_LEVEL_FRACTION * np.percentile(magnitude, 99)
    return -1.0 if _mean_run_length(omega < -level) > _mean_run_length(omega > level) else 1.0


def sagittal_axis(gyro: np.ndarray, placement: str = "shank",
                  motion_threshold_rad_s: float | None = None) -> np.ndarray:
    """Unit sagittal axis (sensor frame) from gyro samples ``gyro[n, 3]`` (rad/s), swing positive.

    Parameters
    ----------
    gyro : array_like
        Consecutive samples (the sign rule looks at runs of samples, so pass the stream, not a
        selection of it).
    placement : {"shank", "foot"}
        Where the sensor is worn. One sign rule serves both (module docstring); accepted so that
        callers can say it.
    motion_threshold_rad_s : float, optional
        Only samples with ``|g|`` above this find the axis and set the sign's level (e.g.
        :data:`MOTION_THRESHOLD_RAD_S`); all samples when omitted.

    Raises
    ------
    ValueError
        If there is no rotation to learn from.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, not {placement!r}")
    gyro = np.asarray(gyro, dtype=np.float64)
    moving = None
    used = gyro
    if motion_threshold_rad_s is not None:
        moving = _squared_norm(gyro) > motion_threshold_rad_s**2
        used = gyro[moving]
        if not len(used):
            raise ValueError(f"no rotation faster than {motion_threshold_rad_s:g} rad/s: "
                             "cannot find the sagittal axis")
    axis = principal_axis(used.T @ used)
    return axis * swing_sign(gyro @ axis, moving)


def _moment_matrix(products: np.ndarray) -> np.ndarray:
    xx, xy, xz, yy, yz, zz = products
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


class SagittalProjector:
    """Streaming: turn sensor-frame samples into (t, ω, |a|): lock early, revise (module docstring).

    Parameters
    ----------
    motion_threshold_rad_s : float
        Only samples with ``|g|`` above this count as motion (fidgeting stays below).
    lock_motion_s : float, optional
        Seconds of motion before the first estimate; by placement when omitted
        (:data:`LOCK_MOTION_S`: 0.8 s shank, 1.5 s foot).
    revise_until_s : float
        The estimate is revised each time the seconds of motion double, up to this many.
    history_s : float
        At most this much of the pre-lock stream is kept and released at lock; a revision decides
        the sign on this much of the latest stream.
    axis : array_like, optional
        A known axis (e.g. from a previous session with the same strap, or from the whole
        recording); skips the estimate and its revisions.
    placement : {"shank", "foot"}
        Where the sensor is worn; sets the default ``lock_motion_s``.

    Attributes
    ----------
    estimates : list of (float, ndarray)
        Time stamp of the sample each estimate (lock, then revisions) was made at, and its axis.
    sign_flips : int
        Revisions that reversed the sign.
    """

    def __init__(self, motion_threshold_rad_s: float = MOTION_THRESHOLD_RAD_S, lock_motion_s: float | None = None,
                 revise_until_s: float = REVISE_UNTIL_S, history_s: float = 30.0, axis=None,
                 placement: str = "shank"):
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {PLACEMENTS}, not {placement!r}")
        self.motion_threshold = motion_threshold_rad_s
        self.placement = placement
        self.lock_motion_s = LOCK_MOTION_S[placement] if lock_motion_s is None else float(lock_motion_s)
        if not self.lock_motion_s > 0:
            raise ValueError(f"lock_motion_s must be positive, not {lock_motion_s!r}")
        self.revise_until_s = revise_until_s
        self.history_s = history_s
        self.axis = None if axis is None else np.asarray(axis, dtype=np.float64)
        self.estimates: list[tuple[float, np.ndarray]] = []
        self.sign_flips = 0
        # next estimate point in seconds of motion; None: the axis is final
        self._next = None if self.axis is not None else self.lock_motion_s
        self._motion = 0.0
        self._moment = np.zeros(len(_PAIRS))
        self._last_t = None
        # recent samples (held before the lock), with the running seconds of motion at each
        self._recent = _RecentSamples()

    @property
    def locked(self) -> bool:
        return self.axis is not None

    def release(self, t: np.ndarray, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
        """Feed sensor-frame samples; returns the samples released, as runs on one axis each.

        Each run is ``(t, x, axis, flipped)``: samples (possibly held from earlier feeds, possibly
        none), the unit axis they are to be projected on, and whether that axis reverses the
        previous one (a sign flip: a step core must restart before this run, even an empty one).
        Nothing is released while the axis is being found.
        """
        t = np.asarray(t, dtype=np.float64)
        x = np.asarray(x)
        if self._next is None:
            return [(t, x, self.axis, False)]
        if len(t) == 0:
            return []
        carried = self._moment
        motion, moving, moment = self._accumulate(t, x)
        points = []
        while self._next is not None and motion[-1] >= self._next:
            points.append(int(np.searchsorted(motion, self._next, side="left")))
            doubled = 2.0 * self._next
            self._next = doubled if doubled <= self.revise_until_s else None
        recent = self._recent
        recent.append(t, x, motion)
        if not points:
            recent.forget_before(t[-1] - self.history_s)
            return [] if self.axis is None else [(t, x, self.axis, False)]  # held until the lock

        all_t, all_x, all_m = recent.arrays()
        offset = len(all_t) - len(t)
        runs, done, flipped = [], 0, False  # done: samples of this block already released
        for i in points:
            k = offset + i
            lo = int(np.searchsorted(all_t[: k + 1], all_t[k] - self.history_s, side="left"))
            last = int(np.searchsorted(moving, i, side="right")) - 1  # last moving sample up to i
            axis = self._estimate(moment[:, last] if last >= 0 else carried, all_x[lo: k + 1], all_m[lo: k + 1])
            if self.axis is None:  # the lock: release the held stretch on the new axis (copies: the store moves on)
                runs.append((all_t[lo: k + 1].copy(), all_x[lo: k + 1].copy(), axis, False))
            else:
                runs.append((t[done: i + 1], x[done: i + 1], self.axis, flipped))
                flipped = bool(axis @ self.axis < 0.0)
                self.sign_flips += flipped
            done = i + 1
            self.axis = axis
            self.estimates.append((float(t[i]), axis))
        runs.append((t[done:], x[done:], self.axis, flipped))
        if self._next is None:
            self._recent = _RecentSamples()  # the axis is final: nothing more to hold
        else:
            recent.forget_before(t[-1] - self.history_s)
        return runs

    def feed(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`release`, projected with numpy: the released ``(t, ω, |a|)`` (possibly empty).

        The reference for the step core's own projection (which :class:`gaitmon.stream.pipeline.LegPipeline`
        uses); sign flips are not marked here.
        """
        parts = [_project(run_t, run_x, axis) for run_t, run_x, axis, _ in self.release(t, x)]
        if not parts:
            return _project(np.asarray(t, dtype=np.float64)[:0], np.asarray(x)[:0], np.zeros(3))
        return parts[0] if len(parts) == 1 else tuple(np.concatenate(a) for a in zip(*parts))

    def _accumulate(self, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Running seconds of motion at each sample, and running moment, carried across feeds.

        Returns ``(motion, moving, moment)``: the motion at each sample, the indices of the moving
        samples, and the running moment after each of them (``moment[:, k]`` after sample
        ``moving[k]``; samples at rest add nothing to it, so it is summed over the moving ones only).
        Both are cumulative sums in sample order from the carried totals, so any chunking of the
        stream gives bit-identical values (hence identical estimate points and axes). Without a
        moving sample in the block neither changes (and no estimate point can fall in it): the
        moment is then None.
        """
        gyro = x[:, GYRO_COLUMNS].astype(np.float64)
        moving = _squared_norm(gyro) > self.motion_threshold**2
        previous = self._last_t
        self._last_t = t[-1]
        if not moving.any():
            return np.full(len(t), self._motion), np.empty(0, dtype=np.intp), None
        previous = np.concatenate([[t[0] if previous is None else previous], t[:-1]])
        # a hole in the stream must not count as a long stretch of motion
        dt = np.clip(t - previous, 0.0, _MAX_DT_S)
        motion = np.cumsum(np.concatenate([[self._motion], np.where(moving, dt, 0.0)]))[1:]
        moving = np.flatnonzero(moving)
        g = np.ascontiguousarray(gyro[moving].T)
        products = g[_PAIR_A] * g[_PAIR_B]
        moment = np.cumsum(np.concatenate([self._moment[:, None], products], axis=1), axis=1)[:, 1:]
        self._motion = motion[-1]
        self._moment = moment[:, -1]
        return motion, moving, moment

    def _estimate(self, moment: np.ndarray, x: np.ndarray, motion: np.ndarray) -> np.ndarray:
        """The axis from the running moment; its sign from the recent stretch ``x`` (see class doc)."""
        axis = principal_axis(_moment_matrix(moment))
        gyro = x[:, GYRO_COLUMNS].astype(np.float64)
        enough = self.axis is None or motion[-1] - motion[0] >= self.lock_motion_s
        if not enough:
            return axis if axis @ self.axis >= 0.0 else -axis
        moving = _squared_norm(gyro) > self.motion_threshold**2
        return axis * swing_sign(_dot3(gyro, axis), moving)


class _RecentSamples:
    """The recent stretch a :class:`SagittalProjector` holds: ``(t, x, motion)`` rows appended at the
    end, the oldest forgotten at the front, in arrays that grow by doubling.

    Each row is copied once on the way in; an estimate reads the stretch as one view. (Joining the
    thousands of small blocks of 30 s at every estimate cost ~10 ms of one notification; this is
    amortised O(1) per row.) ``x`` keeps the dtype numpy's concatenation would give the blocks.
    """

    def __init__(self):
        self._t = np.empty(0)
        self._x = np.empty((0, 6), dtype=np.float32)
        self._m = np.empty(0)
        self._lo = self._hi = 0

    def append(self, t: np.ndarray, x: np.ndarray, motion: np.ndarray) -> None:
        n = len(t)
        dtype = np.result_type(self._x.dtype, x.dtype) if self._hi > self._lo else x.dtype
        if self._hi + n > len(self._t) or dtype != self._x.dtype:
            size = self._hi - self._lo
            capacity = max(2 * (size + n), 1024)
            held = self.arrays()
            self._t, self._m = np.empty(capacity), np.empty(capacity)
            self._x = np.empty((capacity,) + x.shape[1:], dtype=dtype)
            self._t[:size], self._x[:size], self._m[:size] = held
            self._lo, self._hi = 0, size
        hi = self._hi + n
        self._t[self._hi:hi], self._x[self._hi:hi], self._m[self._hi:hi] = t, x, motion
        self._hi = hi

    def forget_before(self, t0: float) -> None:
        """Forget the rows older than ``t0`` (s)."""
        self._lo += int(np.searchsorted(self._t[self._lo:self._hi], t0, side="left"))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t, x, motion)`` held, oldest first (views: valid until the next :meth:`append`)."""
        lo, hi = self._lo, self._hi
        return self._t[lo:hi], self._x[lo:hi], self._m[lo:hi]


def _project(t: np.ndarray, x: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(t, ω, |a|)`` of sensor-frame samples on ``axis``, in float64 (the kernel rounds the same)."""
    if len(t) == 0:
        empty = np.empty(0)
        return t.astype(np.float64), empty, empty
    omega = _dot3(x[:, GYRO_COLUMNS].astype(np.float64), axis)
    return t, omega, np.sqrt(_squared_norm(x[:, ACC_COLUMNS].astype(np.float64)))
