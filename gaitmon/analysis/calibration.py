"""Per-athlete calibration of step durations: removing a bias measured against a reference system.

``gaitmon validate … --save-calibration`` compares gaitmon's contact and flight times with an
athlete's own reference (OptoJump, force plates) and stores the mean difference per metric — and
per phase band of the reps when there were enough matched steps there — in the athlete history
(:mod:`gaitmon.session.history`). Later analyses of that athlete (opt-in: only when one was saved)
correct their steps with it here and say so in every output.

The correction
--------------
A :class:`CalibrationEntry` holds ``bias_s`` = gaitmon − reference (s) of one metric in one band;
the corrected value is ``raw − bias``. Only the durations are corrected:

- ``contact_s`` and ``flight_s`` by their own bias, in the step's band (:meth:`Calibration.bias`);
- ``step_s`` (= contact + flight) by the sum of both biases, ``step_hz`` is its inverse again;
- ``push_force_bw`` is recomputed from the corrected contact and flight
  (:func:`~gaitmon.analysis.steps.spring_mass_force_bw`);
- ``ic_s`` and ``to_s`` stay as detected: a duration's bias cannot be split between its two events
  (a contact-time bias is the TO bias minus the IC bias), and the events must keep matching
  ``events.csv`` and the traces. Swing metrics are not calibrated.

NaN stays NaN. A step's **band** is the phase of the rep it belongs to in the segmentation of the
*raw* steps (:func:`phase_bands`): ``"acceleration"`` or ``"top_speed"``; the deceleration, steps
outside reps and bands without an entry of their own take the ``"all"`` entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from gaitmon.analysis import Rep, segment_reps
from gaitmon.analysis.steps import STEP_COLUMNS, Step, spring_mass_force_bw

#: The calibrated metrics: contact and flight time.
METRICS = ("contact", "flight")
#: Phase bands a bias can be measured in: every step, or one phase of the reps.
BANDS = ("all", "acceleration", "top_speed")
#: Step-table columns a calibration changes (:func:`apply_calibration`).
CALIBRATED_KEYS = ("contact_s", "flight_s", "step_s", "step_hz", "push_force_bw")
#: Extra ``steps.csv`` columns of a calibrated analysis: the values as detected, and the calibration used.
RAW_COLUMNS = {"contact_raw_s": "contact_s", "flight_raw_s": "flight_s", "step_raw_s": "step_s",
               "push_force_raw_bw": "push_force_bw"}
CALIBRATED_STEP_COLUMNS: tuple[str, ...] = (*STEP_COLUMNS, *RAW_COLUMNS, "calibration")


@dataclass(frozen=True)
class CalibrationEntry:
    """The bias of one metric in one band, as a validation measured it.

    Attributes
    ----------
    metric : str
        ``"contact"`` or ``"flight"`` (:data:`METRICS`).
    band : str
        ``"all"``, ``"acceleration"`` or ``"top_speed"`` (:data:`BANDS`).
    bias_s : float
        Mean of gaitmon − reference over the matched steps (s); corrected = raw − ``bias_s``.
    sd_s : float
        Standard deviation of those differences (s); NaN when unknown.
    n : int
        Matched steps behind it.
    """

    metric: str
    band: str
    bias_s: float
    sd_s: float
    n: int

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"calibration metric {self.metric!r}: give one of {', '.join(METRICS)}")
        if self.band not in BANDS:
            raise ValueError(f"calibration band {self.band!r}: give one of {', '.join(BANDS)}")
        if not math.isfinite(self.bias_s):
            raise ValueError(f"calibration bias of {self.metric} ({self.band}) is not a number: {self.bias_s}")
        if self.n < 1:
            raise ValueError(f"calibration of {self.metric} ({self.band}) rests on {self.n} steps")


@dataclass(frozen=True)
class Calibration:
    """An athlete's calibration: the biases one validation measured.

    Attributes
    ----------
    athlete : str
        Whose it is (the history matches names case-insensitively).
    created_at : str
        When it was measured, ISO 8601 UTC; identifies it in the history and in ``steps.csv``.
    source : str
        What it was measured against (the validate command's inputs, the reference kind).
    entries : tuple of CalibrationEntry
        At most one per (metric, band).
    """

    athlete: str
    created_at: str
    source: str
    entries: tuple[CalibrationEntry, ...]

    def __post_init__(self) -> None:
        pairs = [(e.metric, e.band) for e in self.entries]
        if not pairs:
            raise ValueError("a calibration needs at least one entry")
        if len(set(pairs)) != len(pairs):
            raise ValueError("a calibration has one entry per metric and band")

    def bias(self, metric: str, band: str = "all") -> float:
        """Bias of ``metric`` in ``band`` (s); the ``"all"`` entry when the band has none, and 0.0
        (no correction) when the metric has none at all: an uncalibrated metric stays as measured."""
        found = {(e.metric, e.band): e.bias_s for e in self.entries}
        return found.get((metric, band), found.get((metric, "all"), 0.0))

    @property
    def n(self) -> int:
        """Matched steps behind it: the most of any entry."""
        return max(e.n for e in self.entries)

    def corrections(self) -> str:
        """The corrections added (−bias) in ms: the ``"all"`` entries, then the bands that have entries
        of their own, e.g. ``"contact −8.0 ms, flight +8.0 ms (top speed: contact −6.5 ms, flight +6.0 ms)"``."""
        def amounts(band: str) -> str:
            return ", ".join(f"{e.metric} {_ms(-e.bias_s)}" for e in self.entries if e.band == band)

        bands = [f"{band.replace('_', ' ')}: {amounts(band)}" for band in BANDS[1:] if amounts(band)]
        return " ".join(filter(None, [amounts("all"), f"({'; '.join(bands)})" if bands else ""]))

    def describe(self) -> str:
        """The sentence every calibrated output carries, e.g. ``"contact and flight times corrected by
        the calibration of 2025-03-01 (n = 120, OptoJump): contact −8.0 ms, flight +8.0 ms"``."""
        return (f"contact and flight times corrected by the calibration of {self.created_at[:10]} "
                f"(n = {self.n}, {self.source}): {self.corrections()}")


def _ms(seconds: float) -> str:
    """Signed milliseconds with a true minus sign, e.g. ``−8.0 ms``."""
    return f"{seconds * 1e3:+.1f} ms".replace("-", "\u2212")


def phase_bands(reps: Iterable[Rep]) -> Callable[[Step], str]:
    """step → its band: the phase (acceleration, top speed) of ``reps`` it is in, else ``"all"``.

    Steps are told by identity: pass the very steps the reps were segmented from.
    """
    band = {id(step): phase for rep in reps for phase in BANDS[1:] for step in getattr(rep, phase)}
    return lambda step: band.get(id(step), "all")


def apply_calibration(steps: Sequence[Step], calibration: Calibration,
                      phase_of: Callable[[Step], str] | None = None) -> list[Step]:
    """The steps corrected by ``calibration`` (module docstring), in the same order.

    ``phase_of`` gives a step's band (:func:`phase_bands`); None corrects every step by the
    ``"all"`` entries. A band that is not one of :data:`BANDS` (``"deceleration"``) counts as ``"all"``.
    """
    out = []
    for step in steps:
        band = phase_of(step) if phase_of is not None else "all"
        band = band if band in BANDS else "all"
        contact_bias, flight_bias = calibration.bias("contact", band), calibration.bias("flight", band)
        contact = step.contact_s - contact_bias
        flight = step.flight_s - flight_bias
        step_s = step.step_s - (contact_bias + flight_bias)
        out.append(replace(step, contact_s=contact, flight_s=flight, step_s=step_s,
                           step_hz=1.0 / step_s if step_s > 0.0 else math.nan,
                           push_force_bw=spring_mass_force_bw(contact, flight)))
    return out


def calibrate_steps(steps: Sequence[Step], calibration: Calibration) -> list[Step]:
    """``steps`` corrected, each in the band of the rep phase it has in the raw steps' own reps."""
    steps = list(steps)
    return apply_calibration(steps, calibration, phase_bands(segment_reps(steps)))


def calibrated_step_rows(steps: Sequence[Step], raw_steps: Sequence[Step], calibration: Calibration) -> list[dict]:
    """``steps.csv`` rows of calibrated ``steps`` (:data:`CALIBRATED_STEP_COLUMNS`): each corrected
    step, the durations and push of its ``raw_steps`` counterpart, and the calibration's ``created_at``."""
    return [{**step.as_row(), **{raw: getattr(detected, key) for raw, key in RAW_COLUMNS.items()},
             "calibration": calibration.created_at}
            for step, detected in zip(steps, raw_steps, strict=True)]
