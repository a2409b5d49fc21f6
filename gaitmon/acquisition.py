"""``gaitmon scan`` and ``gaitmon live``: acquisition into a :class:`~gaitmon.live.LiveSession`, headless.

Live status lines (per sensor: state, effective rate, lost and malformed packets, battery; steps so
far) are printed every few seconds; at the end the tables are written like ``gaitmon analyze``
does, plus ``gaps.csv`` and ``health.csv``. ``--emulated FAMILY`` swaps the radio for emulated
sensors (bleak's ``backend=`` hook) streaming a simulated session, so the whole path can be tried
without hardware; ``--virtual-clock`` runs that as fast as the CPU allows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from gaitmon.analysis import strength_balance
from gaitmon.analyze import AnalysisResult, write_outputs
from gaitmon.io import write_table_csv
from gaitmon.live import LiveSession, SensorStatus
from gaitmon.sources import ble

GAP_COLUMNS = ("sensor", "t_start", "t_end", "lost_samples", "lost_packets", "cause", "exact")


def _backends(emulated: str | None, scenario: str, seed: int, rate_hz: float | None):
    if emulated is None:
        return None, (None, None)
    from gaitmon.sources.virtual import emulated_pair

    pair = emulated_pair(emulated, scenario, seed=seed, rate_hz=rate_hz)
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


def status_line(live: LiveSession, now: float) -> str:
    parts = []
    for role, s in sorted(live.health().items()):
        battery = f" batt {s.battery_pct}%" if s.battery_pct is not None else ""
        parts.append(f"{role}: {s.state} {s.effective_rate_hz:5.0f} Hz lost {s.lost_packets} "
                     f"bad {s.malformed}{battery}")
    steps = sum(1 for e in live.events if e.kind == "IC")
    return f"[{now:7.1f} s] {' | '.join(parts)} | {steps} contacts"


def run_live(sensors: dict[str, str], out_dir: Path, rate_hz: float | None = None, athlete: str = "",
             placement: str = "shank", duration_s: float | None = None, emulated: str | None = None,
             scenario: str = "swing_plateau", seed: int = 1, virtual_clock: bool = False,
             report_every_s: float = 5.0, print_fn=print) -> int:
    pair, backends = _backends(emulated, scenario, seed, rate_hz)
    if pair is not None:
        sensors = {role: pair.addresses[role] for role in sensors}
        if duration_s is None:
            duration_s = float(pair.session.samples["left"][0][-1])
    live = LiveSession(athlete, placement)

    async def main():
        loop = asyncio.get_running_loop()
        start = loop.time()
        stop = asyncio.Event()

        async def report():
            while not stop.is_set():
                await asyncio.sleep(report_every_s)
                print_fn(status_line(live, loop.time() - start))

        reporter = asyncio.ensure_future(report())
        try:
            await ble.acquire(sensors, live, rate_hz, duration_s=duration_s, stop=stop, backends=backends)
        finally:
            stop.set()
            reporter.cancel()

    try:
        _run(main(), virtual_clock and pair is not None)
    except KeyboardInterrupt:
        print_fn("stopping (Ctrl-C): writing what was recorded")
    return _finish(live, out_dir, print_fn)


def _finish(live: LiveSession, out_dir: Path, print_fn) -> int:
    steps = live.steps()
    result = AnalysisResult(Path(f"<live {live.athlete or 'session'}>"), live.placement, sorted(live.legs),
                            sorted(live.events), steps, strength_balance(steps))
    print_fn(result.summary())
    health = live.health()
    for status in health.values():
        print_fn(f"  {status.role}: {status.family} {status.address} {status.state} {status.detail}".rstrip())
        print_fn(f"    {status.samples} samples, effective {status.effective_rate_hz:.1f} Hz, "
                 f"lost {status.lost_packets} packets ({status.lost_samples} samples) in {status.gaps} gaps, "
                 f"{status.malformed} malformed, {status.duplicates} duplicates, {status.reconnects} reconnects")
    written = write_outputs(result, out_dir)
    gaps = out_dir / "gaps.csv"
    write_table_csv(gaps, [g.__dict__ for g in live.gaps], list(GAP_COLUMNS))
    health_csv = out_dir / "health.csv"
    rows = [s.as_dict() for s in health.values()]
    write_table_csv(health_csv, rows, list(SensorStatus.__dataclass_fields__))
    print_fn(f"wrote {', '.join(str(p) for p in written + [gaps, health_csv])}")
    failed = [s for s in health.values() if s.state == "failed"]
    return 1 if failed and len(failed) == len(health) else 0
