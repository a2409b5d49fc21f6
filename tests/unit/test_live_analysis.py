"""Live analysis from what changed (StepTable, LiveReps, FlagHistory, LiveStrengthBalance, LiveAnalysis)
equals the batch functions that specify it — build_steps, segment_reps, strength_balance, analyse — at
every analysis time, however the events come in (chunks, shuffled, one leg late)."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.analysis import LiveStrengthBalance, strength_balance
from gaitmon.analysis.calibration import Calibration, CalibrationEntry
from gaitmon.analysis.reps import LiveReps, running_bouts, segment_reps
from gaitmon.analysis.steps import Step, StepTable, build_steps, same_step
from gaitmon.engine.model import LiveAnalysis, analyse, current_run
from gaitmon.events import GaitEvent
from tests.conftest import simulated

SIDES = ["left", "right"]
CALIBRATION = Calibration("Ana", "2025-03-01T10:00:00.000000+00:00", "OptoJump run1.csv", (
    CalibrationEntry("contact", "all", 0.008, 0.012, 120),
    CalibrationEntry("flight", "all", -0.005, 0.011, 118),
    CalibrationEntry("contact", "top_speed", 0.004, 0.010, 40),
    CalibrationEntry("flight", "acceleration", 0.006, 0.010, 40),
))


def _plain(value):
    """Comparable plain data: dataclasses, mappings, arrays and sequences unfolded; NaN → None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, _plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)
                                              if not f.name.startswith("_")}))
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if hasattr(value, "items"):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _view(analysis) -> dict:
    """Everything an :class:`Analysis` shows, and the reps and flags behind it, as plain data."""
    return _plain({"latest": analysis.latest, "numbers": analysis.numbers, "reps": analysis.reps,
                   "balance": analysis.balance, "current": (analysis.current_rep, analysis.current_rep_over),
                   "banner": analysis.banner,
                   "rep_rows": analysis.strength.rep_rows(), "flag_rows": analysis.strength.flag_rows()})


def _session_events(slow_first_rep: bool) -> list[GaitEvent]:
    """Truth events of a simulated 8-rep swing-plateau session; with ``slow_first_rep`` its first rep's
    swing peaks are halved, so it counts as a rep until the second shows it was a jog (reps renumbered)."""
    events = simulated("swing_plateau", 0, 100.0, True, 8, 6.0).events
    if slow_first_rep:
        events = [dataclasses.replace(e, value=0.5 * e.value) if e.kind == "MSW" and e.t < 20.0 else e
                  for e in events]
    return events


def _arrivals(events: list[GaitEvent], rng: random.Random, max_chunk: int, lag_s: float) -> list[list[GaitEvent]]:
    """The events in chunks as a live session hands them over: in time order per leg, the right leg's
    up to ``lag_s`` late (its blocks come after the left's), each chunk in any order."""
    arrival = sorted(events, key=lambda e: (e.t + (lag_s if e.side == "right" else 0.0), e.side))
    chunks, i = [], 0
    while i < len(arrival):
        j = min(len(arrival), i + rng.randint(1, max_chunk))
        chunk = arrival[i:j]
        rng.shuffle(chunk)
        chunks.append(chunk)
        i = j
    return chunks


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), max_chunk=st.integers(1, 40), lag_s=st.sampled_from([0.0, 0.3, 2.0]),
       slow_first_rep=st.booleans(), calibrated=st.booleans(), one_leg=st.booleans())
def test_live_analysis_equals_the_batch_analysis_at_every_analysis_time(seed, max_chunk, lag_s, slow_first_rep,
                                                                        calibrated, one_leg):
    events = _session_events(slow_first_rep)
    sides = ["left"] if one_leg else SIDES
    events = [e for e in events if e.side in sides]
    rng = random.Random(seed)
    calibration = CALIBRATION if calibrated else None
    live = LiveAnalysis(sides, calibration)
    fed: list[GaitEvent] = []
    checks = 0
    for chunk in _arrivals(events, rng, max_chunk, lag_s):
        live.add(chunk)
        fed += chunk
        if rng.random() < 0.25:  # analyses every 0.5 s or so: not after every chunk
            now_s = max(e.t for e in fed) + rng.uniform(0.0, 4.0)
            assert _view(live.at(now_s)) == _view(analyse(fed, sides, now_s, calibration))
            checks += 1
    now_s = max(e.t for e in fed) + 5.0
    final = live.at(now_s)
    assert _view(final) == _view(analyse(fed, sides, now_s, calibration))
    assert checks > 3 and len(final.reps) == (7 if slow_first_rep else 8)
    assert one_leg or {flag.scale for flag in final.strength.flags} == {"steps", "reps"}


def test_the_step_table_is_build_steps_after_every_chunk():
    events = _session_events(False)
    rng = random.Random(7)
    table, fed = StepTable(SIDES), []
    for chunk in _arrivals(events, rng, 12, 2.0):
        first = table.add(chunk)
        fed += chunk
        expected = build_steps(fed, sides=SIDES)
        assert len(table.steps) == len(expected) and all(map(same_step, table.steps, expected))
        assert first <= len(expected)
    assert table.add([]) == len(table.steps)


def _steps_strategy():
    """Step tables with running (flight > 0), unknown (NaN) and walking (flight ≤ 0) steps, pauses
    between bouts, and random swing and push outputs (reps come and go as faster bouts arrive)."""
    step = st.tuples(st.floats(0.15, 1.6), st.sampled_from([0.1, 0.1, 0.1, 0.1, math.nan, -0.05]),
                     st.floats(8.0, 24.0), st.floats(2.0, 4.0))
    return st.lists(step, min_size=0, max_size=160)


def _table(rows) -> list[Step]:
    steps, t = [], 0.0
    for i, (dt, flight, swing, push) in enumerate(rows):
        t += dt
        steps.append(Step(SIDES[i % 2], t, flight_s=flight, contact_s=0.1, swing_peak_rad_s=swing,
                          push_force_bw=push if flight > 0 else math.nan))
    return steps


@settings(max_examples=60, deadline=None)
@given(rows=_steps_strategy(), data=st.data())
def test_live_reps_follow_a_step_table_whose_tail_changes(rows, data):
    """The table grows and its last steps are rewritten (as the step table's are near new events):
    reps, the bout under way and the walking check equal the batch functions after every update."""
    final = _table(rows)
    reps, balance = LiveReps(), LiveStrengthBalance()
    shown = kept = 0  # the last table: final[:kept] then steps still to be rewritten
    while shown < len(final):
        shown = min(len(final), shown + data.draw(st.integers(1, 12)))
        rewrite = data.draw(st.integers(0, min(shown, 6)))  # the newest steps are provisional: changed values
        table = final[:shown - rewrite] + [dataclasses.replace(s, swing_peak_rad_s=s.swing_peak_rad_s * 0.9)
                                           for s in final[shown - rewrite:shown]]
        first = min(kept, shown - rewrite) - data.draw(st.integers(0, 3))  # any index up to the first change
        kept = shown - rewrite
        for target in (reps, balance):
            target.update(table, max(0, first))
        expected = segment_reps(table)
        assert _plain([r.table_rows() for r in reps.reps()]) == _plain([r.table_rows() for r in expected])
        for t in [-math.inf] + [s.ic_s for s in table[-4:]]:
            assert reps.walked_after(t) == any(s.ic_s > t and s.flight_s <= 0.0 for s in table)
            after = running_bouts([s for s in table if s.ic_s > t])
            assert _plain(reps.last_bout_after(t)) == _plain(after[-1] if after else [])
        number, over, run = current_run(table, expected)
        assert number is None or run
        now_s = table[-1].ic_s + data.draw(st.sampled_from([0.5, 3.0]))
        got, want = balance.at(now_s), strength_balance(table, now_s=now_s)
        assert _plain(got.rep_rows()) == _plain(want.rep_rows())
        assert _plain(got.flag_rows()) == _plain(want.flag_rows())


def test_a_closed_rep_is_segmented_once_and_kept():
    """A rep that is over keeps its object (its summaries and table row are made once)."""
    events = _session_events(False)
    live = LiveAnalysis(SIDES)
    live.add([e for e in events if e.t < 40.0])
    first = live.at(40.0).strength.reps[0]
    live.add([e for e in events if e.t >= 40.0])
    assert live.at(events[-1].t + 5.0).strength.reps[0] is first


@pytest.mark.parametrize("sides", [SIDES, ["left"]])
def test_an_empty_session_shows_nothing(sides):
    analysis = LiveAnalysis(sides).at(3.0)
    assert _view(analysis) == _view(analyse([], sides, 3.0))
    assert analysis.current_rep is None and not analysis.reps
