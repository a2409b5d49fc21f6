"""The batched replay (notifications decoded and timed many at once) against the per-notification
replay of the same recording, for every family, with every fault the radio and the sensor make:
losses, repeats, swaps, malformed packets, receive jitter, disconnections, a corrupt device time
stamp and a device clock that is really reset. Same events within 0.2 ms, same counts."""

from __future__ import annotations

import dataclasses
import functools
import struct

import numpy as np
import pytest

from gaitmon.engine.acquisition import run_live
from gaitmon.sources.replay import replay_session
from gaitmon.sources.virtual import Faults, emulated_pair

#: family → (struct format, byte offset) of the device time field, and the bit that is ≈ 1 s
#: (as in test_device_time.py).
TIME_FIELD = {"gaitmon_diy": ("<I", 4, 20), "movesense": ("<I", 2, 10), "polar_pmd": ("<Q", 1, 30)}

FAMILIES = ("gaitmon_diy", "movesense", "polar_pmd", "witmotion")
DURATION_S = 40.0
#: Largest difference of an event's time between the two replays, s.
AGREEMENT_S = 0.2e-3


def _faults():
    common = dict(drop=0.03, duplicate=0.02, reorder=0.02, corrupt=0.01, jitter_s=0.02)
    return {"left": Faults(seed=1, disconnect_at_s=12.0, away_s=1.5, **common),
            "right": Faults(seed=2, more_disconnects=((21.0, 0.8),), **common)}


def tamper(device, family: str, from_s: float, change, once: bool):
    """Rewrite the device time of the frames sent from ``from_s`` on (only the first when ``once``)."""
    fmt, offset, _ = TIME_FIELD[family]
    frames = device.frames

    def with_time(data: bytes) -> bytes:
        (value,) = struct.unpack_from(fmt, data, offset)
        out = bytearray(data)
        struct.pack_into(fmt, out, offset, change(value) % (1 << (8 * struct.calcsize(fmt))))
        return bytes(out)

    def tampered(first_sample):
        done = False
        for frame in frames(first_sample):
            if frame.send_s >= from_s and not (once and done):
                done = True
                frame = dataclasses.replace(frame, data=with_time(frame.data))
            yield frame
    device.frames = tampered


@functools.lru_cache(maxsize=None)
def _recorded(family: str, base: str):
    from pathlib import Path

    folder = Path(base) / family
    pair = emulated_pair(family, "swing_plateau", seed=5, faults=_faults(), drift_ppm=(150.0, -150.0))
    if family in TIME_FIELD:
        fmt, _, one_second_bit = TIME_FIELD[family]
        tamper(pair.devices["left"], family, 8.0, lambda v: v + (1 << one_second_bit), once=True)  # corrupt
        tamper(pair.devices["right"], family, 30.0, lambda v: v - (1 << (one_second_bit + 6)), once=False)  # reset
    # The history goes to the folder too: a direct call (outside pytest's GAITMON_HOME) must not reach ~/.
    assert run_live({"left": "L", "right": "R"}, folder, athlete="Ana", emulated=pair,
                    history_db=Path(base) / "history.sqlite", duration_s=DURATION_S,
                    virtual_clock=True, print_fn=lambda line: None) == 0
    return folder


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("rec"))
    return lambda family: _recorded(family, base)


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_replay_agrees_with_the_per_notification_replay(recordings, family):
    folder = recordings(family)
    one = replay_session(folder, batched=False, keep_samples=False).live
    many = replay_session(folder, batched=True, keep_samples=False).live
    health_1 = {role: status.as_dict() for role, status in one.health().items()}
    health_n = {role: status.as_dict() for role, status in many.health().items()}
    for role in health_1:  # every count; the measured rate is a float of the same samples
        assert abs(health_n[role].pop("effective_rate_hz") - health_1[role].pop("effective_rate_hz")) < 0.5
    assert health_n == health_1
    counts = health_1["left"]
    assert counts["lost_samples"] and counts["duplicates"] and counts["malformed"] and counts["reconnects"]
    if family in TIME_FIELD:
        assert any(g.cause == "device clock reset" for g in one.gaps)
    assert len(many.gaps) == len(one.gaps)
    for a, b in zip(sorted(one.gaps, key=lambda g: (g.sensor, g.t_start)),
                    sorted(many.gaps, key=lambda g: (g.sensor, g.t_start))):
        assert (a.sensor, a.lost_samples, a.lost_packets, a.cause, a.exact) == \
               (b.sensor, b.lost_samples, b.lost_packets, b.cause, b.exact)
        assert abs(a.t_start - b.t_start) <= AGREEMENT_S and abs(a.t_end - b.t_end) <= AGREEMENT_S
    events_1, events_n = sorted(one.events), sorted(many.events)
    assert len(events_1) > 50
    assert [(e.side, e.kind) for e in events_n] == [(e.side, e.kind) for e in events_1]
    assert np.abs(np.array([e.t for e in events_n]) - np.array([e.t for e in events_1])).max() <= AGREEMENT_S
    assert len(many.steps()) == len(one.steps())
