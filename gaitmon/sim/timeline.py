"""The session timeline: every contact of both legs, the standing starts and the standing spells.

This is the ground truth before any signal exists. A session is::

    standing (fidget) → [ start line (still) → standing start → acceleration → top speed
                          → deceleration to a jog → walking recovery → standing ] × n_reps

Legs alternate contacts; the first contact of a rep is made by a random leg (the rear leg of the
standing start, which toes off first and swings through while the front leg pushes). Each contact
carries its timing (IC, TO, the step time to the next contralateral IC) and the amplitudes the
waveform model needs (the peak of the swing that brought the leg into this contact, the levels of
the post-IC dip, the mid-stance hump and the early-swing minimum after TO, impact sizes, stance
bounce); :mod:`gaitmon.sim.athlete` then adds the per-stride event offsets and shape fractions.
The two swings that leave the last jog contacts for the first walking contacts peak halfway
between jog and walk. Per-step variability (CV 1.5–2.5 % on timing and swing peaks) is drawn here
from the session's plan generator, which depends on the seed only, so the truth does not change
with the sample rate or the sensor-imperfection switches.

Units: s, m/s, rad/s; impact and bounce amplitudes in g.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..analysis.steps import spring_mass_force_bw
from ..consts import SIDES
from . import profile as pf
from .scenarios import rep_gains

#: Per-step coefficients of variation (fractional): contact time, step time, swing peak,
#: ω levels of the post-IC dip and of the early-swing minimum, impact sizes. Draws are clipped at ±2 SD.
CV_CONTACT = 0.025
CV_STEP = 0.015
CV_SWING = 0.025
CV_STANCE_OMEGA = 0.05
CV_IMPACT = 0.06


@dataclass
class Contact:
    """One foot contact (IC to TO) and the swing that led into it. See module docstring."""

    side: str
    rep: int  # 0 = walking recovery (not in a rep)
    phase: str  # standing_start | acceleration | top_speed | deceleration | walk
    speed: float  # m/s
    ic: float  # s
    contact: float  # planned contact time, s (NaN if the leg then stands)
    step: float  # time to the next contralateral IC, s (NaN at the end of a bout)
    omega_peak: float  # peak of the incoming swing, rad/s
    omega_dip: float  # post-IC ω minimum, rad/s
    omega_es: float  # early-swing minimum after TO, rad/s; NaN if the leg then stands
    walking: bool
    impact_gyro: float  # peak of the ω impact ringing, rad/s (before the athlete's impact scale)
    impact_acc_g: float  # peak of the axial impact pulse, g (before the athlete's impact scale)
    bounce_g: float  # peak extra vertical specific force in stance, g
    settle_s: float = float("nan")  # final contact of a bout: time for ω to return to rest
    omega_hump: float = float("nan")  # mid-stance hump (local max of ω), rad/s
    # Per-stride shape, set by gaitmon.sim.athlete.assign_strides (see there):
    delta_ic: float = float("nan")  # IC − downward zero crossing, s
    delta_to: float = float("nan")  # TO − steepest late-stance descent, s
    dip_fraction: float = float("nan")  # (post-IC dip − IC) / contact (running)
    hump_fraction: float = float("nan")  # (steepest descent − hump) / contact, at least
    es_gap_fraction: float = float("nan")  # (ESmin − steepest descent) / stride
    msw_fraction: float = float("nan")  # (MSW − ESmin) / (next zero crossing − ESmin)

    @property
    def to(self) -> float:
        return self.ic + self.contact

    @property
    def final(self) -> bool:
        return not math.isfinite(self.contact)

    @property
    def flight(self) -> float:
        return self.step - self.contact


@dataclass
class Push:
    """The push from standing that ends in a standing-start toe-off."""

    side: str
    rep: int
    start: float  # s, the start signal
    to: float  # s
    omega_es: float  # early-swing minimum after TO, rad/s
    bounce_g: float
    delta_to: float = float("nan")  # TO − steepest descent, s (gaitmon.sim.athlete)
    es_gap_fraction: float = float("nan")  # (ESmin − steepest descent) / stride (gaitmon.sim.athlete)


@dataclass
class Stand:
    """A standing spell of one leg: fidget from ``start`` to ``still_from``, still until ``end``."""

    side: str
    start: float
    still_from: float
    end: float


@dataclass
class Timeline:
    contacts: list[Contact] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    stands: list[Stand] = field(default_factory=list)
    reps: list[dict] = field(default_factory=list)
    end: float = 0.0


def _other(side: str) -> str:
    return SIDES[1] if side == SIDES[0] else SIDES[0]


class _Jitter:
    """Clipped Gaussian multiplicative jitter from the plan generator."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def __call__(self, cv: float) -> float:
        return 1.0 + cv * min(2.0, max(-2.0, float(self.rng.standard_normal())))


def build_timeline(scenario: str, n_reps: int, recovery_s: float, initial_standing_s: float,
                   asymmetry: float, rng: np.random.Generator) -> Timeline:
    """Plan a whole session.

    Parameters
    ----------
    scenario : str
        Key of :data:`gaitmon.sim.SCENARIOS`; sets the rep-level swing/push gains.
    n_reps, recovery_s, initial_standing_s, asymmetry
        As in :class:`gaitmon.sim.SimConfig`.
    rng : numpy.random.Generator
        The plan generator (seed-only; independent of the sample rate and realism switches).

    Returns
    -------
    Timeline
        Contacts sorted by IC, standing-start pushes, standing spells, rep summaries (without the
        realised top-speed means, which the session computes from the steps).
    """
    jit = _Jitter(rng)
    tl = Timeline()
    # The athlete: top speed, top-speed swing peak and contact time at rep 1.
    vmax0 = rng.uniform(9.0, 9.8)
    omega0 = rng.uniform(20.5, 21.5)
    contact0 = rng.uniform(0.104, 0.108)
    weak = {SIDES[0]: 1.0, SIDES[1]: 1.0 - asymmetry}  # swing-peak factor
    slow = {SIDES[0]: 1.0, SIDES[1]: 1.0 + asymmetry}  # contact-time factor

    still = rng.uniform(2.0, 3.0)
    t = initial_standing_s
    stand_start = {s: 0.0 for s in SIDES}
    for rep, (gs, gp) in enumerate(rep_gains(scenario, n_reps), start=1):
        t_go = t + still
        for s in SIDES:
            tl.stands.append(Stand(s, stand_start[s], max(stand_start[s], t_go - still), t_go))
        vmax = vmax0 * (1.0 + 0.35 * (gs + gp))  # faster when either output improves
        tau = pf.TAU_S * rng.uniform(0.92, 1.08)
        omega_top = omega0 * (1.0 + gs)
        contact_top = contact0 / (1.0 + gp)
        rear = SIDES[int(rng.integers(2))]
        n_acc = int(rng.integers(20, 29))  # contacts 1..n_acc (1 = standing_start)
        n_top = int(rng.integers(4, 9))
        n_dec = int(rng.integers(6, 11))
        v_jog = rng.uniform(3.5, 4.0)

        # Standing start: the rear leg pushes briefly and swings through; the front leg pushes
        # longer and toes off just before the rear leg's first contact.
        to_rear = t_go + rng.uniform(0.16, 0.22)
        ic = to_rear + rng.uniform(0.30, 0.36)
        to_front = ic - rng.uniform(0.03, 0.06)
        v_first = pf.speed_curve(ic - t_go, vmax, tau)
        for side, to in ((rear, to_rear), (_other(rear), to_front)):
            omega_peak = pf.running_swing_peak(v_first, vmax, omega_top) * weak[side]
            _, _, w_es = pf.stance_shape(omega_peak, walking=False)
            tl.pushes.append(Push(side, rep, t_go, to, w_es * jit(CV_STANCE_OMEGA), 0.6 * jit(CV_IMPACT)))

        bout: list[Contact] = []
        side = rear
        n_run = n_acc + n_top + n_dec
        for k in range(1, n_run + 1):
            if k <= n_acc + n_top:
                v = pf.speed_curve(ic - t_go, vmax, tau)
                q = (v - v_first) / (vmax - v_first)
                contact, step = pf.acceleration_timing(q, contact_top)
                phase = "standing_start" if k == 1 else "acceleration" if k <= n_acc else "top_speed"
            else:
                v = vmax - (vmax - v_jog) * (k - n_acc - n_top) / n_dec
                contact, step = pf.steady_timing(v, vmax, contact_top)
                phase = "deceleration"
            omega_peak = pf.running_swing_peak(v, vmax, omega_top) * weak[side] * jit(CV_SWING)
            w_dip, w_hump, w_es = pf.stance_shape(omega_peak, walking=False)
            w_dip *= jit(CV_STANCE_OMEGA)
            w_es *= jit(CV_STANCE_OMEGA)
            contact *= slow[side] * jit(CV_CONTACT)
            step *= jit(CV_STEP)
            # Stance bounce: spring-mass peak force minus body weight, from the planned timing.
            bounce = max(spring_mass_force_bw(contact, step - contact) - 1.0, 0.5)
            bout.append(Contact(side, rep, phase, v, ic, contact, step, omega_peak, w_dip, w_es, False,
                                min(3.0, pf.impact_gyro_rad_s(v) * jit(CV_IMPACT)),
                                pf.impact_acc_g(v) * jit(CV_IMPACT), bounce, omega_hump=w_hump))
            ic += step
            side = _other(side)
        rep_end = bout[-1].to

        # Walking recovery, then the feet come to rest.
        v_walk = rng.uniform(1.0, 1.4)
        step_hz = pf.walk_step_hz(v_walk)
        n_walk = max(4, int(round(recovery_s * step_hz)))
        last_run_peak = bout[-1].omega_peak
        for j in range(n_walk):
            v = min(max(v_walk * jit(CV_STEP), 1.0), 1.4)
            step = jit(CV_STEP) / step_hz
            contact = 2.0 * pf.WALK_STANCE_FRACTION / step_hz * slow[side] * jit(CV_CONTACT)
            omega_peak = pf.walk_swing_peak(v) * weak[side] * jit(CV_SWING)
            w_dip, w_hump, w_es = pf.stance_shape(omega_peak, walking=True)
            if j < 2:  # the two swings that leave jog contacts are transitional
                omega_peak = 0.5 * (omega_peak + last_run_peak)
            w_dip *= jit(CV_STANCE_OMEGA)
            w_es *= jit(CV_STANCE_OMEGA)
            bout.append(Contact(side, 0, "walk", v, ic, contact, step, omega_peak, w_dip, w_es, True,
                                pf.impact_gyro_rad_s(v) * jit(CV_IMPACT),
                                pf.impact_acc_g(v) * jit(CV_IMPACT), 0.25 * jit(CV_IMPACT),
                                omega_hump=w_hump))
            ic += step
            side = _other(side)
        for c in bout[-2:]:  # each leg's last contact: it stays on the ground
            c.contact = float("nan")
            c.omega_es = float("nan")
            c.settle_s = rng.uniform(0.3, 0.5)
            c.bounce_g = 0.1
        bout[-1].step = float("nan")
        _check_bout(bout)
        tl.contacts.extend(bout)
        for c in bout[-2:]:
            stand_start[c.side] = c.ic + c.settle_s
        rest = max(stand_start.values())
        tl.reps.append(dict(rep=rep, start_s=t_go, end_s=rep_end, first_side=rear,
                            n_steps=n_run, vmax_m_s=vmax, tau_s=tau, swing_gain=gs, push_gain=gp))
        t = rest + rng.uniform(1.0, 2.0)
        still = rng.uniform(2.0, 3.0)
    tl.end = t + rng.uniform(1.0, 2.0)
    for s in SIDES:
        tl.stands.append(Stand(s, stand_start[s], tl.end, tl.end))
    return tl


def _check_bout(bout: list[Contact]) -> None:
    """Internal consistency: positive contacts, swings long enough for the waveform model."""
    for k, c in enumerate(bout):
        if not c.final and not (c.contact > 0.05):
            raise RuntimeError(f"simulator bug: contact {k} has contact time {c.contact}")
        if k + 2 < len(bout) and not c.final:
            swing = bout[k + 2].ic - c.to
            if not swing > 0.15:
                raise RuntimeError(f"simulator bug: swing after contact {k} lasts {swing:.3f} s")
