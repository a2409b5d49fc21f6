"""What a sensor says about itself (the standard Device Information Service, 0x180A): read over the
real bleak code path from the emulated sensors, kept in the session meta and the journal, and never
a reason to fail a connection — absent service, a read that errors or hangs, garbage bytes."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict
from pathlib import Path

import pytest

from gaitmon._version import __version__
from gaitmon.errors import InputError
from gaitmon.sensors import FAMILIES, DeviceInfo
from gaitmon.sensors.family import DEVICE_INFO_MAX_CHARS, DEVICE_INFORMATION, device_info_text
from gaitmon.session import journal
from gaitmon.session.folder import JOURNAL_FILE, META_FILE, read_meta
from gaitmon.session.meta import SessionMeta
from gaitmon.session.recorder import SessionRecorder
from gaitmon.sources.ble import acquire
from gaitmon.sources.replay import feed
from gaitmon.sources.virtual import Faults, emulated_pair
from gaitmon.sources.virtual.clock import run_virtual
from gaitmon.stream.live import LiveSession

SERIALS = {"left": "EMU-C0FFEE000001", "right": "EMU-C0FFEE000002"}


def record(pair, folder: Path, duration_s: float = 2.0) -> SessionMeta:
    """Stream ``pair`` through bleak's emulated backend into a recorder for ``duration_s``; the meta read back."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        recorder = SessionRecorder(LiveSession("device info"), folder, SessionMeta(athlete="Ann"), loop.time)
        await acquire(pair.addresses, recorder, None, duration_s=duration_s,
                      backends=(pair.air.scanner_backend, pair.air.client_backend))
        recorder.close()

    run_virtual(main())
    return read_meta(folder)


def short_pair(family: str, **options):
    return emulated_pair(family, "balanced", seed=0, n_reps=1, recovery_s=4.0, **options)


# --------------------------------------------------------------------------------------------------
# Cleaning what the sensor sends
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, text", [
    (b"Polar Electro Oy", "Polar Electro Oy"),
    (b"2.1.9\x00\x00\x00\x00", "2.1.9"),  # NUL padding of a fixed-size buffer
    (b"3.0\x00\xff\xfejunk", "3.0"),  # junk after the terminator
    (b"  v1.2\r\n", "v1.2"),
    (b"A\tB\x1bC", "A B C"),  # control characters
    (b"", ""),
    (b"\x00", ""),
    ("Movesense Ø".encode(), "Movesense Ø"),
    (b"ab\xc3", "ab\ufffd"),  # a cut UTF-8 sequence
])
def test_device_info_text(data, text):
    assert device_info_text(data) == text


def test_garbage_is_kept_short_and_printable():
    garbage = bytes((7 * i + 200) % 255 + 1 for i in range(500))  # no NUL; mostly not UTF-8
    text = device_info_text(garbage)
    assert 0 < len(text) <= DEVICE_INFO_MAX_CHARS
    assert "\ufffd" in text and text.isprintable() and text == text.strip()


# --------------------------------------------------------------------------------------------------
# Through bleak's emulated backend into the session folder
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("family, software", [("polar_pmd", f"PMD emulation {__version__}"),
                                              ("gaitmon_diy", ""), ("movesense", "")])
def test_what_the_sensor_tells_reaches_the_session_meta_and_journal(tmp_path, family, software):
    meta = record(short_pair(family), tmp_path / "s")
    for role in ("left", "right"):
        info = meta.sensors[role]
        assert (info.manufacturer, info.model) == ("gaitmon sensor emulator", f"emulated {FAMILIES[family].label}")
        assert (info.serial_number, info.firmware, info.software) == (
            SERIALS[role], f"gaitmon-emulator {__version__}", software)
        assert info.hardware
    told = [r.content["device"] for r in journal.iter_records(tmp_path / "s" / JOURNAL_FILE)
            if r.kind == journal.STATE and r.content["state"] == "streaming"]
    assert {d["serial_number"] for d in told} == set(SERIALS.values())


def test_a_replay_hands_the_recorded_device_info_to_its_sink(tmp_path):
    record(short_pair("polar_pmd"), tmp_path / "s")
    seen: dict[str, DeviceInfo] = {}

    class Sink(LiveSession):
        def on_state(self, role, state, detail="", address="", battery_pct=None, device=None):
            if device is not None:
                seen[role] = device
            super().on_state(role, state, detail, address=address, battery_pct=battery_pct, device=device)

    path = tmp_path / "s" / JOURNAL_FILE
    scan = journal.JournalScan(path)
    problems: list[str] = []
    feed(journal.iter_records(path, scan), Sink("replay"), scan, problems, [])
    assert problems == []
    assert {role: d.serial_number for role, d in seen.items()} == SERIALS


def test_a_sensor_without_the_service_streams_and_tells_nothing(tmp_path, caplog):
    """The emulated WitMotion has no Device Information Service: nothing known, nothing logged."""
    with caplog.at_level(logging.INFO, logger="gaitmon.sensors.family"):
        meta = record(short_pair("witmotion"), tmp_path / "s")
    for info in meta.sensors.values():
        assert info.family == "witmotion" and info.rate_hz == 200.0  # it streamed
        assert (info.manufacturer, info.model, info.serial_number, info.firmware, info.hardware, info.software) == (
            "", "", "", "", "", "")
    assert [r for r in caplog.records if r.name == "gaitmon.sensors.family"] == []


def test_a_read_that_fails_is_not_known_and_logged(tmp_path, caplog):
    faults = {"left": Faults(failing_device_information=("serial_number", "firmware"))}
    with caplog.at_level(logging.WARNING, logger="gaitmon.sensors.family"):
        meta = record(short_pair("gaitmon_diy", faults=faults), tmp_path / "s")
    left, right = meta.sensors["left"], meta.sensors["right"]
    assert (left.serial_number, left.firmware) == ("", "") and left.model == "emulated gaitmon DIY board"
    assert right.serial_number == SERIALS["right"] and right.firmware
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and all("C0:FF:EE:00:00:01" in m and "not known" in m for m in messages)
    assert "serial number failed" in messages[0] and "firmware revision failed" in messages[1]


def test_garbage_bytes_become_short_printable_text(tmp_path):
    pair = short_pair("gaitmon_diy")
    garbage = bytes((7 * i + 200) % 255 + 1 for i in range(500))
    pair.devices["left"].device_information["model"] = garbage
    pair.devices["left"].device_information["firmware"] = b"\xff\xfe1.0\r\n\x00\x00\x00"
    meta = record(pair, tmp_path / "s")
    left = meta.sensors["left"]
    assert left.model == device_info_text(garbage) and len(left.model) <= DEVICE_INFO_MAX_CHARS
    assert left.firmware == "\ufffd\ufffd1.0"
    json.loads((tmp_path / "s" / META_FILE).read_text())  # still a valid file


class _HangingClient:
    """A connected client whose Device Information has every string but never answers for the model."""

    address = "AA:BB:CC:DD:EE:FF"

    class services:  # noqa: N801 - the shape of bleak's service collection, as far as it is used
        @staticmethod
        def get_characteristic(uuid):
            return object()

    async def read_gatt_char(self, uuid):
        if uuid == DEVICE_INFORMATION["model"][0]:
            await asyncio.sleep(3600)
        return bytearray(b"ok " + uuid[4:8].encode())


def test_a_read_that_hangs_is_not_known_and_logged(caplog):
    family = FAMILIES["polar_pmd"]
    with caplog.at_level(logging.WARNING, logger="gaitmon.sensors.family"):
        info = run_virtual(family.read_device_info(_HangingClient()))
    assert info.model == "" and info.manufacturer == "ok 2a29" and info.software == "ok 2a28"
    assert [r.getMessage() for r in caplog.records] == [
        "AA:BB:CC:DD:EE:FF: no answer to reading its model number within 1 s: not known"]


# --------------------------------------------------------------------------------------------------
# Session files
# --------------------------------------------------------------------------------------------------

def _meta_file(folder: Path, sensor: dict) -> Path:
    folder.mkdir()
    (folder / META_FILE).write_text(json.dumps({
        "format": "gaitmon-session", "format_version": 1, "athlete": "Ann", "session_id": "ab" * 16,
        "started_at": "2026-11-21T10:15:03.250000+00:00", "source": "live", "sensors": {"left": sensor}}))
    return folder


def test_a_session_file_from_before_device_info_loads(tmp_path):
    old = {"role": "left", "identifier": "Polar Sense 1", "address": "A0:9E:1A:00:00:01", "family": "polar_pmd",
           "label": "Polar Verity Sense", "rate_hz": 416.0}
    info = read_meta(_meta_file(tmp_path / "s", old)).sensors["left"]
    assert info.address == "A0:9E:1A:00:00:01" and info.rate_hz == 416.0
    assert (info.manufacturer, info.model, info.serial_number, info.firmware, info.hardware, info.software) == (
        "", "", "", "", "", "")


def test_device_info_round_trips_through_the_session_file(tmp_path):
    told = asdict(DeviceInfo("Polar Electro Oy", "Polar Sense", "C8A1B2C3", "2.1.9", "1.0", "3.0.35"))
    info = read_meta(_meta_file(tmp_path / "s", {"role": "left", "family": "polar_pmd", **told})).sensors["left"]
    assert {name: getattr(info, name) for name in told} == told


def test_a_device_info_field_that_is_not_text_is_named(tmp_path):
    with pytest.raises(InputError, match=r"sensors\.left\.firmware.*not text"):
        read_meta(_meta_file(tmp_path / "s", {"role": "left", "firmware": 219}))


def test_a_recording_started_mid_stream_gets_the_device_info_told_before(tmp_path):
    """The dashboard connects first and records later: the engine's relay hands the recorder what
    the sensor told at its connection (it is read once per link)."""
    from gaitmon.engine.runtime import _Relay

    told = DeviceInfo("Polar Electro Oy", "Polar Sense", "C8A1B2C3", "2.1.9")
    relay = _Relay()
    relay.target = LiveSession("before recording")
    relay.on_state("left", "streaming", "Polar Verity Sense at 416 Hz", address="A0:9E:1A:00:00:01",
                   battery_pct=80, device=told)
    relay.on_state("left", "stalled", "no data for 0.6 s")  # later states do not repeat it
    recorder = SessionRecorder(LiveSession("recording"), tmp_path / "s", SessionMeta(athlete="Ann"), lambda: 0.0)
    relay.switch(recorder, 0.0)
    recorder.close()
    info = read_meta(tmp_path / "s").sensors["left"]
    assert (info.address, info.serial_number, info.firmware) == ("A0:9E:1A:00:00:01", "C8A1B2C3", "2.1.9")
