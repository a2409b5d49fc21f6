"""Every value read from a session's files is checked: bad ``session.json`` fields are one line
naming the file and the field, impossible journal records are damage (counted, skipped), a stretch
of sync words costs no extra CRC work, the journal is read through a bounded window, and a refused
recorder leaves the folder alone."""

from __future__ import annotations

import json
import math
import zlib

import pytest

from gaitmon.errors import InputError
from gaitmon.session import journal
from gaitmon.session.folder import JOURNAL_FILE, META_FILE, read_meta, write_meta
from gaitmon.session.meta import SessionMeta, SensorInfo
from gaitmon.session.recorder import SessionRecorder


def _meta_json() -> dict:
    meta = SessionMeta(athlete="Ana", sensors={"left": SensorInfo("left", family="gaitmon_diy", rate_hz=1000.0)})
    meta.duration_s = 12.5
    return json.loads(json.dumps(meta.to_json()))


@pytest.mark.parametrize("path, value, field", [
    (("athlete",), 5, "athlete"),
    (("athlete",), None, "athlete"),
    (("started_at",), "yesterday", "started_at"),
    (("started_at",), 1700000000, "started_at"),
    (("ended_at",), "soon", "ended_at"),
    (("duration_s",), "long", "duration_s"),
    (("duration_s",), math.inf, "duration_s"),
    (("duration_s",), math.nan, "duration_s"),
    (("duration_s",), -1.0, "duration_s"),
    (("duration_s",), True, "duration_s"),
    (("placement",), "hand", "placement"),
    (("session_id",), "", "session_id"),
    (("session_id",), 7, "session_id"),
    (("format_version",), "one", "format_version"),
    (("sensors",), [1, 2], "sensors"),
    (("sensors", "left"), "gaitmon_diy", "sensors.left"),
    (("sensors", "left", "rate_hz"), "fast", "sensors.left.rate_hz"),
    (("sensors", "left", "rate_hz"), 1e12, "sensors.left.rate_hz"),
    (("sensors", "left", "rate_hz"), -5, "sensors.left.rate_hz"),
    (("sensors", "left", "family"), ["x"], "sensors.left.family"),
])
def test_a_bad_session_json_field_is_one_line_naming_file_and_field(tmp_path, path, value, field):
    data = _meta_json()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (tmp_path / META_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_meta(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / META_FILE)) and "\n" not in message
    assert f"'{field}'" in message


def test_a_deeply_nested_session_json_is_one_line(tmp_path):
    (tmp_path / META_FILE).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        read_meta(tmp_path)


def test_a_good_session_json_reads_back_unchanged(tmp_path):
    meta = SessionMeta.from_json(_meta_json())
    meta.ended_at = meta.started_at
    write_meta(tmp_path, meta)
    assert read_meta(tmp_path) == meta
    assert read_meta(tmp_path).sensors["left"].rate_hz == 1000.0


def _journal(path, records: list[bytes]) -> None:
    writer = journal.JournalWriter(path)
    for record in records:
        writer.append(record)
    writer.close()


def _read(path):
    scan = journal.JournalScan(path)
    return list(journal.iter_records(path, scan)), scan


def test_crc_valid_records_with_impossible_times_are_damage(tmp_path):
    path = tmp_path / "j.gmj"
    good = [journal.channel_record(0, "left", "imu"), journal.data_record(0, 1.0, b"ok")]
    bad = [journal.data_record(0, math.nan, b"x"), journal.data_record(0, math.inf, b"x"),
           journal.json_record(journal.STATE, math.nan, {"role": "left", "state": "streaming"}),
           journal.json_record(journal.MARK, -math.inf, {"kind": "rep"}),
           journal.encode_record(journal.STATE, journal._T.pack(0.0) + b"[" * 100_000)]
    _journal(path, good[:1] + bad + good[1:])
    records, scan = _read(path)
    assert [r.kind for r in records] == [journal.CHANNEL, journal.DATA] and records[1].t == 1.0
    assert len(scan.damage) == len(bad) and all("unreadable" in d.problem for d in scan.damage)


def test_a_stretch_of_sync_words_costs_no_crc_work_per_byte(tmp_path, monkeypatch):
    """Record-like junk (sync word, a real kind, a long length) in front of every byte: the reader
    checks the CRC of no candidate that is not followed by a record, so the bytes it checksums stay
    about the file's size (it was one payload of up to 1 MB per junk byte)."""
    records = [journal.channel_record(0, "left", "imu")] + [journal.data_record(0, 0.01 * i, bytes(50))
                                                           for i in range(2000)]
    junk = (journal._RECORD_HEAD.pack(journal.SYNC, journal.DATA, 20_000)) * 3000
    path = tmp_path / "j.gmj"
    _journal(path, records[:1000] + [junk] + records[1000:])
    checked = [0]
    crc32 = zlib.crc32

    def counting(data, value=0):
        checked[0] += len(data)
        return crc32(data, value)

    monkeypatch.setattr(journal.zlib, "crc32", counting)
    got, scan = _read(path)
    assert len(got) == len(records) and len(scan.damage) == 1
    assert checked[0] < 2 * path.stat().st_size


def _key(record: journal.Record) -> tuple:
    return record.kind, repr(record.t), record.offset, record.channel, record.payload, record.content


def test_the_journal_is_read_through_a_bounded_window(tmp_path, monkeypatch):
    """Records identical to a whole-file read, while the window never holds more than a chunk
    plus one record (memory independent of the journal's length)."""
    records = [journal.channel_record(0, "left", "imu")] + [
        journal.data_record(0, 0.001 * i, bytes([i % 251]) * (1 + i % 200)) for i in range(3000)]
    path = tmp_path / "j.gmj"
    _journal(path, records)
    data = path.read_bytes()
    damaged = bytearray(data)
    damaged[len(data) // 2:len(data) // 2 + 500] = b"\x5a\xa5" * 250
    (tmp_path / "d.gmj").write_bytes(damaged)
    expected = {name: _read(tmp_path / name) for name in ("j.gmj", "d.gmj")}
    assert len(expected["d.gmj"][1].damage) == 1
    largest = [0]
    have = journal._Window.have

    def watched(self, pos, n):
        ok = have(self, pos, n)
        largest[0] = max(largest[0], len(self.buf))
        return ok

    monkeypatch.setattr(journal._Window, "have", watched)
    for chunk in (5, 13, 97, 4096):
        monkeypatch.setattr(journal, "READ_CHUNK", chunk)
        largest[0] = 0
        for name, (records_whole, scan_whole) in expected.items():
            got, scan = _read(tmp_path / name)
            assert list(map(_key, got)) == list(map(_key, records_whole)), (chunk, name)
            assert scan.damage == scan_whole.damage, (chunk, name)
        assert largest[0] <= chunk + max(len(r) for r in records)


class _Null:
    def __getattr__(self, name):
        return lambda *args, **kwargs: []


def test_a_refused_recorder_leaves_the_folder_alone(tmp_path):
    folder = tmp_path / "s"
    first = SessionRecorder(_Null(), folder, SessionMeta(athlete="A"), lambda: 0.0)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    errors: list[str] = []
    second = SessionRecorder(_Null(), folder, SessionMeta(athlete="B"), lambda: 1.0, on_error=errors.append)
    assert not second.recording and len(errors) == 1 and "already holds a recording" in errors[0]
    second.close()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    first.close()
    assert read_meta(folder).athlete == "A"


def test_a_folder_with_only_a_session_file_is_not_taken_over(tmp_path):
    write_meta(tmp_path, SessionMeta(athlete="A"))
    before = (tmp_path / META_FILE).read_bytes()
    errors: list[str] = []
    recorder = SessionRecorder(_Null(), tmp_path, SessionMeta(athlete="B"), lambda: 0.0, on_error=errors.append)
    recorder.close()
    assert errors and (tmp_path / META_FILE).read_bytes() == before
    assert not (tmp_path / JOURNAL_FILE).exists()
