"""Putting a reference system's contacts on gaitmon's clock, from the contact sequence itself.

A club's OptoJump, a lab's force plates and gaitmon's sensors run on unrelated clocks. The offset
between them is found the way the sequences themselves show it: slide the reference's initial
contacts (ICs) along gaitmon's and keep the offset at which the most of them land on a gaitmon IC of
the same foot *with a similar contact time*.

The search has two stages. First every candidate offset ``c`` (each gaitmon IC minus one of a few
anchor reference ICs) is scored with a smooth kernel; each reference contact ``k`` against the
nearest gaitmon IC of its foot, residual ``e = ic_gaitmon − (ic_ref + c)``:

    w_k = exp(−½ (e/σ_t)²) · (½ + ½ exp(−½ (Δcontact/σ_c)²)),   0 when |e| > tolerance

(σ_t = :data:`SIGMA_TIME_S`, σ_c = :data:`SIGMA_CONTACT_S`). Then the best few offsets (a tolerance
apart) are refined to the median residual of their matches and judged by how tightly the two
sequences then agree: the RMS of the IC residuals. Of the offsets that match (nearly) the most
contacts, the tightest wins. (Contact-time differences help find candidates but are left out of the
judgement: gaitmon's contact-time error is as large as the natural step-to-step variation.)

Because both systems see the same steps, a steady run makes the sequence almost periodic: a stride
off, or the same stretch of another rep, matches every contact too, only less tightly — by the
step-to-step variation of step and contact times. How sure the match is, is an F test of the
runner-up's residual variance against the winner's (``p_value``: the chance that the runner-up fits
this much worse by accident). Above :data:`MAX_P_VALUE` the alignment is refused rather than guessed
(:class:`AlignmentError`): give the offset, or a reference that spans a change of pace.

The offset found includes gaitmon's mean IC bias (the two cannot be told apart without a shared
clock), so IC errors are relative to the alignment and TO errors are TO − IC bias; durations (contact,
flight, step time) do not depend on the offset at all. With a shared clock, ``--same-clock`` skips the
search and every error is absolute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scipy import stats

from gaitmon.analysis.steps import Step

#: Width of the timing kernel, s (gaitmon's IC error SD on force-plate data is ≈ 7 ms).
SIGMA_TIME_S = 0.015
#: Width of the contact-time kernel, s.
SIGMA_CONTACT_S = 0.03
#: Reference contacts used as anchors for candidate offsets (spread over the reference).
N_ANCHORS = 8
#: Fewest matched contacts for an alignment.
MIN_MATCHED = 4
#: Smallest fraction of the reference's contacts that must match.
MIN_MATCHED_FRACTION = 0.5
#: Candidate offsets refined after the kernel search.
N_CANDIDATES = 12
#: Largest F-test p value of the runner-up accepted (above it the match is ambiguous).
MAX_P_VALUE = 0.01
#: Candidate offsets scored per block (bounds memory: block × reference contacts).
_BLOCK = 4096


class AlignmentError(ValueError):
    """No unambiguous alignment exists; the message says why, in one line."""


@dataclass(frozen=True)
class Alignment:
    """Where the reference's clock sits on gaitmon's: ``t_gaitmon = t_reference + offset_s``.

    Attributes
    ----------
    offset_s : float
        The offset, s.
    method : str
        ``"contact sequence"`` (searched), ``"same clock"`` (0) or ``"given"`` (``--offset``).
    n_reference, n_matched : int
        Reference contacts, and those on a gaitmon contact of the same foot within the tolerance.
    residual_sd_s : float
        SD of the matched IC residuals, s.
    spread_s : float
        RMS of the matched IC residuals, s.
    runner_up_offset_s, runner_up_spread_s : float
        The best other offset (a tolerance away or more) and its RMS; NaN when there is none.
    p_value : float
        F test of the runner-up against this offset: small = sure. 0 when no other offset matches;
        NaN when the offset was not searched.
    """

    offset_s: float
    method: str
    n_reference: int
    n_matched: int
    residual_sd_s: float
    spread_s: float
    runner_up_offset_s: float = math.nan
    runner_up_spread_s: float = math.nan
    p_value: float = math.nan

    def text(self) -> str:
        """One line for the terminal and the page."""
        head = f"offset {self.offset_s:+.4f} s ({self.method})"
        matched = (f"{self.n_matched} of {self.n_reference} reference contacts on a gaitmon contact, "
                   f"IC residual SD {self.residual_sd_s * 1e3:.1f} ms")
        if self.method != "contact sequence":
            return f"{head}: {matched}"
        runner = (f"next best {self.runner_up_offset_s:+.3f} s fits with RMS {self.runner_up_spread_s * 1e3:.1f} ms "
                  f"vs {self.spread_s * 1e3:.1f} ms (F test p = {self.p_value:.2g})"
                  if math.isfinite(self.runner_up_offset_s) else "no other offset matches")
        return f"{head}: {matched}; {runner}"


@dataclass(frozen=True)
class _Contacts:
    ic: np.ndarray
    contact: np.ndarray
    side: np.ndarray  # "left", "right" or ""

    @classmethod
    def of(cls, steps: Sequence[Step]) -> _Contacts:
        rows = sorted((s.ic_s, s.contact_s, s.side) for s in steps if math.isfinite(s.ic_s))
        return cls(np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=float),
                   np.array([r[2] for r in rows], dtype=object))


def _nearest(sorted_t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index into ``sorted_t`` of the nearest value to each ``x`` (``sorted_t`` not empty)."""
    i = np.clip(np.searchsorted(sorted_t, x), 1, len(sorted_t) - 1) if len(sorted_t) > 1 else np.zeros(
        x.shape, dtype=int)
    if len(sorted_t) > 1:
        left_closer = (x - sorted_t[i - 1]) < (sorted_t[i] - x)
        i = np.where(left_closer, i - 1, i)
    return i


def _groups(ref: _Contacts, det: _Contacts) -> list[tuple[np.ndarray, np.ndarray]]:
    """(reference indices, gaitmon indices) compared with each other: per foot when both know it."""
    ref_sides, det_sides = set(ref.side) - {""}, set(det.side) - {""}
    if ref_sides and "" not in set(ref.side) and det_sides and "" not in set(det.side):
        return [(np.flatnonzero(ref.side == s), np.flatnonzero(det.side == s)) for s in sorted(ref_sides)]
    return [(np.arange(len(ref.ic)), np.arange(len(det.ic)))]


def _residuals(ref: _Contacts, det: _Contacts, offsets: np.ndarray, groups) -> tuple[np.ndarray, np.ndarray]:
    """Per offset (rows) and reference contact (columns): IC residual (s; NaN: no gaitmon contact of
    that foot) and the contact-time difference of the nearest gaitmon contact (s; NaN: unknown)."""
    e = np.full((len(offsets), len(ref.ic)), np.nan)
    dc = np.full_like(e, np.nan)
    for r_idx, d_idx in groups:
        if not len(r_idx) or not len(d_idx):
            continue
        d_ic = det.ic[d_idx]
        shifted = ref.ic[r_idx][None, :] + offsets[:, None]
        nearest = _nearest(d_ic, shifted)
        e[:, r_idx] = d_ic[nearest] - shifted
        dc[:, r_idx] = det.contact[d_idx][nearest] - ref.contact[r_idx][None, :]
    return e, dc


def _scores(e: np.ndarray, dc: np.ndarray, tolerance_s: float) -> np.ndarray:
    time_w = np.where(np.abs(e) <= tolerance_s, np.exp(-0.5 * (e / SIGMA_TIME_S) ** 2), 0.0)
    contact_w = np.where(np.isfinite(dc), np.exp(-0.5 * (np.nan_to_num(dc) / SIGMA_CONTACT_S) ** 2), 1.0)
    return np.nansum(time_w * (0.5 + 0.5 * contact_w), axis=1)


@dataclass(frozen=True)
class _Fit:
    """One candidate offset after refinement: its matches and how tightly they agree."""

    offset_s: float
    n_matched: int
    residual_sd_s: float  # IC residuals, s
    spread_s: float  # RMS of the IC residuals (about the median: the offset is their median), s
    dof: int  # degrees of freedom of ``spread_s``


def _refine(ref, det, groups, offset: float, tolerance_s: float) -> _Fit:
    """Move ``offset`` to the median IC residual of its matches (three times) and measure the fit."""
    for _ in range(3):
        e, _dc = _residuals(ref, det, np.array([offset]), groups)
        matched = np.abs(e[0]) <= tolerance_s
        if not matched.any():
            break
        offset += float(np.median(e[0][matched]))
    return _fit(ref, det, groups, offset, tolerance_s)


def _fit(ref, det, groups, offset: float, tolerance_s: float) -> _Fit:
    e = _residuals(ref, det, np.array([offset]), groups)[0][0]
    matched = np.abs(e) <= tolerance_s
    values = e[matched]
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
    spread = float(np.sqrt(np.mean(values ** 2))) if len(values) else math.inf
    return _Fit(offset, int(matched.sum()), sd, spread, max(1, len(values) - 1))


def evaluate_offset(reference: Sequence[Step], gaitmon: Sequence[Step], offset_s: float, tolerance_s: float,
                    method: str) -> Alignment:
    """The :class:`Alignment` of a known offset (``method`` "same clock" or "given"), not searched."""
    ref, det = _Contacts.of(reference), _Contacts.of(gaitmon)
    fit = _fit(ref, det, _groups(ref, det), offset_s, tolerance_s)
    return Alignment(offset_s, method, len(ref.ic), fit.n_matched, fit.residual_sd_s, fit.spread_s)


def align(reference: Sequence[Step], gaitmon: Sequence[Step], tolerance_s: float) -> Alignment:
    """Find the offset that puts the reference's contacts on gaitmon's (module docstring).

    Parameters
    ----------
    reference, gaitmon : sequence of Step
        Contacts of each system on its own clock (``ic_s``, ``contact_s``, ``side``; side ``""`` =
        unknown, then feet are not told apart).
    tolerance_s : float
        Largest IC residual counted as a match, s.

    Raises
    ------
    AlignmentError
        Too few contacts on either side, too few reference contacts match at any offset, or another
        offset (a stride off) matches nearly as well.
    """
    ref, det = _Contacts.of(reference), _Contacts.of(gaitmon)
    if len(ref.ic) < MIN_MATCHED:
        raise AlignmentError(f"only {len(ref.ic)} reference contacts: at least {MIN_MATCHED} are needed to align")
    if len(det.ic) < MIN_MATCHED:
        raise AlignmentError(f"gaitmon found only {len(det.ic)} contacts: nothing to align the reference to")
    groups = _groups(ref, det)
    anchors = np.unique(np.linspace(0, len(ref.ic) - 1, min(N_ANCHORS, len(ref.ic))).round().astype(int))
    candidates = np.unique(np.round(np.concatenate(
        [det.ic[_same_foot(det, ref.side[a])] - ref.ic[a] for a in anchors]), 3))
    scores = np.concatenate([_scores(*_residuals(ref, det, block, groups), tolerance_s)
                             for block in np.array_split(candidates, max(1, len(candidates) // _BLOCK + 1))])
    tops: list[float] = []
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] <= 0 or len(tops) == N_CANDIDATES:
            break
        if all(abs(candidates[i] - t) > tolerance_s for t in tops):
            tops.append(float(candidates[i]))
    fits = [_refine(ref, det, groups, t, tolerance_s) for t in tops]
    if not fits or max(f.n_matched for f in fits) == 0:
        raise AlignmentError("no offset puts any reference contact on a gaitmon contact")
    most = max(f.n_matched for f in fits)
    eligible = sorted((f for f in fits if f.n_matched >= most - max(1, round(0.1 * most))),
                      key=lambda f: f.spread_s)
    best = eligible[0]
    runners = [f for f in eligible[1:] if abs(f.offset_s - best.offset_s) > tolerance_s]
    runner = runners[0] if runners else None
    p_value = (float(stats.f.sf((runner.spread_s / best.spread_s) ** 2, runner.dof, best.dof))
               if runner is not None and best.spread_s > 0 else 0.0)
    result = Alignment(best.offset_s, "contact sequence", len(ref.ic), best.n_matched, best.residual_sd_s,
                       best.spread_s, runner.offset_s if runner else math.nan,
                       runner.spread_s if runner else math.nan, p_value)
    if best.n_matched < max(MIN_MATCHED, MIN_MATCHED_FRACTION * len(ref.ic)):
        raise AlignmentError(f"at best {best.n_matched} of {len(ref.ic)} reference contacts fall on a gaitmon "
                             f"contact (offset {best.offset_s:+.3f} s): the two recordings do not show the same steps")
    if runner is not None and p_value > MAX_P_VALUE:
        raise AlignmentError(f"ambiguous: offsets {best.offset_s:+.3f} s and {runner.offset_s:+.3f} s fit almost "
                             f"equally well (residual RMS {best.spread_s * 1e3:.1f} vs {runner.spread_s * 1e3:.1f} "
                             f"ms, p = {p_value:.2g}); the steps are too regular to tell them apart — give "
                             "--offset, or a reference that spans a change of pace")
    return result


def _same_foot(det: _Contacts, side: str) -> np.ndarray:
    return np.ones(len(det.ic), dtype=bool) if not side or "" in set(det.side) else det.side == side
