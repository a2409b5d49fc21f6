"""Session scenarios: how the swing-side and push-side outputs evolve over the reps.

A scenario fixes two rep-level gains for every rep ``r = 1 … n``:

- the **swing gain** ``gs(r)`` multiplies the top-speed mid-swing shank angular velocity peak
  (the swing-side output, a proxy for thigh angular velocity, which rises with speed [CL20]);
- the **push gain** ``gp(r)`` divides the top-speed contact time. With the top-speed step time held,
  a shorter contact means a longer flight, so the spring-mass force estimate
  ``F/BW = (π/2)(flight/contact + 1)`` (Morin et al. 2005) rises: faster running is bought with
  larger mass-specific ground force over shorter contacts [WE00][CL22].

A rising output grows by a fixed step per rep, capped so that a long session stays physiological
(at most +10 % on either side over the whole session). A plateauing output grows up to rep
:data:`PLATEAU_REP` and is flat from there on. Per-step variability is added elsewhere
(:mod:`gaitmon.sim.timeline`), so rep-to-rep trends are never perfectly clean.

References (keys as in the project's science notes): [CL20] Clark et al. 2020; [WE00] Weyand et al.
2000; [CL22] Clark 2022.
"""

from __future__ import annotations

SCENARIOS: dict[str, str] = {
    "balanced": ("swing-side (peak shank ω) and push-side (contact ↓, flight ↑, F/BW ↑) outputs both rise "
                 "rep after rep"),
    "swing_plateau": "push side keeps rising; swing side stops rising from rep 3 on",
    "push_plateau": "swing side keeps rising; push side stops rising from rep 3 on",
    "flat": "nothing changes from rep to rep (only per-step variability)",
}

#: Rep from which a plateauing output stops rising.
PLATEAU_REP = 3

#: Largest per-rep increments, fractional (swing peak, push = contact-time divisor). With the step
#: time held, dividing the contact time by 1.02 raises F/BW by about 2 % at top speed (flight ≈
#: contact), so in ``balanced`` both outputs rise by about 2 % of their baseline per rep.
SWING_STEP = 0.02
PUSH_STEP = 0.02
#: Caps on the total rise over a session, fractional.
SWING_TOTAL = 0.10
PUSH_TOTAL = 0.10


def check_scenario(scenario: str) -> None:
    """Raise ``ValueError`` naming the valid scenarios if *scenario* is unknown."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")


def rep_gains(scenario: str, n_reps: int) -> list[tuple[float, float]]:
    """Swing and push gains of every rep.

    Parameters
    ----------
    scenario : str
        A key of :data:`SCENARIOS`.
    n_reps : int
        Number of reps in the session (≥ 1).

    Returns
    -------
    list of (float, float)
        ``(gs, gp)`` for reps 1 … n, both fractional (0 = the athlete's rep-1 level). The
        top-speed swing peak is ``Ω₀ (1 + gs)``, the top-speed contact time ``c₀ / (1 + gp)``.
    """
    check_scenario(scenario)
    span = max(n_reps - 1, 1)
    ds = min(SWING_STEP, SWING_TOTAL / span)
    dp = min(PUSH_STEP, PUSH_TOTAL / span)
    swing_rises = scenario in ("balanced", "push_plateau")
    swing_plateaus = scenario == "swing_plateau"
    push_rises = scenario in ("balanced", "swing_plateau")
    push_plateaus = scenario == "push_plateau"
    gains = []
    for r in range(1, n_reps + 1):
        gs = ds * (r - 1) if swing_rises else ds * (min(r, PLATEAU_REP) - 1) if swing_plateaus else 0.0
        gp = dp * (r - 1) if push_rises else dp * (min(r, PLATEAU_REP) - 1) if push_plateaus else 0.0
        gains.append((gs, gp))
    return gains


def plateau_from_rep(scenario: str, n_reps: int) -> int | None:
    """The rep from which an output stops rising, or ``None``.

    ``swing_plateau`` and ``push_plateau``: :data:`PLATEAU_REP` (``None`` if the session is too short
    to show it). ``flat``: 1 (nothing rises at all). ``balanced``: ``None``.
    """
    check_scenario(scenario)
    if scenario == "flat":
        return 1
    if scenario in ("swing_plateau", "push_plateau"):
        return PLATEAU_REP if n_reps >= PLATEAU_REP else None
    return None


def plateau_output(scenario: str) -> str:
    """Which output plateaus: ``"swing"``, ``"push"``, ``"swing+push"`` or ``""``."""
    check_scenario(scenario)
    return {"balanced": "", "swing_plateau": "swing", "push_plateau": "push", "flat": "swing+push"}[scenario]
