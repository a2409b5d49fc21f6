"""Lab Streaming Layer outlets of a live or replayed session (``gaitmon live --lsl``, the dashboard's
LSL button, ``gaitmon replay --lsl``; the extra ``gaitmon[lsl]``).

Per athlete, :class:`LslPublisher` publishes

* one regular stream per leg, type ``"Gait"``, named ``"gaitmon <athlete> <leg>"``: two float32
  channels, the sagittal angular velocity ω (rad/s, swing positive) and the accelerometer magnitude
  |a| (m/s²) exactly as the leg's step core was fed them (the session's projection listener), at the
  sensor's nominal rate;
* one irregular marker stream, type ``"Markers"``, named ``"gaitmon <athlete> events"``: one string
  sample per gait event, ``"<kind> <leg>"`` (``"TO left"``, ``"MSW right"``, ``"IC left"``), stamped
  with the event's time; one per step once no later event can change it (:func:`step_marker`:
  ``"step left contact_s=0.112 flight_s=0.128 …"``, stamped at its initial contact); the coach's
  rep marks (``"rep"``); and each strength-balance flag the live analysis raises, as a JSON object
  with the numbers it rests on (:func:`flag_marker`), stamped when it was raised.

Time stamps are gaitmon's host clock: a session time (s since the session started) plus the host
time at which it started. The host clock is asyncio's ``loop.time()``, which on Linux is
``CLOCK_MONOTONIC``, the clock ``pylsl.local_clock()`` reads: so LabRecorder aligns these streams
with any other LSL stream of this machine without a clock offset of their own. A replay at ``speed``
× real time (``gaitmon replay --lsl``) maps session time ``t`` to ``origin + t / speed``, the host time
at which it is replayed, and declares ``speed`` × the sensor's rate.

Each stream's ``<desc>`` says what it holds (channels with label, unit and type; the athlete, the
leg, the placement, the sensor family and rate; live or a replay, and its speed; gaitmon's version),
so a recording explains itself.

pylsl is imported here only, when a publisher is made: without the extra, :func:`require_pylsl`
raises a one-line :class:`~gaitmon.errors.InputError`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence

import numpy as np

from gaitmon._version import __version__
from gaitmon.analysis import Flag
from gaitmon.analysis.flags import SCALE_UNITS
from gaitmon.analysis.steps import Step, StepTable
from gaitmon.errors import InputError
from gaitmon.events import GaitEvent
from gaitmon.stream.live import LiveSession

#: The regular streams' channels: label, unit, LSL channel type.
CHANNELS = (("omega", "rad/s", "AngularVelocity"), ("acc_magnitude", "m/s^2", "Acceleration"))
#: LSL stream types (what LabRecorder and inlets resolve by).
SIGNAL_TYPE, MARKER_TYPE = "Gait", "Markers"
#: Seconds a replay waits after every stream has a consumer, before its first sample (see wait_for_consumers).
CONSUMER_SETTLE_S = 0.5
#: Seconds a replay's outlets stay after its last sample while consumers are connected (see close).
CLOSE_LINGER_S = 0.5


def _import_pylsl():
    """``(pylsl, None)``, or ``(None, (why in a few words, the import's error))``."""
    try:
        import pylsl
    except ImportError as error:  # not installed
        return None, ("needs gaitmon[lsl]", error)
    except RuntimeError as error:  # installed without a loadable liblsl
        return None, ("liblsl does not load", error)
    return pylsl, None


def require_pylsl():
    """The ``pylsl`` module, or a one-line error saying how to install it."""
    pylsl, problem = _import_pylsl()
    if problem is not None:
        raise InputError("--lsl", None, f"needs the Lab Streaming Layer extra: python -m pip install "
                                        f"'gaitmon[lsl]' ({problem[1]})")
    return pylsl


def lsl_problem() -> str | None:
    """Why LSL cannot be published here, in a few words for a button (the extra missing, or its
    liblsl not loading), or None."""
    _, problem = _import_pylsl()
    return None if problem is None else problem[0]


def stream_name(athlete: str, what: str) -> str:
    """An outlet's LSL name: ``"gaitmon <athlete> <what>"`` (``what`` a leg or ``"events"``)."""
    return " ".join(part for part in ("gaitmon", athlete, what) if part)


def event_marker(event: GaitEvent) -> str:
    """A gait event as a marker string: ``"<kind> <leg>"``, e.g. ``"IC left"``."""
    return f"{event.kind} {event.side}"


#: The fields of a step marker, in order (units in their names).
STEP_FIELDS = ("contact_s", "flight_s", "step_s", "swing_peak_rad_s", "push_force_bw")


def step_marker(step: Step) -> str:
    """A step as a marker string: ``"step <leg>"`` and :data:`STEP_FIELDS` as ``name=value`` (4
    significant digits; ``nan`` where the step has none)."""
    return " ".join([f"step {step.side}", *(f"{name}={getattr(step, name):.4g}" for name in STEP_FIELDS)])


def _number(value: float) -> float | None:
    """A JSON number: None where NaN or infinite (JSON has neither)."""
    return float(value) if math.isfinite(value) else None


def flag_marker(flag: Flag) -> str:
    """A strength-balance flag as a marker string: a JSON object, never a bare verdict.

    ``{"kind": "flag", "flag": "swing_plateau", "alarm": true, "scale": "reps", "leg": "left", "rep": 6,
    "covers": "reps 3-6", "unit": "%/rep", "swing": {"slope": …, "ci_low": …, "ci_high": …, "n": …,
    "confidence": …}, "push": {…}, "balance": {…}, "swing_swc_pct": …, "push_swc_pct": …,
    "message": "…"}``: slopes and their confidence intervals in % of the athlete's baseline per
    ``unit`` (``balance`` is push − swing), the smallest worthwhile changes in %, ``null`` where unknown.
    """
    def trend(t) -> dict:
        return {"slope": _number(t.slope), "ci_low": _number(t.low), "ci_high": _number(t.high), "n": int(t.n),
                "confidence": _number(t.confidence)}

    return json.dumps({"kind": "flag", "flag": flag.kind, "alarm": flag.alarm, "scale": flag.scale, "leg": flag.side,
                       "rep": flag.rep, "covers": flag.covers, "unit": f"%/{SCALE_UNITS[flag.scale]}",
                       "swing": trend(flag.swing), "push": trend(flag.push), "balance": trend(flag.balance),
                       "swing_swc_pct": _number(flag.swing_swc), "push_swc_pct": _number(flag.push_swc),
                       "message": flag.message}, allow_nan=False)


class LslPublisher:
    """One athlete's LSL outlets: ω and |a| per leg, and the gait-event markers.

    Parameters
    ----------
    athlete : str
        Named in the streams' names and descriptions.
    placement : {"shank", "foot"}
    origin_s : float
        Host clock time (s, ``loop.time()`` ≡ ``pylsl.local_clock()``) of the session clock's zero;
        a sample at session time ``t`` is stamped ``origin_s + t`` (:meth:`attach` sets it per session).
    chunk_size : int
        Samples per LSL chunk of the regular streams (0: liblsl's default).
    speed : float
        Pace of the session as a multiple of real time (a replay's; 1 live): session time ``t`` is
        stamped ``origin_s + t / speed`` and the legs' streams declare ``speed`` × the sensor's rate.
    source : str
        What is published, for the descriptions: ``"live"``, or e.g. ``"replay of <folder>"``.

    The marker outlet opens at once, a leg's outlet when its rate and sensor are known (:meth:`configure`,
    which the engine calls when the sensor starts streaming; else :meth:`attach` at the leg's first samples).
    Markers may come from two threads (the session's, the analysis'): one lock orders them.
    """

    def __init__(self, athlete: str, placement: str, origin_s: float = 0.0, chunk_size: int = 0,
                 speed: float = 1.0, source: str = "live"):
        self.pylsl = require_pylsl()
        self.athlete, self.placement, self.origin_s, self.chunk_size = athlete, placement, origin_s, chunk_size
        self.speed, self.source = float(speed), source
        self.outlets: dict[str, object] = {}
        self._lock = threading.Lock()
        self._live: LiveSession | None = None
        self._forward = None  # the attached session's projection listener before ours
        self._flags_seen: set[tuple] = set()  # the flags of the current session published (or known) already
        info = self._info("events", MARKER_TYPE, 1, 0.0, self.pylsl.cf_string)
        info.desc().append_child("channels").append_child("channel") \
            .append_child_value("label", "event").append_child_value("type", "Marker")
        self.markers = self.pylsl.StreamOutlet(info)
        self._steps: StepTable | None = None  # the current session's steps, from its events
        self._published = 0  # of those, the ones pushed (final)
        self._last_event_t: dict[str, float] = {}  # leg → time of its latest event (s, session clock)

    def _info(self, what: str, kind: str, channels: int, rate_hz: float, fmt):
        info = self.pylsl.StreamInfo(stream_name(self.athlete, what), kind, channels, rate_hz, fmt,
                                     f"gaitmon-{self.athlete}-{what}")
        desc = info.desc()
        desc.append_child_value("athlete", self.athlete)
        desc.append_child_value("placement", self.placement)
        desc.append_child_value("clock", "host monotonic clock (pylsl.local_clock), s")
        desc.append_child_value("source", self.source)
        desc.append_child_value("speed", f"{self.speed:g}")  # × real time
        desc.append_child("acquisition").append_child_value("manufacturer", "gaitmon") \
            .append_child_value("version", __version__)
        return info

    def configure(self, role: str, rate_hz: float, family: str) -> None:
        """Open leg ``role``'s outlet: it streams at ``rate_hz`` (Hz) from a sensor of ``family``. Once
        per leg (a reconnected or restarted sensor keeps its outlet, so a recording stays one stream)."""
        if role in self.outlets:
            return
        info = self._info(role, SIGNAL_TYPE, len(CHANNELS), float(rate_hz) * self.speed, self.pylsl.cf_float32)
        desc = info.desc()
        desc.append_child_value("leg", role)
        desc.append_child_value("sensor_family", family)
        desc.append_child_value("sample_rate_hz", f"{rate_hz:g}")
        channels = desc.append_child("channels")
        for label, unit, kind in CHANNELS:
            channels.append_child("channel").append_child_value("label", label) \
                .append_child_value("unit", unit).append_child_value("type", kind)
        self.outlets[role] = self.pylsl.StreamOutlet(info, self.chunk_size)

    def host_time(self, session_t):
        """Host clock time (s) of session time ``session_t`` (s; a number or an array)."""
        return self.origin_s + session_t / self.speed

    def attach(self, live: LiveSession, origin_s: float, known_flags: Sequence[Flag] = ()) -> None:
        """Publish what ``live`` projects and detects from now on (after its other listeners), its
        session clock's zero at host time ``origin_s`` (s); ``known_flags`` were raised before (not
        published). Called again for each new session."""
        self.detach()
        self.origin_s = origin_s
        self._steps, self._published, self._last_event_t = None, 0, {}
        self._flags_seen = {_flag_key(flag) for flag in known_flags}
        forward = self._forward = live.projection_listener

        def projection(role: str, t: np.ndarray, omega: np.ndarray, acc: np.ndarray) -> None:
            if forward is not None:
                forward(role, t, omega, acc)
            if role not in self.outlets:
                setup = live.feeds[role].setup
                self.configure(role, setup.rate_hz, setup.family)
            self.projection(role, t, omega, acc)

        live.projection_listener = projection
        live.event_listener = self.events
        self._live = live

    @property
    def attached(self) -> bool:
        """Whether a session is being published (:meth:`attach`, until :meth:`detach`)."""
        return self._live is not None

    def detach(self) -> None:
        """Stop publishing the attached session (its remaining steps pushed: :meth:`end_session`) and
        give it back its own projection listener."""
        self.end_session()
        live, self._live = self._live, None
        if live is not None:
            live.projection_listener, live.event_listener = self._forward, None

    # -- the session's listeners ----------------------------------------------------------------------
    def projection(self, role: str, t: np.ndarray, omega: np.ndarray, acc: np.ndarray) -> None:
        """A :class:`~gaitmon.stream.sink.ProjectionListener`: push leg ``role``'s ``(t, ω, |a|)`` (its
        outlet open: :meth:`configure`)."""
        if not len(t):
            return
        samples = np.column_stack((omega, acc)).astype(np.float32)
        self.outlets[role].push_chunk(samples, self.host_time(np.asarray(t, dtype=np.float64)).tolist())

    def events(self, role: str, events: Sequence[GaitEvent]) -> None:
        """An :class:`~gaitmon.stream.sink.EventListener`: push each of leg ``role``'s ``events`` as a
        marker stamped with its time; then the steps no later event can change (:meth:`_push_steps`)."""
        for event in sorted(events):
            self._push(event_marker(event), event.t)
        if not events:
            return
        if self._steps is None:
            self._steps = StepTable(sorted(set(self.outlets) | {role}))
        self._steps.add(events)
        self._last_event_t[role] = max(event.t for event in events)
        # Each leg confirms its events in time order: none to come is earlier than the latest of the
        # leg that is furthest behind, so a step further back than the table's reach is final.
        behind = min(self._last_event_t.get(side, -np.inf) for side in self._steps.sides)
        self._push_steps(self._steps.first_at(behind - self._steps.reach_s))

    def _push_steps(self, end: int) -> None:
        """Push the steps of the current session not pushed yet, up to index ``end``."""
        for step in self._steps.steps[self._published:end]:
            self._push(step_marker(step), step.ic_s)
        self._published = max(self._published, end)

    def flags(self, live: LiveSession, now_s: float, flags: Sequence[Flag]) -> None:
        """A flag listener (:attr:`gaitmon.engine.model.DashboardModel.flag_listener`): the flags the
        analysis of session ``live`` at session time ``now_s`` (s) holds; each one not published yet
        is pushed (:func:`flag_marker`), stamped ``now_s``: when it was raised. Any thread."""
        if live is not self._live:
            return  # an analysis of an earlier session, finished late
        for flag in flags:
            key = _flag_key(flag)
            if key not in self._flags_seen:
                self._flags_seen.add(key)
                self._push(flag_marker(flag), now_s)

    def _push(self, marker: str, session_t: float) -> None:
        with self._lock:
            if self.markers is not None:
                self.markers.push_sample([marker], self.host_time(session_t))

    def end_session(self) -> None:
        """The session ended: push its remaining steps (final now). :meth:`attach` and :meth:`close` call it."""
        if self._steps is not None:
            self._push_steps(len(self._steps.steps))

    def mark(self, label: str, session_t: float) -> None:
        """Push a marker ``label`` (e.g. ``"rep"``, the coach's rep mark) at session time ``session_t`` (s)."""
        self._push(label, session_t)

    def wait_for_consumers(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` (s) until every open outlet has a consumer (an inlet, LabRecorder
        recording); True when they all have."""
        deadline = time.monotonic() + timeout_s
        outlets = [self.markers, *self.outlets.values()]
        for outlet in outlets:
            if not outlet.wait_for_consumers(max(0.0, deadline - time.monotonic())):
                return False
        # liblsl before its fix of September 2026 (sccn/liblsl#300) may count a consumer before the
        # consumer's feed takes samples: the first ones pushed right after would be lost.
        time.sleep(CONSUMER_SETTLE_S)
        return True

    def close(self, linger_s: float = 0.0) -> None:
        """Push the session's last steps, let the session go, and withdraw the outlets (inlets see the
        streams end). ``linger_s`` (s): when a stream has a consumer, wait this long first, so that
        what was pushed last leaves (liblsl sends from a queue of its own, and a withdrawn outlet's
        queue is dropped); for a thread that may wait (a replay's), not the event loop."""
        self.detach()
        if linger_s > 0 and any(outlet.have_consumers() for outlet in [self.markers, *self.outlets.values()]):
            time.sleep(linger_s)
        with self._lock:
            self.outlets.clear()
            self.markers = None


def _flag_key(flag: Flag) -> tuple:
    """What tells a raised flag from another: scale, rep, leg and kind."""
    return flag.scale, flag.rep, flag.side, flag.kind
