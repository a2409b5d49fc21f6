"""The session journal: an append-only log of everything the sensors sent, crash-safe, re-decodable.

File layout (``journal.gmj``, little-endian)
--------------------------------------------
A 20-byte file header: the magic ``b"GAITMON-JOURNAL\\n"`` then ``u16 version``, ``u16 0``.
Then records, each::

    u16 sync = 0xA55A | u8 kind | u32 length | payload[length] | u32 crc32(kind, length, payload)

The sync word and the CRC let a reader step over a damaged stretch and pick up the next whole record.
Payloads by kind (``t`` is f64 seconds on the session clock, see :mod:`gaitmon.session.meta`):

========== ====================================================================================
DATA       ``u8 channel | f64 t | notification bytes`` — one BLE notification as received
CHANNEL    ``u8 channel | JSON {"role", "stream"}`` — declares a channel before its first DATA
CONFIGURED ``f64 t | JSON {"role", "setup"}`` — a sensor (re)started with a StreamSetup
DISCONNECT ``f64 t | JSON {"role"}`` — a sensor's link dropped
STATE      ``f64 t | JSON {"role", "state", "detail", "address", "battery_pct", "device"}`` — link state
           (``device``: the sensor's Device Information strings, or null; absent in older journals)
MARK       ``f64 t | JSON {...}`` — a coach's mark (e.g. a rep marked by hand)
SESSION    ``f64 t | JSON {"session_id", ...}`` — the first record: ties the journal to its session
CLOSE      ``f64 t | JSON {}`` — the recording was closed properly (absent after a crash)
========== ====================================================================================

:func:`iter_records` reads a journal record by record through a bounded window (live tools, huge
files); :func:`read_frames` reads it at once into arrays, with the same damage handling (replay).

Only whole records are handed to the operating system (one ``write`` per flush), so a killed
process leaves at most the records of the last unflushed interval missing. A flush that fails
part-way (disk full) is cut back to the last whole flush; power lost mid-write can still leave a torn
last record, which the reader reports and skips.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAGIC = b"GAITMON-JOURNAL\n"
VERSION = 1
_FILE_HEADER = struct.Struct("<16sHH")
HEADER_SIZE = _FILE_HEADER.size

SYNC = 0xA55A
_RECORD_HEAD = struct.Struct("<HBI")  # sync, kind, length
_CRC = struct.Struct("<I")
_T = struct.Struct("<d")
_DATA_HEAD = struct.Struct("<Bd")  # channel, t
RECORD_OVERHEAD = _RECORD_HEAD.size + _CRC.size
#: Longest payload a reader accepts (a BLE notification is at most 512 bytes; JSON setups are small).
MAX_PAYLOAD = 1 << 20

DATA, CHANNEL, CONFIGURED, DISCONNECT, STATE, MARK, SESSION, CLOSE = range(1, 9)
KIND_NAMES = {DATA: "data", CHANNEL: "channel", CONFIGURED: "configured", DISCONNECT: "disconnect",
              STATE: "state", MARK: "mark", SESSION: "session", CLOSE: "close"}


def encode_record(kind: int, payload: bytes) -> bytes:
    """One framed record (sync, kind, length, payload, CRC)."""
    head = _RECORD_HEAD.pack(SYNC, kind, len(payload))
    return head + payload + _CRC.pack(zlib.crc32(payload, zlib.crc32(head[2:])))


def data_record(channel: int, t: float, payload: bytes) -> bytes:
    return encode_record(DATA, _DATA_HEAD.pack(channel, t) + payload)


def json_record(kind: int, t: float, content: dict) -> bytes:
    return encode_record(kind, _T.pack(t) + json.dumps(content, separators=(",", ":")).encode())


def channel_record(channel: int, role: str, stream: str) -> bytes:
    return encode_record(CHANNEL, bytes([channel]) + json.dumps({"role": role, "stream": stream}).encode())


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


class JournalWriter:
    """Appends records to a new journal file; :meth:`flush` hands whole records to the OS.

    Write errors (disk full, folder gone) never raise out of :meth:`append`/:meth:`flush`: the
    writer stops, keeps the message in :attr:`error`, counts what it could not write in
    :attr:`bytes_lost`, and the caller reports it. The live stream goes on without the recording.

    Parameters
    ----------
    path : Path
        The journal file; must not exist yet (a recording is never overwritten).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self.pending = bytearray(_FILE_HEADER.pack(MAGIC, VERSION, 0))
        self.bytes_written = 0
        self.bytes_lost = 0
        self.error: str | None = None

    def append(self, record: bytes) -> None:
        if self.error is None:
            self.pending += record
        else:
            self.bytes_lost += len(record)

    def flush(self) -> bool:
        """Write the pending records; False (and :attr:`error` set) once writing has failed."""
        if self.error is not None:
            return False
        view = memoryview(self.pending)
        start = self.bytes_written
        try:
            while view:
                n = os.write(self.fd, view)
                self.bytes_written += n
                view = view[n:]
        except OSError as exc:
            self.error = f"{self.path}: cannot write the recording: {exc.strerror or exc}"
            self.bytes_lost += len(self.pending)
            self._cut_back(start)
        finally:
            view.release()
        self.pending.clear()
        return self.error is None

    def _cut_back(self, size: int) -> None:
        """Remove a partly written flush, so the file ends with a whole record."""
        try:
            os.ftruncate(self.fd, size)
            self.bytes_written = size
        except OSError:
            pass  # the reader skips a torn last record anyway

    def close(self) -> None:
        """Flush, sync to the disk and close."""
        self.flush()
        try:
            if self.error is None:
                os.fsync(self.fd)
        except OSError as exc:
            self.error = f"{self.path}: cannot sync the recording to disk: {exc.strerror or exc}"
        finally:
            os.close(self.fd)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One journal record as read back. ``channel`` is set for DATA, ``content`` for the others."""

    kind: int
    t: float
    offset: int
    channel: int = -1
    payload: bytes = b""
    content: dict | None = None


@dataclass
class Damage:
    """A stretch of the journal that could not be read."""

    offset: int
    length: int
    problem: str


@dataclass
class JournalScan:
    """What reading a journal found besides its records: damage, and whether it was closed."""

    path: Path
    size: int = 0
    records: int = 0
    damage: list[Damage] = field(default_factory=list)
    closed: bool = False
    last_t: float = float("nan")

    @property
    def bytes_damaged(self) -> int:
        return sum(d.length for d in self.damage)

    def describe(self) -> str:
        """One line on what was recovered, for the user."""
        if not self.damage:
            state = "closed properly" if self.closed else "not closed (recording was interrupted)"
            return f"{self.path}: {self.records} records, {state}"
        first = self.damage[0]
        tail = first.offset + first.length == self.size and len(self.damage) == 1
        what = "the last record is incomplete (cut off)" if tail else first.problem
        return (f"{self.path}: offset {first.offset}: {what}; {len(self.damage)} damaged stretch(es), "
                f"{self.bytes_damaged} of {self.size} bytes skipped; recovered {self.records} records "
                f"up to t = {self.last_t:.1f} s")


class JournalFormatError(ValueError):
    """The file is not a gaitmon journal at all (wrong magic or a newer version)."""


def read_header(data: bytes | memoryview, path: Path) -> None:
    if len(data) < HEADER_SIZE or bytes(data[:len(MAGIC)]) != MAGIC:
        raise JournalFormatError(f"{path}: not a gaitmon journal (bad file header)")
    _, version, _ = _FILE_HEADER.unpack_from(data)
    if version > VERSION:
        raise JournalFormatError(f"{path}: journal version {version} is newer than this gaitmon reads ({VERSION})")


#: The reader's window over the file grows by this much at a time (bytes): memory does not depend
#: on the journal's length.
READ_CHUNK = 1 << 20
#: While looking for the next record after damage, a candidate longer than this (bytes) must also
#: be followed by a sync word or the end of the file before its CRC is computed: a stretch of
#: sync-like bytes then costs a few comparisons per byte, not a CRC of up to MAX_PAYLOAD each.
RESYNC_CHEAP = 1024
_SYNC_BYTES = _RECORD_HEAD.pack(SYNC, 0, 0)[:2]


class _Window:
    """A sliding window over a file: ``buf`` holds the bytes from file offset ``base`` on."""

    def __init__(self, file, base: int, size: int):
        self.file, self.base, self.size = file, base, size
        self.buf = b""

    @classmethod
    def whole(cls, data: bytes) -> _Window:
        """A window that holds a whole file already read (it never reads)."""
        window = cls(None, 0, len(data))
        window.buf = data
        return window

    def have(self, pos: int, n: int) -> bool:
        """Make ``buf`` cover ``[pos, pos + n)`` (``pos >= base``: bytes before ``pos`` may be
        dropped); False when the file ends first."""
        end = self.base + len(self.buf)
        if pos + n <= end:
            return True
        if pos + n > self.size:
            return False
        keep = self.buf[pos - self.base:] if pos < end else b""
        self.file.seek(pos + len(keep))
        self.buf = keep + self.file.read(max(READ_CHUNK, n - len(keep)))
        self.base = pos
        return pos + n <= self.base + len(self.buf)

    def problem_at(self, pos: int, resyncing: bool = False) -> str | None:
        """None when a whole record with a good CRC starts at ``pos``, else what is wrong."""
        if not self.have(pos, _RECORD_HEAD.size):
            return "incomplete record header"
        sync, kind, length = _RECORD_HEAD.unpack_from(self.buf, pos - self.base)
        if sync != SYNC:
            return "no record starts here (bad sync word)"
        if kind not in KIND_NAMES or length > MAX_PAYLOAD:
            return f"bad record header (kind {kind}, length {length})"
        after = pos + RECORD_OVERHEAD + length
        if after > self.size:
            return f"record of {length} bytes runs past the end of the file"
        if resyncing and length > RESYNC_CHEAP and after < self.size and self._peek(after) != _SYNC_BYTES:
            return "not followed by a record"
        self.have(pos, after - pos)
        at = pos - self.base
        stop = at + _RECORD_HEAD.size + length
        if _CRC.unpack_from(self.buf, stop)[0] != zlib.crc32(self.buf[at + _RECORD_HEAD.size:stop],
                                                             zlib.crc32(self.buf[at + 2:at + _RECORD_HEAD.size])):
            return "checksum mismatch (corrupted record)"
        return None

    def _peek(self, pos: int) -> bytes:
        """The two bytes at ``pos``, from the window when it holds them (it is not moved)."""
        at = pos - self.base
        if 0 <= at and at + 2 <= len(self.buf):
            return self.buf[at:at + 2]
        return os.pread(self.file.fileno(), 2, pos)

    def next_record(self, pos: int) -> int:
        """Offset of the next whole, checksummed record at or after ``pos`` (or the end of the file)."""
        while self.have(pos, min(RECORD_OVERHEAD, self.size - pos)) and self.size - pos >= RECORD_OVERHEAD:
            found = self.buf.find(_SYNC_BYTES, pos - self.base)
            if found < 0:  # none in the window: go on from its last byte (it may begin a sync word)
                pos = max(pos, self.base + len(self.buf) - 1)
                if self.size - pos < RECORD_OVERHEAD:
                    break
                self.have(pos, min(READ_CHUNK, self.size - pos))
                continue
            pos = self.base + found
            if self.buf[found + 2] in KIND_NAMES and self.problem_at(pos, resyncing=True) is None:
                return pos
            pos += 1
        return self.size


def iter_records(path: Path, scan: JournalScan | None = None) -> Iterator[Record]:
    """Every intact record of a journal, in file order; damage is skipped and noted in ``scan``.

    The file is read through a window of about :data:`READ_CHUNK` bytes, so memory does not grow
    with the journal. A record whose CRC checks out but whose content is impossible (a time that is
    not a finite number, unreadable JSON) counts as damage like a corrupted one.

    Raises
    ------
    OSError
        The file cannot be read.
    JournalFormatError
        The file is not a gaitmon journal.
    """
    path = Path(path)
    scan = scan if scan is not None else JournalScan(path)
    with open(path, "rb") as file:
        scan.size = size = os.fstat(file.fileno()).st_size
        read_header(file.read(HEADER_SIZE), path)
        window = _Window(file, HEADER_SIZE, size)
        pos = HEADER_SIZE
        while pos < size:
            problem = window.problem_at(pos)
            if problem is None:
                at = pos - window.base
                _, kind, length = _RECORD_HEAD.unpack_from(window.buf, at)
                stop = at + _RECORD_HEAD.size + length
                record = _parse(kind, window.buf[at + _RECORD_HEAD.size:stop], pos)
                if record is None:
                    problem = f"unreadable {KIND_NAMES[kind]} record content"
            if problem is not None:
                resume = window.next_record(pos + 1)
                scan.damage.append(Damage(pos, resume - pos, problem))
                pos = resume
                continue
            pos += RECORD_OVERHEAD + length
            scan.records += 1
            if record.kind == CLOSE:
                scan.closed = True
            if record.t == record.t and not record.t <= scan.last_t:  # NaN: no time yet / no time here
                scan.last_t = record.t
            yield record


def _parse(kind: int, payload: bytes, offset: int) -> Record | None:
    """The record in ``payload``, or None when its content cannot be (a time that is not finite included)."""
    try:
        if kind == DATA:
            channel, t = _DATA_HEAD.unpack_from(payload)
            return Record(kind, t, offset, channel=channel, payload=payload[_DATA_HEAD.size:]) if math.isfinite(t) else None
        if kind == CHANNEL:
            content = json.loads(payload[1:])
            return Record(kind, float("nan"), offset, channel=payload[0], content=content) \
                if isinstance(content, dict) else None
        (t,) = _T.unpack_from(payload)
        content = json.loads(payload[_T.size:])
        return Record(kind, t, offset, content=content) if isinstance(content, dict) and math.isfinite(t) else None
    except (struct.error, IndexError, ValueError, RecursionError):
        return None


# --------------------------------------------------------------------------------------------------
# Reading at once, into arrays (replay and re-analysis)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataRun:
    """The DATA records of one channel that lie between two other records, in file order.

    ``rows`` index the :class:`JournalFrames`; the notifications of the run are one stream's, so a
    decoder can take them at once (:func:`gaitmon.sensors.decoder.decode_batch`).
    """

    frames: JournalFrames
    channel: int
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def t(self) -> np.ndarray:
        """Receive times, s on the session clock, (n,) float64."""
        return self.frames.t[self.rows]

    @property
    def offsets(self) -> np.ndarray:
        """File offsets of the records, (n,) int64."""
        return self.frames.offset[self.rows]

    @property
    def payloads(self) -> list[bytes]:
        """The notifications as received."""
        return self.frames.payloads(self.rows)


@dataclass(frozen=True)
class JournalFrames:
    """Every intact record of a journal, framed into arrays (one row per record, in file order).

    Attributes
    ----------
    buffer : bytes
        The whole file; ``buffer[start[i]:start[i] + length[i]]`` is row ``i``'s notification (DATA)
        or JSON text (the other kinds).
    kind, channel : ndarray (R,) uint8, int16
        Record kind; channel of DATA and CHANNEL records, -1 for the others.
    t : ndarray (R,) float64
        Session-clock time, s (NaN for CHANNEL records, which have none).
    offset, start, length : ndarray (R,) int64
        File offset of the record; where its notification (or JSON) starts in ``buffer``, and its bytes.
    others : dict
        Row → :class:`Record` for every record that is not DATA (parsed as :func:`iter_records` does).
    """

    path: Path
    buffer: bytes
    kind: np.ndarray
    channel: np.ndarray
    t: np.ndarray
    offset: np.ndarray
    start: np.ndarray
    length: np.ndarray
    others: dict

    def __len__(self) -> int:
        return len(self.kind)

    def payload(self, row: int) -> bytes:
        start = int(self.start[row])
        return self.buffer[start:start + int(self.length[row])]

    def payloads(self, rows) -> list[bytes]:
        buffer = self.buffer
        return [buffer[a:a + n] for a, n in zip(self.start[rows].tolist(), self.length[rows].tolist())]

    def record(self, row: int) -> Record:
        """Row ``row`` as the :class:`Record` :func:`iter_records` yields."""
        if self.kind[row] != DATA:
            return self.others[row]
        return Record(DATA, float(self.t[row]), int(self.offset[row]), channel=int(self.channel[row]),
                      payload=self.payload(row))

    def records(self) -> Iterator[Record]:
        """Every record, as :func:`iter_records` yields them."""
        return (self.record(row) for row in range(len(self)))

    def runs(self) -> Iterator[Record | DataRun]:
        """The records in file order with DATA grouped: between two other records (which are yielded
        as :class:`Record`), one :class:`DataRun` per channel, channels in the order they first appear."""
        bounds = np.concatenate([[-1], np.flatnonzero(self.kind != DATA), [len(self)]])
        for before, after in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            if after - before > 1:
                channels = self.channel[before + 1:after]
                found, first = np.unique(channels, return_index=True)
                for channel in found[np.argsort(first)].tolist():
                    yield DataRun(self, channel, before + 1 + np.flatnonzero(channels == channel))
            if after < len(self):
                yield self.others[after]


#: Record kinds as a 256-entry table, for the framing walk.
_KNOWN_KIND = [kind in KIND_NAMES for kind in range(256)]


def read_frames(path: Path, scan: JournalScan | None = None) -> JournalFrames:
    """The whole journal at once, framed into arrays: the records and the ``scan`` of
    :func:`iter_records`, damage handled the same way (the same records, the same :class:`Damage`).

    The file is read in one piece (a 1 h two-sensor 1 kHz journal is about 100 MB). A walk over the
    record headers (compiled: ``ext/framing.pyx``) finds the records and checks their checksums; the
    DATA headers and times of the stretch it walked are then checked at once. At a record that fails,
    the damage is measured and the reader resynchronised by the same code as :func:`iter_records`.
    :meth:`JournalFrames.runs` then hands each channel's notifications to the decoders in runs.

    Raises
    ------
    OSError
        The file cannot be read.
    JournalFormatError
        The file is not a gaitmon journal.
    """
    path = Path(path)
    scan = scan if scan is not None else JournalScan(path)
    data = path.read_bytes()
    scan.size = size = len(data)
    read_header(data, path)
    window = _Window.whole(data)
    whole = np.frombuffer(data, dtype=np.uint8)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (offsets, lengths, DATA times) of each stretch
    parsed: dict[int, Record] = {}  # file offset → the non-DATA record there
    pos = HEADER_SIZE
    while pos < size:
        offsets, end = _walk(data, pos, size)
        good, length, t = _readable(data, whole, offsets, parsed)
        i = 0
        for k in np.flatnonzero(~good).tolist():  # each failing record: keep the ones before, resynchronise
            if k < i:
                continue
            kept.append((offsets[i:k], length[i:k], t[i:k]))
            pos = _damage(window, data, int(offsets[k]), scan)
            i = int(np.searchsorted(offsets, pos))
            if i == len(offsets) or offsets[i] != pos:  # resumed off the walked chain: walk again
                break
        else:
            kept.append((offsets[i:], length[i:], t[i:]))
            pos = end if end == size else _damage(window, data, end, scan)
    offset, length, t = (np.concatenate(parts) for parts in zip(*kept)) if kept else \
        (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    rows = np.searchsorted(offset, list(parsed))
    others = {row: record for row, (at, record) in zip(rows.tolist(), parsed.items())
              if row < len(offset) and offset[row] == at}
    return _frames(path, data, whole, offset, length, t, others, scan)


def _walk_python(data: bytes, pos: int, size: int) -> tuple[np.ndarray, int]:
    """Offsets of the whole, checksummed records that follow one another from ``pos`` (their content
    not checked yet), and the offset where that chain stops: the end of the file or a failing record.
    (The specification of the compiled walk, ``ext/framing.pyx``.)"""
    offsets = []
    append = offsets.append
    unpack, unpack_crc, crc32 = _RECORD_HEAD.unpack_from, _CRC.unpack_from, zlib.crc32
    known = _KNOWN_KIND
    view = memoryview(data)
    while size - pos >= _RECORD_HEAD.size:
        sync, kind, length = unpack(data, pos)
        after = pos + RECORD_OVERHEAD + length
        if (sync != SYNC or not known[kind] or length > MAX_PAYLOAD or after > size
                or crc32(view[pos + 2:after - _CRC.size]) != unpack_crc(data, after - _CRC.size)[0]):
            break
        append(pos)
        pos = after
    return np.array(offsets, dtype=np.int64), pos


#: Offsets the compiled walk writes per call.
_WALK_CHUNK = 1 << 16


def _walk_compiled(data: bytes, pos: int, size: int, chunk: int = _WALK_CHUNK) -> tuple[np.ndarray, int]:
    """:func:`_walk_python` by the compiled kernel (``chunk`` offsets at a time)."""
    parts = []
    while True:
        out = np.empty(chunk, dtype=np.int64)
        count, pos = _framing.walk(data, pos, out)
        parts.append(out[:count])
        if count < chunk:
            return np.concatenate(parts), pos


if os.environ.get("GAITMON_PURE_PYTHON"):
    _walk = _walk_python
else:
    try:
        from gaitmon.session import _framing
    except ImportError:  # a source checkout that was never built
        _walk = _walk_python
    else:
        _walk = _walk_compiled


def _gather(whole: np.ndarray, at: np.ndarray, dtype: str) -> np.ndarray:
    """The ``dtype`` values (little-endian) at byte offsets ``at``."""
    return sliding_window_view(whole, np.dtype(dtype).itemsize)[at].view(dtype).reshape(-1)


def _readable(data: bytes, whole: np.ndarray, offsets: np.ndarray,
              others: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which checksummed records have a content :func:`iter_records` accepts (a DATA header and a finite
    time; JSON as :func:`_parse` reads it), their lengths, and the times of the DATA ones (NaN for the
    others). The non-DATA records are parsed into ``others`` (file offset → :class:`Record`)."""
    kind = whole[offsets + 2]
    length = _gather(whole, offsets + 3, "<u4").astype(np.int64)
    good = np.ones(len(offsets), dtype=bool)
    t = np.full(len(offsets), np.nan)
    is_data = kind == DATA
    long_enough = length >= _DATA_HEAD.size
    good[is_data & ~long_enough] = False
    rows = np.flatnonzero(is_data & long_enough)
    t[rows] = _gather(whole, offsets[rows] + _RECORD_HEAD.size + 1, "<f8")
    good[rows] = np.isfinite(t[rows])
    for row in np.flatnonzero(~is_data).tolist():
        at = int(offsets[row])
        record = _parse(int(kind[row]), data[at + _RECORD_HEAD.size:at + _RECORD_HEAD.size + int(length[row])], at)
        if record is None:
            good[row] = False
        else:
            others[at] = record
    return good, length, t


def _damage(window: _Window, data: bytes, pos: int, scan: JournalScan) -> int:
    """Note the damage at ``pos`` as :func:`iter_records` does; returns where reading resumes."""
    problem = window.problem_at(pos)
    if problem is None:  # sound and checksummed, but its content is impossible
        problem = f"unreadable {KIND_NAMES[data[pos + 2]]} record content"
    resume = window.next_record(pos + 1)
    scan.damage.append(Damage(pos, resume - pos, problem))
    return resume


def _frames(path: Path, data: bytes, whole: np.ndarray, offset: np.ndarray, length: np.ndarray, t: np.ndarray,
            others: dict, scan: JournalScan) -> JournalFrames:
    """The arrays of the kept records (their offsets, lengths and DATA times), and the scan's counts."""
    kind = whole[offset + 2]
    rows = np.flatnonzero(kind == DATA)
    channel = np.full(len(offset), -1, dtype=np.int16)
    start = offset + _RECORD_HEAD.size
    channel[rows] = whole[start[rows]]
    start[rows] += _DATA_HEAD.size
    length = length.copy()
    length[rows] -= _DATA_HEAD.size
    for row, record in others.items():
        t[row] = record.t
        if record.kind == CHANNEL:
            channel[row] = record.channel
            start[row] += 1
            length[row] -= 1
        else:
            start[row] += _T.size
            length[row] -= _T.size
    scan.records += len(offset)
    scan.closed = scan.closed or bool((kind == CLOSE).any())
    timed = t[~np.isnan(t)]
    if timed.size and not timed.max() <= scan.last_t:
        scan.last_t = float(timed.max())
    return JournalFrames(path, data, kind, channel, t, offset, start, length, others)
