"""The simulator's stride anatomy on ω: features measured on the samples land where the athlete's
offsets say (IC = downward zero crossing + δ_IC, TO = steepest late-stance descent + δ_TO), and the
offsets are drawn per athlete (running_mocap measurements, see gaitmon.sim.waveforms)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from gaitmon.consts import SIDES
from gaitmon.sim import SimConfig, simulate_session
from gaitmon.sim.athlete import DELTA_IC, DELTA_TO, draw_athlete


def measure_features(session, side):
    """Measure each contact's zero crossing and steepest late-stance descent on the sampled ω.

    Uses only the samples and the truth IC / TO / MSW: the downward zero crossing is the last
    + → − sign change before IC (linear interpolation); ESmin is the minimum of ω between TO and the
    next MSW peak; the hump is the local maximum reached walking back from ESmin; the steepest
    point is the minimum of ``np.gradient(ω)`` between hump and ESmin (parabolic refinement).
    """
    t, x = session.samples[side]
    w = -x[:, 5].astype(float)
    dw = np.gradient(w, t)
    msw = np.array([e.t for e in session.events if e.side == side and e.kind == "MSW"])
    walk = {round(s["ic_s"], 9) for s in session.steps if s["phase"] == "walk"}
    rows = []
    for f in session.features:
        if f["side"] != side or f["start"] or not math.isfinite(f["to_s"]):
            continue
        ic, to = f["ic_s"], f["to_s"]
        i = int(np.searchsorted(t, ic)) - 1
        while w[i] <= 0:
            i -= 1
        zd = t[i] + w[i] / (w[i] - w[i + 1]) * (t[i + 1] - t[i])
        span = np.flatnonzero((t >= to) & (t <= msw[msw > to][0]))
        ies = span[np.argmin(w[span])]
        ih = ies
        while w[ih - 1] > w[ih]:
            ih -= 1
        j = ih + int(np.argmin(dw[ih:ies + 1]))
        a, b, c = dw[j - 1], dw[j], dw[j + 1]
        den = a - 2.0 * b + c
        sd = t[j] + (0.5 * (a - c) / den if den != 0 else 0.0) * (t[j + 1] - t[j])
        rows.append(dict(walk=round(ic, 9) in walk, ic=ic, to=to, zero_crossing=zd, steepest=sd,
                         want_zd=ic - f["delta_ic_s"], want_sd=to - f["delta_to_s"], es_min=t[ies],
                         hump=t[ih], delta_ic=f["delta_ic_s"], delta_to=f["delta_to_s"]))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_features_land_where_the_offsets_say(seed):
    """1000 Hz, noiseless: zero crossing and steepest descent within 1 / 1.5 ms of IC − δ_IC, TO − δ_TO."""
    s = simulate_session("balanced", seed, SimConfig.ideal(1000.0, n_reps=1, recovery_s=8.0))
    rows = [r for side in SIDES for r in measure_features(s, side)]
    run = [r for r in rows if not r["walk"]]
    walk = [r for r in rows if r["walk"]]
    assert len(run) > 30 and len(walk) > 4
    sprint = [r for r in run if r["to"] - r["ic"] < 0.13]
    assert len(sprint) > 15  # top speed and late acceleration: 85–130 ms contacts
    for group in (run, walk):
        zd = np.array([r["zero_crossing"] - r["want_zd"] for r in group])
        sd = np.array([r["steepest"] - r["want_sd"] for r in group])
        assert np.abs(zd).max() < 0.001
        assert np.abs(sd).max() < 0.0015
    # The truth events are the timeline's, so the offsets measured from the samples are the δ's.
    d_ic = np.array([r["ic"] - r["zero_crossing"] for r in run])
    assert np.all((d_ic > 0.002) & (d_ic < 0.041))


@pytest.mark.parametrize("fs", [104.0, 1000.0])
def test_features_at_other_rates(fs):
    s = simulate_session("flat", 4, SimConfig.ideal(fs, n_reps=1, recovery_s=6.0))
    rows = [r for side in SIDES for r in measure_features(s, side)]
    assert len(rows) > 40
    zd = np.array([r["zero_crossing"] - r["want_zd"] for r in rows])
    sd = np.array([r["steepest"] - r["want_sd"] for r in rows])
    assert np.abs(zd).max() < 0.001  # linear interpolation of a steep crossing
    # The steepest sample of a central difference: within one sample period (at 104 Hz the short
    # walking ESmin gap pulls the ±1-sample average of the slope ~0.7 sample early).
    assert np.abs(sd).max() < max(0.0015, 1.0 / fs)


def test_offsets_drawn_per_athlete():
    """δ_IC ~ N(18, 5) ms clipped 5–35, δ_TO ~ N(−13, 9) ms clipped −35 … +10, per athlete."""
    athletes = [draw_athlete(np.random.default_rng(k)) for k in range(3000)]
    d_ic = np.array([a.delta_ic_s for a in athletes])
    d_to = np.array([a.delta_to_s for a in athletes])
    assert d_ic.min() >= DELTA_IC[2] and d_ic.max() <= DELTA_IC[3]
    assert d_to.min() >= DELTA_TO[2] and d_to.max() <= DELTA_TO[3]
    assert d_ic.mean() == pytest.approx(0.018, abs=0.0005) and d_ic.std() == pytest.approx(0.005, abs=0.0005)
    assert d_to.mean() == pytest.approx(-0.013, abs=0.0008) and d_to.std() == pytest.approx(0.0085, abs=0.001)
    jit = np.array([(a.delta_ic_jitter_s, a.delta_to_jitter_s) for a in athletes])
    assert jit.min() >= 0.003 and jit.max() <= 0.005
    assert not any(a.soft_landing for a in athletes)
    soft = np.mean([draw_athlete(np.random.default_rng(k), 0.25).soft_landing for k in range(2000)])
    assert soft == pytest.approx(0.25, abs=0.03)


def test_athlete_in_session_and_per_stride_jitter():
    cfg = SimConfig.ideal(200.0, n_reps=2, recovery_s=6.0)
    a = simulate_session("balanced", 7, cfg)
    b = simulate_session("balanced", 7, SimConfig.realistic(104.0, n_reps=2, recovery_s=6.0, asymmetry=0.0))
    c = simulate_session("balanced", 8, cfg)
    keep = lambda d: {k: v for k, v in d.items() if k not in ("soft_landing", "impact_scale")}  # noqa: E731
    assert keep(a.athlete) == keep(b.athlete)  # from the seed, whatever the rate and sensor switches
    np.testing.assert_equal(a.features, b.features)  # NaN-aware
    assert a.athlete["delta_ic_s"] != c.athlete["delta_ic_s"]  # no fixed offset
    rows = [f for f in a.features if not f["start"]]
    d_ic = np.array([f["delta_ic_s"] for f in rows])
    np.testing.assert_allclose([f["ic_s"] - f["zero_crossing_s"] for f in rows], d_ic, atol=1e-9)
    assert d_ic.mean() == pytest.approx(a.athlete["delta_ic_s"], abs=0.0015)
    assert 0.6 * a.athlete["delta_ic_jitter_s"] < d_ic.std() < 1.2 * a.athlete["delta_ic_jitter_s"]
    d_to = np.array([f["delta_to_s"] for f in a.features if math.isfinite(f["delta_to_s"])])
    assert d_to.mean() == pytest.approx(a.athlete["delta_to_s"], abs=0.0015)
    assert 0.6 * a.athlete["delta_to_jitter_s"] < d_to.std() < 1.2 * a.athlete["delta_to_jitter_s"]
    # The steepest point is TO − δ_TO for every toe-off, standing starts included.
    for f in a.features:
        if math.isfinite(f["delta_to_s"]):
            assert f["steepest_s"] == pytest.approx(f["to_s"] - f["delta_to_s"], abs=1e-9)
    to_events = sorted(e.t for e in a.events if e.kind == "TO")
    assert to_events == sorted(f["to_s"] for f in a.features if math.isfinite(f["delta_to_s"]))


def test_post_ic_dip_and_early_swing_minimum_timing():
    """Dip 30–60 ms after IC on running contacts, compressed on sprint contacts; ESmin after TO."""
    s = simulate_session("balanced", 2, SimConfig.ideal(1000.0, n_reps=2, recovery_s=4.0))
    phase = {round(q["ic_s"], 9): q for q in s.steps}
    for f in s.features:
        if f["start"] or not math.isfinite(f["to_s"]):
            continue
        step = phase[round(f["ic_s"], 9)]
        contact = f["to_s"] - f["ic_s"]
        dip = f["dip_s"] - f["ic_s"]
        if step["phase"] == "walk":
            assert 0.02 < dip < 0.09 and 0.03 < f["es_min_s"] - f["to_s"] < 0.13
            continue
        assert 0.09 < dip / contact < 0.26  # 0.11–0.23 of the contact, with jitter
        if contact < 0.16:  # sprint contacts
            assert 0.008 < dip < 0.04 and 0.015 < f["es_min_s"] - f["to_s"] < 0.09
        assert f["hump_s"] < f["to_s"] < f["es_min_s"]


def test_realistic_104_hz_and_speed():
    s = simulate_session("swing_plateau", 3, SimConfig.realistic(104.0, n_reps=2, recovery_s=6.0))
    assert all(t.size > 1000 for t, _ in s.samples.values())
    t0 = time.perf_counter()
    simulate_session("balanced", 0, SimConfig.realistic(1000.0, n_reps=3))
    assert time.perf_counter() - t0 < 5.0
