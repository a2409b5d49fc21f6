"""``gaitmon scan`` and ``gaitmon live`` headless: the engine (:mod:`gaitmon.engine.runtime`) without a window.

Live status lines (per sensor: state, effective rate, lost and malformed packets, battery; steps so
far) are printed every few seconds, and a line whenever a sensor's state changes, with its reason
(stalled, set-up retried, not found, no Bluetooth …); at the end the tables are written like
``gaitmon analyze`` does, plus ``gaps.csv`` and ``health.csv``. ``--emulated FAMILY`` swaps the radio for emulated
sensors (bleak's ``backend=`` hook) streaming a simulated session, so the whole path can be tried
without hardware; ``--virtual-clock`` runs that as fast as the CPU allows.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gaitmon.engine.finish import status_line
from gaitmon.engine.runtime import EmulatedSource, Engine, LiveSource
from gaitmon.errors import InputError, warn
from gaitmon.session.folder import JOURNAL_FILE
from gaitmon.sources import ble
from gaitmon.sources.virtual import EmulatedPair, emulated_pair


def _backends(emulated, scenario: str, seed: int, rate_hz: float | None):
    if emulated is None:
        return None, (None, None)
    pair = emulated if isinstance(emulated, EmulatedPair) else emulated_pair(emulated, scenario, seed=seed, rate_hz=rate_hz)
    return pair, pair.backends


def _run(coroutine, virtual_clock: bool):
    if virtual_clock:
        from gaitmon.sources.virtual.clock import run_virtual

        return run_virtual(coroutine)
    return asyncio.run(coroutine)


def run_scan(timeout_s: float, emulated: str | None = None, print_fn=print) -> int:
    """List the supported sensors advertising nearby; InputError (one line) when the laptop's
    Bluetooth is missing, saying what is missing."""
    pair, backends = _backends(emulated, "balanced", 0, None)
    try:
        found = _run(ble.scan(timeout_s, backends), virtual_clock=pair is not None)
    except ble.LINK_ERRORS as error:
        state, reason = ble.explain(error)
        raise InputError("gaitmon scan", None, f"{'no Bluetooth: ' if state == 'no bluetooth' else ''}{reason}") from None
    if not found:
        print_fn(f"no supported sensor seen in {timeout_s:g} s (on, charged, in range, not connected elsewhere?)")
        return 1
    print_fn(f"{'family':12s} {'name':24s} {'address':20s} rssi")
    for sensor in found:
        print_fn(f"{sensor.family:12s} {sensor.name:24s} {sensor.address:20s} {sensor.rssi:4d} dBm")
    return 0


def print_line(text: str) -> None:
    """One line to stdout in one write, so a line from the engine's thread never lands inside it."""
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def run_live(sensors: dict[str, str], out_dir: Path | None = None, rate_hz: float | None = None, athlete: str = "",
             placement: str = "shank", duration_s: float | None = None, emulated: str | EmulatedPair | None = None,
             scenario: str = "swing_plateau", seed: int = 1, virtual_clock: bool = False, record: bool = True,
             history_db: Path | None = None, add_to_history: bool = True, report_every_s: float = 5.0, print_fn=None,
             warn_fn=warn, lsl: bool = False) -> int:
    """Stream ``sensors`` (role → address or name) into a live session, recording it: the
    :class:`~gaitmon.engine.runtime.Engine` of the dashboard, without window (and without models,
    unless ``lsl``: their analysis raises the flags published).

    The session folder is ``out_dir`` (default: a new folder under the data directory's
    ``sessions/``); with ``record=False`` nothing is journalled and the folder only receives the
    tables. At the end the tables are written into the folder and the session is added to the
    athlete history (``history_db``, default: the data directory's) unless ``add_to_history`` is
    False. ``emulated`` (a family name, or a prepared pair) swaps the radio for emulated sensors;
    ``virtual_clock`` then runs them as fast as the CPU allows; ``lsl`` publishes the session as Lab
    Streaming Layer streams (:mod:`gaitmon.engine.lsl`). Returns 1 when every sensor failed or
    none delivered a sample.
    """
    print_fn = print_fn or print_line
    if emulated is None:
        source = LiveSource(dict(sensors), rate_hz=rate_hz, duration_s=duration_s)
    else:
        prepared = emulated if not isinstance(emulated, str) else None
        source = EmulatedSource(emulated if prepared is None else prepared.family, scenario, seed=seed,
                                rate_hz=rate_hz, realtime=not virtual_clock, roles=tuple(sensors),
                                duration_s=duration_s, prepared=prepared)
    if out_dir is not None and record and (Path(out_dir) / JOURNAL_FILE).exists():
        raise InputError(out_dir, None, "already holds a recording; not overwriting it (choose another --out)")
    name = athlete
    next_report = [report_every_s]

    def report(session_s: float) -> None:
        if session_s >= next_report[0]:
            next_report[0] += report_every_s
            print_fn(status_line(engine.live(name), engine.recorder(name)))

    engine = Engine({name: source}, record=record, placement=placement, on_error=warn_fn, on_message=print_fn,
                    history_db=(history_db if add_to_history else False), on_tick=report,
                    folders={name: Path(out_dir)} if out_dir is not None else None, dashboard=False,
                    keep_unrecorded=True, on_sensor_state=print_fn, lsl=lsl)
    engine.start()
    if record:
        print_fn(f"Recording to: {engine.recorder(name).folder}")
    try:
        while not engine.wait(0.2):
            pass
    except KeyboardInterrupt:
        print_fn("Stopping (Ctrl-C): writing what was recorded")
        engine.stop(timeout_s=None)
    if engine.failure is not None:
        raise engine.failure
    health = engine.live(name).health()
    failed = [s for s in health.values() if s.state == "failed"]
    no_data = not any(s.samples for s in health.values())  # finish_session said why
    return 1 if no_data or (failed and len(failed) == len(health)) else 0


