"""Stride anatomy of the sagittal shank angular velocity ω, and where reference events fall on it.

``gaitmon accuracy DATASET --anatomy`` prints, for a folder of labelled recordings, where the
reference toe-offs (TO) and initial contacts (IC) sit relative to features of ω that a detector can
find. It measures the signal, not the detector: it is how the step core's rules are chosen and
checked against force plates (``docs/core.md`` quotes it).

ω is the sagittal angular velocity, swing positive: per recording and leg, the gyro samples are
projected on :func:`gaitmon.stream.orientation.sagittal_axis` of that leg's whole recording.

A stride runs from one mid-swing peak of ω to the next. Its features, in order (running shank):

``msw``
    the swing peak (largest ω of a swing; :func:`swing_peaks`).
``zero_down``
    the downward zero crossing after it (late swing falling through zero; linear interpolation
    between the two samples around it).
``dip``
    the post-IC dip: the lowest ω between ``zero_down`` and ``hump``.
``hump``
    the mid-stance hump: the local maximum of ω in stance (ω ≈ 0).
``steepest``
    the steepest point of the late-stance descent: the most negative dω/dt between ``hump`` and
    ``es_min`` (central difference over ±5 ms, at least ±1 sample).
``es_min``
    the early-swing minimum: the lowest ω before the rise into the next swing.
``zero_up``
    the upward zero crossing between ``es_min`` and the next peak (interpolated).
``acc_min``, ``acc_rise``
    the |a| minimum in ``zero_down`` −20 … +50 ms, and the time |a| has risen halfway from it to
    its maximum within the next 50 ms (interpolated): the impact, smoothed in marker-derived data.

Feature picking (the rules of the issue #13 measurements): from the next swing peak walk back
past the swing onset (ω ≤ 30 % of the peak), keep the lowest ω seen, and stop once ω is more than
a hysteresis fraction (25 %) of (peak − lowest) above it: that lowest point is ``es_min``. From
there walk back keeping the highest ω, and stop once ω is 25 % of (peak − ``es_min``) below it:
``hump``. Neither walk goes earlier than ``zero_down`` + 30 ms.

Reference events are assigned to a stride when they fall between its two peaks: IC if exactly one
does, TO the last one. Offsets are ``event − feature`` (positive: the event comes after the
feature), s. Pure numpy; the dataset loop and the text report are at the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gaitmon.consts import ACC_COLUMNS, GYRO_COLUMNS
from gaitmon.events import GaitEvent
from gaitmon.stream.orientation import sagittal_axis
from gaitmon.validation.datasets import dataset_pairs, read_recordings_table, short_speed, short_strike

NAN = math.nan

#: Hysteresis of the walk back from the next swing peak, fraction of the peak-to-minimum span.
HYSTERESIS = 0.25
#: The walk back starts below this fraction of the next swing peak (past the swing onset).
SWING_ONSET_FRACTION = 0.3
#: Neither walk back goes earlier than this after the downward zero crossing, s.
STANCE_GUARD_S = 0.03
#: Half width of the central difference for dω/dt, s (at least one sample).
SLOPE_HALF_WIDTH_S = 0.005
#: Swing peaks: at least this fraction of the 99th percentile of ω, and this far apart, s.
PEAK_HEIGHT_FRACTION = 0.5
PEAK_MIN_INTERVAL_S = 0.4
#: Strides longer than this (standing, a gap) are skipped, s.
MAX_STRIDE_S = 2.0
#: |a| minimum searched in zero_down + this window, s; the rise within this time after it, s.
ACC_MIN_WINDOW_S = (-0.02, 0.05)
ACC_RISE_WINDOW_S = 0.05

#: Fixed sensor axes :func:`sagittal_omega` can use instead of the sagittal axis.
SENSOR_AXES = ("x", "y", "z")

#: (event, feature) pairs reported, in report order.
OFFSETS: tuple[tuple[str, str], ...] = (
    ("IC", "msw"), ("IC", "zero_down"), ("IC", "dip"), ("IC", "acc_min"), ("IC", "acc_rise"),
    ("TO", "hump"), ("TO", "steepest"), ("TO", "es_min"), ("TO", "zero_up"),
)

FEATURE_LABELS = {
    "msw": "MSW peak", "zero_down": "zero↓", "dip": "dip", "acc_min": "|a|min", "acc_rise": "|a|rise",
    "hump": "hump", "steepest": "steepest", "es_min": "ESmin", "zero_up": "zero↑",
}


@dataclass(frozen=True)
class Stride:
    """Features of one stride of one leg (times in s, ω in rad/s, slope in rad/s², |a| in m/s²).

    NaN where a feature could not be found. ``ic`` and ``to`` are the reference events assigned
    by :func:`assign_events` (NaN when none).
    """

    side: str
    t_msw: float
    msw: float
    t_zero_down: float
    t_dip: float
    dip: float
    t_hump: float
    hump: float
    t_steepest: float
    steepest_slope: float
    t_es_min: float
    es_min: float
    t_zero_up: float
    t_msw_next: float
    msw_next: float
    t_acc_min: float = NAN
    acc_min: float = NAN
    t_acc_rise: float = NAN
    acc_rise: float = NAN
    ic: float = NAN
    to: float = NAN

    @property
    def stride_s(self) -> float:
        return self.t_msw_next - self.t_msw

    @property
    def contact_s(self) -> float:
        return self.to - self.ic

    def offset(self, event: str, feature: str) -> float:
        """``event − feature`` time, s (NaN when either is missing)."""
        return (self.ic if event == "IC" else self.to) - getattr(self, f"t_{feature}")


# --------------------------------------------------------------------------- signal helpers


def sagittal_omega(x: np.ndarray, placement: str = "shank", axis: str = "sagittal") -> np.ndarray:
    """ω (rad/s) of sensor-frame samples ``x[n, 6]``.

    ``axis="sagittal"``: the projection on :func:`gaitmon.stream.orientation.sagittal_axis` of these
    samples (its sign rule for ``placement``); ``"x"``, ``"y"`` or ``"z"``: that gyro axis as it is.
    Check the sign with :func:`swing_sign` when reference events are known.
    """
    gyro = np.asarray(x, dtype=np.float64)[:, GYRO_COLUMNS]
    if axis in SENSOR_AXES:
        return gyro[:, SENSOR_AXES.index(axis)].copy()
    if axis != "sagittal":
        raise ValueError(f"axis must be 'sagittal', 'x', 'y' or 'z', not {axis!r}")
    try:
        direction = sagittal_axis(gyro, placement=placement)
    except TypeError:  # a sagittal_axis without a placement-specific sign rule
        direction = sagittal_axis(gyro)
    return gyro @ direction


def swing_sign(t, w, to_times, ic_times, max_swing_s: float = 1.5) -> float:
    """+1 if ω integrates positive over the reference swings (each TO to the next IC), else −1.

    The shank (or foot) leaves the ground inclined backward and lands inclined forward, so the
    angle swept in swing, ``∫ω dt`` from TO to IC, is positive when ω is swing positive, whatever
    the gait; NaN without a usable swing. A check on the sign of :func:`sagittal_axis`, whose
    duration rule can pick the stance side on running shanks (long negative stance and early-swing
    lobes).
    """
    t = np.asarray(t, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    ic = np.sort(np.asarray(list(ic_times), dtype=np.float64))
    total, used = 0.0, 0
    for to in np.sort(np.asarray(list(to_times), dtype=np.float64)):
        k = np.searchsorted(ic, to, side="right")
        if k == len(ic) or ic[k] - to > max_swing_s:
            continue
        i0, i1 = np.searchsorted(t, [to, ic[k]])
        if i1 - i0 < 2:
            continue
        seg_t, seg_w = t[i0:i1], w[i0:i1]
        total += float(np.sum(0.5 * (seg_w[1:] + seg_w[:-1]) * np.diff(seg_t)))
        used += 1
    if not used:
        return NAN
    return 1.0 if total >= 0 else -1.0


def acc_magnitude(x: np.ndarray) -> np.ndarray:
    acc = np.asarray(x, dtype=np.float64)[:, ACC_COLUMNS]
    return np.sqrt(np.einsum("ij,ij->i", acc, acc))


def central_slope(t: np.ndarray, w: np.ndarray, half_width_s: float = SLOPE_HALF_WIDTH_S) -> np.ndarray:
    """dω/dt by a central difference over ± ``half_width_s`` (at least one sample); NaN at the ends."""
    t = np.asarray(t, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    out = np.full(w.shape, NAN)
    if len(t) < 3:
        return out
    fs = 1.0 / np.median(np.diff(t))
    h = max(1, int(round(half_width_s * fs)))
    if len(t) > 2 * h:
        out[h:-h] = (w[2 * h:] - w[:-2 * h]) / (t[2 * h:] - t[:-2 * h])
    return out


def swing_peaks(t: np.ndarray, w: np.ndarray, height_fraction: float = PEAK_HEIGHT_FRACTION,
                min_interval_s: float = PEAK_MIN_INTERVAL_S) -> np.ndarray:
    """Indices of the swing peaks of ω: local maxima of at least ``height_fraction`` × the 99th
    percentile of ω, at least ``min_interval_s`` apart."""
    from scipy.signal import find_peaks

    w = np.asarray(w, dtype=np.float64)
    if len(w) < 3:
        return np.zeros(0, dtype=int)
    fs = 1.0 / np.median(np.diff(t))
    peaks, _ = find_peaks(w, height=height_fraction * np.percentile(w, 99),
                          distance=max(1, int(min_interval_s * fs)))
    return peaks


def _cross(t: np.ndarray, w: np.ndarray, i: int, level: float = 0.0) -> float:
    """Time where ω crosses ``level`` between samples i and i+1 (linear interpolation)."""
    return float(t[i] + (level - w[i]) / (w[i + 1] - w[i]) * (t[i + 1] - t[i]))


def stride_features(t, w, acc=None, side: str = "", peaks=None, hysteresis: float = HYSTERESIS,
                    max_stride_s: float = MAX_STRIDE_S) -> list[Stride]:
    """Features of every stride (peak to next peak) of one leg; see the module docstring.

    Parameters
    ----------
    t, w : array_like
        Sample times (s, increasing) and ω (rad/s, swing positive).
    acc : array_like, optional
        |a| (m/s²) at the same times; without it the ``acc_*`` features are NaN.
    side : str
        Copied into every stride.
    peaks : array_like of int, optional
        Swing-peak indices; default :func:`swing_peaks`.
    """
    t = np.asarray(t, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    a = None if acc is None else np.asarray(acc, dtype=np.float64)
    peaks = swing_peaks(t, w) if peaks is None else np.asarray(peaks, dtype=int)
    slope = central_slope(t, w)
    strides = []
    for pa, pb in zip(peaks[:-1], peaks[1:]):
        pa, pb = int(pa), int(pb)
        if t[pb] - t[pa] > max_stride_s:
            continue
        # downward zero crossing after the first peak
        j = pa
        while j < pb and w[j + 1] > 0:
            j += 1
        if j >= pb:
            continue
        t_zd = _cross(t, w, j)
        lo = int(np.searchsorted(t, t_zd + STANCE_GUARD_S))
        top = w[pb]
        # early-swing minimum: walk back from the next peak past the swing onset, with hysteresis
        q = pb
        while q > lo and w[q - 1] > SWING_ONSET_FRACTION * top:
            q -= 1
        mn = q
        while q > lo:
            q -= 1
            if w[q] < w[mn]:
                mn = q
            elif w[q] > w[mn] + hysteresis * (top - w[mn]):
                break
        ies = mn
        # mid-stance hump: keep walking back, highest ω, with hysteresis
        q = mx = ies
        while q > lo:
            q -= 1
            if w[q] > w[mx]:
                mx = q
            elif w[q] < w[mx] - hysteresis * (top - w[ies]):
                break
        ihump = mx
        seg = slope[ihump:ies + 1]
        if seg.size and np.isfinite(seg).any():
            isd = ihump + int(np.nanargmin(seg))
            t_sd, s_sd = float(t[isd]), float(slope[isd])
        else:
            t_sd = s_sd = NAN
        # post-IC dip: lowest ω between the zero crossing and the hump
        if ihump > j + 1:
            idip = j + 1 + int(np.argmin(w[j + 1:ihump]))
            t_dip, dip = float(t[idip]), float(w[idip])
        else:
            t_dip = dip = NAN
        # upward zero crossing on the way to the next peak
        q = pb
        while q > ies and w[q - 1] > 0:
            q -= 1
        t_zu = _cross(t, w, q - 1) if q > ies and w[q - 1] <= 0 < w[q] else NAN
        acc_fields = _acc_features(t, a, t_zd) if a is not None else {}
        strides.append(Stride(
            side=side, t_msw=float(t[pa]), msw=float(w[pa]), t_zero_down=t_zd, t_dip=t_dip, dip=dip,
            t_hump=float(t[ihump]), hump=float(w[ihump]), t_steepest=t_sd, steepest_slope=s_sd,
            t_es_min=float(t[ies]), es_min=float(w[ies]), t_zero_up=t_zu,
            t_msw_next=float(t[pb]), msw_next=float(top), **acc_fields,
        ))
    return strides


def _acc_features(t: np.ndarray, a: np.ndarray, t_zd: float) -> dict:
    i0, i1 = (int(i) for i in np.searchsorted(t, [t_zd + ACC_MIN_WINDOW_S[0], t_zd + ACC_MIN_WINDOW_S[1]],
                                                 side="right"))
    if i1 <= i0:
        return {}
    imin = i0 + int(np.argmin(a[i0:i1]))
    iend = int(np.searchsorted(t, t[imin] + ACC_RISE_WINDOW_S, side="right"))
    if iend <= imin + 1:
        return {"t_acc_min": float(t[imin]), "acc_min": float(a[imin])}
    imax = imin + int(np.argmax(a[imin:iend]))
    rise = float(a[imax] - a[imin])
    t_rise = NAN
    if rise > 0:
        half = a[imin] + 0.5 * rise
        k = imin + int(np.argmax(a[imin:imax + 1] >= half))  # first sample at or above half
        t_rise = _cross(t, a, k - 1, half) if k > imin else float(t[k])
    return {"t_acc_min": float(t[imin]), "acc_min": float(a[imin]), "t_acc_rise": t_rise, "acc_rise": rise}


def assign_events(strides: Sequence[Stride], ic_times, to_times) -> list[Stride]:
    """Strides with their reference events: the one IC between the two peaks, the last TO there."""
    ic = np.sort(np.asarray(list(ic_times), dtype=np.float64))
    to = np.sort(np.asarray(list(to_times), dtype=np.float64))
    out = []
    for s in strides:
        ics = ic[(ic > s.t_msw) & (ic < s.t_msw_next)]
        tos = to[(to > s.t_msw) & (to < s.t_msw_next)]
        out.append(replace(s, ic=float(ics[0]) if len(ics) == 1 else NAN,
                           to=float(tos[-1]) if len(tos) else NAN))
    return out


def offsets(strides: Iterable[Stride], pairs: Sequence[tuple[str, str]] = OFFSETS) -> dict[str, np.ndarray]:
    """``"EVENT-feature" -> event − feature`` per stride, s (NaN where missing)."""
    strides = list(strides)
    return {f"{ev}-{feat}": np.array([s.offset(ev, feat) for s in strides], dtype=np.float64) for ev, feat in pairs}


def robust_summary(values) -> dict[str, float]:
    """Median, SD (ddof 1), min, max and count of the finite values (NaN when there are none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "median": NAN, "sd": NAN, "min": NAN, "max": NAN}
    return {"n": int(v.size), "median": float(np.median(v)), "sd": float(v.std(ddof=1)) if v.size > 1 else NAN,
            "min": float(v.min()), "max": float(v.max())}


def leg_anatomy(t, x, reference: Iterable[GaitEvent], side: str, placement: str = "shank",
                axis: str = "sagittal") -> tuple[list[Stride], bool]:
    """Strides of one leg of a recording with their reference events (``x[n, 6]`` sensor frame).

    ω from :func:`sagittal_omega`, made swing positive by :func:`swing_sign`. Returns the strides
    and whether that sign had to be flipped.
    """
    reference = [e for e in reference if e.side == side]
    ic = [e.t for e in reference if e.kind == "IC"]
    to = [e.t for e in reference if e.kind == "TO"]
    w = sagittal_omega(x, placement=placement, axis=axis)
    flipped = swing_sign(t, w, to, ic) < 0
    if flipped:
        w = -w
    strides = stride_features(t, w, acc_magnitude(x), side=side)
    return assign_events(strides, ic, to), flipped


# --------------------------------------------------------------------------- dataset report


@dataclass
class RecordingAnatomy:
    name: str
    subject: str
    speed: str = ""
    strike: str = ""
    strides: list[Stride] = field(default_factory=list)
    #: legs whose sagittal_axis sign was flipped by :func:`swing_sign`
    flipped: list[str] = field(default_factory=list)


@dataclass
class AnatomyReport:
    """Stride anatomy of every recording of a dataset."""

    title: str
    recordings: list[RecordingAnatomy] = field(default_factory=list)
    axis: str = "sagittal"

    def all_strides(self, subject: str | None = None) -> list[Stride]:
        return [s for r in self.recordings if subject is None or r.subject == subject for s in r.strides]

    def subjects(self) -> list[str]:
        return sorted({r.subject for r in self.recordings})

    def recording_medians(self, key: str) -> dict[str, float]:
        return {r.name: robust_summary(offsets(r.strides)[key])["median"] for r in self.recordings}

    def subject_medians(self, key: str) -> dict[str, float]:
        return {subj: robust_summary(offsets(self.all_strides(subj))[key])["median"] for subj in self.subjects()}

    def text(self) -> str:
        return format_anatomy(self)


def _ms(value: float, fmt: str = "+.1f") -> str:
    return "n/a" if not math.isfinite(value) else format(value * 1e3, fmt)


def _val(value: float, fmt: str = ".1f") -> str:
    return "n/a" if not math.isfinite(value) else format(value, fmt)


def format_anatomy(report: AnatomyReport) -> str:
    recs = report.recordings
    name_w = max([len("recording")] + [len(r.name) for r in recs]) + 2
    n_legs = sum(len({s.side for s in r.strides}) for r in recs)
    n_flipped = sum(len(r.flipped) for r in recs)
    if report.axis == "sagittal":
        source = "gyro projected on gaitmon.stream.orientation.sagittal_axis per recording and leg"
        flip_note = "sagittal_axis's sign rule gave stance-positive ω"
    else:
        source = f"gyro axis {report.axis} of the sensor"
        flip_note = f"−g{report.axis} was the swing-positive sign"
    lines = [report.title,
             f"ω = sagittal angular velocity: {source}, signed so that ∫ω dt over the reference swings "
             "(TO → next IC) is positive (swing positive); a stride = MSW peak to the next MSW peak"]
    if n_flipped:
        lines.append(f"NOTE: {flip_note} on {n_flipped} of {n_legs} legs (sign flipped here)")
    lines += ["",
             "Stride anatomy, per recording: medians over strides (both legs)"]
    head = (f"{'recording':<{name_w}}{'m/s':>5}  {'strike':<10}{'strides':>8}{'contact':>8}{'stride':>7}"
            f"{'peak':>6}{'dip':>6}{'hump':>6}{'slope':>7}{'ESmin':>6}{'|a| rise':>9}")
    lines += [head, f"{'':<{name_w}}{'':>5}  {'':<10}{'':>8}{'ms':>8}{'ms':>7}{'rad/s':>6}{'rad/s':>6}"
                    f"{'rad/s':>6}{'rad/s²':>7}{'rad/s':>6}{'m/s²':>9}"]
    for r in recs:
        s = r.strides

        def med(get):
            return robust_summary([get(x) for x in s])["median"]

        lines.append(
            f"{r.name:<{name_w}}{r.speed or '':>5}  {r.strike or '':<10}{len(s):>8}"
            f"{_ms(med(lambda x: x.contact_s), '.0f'):>8}{_ms(med(lambda x: x.stride_s), '.0f'):>7}"
            f"{_val(med(lambda x: x.msw_next)):>6}{_val(med(lambda x: x.dip)):>6}{_val(med(lambda x: x.hump)):>6}"
            f"{_val(med(lambda x: x.steepest_slope), '.0f'):>7}{_val(med(lambda x: x.es_min)):>6}"
            f"{_val(med(lambda x: x.acc_rise)):>9}")
    lines += ["", "Where the reference events fall: event − feature, ms, median (SD) over strides; "
                  "+ = the event comes after the feature"]
    keys = [f"{ev}-{feat}" for ev, feat in OFFSETS]
    labels = [f"{ev}−{FEATURE_LABELS[feat]}" for ev, feat in OFFSETS]
    col_w = 15
    lines.append(f"{'recording':<{name_w}}" + "".join(f"{lab:>{col_w}}" for lab in labels))
    for r in recs:
        off = offsets(r.strides)
        cells = []
        for k in keys:
            sm = robust_summary(off[k])
            cells.append(f"{_ms(sm['median'])} ({_ms(sm['sd'], '.1f')})")
        lines.append(f"{r.name:<{name_w}}" + "".join(f"{c:>{col_w}}" for c in cells))
    # across runners
    subjects = report.subjects()
    lines += ["", f"Across runners: per-subject medians over all their strides, ms ({len(subjects)} subjects)"]
    subj_w = max([len("subject")] + [len(s) for s in subjects] + [len("median of recording medians")]) + 2
    lines.append(f"{'subject':<{subj_w}}{'recs':>5}{'strides':>8}" + "".join(f"{lab:>{col_w}}" for lab in labels))
    per_subject = {k: report.subject_medians(k) for k in keys}
    for subj in subjects:
        n_recs = sum(r.subject == subj for r in recs)
        lines.append(f"{subj:<{subj_w}}{n_recs:>5}{len(report.all_strides(subj)):>8}"
                     + "".join(f"{_ms(per_subject[k][subj]):>{col_w}}" for k in keys))

    def row(label, values):
        return f"{label:<{subj_w}}{'':>5}{'':>8}" + "".join(f"{v:>{col_w}}" for v in values)

    spread = []
    for k in keys:
        v = np.array([x for x in per_subject[k].values() if math.isfinite(x)])
        spread.append("n/a" if v.size == 0 else f"{_ms(v.min())}..{_ms(v.max())}")
    lines.append(row("subject range", spread))
    lines.append(row("spread (max − min)", [_ms(_ptp(per_subject[k].values()), '.1f') for k in keys]))
    rec_meds = {k: report.recording_medians(k) for k in keys}
    lines.append(row("median of recording medians", [_ms(_nanmedian(rec_meds[k].values())) for k in keys]))
    lines.append(row("pooled median (SD)", [
        f"{_ms(sm['median'])} ({_ms(sm['sd'], '.1f')})"
        for sm in (robust_summary(offsets(report.all_strides())[k]) for k in keys)]))
    n_ic = sum(math.isfinite(s.ic) for s in report.all_strides())
    n_to = sum(math.isfinite(s.to) for s in report.all_strides())
    lines.append(f"{len(report.all_strides())} strides, {n_ic} with one reference IC, {n_to} with a reference TO")
    return "\n".join(lines)


def _ptp(values) -> float:
    v = np.array([x for x in values if math.isfinite(x)])
    return float(v.max() - v.min()) if v.size else NAN


def _nanmedian(values) -> float:
    v = np.array([x for x in values if math.isfinite(x)])
    return float(np.median(v)) if v.size else NAN




def dataset_anatomy(folder: Path, title: str | None = None,
                    metadata: Mapping[str, Mapping[str, str]] | None = None, placement: str = "shank",
                    axis: str = "sagittal") -> AnatomyReport:
    """Stride anatomy of every ``<name>_imu.csv`` with a ``<name>_events.csv`` in ``folder``.

    ``metadata`` (default: the folder's ``recordings.csv``) gives subject, speed and strike pattern
    per recording; ``placement`` and ``axis`` go to :func:`sagittal_omega`.
    """
    from gaitmon.io import read_events_csv, read_imu_csv

    folder = Path(folder)
    pairs = dataset_pairs(folder)
    metadata = read_recordings_table(folder) if metadata is None else metadata
    report = AnatomyReport(title or f"STRIDE ANATOMY: {folder.name}", axis=axis)
    for name, imu_path, events_path in pairs:
        samples = read_imu_csv(imu_path)
        reference = read_events_csv(events_path)
        meta = metadata.get(name, {})
        rec = RecordingAnatomy(name, meta.get("subject") or name, short_speed(meta.get("speed_m_s", "")),
                               short_strike(meta.get("strike_pattern", "")))
        for side, (t, x) in samples.items():
            if len(t) > 10:
                strides, flipped = leg_anatomy(t, x, reference, side, placement=placement, axis=axis)
                rec.strides += strides
                if flipped:
                    rec.flipped.append(side)
        report.recordings.append(rec)
    return report
