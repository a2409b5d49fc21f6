"""``gaitmon scan`` and ``gaitmon live``: acquisition into a :class:`~gaitmon.stream.live.LiveSession`, headless.

Live status lines (per sensor: state, effective rate, lost and malformed packets, battery; steps so
far) are printed every few seconds; at the end the tables are written like ``gaitmon analyze``
does, plus ``gaps.csv`` and ``health.csv``. ``--emulated FAMILY`` swaps the radio for emulated
sensors (bleak's ``backend=`` hook) streaming a simulated session, so the whole path can be tried
without hardware; ``--virtual-clock`` runs that as fast as the CPU allows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from gaitmon.engine.analyze import live_result, write_session_outputs
from gaitmon.stream.live import LiveSession, SampleStore
from gaitmon.errors import InputError, warn
from gaitmon.session.folder import JOURNAL_FILE, default_session_dir
from gaitmon.session.history import History, default_data_dir
from gaitmon.session.meta import SensorInfo, SessionMeta
from gaitmon.session.recorder import FLUSH_INTERVAL_S, SessionRecorder
from gaitmon.sources import ble


def _backends(emulated, scenario: str, seed: int, rate_hz: float | None):
    if emulated is None:
        return None, (None, None)
    from gaitmon.sources.virtual import EmulatedPair, emulated_pair

    pair = emulated if isinstance(emulated, EmulatedPair) else emulated_pair(emulated, scenario, seed=seed, rate_hz=rate_hz)
    return pair, pair.backends


def _run(coroutine, virtual_clock: bool):
    if virtual_clock:
        from gaitmon.sources.virtual.clock import run_virtual

        return run_virtual(coroutine)
    return asyncio.run(coroutine)


def run_scan(timeout_s: float, emulated: str | None = None, print_fn=print) -> int:
    pair, backends = _backends(emulated, "balanced", 0, None)
    found = _run(ble.scan(timeout_s, backends), virtual_clock=pair is not None)
    if not found:
        print_fn(f"no supported sensor seen in {timeout_s:g} s (on, charged, in range, not connected elsewhere?)")
        return 1
    print_fn(f"{'family':12s} {'name':24s} {'address':20s} rssi")
    for sensor in found:
        print_fn(f"{sensor.family:12s} {sensor.name:24s} {sensor.address:20s} {sensor.rssi:4d} dBm")
    return 0


def status_line(live: LiveSession, recorder: SessionRecorder) -> str:
    parts = []
    for role, s in sorted(live.health().items()):
        battery = f" batt {s.battery_pct}%" if s.battery_pct is not None else ""
        parts.append(f"{role}: {s.state} {s.effective_rate_hz:5.0f} Hz lost {s.lost_packets} "
                     f"bad {s.malformed}{battery}")
    steps = sum(1 for e in live.events if e.kind == "IC")
    rec = "REC" if recorder.recording else ("REC FAILED" if recorder.error else "not recording")
    return f"[{recorder.now():7.1f} s] {rec} | {' | '.join(parts)} | {steps} contacts"


def run_live(sensors: dict[str, str], out_dir: Path | None = None, rate_hz: float | None = None, athlete: str = "",
             placement: str = "shank", duration_s: float | None = None, emulated: str | None = None,
             scenario: str = "swing_plateau", seed: int = 1, virtual_clock: bool = False, record: bool = True,
             history_db: Path | None = None, add_to_history: bool = True, report_every_s: float = 5.0, print_fn=print,
             warn_fn=warn) -> int:
    """Stream ``sensors`` (role → address or name) into a live session, recording it.

    The session folder is ``out_dir`` (default: a new folder under the data directory's
    ``sessions/``); with ``record=False`` nothing is journalled and ``out_dir`` only receives the
    tables. At the end the tables are written into the folder and the session is added to the
    athlete history (``history_db``, default: the data directory's) unless ``add_to_history`` is False.
    """
    pair, backends = _backends(emulated, scenario, seed, rate_hz)
    if pair is not None:
        sensors = {role: pair.addresses[role] for role in sensors}
        if duration_s is None:
            duration_s = float(pair.session.samples["left"][0][-1])
        rate_hz = rate_hz or next(iter(pair.devices.values())).nominal_rate_hz
    source = "live" if pair is None else f"emulated:{pair.family}"
    meta = SessionMeta(athlete=athlete, placement=placement, source=source,
                       sensors={role: SensorInfo(role, identifier=ident) for role, ident in sensors.items()})
    if out_dir is None:
        out_dir = default_session_dir(default_data_dir() / "sessions", meta)
    elif record and (Path(out_dir) / JOURNAL_FILE).exists():
        raise InputError(out_dir, None, "already holds a recording; not overwriting it (choose another --out)")
    live = LiveSession(athlete, placement)
    store = SampleStore()
    live.block_listener = store
    recorder: SessionRecorder | None = None

    async def main():
        nonlocal recorder
        loop = asyncio.get_running_loop()
        recorder = SessionRecorder(live, out_dir if record else None, meta, loop.time, on_error=warn_fn)
        if recorder.recording:
            print_fn(f"recording to {out_dir}")
        stop = asyncio.Event()

        async def housekeeping():
            next_report = report_every_s
            while not stop.is_set():
                await asyncio.sleep(FLUSH_INTERVAL_S)
                recorder.tick()
                if recorder.now() >= next_report:
                    next_report += report_every_s
                    print_fn(status_line(live, recorder))

        chores = asyncio.ensure_future(housekeeping())
        try:
            await ble.acquire(sensors, recorder, rate_hz, duration_s=duration_s, stop=stop, backends=backends)
        finally:
            stop.set()
            chores.cancel()

    try:
        _run(main(), virtual_clock and pair is not None)
    except KeyboardInterrupt:
        print_fn("stopping (Ctrl-C): writing what was recorded")
    finally:
        if recorder is not None:
            recorder.close()
    live.finish()
    finish_session(out_dir, live, store.samples(), meta, saved=recorder is not None and recorder.saved,
                   history_db=history_db if add_to_history else False, print_fn=print_fn)
    health = live.health()
    failed = [s for s in health.values() if s.state == "failed"]
    return 1 if failed and len(failed) == len(health) else 0


def finish_session(out_dir: Path, live: LiveSession, samples: dict, meta: SessionMeta, saved: bool,
                   history_db: Path | None | bool = None, print_fn=print):
    """The end of a live session: summary and health printed, tables and report written into
    ``out_dir``, and, when it was ``saved`` (recorded), the session added to the athlete history
    (``history_db``; None: the data directory's, False: not at all). ``live`` must be finished.
    Returns the :class:`~gaitmon.engine.analyze.AnalysisResult`."""
    result = live_result(live, f"<live {meta.athlete or 'session'}>")
    print_fn(result.summary())
    for line in health_lines(live):
        print_fn(line)
    written = write_session_outputs(out_dir, result, live, samples, meta)
    print_fn(f"wrote {', '.join(str(p) for p in written)}")
    if saved and history_db is not False and not meta.athlete.strip():
        print_fn("not added to the athlete history: no athlete name (--athlete); `gaitmon import` can add it later")
    elif saved and history_db is not False:
        with History(history_db) as history:
            outcome = history.add_session(meta, result.steps, source_path=str(out_dir))
        print_fn(f"athlete history: session {outcome} in {history.path}")
    return result


def health_lines(live: LiveSession) -> list[str]:
    """Two lines per sensor: link and identity, then the counts."""
    lines = []
    for status in live.health().values():
        lines.append(f"  {status.role}: {status.family} {status.address} {status.state} {status.detail}".rstrip())
        lines.append(f"    {status.samples} samples, effective {status.effective_rate_hz:.1f} Hz, "
                     f"lost {status.lost_packets} packets ({status.lost_samples} samples) in {status.gaps} gaps, "
                     f"{status.malformed} malformed, {status.duplicates} duplicates, {status.reconnects} reconnects")
    return lines
