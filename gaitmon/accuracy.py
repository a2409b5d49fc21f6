"""How well the detector agrees with reference events: simulated truth and labelled recordings.

``gaitmon accuracy --simulated`` and ``gaitmon accuracy DATASET_DIR`` print the figures quoted in
the README, so anyone can reproduce them. Two kinds of reference, never mixed:

- **synthetic**: :mod:`gaitmon.sim` sessions (all realism switches on) with exact ground truth;
- **real**: a folder of ``<name>_imu.csv`` + ``<name>_events.csv`` pairs in the layout of the
  shared datasets (``t_s,side,event`` with event TO/IC), e.g. the third-party foot-IMU walking
  recordings of ``ipol_foot_walk`` (labels by validated algorithms, manually checked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.errors import InputError
from gaitmon.evaluation import agreement, contact_time_errors, evaluate, format_report, match_events
from gaitmon.events import GaitEvent
from gaitmon.io import read_events_csv, read_imu_csv
from gaitmon.pipeline import detect_events, estimate_sample_rate
from gaitmon.steps import build_steps

#: Matching tolerance against simulated truth, s (sprint contacts last ≥ 80 ms).
SIM_TOLERANCE_S = 0.05
#: Matching tolerance against labelled recordings, s (a detection further away is a miss).
DATASET_TOLERANCE_S = 0.1

SIM_RATES_HZ = (200.0, 500.0, 1000.0)
SIM_SCENARIOS = ("balanced", "swing_plateau", "push_plateau", "flat")


@dataclass
class AccuracyReport:
    """Pooled agreement over several recordings."""

    title: str
    tolerance_s: float
    detected: list[GaitEvent] = field(default_factory=list)
    reference: list[GaitEvent] = field(default_factory=list)
    within: dict[str, list[bool]] = field(default_factory=lambda: {"TO": [], "IC": []})
    contact_errors_s: list[float] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)

    def add(self, name: str, detected, reference, sample_rate_hz: float | None = None,
            detected_steps=None, reference_steps=None) -> dict:
        """Add one recording; events are renamed per recording so they never match across them."""
        tag = f"{len(self.runs)}:"
        self.detected += [GaitEvent(e.t, tag + e.side, e.kind, e.value) for e in detected]
        self.reference += [GaitEvent(e.t, tag + e.side, e.kind, e.value) for e in reference]
        report = evaluate(detected, reference, self.tolerance_s, sample_rate_hz=sample_rate_hz)
        if sample_rate_hz is not None:
            limit = 1.0 / sample_rate_hz + 0.003
            for kind in ("TO", "IC"):
                errors = match_events(detected, reference, kind, self.tolerance_s).errors_s
                self.within[kind] += list(np.abs(errors) <= limit + 1e-9)
        if detected_steps is not None and reference_steps is not None:
            self.contact_errors_s += list(contact_time_errors(detected_steps, reference_steps, self.tolerance_s))
        self.runs.append(name)
        return report

    def pooled(self) -> dict:
        return evaluate(self.detected, self.reference, self.tolerance_s)

    def text(self) -> str:
        pooled = self.pooled()
        lines = [self.title, f"{len(self.runs)} recordings", format_report(pooled)]
        for kind, flags in self.within.items():
            if flags:
                lines.append(f"{kind} within ±(1 sample + 3 ms) of the reference: {np.mean(flags):.1%} of {len(flags)}")
        if self.contact_errors_s:
            ag = agreement(self.contact_errors_s)
            lines.append(f"contact time: MAE {ag['mae'] * 1e3:.2f} ms, bias {ag['bias'] * 1e3:+.2f} ms, "
                         f"95 % LoA [{ag['loa_low'] * 1e3:+.1f}, {ag['loa_high'] * 1e3:+.1f}] ms "
                         f"over {ag['n']} contacts")
        return "\n".join(lines)


def simulated_accuracy(rates=SIM_RATES_HZ, scenarios=SIM_SCENARIOS, seeds=(0, 1), n_reps: int = 3,
                       recovery_s: float | None = None) -> AccuracyReport:
    """Detector vs exact simulator truth, all realism switches on (synthetic data)."""
    from gaitmon.sim import SimConfig, simulate_session

    report = AccuracyReport("SYNTHETIC: gaitmon.sim sessions, all realism switches on, shank placement",
                            SIM_TOLERANCE_S)
    for rate in rates:
        for scenario in scenarios:
            for seed in seeds:
                extra = {} if recovery_s is None else {"recovery_s": recovery_s}
                config = SimConfig.realistic(rate, n_reps=n_reps, **extra)
                session = simulate_session(scenario, seed=seed, config=config)
                events = detect_events(session.samples, placement="shank", sample_rate_hz=rate)
                truth = [e for e in session.events if e.kind in ("TO", "IC")]
                steps = build_steps(events, sides=session.samples.keys())
                report.add(f"{scenario} seed {seed} {rate:g} Hz", events, truth, sample_rate_hz=rate,
                           detected_steps=steps, reference_steps=session.steps)
    return report


def dataset_accuracy(folder: Path, placement: str = "foot") -> AccuracyReport:
    """Detector vs labelled events for every ``*_imu.csv`` with an ``*_events.csv`` beside it."""
    folder = Path(folder)
    pairs = sorted(p for p in folder.glob("*_imu.csv") if p.with_name(p.name.replace("_imu.csv", "_events.csv")).exists())
    if not pairs:
        raise InputError(folder, None, "no <name>_imu.csv files with a matching <name>_events.csv")
    report = AccuracyReport(f"REAL: {folder.name} ({placement} placement), labelled events", DATASET_TOLERANCE_S)
    for imu_path in pairs:
        samples = read_imu_csv(imu_path)
        reference = read_events_csv(imu_path.with_name(imu_path.name.replace("_imu.csv", "_events.csv")))
        events = detect_events(samples, placement=placement)
        rate = estimate_sample_rate(next(iter(samples.values()))[0])
        report.add(imu_path.stem, events, reference, sample_rate_hz=rate)
    return report


def detection_latency(t, omega, acc_magnitude, params) -> dict[str, np.ndarray]:
    """Per event kind, how long after the event it was confirmed (s), feeding one sample at a time.

    The confirmation time is the time stamp of the sample whose arrival made the kernel emit the
    event: the delay a live display would see, excluding transport.
    """
    from gaitmon.core import StepDetector

    detector = StepDetector("leg", params)
    delays: dict[str, list[float]] = {"TO": [], "MSW": [], "IC": []}
    for i in range(len(t)):
        for event in detector.feed(t[i:i + 1], omega[i:i + 1], acc_magnitude[i:i + 1]):
            delays[event.kind].append(t[i] - event.t)
    return {kind: np.asarray(values) for kind, values in delays.items()}


#: Which alarm each scenario should raise (None: no alarm should be raised).
EXPECTED_ALARM = {"swing_plateau": "swing_plateau", "push_plateau": "push_plateau", "balanced": None, "flat": None}


@dataclass
class FlagSuiteReport:
    """Per scenario: sessions, how many raised each alarm, and when the expected one came."""

    n_reps: int
    rows: dict[str, dict] = field(default_factory=dict)

    def add(self, scenario: str, balance, plateau_from_rep) -> None:
        row = self.rows.setdefault(scenario, {"sessions": 0, "swing_plateau": 0, "push_plateau": 0, "any_alarm": 0,
                                              "step_scale_alarms": 0, "first_raised": [], "plateau_from": []})
        row["sessions"] += 1
        rep_alarms = [f for f in balance.alarms if f.scale == "reps"]
        for kind in ("swing_plateau", "push_plateau"):
            row[kind] += any(f.kind == kind for f in rep_alarms)
        row["any_alarm"] += bool(rep_alarms)
        row["step_scale_alarms"] += any(f.scale == "steps" for f in balance.alarms)
        expected = EXPECTED_ALARM[scenario]
        if expected is not None:
            raised = [f.rep for f in rep_alarms if f.kind == expected]
            row["first_raised"].append(min(raised) if raised else None)
            row["plateau_from"].append(plateau_from_rep)

    def figures(self) -> dict:
        """Sensitivity per plateau scenario; false-alarm rate over balanced + flat sessions."""
        out = {}
        for scenario, expected in EXPECTED_ALARM.items():
            if expected is not None and scenario in self.rows:
                out[f"{scenario}_sensitivity"] = self.rows[scenario][expected] / self.rows[scenario]["sessions"]
        quiet = [self.rows[s] for s in ("balanced", "flat") if s in self.rows]
        if quiet:
            out["false_alarm"] = sum(r["any_alarm"] for r in quiet) / sum(r["sessions"] for r in quiet)
        return out

    def text(self) -> str:
        lines = [f"SYNTHETIC: strength-balance flag suite, gaitmon.sim sessions of {self.n_reps} reps, "
                 "all realism switches on; sessions with a rep-scale alarm of each kind (any leg)"]
        lines.append(f"{'scenario':<15}{'sessions':>9}{'swing_plateau':>15}{'push_plateau':>14}"
                     f"{'step-scale':>12}  rep first raised (plateau from rep)")
        for scenario, row in self.rows.items():
            firsts = " ".join("-" if f is None else str(f) for f in row["first_raised"])
            start = sorted({p for p in row["plateau_from"] if p is not None})
            timing = f"{firsts} (from {start[0] if start else '-'})" if row["first_raised"] else ""
            lines.append(f"{scenario:<15}{row['sessions']:>9}{row['swing_plateau']:>15}{row['push_plateau']:>14}"
                         f"{row['step_scale_alarms']:>12}  {timing}")
        f = self.figures()
        lines.append(f"sensitivity: swing_plateau {f.get('swing_plateau_sensitivity', float('nan')):.0%}, "
                     f"push_plateau (mirror) {f.get('push_plateau_sensitivity', float('nan')):.0%}; "
                     f"false alarms on balanced + flat sessions: {f.get('false_alarm', float('nan')):.0%}")
        return "\n".join(lines)


def flag_suite(rates=(200.0, 1000.0), scenarios=SIM_SCENARIOS, seeds=range(10), n_reps: int = 8) -> FlagSuiteReport:
    """Run the strength-balance analysis on simulated sessions of every scenario (synthetic)."""
    from gaitmon.analysis import strength_balance
    from gaitmon.sim import SimConfig, simulate_session

    report = FlagSuiteReport(n_reps)
    for scenario in scenarios:
        for rate in rates:
            for seed in seeds:
                session = simulate_session(scenario, seed=seed, config=SimConfig.realistic(rate, n_reps=n_reps))
                events = detect_events(session.samples, placement="shank", sample_rate_hz=rate)
                balance = strength_balance(build_steps(events, sides=session.samples.keys()))
                report.add(scenario, balance, session.reps[0]["plateau_from_rep"] if session.reps else None)
    return report
