"""gaitmon: a real-time gait monitor for sprinters (shank IMUs over BLE, a compiled step core,
strength-balance trends).

Two ways in, both on the same per-leg pipeline (sagittal axis → event kernel → steps):

**Live, push API** — feed each leg's samples as they arrive; events come back as soon as they are
confirmed::

    from gaitmon import DetectorParams, LegPipeline
    leg = LegPipeline("left", DetectorParams(sample_rate_hz=416.0))
    for t, x in blocks:              # t[n] s, x[n, 6] = ax ay az (m/s²) gx gy gz (rad/s), sensor frame
        for event in leg.feed(t, x):  # GaitEvent(t, side, kind TO/MSW/IC, value, rule)
            ...

**Offline** — a whole recording at once::

    from gaitmon import build_steps, detect_events, read_imu_csv, strength_balance
    samples = read_imu_csv("run_imu.csv")          # side → (t, x)
    events = detect_events(samples)                  # axis from the whole recording
    steps = build_steps(events, sides=samples)       # [Step]: contact, flight, swing peak, push force ...
    balance = strength_balance(steps)                # reps, trends and flags

The layers, the data flow and where new code goes: ``docs/architecture.md``. Units are SI
throughout; frames and signs: :mod:`gaitmon.consts`.
"""

from __future__ import annotations

from gaitmon._version import __version__

__all__ = [
    "DetectorParams", "GaitEvent", "LegPipeline", "Step", "StepDetector", "__version__", "build_steps",
    "detect_events", "read_imu_csv", "strength_balance",
]


def __getattr__(name: str):
    # Imported on first use, so that `gaitmon --help` does not load numpy and scipy.
    if name in ("DetectorParams", "StepDetector"):
        from gaitmon import core
        return getattr(core, name)
    if name == "GaitEvent":
        from gaitmon.events import GaitEvent
        return GaitEvent
    if name in ("LegPipeline", "detect_events"):
        from gaitmon.stream import pipeline
        return getattr(pipeline, name)
    if name in ("Step", "build_steps"):
        from gaitmon.analysis import steps
        return getattr(steps, name)
    if name == "strength_balance":
        from gaitmon.analysis import strength_balance
        return strength_balance
    if name == "read_imu_csv":
        from gaitmon.io import read_imu_csv
        return read_imu_csv
    raise AttributeError(f"module 'gaitmon' has no attribute {name!r}")
