"""gaitmon.io: IMU sample files, event lists and small tables (CSV)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitmon.errors import InputError
from gaitmon.events import GaitEvent
from gaitmon.io import (
    read_events_csv,
    read_imu_csv,
    read_table_csv,
    write_events_csv,
    write_imu_csv,
    write_table_csv,
)
from gaitmon.io import _format, imu_csv

#: Real foot-IMU walking data (AGPL-3.0): read in place, never copied into the repository.
DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "ipol_foot_walk"

HEADER = "t_s,side,ax,ay,az,gx,gy,gz"
FAST = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _row(t: float, side: str, v: float = 1.0) -> str:
    return f"{t},{side},{v},2,3,4,5,6"


def _write(tmp_path: Path, text: str | bytes, name: str = "imu.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def _expect_error(path: Path, line: int | None, *needles: str, reader=read_imu_csv) -> InputError:
    with pytest.raises(InputError) as info:
        reader(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    if line is None:
        assert info.value.where is None, message
    else:
        assert info.value.where == f"line {line}", message
        assert f": line {line}: " in message
    for needle in needles:
        assert needle in message, message
    return info.value


@pytest.fixture(params=["compiled", "loadtxt", "slow"])
def path_mode(request, monkeypatch):
    """Run a test with the compiled fast path (when built), with the numpy.loadtxt fast path, and
    with the line-by-line path alone."""
    if request.param == "loadtxt":
        monkeypatch.setattr(imu_csv, "_csvblock", None)
    if request.param == "slow":
        monkeypatch.setattr(imu_csv._Reader, "_parse_fast", lambda self, *a: None)
    return request.param


@pytest.fixture(params=[16 << 20, 64])
def chunk(request, monkeypatch):
    """Whole-file blocks, and tiny blocks so every line boundary is a block boundary too."""
    monkeypatch.setattr(imu_csv, "_CHUNK_BYTES", request.param)
    return request.param


# -------------------------------------------------------------------------------------------------
# read_imu_csv: good input
# -------------------------------------------------------------------------------------------------


def test_reads_interleaved_sides(tmp_path, path_mode, chunk):
    rows = [_row(0.00, "left", 1.5), _row(0.00, "right", -2.5), _row(0.01, "left", 3.0),
            _row(0.01, "right", 4.0), _row(0.02, "right", 5.0)]
    data = read_imu_csv(_write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert list(data) == ["left", "right"]
    t, x = data["left"]
    assert t.dtype == np.float64 and x.dtype == np.float32
    assert x.shape == (2, 6) and x.flags.c_contiguous
    np.testing.assert_array_equal(t, [0.0, 0.01])
    np.testing.assert_array_equal(x[:, 0], [1.5, 3.0])
    np.testing.assert_array_equal(x[0, 1:], [2, 3, 4, 5, 6])
    t, x = data["right"]
    np.testing.assert_array_equal(t, [0.0, 0.01, 0.02])
    np.testing.assert_array_equal(x[:, 0], [-2.5, 4.0, 5.0])


def test_one_side_only(tmp_path, path_mode):
    data = read_imu_csv(_write(tmp_path, f"{HEADER}\n{_row(0, 'right')}\n{_row(1, 'right')}"))
    assert list(data) == ["right"]
    assert data["right"][0].tolist() == [0.0, 1.0]


def test_columns_in_any_order_extra_columns_ignored(tmp_path, path_mode, chunk):
    text = (
        "GZ, gy ,gx,az,ay,ax,note,side,t_s,counter\n"
        "6,5,4,3,2,1,hello,left,0.0,17\n"
        '6.5,5,4,3,2,1,"a, quoted note",right,0.0,18\n'
        "7,5,4,3,2,1,,left,0.5,\n"
    )
    data = read_imu_csv(_write(tmp_path, text))
    np.testing.assert_array_equal(data["left"][1], [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7]])
    np.testing.assert_array_equal(data["right"][1], [[1, 2, 3, 4, 5, 6.5]])
    np.testing.assert_array_equal(data["left"][0], [0.0, 0.5])


def test_crlf_bom_quotes_spaces_and_trailing_blank_lines(tmp_path, path_mode):
    text = ("\ufeff" + HEADER + "\r\n" + '0.0,"left",1,2,3,4,5,6\r\n'
            + "0.1, right , 1e-3 ,+2,-.5,4.,5E2,6\r\n\r\n\n  \n")
    data = read_imu_csv(_write(tmp_path, text))
    np.testing.assert_array_equal(data["right"][1][0], np.float32([1e-3, 2, -0.5, 4, 500, 6]))
    assert data["left"][0].tolist() == [0.0]


def test_fast_and_slow_paths_agree(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    n = 500
    t = np.cumsum(rng.uniform(0.0005, 0.002, n))
    x = rng.normal(0, 30, (n, 6)) * 10.0 ** rng.integers(-9, 6, (n, 6))
    lines = [HEADER] + [f"{ti!r},{'left' if i % 3 else 'right'}," + ",".join(repr(v) for v in xi)
                        for i, (ti, xi) in enumerate(zip(t.tolist(), x.tolist()))]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    fast = read_imu_csv(path)
    monkeypatch.setattr(imu_csv._Reader, "_parse_fast", lambda self, *a: None)
    slow = read_imu_csv(path)
    for side in ("left", "right"):
        np.testing.assert_array_equal(fast[side][0], slow[side][0])
        np.testing.assert_array_equal(fast[side][1], slow[side][1])
        sel = np.array([(i % 3 != 0) == (side == "left") for i in range(n)])
        np.testing.assert_array_equal(fast[side][0], t[sel])
        np.testing.assert_array_equal(fast[side][1], x[sel].astype(np.float32))


@pytest.mark.parametrize("chunk_bytes", [16 << 20, 97])
def test_many_blocks(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(imu_csv, "_CHUNK_BYTES", chunk_bytes)
    n = 3000
    t = np.arange(n) / 1000
    x = np.arange(n * 6, dtype=np.float32).reshape(n, 6)
    path = tmp_path / "many.csv"
    write_imu_csv(path, {"left": (t, x), "right": (t, -x)})
    data = read_imu_csv(path)
    np.testing.assert_array_equal(data["left"][0], t)
    np.testing.assert_array_equal(data["right"][1], -x)


# -------------------------------------------------------------------------------------------------
# read_imu_csv: bad input -> one-line InputError naming the file and the line
# -------------------------------------------------------------------------------------------------

R = [_row(0.00, "left"), _row(0.00, "right"), _row(0.01, "left"), _row(0.01, "right")]

BAD_CASES = {
    # name: (file text, expected line (None = whole file), words the message must contain)
    "empty file": ("", None, ["file is empty", "t_s,side,ax"]),
    "header only": (HEADER + "\n", None, ["no data rows"]),
    "blank header": ("\n" + R[0] + "\n", 1, ["header line is empty"]),
    "no header": ("\n".join(R) + "\n", 1, ["no header line", "t_s, side, ax"]),
    "missing columns": ("t_s,side,ax,ay,az,gx\n0,left,1,2,3,4\n", 1, ["missing column(s) 'gy', 'gz'"]),
    "repeated column": (HEADER + ",ax\n" + R[0] + ",1\n", 1, ["'ax' appears more than once"]),
    "non-numeric": (f"{HEADER}\n{R[0]}\n0.00,right,1,abc,3,4,5,6\n", 3, ["column 'ay'", "'abc' is not a number"]),
    "non-numeric time": (f"{HEADER}\n{R[0]}\nzero,right,1,2,3,4,5,6\n", 3, ["column 't_s'", "'zero'"]),
    "empty value": (f"{HEADER}\n{R[0]}\n0.00,right,1,,3,4,5,6\n", 3, ["column 'ay' is empty"]),
    "nan": (f"{HEADER}\n{R[0]}\n{R[1]}\n0.01,left,1,2,NaN,4,5,6\n", 4, ["column 'az'", "'NaN'", "not a finite"]),
    "inf": (f"{HEADER}\n{R[0]}\n0.00,right,1,2,3,4,5,-inf\n", 3, ["column 'gz'", "'-inf'", "not a finite"]),
    "inf time": (f"{HEADER}\n{R[0]}\ninf,right,1,2,3,4,5,6\n", 3, ["column 't_s'", "not a finite"]),
    "float32 overflow": (f"{HEADER}\n{R[0]}\n0.00,right,1e39,2,3,4,5,6\n", 3, ["column 'ax'", "'1e39'", "float32"]),
    "bad side": (f"{HEADER}\n{R[0]}\n0.00,Right,1,2,3,4,5,6\n", 3, ["'Right' is not a side", "'left', 'right'"]),
    "numeric side": (f"{HEADER}\n{R[0]}\n0.00,1,1,2,3,4,5,6\n", 3, ["'1' is not a side"]),
    "time backwards": (f"{HEADER}\n0.02,left,1,2,3,4,5,6\n0.01,right,1,2,3,4,5,6\n", 3,
                       ["time goes backwards", "0.01", "0.02", "line 2"]),
    "duplicate time": (f"{HEADER}\n{R[0]}\n{R[1]}\n{R[0]}\n", 4, ["duplicate time", "'left'", "line 2"]),
    "truncated last line": (f"{HEADER}\n{R[0]}\n{R[1]}\n0.01,left,1,2", 4, ["found 4", "truncated"]),
    "short last line, then blank lines": (f"{HEADER}\n{R[0]}\n0.01,left,1,2\n\n", 3, ["found 4"]),
    "too few fields": (f"{HEADER}\n{R[0]}\n0.00,right,1,2,3,4,5\n{R[2]}\n", 3, ["expected 8 fields", "found 7"]),
    "too many fields": (f"{HEADER}\n{R[0]}\n{R[1]},7\n{R[2]}\n", 3, ["expected 8 fields", "found 9"]),
    "blank line inside": (f"{HEADER}\n{R[0]}\n\n{R[1]}\n", 3, ["empty line"]),
    "not utf-8 side": (f"{HEADER}\n{R[0]}\n".encode() + b"0.00,ri\xffght,1,2,3,4,5,6\n", 3, ["is not a side"]),
}


@pytest.mark.parametrize("name", list(BAD_CASES))
def test_bad_input(tmp_path, name, path_mode, chunk):
    text, line, needles = BAD_CASES[name]
    _expect_error(_write(tmp_path, text), line, *needles)


def test_first_problem_in_file_order_is_reported(tmp_path, path_mode, chunk):
    # line 3 goes backwards in time, line 5 is not a number: line 3 wins.
    text = f"{HEADER}\n{R[2]}\n{R[0]}\n{R[3]}\n0.02,left,x,2,3,4,5,6\n"
    _expect_error(_write(tmp_path, text), 3, "time goes backwards")
    # ... and the other way round
    text = f"{HEADER}\n{R[0]}\n0.0,right,x,2,3,4,5,6\n{R[0]}\n"
    _expect_error(_write(tmp_path, text), 3, "'x' is not a number")


def test_errors_deep_in_a_large_file_name_the_right_line(tmp_path, monkeypatch):
    monkeypatch.setattr(imu_csv, "_CHUNK_BYTES", 4096)
    good = [f"{i * 0.001:.3f},{side},1,2,3,4,5,6" for i in range(2000) for side in ("left", "right")]
    for bad_index, bad_row, needle in [
        (3001, "1.500,right,1,2,3,4,oops,6", "'oops' is not a number"),
        (3001, "1.400,right,1,2,3,4,5,6", "time goes backwards"),
        (3999, "1.999,left,1,2,3,4,5,6", "duplicate time"),  # the last row, in the last block
    ]:
        rows = list(good)
        rows[bad_index] = bad_row
        path = _write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
        _expect_error(path, bad_index + 2, needle)


def test_missing_file_and_directory(tmp_path):
    _expect_error(tmp_path / "nope.csv", None, "file not found")
    _expect_error(tmp_path, None, "directory")


def test_no_numpy_or_csv_exception_escapes(tmp_path):
    junk = [b"\x00\x01\x02", b'"unterminated,quote\n' + HEADER.encode(), HEADER.encode() + b"\n\x00,\x00",
            HEADER.encode() + b'\n0,left,1,2,3,4,5,"6\n', b"\xff\xfe" + HEADER.encode()]
    for i, data in enumerate(junk):
        path = _write(tmp_path, data, f"junk{i}.csv")
        with pytest.raises(InputError):
            read_imu_csv(path)


# -------------------------------------------------------------------------------------------------
# write_imu_csv
# -------------------------------------------------------------------------------------------------

_f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@st.composite
def _samples(draw):
    out = {}
    for side in draw(st.sampled_from([("left",), ("right",), ("left", "right")])):
        n = draw(st.integers(1, 12))
        steps = draw(st.lists(st.floats(1e-5, 10.0), min_size=n, max_size=n))
        t0 = draw(st.floats(-1000.0, 1000.0))
        t = t0 + np.cumsum(steps)
        x = np.array(draw(st.lists(_f32, min_size=6 * n, max_size=6 * n)), dtype=np.float32).reshape(n, 6)
        out[side] = (t, x)
    return out


@FAST
@given(samples=_samples())
def test_write_read_round_trip(tmp_path, samples):
    path = tmp_path / "rt.csv"
    write_imu_csv(path, samples)
    back = read_imu_csv(path)
    assert list(back) == [s for s in ("left", "right") if s in samples]
    for side, (t, x) in samples.items():
        t2, x2 = back[side]
        np.testing.assert_array_equal(t2, [float("%.6f" % v) for v in t])
        expected = np.array([float("%.6g" % v) for v in x.astype(np.float64).ravel()])
        np.testing.assert_array_equal(x2, expected.astype(np.float32).reshape(x.shape))
        np.testing.assert_allclose(t2, t, rtol=0, atol=5.0001e-7)


def test_writer_layout(tmp_path):
    path = tmp_path / "w.csv"
    t = np.array([0.0, 0.001])
    x = np.array([[1.5, -0.000123456, 1e-7, 123456789.0, 0.0, -2.0]] * 2, dtype=np.float32)
    write_imu_csv(path, {"right": (t, x), "left": (t + 0.0005, x)})
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "0.000000,right,1.5,-0.000123456,1e-07,1.23457e+08,0,-2"
    assert [ln.split(",")[:2] for ln in lines[1:]] == [
        ["0.000000", "right"], ["0.000500", "left"], ["0.001000", "right"], ["0.001500", "left"]]


def test_writer_rejects_bad_samples(tmp_path):
    path = tmp_path / "w.csv"
    good_t, good_x = np.array([0.0, 1.0]), np.zeros((2, 6))
    with pytest.raises(ValueError, match="side"):
        write_imu_csv(path, {"middle": (good_t, good_x)})
    with pytest.raises(ValueError, match="shape"):
        write_imu_csv(path, {"left": (good_t, np.zeros((2, 5)))})
    with pytest.raises(ValueError, match="finite"):
        write_imu_csv(path, {"left": (good_t, np.full((2, 6), np.nan))})
    with pytest.raises(ValueError, match="increase"):
        write_imu_csv(path, {"left": (np.array([0.0, 1e-7]), good_x)})
    with pytest.raises(InputError, match="directory"):
        write_imu_csv(tmp_path, {"left": (good_t, good_x)})


@settings(max_examples=200, deadline=None, derandomize=True)
@given(values=st.lists(_f32, min_size=1, max_size=50))
def test_g6_formatting_matches_python(values):
    v = np.array(values, dtype=np.float32)
    text = _format.join_rows([_format.g6_block(v)]).decode()
    assert text.splitlines() == ["%.6g" % float(x) for x in v]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(values=st.lists(st.floats(-9.8e6, 9.8e6) | st.integers(-10**7, 10**7).map(lambda i: i * 5e-7),
                       min_size=1, max_size=50))
def test_f6_formatting_matches_python(values):
    v = np.array(values, dtype=np.float64)
    text = _format.join_rows([_format.f6_block(v)]).decode()
    assert text.splitlines() == ["%.6f" % x for x in v]


# -------------------------------------------------------------------------------------------------
# real data
# -------------------------------------------------------------------------------------------------


@pytest.fixture
def dataset() -> Path:
    if not (DATASET / "S01_T4_imu.csv").is_file():
        pytest.skip(f"real dataset not found at {DATASET} (it is not part of the repository)")
    return DATASET


def test_real_dataset_reads(dataset):
    data = read_imu_csv(dataset / "S01_T4_imu.csv")
    assert set(data) == {"left", "right"}
    for t, x in data.values():
        assert t.size > 1000 and x.shape == (t.size, 6)
        np.testing.assert_allclose(np.diff(t), 0.01, atol=1e-9)  # 100 Hz
        acc = np.linalg.norm(x[:, :3], axis=1)
        assert 5 < np.median(acc) < 15  # m/s²: gravity-ish
    events = read_events_csv(dataset / "S01_T4_events.csv")
    assert len(events) > 10
    assert {e.kind for e in events} == {"TO", "IC"}
    assert all(math.isnan(e.value) for e in events)


# -------------------------------------------------------------------------------------------------
# events
# -------------------------------------------------------------------------------------------------


def test_events_round_trip(tmp_path):
    events = [GaitEvent(1.25, "right", "IC", 0.5, "impact"), GaitEvent(0.123456789, "left", "TO"),
              GaitEvent(1.25, "left", "MSW", 12.345678), GaitEvent(1.25, "left", "IC", -3.0)]
    path = tmp_path / "events.csv"
    write_events_csv(path, events)
    lines = path.read_text().splitlines()
    assert lines[0] == "t_s,side,event,value,rule"
    assert lines[1] == "0.123457,left,TO,,"
    assert [ln.split(",")[:3] for ln in lines[2:]] == [
        ["1.250000", "left", "MSW"], ["1.250000", "left", "IC"], ["1.250000", "right", "IC"]]
    back = read_events_csv(path)
    assert [(e.t, e.side, e.kind) for e in back] == [
        (0.123457, "left", "TO"), (1.25, "left", "MSW"), (1.25, "left", "IC"), (1.25, "right", "IC")]
    assert math.isnan(back[0].value) and back[1].value == pytest.approx(12.3457)
    assert [e.rule for e in back] == ["", "", "", "impact"]


def test_events_three_columns_any_order(tmp_path):
    path = _write(tmp_path, "event,t_s,side\nIC,2.5,left\nTO,1.5,right\n", "ev.csv")
    assert [(e.t, e.side, e.kind) for e in read_events_csv(path)] == [(1.5, "right", "TO"), (2.5, "left", "IC")]


EVENT_BAD = {
    "empty": ("", None, ["file is empty"]),
    "missing column": ("t_s,side\n1,left\n", 1, ["missing column(s) 'event'"]),
    "bad time": ("t_s,side,event\n1,left,IC\nsoon,left,TO\n", 3, ["'soon' is not a number"]),
    "nan time": ("t_s,side,event\nnan,left,IC\n", 2, ["not a finite"]),
    "bad side": ("t_s,side,event\n1,up,IC\n", 2, ["'up' is not a side"]),
    "bad kind": ("t_s,side,event\n1,left,HS\n", 2, ["'HS' is not an event", "'TO', 'MSW', 'IC'"]),
    "bad value": ("t_s,side,event,value\n1,left,IC,big\n", 2, ["column 'value'", "'big'"]),
    "fields": ("t_s,side,event\n1,left,IC\n2,left\n", 3, ["found 2", "truncated"]),
    "duplicate": ("t_s,side,event\n1,left,IC\n1,left,IC\n", 3, ["duplicate event", "line 2"]),
}


@pytest.mark.parametrize("name", list(EVENT_BAD))
def test_events_bad_input(tmp_path, name):
    text, line, needles = EVENT_BAD[name]
    _expect_error(_write(tmp_path, text, "ev.csv"), line, *needles, reader=read_events_csv)


# -------------------------------------------------------------------------------------------------
# generic tables
# -------------------------------------------------------------------------------------------------


def test_table_round_trip(tmp_path):
    rows = [
        {"side": "left", "ic_s": 1.0, "contact_s": 0.1234567, "n": 3, "ok": True, "extra": "ignored"},
        {"side": "right", "ic_s": float("nan"), "contact_s": np.float32(0.5), "n": np.int64(4), "ok": None},
        {"side": "a, b", "ic_s": float("inf")},
    ]
    path = tmp_path / "table.csv"
    write_table_csv(path, rows, ["side", "ic_s", "contact_s", "n", "ok"])
    lines = path.read_text().splitlines()
    assert lines[:3] == ["side,ic_s,contact_s,n,ok", "left,1.000000,0.123457,3,True",
                         "right,,0.500000,4,"]
    back = read_table_csv(path)
    assert back[0] == {"side": "left", "ic_s": 1.0, "contact_s": 0.123457, "n": 3.0, "ok": "True"}
    assert math.isnan(back[1]["ic_s"]) and math.isnan(back[1]["ok"])
    assert back[2]["side"] == "a, b" and back[2]["ic_s"] == math.inf and math.isnan(back[2]["n"])


def test_table_bad_input(tmp_path):
    _expect_error(_write(tmp_path, "", "t.csv"), None, "empty", reader=read_table_csv)
    _expect_error(_write(tmp_path, "a,b\n1,2\n1,2,3\n", "t.csv"), 3, "found 3", reader=read_table_csv)
    _expect_error(_write(tmp_path, "a,a\n1,2\n", "t.csv"), 1, "more than once", reader=read_table_csv)
    assert read_table_csv(_write(tmp_path, "a,b\n", "t.csv")) == []


def test_message_format_is_one_line(tmp_path):
    err = _expect_error(_write(tmp_path, f"{HEADER}\n{R[0]}\n0.0,right,1,2,3,4,5,x\n"), 3)
    assert re.fullmatch(r".+imu\.csv: line 3: column 'gz': 'x' is not a number", str(err))


def test_european_csv_semicolons_and_decimal_commas(tmp_path, path_mode):
    """A spreadsheet's export where the decimal mark is a comma: read as the usual file."""
    text = ("t_s;side;ax;ay;az;gx;gy;gz;note\r\n"
            "0,000;left;9,81;-0,5;1e-3;0;0,25;3;a, b\r\n"
            "0,001;right;1;2;3;4;5;6,5;\r\n")
    data = read_imu_csv(_write(tmp_path, text))
    np.testing.assert_array_equal(data["left"][1][0], np.float32([9.81, -0.5, 1e-3, 0, 0.25, 3]))
    assert data["right"][0].tolist() == [0.001]
    np.testing.assert_array_equal(data["right"][1][0], np.float32([1, 2, 3, 4, 5, 6.5]))


def test_european_csv_errors_name_the_line(tmp_path, path_mode):
    text = "t_s;side;ax;ay;az;gx;gy;gz\n0,000;left;1;2;3;4;5;6\n0,001;left;1;2;x;4;5;6\n"
    _expect_error(_write(tmp_path, text), 3, "column 'az'", "'x'")
