"""The end of a live session and the one-line status of a running one (shared by every front-end).

:func:`finish_session` prints the summary and health, writes the tables and the report into the
session folder and adds a saved recording to the athlete history; :func:`status_line` is the line a
headless run prints every few seconds.
"""

from __future__ import annotations

from pathlib import Path

from gaitmon.engine.analyze import live_result, outputs_text, with_saved_calibration, write_session_outputs
from gaitmon.session.history import History
from gaitmon.session.meta import SessionMeta
from gaitmon.session.recorder import SessionRecorder
from gaitmon.sources.replay import replay_session
from gaitmon.stream.live import LiveSession


def status_line(live: LiveSession, recorder: SessionRecorder) -> str:
    """``[   15.0 s] recording | left: 1000 Hz, 0 packets lost, battery 87 % | right: … | 33 contacts``
    (a sensor's state is named when it is not streaming; damaged packets when there are any)."""
    parts = []
    for role, s in sorted(live.health().items()):
        state = "" if s.state == "streaming" else f"{s.state}, "
        damaged = f", {s.malformed} damaged" if s.malformed else ""
        battery = f", battery {s.battery_pct} %" if s.battery_pct is not None else ""
        parts.append(f"{role}: {state}{s.effective_rate_hz:.0f} Hz, {'' if s.lost_exact else 'about '}"
                     f"{s.lost_packets} packets lost{damaged}{battery}")
    steps = sum(1 for e in live.events if e.kind == "IC")
    rec = "recording" if recorder.recording else ("RECORDING FAILED" if recorder.error else "not recording")
    return f"[{recorder.now():7.1f} s] {rec} | {' | '.join(parts)} | {steps} contacts"


def finish_session(out_dir: Path, live: LiveSession | None, samples: dict | None, meta: SessionMeta, saved: bool,
                   history_db: Path | None | bool = None, print_fn=print, traces: dict | None = None):
    """The end of a live session: summary and health printed, tables and report written into
    ``out_dir``, and, when it was ``saved`` (recorded), the session added to the athlete history
    (``history_db``; None: the data directory's, False: not at all). The athlete's calibration in
    that history, if one was saved, corrects the tables and report; the history keeps the detected
    steps.

    ``live`` None: the session is the recording in ``out_dir``, rebuilt from its journal by a
    streamed replay (its samples and traces spooled to disk, :mod:`gaitmon.session.spool`), so the
    live run kept nothing of the stream in RAM and the outputs are a replay's. Otherwise ``live``
    (finished) with its ``samples`` and the report's ``traces`` (role → ``(t, ω)``).

    A session in which no sensor delivered a sample is not analysed and not added to the history:
    one line says so and None is returned. Else the
    :class:`~gaitmon.engine.analyze.AnalysisResult`."""
    if live is None:
        replayed = replay_session(out_dir, spool_dir=out_dir)
        try:
            for problem in replayed.problems:
                print_fn(problem)
            return finish_session(out_dir, replayed.live, replayed.store.samples(), meta, saved, history_db,
                                  print_fn, replayed.store.traces())
        finally:
            replayed.store.close()
    health = live.health()
    if not any(status.samples for status in health.values()):
        for line in health_lines(live):
            print_fn(line)
        print_fn(f"no data: no sensor delivered a sample ({no_data_reason(health)}); "
                 f"nothing analysed{', not added to the athlete history' if saved else ''}")
        return None
    result = with_saved_calibration(live_result(live, out_dir), meta.athlete, history_db)
    if traces is not None:
        result.traces = traces
    print_fn(result.summary(meta.athlete or "Session"))
    print_fn("Sensors:")
    for line in health_lines(live):
        print_fn(line)
    written = write_session_outputs(out_dir, result, live, samples, meta)
    if saved and history_db is not False and not meta.athlete.strip():
        print_fn("Not added to the athlete history: no athlete name (--athlete); `gaitmon import` can add it later.")
    elif saved and history_db is not False:
        with History(history_db) as history:
            outcome = history.add_session(meta, result.detected_steps, source_path=str(out_dir))
        print_fn(f"Athlete history: session {outcome} in {history.path}")
    for line in outputs_text(written):
        print_fn(line)
    return result


def no_data_reason(health: dict) -> str:
    """What each sensor was doing instead of streaming, e.g. ``left: reconnecting (not found)``."""
    if not health:
        return "no sensor ever connected"
    return "; ".join(f"{role}: {status.state}" + (f" ({status.detail})" if status.detail else "")
                     for role, status in sorted(health.items()))


def health_lines(live: LiveSession) -> list[str]:
    """Two lines per sensor: link and identity, then the counts."""
    lines = []
    for status in live.health().values():
        lines.append(f"  {status.role}: {status.family} {status.address} {status.state} {status.detail}".rstrip())
        lines.append(f"    {status.samples} samples, effective {status.effective_rate_hz:.1f} Hz, "
                     f"lost {'' if status.lost_exact else 'about '}{status.lost_packets} packets ({status.lost_samples} samples"
                     f"{'' if status.lost_exact else ', estimated: no device time'}) in {status.gaps} gaps, "
                     + (f"{status.interpolated_samples} samples with acc or gyro interpolated, " if status.interpolated_samples else "")
                     + f"{status.malformed} malformed, {status.duplicates} duplicates, {status.reconnects} reconnects")
    return lines
