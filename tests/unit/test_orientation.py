"""The sagittal axis and its sign from real recordings: whole, a few strides, any mounting; the
streamed estimate (early lock, revisions, sign flips) and why a recording gives no steps.

Real data are read in place from the workplace's shared/ folder (never copied into the project):
``ipol_foot_walk`` (real foot IMUs, walking, 100 Hz, annotated TO/IC) and ``running_mocap``
(virtual shank IMUs from motion capture, treadmill running, force-plate TO/IC). Tests that need
them skip when the folder is absent.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitmon.core import DetectorParams
from gaitmon.io import read_events_csv, read_imu_csv
from gaitmon.stream.orientation import LOCK_MOTION_S, SagittalProjector, sagittal_axis, swing_sign
from gaitmon.stream.pipeline import (
    LegPipeline,
    detect_events,
    diagnose_recording,
    estimate_sample_rate,
    guess_units,
    no_steps_seen,
    recording_axis,
    units_problem,
)
from tests.conftest import FOOT_DATASET, REPO

RUNNING_DATASET = REPO.parent / "shared" / "datasets" / "running_mocap"

#: The sagittal axis, swing positive, as each data set documents it (README of each data set):
#: ipol feet: ``gy`` with the swing lobe positive; running_mocap shanks: ``ω = −gz``.
FOOT_SWING_AXIS = np.array([0.0, 1.0, 0.0])
SHANK_SWING_AXIS = np.array([0.0, 0.0, -1.0])


def _need(folder):
    if not folder.is_dir():
        pytest.skip(f"real dataset not present at {folder} (it lives in the workplace's shared/ folder)")
    return folder


def _recording(folder, name):
    path = _need(folder) / f"{name}_imu.csv"
    return read_imu_csv(path), read_events_csv(folder / f"{name}_events.csv")


def _foot_bouts(name) -> dict[str, float]:
    with open(_need(FOOT_DATASET) / "recordings.csv") as f:
        row = next(r for r in csv.DictReader(f) if r["recording"] == name)
    return {key: float(row[key]) for key in ("walk_start_s", "uturn_end_s")}


def _cut(samples, t0, t1):
    return {side: (t[(t >= t0) & (t < t1)], x[(t >= t0) & (t < t1)]) for side, (t, x) in samples.items()}


def _strides(samples, events, t0, n):
    """From ``t0`` until ``n`` initial contacts of every leg (+0.3 s): a walk of ``n`` strides."""
    ends = []
    for side in samples:
        ics = sorted(e.t for e in events if e.side == side and e.kind == "IC" and e.t > t0)
        ends.append(ics[n - 1])
    t1 = max(ends) + 0.3
    truth = [e for e in events if e.kind == "IC" and t0 <= e.t < t1]
    return _cut(samples, t0, t1), truth


def _degrees(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip(abs(a @ b), -1.0, 1.0))))


def _live(samples, placement):
    events, legs = [], {}
    for side, (t, x) in samples.items():
        params = DetectorParams(sample_rate_hz=estimate_sample_rate(t), placement=placement)
        leg = legs[side] = LegPipeline(side, params)
        events += leg.feed(t, x)
    return sorted(events), legs


def _ics(events) -> int:
    return sum(e.kind == "IC" for e in events)


def _random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _rotated(x, rotation):
    """Samples of a sensor mounted ``rotation`` away: both vectors seen in the rotated frame."""
    out = np.array(x, dtype=np.float64)
    out[:, 0:3] = out[:, 0:3] @ rotation.T
    out[:, 3:6] = out[:, 3:6] @ rotation.T
    return out


FOOT_RECORDINGS = ("S01_T4", "S01_T5", "S02_T2", "S04_T5", "S05_T4", "S07_T4")
RUNNING_RECORDINGS = ("RBDS001_2p5ms", "RBDS001_3p5ms", "RBDS001_4p5ms", "RBDS004_2p5ms",
                      "HAMNER13_S01_2ms", "HAMNER13_S01_3ms", "HAMNER13_S01_4ms", "HAMNER13_S01_5ms")


# -- the sign rule on real data --------------------------------------------------------------------

def test_sign_rule_on_every_leg_of_the_real_recordings():
    """Whole recordings: swing positive on all 12 feet and all 16 running shanks. (The former
    rule, 'the side with more samples beyond the level', chose stance-positive ω on all 16 shanks.)"""
    for folder, names, placement, truth in ((FOOT_DATASET, FOOT_RECORDINGS, "foot", FOOT_SWING_AXIS),
                                            (RUNNING_DATASET, RUNNING_RECORDINGS, "shank", SHANK_SWING_AXIS)):
        for name in names:
            samples, _ = _recording(folder, name)
            for side, (t, x) in samples.items():
                axis = recording_axis(x, placement)
                # the feet's sensors are tilted up to ~30° about their long axis; the shanks' frame is anatomical
                assert axis @ truth > np.cos(np.radians(35 if placement == "foot" else 12)), (name, side, axis)


def test_swing_sign_prefers_the_longest_runs_not_the_most_samples():
    """One long lobe a stride against two shorter ones that together last longer (a running shank)."""
    stride = np.concatenate([np.full(20, 5.0), np.zeros(5), np.full(13, -4.0), np.zeros(5), np.full(13, -4.0)])
    omega = np.tile(stride, 6)
    assert np.count_nonzero(omega < -1.5) > np.count_nonzero(omega > 1.5)
    assert swing_sign(omega) == 1.0
    assert swing_sign(-omega) == -1.0


@pytest.mark.parametrize("name", ["RBDS001_3p5ms", "RBDS004_2p5ms"])
def test_the_early_lock_is_right_wherever_the_stream_starts(name):
    """The streamed estimate locks after 0.8 s of motion (about 1.5 running strides) with the
    right sign, whether the sensor starts streaming at the start of the run or anywhere in it."""
    samples, _ = _recording(RUNNING_DATASET, name)
    for side, (t, x) in samples.items():
        for start in range(0, len(t) - 600, 150):  # every second
            projector = SagittalProjector()
            projector.feed(t[start:start + 600], x[start:start + 600])
            lock_t, axis = projector.estimates[0]
            assert lock_t - t[start] < 1.5
            assert axis @ SHANK_SWING_AXIS > np.cos(np.radians(15)), (side, start, axis)


def test_the_early_lock_of_foot_sensors_is_right():
    for name in FOOT_RECORDINGS:
        samples, _ = _recording(FOOT_DATASET, name)
        bouts = _foot_bouts(name)
        for start_s in (0.0, bouts["uturn_end_s"]):  # from the standing start, and after the U-turn
            for side, (t, x) in _cut(samples, start_s, np.inf).items():
                projector = SagittalProjector(placement="foot")
                projector.feed(t, x)
                assert projector.estimates[0][1] @ FOOT_SWING_AXIS > np.cos(np.radians(40)), (name, side, start_s)
                assert projector.sign_flips == 0


# -- a few strides ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FOOT_RECORDINGS)
def test_a_five_stride_walk_gives_the_axis_of_the_whole_recording_and_its_steps(name):
    """Five strides cut out of a real walk (from the standing start, and after the U-turn): the
    axis of the cut is that of the whole recording within 5°, and nearly every step is found,
    offline and streamed."""
    samples, events = _recording(FOOT_DATASET, name)
    bouts = _foot_bouts(name)
    for t0 in (bouts["walk_start_s"] - 1.5, bouts["uturn_end_s"]):
        walk, truth = _strides(samples, events, t0, 5)
        for side, (_, x) in walk.items():
            assert _degrees(recording_axis(x, "foot"), recording_axis(samples[side][1], "foot")) < 5.0
        assert _ics(detect_events(walk, placement="foot")) >= len(truth) - 2
        live, legs = _live(walk, "foot")
        assert _ics(live) >= len(truth) - 2
        assert all(leg.projector.sign_flips == 0 for leg in legs.values())


@pytest.mark.parametrize("name", ["RBDS001_2p5ms", "RBDS001_4p5ms", "RBDS004_2p5ms", "HAMNER13_S01_3ms"])
def test_a_few_running_strides_give_the_axis_of_the_whole_recording_and_their_steps(name):
    samples, events = _recording(RUNNING_DATASET, name)
    walk, truth = _strides(samples, events, 0.0, 3 if name.startswith("HAMNER") else 5)
    for side, (_, x) in walk.items():
        assert _degrees(recording_axis(x, "shank"), recording_axis(samples[side][1], "shank")) < 3.0
    assert _ics(detect_events(walk)) >= len(truth) - 2
    assert _ics(_live(walk, "shank")[0]) >= len(truth) - 2


def test_a_slow_short_walk_gives_steps():
    """A real walk scaled down to half its rotation rate (swing peaks ≈ 3 rad/s, ≈ 6 rad²/s of
    rotation energy a stride): five strides gave no step at all with the former 100 rad²/s lock."""
    for name in ("S01_T4", "S02_T2", "S07_T4"):
        samples, events = _recording(FOOT_DATASET, name)
        walk, truth = _strides(samples, events, _foot_bouts(name)["uturn_end_s"], 5)
        slow = {side: (t, np.column_stack([x[:, :3], 0.5 * x[:, 3:]])) for side, (t, x) in walk.items()}
        assert _ics(detect_events(slow, placement="foot")) >= len(truth) - 3
        assert _ics(_live(slow, "foot")[0]) >= len(truth) - 3


def test_a_slow_simulated_shank_walk_gives_steps():
    """The simulator's walking recovery alone (from its second contact: the last jog stride is not
    walking), randomly mounted, its rotation scaled to ≈ 3 rad/s swing peaks: the sign is right and
    the steps come out, offline and streamed."""
    from gaitmon.sim import SimConfig, simulate_session

    session = simulate_session("balanced", seed=3, config=SimConfig.realistic(100.0, n_reps=1, recovery_s=6.0))
    walking = sorted((r for r in session.steps if r["phase"] == "walk"), key=lambda r: r["ic_s"])
    t0, t1 = walking[1]["ic_s"], walking[-1]["ic_s"] + 0.5
    walk = {side: (t, np.column_stack([x[:, :3], 0.65 * x[:, 3:]]))
            for side, (t, x) in _cut(session.samples, t0, t1).items()}
    assert 2.5 < 0.65 * np.median([r["swing_peak_rad_s"] for r in walking]) < 3.5
    for side, (_, x) in walk.items():
        axis = recording_axis(x)
        assert axis @ (session.mounting[side] @ SHANK_SWING_AXIS) > 0.9
        assert _degrees(axis, recording_axis(session.samples[side][1])) < 3.0
    truth = sum(t0 <= r["ic_s"] < t1 for r in walking)
    assert _ics(detect_events(walk)) >= truth - 2
    assert _ics(_live(walk, "shank")[0]) >= truth - 2


# -- any mounting ----------------------------------------------------------------------------------

@pytest.mark.parametrize("folder, name, placement", [(RUNNING_DATASET, "RBDS004_2p5ms", "shank"),
                                                     (FOOT_DATASET, "S05_T4", "foot")])
def test_any_mounting_gives_the_same_omega(folder, name, placement):
    """Rotate the sensor frame at random: the axis rotates with it, so ω — offline and streamed,
    sign included — and the estimate points are those of the original mounting."""
    samples, _ = _recording(folder, name)
    rng = np.random.default_rng(7)
    t, x = samples["left"]
    axis = recording_axis(x, placement)
    reference = SagittalProjector(placement=placement)
    ref_t, ref_omega, ref_acc = reference.feed(t, x)
    for _ in range(5):
        rotation = _random_rotation(rng)
        mounted = _rotated(x, rotation)
        turned = recording_axis(mounted, placement)
        np.testing.assert_allclose(turned, rotation @ axis, atol=1e-9)
        np.testing.assert_allclose(mounted[:, 3:] @ turned, x[:, 3:] @ axis, atol=1e-9)
        projector = SagittalProjector(placement=placement)
        got_t, got_omega, got_acc = projector.feed(t, mounted)
        np.testing.assert_array_equal(got_t, ref_t)
        np.testing.assert_allclose(got_omega, ref_omega, atol=1e-9)
        np.testing.assert_allclose(got_acc, ref_acc, atol=1e-9)
        assert [e[0] for e in projector.estimates] == [e[0] for e in reference.estimates]


# -- the streamed estimate: lock, revisions, flips -------------------------------------------------

def test_revisions_happen_each_time_the_motion_doubles_and_stop_at_the_cap():
    samples, _ = _recording(RUNNING_DATASET, "RBDS001_4p5ms")
    t, x = samples["right"]
    projector = SagittalProjector()
    t_out, omega, _ = projector.feed(t, x)
    gyro = x[:, 3:].astype(np.float64)
    moving = np.sqrt(np.sum(gyro**2, axis=1)) > projector.motion_threshold
    motion = np.cumsum(np.where(moving, np.clip(np.diff(t, prepend=t[0]), 0.0, 0.05), 0.0))
    points = [projector.lock_motion_s * 2**k for k in range(len(projector.estimates))]
    assert points[-1] <= projector.revise_until_s < 2 * points[-1] or motion[-1] < 2 * points[-1]
    assert len(projector.estimates) >= 5  # 0.8, 1.6, 3.2, 6.4, 12.8, 25.6 s of ≈ 29 s of motion
    for (at, _), point in zip(projector.estimates, points):
        assert at == t[np.searchsorted(motion, point)]
    # the last estimate is the whole recording's axis, and every sample since the lock came out
    assert _degrees(projector.axis, recording_axis(x)) < 1.0
    assert t_out[-1] == t[-1] and np.all(np.diff(t_out) > 0)
    assert projector.sign_flips == 0


def test_lock_motion_depends_on_placement():
    assert LOCK_MOTION_S == {"shank": 0.8, "foot": 1.5}
    assert SagittalProjector().lock_motion_s == 0.8
    assert SagittalProjector(placement="foot").lock_motion_s == 1.5
    with pytest.raises(ValueError):
        SagittalProjector(placement="hand")


def _misleading_start():
    """A running shank whose first 2 s rotate the other way round (as if the strap had been on
    upside down): the early lock takes the wrong sign, a revision flips it."""
    samples, _ = _recording(RUNNING_DATASET, "RBDS001_3p5ms")
    t, x = samples["left"]
    x = np.array(x, dtype=np.float64)
    x[t < 2.0, 3:] *= -1.0
    return t, x


def test_a_revision_that_reverses_the_sign_is_applied_and_restarts_the_detector():
    t, x = _misleading_start()
    projector = SagittalProjector()
    _, omega, _ = projector.feed(t, x)
    assert projector.sign_flips == 1
    assert projector.estimates[0][1] @ SHANK_SWING_AXIS < 0 < projector.axis @ SHANK_SWING_AXIS
    flip_t = next(at for at, axis in projector.estimates if axis @ SHANK_SWING_AXIS > 0)
    assert flip_t < 7.0  # by the revision at 6.4 s of motion: the real strides outweigh the 2 s in the window
    leg = LegPipeline("left", DetectorParams(sample_rate_hz=150.0))
    events = leg.feed(t, x)
    after = [e for e in events if e.kind == "IC" and e.t > flip_t + 1.0]
    assert len(after) > 0.9 * (t[-1] - flip_t - 1.0) / 0.7  # a step every ≈ 0.7 s, all found


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=0, max_value=10**7), max_size=40))
def test_estimates_flips_and_events_do_not_depend_on_block_boundaries(cuts):
    t, x = _misleading_start()
    t, x = t[:2400], x[:2400]  # 16 s: lock, the flip and three more revisions
    whole_projector = SagittalProjector()
    whole = whole_projector.feed(t, x)
    whole_events = LegPipeline("left", DetectorParams(sample_rate_hz=150.0)).feed(t, x)
    edges = sorted({0, len(t), *(c % (len(t) + 1) for c in cuts)})
    projector = SagittalProjector()
    leg = LegPipeline("left", DetectorParams(sample_rate_hz=150.0))
    parts, events, projected = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        parts.append(projector.feed(t[lo:hi], x[lo:hi]))
        events += leg.feed(t[lo:hi], x[lo:hi])
        projected.append(leg.projected)
    for got, expected in zip((np.concatenate(p) for p in zip(*parts)), whole):
        np.testing.assert_array_equal(got, expected)
    for got, expected in zip((np.concatenate(p) for p in zip(*projected)), whole):  # the kernel's projection
        np.testing.assert_array_equal(got, expected)
    assert [e[0] for e in projector.estimates] == [e[0] for e in whole_projector.estimates]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(projector.estimates, whole_projector.estimates))
    assert projector.sign_flips == whole_projector.sign_flips == 1
    assert events == whole_events


def test_a_known_axis_skips_the_estimate():
    samples, _ = _recording(RUNNING_DATASET, "HAMNER13_S01_4ms")
    t, x = samples["left"]
    projector = SagittalProjector(axis=SHANK_SWING_AXIS)
    t_out, omega, _ = projector.feed(t, x)
    assert projector.estimates == [] and len(t_out) == len(t)
    np.testing.assert_allclose(omega, -x[:, 5])


def test_standing_never_gives_an_axis_offline():
    t = np.arange(3000) / 100.0
    x = np.zeros((3000, 6))
    x[:, 0] = 9.81
    x[:, 5] = 0.8 * np.sin(2 * np.pi * 0.3 * t)
    assert recording_axis(x) is None
    assert detect_events({"left": (t, x)}) == []
    with pytest.raises(ValueError):
        sagittal_axis(x[:, 3:], motion_threshold_rad_s=1.5)


# -- why a recording gives no steps -----------------------------------------------------------------

def _synthetic(seconds, rate=100.0, acc=9.81, gyro_amp=0.0, sides=("left", "right")):
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    x = np.zeros((n, 6))
    x[:, 0] = acc
    x[:, 1] = 0.1 * np.sin(2 * np.pi * 0.7 * t)
    x[:, 5] = gyro_amp * np.sin(2 * np.pi * 1.0 * t)
    return {side: (t + 0.001 * i, x.copy()) for i, side in enumerate(sides)}


def test_diagnosis_too_short():
    reason = diagnose_recording(_synthetic(1.5, gyro_amp=4.0))
    assert reason.startswith("too short") and "1.5 s" in reason
    assert diagnose_recording(_synthetic(10.0, rate=5.0, gyro_amp=4.0)).startswith("too short")  # 50 samples
    # checked first: a short recording that is also still is "too short"
    assert diagnose_recording(_synthetic(1.0)).startswith("too short")
    assert diagnose_recording({"left": (np.empty(0), np.empty((0, 6)))}) == "no samples"


def test_diagnosis_too_little_motion():
    reason = diagnose_recording(_synthetic(20.0, gyro_amp=1.0))
    assert reason.startswith("too little motion") and "never exceeds 1.5 rad/s" in reason
    # a few brief excursions above the threshold are not enough either
    samples = _synthetic(20.0, gyro_amp=1.0)
    samples["left"][1][100:120, 5] = 2.0
    assert "for only 0.20 s" in diagnose_recording(samples)
    # a long leg decides when the other is too short
    both = {**_synthetic(20.0, gyro_amp=1.0, sides=("left",)), **_synthetic(0.5, gyro_amp=4.0, sides=("right",))}
    assert diagnose_recording(both).startswith("too little motion")


def test_diagnosis_units():
    in_g = diagnose_recording(_synthetic(10.0, acc=1.0, gyro_amp=4.0))
    assert in_g.startswith("units look wrong") and "as in g" in in_g and "deg/s" not in in_g
    in_deg = diagnose_recording(_synthetic(10.0, gyro_amp=np.degrees(4.0)))
    assert in_deg.startswith("units look wrong") and "deg/s" in in_deg and "as in g" not in in_deg
    both = diagnose_recording(_synthetic(10.0, acc=1.0, gyro_amp=np.degrees(4.0)))
    assert "as in g" in both and "deg/s" in both
    # motion is checked before units: a still recording in g is "too little motion"
    assert diagnose_recording(_synthetic(10.0, acc=1.0)).startswith("too little motion")


@pytest.mark.parametrize("acc, gyro_amp, expected", [
    (9.81, 4.0, ("m/s2", "rad/s")),  # standing-to-walking levels in SI
    (1.0, 4.0, ("g", "rad/s")),  # 1 g of gravity
    (3.1, 4.0, ("g", "rad/s")),  # the median of treadmill running at 5 m/s, in g
    (5.5, 4.0, (None, "rad/s")),  # too much for g, too little for m/s²
    (0.2, 4.0, (None, "rad/s")),  # no gravity in it
    (9.81, np.degrees(4.0), ("m/s2", "deg/s")),
    (9.81, 42.0, ("m/s2", None)),  # past a gait IMU's 35 rad/s, too slow for deg/s
])
def test_guess_units_from_gravity_and_the_gyro_range(acc, gyro_amp, expected):
    guess = guess_units(_synthetic(10.0, acc=acc, gyro_amp=gyro_amp))
    assert (guess.acc, guess.gyro) == expected
    assert guess.acc_evidence.startswith("median |a| ") and guess.gyro_evidence.startswith("99th percentile")


def test_diagnosis_passes_real_recordings():
    for folder, name in ((FOOT_DATASET, "S01_T4"), (RUNNING_DATASET, "HAMNER13_S01_2ms"),
                         (RUNNING_DATASET, "RBDS001_4p5ms")):
        samples, _ = _recording(folder, name)
        assert diagnose_recording(samples) is None
        assert units_problem(samples) is None


def test_no_steps_seen_says_what_was_seen():
    text = no_steps_seen(_synthetic(10.0, gyro_amp=1.6))
    assert text.startswith("no steps found (shank placement): ")
    assert "left 10.0 s" in text and "largest swing peak 1.6 rad/s" in text and "right" in text
    assert "largest swing peak 0.0 rad/s" in no_steps_seen(_synthetic(10.0), placement="foot")
