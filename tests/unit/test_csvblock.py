"""The compiled fast path of the samples CSV reader (``ext/csvblock.pyx``) against its references.

It must accept a strict subset of what the numpy.loadtxt path accepts, give the same numbers bit
for bit (times as Python's ``float``, sample values then rounded to float32), and answer "unusual"
(-1) for everything else, so that the reader's other paths find and word the problem.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaitmon.io import imu_csv, write_imu_csv

csvblock = pytest.importorskip("gaitmon.io._csvblock", reason="compiled CSV parser not built")

#: Roles of the fields of ``t_s,side,ax,ay,az,gx,gy,gz``.
ROLES = np.array([-2, -3, 0, 1, 2, 3, 4, 5], dtype=np.int8)


def parse(text: bytes | str, roles: np.ndarray = ROLES, capacity: int | None = None):
    data = text.encode() if isinstance(text, str) else text
    n = capacity if capacity is not None else imu_csv._line_count(data) if data else 0
    t, right = np.empty(n), np.empty(n, dtype=np.uint8)
    x = np.empty((n, 6), dtype=np.float32)
    rows = csvblock.parse_block(data, roles, t, right, x)
    return rows, t[:max(rows, 0)], right[:max(rows, 0)].view(bool), x[:max(rows, 0)]


def number(text: str) -> float | None:
    """The time field's value as the compiled parser reads it; None when it is unusual."""
    rows, t, _, _ = parse(f"{text},left,0,0,0,0,0,0")
    return float(t[0]) if rows == 1 else None


# -------------------------------------------------------------------------------------------------
# Numbers
# -------------------------------------------------------------------------------------------------

_finite = st.floats(allow_nan=False, allow_infinity=False)
_formats = st.sampled_from(["%r", "%.6f", "%.6g", "%.9g", "%.3e", "%.15g", "%.17g", "%d"])


@given(value=_finite, form=_formats)
def test_numbers_equal_python_float_or_are_unusual(value, form):
    text = repr(value) if form == "%r" else form % (int(value) if form == "%d" and abs(value) < 1e18 else value)
    got = number(text)
    if got is not None:
        assert got == float(text) and np.signbit(got) == np.signbit(float(text)), text


@given(mantissa=st.integers(0, 2**53), exponent=st.integers(-22, 22), negative=st.booleans(),
       point=st.integers(0, 16))
def test_every_number_in_the_exact_range_is_read_correctly_rounded(mantissa, exponent, negative, point):
    """``m · 10^e`` with ``m ≤ 2^53`` and ``|e| ≤ 22``, however written, is read (and read exactly as
    ``float``): the decimal point moved ``point`` digits left and the exponent raised to match."""
    digits = str(mantissa).rjust(point + 1, "0")
    if point:
        digits = digits[:-point] + "." + digits[-point:]
    text = ("-" if negative else "") + digits + f"e{exponent + point}"
    got = number(text)
    assert got is not None, text
    assert got == float(text) and np.signbit(got) == np.signbit(float(text)), text


@pytest.mark.parametrize("text", ["0", "-0", "-0.0", "+1", "1.", ".5", "-.5", "1e5", "1E+05", "1.e-3", "007.50",
                                  "3599.999000", "9.80665", "-0.008992", "9007199254740992", "0.000000000000000000001"])
def test_usual_numbers_are_read(text):
    got = number(text)
    assert got is not None and got == float(text) and np.signbit(got) == np.signbit(float(text)), text


@pytest.mark.parametrize("text", ["", "-", "+", ".", "e5", ".e5", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "nan",
                                  "inf", "-Infinity", "1_000", "0x10", "1e400", "1e23", "12345678901234567890",
                                  "9007199254740993", "123456789012345678", "1d5", "١", '"1"', "1\r"])
def test_unusual_numbers_are_left_to_the_other_paths(text):
    assert number(text) is None, text


# -------------------------------------------------------------------------------------------------
# Lines and fields
# -------------------------------------------------------------------------------------------------


def test_sides_line_ends_and_ignored_columns():
    roles = np.array([-1, -2, -3, 0, 1, 2, 3, 4, 5, -1], dtype=np.int8)
    rows, t, right, x = parse("a b,0.5,left,1,2,3,4,5,6,\r\n,0.6,right,-1,-2,-3,-4,-5,3e20,x", roles)
    assert rows == 2
    assert t.tolist() == [0.5, 0.6] and right.tolist() == [False, True]
    np.testing.assert_array_equal(x, np.float32([[1, 2, 3, 4, 5, 6], [-1, -2, -3, -4, -5, 3e20]]))


@pytest.mark.parametrize("text", [
    "0,left,1,2,3,4,5,6\n\n0.1,left,1,2,3,4,5,6\n",  # a blank line
    "0,left,1,2,3,4,5\n",  # a field missing
    "0,left,1,2,3,4,5,6,7\n",  # a field too many
    "0,Left,1,2,3,4,5,6\n", "0,lefty,1,2,3,4,5,6\n", "0,,1,2,3,4,5,6\n", '0,"left",1,2,3,4,5,6\n',
    "0,left,1,2,3,4,5,3.5e38\n",  # beyond the float32 range
    "0,left,1,2,3,4,5,6\r\r\n", "0,left\r,1,2,3,4,5,6\n",
    # where a number or a side stops, its field must end: the one-pass scanner checks the next byte
    "0,left,1,2,3,4,5,6x\n", "0,left,1,2\r,3,4,5,6\n", "0x,left,1,2,3,4,5,6\n", "0,left,1,2,3,4,5,6\r0\n",
    "0,left,1,2,3,4,5,6\n\r", "0,left,1,2,3,4,5,6\n0,right,1,2,3,4,5,6,\n", "0,left,1,2,3,4,5,\n",
])
def test_unusual_lines(text):
    assert parse(text)[0] == -1


@pytest.mark.parametrize("field", ['"quoted"', "tab\there", "caf\u00e9", "\x00"])
def test_unusual_ignored_fields(field):
    roles = np.array([-2, -3, 0, 1, 2, 3, 4, 5, -1], dtype=np.int8)
    assert parse(f"0,left,1,2,3,4,5,6,{field}\n", roles)[0] == -1


def test_more_lines_than_room():
    assert parse("0,left,1,2,3,4,5,6\n1,left,1,2,3,4,5,6\n", capacity=1)[0] == -1


# -------------------------------------------------------------------------------------------------
# Against the numpy.loadtxt path, and inside the reader
# -------------------------------------------------------------------------------------------------

_field = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    st.floats(-1e6, 1e6).map(lambda v: "%.6g" % v),
    st.sampled_from(["", " 1", "1 ", "1e999", "-0", ".5", "5.", "abc", '"2"', "1e-50"]),
)
_line = st.tuples(st.floats(0, 1e4).map(lambda v: "%.6f" % v), st.sampled_from(["left", "right", "up", ""]),
                  st.lists(_field, min_size=6, max_size=7)).map(lambda p: ",".join([p[0], p[1], *p[2]]))


@given(lines=st.lists(_line, min_size=1, max_size=12), crlf=st.booleans(), final_end=st.booleans())
def test_accepts_a_subset_of_the_loadtxt_path_with_equal_values(lines, crlf, final_end):
    end = "\r\n" if crlf else "\n"
    piece = (end.join(lines) + (end if final_end else "")).encode()
    reader = imu_csv._Reader("block.csv")
    reader.layout = imu_csv._Layout.from_header("block.csv", list(imu_csv.IMU_COLUMNS))
    n_lines, compiled = imu_csv._parse_compiled(piece, reader.layout.roles)
    assert n_lines == len(lines)
    reference = reader._parse_loadtxt(piece, 2, n_lines)
    if compiled is None:
        return
    assert reference is not None, piece
    t, right, x = compiled
    np.testing.assert_array_equal(t, reference.t)
    np.testing.assert_array_equal(right, reference.right)
    assert x.dtype == reference.x.dtype == np.float32
    np.testing.assert_array_equal(x.view(np.uint32), reference.x.view(np.uint32))  # -0.0 too


def test_the_reader_takes_the_compiled_path_for_its_own_files(tmp_path, monkeypatch):
    """A file written by gaitmon is read by the compiled parser alone, in many blocks parsed ahead
    in threads, to the same arrays as by numpy.loadtxt."""
    rng = np.random.default_rng(7)
    t = np.arange(5000) / 1000.0
    samples = {side: (t, rng.normal(0, 20, (t.size, 6)).astype(np.float32)) for side in ("left", "right")}
    path = tmp_path / "own.csv"
    write_imu_csv(path, samples)
    monkeypatch.setattr(imu_csv, "_CHUNK_BYTES", 4096)
    with monkeypatch.context() as m:
        m.setattr(imu_csv, "_csvblock", None)
        reference = imu_csv.read_imu_csv(path)

    def no_loadtxt(self, *args):
        raise AssertionError("the compiled parser gave up on a block of gaitmon's own file")

    monkeypatch.setattr(imu_csv._Reader, "_parse_loadtxt", no_loadtxt)
    got = imu_csv.read_imu_csv(path)
    for side in ("left", "right"):
        np.testing.assert_array_equal(got[side][0], reference[side][0])
        np.testing.assert_array_equal(got[side][1], reference[side][1])


def test_errors_in_a_block_parsed_ahead_name_their_line(tmp_path, monkeypatch):
    monkeypatch.setattr(imu_csv, "_CHUNK_BYTES", 256)
    lines = [",".join(imu_csv.IMU_COLUMNS)] + [f"{i / 100:.6f},left,1,2,3,4,5,6" for i in range(400)]
    lines[301] = lines[301].replace(",5,", ",five,")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(imu_csv.InputError) as info:
        imu_csv.read_imu_csv(path)
    assert info.value.where == "line 302" and "'five'" in str(info.value)
