"""``gaitmon demo``: the main job on its embedded default, no sensor needed.

Two emulated shank sensors (bleak's ``backend=`` hook, :mod:`gaitmon.sources.virtual`) stream a
simulated sprint session — :data:`DEMO_REPS` reps of the ``swing_plateau`` scenario by default,
all realism switches on — through the real BLE code path into the dashboard engine, which records
it like ``gaitmon live`` does. With a display the dashboard shows it in real time. Without one (or
with ``--headless``) the engine runs on a virtual clock as fast as the CPU allows, prints the live
status and the summary (steps, reps, flags), and paints the dashboard into ``dashboard.png`` at the
last rep's top-speed phase.
"""

from __future__ import annotations

from pathlib import Path

from gaitmon.dashboard import can_show_window
from gaitmon.engine.runtime import EmulatedSource, Engine
from gaitmon.engine.model import VISIBLE_S, Snapshot
from gaitmon.errors import InputError, warn

#: Reps in the demo session: enough for the rep-scale flag to have its minimum evidence twice over.
DEMO_REPS = 8
#: Scenarios of the second, third… demo athlete (the first runs the one asked for).
OTHER_SCENARIOS = ("balanced", "push_plateau", "swing_plateau")
#: Steps of a leg into a rep when the picture is taken (top speed; a sprint rep has ~15–20 per leg).
PICTURE_STEPS = 10
#: Session seconds between headless status lines.
REPORT_EVERY_S = 15.0


def demo_sources(scenario: str, seed: int, rate_hz: float | None, athletes: int, realtime: bool,
                 n_reps: int = DEMO_REPS) -> dict[str, EmulatedSource]:
    """athlete name → emulated source: the first runs ``scenario``, others :data:`OTHER_SCENARIOS`."""
    scenarios = [scenario] + [OTHER_SCENARIOS[i % len(OTHER_SCENARIOS)] for i in range(athletes - 1)]
    return {f"Demo {chr(ord('A') + i)}": EmulatedSource("gaitmon_diy", chosen, seed=seed + i, rate_hz=rate_hz,
                                                        realtime=realtime, sim_options={"n_reps": n_reps})
            for i, chosen in enumerate(scenarios)}


class PictureMoments:
    """Keeps, per athlete, a snapshot taken :data:`PICTURE_STEPS` steps into each running rep (the
    latest rep's wins): what the coach would see at top speed."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.best: dict[str, Snapshot] = {}
        self._taken: dict[str, int] = {}

    def __call__(self, session_s: float) -> None:
        for name in self.engine.athletes:
            snap = self.engine.snapshot(name, VISIBLE_S)
            leg = snap.balance.get("left")
            if (snap.current_rep is None or snap.current_rep_over or leg is None
                    or len(leg.steps_swing.x) < PICTURE_STEPS or self._taken.get(name) == snap.current_rep):
                continue
            self._taken[name] = snap.current_rep
            self.best[name] = snap


def run_demo(out_dir: Path, scenario: str = "swing_plateau", seed: int = 1, rate_hz: float | None = None,
             athletes: int = 1, headless: bool | None = None, n_reps: int = DEMO_REPS, print_fn=print,
             lsl: bool = False) -> int:
    """Run the demo (recordings and outputs under ``out_dir``); returns the process exit status.
    ``lsl``: publish Lab Streaming Layer streams (the window's real-time demo only)."""
    if headless is None:
        headless = not can_show_window(warn)
    if lsl and headless:
        raise InputError("gaitmon demo", "--lsl", "the Lab Streaming Layer streams need the real-time demo "
                         "(a display, no --headless)")
    sources = demo_sources(scenario, seed, rate_hz, athletes, realtime=not headless, n_reps=n_reps)
    who = " and ".join(sources)
    print_fn(f"Demo: {who} {'runs' if len(sources) == 1 else 'run'} a simulated sprint session of {n_reps} reps "
             f"({scenario.replace('_', ' ')}, seed {seed}) on emulated shank sensors; no real sensor needed.")
    print_fn(f"Recordings: {out_dir}")
    if not headless:
        from gaitmon.dashboard.window import run_window

        engine = Engine(sources, sessions_dir=out_dir, on_error=warn, on_message=print_fn, history_db=False, lsl=lsl)
        return run_window(engine)
    return _run_headless(out_dir, sources, print_fn)


def _run_headless(out_dir: Path, sources: dict[str, EmulatedSource], print_fn) -> int:
    next_report = [REPORT_EVERY_S]
    moments: PictureMoments | None = None

    def tick(session_s: float) -> None:
        moments(session_s)
        if session_s >= next_report[0]:
            next_report[0] += REPORT_EVERY_S
            for name in engine.athletes:
                print_fn(engine.status_line(name))

    engine = Engine(sources, sessions_dir=out_dir, on_error=warn, on_message=print_fn, history_db=False,
                    on_tick=tick)
    moments = PictureMoments(engine)
    engine.run_to_end()
    if engine.failure is not None:
        raise engine.failure
    first = engine.athletes[0]
    snap = moments.best.get(first) or engine.snapshot(first, VISIBLE_S)
    try:
        from gaitmon.dashboard.window import save_png

        picture = save_png(snap, out_dir / "dashboard.png", athletes=engine.athletes)
    except (ImportError, RuntimeError, OSError) as error:
        warn(f"could not paint the dashboard picture ({type(error).__name__}: {error}); "
              f"the recordings and tables above are complete")
        return 1
    rep = f"rep {snap.current_rep}, " if snap.current_rep is not None else ""
    print_fn(f"Dashboard picture ({first}, {rep}{snap.session_s:.0f} s into the session): {picture}")
    return 0
