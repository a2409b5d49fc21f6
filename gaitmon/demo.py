"""``gaitmon demo``: a simulated two-shank sprint session streamed through the live core, headless.

No sensor and no screen needed. The simulator's samples are cut into notification-sized blocks and
fed, in time order, to one :class:`~gaitmon.pipeline.LegPipeline` per leg — the same objects the
live engine uses — while a running summary is printed. At the end the detected events are scored
against the simulator's ground truth and the tables are written like ``gaitmon analyze`` does.
"""

from __future__ import annotations

import heapq
from pathlib import Path

import numpy as np

from gaitmon.analysis import strength_balance
from gaitmon.analyze import AnalysisResult, write_outputs
from gaitmon.core import BACKEND, DetectorParams
from gaitmon.evaluation import evaluate, format_report
from gaitmon.io import write_events_csv, write_table_csv
from gaitmon.pipeline import LegPipeline
from gaitmon.steps import STEP_COLUMNS, build_steps

#: Reps in the demo session: enough for the rep-scale flag to have its minimum evidence twice over.
DEMO_REPS = 8
#: Samples per block: what one BLE notification of a 500 Hz sensor typically carries.
BLOCK_SAMPLES = 10


def _blocks(samples: dict, block: int):
    """(t_first, side, t, x) for every block of every leg, in time order (as they would arrive)."""
    streams = []
    for side, (t, x) in samples.items():
        streams.append([(t[lo], side, t[lo:lo + block], x[lo:lo + block]) for lo in range(0, len(t), block)])
    return heapq.merge(*streams, key=lambda item: item[0])


def run_demo(out_dir: Path, scenario: str = "swing_plateau", seed: int = 1, rate_hz: float = 500.0,
             report_every_s: float = 15.0, print_fn=print) -> int:
    """Run the demo; returns the process exit status."""
    from gaitmon.sim import SimConfig, simulate_session

    config = SimConfig.realistic(rate_hz, n_reps=DEMO_REPS)
    session = simulate_session(scenario, seed=seed, config=config)
    print_fn(f"gaitmon demo: simulated {scenario!r} session (seed {seed}, {rate_hz:g} Hz, all realism switches on), "
             f"event core: {BACKEND}")
    legs = {side: LegPipeline(side, DetectorParams(sample_rate_hz=rate_hz)) for side in session.samples}
    events = []
    next_report = report_every_s
    for t_first, side, t, x in _blocks(session.samples, BLOCK_SAMPLES):
        events += legs[side].feed(t, x)
        if t_first >= next_report:
            steps = build_steps(events, sides=legs)
            recent = [r for r in steps if r["ic_s"] > t_first - report_every_s]
            print_fn(_status_line(t_first, steps, recent))
            next_report += report_every_s

    events.sort()
    steps = build_steps(events, sides=legs)
    result = AnalysisResult(Path(f"<demo {scenario} seed {seed}>"), "shank", sorted(legs), events, steps,
                            strength_balance(steps))
    print_fn(result.summary())
    truth = [e for e in session.events if e.kind in ("TO", "IC")]
    print_fn("agreement with the simulator's ground truth (synthetic data):")
    print_fn(format_report(evaluate(events, truth, 0.05, sample_rate_hz=rate_hz)))

    written = write_outputs(result, out_dir)
    write_events_csv(out_dir / "truth_events.csv", session.events)
    write_table_csv(out_dir / "truth_steps.csv", session.steps, list(session.steps[0]) if session.steps else list(STEP_COLUMNS))
    print_fn(f"wrote {', '.join(str(p) for p in written)} and the simulator's truth to {out_dir}")
    return 0


def _status_line(t_now: float, steps: list[dict], recent: list[dict]) -> str:
    def median(key, scale=1.0, fmt="5.0f"):
        values = np.array([r[key] for r in recent], dtype=float) * scale
        values = values[np.isfinite(values)]
        return format(np.median(values), fmt) if len(values) else "    -"

    peaks = np.array([r["swing_peak_rad_s"] for r in recent], dtype=float)
    peaks = peaks[np.isfinite(peaks)]
    peak = f"{peaks.max():4.1f}" if len(peaks) else "   -"
    return (f"t={t_now:6.1f} s  steps {len(steps):4d}  last {len(recent):3d}: contact {median('contact_s', 1e3)} ms  "
            f"step {median('step_hz', fmt='4.1f')} Hz  max swing peak {peak} rad/s")
