"""The Lab Streaming Layer outlets (gaitmon[lsl]): a live session's ω, |a| and gait events, received by
real liblsl inlets on this machine over a loopback confined to 127.0.0.1.

The ``pylsl`` fixture (tests/conftest.py) writes the tests' own ``lsl_api.cfg`` (no IPv6, discovery on
this machine only, 127.0.0.1 the one known peer, a session id of their own so no other LSL stream on
the machine is seen) before liblsl reads its configuration. Every resolve and pull has a timeout.
"""

from __future__ import annotations

import heapq
import os
import sys
import time

import numpy as np
import pytest

from gaitmon.analysis import strength_balance
from gaitmon.sensors import StreamSetup
from gaitmon.sensors.diy import protocol as diy
from gaitmon.sim import SimConfig, simulate_session
from gaitmon.stream.live import LiveSession

RATE = 200.0
TIMEOUT_S = 5.0
ATHLETE = f"Ana{os.getpid()}"
#: Session time (s) of the coach's rep mark the test pushes.
REP_MARK_S = 7.25


def _notifications(samples: dict, per_packet: int = 10, latency_s: float = 0.004):
    """(host time, side, payload) of gaitmon DIY data notifications of both legs, in arrival order."""
    streams = []
    for side, (t, x) in samples.items():
        streams.append([(float(t[min(i + per_packet, len(t)) - 1]) + latency_s, side,
                         diy.encode_data(i, round(i * 1e6 / RATE), x[i:i + per_packet, :3],
                                                  x[i:i + per_packet, 3:]))
                        for i in range(0, len(t), per_packet)])
    return heapq.merge(*streams)


def _inlet(pylsl, name: str):
    found = pylsl.resolve_byprop("name", name, minimum=1, timeout=TIMEOUT_S)
    assert found, f"no LSL stream named {name!r} within {TIMEOUT_S} s"
    inlet = pylsl.StreamInlet(found[0], max_buflen=360)
    inlet.open_stream(timeout=TIMEOUT_S)
    return inlet


def _pull(inlet, count: int) -> tuple[list, np.ndarray]:
    """``count`` samples and their time stamps from ``inlet``, or what came within the timeout."""
    values, stamps = [], []
    deadline = time.monotonic() + TIMEOUT_S
    while len(stamps) < count and time.monotonic() < deadline:
        chunk, chunk_stamps = inlet.pull_chunk(timeout=0.2, max_samples=count - len(stamps))
        values += chunk
        stamps += chunk_stamps
    return values, np.asarray(stamps)


@pytest.fixture(scope="module")
def loopback(pylsl):
    """A one-rep simulated session streamed through a LiveSession with an LslPublisher attached;
    what the pipeline fed its cores and detected, and what three inlets received."""
    from gaitmon.engine.lsl import LslPublisher, stream_name

    session = simulate_session("balanced", seed=3, config=SimConfig.realistic(RATE, n_reps=1, recovery_s=2.0,
                                                                              drop_rate=0.0))
    live = LiveSession(ATHLETE)
    fed: dict[str, list] = {"left": [], "right": []}
    live.projection_listener = lambda role, t, omega, acc: fed[role].append((t.copy(), omega.copy(), acc.copy()))
    publisher = LslPublisher(ATHLETE, "shank")
    origin = pylsl.local_clock()
    publisher.attach(live, origin)
    setup = StreamSetup("gaitmon_diy", RATE, {"imu": diy.DATA_UUID})
    for side in ("left", "right"):
        live.on_configured(side, setup, 0.0)
        publisher.configure(side, RATE, setup.family)  # open now, so the inlets connect before the samples
    inlets = {what: _inlet(pylsl, stream_name(ATHLETE, what)) for what in ("left", "right", "events")}
    for host_t, side, payload in _notifications(session.samples):
        live.on_data(side, "imu", host_t, payload)
    live.finish()
    publisher.end_session()
    publisher.mark("rep", REP_MARK_S)
    reference = {side: tuple(np.concatenate(parts) for parts in zip(*blocks)) for side, blocks in fed.items()}
    received = {side: _pull(inlets[side], len(reference[side][0])) for side in ("left", "right")}
    steps = live.steps()
    received["events"] = _pull(inlets["events"], len(live.events) + len(steps) + 1)
    infos = {what: inlet.info(timeout=TIMEOUT_S) for what, inlet in inlets.items()}
    yield origin, reference, sorted(live.events), steps, received, infos
    for inlet in inlets.values():
        inlet.close_stream()
    publisher.close()


@pytest.mark.parametrize("side", ["left", "right"])
def test_each_leg_streams_the_projected_omega_and_acc_magnitude_on_the_host_clock(loopback, side):
    origin, reference, _, _, received, _ = loopback
    t, omega, acc = reference[side]
    values, stamps = received[side]
    assert len(t) > 1000 and len(stamps) == len(t)
    values = np.asarray(values)
    np.testing.assert_array_equal(values[:, 0], omega.astype(np.float32))
    np.testing.assert_array_equal(values[:, 1], acc.astype(np.float32))
    assert np.max(np.abs(stamps - (origin + t))) < 1e-6  # the pipeline's own stamps, not re-stamped


def test_the_marker_stream_holds_every_event_at_its_time(loopback):
    origin, _, events, _, received, _ = loopback
    markers, stamps = received["events"]
    assert markers[-1] == ["rep"] and abs(stamps[-1] - (origin + REP_MARK_S)) < 1e-6  # the coach's mark
    gait = [i for i, m in enumerate(markers) if not m[0].startswith(("step ", "rep"))]
    markers, stamps = [markers[i] for i in gait], stamps[gait]
    assert len(events) > 20 and len(stamps) == len(events)
    order = np.argsort(stamps, kind="stable")  # pushed as each leg confirms them: in time order per leg
    assert [markers[i][0] for i in order] == [f"{e.kind} {e.side}" for e in events]
    assert np.max(np.abs(stamps[order] - (origin + np.array([e.t for e in events])))) < 1e-6


def test_stream_descriptions_say_units_leg_placement_and_sensor(loopback):
    _, _, _, _, _, infos = loopback
    leg = infos["left"]
    assert (leg.type(), leg.channel_count(), leg.nominal_srate()) == ("Gait", 2, RATE)
    desc = leg.desc()
    assert desc.child_value("athlete") == ATHLETE and desc.child_value("leg") == "left"
    assert desc.child_value("placement") == "shank" and desc.child_value("sensor_family") == "gaitmon_diy"
    channel = desc.child("channels").child("channel")
    units = []
    while not channel.empty():
        units.append((channel.child_value("label"), channel.child_value("unit")))
        channel = channel.next_sibling()
    assert units == [("omega", "rad/s"), ("acc_magnitude", "m/s^2")]
    markers = infos["events"]
    assert (markers.type(), markers.nominal_srate(), markers.channel_format()) == ("Markers", 0.0, 3)  # cf_string


def test_without_the_extra_lsl_is_refused_in_one_line(monkeypatch):
    from gaitmon.engine.lsl import LslPublisher
    from gaitmon.errors import InputError

    monkeypatch.setitem(sys.modules, "pylsl", None)  # import pylsl raises ImportError
    with pytest.raises(InputError) as error:
        LslPublisher("Ana", "shank")
    assert "\n" not in str(error.value) and "gaitmon[lsl]" in str(error.value)


def test_lsl_on_a_virtual_clock_is_refused(pylsl):
    from gaitmon.engine.runtime import EmulatedSource, Engine
    from gaitmon.errors import InputError

    source = EmulatedSource("gaitmon_diy", "balanced", seed=0, rate_hz=RATE, realtime=False, duration_s=1.0)
    with pytest.raises(InputError, match="real time"):
        Engine({"Ana": source}, record=False, history_db=False, dashboard=False, lsl=True)


def test_the_engine_opens_each_legs_stream_when_its_sensor_streams(pylsl, tmp_path):
    """``gaitmon live --lsl``'s engine, on emulated sensors in real time: both legs' streams and the
    marker stream appear, with the sensor's rate and family, while the sensors stream."""
    from gaitmon.engine.lsl import stream_name
    from gaitmon.engine.runtime import EmulatedSource, Engine

    athlete = f"Bo{os.getpid()}"
    source = EmulatedSource("gaitmon_diy", "balanced", seed=0, realtime=True, duration_s=3.0)
    engine = Engine({athlete: source}, sessions_dir=tmp_path, record=False, history_db=False, dashboard=False,
                    lsl=True)
    engine.start()
    try:
        infos = {}
        for what in ("left", "right", "events"):
            found = pylsl.resolve_byprop("name", stream_name(athlete, what), minimum=1, timeout=TIMEOUT_S)
            assert found, f"no stream {stream_name(athlete, what)!r} within {TIMEOUT_S} s"
            infos[what] = found[0]
        described = pylsl.StreamInlet(infos["right"]).info(timeout=TIMEOUT_S)  # with its <desc>
    finally:
        engine.stop()
    assert infos["left"].nominal_srate() == infos["right"].nominal_srate() == 1000.0  # the DIY board's rate
    assert described.desc().child_value("sensor_family") == "gaitmon_diy"
    assert infos["events"].type() == "Markers"


def test_the_headless_demo_refuses_lsl_in_one_line(tmp_path, capsys):
    from gaitmon.cli import main

    assert main(["demo", "--headless", "--lsl", "--out", str(tmp_path / "demo")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == ["gaitmon: error: gaitmon demo: --lsl: the Lab Streaming Layer streams need the real-time demo "
                     "(a display, no --headless)"]
    assert not (tmp_path / "demo").exists() and not capsys.readouterr().out


def test_each_step_is_published_once_final_as_the_session_builds_it(loopback):
    """The step markers, pushed while the session ran (all but the last few) and at its end, are the
    session's steps, each once, unrevised: a step pushed too early would differ."""
    from gaitmon.engine.lsl import step_marker

    origin, _, events, steps, received, _ = loopback
    markers, stamps = received["events"]
    published = [(m[0], t) for m, t in zip(markers, stamps) if m[0].startswith("step ")]
    assert len(steps) > 10
    assert [m for m, _ in published] == [step_marker(step) for step in steps]
    assert np.max(np.abs(np.array([t for _, t in published]) - (origin + np.array([s.ic_s for s in steps])))) < 1e-6
    kinds = [m[0].split()[0] for m in markers]  # in the order they were pushed
    last_event = max(i for i, kind in enumerate(kinds) if kind in ("TO", "MSW", "IC"))
    pushed_live = sum(kind == "step" for kind in kinds[:last_event])
    # While streaming, not at the end: every step further back than the step table's reach (3.25 s)
    # and a block of samples from the session's last event.
    settled = sum(step.ic_s < events[-1].t - 4.0 for step in steps)
    assert settled > 10 and pushed_live >= settled


# -- strength-balance flags on the marker stream --------------------------------------------------


@pytest.fixture(scope="module")
def flagged(pylsl):
    """A swing-plateau session (8 reps) fed notification by notification into a live session, its
    dashboard model (analyses in place, housekeeping every 0.25 s) and a publisher hearing the model's
    flags: the flags the model raised, when, and the marker stream an inlet received."""
    from gaitmon.engine.lsl import LslPublisher, stream_name
    from gaitmon.engine.model import DashboardModel

    athlete = f"Flo{os.getpid()}"
    session = simulate_session("swing_plateau", seed=0,
                               config=SimConfig.realistic(RATE, n_reps=8, recovery_s=6.0, drop_rate=0.0))
    live = LiveSession(athlete)
    model = DashboardModel(athlete, rate_hz=RATE)
    model.attach(live)
    publisher = LslPublisher(athlete, "shank")
    origin = pylsl.local_clock()
    publisher.attach(live, origin)
    model.flag_listener = publisher.flags
    raised: list[tuple[float, object]] = []  # (session time of the analysis that first held it, flag)
    listen = model.flag_listener

    def hear(session, now_s, flags):
        raised.extend((now_s, flag) for flag in flags[len(raised):])
        listen(session, now_s, flags)

    model.flag_listener = hear
    setup = StreamSetup("gaitmon_diy", RATE, {"imu": diy.DATA_UUID})
    for side in session.samples:
        live.on_configured(side, setup, 0.0)
    inlet = _inlet(pylsl, stream_name(athlete, "events"))
    next_tick = 0.25
    for host_t, side, payload in _notifications(session.samples):
        live.on_data(side, "imu", host_t, payload)
        if host_t >= next_tick:
            model.update(host_t)
            next_tick += 0.25
    live.finish()
    model.analyse_now(host_t)
    publisher.end_session()
    markers, stamps = _pull(inlet, len(live.events) + len(live.steps()) + len(raised))
    inlet.close_stream()
    publisher.close()
    assert list(model.raised_flags()) == [flag for _, flag in raised]
    return origin, raised, strength_balance(live.steps(), now_s=host_t), markers, stamps


def test_each_flag_the_live_analysis_raises_is_a_marker_with_its_numbers(flagged):
    import json

    _, raised, balance, markers, _ = flagged
    flags = balance.flags
    assert any(f.kind == "swing_plateau" for f in flags)  # the scenario's alarm
    assert [flag for _, flag in raised] == flags  # the offline analysis' flags, heard live as they were raised
    published = [json.loads(m[0]) for m in markers if m[0].startswith("{")]
    assert len(published) == len(flags)
    for marker, flag in zip(published, flags):
        assert (marker["kind"], marker["flag"], marker["alarm"], marker["scale"], marker["leg"], marker["rep"]) == \
            ("flag", flag.kind, flag.alarm, flag.scale, flag.side, flag.rep)
        assert marker["covers"] == flag.covers and marker["message"] == flag.message
        assert marker["unit"] == f"%/{flag.scale[:-1]}"
        for name in ("swing", "push", "balance"):
            trend = getattr(flag, name)
            assert marker[name] == {"slope": trend.slope, "ci_low": trend.low, "ci_high": trend.high,
                                    "n": trend.n, "confidence": trend.confidence}
        assert (marker["swing_swc_pct"], marker["push_swc_pct"]) == (flag.swing_swc, flag.push_swc)


def test_a_flag_is_stamped_when_it_was_raised_right_after_its_rep(flagged):
    """Live, not at the session's end: each flag's stamp is the host time of the analysis that raised it,
    within the rep's settling time (REP_SETTLE_S) and a couple of analysis intervals of its rep's last step."""
    from gaitmon.analysis import REP_SETTLE_S

    origin, raised, balance, markers, stamps = flagged
    flag_stamps = [t for m, t in zip(markers, stamps) if m[0].startswith("{")]
    assert np.max(np.abs(np.array(flag_stamps) - (origin + np.array([t for t, _ in raised])))) < 1e-6
    rep_end = {rep.number: rep.steps[-1].ic_s for rep in balance.reps}
    for t, flag in raised:
        assert rep_end[flag.rep] < t <= rep_end[flag.rep] + REP_SETTLE_S + 1.5, (flag.rep, t, rep_end[flag.rep])
    assert raised[0][0] < max(rep_end.values())  # the first flags came while the session went on


# -- a recorded session replayed on LSL -------------------------------------------------------------

REPLAY_SPEED = 10.0


@pytest.fixture(scope="module")
def replayed(pylsl, tmp_path_factory):
    """``gaitmon replay SESSION --lsl --speed 10`` of a recorded one-rep session (≈ 22 s, so ≈ 2 s),
    received by inlets that connect while the replay waits for them; what the replay pipeline projects
    and detects, replayed again without LSL, as the reference; the host clock before and after."""
    import threading

    from gaitmon.cli import main
    from gaitmon.engine.lsl import stream_name
    from gaitmon.engine.runtime import EmulatedSource, Engine
    from gaitmon.sources.replay import replay_session

    athlete = f"Rey{os.getpid()}"
    source = EmulatedSource("gaitmon_diy", "balanced", seed=0, rate_hz=RATE, realtime=False,
                            sim_options={"n_reps": 1, "recovery_s": 2.0})
    recorder = Engine({athlete: source}, sessions_dir=tmp_path_factory.mktemp("sessions"), history_db=False,
                      on_message=lambda _: None)
    recorder.run_to_end()
    folder = recorder.recorder(athlete).folder
    out = tmp_path_factory.mktemp("replay")
    outcome: list = []
    before = pylsl.local_clock()
    command = threading.Thread(target=lambda: outcome.append(main(
        ["replay", str(folder), "--headless", "--lsl", "--speed", f"{REPLAY_SPEED:g}", "--lsl-wait", "20",
         "--out", str(out)])))
    command.start()
    try:
        inlets = {what: _inlet(pylsl, stream_name(athlete, what)) for what in ("left", "right", "events")}
        infos = {what: inlet.info(timeout=TIMEOUT_S) for what, inlet in inlets.items()}
    finally:
        command.join(60.0)
    after = pylsl.local_clock()
    assert outcome == [0]
    reference = replay_session(folder, keep_samples=False, batched=False)  # the live pipeline, paced alike
    fed: dict[str, list] = {"left": [], "right": []}
    live = LiveSession(athlete)
    live.projection_listener = lambda role, t, omega, acc: fed[role].append((t.copy(), omega.copy(), acc.copy()))
    replay_session(folder, live=live, keep_samples=False, batched=False)
    fed = {side: tuple(np.concatenate(parts) for parts in zip(*blocks)) for side, blocks in fed.items()}
    received = {side: _pull(inlets[side], len(fed[side][0])) for side in ("left", "right")}
    received["events"] = _pull(inlets["events"], len(live.events) + len(live.steps()))
    for inlet in inlets.values():
        inlet.close_stream()
    return before, after, fed, sorted(live.events), received, infos, out, reference


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_replay_streams_each_leg_at_its_pace_on_the_host_clock_now(replayed, side):
    before, after, fed, _, received, infos, _, _ = replayed
    t, omega, acc = fed[side]
    values, stamps = received[side]
    missing = len(t) - len(stamps)
    if missing:  # say where, for the next one to look at it
        got = np.asarray(values)[:, 0] if len(stamps) else np.empty(0, np.float32)
        where = ("the last ones" if np.array_equal(got, omega[:len(got)].astype(np.float32)) else
                 "the first ones" if np.array_equal(got, omega[missing:].astype(np.float32)) else "in between")
        pytest.fail(f"{missing} of {len(t)} samples not received: {where}")
    assert len(t) > 2000 and len(stamps) == len(t)  # every sample: the inlets were there before the replay began
    values = np.asarray(values)
    np.testing.assert_array_equal(values[:, 0], omega.astype(np.float32))
    np.testing.assert_array_equal(values[:, 1], acc.astype(np.float32))
    origin = stamps - t / REPLAY_SPEED  # session time t is published at origin + t / speed
    assert np.ptp(origin) < 1e-6
    assert before < stamps[0] and stamps[-1] < after  # mapped to the host clock of the replay, not the recording's
    assert infos[side].nominal_srate() == RATE * REPLAY_SPEED
    desc = infos[side].desc()
    assert desc.child_value("speed") == f"{REPLAY_SPEED:g}" and desc.child_value("source").startswith("replay of ")


def test_a_replay_publishes_the_recorded_events_on_the_same_clock(replayed):
    _, _, fed, events, received, _, _, _ = replayed
    markers, stamps = received["events"]
    gait = [i for i, m in enumerate(markers) if m[0].split()[0] in ("TO", "MSW", "IC")]
    assert len(events) > 20 and len(gait) == len(events)
    order = np.argsort(stamps[gait], kind="stable")
    assert [markers[gait[i]][0] for i in order] == [f"{e.kind} {e.side}" for e in events]
    leg_origin = received["left"][1][0] - fed["left"][0][0] / REPLAY_SPEED
    event_t = np.array([e.t for e in events])
    assert np.max(np.abs(stamps[gait][order] - (leg_origin + event_t / REPLAY_SPEED))) < 1e-6


def test_a_headless_replay_on_lsl_writes_the_replayed_sessions_tables(replayed):
    *_, out, reference = replayed
    steps = (out / "steps.csv").read_text(encoding="utf-8").splitlines()
    assert len(steps) == len(reference.live.steps()) + 1 > 10


def test_a_replay_as_fast_as_possible_is_refused_in_one_line(replayed, capsys):
    from gaitmon.cli import main
    from gaitmon.engine.runtime import NO_PACE

    folder = replayed[-1].folder
    capsys.readouterr()
    assert main(["replay", str(folder), "--headless", "--lsl", "--speed", "max", "--out", str(folder / "max")]) == 2
    assert capsys.readouterr().err.splitlines() == [f"gaitmon: error: --lsl: {NO_PACE}"]
    assert not (folder / "max").exists()


def test_switched_on_during_a_replay_the_streams_follow_it_from_then_on_the_host_clock(replayed, pylsl):
    """The dashboard's LSL switch on a replay (Engine.set_lsl): the streams open mid-replay, and what they
    carry from then on is stamped at the host time it is replayed (pace ``speed``), then they close with it."""
    from gaitmon.engine.lsl import stream_name
    from gaitmon.engine.runtime import Engine, ReplaySource

    folder, speed = replayed[-1].folder, 4.0
    athlete = replayed[-1].meta.athlete
    engine = Engine({athlete: ReplaySource(folder, speed)}, history_db=False)
    engine.start()
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while engine.snapshot(athlete).session_s < 12.0 and time.monotonic() < deadline:  # the first strides past
            time.sleep(0.05)
        assert not engine.lsl_on and engine.lsl_problem is None
        engine.set_lsl(True)
        inlet = _inlet(pylsl, stream_name(athlete, "left"))
        values, stamps, received = [], [], []
        while engine.running or len(stamps) == 0:
            chunk, chunk_stamps = inlet.pull_chunk(timeout=0.2)
            values += chunk
            stamps += chunk_stamps
            received += [pylsl.local_clock()] * len(chunk_stamps)
            if time.monotonic() > deadline + 30:
                break
    finally:
        engine.stop()
    stamps, received = np.asarray(stamps), np.asarray(received)
    assert inlet.info(timeout=TIMEOUT_S).nominal_srate() == RATE * speed
    assert 200 < len(stamps) < 0.6 * len(replayed[2]["left"][0])  # from the switch (12 s of 21.6) on, not all
    assert np.median(np.diff(stamps)) == pytest.approx(1 / (RATE * speed), rel=1e-3)
    assert np.all(received - stamps > -0.01) and np.median(received - stamps) < 0.5  # stamped as replayed
