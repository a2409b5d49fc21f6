"""Reps: the sprint efforts inside a continuous stream of steps.

A **running bout** is a run of consecutive steps (both legs, in time order) with a flight phase
(``flight_s > 0``; a step whose flight is unknown may sit inside a bout), no two landings more than
``max_gap_s`` apart. Walking has no flight (double support), standing has no steps, so either ends a
bout.

A bout is a **rep** when it is a sprint effort: at least ``min_steps`` steps and a peak swing
angular velocity of at least ``sprint_fraction`` of the fastest bout of the session so far. This
keeps jogging back and run-throughs out without a population threshold; the first bout of a
session always counts until a faster one shows it was a jog.

Within a rep, the **top-speed phase** is the run of steps whose swing peak (3-step running
median, both legs) is within ``top_fraction`` of the rep's highest; the steps before it are the
**acceleration** phase and those after it the **deceleration** (slowing to a jog).

A rep's outputs are summarised **over its top-speed steps, per leg, by the median**: swing-side
and push-side outputs both rise with running speed, so comparing reps at the same phase of the run
(top speed) removes the speed confound, and the median ignores a single mis-detected step.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gaitmon.analysis.trends import median
from gaitmon.analysis.steps import Step

#: Columns of ``reps.csv``: one row per rep and leg (side ``both`` pools the legs).
REP_COLUMNS: tuple[str, ...] = (
    "rep", "side", "start_s", "end_s", "n_steps", "n_acceleration_steps", "n_top_speed_steps",
    "swing_peak_rad_s", "push_force_bw", "contact_s", "flight_s", "step_hz", "asymmetry_swing_pct",
    "asymmetry_push_pct",
)

OUTPUTS = ("swing_peak_rad_s", "push_force_bw", "contact_s", "flight_s", "step_hz")


@dataclass
class Rep:
    """One sprint effort: its steps (:class:`~gaitmon.analysis.steps.Step`, in time order) split into phases.

    The phases are set once (:func:`segment_reps`); :meth:`summary` is kept per leg after its first
    call, so a rep's medians are computed once however often the live views ask for them.
    """

    number: int
    steps: list[Step]
    acceleration: list[Step] = field(default_factory=list)
    top_speed: list[Step] = field(default_factory=list)
    deceleration: list[Step] = field(default_factory=list)
    _summaries: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def start_s(self) -> float:
        return self.steps[0].ic_s

    @property
    def end_s(self) -> float:
        last = self.steps[-1]
        return last.to_s if math.isfinite(last.to_s) else last.ic_s

    def summary(self, side: str) -> dict:
        """Median top-speed outputs of one leg (``left``/``right``)."""
        if side not in self._summaries:
            rows = [r for r in self.top_speed if r.side == side]
            out = {key: median([getattr(r, key) for r in rows]) for key in OUTPUTS}
            out["n_top_speed_steps"] = len(rows)
            self._summaries[side] = out
        return dict(self._summaries[side])

    def table_rows(self) -> list[dict]:
        """``reps.csv`` rows: each leg, then both legs pooled, with L/R asymmetry."""
        rows = []
        per_side = {side: self.summary(side) for side in ("left", "right")}
        for side in ("left", "right", "both"):
            if side == "both":
                values = {key: median([getattr(r, key) for r in self.top_speed]) for key in OUTPUTS}
                values["n_top_speed_steps"] = len(self.top_speed)
            else:
                values = per_side[side]
            rows.append({
                "rep": self.number, "side": side, "start_s": self.start_s, "end_s": self.end_s,
                "n_steps": len(self.steps) if side == "both" else sum(r.side == side for r in self.steps),
                "n_acceleration_steps": len(self.acceleration) if side == "both"
                else sum(r.side == side for r in self.acceleration),
                **values,
                "asymmetry_swing_pct": asymmetry_pct(per_side["left"]["swing_peak_rad_s"],
                                                     per_side["right"]["swing_peak_rad_s"]),
                "asymmetry_push_pct": asymmetry_pct(per_side["left"]["push_force_bw"],
                                                    per_side["right"]["push_force_bw"]),
            })
        return rows


def asymmetry_pct(left: float, right: float) -> float:
    """(left − right) / mean × 100: positive when the left leg's output is higher."""
    mean = 0.5 * (left + right)
    if not (math.isfinite(mean) and mean != 0.0):
        return float("nan")
    return 100.0 * (left - right) / mean


def running_bouts(steps: list[Step], max_gap_s: float = 1.0) -> list[list[Step]]:
    """Maximal runs of consecutive running steps (see module docstring), in time order."""
    bouts: list[list[Step]] = []
    current: list[Step] = []
    for row in sorted(steps, key=lambda r: r.ic_s):
        running = not (row.flight_s <= 0.0)  # NaN (unknown) does not break a bout
        joined = current and row.ic_s - current[-1].ic_s <= max_gap_s
        if running and (joined or not current):
            current.append(row)
        elif running:
            bouts.append(current)
            current = [row]
        else:
            if current:
                bouts.append(current)
            current = []
    if current:
        bouts.append(current)
    # a bout's trailing/leading steps of unknown flight are kept only between running steps
    return [_trim_unknown(b) for b in bouts if any(r.flight_s > 0.0 for r in b)]


def _trim_unknown(bout: list[Step]) -> list[Step]:
    known = [i for i, r in enumerate(bout) if r.flight_s > 0.0]
    return bout[known[0]: known[-1] + 2]  # keep one step of unknown flight at the end (the last contact)


def segment_reps(steps: list[Step], min_steps: int = 8, sprint_fraction: float = 0.6,
                 top_fraction: float = 0.95, max_gap_s: float = 1.0) -> list[Rep]:
    """Find the reps in a session's step table and split each into phases (module docstring)."""
    bouts = [b for b in running_bouts(steps, max_gap_s) if len(b) >= min_steps]
    if not bouts:
        return []
    peaks = [_nanmax([r.swing_peak_rad_s for r in b]) for b in bouts]
    fastest = _nanmax(peaks)
    reps = []
    for bout, peak in zip(bouts, peaks):
        if not (peak >= sprint_fraction * fastest):
            continue
        rep = Rep(number=len(reps) + 1, steps=bout)
        _split_phases(rep, top_fraction)
        reps.append(rep)
    return reps


def same_objects(a: Sequence, b: Sequence) -> bool:
    """Whether two sequences hold the very same objects, in order (the live analysis keeps what it
    made as long as its inputs are these objects)."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _nanmax(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) else float("nan")


def _running_median3(values: np.ndarray) -> np.ndarray:
    """Each value's median with its neighbours (two at the ends), NaN left out (NaN where all are):
    ``numpy.nanmedian`` of each window, bit for bit (two values: their sum halved), in one pass."""
    padded = np.concatenate([[np.nan], values, [np.nan]])
    windows = np.sort(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)  # NaN sort last
    finite = np.isfinite(windows).sum(axis=0)
    out = np.full(len(values), np.nan)
    out[finite == 1] = windows[0, finite == 1]
    out[finite == 2] = (windows[0, finite == 2] + windows[1, finite == 2]) / 2.0
    out[finite == 3] = windows[1, finite == 3]
    return out


def _split_phases(rep: Rep, top_fraction: float) -> None:
    peaks = np.array([r.swing_peak_rad_s for r in rep.steps], dtype=float)
    smooth = _running_median3(peaks)
    if not np.isfinite(smooth).any():
        rep.acceleration = list(rep.steps)
        return
    fast = np.flatnonzero(smooth >= top_fraction * np.nanmax(smooth))
    first, last = int(fast[0]), int(fast[-1])
    rep.acceleration = rep.steps[:first]
    rep.top_speed = rep.steps[first:last + 1]
    rep.deceleration = rep.steps[last + 1:]


class _Bout:
    """One raw bout of the running-bout scan: steps ``[start, end)`` of the table, and what
    :func:`segment_reps` makes of it (kept while those steps do not change)."""

    __slots__ = ("start", "end", "steps", "peak", "_rep")

    def __init__(self, table: list[Step], start: int, end: int):
        self.start, self.end = start, end
        raw = table[start:end]
        self.steps = _trim_unknown(raw) if any(r.flight_s > 0.0 for r in raw) else None
        self.peak = _nanmax([r.swing_peak_rad_s for r in self.steps]) if self.steps else math.nan
        self._rep: Rep | None = None

    def rep(self, number: int, top_fraction: float) -> Rep:
        """This bout as rep ``number`` (phases split once)."""
        if self._rep is None:
            self._rep = Rep(number=number, steps=self.steps)
            _split_phases(self._rep, top_fraction)
        elif self._rep.number != number:
            self._rep = Rep(number, self.steps, self._rep.acceleration, self._rep.top_speed, self._rep.deceleration)
        return self._rep


class LiveReps:
    """:func:`running_bouts` and :func:`segment_reps` of a growing step table, rescanned only from
    the first step that changed.

    The bout scan is a left-to-right pass whose state after each step is kept (bouts closed so far,
    where the bout under way started, the walking steps seen), so a change at step ``i`` resumes the
    scan there. Closed bouts keep their trimmed steps, peak and phase split; choosing the reps
    among them (``sprint_fraction`` of the fastest) is redone on each call, over the bouts only.

    Parameters are those of :func:`segment_reps`.
    """

    def __init__(self, min_steps: int = 8, sprint_fraction: float = 0.6, top_fraction: float = 0.95,
                 max_gap_s: float = 1.0):
        self.min_steps, self.sprint_fraction = min_steps, sprint_fraction
        self.top_fraction, self.max_gap_s = top_fraction, max_gap_s
        self._table: list[Step] = []
        self._closed: list[_Bout] = []
        self._walking: list[int] = []  # indices of the steps without flight (they end a bout)
        # per step index: closed bouts, start of the bout under way (-1: none), walking steps, after it
        self._n_closed: list[int] = []
        self._open_from: list[int] = []
        self._n_walking: list[int] = []
        self._open: _Bout | None = None
        self._fastest: list[float] = []  # per closed bout: the fastest peak of the eligible ones up to it
        self._reps: list[Rep] | None = None  # reps() since the last update
        # the last choice of reps: (fastest peak, closed bouts scanned, their reps); the first
        # _unchanged closed bouts are the same since it was made
        self._chosen: tuple[float, int, list[Rep]] = (math.nan, 0, [])
        self._unchanged = 0

    def update(self, table: list[Step], first_changed: int) -> None:
        """``table`` is the step table now (sorted as :func:`build_steps` sorts); it equals the one
        of the last call before index ``first_changed``."""
        self._reps = None
        i = min(first_changed, len(self._n_closed))
        self._table = table
        del self._n_closed[i:], self._open_from[i:], self._n_walking[i:]
        if i:
            del self._closed[self._n_closed[-1]:], self._walking[self._n_walking[-1]:]
            start = self._open_from[-1]
        else:
            self._closed.clear()
            self._walking.clear()
            start = -1
        del self._fastest[len(self._closed):]
        self._unchanged = min(self._unchanged, len(self._closed))
        for k in range(i, len(table)):
            row = table[k]
            if not (row.flight_s <= 0.0):  # running (unknown flight does not break a bout)
                if start >= 0 and row.ic_s - table[k - 1].ic_s > self.max_gap_s:
                    self._close(_Bout(table, start, k))
                    start = k
                elif start < 0:
                    start = k
            else:
                self._walking.append(k)
                if start >= 0:
                    self._close(_Bout(table, start, k))
                start = -1
            self._n_closed.append(len(self._closed))
            self._open_from.append(start)
            self._n_walking.append(len(self._walking))
        if self._open is not None and (self._open.start != start or self._open.end != len(table)
                                       or first_changed < len(table)):
            self._open = None
        if start >= 0 and self._open is None:
            self._open = _Bout(table, start, len(table))

    def _close(self, bout: _Bout) -> None:
        before = self._fastest[-1] if self._fastest else math.nan
        self._closed.append(bout)
        self._fastest.append(_nanmax([before, bout.peak]) if self._eligible(bout) else before)

    def _eligible(self, bout: _Bout) -> bool:
        """Long enough to be a rep (a bout of walking only has no steps)."""
        return bout.steps is not None and len(bout.steps) >= self.min_steps

    def _bouts(self) -> list[_Bout]:
        """Raw bouts (closed, then the one under way), in time order."""
        open_ = [self._open] if self._open_from and self._open_from[-1] >= 0 else []
        return self._closed + open_

    def reps(self) -> list[Rep]:
        """``segment_reps(table)``: the same reps, each closed one the same object from call to call
        while its bout and its number hold; the same list until the next :meth:`update` (do not
        change it).

        Only the bouts closed since the last call are looked at, unless the fastest peak changed
        (a new fastest sprint changes which bouts are reps) or a step before them did.
        """
        if self._reps is not None:
            return self._reps
        open_ = self._open if self._open_from and self._open_from[-1] >= 0 else None
        if open_ is not None and not self._eligible(open_):
            open_ = None
        fastest = _nanmax([self._fastest[-1] if self._fastest else math.nan,
                           open_.peak if open_ is not None else math.nan])
        threshold = self.sprint_fraction * fastest
        chosen_at, scanned, chosen = self._chosen
        same_fastest = chosen_at == fastest or (math.isnan(chosen_at) and math.isnan(fastest))
        if not (same_fastest and scanned <= self._unchanged):
            scanned, chosen = 0, []
        chosen = list(chosen)
        for bout in self._closed[scanned:]:
            if self._eligible(bout) and bout.peak >= threshold:
                chosen.append(bout.rep(len(chosen) + 1, self.top_fraction))
        self._chosen, self._unchanged = (fastest, len(self._closed), chosen), len(self._closed)
        self._reps = chosen + ([open_.rep(len(chosen) + 1, self.top_fraction)]
                               if open_ is not None and open_.peak >= threshold else [])
        return self._reps

    def walked_after(self, t: float) -> bool:
        """Whether a step without flight (walking) came after time ``t`` (s)."""
        return bool(self._walking) and self._table[self._walking[-1]].ic_s > t

    def last_bout_after(self, t: float) -> list[Step]:
        """The last bout of ``running_bouts([r for r in table if r.ic_s > t])`` (trimmed), or [].

        Bouts that started after ``t`` are the scan's own (a bout starts afresh there in both
        scans); only the bout under way at ``t`` is cut, and scanned again from ``t``.
        """
        for bout in reversed(self._bouts()):
            if self._table[bout.end - 1].ic_s <= t:
                break
            if self._table[bout.start].ic_s > t:
                if bout.steps is not None:
                    return bout.steps
                continue
            cut = running_bouts([r for r in self._table[bout.start:bout.end] if r.ic_s > t], self.max_gap_s)
            return cut[-1] if cut else []
        return []
