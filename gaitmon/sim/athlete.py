"""The simulated athlete: where the gait events sit on this runner's ω, and how hard they land.

Real running shows a stable stride anatomy on the sagittal shank ω but a between-runner spread of
the events around its features (running_mocap, see ``docs/core.md``; measured offsets: IC 11–24 ms
after the downward zero crossing, TO 25 ms before … 3 ms before the steepest late-stance descent,
medians per runner; Hamner vs RBDS runners differ by ~17 ms). So the offsets are drawn **per
athlete** — one draw per session — plus a small per-stride jitter; no fixed offset exists that a
detector could be tuned to.

Per-athlete parameters (:func:`draw_athlete`, from the session's ``athlete`` stream):

- ``delta_ic_s`` ~ N(18 ms, 5 ms) clipped to [5, 35] ms: IC = downward zero crossing + δ_IC.
- ``delta_to_s`` ~ N(−13 ms, 9 ms) clipped to [−35, +10] ms: TO = steepest late-stance descent + δ_TO
  (negative: toe-off comes before the steepest point).
- ``delta_ic_jitter_s``, ``delta_to_jitter_s`` ~ U(3, 5) ms: SD of the per-stride jitter (Gaussian,
  clipped at ±2 SD; the stride's δ is then kept within [3, 40] ms and [−40, +15] ms).
- ``dip_fraction`` ~ U(0.11, 0.23): post-IC ω minimum at IC + fraction × contact time (measured
  0.11–0.23, i.e. 30–60 ms at 2–5 m/s; proportionally compressed for sprint contacts).
- ``hump_fraction`` ~ U(0.17, 0.30): mid-stance hump at least this fraction of the contact before the
  steepest descent (measured 0.17–0.31).
- ``es_gap_fraction`` ~ U(0.065, 0.105): early-swing minimum ESmin after the steepest descent, as a
  fraction of the stride time (measured 43–78 ms at strides of 620–770 ms; ≈ 30–45 ms sprinting).
- ``msw_fraction`` ~ U(0.62, 0.72): mid-swing peak as a fraction of ESmin → next zero crossing
  (measured 0.65–0.71; the peak then sits 103–120 ms before the zero crossing at 2–5 m/s).
- ``hump_offset_rad_s`` ~ U(−0.4, +0.3): level of the mid-stance hump at running speeds (measured).
- ``dip_gain``, ``es_gain`` ~ U(0.85, 1.15): depth of the post-IC dip and of ESmin (modelled).
- ``soft_landing`` (probability ``SimConfig.soft_impact_share``) and ``impact_scale``: 0 for a soft
  lander (soft surface, loose strap: no visible impact, in the accelerometer or the gyro), else
  ~ U(0.75, 1.25) × the speed-dependent impact size of :mod:`gaitmon.sim.profile`.

Per stride (:func:`assign_strides`, same stream, after the athlete): the stride's δ_IC and δ_TO, the
shape fractions with a 5 % CV and the hump level with 0.1 rad/s SD. The draws never depend on the
sample rate or on the sensor-imperfection switches, and their number is fixed, so the soft-landing
share changes nothing but the impacts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .timeline import Timeline

#: Per-athlete offset distributions, s: (mean, SD, low clip, high clip).
DELTA_IC = (0.018, 0.005, 0.005, 0.035)
DELTA_TO = (-0.013, 0.009, -0.035, 0.010)
#: Per-stride jitter SD range, s, and the bounds a stride's offset is kept within, s.
JITTER_SD = (0.003, 0.005)
STRIDE_DELTA_IC = (0.003, 0.040)
STRIDE_DELTA_TO = (-0.040, 0.015)
#: Per-stride CV of the shape fractions; SD of the hump level, rad/s.
CV_SHAPE = 0.05
SD_HUMP = 0.1


@dataclass
class Athlete:
    """The per-athlete parameters of a simulated session (see the module docstring)."""

    delta_ic_s: float
    delta_to_s: float
    delta_ic_jitter_s: float
    delta_to_jitter_s: float
    dip_fraction: float
    hump_fraction: float
    es_gap_fraction: float
    msw_fraction: float
    hump_offset_rad_s: float
    dip_gain: float
    es_gain: float
    soft_landing: bool
    impact_scale: float

    def as_dict(self) -> dict:
        return asdict(self)


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    return float(min(hi, max(lo, mean + sd * rng.standard_normal())))


def draw_athlete(rng: np.random.Generator, soft_impact_share: float = 0.0) -> Athlete:
    """Draw one athlete. Always the same number of draws, whatever *soft_impact_share* is."""
    d_ic = _clipped_normal(rng, *DELTA_IC)
    d_to = _clipped_normal(rng, *DELTA_TO)
    j_ic, j_to = (float(v) for v in rng.uniform(*JITTER_SD, 2))
    dip = float(rng.uniform(0.11, 0.23))
    hump = float(rng.uniform(0.17, 0.30))
    es = float(rng.uniform(0.065, 0.105))
    msw = float(rng.uniform(0.62, 0.72))
    level = float(rng.uniform(-0.4, 0.3))
    dip_gain, es_gain = (float(v) for v in rng.uniform(0.85, 1.15, 2))
    soft = bool(rng.uniform() < soft_impact_share)
    scale = float(rng.uniform(0.75, 1.25))
    return Athlete(d_ic, d_to, j_ic, j_to, dip, hump, es, msw, level, dip_gain, es_gain, soft,
                   0.0 if soft else scale)


def assign_strides(timeline: Timeline, athlete: Athlete, rng: np.random.Generator) -> None:
    """Give every contact and standing-start push of *timeline* its per-stride shape (in place)."""

    def jitter(sd: float) -> float:
        return sd * min(2.0, max(-2.0, float(rng.standard_normal())))

    def shape() -> float:
        return 1.0 + jitter(CV_SHAPE)

    for c in sorted(timeline.contacts, key=lambda c: (c.ic, c.side)):
        c.delta_ic = min(STRIDE_DELTA_IC[1], max(STRIDE_DELTA_IC[0],
                                                 athlete.delta_ic_s + jitter(athlete.delta_ic_jitter_s)))
        c.delta_to = min(STRIDE_DELTA_TO[1], max(STRIDE_DELTA_TO[0],
                                                 athlete.delta_to_s + jitter(athlete.delta_to_jitter_s)))
        c.dip_fraction = athlete.dip_fraction * shape()
        c.hump_fraction = athlete.hump_fraction * shape()
        c.es_gap_fraction = athlete.es_gap_fraction * shape()
        c.msw_fraction = min(0.8, athlete.msw_fraction * shape())
        c.omega_dip *= athlete.dip_gain
        c.omega_es *= athlete.es_gain
        c.omega_hump += athlete.hump_offset_rad_s * (0.5 if c.walking else 1.0) + jitter(SD_HUMP)
        # Keep the anatomy: dip and ESmin clearly below the hump.
        c.omega_dip = min(c.omega_dip, c.omega_hump - 0.3)
        c.omega_es = min(c.omega_es, c.omega_hump - 0.8)
    for p in sorted(timeline.pushes, key=lambda p: (p.to, p.side)):
        p.delta_to = min(STRIDE_DELTA_TO[1], max(STRIDE_DELTA_TO[0],
                                                 athlete.delta_to_s + jitter(athlete.delta_to_jitter_s)))
        p.es_gap_fraction = athlete.es_gap_fraction * shape()
        p.omega_es *= athlete.es_gain
