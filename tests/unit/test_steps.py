"""Steps and their metrics from event sequences with known answers."""

from __future__ import annotations

import math

import pytest

from gaitmon.events import GaitEvent
from gaitmon.analysis.steps import STEP_COLUMNS, Step, build_steps, spring_mass_force_bw


def _running(n_steps=6, contact=0.12, flight=0.10, start=1.0, peak=20.0):
    """Alternating legs: left IC at start, right IC one step later, …; swing peak before each IC."""
    events = []
    step = contact + flight
    for k in range(n_steps):
        side = "left" if k % 2 == 0 else "right"
        ic = start + k * step
        events.append(GaitEvent(ic, side, "IC", -3.0))
        events.append(GaitEvent(ic + contact, side, "TO", -6.0))
        events.append(GaitEvent(ic + contact + 0.08, side, "MSW", peak + k))
    return sorted(events)


def test_spring_mass_force():
    assert spring_mass_force_bw(0.1, 0.1) == pytest.approx(math.pi)
    assert spring_mass_force_bw(0.2, 0.1) == pytest.approx(math.pi / 2 * 1.5)
    assert math.isnan(spring_mass_force_bw(0.6, -0.1))  # walking: double support, no flight
    assert math.isnan(spring_mass_force_bw(float("nan"), 0.1))


def test_two_legs_running():
    steps = build_steps(_running())
    assert [r.side for r in steps] == ["left", "right"] * 3
    for r in steps[:-1]:
        assert r.contact_s == pytest.approx(0.12)
        assert r.flight_s == pytest.approx(0.10)
        assert r.step_s == pytest.approx(0.22)
        assert r.step_hz == pytest.approx(1 / 0.22)
        assert r.push_force_bw == pytest.approx(math.pi / 2 * (0.10 / 0.12 + 1))
        assert r.flight_source == "measured"
    # the swing that ended at the third contact (left) started at the first left TO
    third = steps[2]
    assert third.swing_s == pytest.approx(2 * 0.22 - 0.12)
    assert third.swing_peak_rad_s == 20.0  # the MSW between the left TO and this IC
    # the first contact of each leg has no swing before it, the last has no next landing
    assert math.isnan(steps[0].swing_s) and math.isnan(steps[-1].flight_s)
    assert tuple(steps[0].as_row()) == STEP_COLUMNS
    assert all(Step.from_row(step.as_row()) == step for step in steps[1:-1])  # no NaN in these: == holds


def test_one_leg_estimates_flight_from_stride():
    left_only = [e for e in _running(8) if e.side == "left"]
    steps = build_steps(left_only, sides=["left"])
    assert len(steps) == 4
    for r in steps[:-1]:
        assert r.flight_source == "one_leg_estimate"
        assert r.step_s == pytest.approx(0.22)  # stride 0.44 / 2
        assert r.flight_s == pytest.approx(0.10)


def test_walking_has_negative_flight_and_no_force():
    events = []
    for k in range(4):
        side = "left" if k % 2 == 0 else "right"
        ic = k * 0.55
        events += [GaitEvent(ic, side, "IC"), GaitEvent(ic + 0.68, side, "TO"), GaitEvent(ic + 0.85, side, "MSW", 4.0)]
    steps = build_steps(events)
    assert steps[0].flight_s == pytest.approx(0.55 - 0.68)
    assert math.isnan(steps[0].push_force_bw)


def test_missing_events_give_nan_not_wrong_pairs():
    events = [e for e in _running(6) if not (e.side == "right" and e.kind == "IC" and e.t > 1.3)]
    steps = build_steps(events)
    left_second = [r for r in steps if r.side == "left"][1]
    # the right landing after this left contact is missing: do not pair with a later one
    assert math.isnan(left_second.step_s) and math.isnan(left_second.flight_s)
    assert left_second.contact_s == pytest.approx(0.12)


def test_stopping_leaves_step_open():
    events = _running(4)
    events.append(GaitEvent(30.0, "right", "IC"))  # the athlete walked off and came back much later
    steps = build_steps(events)
    last_left = [r for r in steps if r.side == "left"][-1]
    assert last_left.step_s == pytest.approx(0.22)
    assert math.isnan([r for r in steps if r.side == "right"][1].step_s)


def test_step_record_rows_round_trip():
    """``as_row`` for the writers, ``from_row`` for the readers: CSV text, SQLite NULL, extra keys."""
    assert STEP_COLUMNS == ("side", "ic_s", "to_s", "contact_s", "flight_s", "step_s", "step_hz", "swing_s",
                            "swing_peak_rad_s", "push_force_bw", "flight_source")
    step = Step("left", 1.0, to_s=1.12, contact_s=0.12, push_force_bw=3.1)
    assert math.isnan(step.flight_s) and step.flight_source == "measured"
    with pytest.raises(AttributeError):
        step.contact_s = 0.2  # frozen
    row = step.as_row()
    assert list(row) == list(STEP_COLUMNS) and row["contact_s"] == 0.12
    text = {key: ("" if isinstance(v, float) and math.isnan(v) else str(v)) for key, v in row.items()}
    back = Step.from_row({**text, "rep": "2", "phase": "top_speed"})  # extra keys ignored
    assert back.as_row().keys() == row.keys()
    assert all((math.isnan(b) and math.isnan(a)) if isinstance(a, float) and math.isnan(a) else a == b
               for a, b in zip(row.values(), back.as_row().values()))
    assert math.isnan(Step.from_row({"side": "right", "ic_s": 2.0, "contact_s": None}).contact_s)
