"""The dashboard's Qt-free half: ring buffers, the view-model fed by a live session, and the engine
(virtual-clock emulated session, real-clock thread with commands, replay)."""

from __future__ import annotations

import dataclasses
import heapq
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.analysis import strength_balance
from gaitmon.analysis.balance import rep_trend
from gaitmon.dashboard import DashboardModel, EmulatedSource, Engine, ReplaySource
from gaitmon.engine.model import Step, TraceBuffer, analyse, leg_balance
from gaitmon.sensors.diy import protocol as diy
from gaitmon.stream.live import LiveSession
from gaitmon.stream.orientation import SagittalProjector
from gaitmon.sim import SimConfig, simulate_session
from gaitmon.sensors import StreamSetup
from gaitmon.sources.replay import replay_session
from gaitmon.analysis.steps import STEP_COLUMNS
from gaitmon.analysis.steps import Step as AnalysisStep

RATE = 200.0
#: The emulated session behind the engine tests: two short reps, walking in between.
SHORT = EmulatedSource("gaitmon_diy", "swing_plateau", seed=0, rate_hz=RATE, realtime=False,
                       sim_options={"n_reps": 2, "recovery_s": 5.0})


def _same(a, b) -> bool:
    """Equal values, NaN equal to NaN (dicts, sequences or plain values)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def _last_rows(steps: list[AnalysisStep]) -> dict[str, dict]:
    """Per side, the last step whose contact, flight, push and swing peak are all known (else the last), as a row."""
    last = {}
    for side in {step.side for step in steps}:
        mine = [step for step in steps if step.side == side]
        complete = [s for s in mine if not any(np.isnan(v) for v in (s.contact_s, s.flight_s, s.push_force_bw,
                                                                      s.swing_peak_rad_s))]
        last[side] = (complete or mine)[-1].as_row()
    return last


def _rep_table(balance) -> list[dict]:
    """The model's rep row fields, from ``strength_balance`` rows."""
    table = []
    rows = balance.rep_rows()
    for left, right, both in zip(rows[0::3], rows[1::3], rows[2::3]):
        table.append({"rep": both["rep"], "start_s": both["start_s"], "end_s": both["end_s"],
                      "n_steps": both["n_steps"], "swing_left_rad_s": left["swing_peak_rad_s"],
                      "swing_right_rad_s": right["swing_peak_rad_s"], "push_left_bw": left["push_force_bw"],
                      "push_right_bw": right["push_force_bw"], "contact_s": both["contact_s"],
                      "flight_s": both["flight_s"], "step_hz": both["step_hz"],
                      "asymmetry_swing_pct": both["asymmetry_swing_pct"],
                      "asymmetry_push_pct": both["asymmetry_push_pct"]})
    return table


def _model_rep_table(snap) -> list[dict]:
    return [{k: v for k, v in dataclasses.asdict(row).items() if k not in ("flags", "alarm")} for row in snap.reps]


def _check_view_matches_live(snap, live: LiveSession) -> None:
    """Latest steps = last rows of the step table; rep rows = strength_balance at the analysis time."""
    steps = live.steps()
    assert _same({side: step.as_row() for side, step in snap.latest.items()}, _last_rows(steps))
    balance = strength_balance(steps, now_s=snap.analysed_s)
    assert _same(_model_rep_table(snap), _rep_table(balance))
    raised = {flag.rep for flag in balance.flags}
    assert {row.rep for row in snap.reps if row.flags} == raised & {row.rep for row in snap.reps}


# -- ring buffer ------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(sizes=st.lists(st.integers(1, 400), min_size=1, max_size=40), fast_from=st.integers(0, 3000))
def test_trace_buffer_holds_the_newest_span_in_order_for_any_chunking(sizes, fast_from):
    """Wrap-around and growth (the rate quadruples mid-stream): the newest 1 s, no gap, no repeat."""
    n = sum(sizes)
    dt = np.where(np.arange(n) < fast_from, 1 / 100, 1 / 400)
    t = np.cumsum(dt)
    omega, acc = np.sin(t), np.cos(t)
    buffer = TraceBuffer(1.0, rate_hz=100.0)
    start = 0
    for size in sizes:
        buffer.append(t[start:start + size], omega[start:start + size], acc[start:start + size])
        start += size
    kept_t, kept_omega, kept_acc = buffer.window(-math.inf)
    tail = t >= t[-1] - 1.0
    assert len(kept_t) >= tail.sum()
    first = n - len(kept_t)
    np.testing.assert_array_equal(kept_t, t[first:])  # one contiguous run: in order, nothing lost or doubled
    np.testing.assert_array_equal(kept_omega, omega[first:])
    np.testing.assert_array_equal(kept_acc, acc[first:])
    window = buffer.window(t[-1] - 0.5)
    np.testing.assert_array_equal(window[0], t[t >= t[-1] - 0.5])


@pytest.fixture(scope="module")
def one_leg():
    """14 s of the left shank at 200 Hz from the start of a rep (sensor frame)."""
    session = simulate_session("swing_plateau", seed=2, config=SimConfig.realistic(RATE, n_reps=1, recovery_s=2.0))
    t, x = session.samples["left"]
    keep = t < 14.0
    return t[keep], x[keep]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_model_traces_do_not_depend_on_how_the_stream_is_cut(one_leg, data):
    """Any split of what the core was fed into listener calls: the same window, equal to the
    projection over the last 3 s."""
    t, x = one_leg
    ref_t, ref_omega, ref_acc = SagittalProjector().feed(t, x)
    assert len(ref_t) > 0  # the axis was found
    cuts = sorted(data.draw(st.sets(st.integers(1, len(ref_t) - 1), max_size=60)))
    bounds = [0, *cuts, len(ref_t)]
    model = DashboardModel("Ana", window_s=3.0, rate_hz=50.0)  # undersized: the buffer must grow
    model.attach(LiveSession("Ana"))
    for a, b in zip(bounds[:-1], bounds[1:]):
        model.on_projected("left", ref_t[a:b], ref_omega[a:b], ref_acc[a:b])
    trace = model.snapshot().legs["left"]
    inside = ref_t >= ref_t[-1] - 3.0
    np.testing.assert_array_equal(trace.t, ref_t[inside])
    np.testing.assert_array_equal(trace.omega, ref_omega[inside])
    np.testing.assert_array_equal(trace.acc, ref_acc[inside])
    assert not trace.t.flags.writeable


# -- the model fed by a live session (8 reps, direct notifications) ---------------------------------


def _notifications(samples: dict, rate: float, per_packet: int = 10, latency_s: float = 0.004):
    """(host time, side, payload) of gaitmon DIY data notifications of both legs, in arrival order."""
    streams = []
    for side, (t, x) in samples.items():
        streams.append([(float(t[min(i + per_packet, len(t)) - 1]) + latency_s, side,
                         diy.encode_data(i, round(i * 1e6 / rate), x[i:i + per_packet, :3], x[i:i + per_packet, 3:]))
                        for i in range(0, len(t), per_packet)])
    return heapq.merge(*streams)


@pytest.fixture(scope="module")
def eight_reps():
    """A swing-plateau session (8 reps) fed notification by notification into a live session and
    its model, with the engine's housekeeping every 0.25 s; views checked along the way."""
    session = simulate_session("swing_plateau", seed=0,
                               config=SimConfig.realistic(RATE, n_reps=8, recovery_s=6.0, drop_rate=0.0))
    live = LiveSession("Ana")
    model = DashboardModel("Ana", rate_hz=RATE, analysis_interval_s=3.0)
    model.attach(live)
    setup = StreamSetup("gaitmon_diy", RATE, {"imu": diy.DATA_UUID})
    for side in session.samples:
        live.on_configured(side, setup, 0.0)
    next_tick, next_check, checked = 0.25, 20.0, 0
    for host_t, side, payload in _notifications(session.samples, RATE):
        live.on_data(side, "imu", host_t, payload)
        if host_t >= next_tick:
            model.update(host_t)
            next_tick += 0.25
        if host_t >= next_check:
            model.analyse_now(host_t)  # reuses the throttled analysis' reps and flags where they still hold
            _check_view_matches_live(model.snapshot(), live)
            next_check += 20.0
            checked += 1
    live.finish()
    model.analyse_now(host_t)
    assert checked >= 5
    return session, live, model.snapshot()


def test_latest_steps_and_rep_rows_are_those_of_the_live_session(eight_reps):
    _, live, snap = eight_reps
    assert Step is AnalysisStep  # the model shows the analysis' own records
    assert tuple(f.name for f in dataclasses.fields(Step)) == STEP_COLUMNS
    _check_view_matches_live(snap, live)
    assert len(snap.reps) == 8 and snap.current_rep == 8 and snap.current_rep_over


def test_a_swing_plateau_shows_as_a_banner_with_its_evidence(eight_reps):
    _, live, snap = eight_reps
    balance = strength_balance(live.steps(), now_s=snap.analysed_s)
    alarm = [f for f in balance.flags if f.alarm][-1]
    assert alarm.kind == "swing_plateau"
    banner = snap.banner
    assert banner.alarm and banner.kind == "swing_plateau" and banner.message == alarm.message
    assert banner.evidence.startswith(alarm.covers) and "push − swing" in banner.evidence and "CI" in banner.evidence
    assert any("swing plateau" in label for label in next(r for r in snap.reps if r.rep == alarm.rep).flags)
    assert next(r for r in snap.reps if r.rep == alarm.rep).alarm


def test_strength_balance_series_per_leg(eight_reps):
    _, live, snap = eight_reps
    balance = strength_balance(live.steps(), now_s=snap.analysed_s)
    for side in ("left", "right"):
        leg = snap.balance[side]
        np.testing.assert_array_equal(leg.reps_swing.x, np.arange(1, 9))
        assert leg.reps_swing.y[0] == 0.0 and leg.reps_push.y[0] == 0.0  # % of the leg's first rep
        # the line is the leg's latest rep-scale assessment, as the flag makes it (gaitmon.analysis.balance)
        for series, key in ((leg.reps_swing, "swing_peak_rad_s"), (leg.reps_push, "push_force_bw")):
            trend, line = rep_trend(balance.reps, side, key), series.trend
            assert line.source == "meta_regression" and (line.slope, line.low, line.high) == (trend.slope, trend.low,
                                                                                              trend.high)
            assert line.low <= line.slope <= line.high and line.low0 != line.high0 and (line.x0, line.x1) == (3, 8)
        # where a flag of this leg was raised on the last rep, the line is that flag's own trend
        for flag in (f for f in balance.flags if f.scale == "reps" and f.side == side and f.rep == 8):
            assert (leg.reps_swing.trend.slope, leg.reps_push.trend.slope) == (flag.swing.slope, flag.push.slope)
        # the current (last) rep's steps of this leg, with a Theil–Sen line
        rows = [r for r in balance.reps[-1].steps if r.side == side]
        assert len(leg.steps_swing.x) == len(rows) and leg.steps_swing.trend.source == "theil_sen"


def test_while_the_first_rep_runs_its_top_speed_steps_so_far_are_the_baseline():
    swing = [12.0, 14.0, 16.0, 18.0, 19.0, 20.0, 20.0, 20.5, 20.0, 20.5, 20.0, 20.5]
    run = [Step("left" if i % 2 == 0 else "right", 0.22 * i, flight_s=0.1, swing_peak_rad_s=w, push_force_bw=3.0)
           for i, w in enumerate(swing)]
    leg = leg_balance("left", [], run)
    assert len(leg.reps_swing.x) == 0 and leg.reps_swing.trend is None
    np.testing.assert_array_equal(leg.steps_swing.x, np.arange(1, 7))
    # left steps 12, 16, 19, 20, 20, 20 rad/s; its top-speed steps (within 95 % of the peak) read 20
    np.testing.assert_allclose(leg.steps_swing.y, [-40.0, -20.0, -5.0, 0.0, 0.0, 0.0])
    assert leg.steps_swing.trend.source == "theil_sen"


def test_markers_are_the_events_inside_the_window(eight_reps):
    _, live, snap = eight_reps
    assert snap.t_end - snap.t_start == pytest.approx(10.0)
    for side, trace in snap.legs.items():
        assert len(trace.t) > 0.99 * 10.0 * RATE and np.all(np.diff(trace.t) > 0)
        assert trace.t[0] >= snap.t_start and trace.t[-1] <= snap.t_end
        for kind, marks in trace.markers.items():
            expected = [e for e in live.events if e.side == side and e.kind == kind and e.t >= snap.t_start]
            np.testing.assert_array_equal(marks.t, [e.t for e in expected])
            np.testing.assert_array_equal(marks.value, [e.value for e in expected])
        assert sum(len(m.t) for m in trace.markers.values()) > 0


def test_health_rows(eight_reps):
    session, _, snap = eight_reps
    assert [h.role for h in snap.health] == ["left", "right"]
    for h in snap.health:
        assert h.family == "gaitmon_diy" and h.rate_hz == RATE
        assert h.samples == len(session.samples[h.role][0]) and h.lost_packets == 0 and h.malformed == 0
        assert h.effective_rate_hz == pytest.approx(RATE, rel=0.01)


# -- the engine -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_engine(tmp_path_factory):
    """SHORT emulated through bleak on a virtual clock, recorded; the model's analysis runs heard."""
    runs = []
    engine = Engine({"Ana": SHORT}, sessions_dir=tmp_path_factory.mktemp("sessions"),
                    on_analysis=lambda athlete, run: runs.append((athlete, run)))
    engine.run_to_end()
    engine.heard_runs = runs
    return engine


def test_each_analysis_run_is_heard_with_what_it_rested_on(short_engine):
    runs = short_engine.heard_runs
    live, snap = short_engine.live("Ana"), short_engine.snapshot("Ana")
    assert len(runs) > 5 and {athlete for athlete, _ in runs} == {"Ana"}
    times = [run.now_s for _, run in runs]
    assert times == sorted(times)  # on a virtual clock the model runs them in place, in order
    assert all(run.seconds > 0 and 0 <= run.events <= len(live.events) for _, run in runs)
    last = runs[-1][1]
    assert last.events == len(live.events) and last.steps == len(live.steps())
    assert last.analysis.reps == snap.reps and last.now_s == snap.analysed_s
    spec = analyse(live.events[:last.events], live.legs, last.now_s)
    assert spec.reps == last.analysis.reps


def test_engine_on_a_virtual_clock_feeds_the_model_and_records(short_engine):
    snap = short_engine.snapshot("Ana")
    live = short_engine.live("Ana")
    assert snap.athlete == "Ana" and snap.recording.state == "stopped"
    _check_view_matches_live(snap, live)
    assert len(snap.reps) == 2
    assert [(h.role, h.state) for h in snap.health] == [("left", "stopped"), ("right", "stopped")]
    assert snap.session_s >= max(h.samples for h in snap.health) / RATE
    replayed = replay_session(snap.recording.folder)
    assert replayed.scan.closed and not replayed.problems
    assert sorted(replayed.live.events) == sorted(live.events)  # a batched replay confirms each leg's in turn
    for h in snap.health:
        assert len(replayed.store.samples()[h.role][0]) == h.samples
    for side, trace in snap.legs.items():  # the window holds the last 10 s of what was received
        t, omega, _ = SagittalProjector().feed(*replayed.store.samples()[side])
        inside = t >= snap.t_start
        np.testing.assert_array_equal(trace.t, t[inside])
        np.testing.assert_array_equal(trace.omega, omega[inside])


def test_a_restarted_recording_shows_only_the_new_sessions_samples(tmp_path):
    """R (stop) and R (start) while running: every later view holds its session's samples alone, in
    time order on its clock (the ended session's last samples drew a line back to their time)."""
    engine: Engine
    views, commands = [], []

    def tick(session_s: float) -> None:
        snap = engine.snapshot("Ana")
        if commands:
            views.append(snap)
        if not commands and snap.recording.state == "recording" and snap.session_s > 8.0 and snap.legs:
            engine.stop_recording("Ana")
            commands.append("stop")
        elif commands == ["stop"] and snap.recording.state == "stopped" and snap.session_s > 3.0 and snap.legs:
            engine.start_recording("Ana")
            commands.append("start")

    engine = Engine({"Ana": SHORT}, sessions_dir=tmp_path, history_db=False, on_tick=tick)
    engine.run_to_end()
    assert commands == ["stop", "start"]
    assert sum(bool(view.legs) for view in views if view.recording.state == "recording") > 10
    for view in views:
        for side, leg in view.legs.items():
            assert np.all(np.diff(leg.t) > 0) and (not len(leg.t) or leg.t[-1] <= view.session_s + 0.1), \
                (view.recording.state, view.session_s, side, leg.t[:5])


def test_between_reps_the_big_numbers_hold_the_last_reps_top_speed_values(tmp_path):
    """While a rep is run the big numbers are each leg's latest step; once the rep segmentation has
    closed it and the athlete walks back, they are that rep's top-speed medians, not its last steps."""
    taken = []
    engine = Engine({"Ana": SHORT}, sessions_dir=tmp_path, record=False,
                    on_tick=lambda session_s: taken.append(engine.snapshot("Ana")))
    engine.run_to_end()
    reps = strength_balance(engine.live("Ana").steps()).reps
    between = [snap for snap in taken if snap.current_rep_over]
    running = [snap for snap in taken if not snap.current_rep_over]
    assert {snap.numbers.rep for snap in between} == {1, 2} and len(running) > len(between) / 10
    for snap in between:
        rep = reps[snap.numbers.rep - 1]
        assert snap.numbers.rep == snap.reps[-1].rep == snap.current_rep
        assert _same({side: dict(values) for side, values in snap.numbers.values.items()},
                     {side: {key: rep.summary(side)[key] for key in values} for side, values in
                      snap.numbers.values.items()})
        assert set(snap.numbers.values) == {"left", "right"}
        assert all(values["flight_s"] > 0.0 for values in snap.numbers.values.values())  # sprint steps fly
    # what was shown there before: the latest complete steps, the rep's last, slowing-down ones
    for snap in between:
        assert all(step.swing_peak_rad_s < 0.8 * snap.numbers.values[side]["swing_peak_rad_s"]
                   for side, step in snap.latest.items())
    for snap in running:
        assert snap.numbers.rep is None
        assert _same({side: dict(values) for side, values in snap.numbers.values.items()},
                     {side: {key: getattr(step, key) for key in snap.numbers.values[side]}
                      for side, step in snap.latest.items()})


def test_replay_source_shows_what_was_recorded(short_engine):
    recorded = short_engine.snapshot("Ana")
    engine = Engine({"Ana": ReplaySource(recorded.recording.folder, speed=None)})
    engine.run_to_end()
    snap = engine.snapshot("Ana")
    assert snap.recording.state == "replay"
    assert _same({side: dataclasses.asdict(step) for side, step in snap.latest.items()},
                 {side: dataclasses.asdict(step) for side, step in recorded.latest.items()})
    assert len(snap.reps) == 2 and _same(_model_rep_table(snap), _model_rep_table(recorded))
    for side in recorded.legs:
        np.testing.assert_array_equal(snap.legs[side].t, recorded.legs[side].t)
        np.testing.assert_array_equal(snap.legs[side].omega, recorded.legs[side].omega)
    # a paced replay stops when asked
    paced = Engine({"Ana": ReplaySource(recorded.recording.folder, speed=1.0)})
    paced.start()
    time.sleep(0.3)
    paced.stop(timeout_s=5.0)
    assert not paced.running and paced.failure is None
    assert 0.0 < paced.snapshot("Ana").session_s < 5.0


def _wait_for(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _realtime_engine(tmp_path) -> Engine:
    source = dataclasses.replace(SHORT, realtime=True)
    return Engine({"Ana": source}, sessions_dir=tmp_path)


def test_engine_thread_runs_on_the_real_clock_and_records_what_it_receives(tmp_path):
    engine = _realtime_engine(tmp_path)
    engine.start()
    assert engine.running
    session_times = []
    started = time.monotonic()
    while time.monotonic() - started < 1.5:  # the GUI thread's timer
        snap = engine.snapshot("Ana")
        session_times.append(snap.session_s)
        assert snap.recording.state == "recording"
        time.sleep(0.03)
    engine.mark_rep("Ana")
    _wait_for(lambda: engine.snapshot("Ana").marks)
    engine.stop()
    assert engine.failure is None and not engine.running and engine.wait(0)
    assert session_times == sorted(session_times) and session_times[-1] > 1.0
    snap = engine.snapshot("Ana")
    assert snap.recording.state == "stopped"
    replayed = replay_session(snap.recording.folder)
    assert replayed.scan.closed and not replayed.problems
    received = {h.role: h.samples for h in snap.health}
    assert min(received.values()) > RATE / 2
    assert {role: len(t) for role, (t, _) in replayed.store.samples().items()} == received
    assert sorted(replayed.live.events) == sorted(engine.live("Ana").events)  # batched: each leg's in turn
    assert [content for _, content in replayed.marks] == [{"kind": "rep"}]
    assert replayed.marks[0][0] == pytest.approx(snap.marks[0])


def test_recording_starts_and_stops_by_command(tmp_path):
    engine = _realtime_engine(tmp_path)
    engine.start()
    try:
        first = engine.snapshot("Ana").recording
        assert first.state == "recording"
        _wait_for(lambda: any(h.samples for h in engine.snapshot("Ana").health))
        engine.stop_recording("Ana")
        _wait_for(lambda: engine.snapshot("Ana").recording.state == "stopped")
        engine.start_recording("Ana")
        _wait_for(lambda: engine.snapshot("Ana").recording.state == "recording")
        second = engine.snapshot("Ana").recording
        assert second.folder != first.folder
        _wait_for(lambda: all(h.samples > RATE / 4 for h in engine.snapshot("Ana").health))
    finally:
        engine.stop()
    assert engine.failure is None
    snap = engine.snapshot("Ana")
    assert snap.recording == dataclasses.replace(second, state="stopped")
    for folder in (first.folder, second.folder):
        assert replay_session(folder).scan.closed
    # the new recording starts mid-stream with the sensors' setups: it replays on its own
    replayed = replay_session(second.folder)
    assert {role: len(t) for role, (t, _) in replayed.store.samples().items()} == \
        {h.role: h.samples for h in snap.health}
    assert replayed.meta.sensors["left"].family == "gaitmon_diy"


def test_engine_refuses_mixed_clocks_and_commands_when_not_running(tmp_path):
    with pytest.raises(ValueError, match="virtual-clock"):
        Engine({"Ana": SHORT, "Ben": dataclasses.replace(SHORT, realtime=True)})
    engine = Engine({"Ana": SHORT}, sessions_dir=tmp_path)
    with pytest.raises(RuntimeError, match="not running"):
        engine.mark_rep("Ana")
    with pytest.raises(KeyError):
        engine.snapshot("Nobody")
