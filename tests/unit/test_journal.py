"""The session journal: exact round trip, and recovery from cut-off and corrupted files."""

from __future__ import annotations

import functools
import resource
import signal
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.session import journal
from gaitmon.session.recorder import SessionRecorder
from gaitmon.session.meta import SessionMeta


def _records(n: int = 40) -> list[bytes]:
    out = [journal.json_record(journal.SESSION, 0.0, {"session_id": "x"}), journal.channel_record(0, "left", "imu")]
    for i in range(n):
        out.append(journal.data_record(0, 0.01 * i, bytes([i % 256]) * (5 + i % 17)))
        if i % 10 == 9:
            out.append(journal.json_record(journal.STATE, 0.01 * i, {"role": "left", "state": "streaming"}))
    return out


def _write(path, records: list[bytes]) -> list[int]:
    """Write a journal; returns each record's end offset."""
    writer = journal.JournalWriter(path)
    for record in records:
        writer.append(record)
    writer.close()
    ends, pos = [], journal.HEADER_SIZE
    for record in records:
        pos += len(record)
        ends.append(pos)
    return ends


#: The twin, and the compiled walk when it is built (also 3 offsets per call: its chunking).
WALKS = [journal._walk_python] + ([] if journal._walk is journal._walk_python else
                                  [journal._walk, functools.partial(journal._walk_compiled, chunk=3)])


def _read(path):
    """``iter_records``, checked against ``read_frames`` (with each walk): the same records, the same scan."""
    scan = journal.JournalScan(path)
    records = list(journal.iter_records(path, scan))
    chosen = journal._walk
    try:
        for walk in WALKS:
            journal._walk = walk
            framed_scan = journal.JournalScan(path)
            frames = journal.read_frames(path, framed_scan)
            assert [_fields(r) for r in frames.records()] == [_fields(r) for r in records]
            assert _scan_fields(framed_scan) == _scan_fields(scan)
    finally:
        journal._walk = chosen
    return records, scan


def _fields(record: journal.Record):
    return record.kind, str(record.t), record.offset, record.channel, record.payload, record.content


def _scan_fields(scan: journal.JournalScan):
    return scan.size, scan.records, scan.damage, scan.closed, str(scan.last_t)


def test_round_trip(tmp_path):
    path = tmp_path / "j.gmj"
    records = _records()
    _write(path, records)
    got, scan = _read(path)
    assert len(got) == len(records) == scan.records
    assert not scan.damage and not scan.closed
    data = [r for r in got if r.kind == journal.DATA]
    assert [r.payload for r in data] == [bytes([i % 256]) * (5 + i % 17) for i in range(40)]
    assert [r.t for r in data] == [0.01 * i for i in range(40)]
    assert got[1].content == {"role": "left", "stream": "imu"}


def test_a_journal_is_never_overwritten(tmp_path):
    path = tmp_path / "j.gmj"
    _write(path, _records(3))
    with pytest.raises(FileExistsError):
        journal.JournalWriter(path)


def test_cut_at_every_offset_keeps_every_whole_record(tmp_path):
    """A journal cut anywhere (crash, full disk) gives exactly the records wholly before the cut."""
    full = tmp_path / "full.gmj"
    records = _records(12)
    ends = _write(full, records)
    data = full.read_bytes()
    cut = tmp_path / "cut.gmj"
    for size in range(journal.HEADER_SIZE, len(data) + 1):
        cut.write_bytes(data[:size])
        got, scan = _read(cut)
        whole = sum(1 for end in ends if end <= size)
        assert len(got) == whole, size
        assert bool(scan.damage) == (size not in ends and size != journal.HEADER_SIZE), size
        if scan.damage:
            assert "incomplete" in scan.describe() or "cut off" in scan.describe()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_corruption_loses_only_the_damaged_records(tmp_path_factory, data):
    """Flip bytes inside some records: every other record is still read (the reader resynchronises)."""
    path = tmp_path_factory.mktemp("j") / "j.gmj"
    records = _records(30)
    ends = _write(path, records)
    starts = [journal.HEADER_SIZE] + ends[:-1]
    damaged = data.draw(st.sets(st.integers(2, len(records) - 1), min_size=1, max_size=5))
    raw = bytearray(path.read_bytes())
    for k in damaged:
        pos = data.draw(st.integers(starts[k], ends[k] - 1))
        raw[pos] ^= data.draw(st.integers(1, 255))
    path.write_bytes(bytes(raw))
    got, scan = _read(path)
    assert {r.offset for r in got} == {starts[k] for k in range(len(records)) if k not in damaged}
    assert scan.damage and scan.damage[0].offset == starts[min(damaged)]


def test_foreign_file_is_refused(tmp_path):
    path = tmp_path / "j.gmj"
    path.write_bytes(b"PK\x03\x04 a zip file, not a journal")
    with pytest.raises(journal.JournalFormatError, match="not a gaitmon journal"):
        _read(path)


class _Sink:
    def __init__(self):
        self.calls = []

    def on_data(self, *args):
        self.calls.append(args)
        return []

    def on_state(self, *args, **kwargs):
        pass


def test_full_disk_is_reported_at_once_and_the_stream_goes_on(tmp_path):
    """A real write failure (file size limit: EFBIG, as a full disk gives ENOSPC): one loud message."""
    messages, sink, now = [], _Sink(), [100.0]
    recorder = SessionRecorder(sink, tmp_path / "s", SessionMeta(), lambda: now[0], on_error=messages.append)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))
    try:
        for i in range(2000):
            now[0] += 0.01
            recorder.on_data("left", "imu", now[0], bytes(100))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, previous)
    recorder.close()
    assert len(sink.calls) == 2000  # the live session got every packet
    assert len(messages) == 1 and "RECORDING FAILED" in messages[0] and "journal.gmj" in messages[0]
    assert not recorder.recording
    got, scan = _read(tmp_path / "s" / "journal.gmj")
    assert got and not scan.damage  # what reached the disk is whole


def test_unwritable_folder_is_reported_and_the_stream_goes_on(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    messages, sink = [], _Sink()
    recorder = SessionRecorder(sink, tmp_path / "file" / "s", SessionMeta(), lambda: 5.0, on_error=messages.append)
    recorder.on_data("left", "imu", 6.0, b"abc")
    recorder.close()
    assert sink.calls == [("left", "imu", 1.0, b"abc")]
    assert len(messages) == 1 and "cannot record here" in messages[0]


def _mixed_records(n: int) -> list[bytes]:
    """Two channels interleaved, state records and marks between them, and records whose CRC is good but
    whose content is impossible (a NaN time, a DATA record too short for its header, JSON that is not)."""
    out = [journal.json_record(journal.SESSION, 0.0, {"session_id": "x"}), journal.channel_record(0, "left", "imu"),
           journal.channel_record(1, "right", "imu")]
    for i in range(n):
        out.append(journal.data_record(i % 2, 0.01 * i, bytes([0x5A, 0xA5, i % 9]) * (1 + i % 7)))
        if i % 11 == 10:
            out.append(journal.json_record(journal.MARK, 0.01 * i, {"rep": i}))
        if i % 17 == 16:
            out.append(journal.data_record(0, float("nan"), b"nan time"))
            out.append(journal.encode_record(journal.DATA, b"\x00abc"))
            out.append(journal.encode_record(journal.STATE, b"\x00" * 8 + b"{not json"))
    return out + [journal.json_record(journal.CLOSE, 0.01 * n, {})]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_read_frames_equals_iter_records_on_any_damage(tmp_path_factory, data):
    """Bytes flipped, inserted, removed anywhere (headers and file end included): ``read_frames`` keeps
    the records ``iter_records`` keeps and notes the same damage (``_read`` compares them)."""
    path = tmp_path_factory.mktemp("j") / "j.gmj"
    _write(path, _mixed_records(data.draw(st.integers(0, 60))))
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(0, 6))):
        at = data.draw(st.integers(journal.HEADER_SIZE, len(raw)))
        op = data.draw(st.integers(0, 3))
        if op == 0 and at < len(raw):
            raw[at] ^= data.draw(st.integers(1, 255))
        elif op == 1:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=40))
        elif op == 2:
            del raw[at:at + data.draw(st.integers(1, 40))]
        else:
            raw[at:at] = journal.data_record(5, 1.0, data.draw(st.binary(max_size=20)))[:data.draw(st.integers(1, 30))]
    path.write_bytes(bytes(raw))
    _read(path)


def test_runs_group_each_channel_between_other_records(tmp_path):
    path = tmp_path / "j.gmj"
    _write(path, _mixed_records(40))
    scan = journal.JournalScan(path)
    frames = journal.read_frames(path, scan)
    assert len(scan.damage) == 6  # the impossible records: 3 every 17 data records
    items = list(frames.runs())
    records = list(frames.records())
    # every record once, in file order within a channel; other records keep their place
    flattened = []
    for item in items:
        if isinstance(item, journal.DataRun):
            assert set(frames.channel[item.rows].tolist()) == {item.channel}
            assert np.all(np.diff(item.offsets) > 0)
            assert item.payloads == [frames.payload(row) for row in item.rows]
            assert np.array_equal(item.t, [records[row].t for row in item.rows])
            flattened.extend(item.rows.tolist())
        else:
            flattened.append(records.index(item))
    assert sorted(flattened) == list(range(len(records)))
    others = [i for i, r in enumerate(records) if r.kind != journal.DATA]
    assert [f for f in flattened if f in others] == others
    # between two other records, the first channel to appear comes first, each channel once
    kinds = [("run", item.channel) if isinstance(item, journal.DataRun) else item.kind for item in items]
    assert kinds[:6] == [journal.SESSION, journal.CHANNEL, journal.CHANNEL, ("run", 0), ("run", 1), journal.MARK]


@pytest.mark.skipif(journal._walk is journal._walk_python, reason="compiled framing walk not built")
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_compiled_crc_is_zlib_crc32(data):
    from gaitmon.session import _framing

    assert _framing.crc32(data) == zlib.crc32(data)
