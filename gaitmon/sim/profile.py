"""Speed profile and per-step timing and amplitudes of the simulated sprinter.

Everything here is a pure function of speed (m/s) and the rep's top-speed targets; randomness and
sequencing live in :mod:`gaitmon.sim.timeline`. Times in s, angular velocities in rad/s (sagittal
shank ω, positive = foot swinging forward, see :mod:`gaitmon.consts`), accelerations in g where the
name says so.

Literature behind the numbers (keys as in the project's science notes):

- Speed during a maximal acceleration follows a mono-exponential ``v(t) = vmax (1 − e^{−t/τ})``
  (Furusawa, Hill & Parkinson 1927; used in the sprint force–velocity profiling of Samozino, Morin
  et al.), τ ≈ 1.2 s for trained sprinters.
- Contact time falls from ~160–200 ms on the first steps to ~100 ms late in the run [TUM21]
  (~87 ms at world-class top speed [GCT18]); faster top speed comes with shorter contacts [WE00][CL22].
- Step frequency rises quickly over the first steps and then plateaus [MP24]; ~3.5 Hz at the first
  steps to ~4.7 Hz at top speed is used here (I).
- The thigh's angular velocity rises linearly with running speed [CL20]; the shank's mid-swing peak
  is modelled the same way, up to ~25 rad/s at top speed (I).
- Push side: the spring-mass estimate of peak vertical force ``F/BW = (π/2)(flight/contact + 1)``
  (Morin et al. 2005), the analysis's own formula:
  :func:`gaitmon.analysis.steps.spring_mass_force_bw` (contact first, then flight).
- Walking: ~1.8 steps/s at 1.0–1.4 m/s, stance ~60 % of the stride (double support), shank
  mid-swing peak ~4–5 rad/s (typical healthy-gait values; cf. [AM02]).
- Levels of the stance/early-swing ω features (post-IC dip, mid-stance hump, early-swing minimum):
  measured on real treadmill running at 2–5 m/s (running_mocap, see ``docs/core.md``), extrapolated
  to sprinting (I); see :func:`stance_shape`.
"""

from __future__ import annotations

import math

#: Time constant of the mono-exponential speed curve, s (Furusawa 1927; Samozino & Morin).
TAU_S = 1.2
#: Contact time and step frequency of the first step of a standing start (s, Hz) [TUM21].
FIRST_CONTACT_S = 0.195
FIRST_STEP_HZ = 3.5
#: Top-speed step frequency, Hz (rep-independent; the push side changes via contact time).
TOP_STEP_HZ = 4.7
#: Jog at the end of a rep's deceleration: step frequency at :data:`JOG_SPEED_M_S`.
JOG_SPEED_M_S = 3.5
JOG_STEP_HZ = 2.9
#: Steady-running contact time model c(v) = A + B / v (s), normalised to the rep's top-speed
#: contact; it gives ~0.10 s at 9.5 m/s and ~0.22 s at a 3.5 m/s jog.
_CONTACT_A = 0.03
_CONTACT_B = 0.665
#: Walking stance fraction of the stride.
WALK_STANCE_FRACTION = 0.60


def speed_curve(t: float, vmax: float, tau: float = TAU_S) -> float:
    """Running speed (m/s) ``t`` seconds after the start: ``vmax (1 − e^{−t/τ})``.

    Mono-exponential model of a maximal sprint acceleration (Furusawa et al. 1927; Samozino,
    Morin et al.'s field force–velocity method).
    """
    return vmax * (1.0 - math.exp(-t / tau))


def acceleration_timing(q: float, contact_top_s: float,
                        step_hz_top: float = TOP_STEP_HZ) -> tuple[float, float]:
    """Contact time and step time of an acceleration step.

    Parameters
    ----------
    q : float
        Progress of the acceleration, 0 at the first step, 1 at top speed:
        ``(v − v_first) / (vmax − v_first)``.
    contact_top_s : float
        The rep's top-speed contact time, s.
    step_hz_top : float
        Top-speed step frequency, Hz.

    Returns
    -------
    contact_s, step_s : float
        Contact time shortens linearly with progress (~0.2 s → ~0.1 s [TUM21]); step frequency
        rises early and saturates (quadratic approach, [MP24]).
    """
    q = min(max(q, 0.0), 1.0)
    contact = contact_top_s + (FIRST_CONTACT_S - contact_top_s) * (1.0 - q)
    freq = step_hz_top - (step_hz_top - FIRST_STEP_HZ) * (1.0 - q) ** 2
    return contact, 1.0 / freq


def steady_timing(v: float, vmax: float, contact_top_s: float,
                  step_hz_top: float = TOP_STEP_HZ) -> tuple[float, float]:
    """Contact time and step time of steady (decelerating) running at speed ``v`` (m/s).

    Contact follows ``c(v) ∝ A + B/v`` scaled to equal ``contact_top_s`` at ``vmax`` (≈0.22 s at a
    3.5 m/s jog); step frequency is linear in speed from :data:`JOG_STEP_HZ` at
    :data:`JOG_SPEED_M_S` to the top-speed value [WE00][DO12].
    """
    contact = contact_top_s * (_CONTACT_A + _CONTACT_B / v) / (_CONTACT_A + _CONTACT_B / vmax)
    frac = (v - JOG_SPEED_M_S) / max(vmax - JOG_SPEED_M_S, 1e-9)
    freq = JOG_STEP_HZ + (step_hz_top - JOG_STEP_HZ) * min(max(frac, -0.5), 1.0)
    return contact, 1.0 / freq


def walk_step_hz(v: float) -> float:
    """Walking step frequency (Hz) at speed ``v``: ``1.55 + 0.2 v`` (≈1.75–1.83 Hz at 1.0–1.4 m/s)."""
    return 1.55 + 0.2 * v


def walk_swing_peak(v: float) -> float:
    """Shank mid-swing peak while walking, rad/s: ``3.5 + 0.9 v`` (≈4.4–4.8 rad/s)."""
    return 3.5 + 0.9 * v


def running_swing_peak(v: float, vmax: float, omega_top: float) -> float:
    """Shank mid-swing peak while running, rad/s, linear in speed [CL20].

    ``Ω = Ω_top (0.3 + 0.7 v / vmax)``: ~12 rad/s at a 3.5 m/s jog or on the first steps,
    ``Ω_top`` (20–25 rad/s) at top speed.
    """
    return omega_top * (0.3 + 0.7 * v / vmax)


def stance_shape(omega_peak: float, walking: bool) -> tuple[float, float, float]:
    """Levels of ω around a contact whose incoming swing peaked at Ω (rad/s), before the athlete's gains.

    Returns ``(dip, hump, es)``: the post-IC dip (ω minimum shortly after IC), the mid-stance hump
    (local maximum) and the early-swing minimum ESmin after toe-off.

    Running: ``dip = −clip(0.75 Ω − 0.5, 2, 11)``, ``es = −clip(0.8 Ω − 1.2, 2, 12)`` — at the
    measured swing peaks of 7–12 rad/s (2–5 m/s) this gives dip −5 … −8.5 and ESmin −4.6 … −8.4
    rad/s, as measured (dip −5 … −10, ESmin −4.7 … −9.9; running_mocap, see ``docs/core.md``); at
    sprint peaks (20–25 rad/s) both are capped at −11 / −12 rad/s (extrapolation, (I)). The hump is
    near zero (measured −0.4 … +0.3; the athlete adds its offset) and sinks to −1.5 rad/s at sprint
    peaks, where a ~0.1 s contact must still turn the shank through ~40° (I).
    Walking (milder, (I)): ``dip = −(0.5 + 0.12 Ω)`` (≈ −1 rad/s), hump −0.45 rad/s, ESmin as running
    (≈ −2.4 rad/s at Ω = 4.5 rad/s).
    """
    es = -min(12.0, max(2.0, 0.8 * omega_peak - 1.2))
    if walking:
        return -(0.5 + 0.12 * omega_peak), -0.45, es
    dip = -min(11.0, max(2.0, 0.75 * omega_peak - 0.5))
    hump = -min(1.5, max(0.0, 0.15 * (omega_peak - 12.0)))
    return dip, hump, es


def impact_gyro_rad_s(v: float) -> float:
    """Peak of the negative ω impact ringing at IC, rad/s: ``min(3, 0.5 + 0.24 v)``.

    ≈0.8 rad/s walking, ≈2.8 rad/s at 9.5 m/s (I): a ripple on the post-IC dip, not the feature
    that marks contact (before the athlete's impact scale, which is 0 for a soft lander).
    """
    return min(3.0, 0.5 + 0.24 * v)


def impact_acc_g(v: float) -> float:
    """Peak of the axial acceleration impact pulse at IC, in g: ``1.2 + 0.75 v``.

    ≈2 g walking, ≈8–9 g at 9.5–10.5 m/s (shank-mounted accelerometers in sprinting; cf. [ME25r]).
    """
    return 1.2 + 0.75 * v
