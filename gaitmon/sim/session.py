"""Simulate a whole sprint session: both shank IMUs plus exact ground truth."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..analysis.steps import spring_mass_force_bw
from ..consts import SIDES
from ..events import GaitEvent
from . import realism
from .athlete import assign_strides, draw_athlete
from .config import SimConfig
from .scenarios import check_scenario, plateau_from_rep, plateau_output
from .timeline import Timeline, build_timeline
from .waveforms import leg_schedule, leg_signals

#: Streams drawn from the seed, in this fixed order (changing it changes every session; new streams
#: go at the end, which leaves the earlier ones as they were).
_STREAMS = ("plan",) + tuple(f"{side}:{what}" for side in SIDES
                             for what in ("t0", "fidget", "mounting", "bias", "noise", "drop")) + ("athlete",)


@dataclass
class SimulatedSession:
    """A simulated session: samples of both shank sensors and the exact truth behind them.

    Attributes
    ----------
    config : SimConfig
        The settings used.
    scenario : str
        Key of :data:`gaitmon.sim.SCENARIOS`.
    seed : int
        The seed; the same (scenario, seed, config) always gives identical output.
    samples : dict
        ``side -> (t, x)``: ``t[n]`` float64 sample times (s; ``t0_side + i/fs_true`` with a random
        sub-sample offset per side; ``fs_true`` = rate × (1 + ``clock_error_ppm``·1e-6)), ``x[n, 6]`` float32 in the *sensor* frame, columns
        ``ax, ay, az`` (m/s²) and ``gx, gy, gz`` (rad/s). Dropped samples are absent.
    events : list of GaitEvent
        Truth TO / MSW / IC of both legs sorted by time, in continuous time (not snapped to samples).
        ``MSW.value`` = swing peak of ω (rad/s); ``TO.value`` / ``IC.value`` = ω at the event.
        Per leg the kinds cycle TO → MSW → IC; a leg's first event is the TO of the first standing
        start, its last an IC (the leg then stands).
    steps : list of dict
        One per contact (every truth IC), see :func:`simulate_session`.
    reps : list of dict
        One per rep, see :func:`simulate_session`.
    mounting : dict
        ``side -> (3, 3)`` rotation from the canonical shank frame to the sensor frame
        (``x_sensor = M @ x_canonical``).
    athlete : dict
        The per-athlete parameters of the signal model (:class:`gaitmon.sim.athlete.Athlete`):
        ``delta_ic_s`` (IC − downward zero crossing of ω), ``delta_to_s`` (TO − steepest late-stance
        descent), their per-stride jitter SDs, shape fractions, levels, ``soft_landing`` and
        ``impact_scale``. Written to ``simulation.json``.
    features : list of dict
        Where the ω features of each contact (and standing-start push) were placed, sorted by
        time: ``side``, ``start`` (True for a standing-start push), ``ic_s``, ``to_s``, ``msw_s``
        (peak of the swing into this contact), ``zero_crossing_s`` (= ic − delta_ic),
        ``delta_ic_s``, ``dip_s``, ``hump_s``, ``steepest_s`` (= to − delta_to), ``delta_to_s``,
        ``es_min_s``, ``steepest_slope_rad_s2`` (NaN where a contact has no such feature).
    """

    config: SimConfig
    scenario: str
    seed: int
    samples: dict[str, tuple[np.ndarray, np.ndarray]]
    events: list[GaitEvent]
    steps: list[dict]
    reps: list[dict]
    mounting: dict[str, np.ndarray]
    athlete: dict = field(default_factory=dict)
    features: list[dict] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Time of the last sample of either side, s."""
        return max(float(t[-1]) for t, _ in self.samples.values() if t.size)


def simulate_session(scenario: str = "balanced", seed: int = 0,
                     config: SimConfig | None = None, athlete_seed: int | None = None) -> SimulatedSession:
    """Simulate a sprint session with two shank IMUs and exact ground truth.

    Parameters
    ----------
    scenario : str
        ``"balanced"``, ``"swing_plateau"``, ``"push_plateau"`` or ``"flat"`` (:data:`SCENARIOS`).
    seed : int
        Non-negative seed. All randomness comes from ``np.random.default_rng`` generators spawned from
        it; the truth depends only on (scenario, seed, n_reps, recovery_s, initial_standing_s,
        asymmetry), never on the sample rate or the sensor-imperfection switches.
    config : SimConfig, optional
        Defaults to ``SimConfig()``.
    athlete_seed : int, optional
        Which simulated athlete runs the session (where their events sit on ω, how they land; see
        :mod:`gaitmon.sim.athlete`). Defaults to ``seed``: every session a new athlete. Give several
        sessions the same ``athlete_seed`` for one athlete's sessions over weeks; the strides' own
        jitter still comes from ``seed``.

    Returns
    -------
    SimulatedSession

    Notes
    -----
    ``steps`` rows (one per contact, sorted by IC): ``side``, ``rep`` (0 = walking recovery, not in a
    rep), ``phase`` (``standing_start`` = first contact after the start, ``acceleration``,
    ``top_speed``, ``deceleration``, ``walk``), ``speed_m_s``, ``ic_s``, ``to_s``, ``contact_s`` =
    to − ic, ``flight_s`` = next contralateral IC − to (negative in walking: double support),
    ``step_s`` = next contralateral IC − ic, ``swing_peak_rad_s`` = peak ω of the swing that ended at
    this IC, ``push_force_bw`` = (π/2)(flight/contact + 1) (Morin et al. 2005; NaN where flight ≤ 0).
    The last contact of each leg in a walking bout has no toe-off (the leg stands until the next
    start), so its ``to_s``, ``contact_s``, ``flight_s`` are NaN; the very last contact of a bout
    also has NaN ``step_s``. The toe-offs of a standing start end standing, not a step, so they
    appear in ``events`` but belong to no step.

    ``reps`` rows: ``rep``, ``start_s`` (start signal), ``end_s`` (last TO of the rep), ``n_steps``,
    ``first_side`` (leg of the first contact), ``vmax_m_s``, ``tau_s`` (speed-curve time constant),
    ``swing_gain`` and ``push_gain`` (the scenario's targets), the realised top-speed means over both
    legs ``top_speed_swing_peak_rad_s``, ``top_speed_push_force_bw``, ``top_speed_contact_s``,
    ``top_speed_flight_s``, ``top_speed_step_hz``, and ``plateau_from_rep`` (None if no plateau) with
    ``plateau_of`` (``"swing"``, ``"push"``, ``"swing+push"`` or ``""``).
    """
    check_scenario(scenario)
    config = SimConfig() if config is None else config
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    seed = int(seed)
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    rngs = {name: np.random.default_rng(child) for name, child in zip(_STREAMS, children)}

    timeline = build_timeline(scenario, config.n_reps, config.recovery_s, config.initial_standing_s,
                              config.asymmetry, rngs["plan"])
    if athlete_seed is None:
        athlete = draw_athlete(rngs["athlete"], config.soft_impact_share)
    else:
        if int(athlete_seed) != athlete_seed or athlete_seed < 0:
            raise ValueError(f"athlete_seed must be a non-negative integer, not {athlete_seed!r}")
        own = np.random.SeedSequence(int(athlete_seed)).spawn(len(_STREAMS))[_STREAMS.index("athlete")]
        athlete = draw_athlete(np.random.default_rng(own), config.soft_impact_share)
    assign_strides(timeline, athlete, rngs["athlete"])
    fs = float(config.sample_rate_hz)
    samples, mounting, events, features = {}, {}, [], []
    for side in SIDES:
        sched = leg_schedule(side, timeline, athlete.impact_scale)
        events.extend(sched.events)
        features.extend(sched.features)
        true_fs = fs * (1.0 + 1e-6 * config.clock_error_ppm[SIDES.index(side)])
        t0 = rngs[f"{side}:t0"].uniform(0.0, 1.0 / fs)
        n = int(math.floor((timeline.end - t0) * true_fs)) + 1
        t = t0 + np.arange(n) / true_fs
        ch = leg_signals(t, sched, rngs[f"{side}:fidget"] if config.fidget else None).ch
        m = realism.random_mounting(rngs[f"{side}:mounting"]) if config.mounting == "random" else np.eye(3)
        realism.rotate(ch, m)
        if config.gyro_bias:
            realism.add_gyro_bias(t, ch, rngs[f"{side}:bias"])
        if config.noise:
            realism.add_noise(ch, rngs[f"{side}:noise"])
        if config.clipping:
            realism.clip(ch)
        x = ch.T.astype(np.float32, order="C")
        del ch
        if config.drop_rate > 0:
            keep = realism.drop_mask(n, config.drop_rate, rngs[f"{side}:drop"])
            t, x = t[keep], x[keep]
        samples[side] = (t, x)
        mounting[side] = m
    events.sort()
    features.sort(key=lambda f: (f["to_s"] if f["start"] else f["ic_s"], f["side"]))
    steps = _steps(timeline)
    reps = _reps(timeline, steps, scenario, config.n_reps)
    return SimulatedSession(config=config, scenario=scenario, seed=seed, samples=samples, events=events,
                            steps=steps, reps=reps, mounting=mounting, athlete=athlete.as_dict(),
                            features=features)


def _steps(timeline: Timeline) -> list[dict]:
    rows = []
    for c in sorted(timeline.contacts, key=lambda c: c.ic):
        contact = c.contact
        flight = c.step - contact
        rows.append(dict(
            side=c.side, rep=c.rep, phase=c.phase, speed_m_s=c.speed,
            ic_s=c.ic, to_s=c.ic + contact, contact_s=contact, flight_s=flight, step_s=c.step,
            swing_peak_rad_s=c.omega_peak, push_force_bw=spring_mass_force_bw(contact, flight),
        ))
    return rows


def _mean(values: list[float]) -> float:
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def _reps(timeline: Timeline, steps: list[dict], scenario: str, n_reps: int) -> list[dict]:
    plateau = plateau_from_rep(scenario, n_reps)
    rows = []
    for rep in timeline.reps:
        top = [s for s in steps if s["rep"] == rep["rep"] and s["phase"] == "top_speed"]
        row = dict(rep)
        row.update(
            top_speed_swing_peak_rad_s=_mean([s["swing_peak_rad_s"] for s in top]),
            top_speed_push_force_bw=_mean([s["push_force_bw"] for s in top]),
            top_speed_contact_s=_mean([s["contact_s"] for s in top]),
            top_speed_flight_s=_mean([s["flight_s"] for s in top]),
            top_speed_step_hz=1.0 / _mean([s["step_s"] for s in top]),
            plateau_from_rep=plateau,
            plateau_of=plateau_output(scenario) if plateau is not None else "",
        )
        rows.append(row)
    return rows
