"""gaitmon against a reference system, step by step: the statistics of a method-comparison study.

After :mod:`~gaitmon.validation.alignment` has put the reference on gaitmon's clock, contacts are
paired by their initial contact (per foot, optimal one-to-one matching within the tolerance:
:func:`~gaitmon.validation.evaluation.match_times`) and toe-offs are paired the same way on their own,
so IC and TO figures are those of ``gaitmon accuracy`` on the same data. Per metric the agreement is
reported as the literature does (Bland & Altman 1986; Shrout & Fleiss 1979): n matched, missed
(reference only), extra (gaitmon only, inside the reference's time span: a corridor covers part of
a session), bias (gaitmon − reference) with its 95 % confidence interval, SD, MAE, 95 % limits of
agreement (bias ± 1.96 SD) and, for durations, ICC(2,1).

Metrics (:data:`METRICS`): IC and TO times (event errors), contact, flight and step time (s), step
frequency (Hz). Phase comes from gaitmon's rep segmentation (acceleration / top speed of a sprint
rep; anything else is ``other``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from gaitmon.analysis.reps import Rep
from gaitmon.analysis.steps import Step
from gaitmon.events import GaitEvent
from gaitmon.validation.alignment import Alignment
from gaitmon.validation.evaluation import LOA_Z, match_times
from gaitmon.validation.reference import Reference


@dataclass(frozen=True)
class Metric:
    """One compared quantity: ``key``, its label, the unit shown, the factor from SI to it, and the
    :class:`~gaitmon.analysis.steps.Step` field that holds it (SI)."""

    key: str
    label: str
    unit: str
    scale: float
    kind: str  # "event" (a time: errors only) or "duration" (values on both sides: Bland–Altman, ICC)
    field: str


METRICS: tuple[Metric, ...] = (
    Metric("ic", "initial contact", "ms", 1e3, "event", "ic_s"),
    Metric("to", "toe-off", "ms", 1e3, "event", "to_s"),
    Metric("contact", "contact time", "ms", 1e3, "duration", "contact_s"),
    Metric("flight", "flight time", "ms", 1e3, "duration", "flight_s"),
    Metric("step", "step time", "ms", 1e3, "duration", "step_s"),
    Metric("step_hz", "step frequency", "Hz", 1.0, "duration", "step_hz"),
)
METRIC = {m.key: m for m in METRICS}
PHASES = ("all", "acceleration", "top_speed")

SUMMARY_COLUMNS = ("metric", "unit", "phase", "n_reference", "n_gaitmon", "n_matched", "missed", "extra", "bias",
                   "bias_ci_low", "bias_ci_high", "sd", "mae", "loa_low", "loa_high", "icc_2_1",
                   "reference_mean", "gaitmon_mean")


def icc_2_1(ratings: np.ndarray) -> float:
    """ICC(2,1) of Shrout & Fleiss (1979): two-way random effects, absolute agreement, single rater.

    ``ratings[n, k]``: n targets (steps) rated by k raters (systems). From the two-way ANOVA mean
    squares (rows ``MSR``, columns ``MSC``, error ``MSE``)::

        ICC(2,1) = (MSR − MSE) / (MSR + (k − 1) MSE + k (MSC − MSE) / n)

    NaN with fewer than 2 targets or no variance at all. (SciPy has no ICC; this is the formula,
    checked against Shrout & Fleiss's worked example in the tests.)
    """
    x = np.asarray(ratings, dtype=float)
    n, k = x.shape
    if n < 2 or k < 2:
        return math.nan
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_err = np.sum((x - grand) ** 2) - ss_rows - ss_cols
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    den = msr + (k - 1) * mse + k * (msc - mse) / n
    return float((msr - mse) / den) if den > 0 else math.nan


def agreement_row(gaitmon: np.ndarray, reference: np.ndarray, icc: bool) -> dict[str, float]:
    """Bias (gaitmon − reference), its 95 % CI (Student t), SD, MAE, limits of agreement, ICC(2,1).

    In the units of the inputs; NaN where there are too few pairs (SD and CI need 2).
    """
    d = gaitmon - reference
    n = len(d)
    out = dict.fromkeys(("bias", "bias_ci_low", "bias_ci_high", "sd", "mae", "loa_low", "loa_high", "icc_2_1",
                         "reference_mean", "gaitmon_mean"), math.nan)
    if not n:
        return out
    bias = float(d.mean())
    out.update(bias=bias, mae=float(np.abs(d).mean()), reference_mean=float(reference.mean()),
               gaitmon_mean=float(gaitmon.mean()))
    if n > 1:
        sd = float(d.std(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        out.update(sd=sd, bias_ci_low=bias - half, bias_ci_high=bias + half, loa_low=bias - LOA_Z * sd,
                   loa_high=bias + LOA_Z * sd)
        if icc:
            out["icc_2_1"] = icc_2_1(np.column_stack([gaitmon, reference]))
    return out


@dataclass
class StepPair:
    """A reference contact, the gaitmon contact it matched (None: missed) and where it is."""

    reference: Step | None
    gaitmon: Step | None
    where: str  # the reference's line / row; "" for an extra gaitmon step
    phase: str
    rep: int  # 0: not in a rep


@dataclass
class Comparison:
    """Everything ``gaitmon validate`` reports (see the module docstring)."""

    alignment: Alignment
    tolerance_s: float
    span_s: tuple[float, float]  # the reference's time span on gaitmon's clock
    pairs: list[StepPair]  # matched, missed and extra steps, in time order
    summary: list[dict] = field(default_factory=list)
    #: metric → (gaitmon values, reference values, phase per pair, t on gaitmon's clock) of matched pairs
    values: dict[str, tuple[np.ndarray, np.ndarray, list[str], np.ndarray]] = field(default_factory=dict)
    #: metric → (phase of each reference value, phase of each gaitmon value in the span)
    counts: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    #: metric → foot of each matched pair (as in ``values``)
    sides: dict[str, list[str]] = field(default_factory=dict)

    def row(self, metric: str, phase: str = "all") -> dict | None:
        return next((r for r in self.summary if r["metric"] == metric and r["phase"] == phase), None)

def summary_text(summary: Sequence[dict]) -> str:
    """:data:`SUMMARY_COLUMNS` rows as a fixed-width table (for the terminal)."""
    head = (f"{'metric':<20}{'phase':<14}{'n':>5}{'miss':>6}{'extra':>6}{'bias':>9}{'SD':>8}{'MAE':>8}"
            f"{'95% LoA':>19}{'ICC':>7}")
    lines = [head]
    for r in summary:
        m = METRIC[r["metric"]]
        signed = "{:+.1f}" if m.unit == "ms" else "{:+.3f}"
        plain = signed.replace("+", "")
        loa = f"[{_cell(r['loa_low'], signed)}, {_cell(r['loa_high'], signed)}]" if math.isfinite(r["loa_low"]) else "-"
        lines.append(f"{m.label + ' ' + m.unit:<20}{r['phase'].replace('_', ' '):<14}{r['n_matched']:>5}"
                     f"{r['missed']:>6}{r['extra']:>6}{_cell(r['bias'], signed):>9}{_cell(r['sd'], plain):>8}"
                     f"{_cell(r['mae'], plain):>8}{loa:>19}{_cell(r['icc_2_1'], '{:.3f}'):>7}")
    return "\n".join(lines)


def _cell(value: float, template: str) -> str:
    return "-" if not math.isfinite(value) else template.format(value)


@dataclass
class GaitmonSide:
    """gaitmon's view of one recording: its steps, events (None: only steps were given) and reps."""

    path: Path
    steps: list[Step]
    events: list[GaitEvent] | None
    reps: list[Rep]
    athlete: str = ""
    sample_rate_hz: float = math.nan


@dataclass
class Validation:
    """One ``gaitmon validate`` run: (gaitmon side, reference, comparison) per recording, and the
    summary pooled over them."""

    recordings: list[tuple[GaitmonSide, Reference, Comparison]]
    summary: list[dict] = field(default_factory=list)
    tolerance_s: float = math.nan

    def text(self) -> str:
        """The pooled summary as a fixed-width table (for the terminal)."""
        return summary_text(self.summary)


def summary_rows(comparisons: Sequence[Comparison]) -> list[dict]:
    """:data:`SUMMARY_COLUMNS` rows per metric and phase, pooled over ``comparisons`` (one per recording)."""
    rows = []
    for metric in METRICS:
        g = np.concatenate([c.values[metric.key][0] for c in comparisons]) if comparisons else np.empty(0)
        r = np.concatenate([c.values[metric.key][1] for c in comparisons]) if comparisons else np.empty(0)
        ph = [p for c in comparisons for p in c.values[metric.key][2]]
        n_ref = [p for c in comparisons for p in c.counts[metric.key][0]]
        n_det = [p for c in comparisons for p in c.counts[metric.key][1]]
        for phase in PHASES:
            sel = np.array([phase == "all" or p == phase for p in ph], dtype=bool)
            n_r = sum(phase == "all" or p == phase for p in n_ref)
            n_g = sum(phase == "all" or p == phase for p in n_det)
            if phase != "all" and not (sel.any() or n_r):
                continue
            n_m = int(sel.sum())
            row: dict = {"metric": metric.key, "unit": metric.unit, "phase": phase, "n_reference": n_r,
                         "n_gaitmon": n_g, "n_matched": n_m, "missed": max(0, n_r - n_m), "extra": max(0, n_g - n_m)}
            values = agreement_row(g[sel] if len(g) else g, r[sel] if len(r) else r, metric.kind == "duration")
            if metric.kind == "event":  # clock times: only their difference means anything
                values["reference_mean"] = values["gaitmon_mean"] = math.nan
            row.update({k: v if k == "icc_2_1" else v * metric.scale for k, v in values.items()})
            rows.append(row)
    return rows


def phase_lookup(reps: Sequence[Rep]):
    """``(side, ic_s)`` of each gaitmon step in a rep → (phase, rep number)."""
    out: dict[tuple[str, float], tuple[str, int]] = {}
    for rep in reps:
        for name, steps in (("acceleration", rep.acceleration), ("top_speed", rep.top_speed),
                            ("deceleration", rep.deceleration)):
            for s in steps:
                out[(s.side, s.ic_s)] = (name, rep.number)
        for s in rep.steps:
            out.setdefault((s.side, s.ic_s), ("other", rep.number))
    return out


def _shift(step: Step, offset: float) -> Step:
    return Step(side=step.side, ic_s=step.ic_s + offset, to_s=step.to_s + offset, contact_s=step.contact_s,
                flight_s=step.flight_s, step_s=step.step_s, step_hz=step.step_hz)


def _by_foot(ref: Sequence[Step], det: Sequence[Step]) -> list[tuple[list[int], list[int]]]:
    """Index groups compared with each other: per foot when the reference knows it, else all."""
    if ref and all(s.side for s in ref):
        return [([i for i, s in enumerate(ref) if s.side == side], [j for j, s in enumerate(det) if s.side == side])
                for side in ("left", "right")]
    return [(list(range(len(ref))), list(range(len(det))))]


def _match(ref_t: list[float], det_t: list[float], groups, tolerance_s: float) -> list[tuple[int, int]]:
    found = []
    for r_idx, d_idx in groups:
        r_sorted = sorted(r_idx, key=lambda i: ref_t[i])
        d_sorted = sorted((j for j in d_idx if math.isfinite(det_t[j])), key=lambda j: det_t[j])
        r_sorted = [i for i in r_sorted if math.isfinite(ref_t[i])]
        for a, b in match_times([ref_t[i] for i in r_sorted], [det_t[j] for j in d_sorted], tolerance_s):
            found.append((r_sorted[a], d_sorted[b]))
    return found


def compare(reference: Sequence[Step], reference_where: Sequence[str], gaitmon: Sequence[Step],
            reps: Sequence[Rep], alignment: Alignment, tolerance_s: float,
            gaitmon_events: Sequence[GaitEvent] | None = None,
            reference_toe_offs: Sequence[GaitEvent] | None = None) -> Comparison:
    """Pair the reference's contacts with gaitmon's and compute :data:`SUMMARY_COLUMNS` per metric and phase.

    ``reference`` is on its own clock (the alignment's offset is added here). The TO figures pair
    ``reference_toe_offs`` (default: the reference steps' ``to_s``) with gaitmon's TO events
    (``gaitmon_events``; default: its steps' ``to_s``).
    """
    ref = sorted(((_shift(s, alignment.offset_s), w) for s, w in zip(reference, reference_where)
                  if math.isfinite(s.ic_s)), key=lambda sw: (sw[0].ic_s, sw[0].side))
    ref_steps = [s for s, _ in ref]
    ref_times = [t for s in ref_steps for t in (s.ic_s, s.to_s) if math.isfinite(t)]
    ref_times += [e.t + alignment.offset_s for e in reference_toe_offs or ()]
    span = (min(ref_times) - tolerance_s, max(ref_times) + tolerance_s)
    det = sorted((s for s in gaitmon if math.isfinite(s.ic_s)), key=lambda s: (s.ic_s, s.side))
    phases = phase_lookup(reps)
    groups = _by_foot(ref_steps, det)
    ic_pairs = _match([s.ic_s for s in ref_steps], [s.ic_s for s in det], groups, tolerance_s)
    matched_ref = {i: j for i, j in ic_pairs}
    matched_det = set(matched_ref.values())

    def phase_of(step: Step) -> tuple[str, int]:
        return phases.get((step.side, step.ic_s), ("other", 0))

    pairs = []
    for i, (s, where) in enumerate(ref):
        partner = det[matched_ref[i]] if i in matched_ref else None
        phase, rep = phase_of(partner) if partner is not None else _phase_at(det, phases, s.ic_s)
        pairs.append(StepPair(s, partner, where, phase, rep))
    for j, extra in enumerate(det):
        if j not in matched_det and span[0] <= extra.ic_s <= span[1]:
            pairs.append(StepPair(None, extra, "", *phase_of(extra)))
    pairs.sort(key=lambda p: (p.gaitmon or p.reference).ic_s)  # type: ignore[union-attr]

    comparison = Comparison(alignment, tolerance_s, span, pairs)
    # Events: IC from the step pairs; TO paired on its own, as gaitmon accuracy does.
    det_to = ([e for e in gaitmon_events if e.kind == "TO"] if gaitmon_events is not None
              else [GaitEvent(s.to_s, s.side, "TO") for s in det if math.isfinite(s.to_s)])
    det_to = [e for e in det_to if math.isfinite(e.t)]
    ref_to = ([Step(side=e.side, ic_s=e.t + alignment.offset_s) for e in reference_toe_offs]
              if reference_toe_offs is not None
              else [Step(side=s.side, ic_s=s.to_s) for s in ref_steps if math.isfinite(s.to_s)])
    to_groups = _by_foot(ref_to, [Step(side=e.side, ic_s=e.t) for e in det_to])
    to_pairs = _match([s.ic_s for s in ref_to], [e.t for e in det_to], to_groups, tolerance_s)
    event_sets = {
        "ic": ([s.ic_s for s in ref_steps], [s.ic_s for s in det], ic_pairs),
        "to": ([s.ic_s for s in ref_to], [e.t for e in det_to], to_pairs),
    }
    for metric in METRICS:
        if metric.kind == "event":
            ref_t, det_t, matches = event_sets[metric.key]
            g = np.array([det_t[j] for _, j in matches])
            sides = [det[j].side if metric.key == "ic" else det_to[j].side for _, j in matches]
            r = np.array([ref_t[i] for i, _ in matches])
            ph = [_phase_at(det, phases, t)[0] for t in g]
            n_ref = [_phase_at(det, phases, t)[0] for t in ref_t]
            n_det = [_phase_at(det, phases, t)[0] for t in det_t if span[0] <= t <= span[1]]
        else:
            name = metric.field
            rows = [(getattr(det[j], name), getattr(ref_steps[i], name), phase_of(det[j])[0], det[j].ic_s,
                     det[j].side)
                    for i, j in ic_pairs
                    if math.isfinite(getattr(det[j], name)) and math.isfinite(getattr(ref_steps[i], name))]
            g = np.array([x[0] for x in rows])
            r = np.array([x[1] for x in rows])
            ph = [x[2] for x in rows]
            g_t = np.array([x[3] for x in rows])
            sides = [x[4] for x in rows]
            n_ref = [_phase_at(det, phases, s.ic_s)[0] for s in ref_steps if math.isfinite(getattr(s, name))]
            n_det = [phase_of(s)[0] for s in det
                     if span[0] <= s.ic_s <= span[1] and math.isfinite(getattr(s, name))]
        t_of = g if metric.kind == "event" else g_t
        comparison.values[metric.key] = (g, r, ph, np.asarray(t_of, dtype=float))
        comparison.counts[metric.key] = (n_ref, n_det)
        comparison.sides[metric.key] = sides
    comparison.summary = summary_rows([comparison])
    return comparison


def _phase_at(det: Sequence[Step], phases, t: float) -> tuple[str, int]:
    """Phase of gaitmon's last contact at or before ``t`` (``other`` before the first)."""
    i = bisect_right(det, t, key=lambda s: s.ic_s)
    if i == 0:
        return "other", 0
    s = det[i - 1]
    return phases.get((s.side, s.ic_s), ("other", 0))
