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
  (Morin et al. 2005).
- Walking: ~1.8 steps/s at 1.0–1.4 m/s, stance ~60 % of the stride (double support), shank
  mid-swing peak ~4–5 rad/s (typical healthy-gait values; cf. [AM02]).
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


def stance_extremes(omega_peak: float, walking: bool) -> tuple[float, float]:
    """ω at initial contact and at toe-off (rad/s) for a contact whose incoming swing peaked at Ω.

    Running: ``ω_IC = −(0.6 + 0.13 Ω)`` (late-swing retraction, ≈ −2 … −4 rad/s) and
    ``ω_TO = ω_IC − (1.0 + 0.12 Ω)`` (≈ −4 … −8 rad/s). Walking: ``ω_IC = −(0.2 + 0.1 Ω)``
    (≈ −0.6 rad/s), ``ω_TO = ω_IC − (0.6 + 0.2 Ω)`` (≈ −2 rad/s). ``ω_TO < ω_IC`` always, so the
    toe-off minimum is the lowest point between contact and the next mid-swing.
    """
    if walking:
        w_ic = -(0.2 + 0.1 * omega_peak)
        return w_ic, w_ic - (0.6 + 0.2 * omega_peak)
    w_ic = -(0.6 + 0.13 * omega_peak)
    return w_ic, w_ic - (1.0 + 0.12 * omega_peak)


def impact_gyro_rad_s(v: float) -> float:
    """Peak of the negative ω impact transient at IC, rad/s: ``min(6, 1 + 0.48 v)``.

    ≈1.5–1.7 rad/s walking, ≈5.5 rad/s at 9.5 m/s.
    """
    return min(6.0, 1.0 + 0.48 * v)


def impact_acc_g(v: float) -> float:
    """Peak of the axial acceleration impact pulse at IC, in g: ``1.2 + 0.75 v``.

    ≈2 g walking, ≈8–9 g at 9.5–10.5 m/s (shank-mounted accelerometers in sprinting; cf. [ME25r]).
    """
    return 1.2 + 0.75 * v


def push_force_bw(flight_s: float, contact_s: float) -> float:
    """Spring-mass peak vertical force in body weights, ``(π/2)(flight/contact + 1)``.

    Morin et al. 2005. NaN when flight ≤ 0 (walking, double support) or undefined.
    """
    if not (flight_s > 0 and contact_s > 0):
        return float("nan")
    return (math.pi / 2.0) * (flight_s / contact_s + 1.0)
