"""Read and write the two-shank IMU sample file (CSV).

File layout
-----------
One header line, then one sample per line, both shanks interleaved::

    t_s,side,ax,ay,az,gx,gy,gz
    0.000000,left,5.42242,2.26349,8.54241,-0.008992,0.014272,-0.012537
    0.000000,right,5.78603,-0.92733,7.97706,-0.004936,0.005628,-0.007059

- ``t_s``: time, s, one clock for both sides; ``side``: ``left`` or ``right``;
  ``ax, ay, az``: specific force, m/s²; ``gx, gy, gz``: angular velocity, rad/s (sensor frame, see
  :mod:`gaitmon.consts`).
- Columns may come in any order; header names are matched case-insensitively after stripping
  white space; other columns are ignored (they must still be present on every line).
- Rows are sorted by time: non-decreasing over the file and strictly increasing within a side.
- UTF-8 (a byte-order mark is allowed), ``\\n`` or ``\\r\\n`` line ends. Blank lines are allowed at
  the end of the file only. Fields may be quoted, but must not contain line breaks.

Errors
------
Every problem with the input is raised as :class:`gaitmon.errors.InputError` with
``where="line N"``, where ``N`` counts the lines of the file with the header as line 1, e.g.
``walk.csv: line 17: column 'gx': 'abc' is not a number``. When a file has several problems the
first one in file order is reported.

Speed
-----
The file is streamed in blocks of about 4 MiB. Each block is parsed by :func:`numpy.loadtxt` (C
tokenizer, structured dtype) and then checked with vectorised code. If that fast path rejects a
block for any reason, the block is parsed again line by line with the :mod:`csv` module; that slow
path is the reference: it accepts exactly the same files (plus quoted fields), produces identical
values, and finds the offending line and the words for the error message.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.consts import SAMPLE_COLUMNS, SIDES
from gaitmon.errors import InputError
from gaitmon.io import _format
from gaitmon.io._common import (
    field_count_problem,
    number_problem,
    open_binary,
    open_binary_for_writing,
    parse_header,
    quote,
    split_csv_line,
    where,
)

__all__ = ["IMU_COLUMNS", "read_imu_csv", "write_imu_csv"]

TIME_COLUMN = "t_s"
SIDE_COLUMN = "side"
#: Header written by :func:`write_imu_csv` (and the columns :func:`read_imu_csv` requires).
IMU_COLUMNS: tuple[str, ...] = (TIME_COLUMN, SIDE_COLUMN, *SAMPLE_COLUMNS)

_CHUNK_BYTES = 4 << 20
_WRITE_ROWS = 32768
# Smallest magnitude that rounds to infinity in float32 (2**128 * (1 - 2**-25)).
_F32_OVERFLOW = 3.4028235677973366e38
_ALLOWED_SIDES = "allowed: 'left', 'right'"


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Where the needed columns sit in a file, and the dtype numpy.loadtxt parses a line into."""

    n_fields: int
    names: tuple[str, ...]  # header fields as written, for messages
    time_index: int
    side_index: int
    value_index: tuple[int, ...]  # positions of ax, ay, az, gx, gy, gz
    dtype: np.dtype
    values_offset: int | None  # byte offset of ax in a parsed record when ax..gz are adjacent

    @classmethod
    def from_header(cls, path: str | Path, fields: list[str]) -> _Layout:
        index = parse_header(path, fields, IMU_COLUMNS)
        kinds = ["S1"] * len(fields)  # ignored columns: parsed as (truncated) text, then dropped
        kinds[index[TIME_COLUMN]] = "f8"
        kinds[index[SIDE_COLUMN]] = "S6"  # 6 > len("right"): longer junk cannot pass as a side
        for name in SAMPLE_COLUMNS:
            kinds[index[name]] = "f8"  # parsing to f8 then casting is faster than to f4
        dtype = np.dtype([(f"f{i}", k) for i, k in enumerate(kinds)])
        value_index = tuple(index[name] for name in SAMPLE_COLUMNS)
        adjacent = value_index == tuple(range(value_index[0], value_index[0] + len(value_index)))
        return cls(
            n_fields=len(fields),
            names=tuple(f.strip() for f in fields),
            time_index=index[TIME_COLUMN],
            side_index=index[SIDE_COLUMN],
            value_index=value_index,
            dtype=dtype,
            values_offset=dtype.fields[f"f{value_index[0]}"][1] if adjacent else None,
        )


@dataclass
class _Block:
    """Parsed rows of one block: times, side (True = right), samples, and their file lines."""

    t: np.ndarray
    right: np.ndarray
    x: np.ndarray
    first_line: int
    lines: np.ndarray | None = None  # None: row i is on line first_line + i

    def line(self, i: int) -> int:
        return self.first_line + i if self.lines is None else int(self.lines[i])


@dataclass
class _State:
    """What the checks of the next block need to know about the rows before it."""

    last_t: float | None = None
    last_line: int = 0
    side_last: dict[bool, tuple[float, int]] = field(default_factory=dict)
    blank_line: int | None = None  # first of a run of blank lines not yet followed by data


class _Reader:
    def __init__(self, path: str | Path):
        self.path = path
        self.state = _State()
        self.blocks: list[_Block] = []

    # -- top level ---------------------------------------------------------------------------------

    def read(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        with open_binary(self.path) as f:
            try:
                self._read_stream(f)
            except OSError as exc:
                raise InputError(self.path, None, f"cannot read file: {exc.strerror or exc}") from None
        if not self.blocks:
            raise InputError(self.path, None, "no data rows after the header line")
        # Copy each block's rows straight into the per-side arrays, freeing blocks as we go.
        n_right = sum(int(b.right.sum()) for b in self.blocks)
        n_left = sum(b.t.size for b in self.blocks) - n_right
        arrays = {
            is_right: (np.empty(n, dtype=np.float64), np.empty((n, len(SAMPLE_COLUMNS)), dtype=np.float32))
            for is_right, n in ((False, n_left), (True, n_right))
        }
        pos = {False: 0, True: 0}
        self.blocks.reverse()
        while self.blocks:
            b = self.blocks.pop()
            for is_right, (t, x) in arrays.items():
                sel = b.right if is_right else ~b.right
                k = int(sel.sum())
                np.compress(sel, b.t, out=t[pos[is_right] : pos[is_right] + k])
                np.compress(sel, b.x, axis=0, out=x[pos[is_right] : pos[is_right] + k])
                pos[is_right] += k
        return {
            name: arrays[is_right]
            for name, is_right in zip(SIDES, (False, True))
            if arrays[is_right][0].size
        }

    def _read_stream(self, f) -> None:
        header = f.readline()
        if not header:
            raise InputError(
                self.path, None, f"file is empty (expected a header line: {','.join(IMU_COLUMNS)})"
            )
        self.layout = self._parse_header(header)
        first_line = 2
        pending = b""
        block = f.read(_CHUNK_BYTES)
        while block:
            nxt = f.read(_CHUNK_BYTES)
            data = pending + block if pending else block
            if nxt:
                cut = data.rfind(b"\n")
                if cut < 0:  # a single very long line: keep reading
                    pending, block = data, nxt
                    continue
                piece, pending = data[: cut + 1], data[cut + 1 :]
            else:
                piece, pending = data, b""
            last = not nxt
            if last:
                # Blank lines at the very end are allowed: drop them (and trailing blanks).
                piece = piece.rstrip(b" \t\r\n")
            if piece:
                first_line += self._process(piece, first_line, last)
            block = nxt

    def _parse_header(self, raw: bytes) -> _Layout:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(self.path, where(1), "header line is not valid UTF-8 text") from None
        text = text.rstrip("\r\n")
        if not text.strip():
            raise InputError(
                self.path, where(1), f"header line is empty (expected {','.join(IMU_COLUMNS)})"
            )
        fields = split_csv_line(self.path, text, 1)
        return _Layout.from_header(self.path, fields)

    # -- one block ---------------------------------------------------------------------------------

    def _process(self, piece: bytes, first_line: int, last: bool) -> int:
        """Parse and check one block of whole lines; returns its number of lines."""
        n_lines = piece.count(b"\n") + (0 if piece.endswith(b"\n") else 1)
        block = self._parse_fast(piece, first_line, n_lines)
        parse_error = None
        if block is None:
            block, parse_error = self._parse_slow(piece, first_line, last)
        elif self.state.blank_line is not None:
            self._raise(self.state.blank_line, _blank_problem())
        if block.t.size:
            self._check_order(block)
            block.lines = None  # line numbers are only needed by the checks
            self.blocks.append(block)
        if parse_error is not None:
            self._raise(*parse_error)
        return n_lines

    def _parse_fast(self, piece: bytes, first_line: int, n_lines: int) -> _Block | None:
        """numpy.loadtxt on the whole block; None when anything at all is unusual."""
        lay = self.layout
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                a = np.loadtxt(
                    io.BytesIO(piece),
                    delimiter=",",
                    dtype=lay.dtype,
                    comments=None,
                    quotechar=None,
                    ndmin=1,
                )
        except Exception:  # any parse problem: the slow path finds and words it
            return None
        if a.shape[0] != n_lines:  # loadtxt skips blank lines
            return None
        side = a[f"f{lay.side_index}"]
        right = side == b"right"
        if not (right | (side == b"left")).all():
            return None
        t = np.ascontiguousarray(a[f"f{lay.time_index}"])
        x = np.empty((a.shape[0], len(SAMPLE_COLUMNS)), dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):  # float32 overflow: caught below
            if lay.values_offset is not None:  # ax..gz side by side: one strided float64 view
                x[...] = np.ndarray(
                    x.shape, dtype=np.float64, buffer=a, offset=lay.values_offset,
                    strides=(a.dtype.itemsize, 8),
                )
            else:
                for k, i in enumerate(lay.value_index):
                    x[:, k] = a[f"f{i}"]
        # NaN, infinity and values beyond the float32 range all end up non-finite here.
        if not (np.isfinite(t).all() and np.isfinite(x).all()):
            return None
        return _Block(t=t, right=right, x=x, first_line=first_line)

    def _parse_slow(
        self, piece: bytes, first_line: int, last: bool
    ) -> tuple[_Block, tuple[int, str] | None]:
        """Line-by-line parse; returns the rows before the first problem, and that problem."""
        lay = self.layout
        text = piece.decode("utf-8", errors="replace")
        raw_lines = text.split("\n")
        if text.endswith("\n"):
            raw_lines.pop()
        n_raw = len(raw_lines)
        ts: list[float] = []
        rights: list[bool] = []
        xs: list[tuple[float, ...]] = []
        lines: list[int] = []
        error: tuple[int, str] | None = None
        reader = csv.reader((ln[:-1] if ln.endswith("\r") else ln for ln in raw_lines), strict=True)
        line_no = first_line
        needed = sorted([lay.time_index, lay.side_index, *lay.value_index])
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                error = (first_line + reader.line_num - 1, f"cannot parse CSV: {exc}")
                break
            line_no = first_line + reader.line_num - 1
            if not fields or all(not f.strip() for f in fields):
                if self.state.blank_line is None:
                    self.state.blank_line = line_no
                continue
            if self.state.blank_line is not None:
                error = (self.state.blank_line, _blank_problem())
                break
            if len(fields) != lay.n_fields:
                is_last_line = last and reader.line_num == n_raw
                error = (line_no, field_count_problem(lay.n_fields, len(fields), is_last_line))
                break
            values: dict[int, float] = {}
            is_right = False
            problem = None
            for i in needed:
                if i == lay.side_index:
                    side = fields[i].strip()
                    if side not in SIDES:
                        problem = (
                            f"column {lay.names[i]!r}: {quote(fields[i])} is not a side ({_ALLOWED_SIDES})"
                        )
                        break
                    is_right = side == "right"
                    continue
                value, problem = number_problem(lay.names[i], fields[i])
                if problem is not None:
                    break
                if i != lay.time_index and abs(value) >= _F32_OVERFLOW:
                    problem = (
                        f"column {lay.names[i]!r}: {quote(fields[i].strip())} is too large "
                        "(beyond the float32 range)"
                    )
                    break
                values[i] = value
            if problem is not None:
                error = (line_no, problem)
                break
            ts.append(values[lay.time_index])
            rights.append(is_right)
            xs.append(tuple(values[i] for i in lay.value_index))
            lines.append(line_no)
        block = _Block(
            t=np.array(ts, dtype=np.float64),
            right=np.array(rights, dtype=bool),
            x=np.array(xs, dtype=np.float64).reshape(-1, len(SAMPLE_COLUMNS)).astype(np.float32),
            first_line=first_line,
            lines=np.array(lines, dtype=np.int64),
        )
        return block, error

    # -- ordering ----------------------------------------------------------------------------------

    def _check_order(self, b: _Block) -> None:
        """Time non-decreasing over the file and strictly increasing per side (vectorised)."""
        st = self.state
        t, n = b.t, b.t.size
        problems: list[tuple[int, int, str]] = []  # (row, priority, message)
        prev = np.empty(n)
        prev[0] = -math.inf if st.last_t is None else st.last_t
        prev[1:] = t[:-1]
        back = np.flatnonzero(t < prev)
        if back.size:
            i = int(back[0])
            prev_line = st.last_line if i == 0 else b.line(i - 1)
            problems.append(
                (
                    i,
                    0,
                    f"time goes backwards: t_s {float(t[i])!r} comes after t_s {float(prev[i])!r} "
                    f"on line {prev_line} (rows must be sorted by time)",
                )
            )
        for is_right in (False, True):
            idx = np.flatnonzero(b.right == is_right)
            if not idx.size:
                continue
            ts = t[idx]
            last = st.side_last.get(is_right)
            prev_s = np.empty(idx.size)
            prev_s[0] = -math.inf if last is None else last[0]
            prev_s[1:] = ts[:-1]
            dup = np.flatnonzero(ts <= prev_s)
            if dup.size:
                k = int(dup[0])
                i = int(idx[k])
                prev_line = last[1] if k == 0 else b.line(int(idx[k - 1]))
                name = SIDES[int(is_right)]
                problems.append(
                    (
                        i,
                        1,
                        f"duplicate time: side {name!r} already has a sample at t_s {float(t[i])!r} "
                        f"(line {prev_line}); times must increase strictly within a side",
                    )
                )
            st.side_last[is_right] = (float(ts[-1]), b.line(int(idx[-1])))
        if problems:
            i, _, message = min(problems)
            self._raise(b.line(i), message)
        st.last_t = float(t[-1])
        st.last_line = b.line(n - 1)

    def _raise(self, line: int, problem: str) -> None:
        raise InputError(self.path, where(line), problem)


def _blank_problem() -> str:
    return "empty line (blank lines are only allowed at the end of the file)"


def read_imu_csv(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read an IMU sample file (both shanks interleaved) into per-side arrays.

    Parameters
    ----------
    path : str or Path
        CSV file with the header ``t_s,side,ax,ay,az,gx,gy,gz`` (any column order, extra columns
        ignored); see the module docstring for the full layout.

    Returns
    -------
    dict
        ``side -> (t, x)`` for each side present in the file (``"left"`` before ``"right"``; a file
        may hold one side only): ``t`` is float64 ``(n,)`` in s, strictly increasing; ``x`` is
        float32 ``(n, 6)`` with the columns ``ax, ay, az`` (m/s²), ``gx, gy, gz`` (rad/s).

    Raises
    ------
    gaitmon.errors.InputError
        For any bad input, with ``where="line N"`` counting file lines (header = line 1): missing
        or empty file, missing header or columns, no data rows, wrong number of fields (including
        a truncated last line), empty, non-numeric, NaN/infinite or float32-overflowing values,
        side other than ``left``/``right``, time going backwards, repeated time within a side,
        blank line followed by data, text that is not UTF-8 in a needed column.
    """
    return _Reader(path).read()


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def write_imu_csv(path: str | Path, samples: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write per-side samples as one IMU CSV file, the inverse of :func:`read_imu_csv`.

    Rows of both sides are merged in time order (``left`` first on equal times). Times are written
    with 6 decimals (``"%.6f"``, s), sample values with 6 significant digits (``"%.6g"`` of the
    float32 value). Reading the file back gives the times to within 0.5 µs and the values to
    within 6e-6 relative (6 significant digits, then float32).

    Parameters
    ----------
    path : str or Path
        Output file (overwritten).
    samples : mapping
        ``side -> (t, x)``: ``side`` in ``"left"``, ``"right"``; ``t`` ``(n,)`` times, s, finite
        and strictly increasing also after rounding to 1 µs; ``x`` ``(n, 6)`` finite values,
        columns ``ax, ay, az`` (m/s²), ``gx, gy, gz`` (rad/s).

    Raises
    ------
    ValueError
        Malformed ``samples`` (unknown side, wrong shapes, non-finite values, times not strictly
        increasing at 1 µs resolution): a programming error, not bad user input.
    gaitmon.errors.InputError
        The file cannot be written (its message names the path).
    """
    per_side: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for side, pair in samples.items():
        if side not in SIDES:
            raise ValueError(f"unknown side {side!r} (allowed: 'left', 'right')")
        t = np.asarray(pair[0], dtype=np.float64)
        x = np.asarray(pair[1])
        if t.ndim != 1 or x.shape != (t.size, len(SAMPLE_COLUMNS)):
            raise ValueError(
                f"side {side!r}: expected t of shape (n,) and x of shape (n, 6), got {t.shape} and {x.shape}"
            )
        if not np.isfinite(t).all():
            raise ValueError(f"side {side!r}: times must be finite")
        with np.errstate(over="ignore", invalid="ignore"):
            x32 = x.astype(np.float32, copy=False)
        if not np.isfinite(x32).all():
            raise ValueError(f"side {side!r}: sample values must be finite (and within float32 range)")
        written = _written_times(t)
        if written.size > 1 and not (np.diff(written) > 0).all():
            raise ValueError(f"side {side!r}: times must increase strictly (at 1 µs resolution)")
        per_side[side] = (t, x32, written)

    t_all, x_all, c_all = _merge_sides(per_side)
    f = open_binary_for_writing(path)
    try:
        with f:
            f.write((",".join(IMU_COLUMNS) + "\n").encode())
            for start in range(0, t_all.size, _WRITE_ROWS):
                sl = slice(start, start + _WRITE_ROWS)
                f.write(_format_rows(t_all[sl], c_all[sl], x_all[sl]))
    except OSError as exc:
        raise InputError(path, None, f"cannot write file: {exc.strerror or exc}") from None


def _merge_sides(
    per_side: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interleave the sides in order of written time, ``left`` first on ties (a linear merge)."""
    present = [s for s in SIDES if s in per_side]
    if not present:
        return np.empty(0), np.empty((0, len(SAMPLE_COLUMNS)), dtype=np.float32), np.empty(0, dtype=np.int64)
    if len(present) == 1:
        t, x, _ = per_side[present[0]]
        return t, x, np.full(t.size, SIDES.index(present[0]), dtype=np.int64)
    (tl, xl, wl), (tr, xr, wr) = per_side["left"], per_side["right"]
    pos_l = np.arange(tl.size) + np.searchsorted(wr, wl, side="left")  # rights strictly before
    pos_r = np.arange(tr.size) + np.searchsorted(wl, wr, side="right")  # lefts at or before
    n = tl.size + tr.size
    t_all = np.empty(n)
    x_all = np.empty((n, len(SAMPLE_COLUMNS)), dtype=np.float32)
    c_all = np.empty(n, dtype=np.int64)
    t_all[pos_l], t_all[pos_r] = tl, tr
    x_all[pos_l], x_all[pos_r] = xl, xr
    c_all[pos_l], c_all[pos_r] = 0, 1
    return t_all, x_all, c_all


def _written_times(t: np.ndarray) -> np.ndarray:
    """Times as written, in µs (rounded exactly like ``"%.6f"``), for ordering and duplicates."""
    if np.abs(t).max(initial=0.0) < _format.F6_LIMIT:
        return np.copysign(_format.round_micro(np.abs(t)), t)
    return np.round(t, 6) * 1e6


def _format_rows(t: np.ndarray, codes: np.ndarray, x: np.ndarray) -> bytes:
    if np.abs(t).max(initial=0.0) < _format.F6_LIMIT:
        blocks = [_format.f6_block(t), _format.text_block(list(SIDES), codes)]
        blocks += [_format.g6_block(x[:, k]) for k in range(x.shape[1])]
        return _format.join_rows(blocks)
    # Absurdly large times: plain Python formatting.
    return "".join(
        "%.6f,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n" % (ti, SIDES[ci], *xi)
        for ti, ci, xi in zip(t.tolist(), codes.tolist(), x.astype(np.float64).tolist())
    ).encode("ascii")
