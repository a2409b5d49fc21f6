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
- A file whose header separates the columns with ``;`` is read as a spreadsheet's export where the
  decimal mark is a comma (``0,001;left;9,81;…``): every ``,`` is read as a decimal point and every
  ``;`` as the separator (values with decimal points read as well). Messages then quote the values
  with points.
- UTF-8 (a byte-order mark is allowed), ``\\n`` or ``\\r\\n`` line ends. Blank lines are allowed at
  the end of the file only. Fields may be quoted, but must not contain line breaks.

Errors
------
Every problem with the input is raised as :class:`gaitmon.errors.InputError` with
``where="line N"``, where ``N`` counts the lines of the file with the header as line 1, e.g.
``walk.csv: line 17: column 'gx': 'abc' is not a number``. When a file has several problems the
first one in file order is reported.

Recovery
--------
:func:`read_imu_csv_recovering` reads whatever is intact instead: every data line that the strict
reader would reject on its own account (see :func:`read_imu_csv`) is skipped and recorded in a
:class:`Recovery`, and the rows returned are exactly those the strict reader returns for the file
with the skipped lines deleted. Rows out of time order are judged against the rows kept before
them, so a line whose time goes backwards is dropped and the earlier rows are kept. In this mode
every line is split on its own (a quoted field cannot run on into the next line).

Speed
-----
The file is streamed in blocks of about 4 MiB, each parsed by the first of three paths that takes
it whole and then checked with vectorised code:

1. the compiled parser (``ext/csvblock.pyx``): the strict usual syntax (no quotes, no white space
   around numbers, at most 19 significant digits and decimal exponents within ±22, which it
   converts exactly, as a correctly rounded ``strtod``); it releases the interpreter lock, so the
   next blocks are parsed ahead in worker threads while this thread checks the block before;
2. :func:`numpy.loadtxt` (C tokenizer, structured dtype), for what the first calls unusual;
3. line by line with the :mod:`csv` module: the reference. It accepts exactly the same files as the
   fast paths (plus quoted fields), produces identical values, and finds the offending line and the
   words for the error message. When recovering, a rejected block is first halved, again and
   again, so that only small pieces around the bad lines take this path.

``tests/unit/test_io.py`` runs every reader test on each path; ``tests/unit/test_csvblock.py`` holds
the compiled parser to the other two. For an hour of two legs at 1 kHz (500 MB) the reader takes
about 0.4 × the CPU of ``numpy.loadtxt`` of the whole file, and less wall time on two cores
(``benchmarks/bench_analyze.py``). pyarrow's CSV reader was measured as a fast path instead (issue
#17): 1.2–2 × less CPU than ``loadtxt``, varying from run to run on the shared machine; not enough
to earn a 40 MB binary dependency and a second parser whose accepted inputs would have to match the
reference's (``bench_analyze.py --parsers`` measures it again when pyarrow is installed).
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.consts import SAMPLE_COLUMNS, SIDES
from gaitmon.errors import InputError
from gaitmon.io import _format
from gaitmon.io._common import (
    choice_problem,
    field_count_problem,
    number_problem,
    open_binary,
    open_binary_for_writing,
    parse_header,
    quote,
    split_csv_line,
    where,
)

__all__ = ["IMU_COLUMNS", "Recovery", "read_imu_csv", "read_imu_csv_recovering", "write_imu_csv"]

TIME_COLUMN = "t_s"
SIDE_COLUMN = "side"
#: Header written by :func:`write_imu_csv` (and the columns :func:`read_imu_csv` requires).
IMU_COLUMNS: tuple[str, ...] = (TIME_COLUMN, SIDE_COLUMN, *SAMPLE_COLUMNS)

_CHUNK_BYTES = 4 << 20
# Threads of the compiled parser (blocks parsed ahead of the checks); more gain nothing on 2 cores
# while the file's content hash is computed beside the reader.
_PARSE_THREADS = 2
# Recovery mode halves a block that fails the fast path until it has at most this many lines.
_SLOW_LINES = 16
_WRITE_ROWS = 32768
# Smallest magnitude that rounds to infinity in float32 (2**128 * (1 - 2**-25)).
_F32_OVERFLOW = 3.4028235677973366e38
#: Most problems a :class:`Recovery` keeps (all are counted).
MAX_PROBLEMS = 1000


# --------------------------------------------------------------------------------------------------
# Recovery report
# --------------------------------------------------------------------------------------------------


@dataclass
class Recovery:
    """What a recovering read of a CSV file kept and skipped.

    Attributes
    ----------
    path : str
        The file read.
    rows_kept : int
        Data lines returned as rows.
    problems : list of InputError
        One per skipped line, in file order (``where="line N"``, header = line 1); only the first
        :data:`MAX_PROBLEMS` are kept.
    n_problems : int
        Number of skipped lines (all of them).
    """

    path: str
    rows_kept: int = 0
    problems: list[InputError] = field(default_factory=list)
    n_problems: int = 0

    @property
    def rows_total(self) -> int:
        """Data lines seen: kept plus skipped (header and trailing blank lines not counted)."""
        return self.rows_kept + self.n_problems

    @property
    def complete(self) -> bool:
        """True when no line was skipped."""
        return self.n_problems == 0

    def message(self) -> str:
        """One line for the user: the first problem and how much was recovered.

        E.g. ``walk.csv: line 17: column 'gx': 'abc' is not a number; 3 bad lines skipped,
        recovered 12 345 of 12 348 rows (99.98 %)``.
        """
        if self.complete:
            return f"{self.path}: all {_count(self.rows_total)} rows read"
        lines = "line" if self.n_problems == 1 else "lines"
        return (
            f"{self.problems[0]}; {_count(self.n_problems)} bad {lines} skipped, recovered "
            f"{_count(self.rows_kept)} of {_count(self.rows_total)} rows "
            f"({_percent(self.rows_kept, self.rows_total)} %)"
        )

    def _record(self, line: int, problem: str) -> None:
        """Count a skipped line (for the readers of :mod:`gaitmon.io`)."""
        self.n_problems += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(InputError(self.path, where(line), problem))


def _count(n: int) -> str:
    """``12 345``: thousands separated by spaces."""
    return f"{n:,}".replace(",", " ")


def _percent(part: int, whole: int) -> str:
    """``part / whole`` in percent with 2 decimals, never shown as 0 or 100 when it is neither."""
    value = 100.0 * part / whole
    if 0 < part < whole:
        value = min(max(value, 0.01), 99.99)
    return f"{value:.2f}"


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
    needed: tuple[int, ...]  # positions of all the columns above, in file order
    dtype: np.dtype
    values_offset: int | None  # byte offset of ax in a parsed record when ax..gz are adjacent
    roles: np.ndarray  # per field, for the compiled parser: -2 time, -3 side, 0…5 column of x, -1 ignored

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
        roles = np.full(len(fields), -1, dtype=np.int8)
        roles[index[TIME_COLUMN]], roles[index[SIDE_COLUMN]] = -2, -3
        roles[list(value_index)] = np.arange(len(value_index))
        return cls(
            n_fields=len(fields),
            names=tuple(f.strip() for f in fields),
            time_index=index[TIME_COLUMN],
            side_index=index[SIDE_COLUMN],
            value_index=value_index,
            needed=tuple(sorted(index.values())),
            dtype=dtype,
            values_offset=dtype.fields[f"f{value_index[0]}"][1] if adjacent else None,
            roles=roles,
        )


_Problem = tuple[int, str]  # (file line, problem)


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
    def __init__(self, path: str | Path, recovery: Recovery | None = None):
        self.path = path
        self.recovery = recovery  # None: strict, raise at the first problem
        self.state = _State()
        self.blocks: list[_Block] = []
        self.european = False  # ";" between fields, "," as the decimal mark (see _semicolon_separated)

    # -- top level ---------------------------------------------------------------------------------

    def read(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        with open_binary(self.path) as f:
            try:
                self._read_stream(f)
            except OSError as exc:
                raise InputError(self.path, None, f"cannot read file: {exc.strerror or exc}") from None
        if not self.blocks:
            self._raise_no_rows()
        # Copy each block's rows straight into the per-side arrays, freeing blocks as we go.
        n_right = sum(int(b.right.sum()) for b in self.blocks)
        n_left = sum(b.t.size for b in self.blocks) - n_right
        if self.recovery is not None:
            self.recovery.rows_kept = n_left + n_right
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

    def _raise_no_rows(self) -> None:
        rec = self.recovery
        if rec is None or rec.complete:
            raise InputError(self.path, None, "no data rows after the header line")
        first = rec.problems[0]
        raise InputError(
            self.path,
            first.where,
            f"{first.problem} (no usable data rows: all {_count(rec.n_problems)} lines are bad)",
        )

    def _read_stream(self, f) -> None:
        header = f.readline()
        if not header:
            raise InputError(
                self.path, None, f"file is empty (expected a header line: {','.join(IMU_COLUMNS)})"
            )
        self.layout = self._parse_header(header)
        first_line = 2
        pieces = self._pieces(f)
        if _csvblock is None:
            for piece, last in pieces:
                first_line += self._process(piece, first_line, last)
            return
        # The compiled parser releases the GIL: blocks are parsed ahead in worker threads while this
        # thread checks the blocks before them in file order.
        ahead: deque = deque()
        with ThreadPoolExecutor(max_workers=_PARSE_THREADS) as pool:
            for piece, last in pieces:
                ahead.append((piece, last, pool.submit(_parse_compiled, piece, self.layout.roles)))
                if len(ahead) > _PARSE_THREADS:
                    piece, last, parsed = ahead.popleft()
                    first_line += self._process(piece, first_line, last, parsed.result())
            while ahead:
                piece, last, parsed = ahead.popleft()
                first_line += self._process(piece, first_line, last, parsed.result())

    def _pieces(self, f) -> Iterator[tuple[bytes, bool]]:
        """The rest of the file in blocks of whole lines: ``(piece, is the last one)``.

        Each block is read into its own buffer behind the previous block's unfinished line, and
        handed out as it is (blocks are parsed ahead in other threads): no block is copied.
        """
        data = _read_block(f, b"")
        while data:
            cut = data.rfind(b"\n")
            nxt = _read_block(f, data[cut + 1:])  # the unfinished line (all of ``data`` without a line end)
            last = len(nxt) == len(data) - cut - 1  # nothing more was read
            if not last:
                if cut < 0:  # a single very long line: keep reading
                    data = nxt
                    continue
                del data[cut + 1:]
            piece = data.rstrip(b" \t\r\n") if last else data  # blank lines at the very end are allowed
            if piece:
                yield (piece.translate(_EUROPEAN) if self.european else piece), last
            if last:
                return
            data = nxt

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
        if _semicolon_separated(text):
            self.european = True
            text = text.translate(_EUROPEAN_TEXT)
        fields = split_csv_line(self.path, text, 1)
        return _Layout.from_header(self.path, fields)

    # -- one block ---------------------------------------------------------------------------------

    def _process(self, piece: bytes, first_line: int, last: bool, parsed: _Parsed | None = None) -> int:
        """Parse and check one block of whole lines; returns its number of lines.

        ``parsed``: the compiled parser's result for ``piece`` when it was run ahead.
        """
        n_lines = _line_count(piece) if parsed is None else parsed[0]
        block = self._parse_fast(piece, first_line, n_lines, parsed)
        if block is None and self.recovery is not None and n_lines > _SLOW_LINES:
            return self._process_halves(piece, n_lines, first_line, last)
        if block is None:
            block, problems = self._parse_slow(piece, first_line, last)
        else:
            problems = self._end_blank_run(first_line)
        problems += self._check_order(block)
        if block.t.size:
            block.lines = None  # line numbers are only needed by the checks
            self.blocks.append(block)
        self._report(problems)
        return n_lines

    def _process_halves(self, piece: bytes, n_lines: int, first_line: int, last: bool) -> int:
        """Recovery mode: process a block as two halves, so only the pieces around bad lines take
        the slow path (lines are independent in this mode)."""
        ends = np.flatnonzero(np.frombuffer(piece, dtype=np.uint8) == ord("\n"))
        cut = int(ends[n_lines // 2 - 1]) + 1
        n_first = self._process(piece[:cut], first_line, False)
        return n_first + self._process(piece[cut:], first_line + n_first, last)

    def _report(self, problems: list[_Problem]) -> None:
        """Strict: raise the first problem in file order; recovery: record them all, in order."""
        problems.sort(key=lambda p: p[0])
        if problems and self.recovery is None:
            line, problem = problems[0]
            raise InputError(self.path, where(line), problem)
        for line, problem in problems:
            self.recovery._record(line, problem)

    def _end_blank_run(self, line: int) -> list[_Problem]:
        """Blank lines before ``line``, which is not blank: each one is a problem."""
        first, self.state.blank_line = self.state.blank_line, None
        return [] if first is None else [(n, _blank_problem()) for n in range(first, line)]

    def _parse_fast(self, piece: bytes, first_line: int, n_lines: int, parsed: _Parsed | None) -> _Block | None:
        """The compiled parser, else numpy.loadtxt, on the whole block; None when anything at all
        is unusual."""
        if parsed is None and _csvblock is not None:
            parsed = _parse_compiled(piece, self.layout.roles)
        if parsed is not None and parsed[1] is not None:
            t, right, x = parsed[1]
            return _Block(t=t, right=right, x=x, first_line=first_line)
        return self._parse_loadtxt(piece, first_line, n_lines)

    def _parse_loadtxt(self, piece: bytes, first_line: int, n_lines: int) -> _Block | None:
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

    def _parse_slow(self, piece: bytes, first_line: int, last: bool) -> tuple[_Block, list[_Problem]]:
        """Line-by-line parse: the good rows of the block, and its problems.

        Strict mode stops at the first problem; recovery mode goes on past every bad line.
        """
        text = piece.decode("utf-8", errors="replace")
        raw_lines = text.split("\n")
        if text.endswith("\n"):
            raw_lines.pop()
        ts: list[float] = []
        rights: list[bool] = []
        xs: list[tuple[float, ...]] = []
        lines: list[int] = []
        problems: list[_Problem] = []
        for i, fields, problem in self._split_lines(raw_lines):
            if problems and self.recovery is None:
                break
            line_no = first_line + i
            if fields is not None and not any(f.strip() for f in fields):
                if self.state.blank_line is None:
                    self.state.blank_line = line_no
                continue
            problems += self._end_blank_run(line_no)
            if fields is not None:
                row, problem = self._parse_row(fields, is_last_line=last and i == len(raw_lines) - 1)
            if problem is not None:
                problems.append((line_no, problem))
                continue
            ts.append(row[0])
            rights.append(row[1])
            xs.append(row[2])
            lines.append(line_no)
        block = _Block(
            t=np.array(ts, dtype=np.float64),
            right=np.array(rights, dtype=bool),
            x=np.array(xs, dtype=np.float64).reshape(-1, len(SAMPLE_COLUMNS)).astype(np.float32),
            first_line=first_line,
            lines=np.array(lines, dtype=np.int64),
        )
        return block, problems

    def _split_lines(self, raw_lines: list[str]) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """``(index of the line in the block, fields, None)``, or ``(index, None, problem)``.

        Strict mode reads the block as one CSV stream: a quoted field may go on over line breaks
        (the index is then that of the record's last line) and a syntax error ends the block.
        Recovery mode splits each line on its own.
        """
        lines = (ln[:-1] if ln.endswith("\r") else ln for ln in raw_lines)
        if self.recovery is None:
            reader = csv.reader(lines, strict=True)
            try:
                for fields in reader:
                    yield reader.line_num - 1, fields, None
            except csv.Error as exc:
                yield reader.line_num - 1, None, f"cannot parse CSV: {exc}"
            return
        for i, line in enumerate(lines):
            try:
                fields = next(csv.reader((line,), strict=True), [])
            except csv.Error as exc:
                yield i, None, f"cannot parse CSV: {exc}"
            else:
                yield i, fields, None

    def _parse_row(
        self, fields: list[str], is_last_line: bool
    ) -> tuple[tuple[float, bool, tuple[float, ...]] | None, str | None]:
        """``((t, is right, (ax, ..., gz)), None)`` for a good line, ``(None, problem)`` otherwise."""
        lay = self.layout
        if len(fields) != lay.n_fields:
            return None, field_count_problem(lay.n_fields, len(fields), is_last_line)
        values: dict[int, float] = {}
        is_right = False
        for i in lay.needed:
            if i == lay.side_index:
                side, problem = choice_problem(lay.names[i], fields[i], SIDES, "a side")
                if problem is not None:
                    return None, problem
                is_right = side == "right"
                continue
            value, problem = number_problem(lay.names[i], fields[i])
            if problem is not None:
                return None, problem
            if i != lay.time_index and abs(value) >= _F32_OVERFLOW:
                return None, (
                    f"column {lay.names[i]!r}: {quote(fields[i].strip())} is too large "
                    "(beyond the float32 range)"
                )
            values[i] = value
        return (values[lay.time_index], is_right, tuple(values[i] for i in lay.value_index)), None

    # -- ordering ----------------------------------------------------------------------------------

    def _check_order(self, b: _Block) -> list[_Problem]:
        """Time non-decreasing over the file and strictly increasing per side.

        Vectorised for a block in order; otherwise row by row (see :meth:`_order_rows`).
        """
        if not b.t.size:
            return []
        st = self.state
        sides = [(is_right, np.flatnonzero(b.right == is_right)) for is_right in (False, True)]
        in_order = _increasing(b.t, st.last_t, strictly=False) and all(
            _increasing(b.t[idx], st.side_last.get(is_right, (None,))[0], strictly=True)
            for is_right, idx in sides
        )
        if not in_order:
            return self._order_rows(b)
        st.last_t, st.last_line = float(b.t[-1]), b.line(b.t.size - 1)
        for is_right, idx in sides:
            if idx.size:
                st.side_last[is_right] = (float(b.t[idx[-1]]), b.line(int(idx[-1])))
        return []

    def _order_rows(self, b: _Block) -> list[_Problem]:
        """Order check row by row against the rows kept before.

        Strict mode stops at the first row out of order; recovery mode drops every such row from
        ``b``.
        """
        st = self.state
        keep = np.ones(b.t.size, dtype=bool)
        problems: list[_Problem] = []
        for i, (t, is_right) in enumerate(zip(b.t.tolist(), b.right.tolist())):
            line = b.line(i)
            problem = self._order_problem(t, is_right)
            if problem is None:
                st.last_t, st.last_line = t, line
                st.side_last[is_right] = (t, line)
                continue
            problems.append((line, problem))
            if self.recovery is None:
                break
            keep[i] = False
        b.t, b.right, b.x = b.t[keep], b.right[keep], b.x[keep]
        if b.lines is not None:
            b.lines = b.lines[keep]
        return problems

    def _order_problem(self, t: float, is_right: bool) -> str | None:
        """Why a row at time ``t`` (s) cannot follow the rows before it; None if it can."""
        st = self.state
        if st.last_t is not None and t < st.last_t:
            return (
                f"time goes backwards: t_s {t!r} comes after t_s {st.last_t!r} "
                f"on line {st.last_line} (rows must be sorted by time)"
            )
        last = st.side_last.get(is_right)
        if last is not None and t <= last[0]:
            return (
                f"duplicate time: side {SIDES[int(is_right)]!r} already has a sample at t_s {t!r} "
                f"(line {last[1]}); times must increase strictly within a side"
            )
        return None


#: A European spreadsheet's CSV read as the usual one: decimal commas become points, semicolons commas.
_EUROPEAN = bytes.maketrans(b",;", b".,")
_EUROPEAN_TEXT = str.maketrans(",;", ".,")


def _semicolon_separated(header: str) -> bool:
    """Whether a header line separates the columns with ``;`` (as spreadsheets do where the
    decimal mark is a comma): the required columns are there when split at ``;`` but not at ``,``."""
    def has_columns(fields: list[str]) -> bool:
        return set(IMU_COLUMNS) <= {f.strip().strip('"').lower() for f in fields}

    return ";" in header and not has_columns(header.split(",")) and has_columns(header.split(";"))


#: A block's line count, and its rows as the compiled parser read them (None: something unusual).
_Parsed = tuple[int, "tuple[np.ndarray, np.ndarray, np.ndarray] | None"]


def _read_block(f, head: bytes | bytearray) -> bytearray:
    """A new buffer: ``head``, then up to :data:`_CHUNK_BYTES` bytes read from ``f``."""
    block = bytearray(len(head) + _CHUNK_BYTES)
    block[:len(head)] = head
    view, end = memoryview(block), len(head)
    while end < len(block):
        n = f.readinto(view[end:])
        if not n:
            break
        end += n
    view.release()
    del block[end:]
    return block


def _line_count(piece: bytes) -> int:
    return piece.count(b"\n") + (0 if piece.endswith(b"\n") else 1)


def _parse_compiled(piece: bytes, roles: np.ndarray) -> _Parsed:
    """:mod:`ext/csvblock.pyx <gaitmon.io._csvblock>` on a block: ``t`` float64, ``right`` bool, ``x``
    float32 ``(n, 6)`` when it read every line, else None (the reader's other paths then decide)."""
    n_lines = _line_count(piece)
    t = np.empty(n_lines, dtype=np.float64)
    right = np.empty(n_lines, dtype=np.uint8)
    x = np.empty((n_lines, len(SAMPLE_COLUMNS)), dtype=np.float32)
    if _csvblock.parse_block(piece, roles, t, right, x) != n_lines:
        return n_lines, None
    return n_lines, (t, right.view(bool), x)


if os.environ.get("GAITMON_PURE_PYTHON"):
    _csvblock = None
else:
    try:
        from gaitmon.io import _csvblock
    except ImportError:  # a source checkout that was never built: numpy.loadtxt parses every block
        _csvblock = None


def _increasing(t: np.ndarray, before: float | None, strictly: bool) -> bool:
    """Whether ``before`` (if any) followed by ``t`` is non-decreasing, or strictly increasing."""
    ok = np.greater if strictly else np.greater_equal
    return bool(t.size == 0 or ((before is None or ok(t[0], before)) and ok(t[1:], t[:-1]).all()))


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


def read_imu_csv_recovering(
    path: str | Path,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], Recovery]:
    """Read an IMU sample file, skipping bad lines instead of stopping at the first one.

    Every data line that :func:`read_imu_csv` would reject on its own account (wrong number of
    fields, a bad value or side, time going backwards or repeated within a side, a blank line
    followed by data, ...) is skipped and recorded; the rows returned are exactly what
    :func:`read_imu_csv` returns for the file with the skipped lines deleted. A row out of time
    order is judged against the rows kept before it. Blocks without problems are read as fast as
    by :func:`read_imu_csv`.

    Parameters
    ----------
    path : str or Path
        CSV file, as for :func:`read_imu_csv`.

    Returns
    -------
    samples : dict
        ``side -> (t, x)`` as from :func:`read_imu_csv`: ``t`` float64 ``(n,)`` in s, ``x``
        float32 ``(n, 6)``, ``ax, ay, az`` in m/s², ``gx, gy, gz`` in rad/s.
    recovery : Recovery
        The lines skipped, and why; ``recovery.message()`` is one line for the user.

    Raises
    ------
    gaitmon.errors.InputError
        For problems with the file as a whole: missing or empty file, missing or broken header,
        no data rows; and when no data line at all is usable (the message then names the first
        bad line).
    """
    recovery = Recovery(str(path))
    return _Reader(path, recovery).read(), recovery


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
