"""From gait events to steps and their metrics.

A *step* here is one contact of one leg and what follows it until the other foot lands — the unit
in which sprint coaches and the spring-mass model think (Morin et al. 2005: a step is a contact
time ``tc`` plus the aerial time ``tf`` that follows it).

For each initial contact (IC) of a leg:

- ``contact_s`` = TO − IC of the same leg (the TO that ends this contact);
- ``flight_s`` = next IC of the *other* leg − this TO. Negative in walking: both feet are on the
  ground (double support), there is no flight;
- ``step_s`` = next IC of the other leg − this IC (``= contact_s + flight_s``), ``step_hz`` its
  inverse;
- ``swing_s`` and ``swing_peak_rad_s``: the swing of this leg that *ended* at this IC (from the
  previous TO of the same leg), and its mid-swing peak of sagittal shank angular velocity — the
  swing-side output of the step, available the moment the foot lands;
- ``push_force_bw``: the push-side output, the spring-mass estimate of peak vertical ground
  reaction force in body weights, ``F/BW = (π/2)(tf/tc + 1)`` (Morin, Dalleau, Kyröläinen,
  Jeannin & Belli 2005, J Appl Biomech 21:167–180; the model assumes a sine-shaped vertical force
  during contact, so it is only defined for running: NaN when there is no flight).

With one leg only the other foot's landing is not seen. Assuming both legs take equal steps,
``step_s`` = stride / 2 (stride = IC to next IC of the same leg) and ``flight_s = step_s −
contact_s``; the step says ``flight_source = "one_leg_estimate"`` instead of ``"measured"``.

A value that cannot be formed (an event missing around a gap or at the end of a bout, a next
contact further away than ``max_step_s``) is NaN; the step is still listed.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from gaitmon.events import GaitEvent

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the step table: one contact of one leg (module docstring for the definitions).

    Attributes
    ----------
    side : str
        ``"left"`` or ``"right"``: the leg whose contact this is.
    ic_s, to_s : float
        Initial contact and the toe-off that ends it (s, session clock).
    contact_s, flight_s, step_s : float
        Contact time, the flight that follows it (negative: double support) and their sum (s).
    step_hz : float
        ``1 / step_s`` (Hz).
    swing_s : float
        The swing of this leg that ended at this contact (s).
    swing_peak_rad_s : float
        Its mid-swing peak of sagittal shank angular velocity (rad/s): the swing-side output.
    push_force_bw : float
        Spring-mass peak vertical force (body weights): the push-side output.
    flight_source : str
        ``"measured"`` (both legs) or ``"one_leg_estimate"``.

    A value that cannot be formed is NaN.
    """

    side: str
    ic_s: float
    to_s: float = NAN
    contact_s: float = NAN
    flight_s: float = NAN
    step_s: float = NAN
    step_hz: float = NAN
    swing_s: float = NAN
    swing_peak_rad_s: float = NAN
    push_force_bw: float = NAN
    flight_source: str = "measured"

    def as_row(self) -> dict[str, Any]:
        """The step as a ``{column: value}`` row, columns in :data:`STEP_COLUMNS` order (CSV, SQLite)."""
        return {name: getattr(self, name) for name in STEP_COLUMNS}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Step:
        """The step of a row read back (history DB, CSV, reference rows): the :data:`STEP_COLUMNS` of
        ``row`` (other keys ignored); a missing or empty numeric value is NaN, numbers are floats."""
        values: dict[str, Any] = {}
        for name in STEP_COLUMNS:
            value = row.get(name)
            if name in _TEXT:
                if value is not None and value != "":
                    values[name] = str(value)
            else:
                values[name] = NAN if value is None or value == "" else float(value)
        return cls(**values)


#: Columns of the step table (= :class:`Step`'s fields, in order).
STEP_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Step))
_TEXT = frozenset({"side", "flight_source"})


def spring_mass_force_bw(contact_s: float, flight_s: float) -> float:
    """Peak vertical force in body weights, ``(π/2)(tf/tc + 1)`` (Morin et al. 2005); NaN without flight."""
    if not (contact_s > 0.0 and flight_s > 0.0):
        return NAN
    return (math.pi / 2.0) * (flight_s / contact_s + 1.0)


def _times(events: list[GaitEvent], side: str, kind: str) -> list[GaitEvent]:
    return [e for e in events if e.side == side and e.kind == kind]


def _next_after(series: list[GaitEvent], times: list[float], t: float) -> GaitEvent | None:
    i = bisect_right(times, t)
    return series[i] if i < len(series) else None


def _last_before(series: list[GaitEvent], times: list[float], t: float) -> GaitEvent | None:
    i = bisect_right(times, t) - 1
    return series[i] if i >= 0 else None


def build_steps(events: Iterable[GaitEvent], sides: Iterable[str] | None = None,
                max_contact_s: float = 1.5, max_step_s: float = 1.5, max_swing_s: float = 1.5) -> list[Step]:
    """One :class:`Step` per initial contact, sorted by time (see module docstring for definitions, all in s).

    Parameters
    ----------
    events : iterable of GaitEvent
        Events of one session, any order.
    sides : iterable of str, optional
        Legs that were recorded. With both, flight is measured; with one, it is estimated.
        Defaults to the sides that have events.
    max_contact_s, max_step_s, max_swing_s : float
        Pairings further apart than these are not formed (NaN): the athlete stopped, or events
        are missing around a gap.
    """
    events = sorted(events)
    sides = sorted(set(sides) if sides is not None else {e.side for e in events})
    per = {}
    for side in sides:
        per[side] = {kind: _times(events, side, kind) for kind in ("TO", "MSW", "IC")}
    steps = []
    for side in sides:
        mine = per[side]
        other = per[[s for s in sides if s != side][0]] if len(sides) == 2 else None
        to_t = [e.t for e in mine["TO"]]
        msw_t = [e.t for e in mine["MSW"]]
        ic_t = [e.t for e in mine["IC"]]
        other_ic_t = [e.t for e in other["IC"]] if other else []
        for ic in mine["IC"]:
            next_ic = _next_after(mine["IC"], ic_t, ic.t)
            to_s = contact_s = flight_s = step_s = step_hz = swing_s = swing_peak = NAN

            to = _next_after(mine["TO"], to_t, ic.t)
            if to is not None and to.t - ic.t <= max_contact_s and (next_ic is None or to.t < next_ic.t):
                to_s = to.t
                contact_s = to.t - ic.t

            previous_to = _last_before(mine["TO"], to_t, ic.t)
            if previous_to is not None and ic.t - previous_to.t <= max_swing_s:
                swing_s = ic.t - previous_to.t
                peak = _next_after(mine["MSW"], msw_t, previous_to.t)
                if peak is not None and peak.t < ic.t:
                    swing_peak = peak.value

            if other is not None:
                landing = _next_after(other["IC"], other_ic_t, ic.t)
                if landing is not None and (next_ic is None or landing.t < next_ic.t):
                    step_s = landing.t - ic.t
            elif next_ic is not None:
                step_s = (next_ic.t - ic.t) / 2.0
            if not step_s <= max_step_s:
                step_s = NAN
            if step_s > 0.0:
                step_hz = 1.0 / step_s
                flight_s = step_s - contact_s
            steps.append(Step(
                side=side, ic_s=ic.t, to_s=to_s, contact_s=contact_s, flight_s=flight_s, step_s=step_s,
                step_hz=step_hz, swing_s=swing_s, swing_peak_rad_s=swing_peak,
                push_force_bw=spring_mass_force_bw(contact_s, flight_s),
                flight_source="measured" if other else "one_leg_estimate"))
    steps.sort(key=lambda step: (step.ic_s, step.side))
    return steps


def same_step(a: Step, b: Step) -> bool:
    """Equal steps, NaN equal to NaN (a dataclass ``==`` of two NaN fields is False)."""
    return a is b or all(x == y or (x != x and y != y) for x, y in zip(_values(a), _values(b)))


def _values(step: Step) -> tuple:
    return tuple(getattr(step, name) for name in STEP_COLUMNS)


class StepTable:
    """:func:`build_steps` of a growing event stream, rebuilt only near the new events.

    A step depends on the events from ``max_swing_s`` before its contact (the swing that ended
    there) to its next contacts (``max_contact_s``, ``max_step_s``, and ``2 × max_step_s`` for the
    one-leg stride): a new event at ``t`` can only change the steps whose contact is at or after
    ``t − reach_s`` (``reach_s`` = the largest of ``max_contact_s`` and ``2 × max_step_s``, plus
    :attr:`SLACK_S`). :meth:`add` rebuilds those with :func:`build_steps` on the events from
    ``max_swing_s`` before them, so :attr:`steps` is always ``build_steps(all events so far)`` and the
    work per call is that of the new events and a few seconds of steps before them.

    Parameters
    ----------
    sides : iterable of str
        The legs recorded (as :func:`build_steps`).
    max_contact_s, max_step_s, max_swing_s : float
        As :func:`build_steps`.

    Attributes
    ----------
    steps : list of Step
        The step table so far, in :func:`build_steps` order. A step that did not change keeps its
        object (the reps and phase bands built on it tell steps by identity).
    """

    #: Slack added to the reach (s): rounding at the pairing limits.
    SLACK_S = 0.25

    def __init__(self, sides: Iterable[str], max_contact_s: float = 1.5, max_step_s: float = 1.5,
                 max_swing_s: float = 1.5):
        self.sides = sorted(set(sides))
        self._limits = {"max_contact_s": max_contact_s, "max_step_s": max_step_s, "max_swing_s": max_swing_s}
        self.reach_s = max(max_contact_s, 2.0 * max_step_s) + self.SLACK_S
        self._lookback_s = max_swing_s + self.SLACK_S
        self._events: list[GaitEvent] = []  # sorted
        self._event_t: list[float] = []
        self.steps: list[Step] = []
        self._ic: list[float] = []

    def first_at(self, t_s: float) -> int:
        """Index of the first step whose contact is at or after ``t_s`` (s)."""
        return bisect_left(self._ic, t_s)

    def add(self, events: Iterable[GaitEvent]) -> int:
        """Take new events (any order, any side); returns the index of the first step that changed
        (``len(steps)`` when none did)."""
        events = sorted(events)
        if not events:
            return len(self.steps)
        if not self._events or events[0] >= self._events[-1]:
            self._events += events
            self._event_t += [e.t for e in events]
        else:  # late events (one leg's block after the other's): merge them into the tail they belong to
            at = bisect_left(self._events, events[0])
            tail = sorted(self._events[at:] + events)
            self._events[at:] = tail
            self._event_t[at:] = [e.t for e in tail]
        lo = events[0].t - self.reach_s
        first = bisect_left(self._ic, lo)
        window = self._events[bisect_left(self._event_t, lo - self._lookback_s):]
        new = [step for step in build_steps(window, sides=self.sides, **self._limits) if step.ic_s >= lo]
        old = self.steps[first:]
        same = 0
        while same < min(len(old), len(new)) and same_step(old[same], new[same]):
            new[same] = old[same]
            same += 1
        self.steps[first + same:] = new[same:]
        self._ic[first + same:] = [step.ic_s for step in new[same:]]
        return first + same
