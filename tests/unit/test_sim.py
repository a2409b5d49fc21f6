"""Tests of gaitmon.sim: determinism, truth, the signal contract, realism switches, files."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict

import numpy as np
import pytest

from gaitmon.consts import ACC_FULL_SCALE_M_S2, GYRO_FULL_SCALE_RAD_S, SIDES, STANDARD_GRAVITY
from gaitmon.sim import SCENARIOS, SimConfig, SimulatedSession, simulate_session, write_session
from gaitmon.sim import realism

G = STANDARD_GRAVITY
FS = 500.0


@pytest.fixture(scope="module")
def ideal() -> SimulatedSession:
    """Canonical mounting, no noise, bias, clipping, drops or fidget: ω = −gz exactly."""
    return simulate_session("balanced", 3, SimConfig.ideal(FS))


@pytest.fixture(scope="module")
def fidgety() -> SimulatedSession:
    """Canonical and noise-free, but with standing fidget."""
    return simulate_session("balanced", 3, SimConfig.ideal(FS, fidget=True))


@pytest.fixture(scope="module")
def real() -> SimulatedSession:
    return simulate_session("swing_plateau", 11, SimConfig.realistic(200.0, n_reps=3, recovery_s=10.0))


def _events(session, side, kind=None):
    return [e for e in session.events if e.side == side and (kind is None or e.kind == kind)]


def _strides(session, side):
    """(IC, TO, MSW) triples: a contact, its toe-off and the next mid-swing of the same leg."""
    ev = _events(session, side)
    out = []
    for i in range(len(ev) - 2):
        kinds = (ev[i].kind, ev[i + 1].kind, ev[i + 2].kind)
        if kinds == ("IC", "TO", "MSW") and ev[i + 1].t - ev[i].t < 1.0:  # not a standing spell
            out.append((ev[i], ev[i + 1], ev[i + 2]))
    return out


def _strides_msw(session, side):
    """(MSW, IC, TO) triples: a swing peak, the contact that ends that swing and its toe-off."""
    ev = _events(session, side)
    return [(a, b, c) for a, b, c in zip(ev, ev[1:], ev[2:])
            if (a.kind, b.kind, c.kind) == ("MSW", "IC", "TO") and c.t - b.t < 1.0]


# --------------------------------------------------------------------------- API and determinism


def test_public_api():
    import gaitmon.sim as sim

    assert set(sim.__all__) == {"SCENARIOS", "SimConfig", "SimulatedSession", "simulate_session",
                                "write_session"}
    assert set(SCENARIOS) == {"balanced", "swing_plateau", "push_plateau", "flat"}
    assert all(isinstance(v, str) and v for v in SCENARIOS.values())


def test_realistic_switches_all_on():
    c = SimConfig.realistic(250.0)
    assert (c.sample_rate_hz, c.noise, c.gyro_bias, c.clipping) == (250.0, True, True, True)
    assert c.mounting == "random"
    assert (c.asymmetry, c.drop_rate, c.fidget) == (0.05, 0.002, True)
    assert c.soft_impact_share == 0.25 and SimConfig.ideal().soft_impact_share == 0.0


@pytest.mark.parametrize("bad", [dict(mounting="upside"), dict(sample_rate_hz=10.0), dict(n_reps=0),
                                 dict(drop_rate=0.9), dict(asymmetry=-0.1), dict(soft_impact_share=1.5)])
def test_config_validation(bad):
    with pytest.raises(ValueError):
        SimConfig(**bad)


def test_unknown_scenario_and_seed():
    with pytest.raises(ValueError, match="balanced"):
        simulate_session("sideways", 0)
    with pytest.raises(ValueError):
        simulate_session("flat", -1)


def test_deterministic_by_seed():
    cfg = SimConfig.realistic(100.0, n_reps=1, recovery_s=4.0)
    a, b = simulate_session("flat", 7, cfg), simulate_session("flat", 7, cfg)
    c = simulate_session("flat", 8, cfg)
    for side in SIDES:
        np.testing.assert_array_equal(a.samples[side][0], b.samples[side][0])
        np.testing.assert_array_equal(a.samples[side][1], b.samples[side][1])
        np.testing.assert_array_equal(a.mounting[side], b.mounting[side])
    assert a.events == b.events
    np.testing.assert_equal(a.steps, b.steps)  # NaN-aware
    np.testing.assert_equal(a.reps, b.reps)
    assert a.events != c.events


def test_truth_independent_of_rate_and_sensor_switches():
    a = simulate_session("push_plateau", 5, SimConfig.ideal(100.0, n_reps=2, recovery_s=5.0))
    cfg = SimConfig.realistic(333.0, n_reps=2, recovery_s=5.0, asymmetry=0.0)
    b = simulate_session("push_plateau", 5, cfg)
    assert a.events == b.events
    np.testing.assert_equal(a.steps, b.steps)


def test_samples_layout(real):
    fs = real.config.sample_rate_hz
    cfg = SimConfig.realistic(200.0, n_reps=3, recovery_s=10.0, drop_rate=0.0)
    full = simulate_session("swing_plateau", 11, cfg)
    offsets = []
    for side in SIDES:
        t, x = full.samples[side]
        assert t.dtype == np.float64 and x.dtype == np.float32 and x.shape == (t.size, 6)
        assert 0.0 <= t[0] < 1.0 / fs
        np.testing.assert_allclose(t, t[0] + np.arange(t.size) / fs, rtol=0, atol=1e-9)
        offsets.append(t[0])
    assert offsets[0] != offsets[1]  # independent sensors


# --------------------------------------------------------------------------- ground truth


def test_events_sorted_and_alternate_per_leg(ideal):
    times = [e.t for e in ideal.events]
    assert times == sorted(times)
    for side in SIDES:
        kinds = [e.kind for e in _events(ideal, side)]
        assert kinds[0] == "TO" and kinds[-1] == "IC"
        assert kinds == ["TO", "MSW", "IC"] * (len(kinds) // 3)


def test_steps_consistent_with_events(ideal):
    ic_by_time = {(e.side, round(e.t, 9)): e for e in ideal.events if e.kind == "IC"}
    msw = {side: _events(ideal, side, "MSW") for side in SIDES}
    assert len(ideal.steps) == len(ic_by_time)
    for s in ideal.steps:
        assert (s["side"], round(s["ic_s"], 9)) in ic_by_time
        # The swing peak of a step is the MSW just before its IC on the same leg.
        prev = [m for m in msw[s["side"]] if m.t < s["ic_s"]][-1]
        assert prev.value == s["swing_peak_rad_s"]
        if math.isfinite(s["to_s"]):
            assert s["contact_s"] == pytest.approx(s["to_s"] - s["ic_s"])
        if math.isfinite(s["flight_s"]):
            assert s["flight_s"] == pytest.approx(s["step_s"] - s["contact_s"])
        if s["flight_s"] > 0:
            assert s["push_force_bw"] == pytest.approx(math.pi / 2 * (s["flight_s"] / s["contact_s"] + 1))
        else:
            assert math.isnan(s["push_force_bw"])
    # step_s reaches the next contralateral IC
    steps = ideal.steps
    for a, b in zip(steps, steps[1:]):
        if math.isfinite(a["step_s"]):
            assert b["side"] != a["side"] and b["ic_s"] == pytest.approx(a["ic_s"] + a["step_s"])


def test_session_structure(ideal):
    cfg = ideal.config
    assert [r["rep"] for r in ideal.reps] == list(range(1, cfg.n_reps + 1))
    for r in ideal.reps:
        rs = [s for s in ideal.steps if s["rep"] == r["rep"]]
        phases = [s["phase"] for s in rs]
        assert phases[0] == "standing_start" and phases.count("standing_start") == 1
        assert 20 <= phases.count("standing_start") + phases.count("acceleration") <= 30
        assert 4 <= phases.count("top_speed") <= 8
        assert 6 <= phases.count("deceleration") <= 10
        order = ["standing_start", "acceleration", "top_speed", "deceleration"]
        assert phases == sorted(phases, key=order.index)
        assert r["n_steps"] == len(rs)
        assert all(a["side"] != b["side"] for a, b in zip(rs, rs[1:]))
        assert r["start_s"] < rs[0]["ic_s"] and r["end_s"] == pytest.approx(rs[-1]["to_s"])
    walk = [s for s in ideal.steps if s["phase"] == "walk"]
    assert all(s["rep"] == 0 for s in walk)
    walk_time = sum(s["step_s"] for s in walk if math.isfinite(s["step_s"]))
    assert walk_time == pytest.approx(cfg.n_reps * cfg.recovery_s, rel=0.1)
    # The first contact of a rep is made by a random leg (with this seed, both occur).
    assert [r["first_side"] for r in ideal.reps] == [
        next(s["side"] for s in ideal.steps if s["rep"] == r["rep"]) for r in ideal.reps]
    assert {r["first_side"] for r in ideal.reps} == set(SIDES)


def test_per_step_value_ranges(ideal):
    run = [s for s in ideal.steps if s["phase"] in ("standing_start", "acceleration", "top_speed")]
    contact = np.array([s["contact_s"] for s in run])
    assert contact.min() >= 0.09 and contact.max() <= 0.22
    first = [s for s in ideal.steps if s["phase"] == "standing_start"]
    assert all(0.17 <= s["contact_s"] <= 0.22 for s in first)
    assert all(3.2 <= 1 / s["step_s"] <= 3.9 for s in first)
    top = [s for s in ideal.steps if s["phase"] == "top_speed"]
    assert all(4.3 <= 1 / s["step_s"] <= 5.1 for s in top)
    assert all(0.09 <= s["contact_s"] <= 0.12 for s in top)
    assert all(18.0 <= s["swing_peak_rad_s"] <= 26.0 for s in top)
    assert all(8.5 <= s["speed_m_s"] <= 11.0 for s in top)
    dec = [s for s in ideal.steps if s["phase"] == "deceleration"]
    assert 0.17 <= max(s["contact_s"] for s in dec) <= 0.25 and min(s["speed_m_s"] for s in dec) < 4.2
    walk = [s for s in ideal.steps if s["phase"] == "walk" and math.isfinite(s["flight_s"])]
    # The first two walking contacts of a bout end transitional swings (they leave jog contacts).
    steady = [s for i, s in enumerate(ideal.steps) if s in walk
              and ideal.steps[i - 1]["phase"] == ideal.steps[i - 2]["phase"] == "walk"]
    assert len(steady) == len(walk) - 2 * ideal.config.n_reps
    assert all(1.6 <= 1 / s["step_s"] <= 2.0 for s in walk)
    assert all(s["flight_s"] < 0 for s in walk)  # double support
    stance = np.array([s["contact_s"] / (2 * s["step_s"]) for s in walk])
    assert 0.57 <= stance.mean() <= 0.63
    assert all(3.5 <= s["swing_peak_rad_s"] <= 5.5 for s in steady)
    assert all(3.5 <= s["swing_peak_rad_s"] <= 12.0 for s in walk)
    assert all(1.0 <= s["speed_m_s"] <= 1.5 for s in walk)
    assert max(e.value for e in ideal.events if e.kind == "MSW") <= 26.0


def test_event_values(ideal):
    walk_ic = {round(s["ic_s"], 9) for s in ideal.steps if s["phase"] == "walk"}
    for side in SIDES:
        for ic, to, _ in _strides(ideal, side):
            if round(ic.t, 9) in walk_ic:
                assert -1.5 <= ic.value <= -0.1 and -3.5 <= to.value <= -0.2
            else:  # IC on the fall past zero, TO on the late-stance descent
                assert -13.0 <= ic.value <= -1.0 and -14.0 <= to.value <= 0.5


# --------------------------------------------------------------------------- the signal contract

#: Largest |dω/dt| of the model without the impact ringing, rad/s² (the fall through zero when sprinting).
MAX_SLOPE = 800.0


@pytest.fixture(scope="module")
def soft() -> SimulatedSession:
    """The ``ideal`` session with a soft lander: no impact transients at all."""
    return simulate_session("balanced", 3, SimConfig.ideal(FS, soft_impact_share=1.0))


def _features(session, side):
    """Feature rows of a leg's contacts that end in a toe-off (not standing starts, not final contacts)."""
    return [f for f in session.features if f["side"] == side and not f["start"] and math.isfinite(f["to_s"])]


def test_omega_is_minus_gz_and_matches_truth(ideal):
    for side in SIDES:
        t, x = ideal.samples[side]
        w = -x[:, 5].astype(float)
        for e in _events(ideal, side):
            i = int(np.argmin(np.abs(t - e.t)))
            if e.kind == "MSW":
                assert w[i] <= e.value + 1e-4
                assert w[i] == pytest.approx(e.value, abs=0.05)
            else:  # TO / IC: continuous ω at the event; the last sample before it is close
                j = int(np.searchsorted(t, e.t)) - 1
                assert abs(w[j] - e.value) <= MAX_SLOPE / FS


def test_stride_anatomy(soft):
    """MSW → fall through zero → IC → dip → hump → descent (TO) → ESmin → MSW, monotone between."""
    tol = 1e-5  # float32 samples
    for side in SIDES:
        t, x = soft.samples[side]
        w = -x[:, 5].astype(float)
        assert np.abs(np.gradient(w, t)).max() < MAX_SLOPE
        feats = _features(soft, side)
        assert len(feats) > 100
        msw = np.array([e.t for e in _events(soft, side, "MSW")])
        for f in feats:
            ic, to = f["ic_s"], f["to_s"]
            nxt = msw[msw > to][0]
            assert f["msw_s"] < f["zero_crossing_s"] < ic < f["dip_s"] < f["hump_s"] < to
            assert to < f["es_min_s"] < nxt
            assert f["hump_s"] < f["steepest_s"] < f["es_min_s"]
            pieces = [(f["msw_s"], f["dip_s"], -1), (f["dip_s"], f["hump_s"], 1),
                      (f["hump_s"], f["es_min_s"], -1), (f["es_min_s"], nxt, 1)]
            for a, b, sign in pieces:
                m = (t > a) & (t < b)
                assert np.all(sign * np.diff(w[m]) > -tol), (side, ic, a, b)
            # The hump is a local maximum near zero, below which dip and ESmin lie.
            wh = np.interp(f["hump_s"], t, w)
            assert wh > np.interp(f["dip_s"], t, w) + 0.2 and wh > np.interp(f["es_min_s"], t, w) + 0.5
            assert np.interp(f["zero_crossing_s"], t, w) == pytest.approx(0.0, abs=MAX_SLOPE / FS)


def test_impact_ringing_and_soft_landing(ideal, soft):
    """A soft lander differs only by the impact transients: same truth, same ω and acc elsewhere."""
    assert ideal.events == soft.events
    np.testing.assert_equal(ideal.steps, soft.steps)
    assert soft.athlete["soft_landing"] and soft.athlete["impact_scale"] == 0.0
    assert not ideal.athlete["soft_landing"] and 0.75 <= ideal.athlete["impact_scale"] <= 1.25
    same = {k: v for k, v in ideal.athlete.items() if k not in ("soft_landing", "impact_scale")}
    assert same == {k: v for k, v in soft.athlete.items() if k not in ("soft_landing", "impact_scale")}
    for side in SIDES:
        t, xh = ideal.samples[side]
        xs = soft.samples[side][1]
        ics = np.array([e.t for e in _events(ideal, side, "IC")])
        j = np.searchsorted(ics, t, side="right") - 1
        since = np.where(j >= 0, t - ics[np.maximum(j, 0)], np.inf)
        dw = -(xh[:, 5].astype(float) - xs[:, 5].astype(float))  # ω ringing
        da = xh[:, :3].astype(float) - xs[:, :3].astype(float)
        assert np.abs(dw[since >= 0.025]).max() < 1e-5
        assert np.abs(da[since >= 0.030]).max() < 1e-4
        for ic in ics:
            m = (t > ic) & (t <= ic + 0.012)
            assert dw[m].min() < -0.3  # ringing starts negative right after IC …
            before = (t > ic - 0.02) & (t <= ic)
            assert np.abs(dw[before]).max() < 1e-5  # … and nothing before it


def _jump_over_4ms(x):
    """|a| (m/s²) and its rise over the last 4 ms, the detector's impact statistic."""
    k = int(round(0.004 * FS))
    mag = np.linalg.norm(x[:, :3].astype(float), axis=1)
    stat = np.zeros_like(mag)
    stat[k:] = mag[k:] - mag[:-k]
    return mag, stat


def test_acc_impact_starts_at_ic(ideal):
    for side in SIDES:
        t, x = ideal.samples[side]
        mag, stat = _jump_over_4ms(x)
        ics = _events(ideal, side, "IC")
        for ic in ics:
            i = int(np.searchsorted(t, ic.t))  # first sample after IC
            assert abs(mag[i - 1] - G) < 0.5  # |a| is at a minimum near g right at IC
            peak = mag[i:i + int(0.008 * FS)].max()
            assert peak > G + 0.6 * G  # peaks within 8 ms …
            assert mag[i + 1] - mag[i - 1] > 0.3 * (peak - G)  # … rising from IC on
            assert stat[i - int(0.02 * FS):i].max() < 1.0  # no rise in the 20 ms before IC
            assert x[i:i + 4, 0].max() > abs(x[i:i + 4, 1]).max()  # along the shank (+x)
        # No other sharp rise of |a| where the detector looks for contacts (late swing).
        for msw, ic in zip(_events(ideal, side, "MSW"), ics):
            late = (t > msw.t) & (t < ic.t) & (-x[:, 5] < 0.3 * msw.value)
            if late.any():
                assert stat[late].max() < 4.0


def test_soft_lander_has_no_sharp_acc_feature(soft):
    """Without the impact, |a| never jumps by 4 m/s² within 4 ms (the detector's impact floor) from
    mid-swing through landing and stance: IC has to be found from ω."""
    for side in SIDES:
        t, x = soft.samples[side]
        _, stat = _jump_over_4ms(x)
        for msw, ic, to in _strides_msw(soft, side):
            m = (t > msw.t) & (t < to.t)
            assert stat[m].max() < 4.0


def test_impact_sizes_scale_with_speed(ideal):
    t, x = ideal.samples["left"]
    walk = {round(s["ic_s"], 9) for s in ideal.steps if s["phase"] == "walk"}
    top = {round(s["ic_s"], 9) for s in ideal.steps if s["phase"] == "top_speed"}
    peaks = {"walk": [], "top": []}
    for ic in _events(ideal, "left", "IC"):
        key = "walk" if round(ic.t, 9) in walk else "top" if round(ic.t, 9) in top else None
        if key:
            m = (t >= ic.t) & (t <= ic.t + 0.03)
            peaks[key].append((x[m, 0].max() - G) / G / ideal.athlete["impact_scale"])
    assert 1.2 <= np.median(peaks["walk"]) <= 2.6
    assert 6.0 <= np.median(peaks["top"]) <= 12.0


def test_standing_is_quiet_with_gravity_along_x(fidgety):
    for side in SIDES:
        t, x = fidgety.samples[side]
        w = -x[:, 5].astype(float)
        ev = _events(fidgety, side)
        # Standing spells: from a final IC + 0.6 s to the next standing-start TO − 0.6 s.
        spans = [(0.0, ev[0].t - 0.6)]
        spans += [(a.t + 0.6, b.t - 0.6) for a, b in zip(ev, ev[1:])
                  if a.kind == "IC" and b.kind == "TO" and b.t - a.t > 2.0]
        spans.append((ev[-1].t + 0.6, t[-1]))
        moved = 0.0
        for a, b in spans:
            m = (t > a) & (t < b)
            assert np.abs(w[m]).max() < 1.5
            moved = max(moved, np.abs(w[m]).max())
            assert np.all(x[m, 0] > 0.9 * G) and np.all(np.abs(x[m, 1:3]) < 0.5 * G)
            assert np.abs(np.diff(x[m, :3], axis=0)).max() * FS < 150.0  # smooth: jerk < 150 m/s³
        assert moved > 0.2  # fidget is there


# --------------------------------------------------------------------------- realism


def test_mounting_is_a_tilted_proper_permutation(real):
    perms = realism.proper_signed_permutations()
    assert len(perms) == 24
    for side in SIDES:
        m = real.mounting[side]
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(m) == pytest.approx(1.0)
        angles = [np.degrees(np.arccos(np.clip((np.trace(m @ p.T) - 1) / 2, -1, 1))) for p in perms]
        assert min(angles) <= 20.0 + 1e-9
    assert not np.allclose(real.mounting["left"], real.mounting["right"])


def test_random_mounting_rotates_the_canonical_signal():
    base = SimConfig.ideal(100.0, n_reps=1, recovery_s=3.0)
    canon = simulate_session("flat", 2, base)
    rot = simulate_session("flat", 2, SimConfig.ideal(100.0, n_reps=1, recovery_s=3.0, mounting="random"))
    for side in SIDES:
        np.testing.assert_array_equal(canon.mounting[side], np.eye(3))
        m = rot.mounting[side]
        xc = canon.samples[side][1].astype(float)
        xr = rot.samples[side][1].astype(float)
        np.testing.assert_allclose(xr[:, :3], xc[:, :3] @ m.T, atol=2e-4 * 160)
        np.testing.assert_allclose(xr[:, 3:], xc[:, 3:] @ m.T, atol=2e-5 * 30)


def test_noise_and_bias_levels():
    cfg = SimConfig(sample_rate_hz=200.0, n_reps=1, recovery_s=3.0, fidget=False, gyro_bias=False)
    noisy = simulate_session("flat", 4, cfg)
    clean = simulate_session("flat", 4, SimConfig.ideal(200.0, n_reps=1, recovery_s=3.0))
    d = noisy.samples["left"][1].astype(float) - clean.samples["left"][1].astype(float)
    np.testing.assert_allclose(d.std(axis=0), [0.15] * 3 + [0.03] * 3, rtol=0.1)
    biased = simulate_session("flat", 4, SimConfig.ideal(200.0, n_reps=1, recovery_s=3.0, gyro_bias=True))
    b = biased.samples["right"][1][:, 3:].astype(float) - clean.samples["right"][1][:, 3:].astype(float)
    assert np.abs(b).max() <= 0.061 and np.abs(b.mean(axis=0)).max() > 0.0


def test_clipping_respected(real):
    for side in SIDES:
        x = real.samples[side][1]
        assert np.abs(x[:, :3]).max() <= ACC_FULL_SCALE_M_S2 * (1 + 1e-6)
        assert np.abs(x[:, 3:]).max() <= GYRO_FULL_SCALE_RAD_S * (1 + 1e-6)
    ch = np.array([[200.0, -300.0], [1, 2], [3, 4], [50.0, -40.0], [0, 0], [1, -1]])
    realism.clip(ch)
    assert ch[0].tolist() == [ACC_FULL_SCALE_M_S2, -ACC_FULL_SCALE_M_S2]
    assert ch[3].tolist() == [GYRO_FULL_SCALE_RAD_S, -GYRO_FULL_SCALE_RAD_S]


def test_drop_rate():
    cfg = SimConfig.ideal(200.0, n_reps=1, recovery_s=10.0, drop_rate=0.05)
    s = simulate_session("flat", 9, cfg)
    full = simulate_session("flat", 9, SimConfig.ideal(200.0, n_reps=1, recovery_s=10.0))
    kept = []
    for side in SIDES:
        t, _ = s.samples[side]
        n_full = full.samples[side][0].size
        frac = 1 - t.size / n_full
        assert 0.045 <= frac <= 0.056
        idx = np.rint((t - t[0]) * 200.0).astype(int)
        gaps = np.diff(idx) - 1
        runs = gaps[gaps > 0]
        assert runs.min() >= 1 and 1.5 <= runs.mean() <= 4.0
        kept.append(set(idx.tolist()))
    assert kept[0] != kept[1]  # independent per side


def test_drop_mask_runs():
    keep = realism.drop_mask(100_000, 0.002, np.random.default_rng(0))
    assert 0.0015 <= 1 - keep.mean() <= 0.0026
    assert realism.drop_mask(10, 0.0, np.random.default_rng(0)).all()


def test_asymmetry():
    s = simulate_session("flat", 6, SimConfig.ideal(100.0, n_reps=2, recovery_s=3.0, asymmetry=0.05))
    top = [x for x in s.steps if x["phase"] == "top_speed"]
    mean = {side: (np.mean([x["swing_peak_rad_s"] for x in top if x["side"] == side]),
                   np.mean([x["contact_s"] for x in top if x["side"] == side])) for side in SIDES}
    assert mean["right"][0] / mean["left"][0] == pytest.approx(0.95, abs=0.025)
    assert mean["right"][1] / mean["left"][1] == pytest.approx(1.05, abs=0.025)


# --------------------------------------------------------------------------- scenarios


def _slope(y):
    return float(np.polyfit(np.arange(len(y)), y, 1)[0])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenario_trends(scenario):
    swing_late, push_late, swing_all, push_all = [], [], [], []
    for seed in (0, 1, 2):
        s = simulate_session(scenario, seed, SimConfig.ideal(100.0, recovery_s=4.0))
        sw = [r["top_speed_swing_peak_rad_s"] for r in s.reps]
        pu = [r["top_speed_push_force_bw"] for r in s.reps]
        swing_late.append(_slope(sw[2:]) / sw[0])
        push_late.append(_slope(pu[2:]) / pu[0])
        swing_all.append(_slope(sw) / sw[0])
        push_all.append(_slope(pu) / pu[0])
        plateau = {"balanced": None, "swing_plateau": 3, "push_plateau": 3, "flat": 1}[scenario]
        assert all(r["plateau_from_rep"] == plateau for r in s.reps)
    swing_late, push_late = np.mean(swing_late), np.mean(push_late)
    swing_all, push_all = np.mean(swing_all), np.mean(push_all)
    # Rising ≈ +2 % (swing) / +1.6 % (push) per rep; flat ≈ 0 (relative slopes per rep).
    rises = {"balanced": (True, True), "swing_plateau": (False, True),
             "push_plateau": (True, False), "flat": (False, False)}[scenario]
    for rising, late, whole in ((rises[0], swing_late, swing_all), (rises[1], push_late, push_all)):
        if rising:
            assert late > 0.009 and whole > 0.009
        else:
            assert abs(late) < 0.006
    if scenario in ("swing_plateau", "push_plateau"):  # rises up to rep 3, then flat
        s = simulate_session(scenario, 0, SimConfig.ideal(100.0, recovery_s=4.0))
        gains = [r["swing_gain" if scenario == "swing_plateau" else "push_gain"] for r in s.reps]
        assert gains[0] < gains[1] < gains[2] == gains[3] == gains[-1]


def test_contact_and_flight_carry_the_push_trend():
    s = simulate_session("balanced", 0, SimConfig.ideal(100.0, recovery_s=4.0))
    contact = [r["top_speed_contact_s"] for r in s.reps]
    flight = [r["top_speed_flight_s"] for r in s.reps]
    assert _slope(contact) < 0 < _slope(flight)


# --------------------------------------------------------------------------- files


def test_write_session_round_trip(tmp_path, real):
    out = tmp_path / "sess"
    write_session(real, out)
    assert sorted(p.name for p in out.iterdir()) == ["imu.csv", "simulation.json", "truth_events.csv",
                                                      "truth_reps.csv", "truth_steps.csv"]
    with open(out / "imu.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t_s", "side", "ax", "ay", "az", "gx", "gy", "gz"]
    body = rows[1:]
    assert len(body) == sum(t.size for t, _ in real.samples.values())
    keys = [(float(r[0]), SIDES.index(r[1])) for r in body]
    assert keys == sorted(keys)
    for side in SIDES:
        t, x = real.samples[side]
        mine = [r for r in body if r[1] == side]
        np.testing.assert_allclose([float(r[0]) for r in mine], t, atol=5e-7, rtol=0)
        vals = np.array([[float(v) for v in r[2:]] for r in mine])
        np.testing.assert_allclose(vals, x, rtol=6e-6, atol=1e-12)
        assert all(len(r[0].split(".")[1]) == 6 for r in mine[:50])

    with open(out / "truth_events.csv", newline="") as fh:
        ev = list(csv.DictReader(fh))
    assert len(ev) == len(real.events)
    for row, e in zip(ev, real.events):
        assert (row["side"], row["event"]) == (e.side, e.kind)
        assert float(row["t_s"]) == pytest.approx(e.t, abs=5e-7)
        assert float(row["value"]) == pytest.approx(e.value, rel=1e-5)

    with open(out / "truth_steps.csv", newline="") as fh:
        steps = list(csv.DictReader(fh))
    assert list(steps[0]) == list(real.steps[0])
    assert len(steps) == len(real.steps)
    for row, s in zip(steps, real.steps):
        assert row["phase"] == s["phase"] and int(row["rep"]) == s["rep"]
        for k in ("ic_s", "to_s", "contact_s", "flight_s", "swing_peak_rad_s", "push_force_bw"):
            a, b = float(row[k] or "nan"), s[k]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=5e-7)

    with open(out / "truth_reps.csv", newline="") as fh:
        reps = list(csv.DictReader(fh))
    assert [int(r["rep"]) for r in reps] == [r["rep"] for r in real.reps]
    assert all(r["plateau_from_rep"] == "3" for r in reps)

    meta = json.loads((out / "simulation.json").read_text())
    assert meta["synthetic"] is True and "synthetic" in meta["description"].lower()
    assert meta["scenario"] == "swing_plateau" and meta["seed"] == 11
    assert meta["config"] == json.loads(json.dumps(asdict(real.config)))  # tuples come back as lists
    from gaitmon._version import __version__

    assert meta["version"] == __version__
    for side in SIDES:
        np.testing.assert_allclose(meta["mounting"][side], real.mounting[side])
    assert meta["athlete"] == real.athlete and "delta_ic_s" in meta["athlete"]


def test_for_duration():
    cfg = SimConfig.for_duration(600.0, 100.0, recovery_s=30.0, noise=False)
    assert cfg.noise is False and cfg.recovery_s == 30.0
    s = simulate_session("flat", 0, cfg)
    assert s.duration_s == pytest.approx(600.0, rel=0.06)
