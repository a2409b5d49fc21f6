"""The end of a live session and the one-line status of a running one (shared by every front-end).

:func:`finish_session` prints the summary and health, writes the tables and the report into the
session folder and adds a saved recording to the athlete history; :func:`status_line` is the line a
headless run prints every few seconds.
"""

from __future__ import annotations

from pathlib import Path

from gaitmon.engine.analyze import live_result, with_saved_calibration, write_session_outputs
from gaitmon.session.history import History
from gaitmon.session.meta import SessionMeta
from gaitmon.session.recorder import SessionRecorder
from gaitmon.stream.live import LiveSession


def status_line(live: LiveSession, recorder: SessionRecorder) -> str:
    parts = []
    for role, s in sorted(live.health().items()):
        battery = f" batt {s.battery_pct}%" if s.battery_pct is not None else ""
        parts.append(f"{role}: {s.state} {s.effective_rate_hz:5.0f} Hz lost {'' if s.lost_exact else '~'}{s.lost_packets} "
                     f"bad {s.malformed}{battery}")
    steps = sum(1 for e in live.events if e.kind == "IC")
    rec = "REC" if recorder.recording else ("REC FAILED" if recorder.error else "not recording")
    return f"[{recorder.now():7.1f} s] {rec} | {' | '.join(parts)} | {steps} contacts"


def finish_session(out_dir: Path, live: LiveSession, samples: dict, meta: SessionMeta, saved: bool,
                   history_db: Path | None | bool = None, print_fn=print):
    """The end of a live session: summary and health printed, tables and report written into
    ``out_dir``, and, when it was ``saved`` (recorded), the session added to the athlete history
    (``history_db``; None: the data directory's, False: not at all). The athlete's calibration in
    that history, if one was saved, corrects the tables and report; the history keeps the detected
    steps. ``live`` must be finished. Returns the :class:`~gaitmon.engine.analyze.AnalysisResult`."""
    result = with_saved_calibration(live_result(live, f"<live {meta.athlete or 'session'}>"), meta.athlete, history_db)
    print_fn(result.summary())
    for line in health_lines(live):
        print_fn(line)
    written = write_session_outputs(out_dir, result, live, samples, meta)
    print_fn(f"wrote {', '.join(str(p) for p in written)}")
    if saved and history_db is not False and not meta.athlete.strip():
        print_fn("not added to the athlete history: no athlete name (--athlete); `gaitmon import` can add it later")
    elif saved and history_db is not False:
        with History(history_db) as history:
            outcome = history.add_session(meta, result.detected_steps, source_path=str(out_dir))
        print_fn(f"athlete history: session {outcome} in {history.path}")
    return result


def health_lines(live: LiveSession) -> list[str]:
    """Two lines per sensor: link and identity, then the counts."""
    lines = []
    for status in live.health().values():
        lines.append(f"  {status.role}: {status.family} {status.address} {status.state} {status.detail}".rstrip())
        lines.append(f"    {status.samples} samples, effective {status.effective_rate_hz:.1f} Hz, "
                     f"lost {'' if status.lost_exact else 'about '}{status.lost_packets} packets ({status.lost_samples} samples"
                     f"{'' if status.lost_exact else ', estimated: no device time'}) in {status.gaps} gaps, "
                     f"{status.malformed} malformed, {status.duplicates} duplicates, {status.reconnects} reconnects")
    return lines
