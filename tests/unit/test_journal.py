"""The session journal: exact round trip, and recovery from cut-off and corrupted files."""

from __future__ import annotations

import resource
import signal

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


def _read(path):
    scan = journal.JournalScan(path)
    return list(journal.iter_records(path, scan)), scan


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
