"""gaitmon.io recovering readers: bad lines are skipped and reported, the intact rest is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitmon.errors import InputError
from gaitmon.io import (
    Recovery,
    imu_csv,
    read_events_csv,
    read_events_csv_recovering,
    read_imu_csv,
    read_imu_csv_recovering,
    write_imu_csv,
)

HEADER = "t_s,side,ax,ay,az,gx,gy,gz"


def _row(t: float, side: str, v: float = 1.0) -> str:
    return f"{t:.2f},{side},{v},2,3,4,5,6"


def _rows(n: int) -> list[str]:
    """``n`` good rows per side, 10 ms apart, interleaved."""
    return [_row(i * 0.01, side, i) for i in range(n) for side in ("left", "right")]


def _write(tmp_path: Path, data: str | bytes, name: str = "imu.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _without(path: Path, lines: set[int]) -> Path:
    """A copy of ``path`` without the given lines (1-based, header = 1)."""
    kept = [ln for i, ln in enumerate(path.read_bytes().split(b"\n"), start=1) if i not in lines]
    out = path.with_name("stripped_" + path.name)
    out.write_bytes(b"\n".join(kept))
    return out


def _lines(recovery: Recovery) -> list[int]:
    return [int(p.where.removeprefix("line ")) for p in recovery.problems]


def _assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for side in a:
        for got, want in zip(a[side], b[side]):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def _check(path: Path, bad_lines: list[int], reader=read_imu_csv_recovering, strict=read_imu_csv):
    """Recovering read skips exactly ``bad_lines`` and equals the strict read without them."""
    data, recovery = reader(path)
    assert _lines(recovery) == bad_lines
    assert recovery.n_problems == len(bad_lines)
    assert recovery.complete == (not bad_lines)
    expected = strict(_without(path, set(bad_lines)))
    if isinstance(data, dict):
        _assert_same(data, expected)
    else:  # events; str() so that NaN values compare equal
        assert [(e.t, e.side, e.kind, str(e.value)) for e in data] == [
            (e.t, e.side, e.kind, str(e.value)) for e in expected]
    for problem in recovery.problems:
        assert str(problem).startswith(f"{path}: line ")
    return data, recovery


@pytest.fixture(params=["halving", "slow", "tiny blocks"])
def mode(request, monkeypatch):
    """Fast path halved down to single lines; line-by-line path alone; 64-byte blocks."""
    if request.param == "halving":
        monkeypatch.setattr(imu_csv, "_SLOW_LINES", 1)
    elif request.param == "slow":
        monkeypatch.setattr(imu_csv._Reader, "_parse_fast", lambda self, *a: None)
    else:
        monkeypatch.setattr(imu_csv, "_CHUNK_BYTES", 64)
    return request.param


# -------------------------------------------------------------------------------------------------
# IMU files
# -------------------------------------------------------------------------------------------------


def test_bad_rows_in_the_middle(tmp_path, mode):
    rows = _rows(8)
    bad = {3: "0.01,right,1,2,3,abc,5,6", 6: "0.03,left,1,2,nan,4,5,6", 9: "0.04,Right,1,2,3,4,5,6",
           11: "0.05,right,1,2,3,4,5,6,7", 14: "0.07,left,1e39,2,3,4,5,6", 15: "x,y"}
    for index, text in bad.items():
        rows[index] = text
    path = _write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    data, recovery = _check(path, [i + 2 for i in bad])
    assert recovery.rows_total == 16 and recovery.rows_kept == 10
    assert "column 'gx': 'abc' is not a number" in str(recovery.problems[0])
    assert ["'nan'" in str(p) for p in recovery.problems] == [False, True, False, False, False, False]
    assert recovery.message() == (
        f"{recovery.problems[0]}; 6 bad lines skipped, recovered 10 of 16 rows (62.50 %)"
    )
    assert data["left"][0].tolist() == [0.0, 0.01, 0.02, 0.04, 0.05, 0.06]
    assert data["right"][0].tolist() == [0.0, 0.02, 0.03, 0.06]


def test_truncated_last_line(tmp_path, mode):
    path = _write(tmp_path, HEADER + "\n" + "\n".join(_rows(3)) + "\n0.03,left,1,2")
    _, recovery = _check(path, [8])
    assert "(the last line looks truncated)" in str(recovery.problems[0])
    assert recovery.message().endswith("1 bad line skipped, recovered 6 of 7 rows (85.71 %)")


def test_blank_lines_then_data(tmp_path, mode):
    rows = _rows(3)
    text = HEADER + "\n" + "\n".join(rows[:2]) + "\n\n  \r\n,,,,,,,\n" + "\n".join(rows[2:]) + "\n\n\n"
    _, recovery = _check(_write(tmp_path, text), [4, 5, 6])
    assert all("empty line" in str(p) for p in recovery.problems)
    assert recovery.rows_total == 9  # the blank lines at the end do not count


def test_bad_utf8(tmp_path, mode):
    rows = [r.encode() for r in _rows(3)]
    rows[1] = b"0.00,ri\xffght,1,2,3,4,5,6"
    rows[4] = b"0.02,left,1,\xe9,3,4,5,6"
    path = _write(tmp_path, HEADER.encode() + b"\n" + b"\n".join(rows) + b"\n")
    _, recovery = _check(path, [3, 6])
    assert "is not a side" in str(recovery.problems[0])
    assert "is not a number" in str(recovery.problems[1])


def test_time_backwards_and_repeated(tmp_path, mode):
    rows = _rows(4)
    rows.insert(3, _row(0.0, "left"))   # line 5: backwards (0.01 right came before)
    rows.insert(5, _row(0.01, "left"))  # line 7: repeated within 'left'
    path = _write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    _, recovery = _check(path, [5, 7])
    assert "time goes backwards" in str(recovery.problems[0])
    assert "on line 4" in str(recovery.problems[0])
    assert "duplicate time" in str(recovery.problems[1])


def test_time_backwards_keeps_the_earlier_rows(tmp_path, mode):
    # A row far ahead in time is kept; every later row then goes backwards and is skipped.
    rows = _rows(3)
    rows.insert(2, _row(9.0, "left"))
    path = _write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    data, recovery = _check(path, [5, 6, 7, 8])
    assert data["left"][0].tolist() == [0.0, 9.0]
    assert data["right"][0].tolist() == [0.0]


def test_bad_lines_across_many_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(imu_csv, "_CHUNK_BYTES", 4096)
    rows = [f"{i * 0.001:.3f},{side},1,2,3,4,5,6" for i in range(1500) for side in ("left", "right")]
    bad = [17, 18, 1000, 1999, 2999]
    for i in bad:
        rows[i] = "x,y"
    path = _write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    _, recovery = _check(path, [i + 2 for i in bad])
    assert recovery.message().endswith("5 bad lines skipped, recovered 2 995 of 3 000 rows (99.83 %)")


def test_clean_file_is_complete(tmp_path, mode):
    path = _write(tmp_path, HEADER + "\n" + "\n".join(_rows(3)) + "\n")
    data, recovery = _check(path, [])
    assert recovery.message() == f"{path}: all 6 rows read"


def test_problems_are_capped_but_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(imu_csv, "MAX_PROBLEMS", 3)
    rows = _rows(5)
    for i in range(1, 10, 2):
        rows[i] = "x,y"
    _, recovery = read_imu_csv_recovering(_write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert _lines(recovery) == [3, 5, 7]
    assert recovery.n_problems == 5 and recovery.rows_total == 10
    assert "5 bad lines skipped" in recovery.message()


@pytest.mark.parametrize("text, line, needle", [
    ("", None, "file is empty"),
    (HEADER + "\n\n\n", None, "no data rows"),
    ("\n".join(_rows(2)) + "\n", 1, "no header line"),
    ("t_s,side,ax\n0,left,1\n", 1, "missing column(s)"),
    (f"{HEADER}\nx,y\n0,up,1,2,3,4,5,6\n", 2, "no usable data rows: all 2 lines are bad"),
])
def test_file_level_problems_still_raise(tmp_path, text, line, needle):
    with pytest.raises(InputError) as info:
        read_imu_csv_recovering(_write(tmp_path, text))
    assert info.value.where == (None if line is None else f"line {line}")
    assert needle in str(info.value)


def test_missing_file_still_raises(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_imu_csv_recovering(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="directory"):
        read_imu_csv_recovering(tmp_path)


def test_message_numbers():
    recovery = Recovery("walk.csv", rows_kept=12345)
    for _ in range(3):
        recovery._record(17, "column 'gx': 'abc' is not a number")
    assert recovery.message() == ("walk.csv: line 17: column 'gx': 'abc' is not a number; "
                                  "3 bad lines skipped, recovered 12 345 of 12 348 rows (99.98 %)")
    nearly_all, nearly_none = Recovery("a.csv", rows_kept=999_999), Recovery("b.csv", rows_kept=1)
    nearly_all._record(2, "bad")
    nearly_none._record(2, "bad")
    nearly_none.n_problems = 999_999
    assert nearly_all.message().endswith("(99.99 %)")
    assert nearly_none.message().endswith("recovered 1 of 1 000 000 rows (0.01 %)")


# Lines that are bad wherever they stand in a file.
_JUNK = ["x,y", "0.5,left,1,2,3", "0.5,left,1,2,3,4,5,6,7", "nan,left,1,2,3,4,5,6", "0.5,middle,1,2,3,4,5,6",
         "0.5,left,1,2,3,inf,5,6", '"unterminated,left', "\ufffd,\ufffd"]


@st.composite
def _corrupted_file(draw):
    """Lines of a valid IMU file, and a set of its data lines (1-based) replaced with junk."""
    samples = {}
    for side in draw(st.sampled_from([("left",), ("right",), ("left", "right")])):
        n = draw(st.integers(1, 15))
        t = np.cumsum(draw(st.lists(st.floats(1e-3, 1.0), min_size=n, max_size=n)))
        x = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=6 * n, max_size=6 * n))).reshape(n, 6)
        samples[side] = (t, x)
    bad = draw(st.sets(st.integers(2, 1 + sum(t.size for t, _ in samples.values()))))
    replacements = {}
    for line in bad:
        kind = draw(st.sampled_from(["junk", "truncated"]))
        replacements[line] = draw(st.sampled_from(_JUNK)) if kind == "junk" else draw(st.integers(1, 40))
    return samples, replacements


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_corrupted_file(), mode=st.sampled_from(["halving", "slow", "tiny blocks"]))
def test_recovering_equals_strict_without_the_bad_lines(tmp_path, case, mode):
    samples, replacements = case
    path = tmp_path / "prop.csv"
    write_imu_csv(path, samples)
    lines = path.read_text().split("\n")
    for line, junk in replacements.items():
        if isinstance(junk, int):  # cut short before its last field: too few fields
            junk = lines[line - 1][: min(junk, lines[line - 1].rindex(","))]
        lines[line - 1] = junk
    path.write_text("\n".join(lines))
    with pytest.MonkeyPatch.context() as mp:
        if mode == "halving":
            mp.setattr(imu_csv, "_SLOW_LINES", 1)
        elif mode == "slow":
            mp.setattr(imu_csv._Reader, "_parse_fast", lambda self, *a: None)
        else:
            mp.setattr(imu_csv, "_CHUNK_BYTES", 64)
        n_rows = len(lines) - 2  # the header, and the empty string after the final line end
        if len(replacements) == n_rows:
            with pytest.raises(InputError, match="no usable data rows"):
                read_imu_csv_recovering(path)
            return
        _, recovery = _check(path, sorted(replacements))
    assert recovery.rows_total == n_rows
    for line, problem in zip(_lines(recovery), recovery.problems):
        assert ("looks truncated" in str(problem)) <= (line == n_rows + 1)


# -------------------------------------------------------------------------------------------------
# Event lists
# -------------------------------------------------------------------------------------------------

EVENTS = ["1.0,left,IC,0.5", "1.2,right,TO,", "1.4,left,MSW,2", "1.6,right,IC,1", "1.8,left,TO,"]


def test_events_bad_rows(tmp_path):
    rows = [r.encode() for r in EVENTS]
    rows[1:1] = [b"soon,left,IC,", b"1.1,up,IC,", b"1.1,left,HS,", b"1.1,left,IC,big", b"1.1,left,IC"]
    rows.insert(8, b"1.4,left,MSW,3")  # the same event as line 8
    rows.insert(9, b"")
    rows.insert(10, b"1.5,l\xffft,IC,")
    data = b"t_s,side,event,value\n" + b"\n".join(rows) + b"\n\n"
    path = _write(tmp_path, data, "ev.csv")
    events, recovery = _check(path, [3, 4, 5, 6, 7, 10, 11, 12],
                              reader=read_events_csv_recovering, strict=read_events_csv)
    assert [(e.t, e.side, e.kind) for e in events] == [
        (1.0, "left", "IC"), (1.2, "right", "TO"), (1.4, "left", "MSW"), (1.6, "right", "IC"), (1.8, "left", "TO")]
    words = ["'soon' is not a number", "'up' is not a side", "'HS' is not an event", "'big' is not a number",
             "found 3", "duplicate event", "empty line", "not valid UTF-8"]
    assert [w in str(p) for w, p in zip(words, recovery.problems)] == [True] * 8
    assert recovery.message().endswith("8 bad lines skipped, recovered 5 of 13 rows (38.46 %)")


def test_events_file_level_problems_still_raise(tmp_path):
    for text, needle in [("", "file is empty"), ("t_s,side\n1,left\n", "missing column"),
                         (b"t_s,si\xffde,event\n1,left,IC\n", "line 1: not valid UTF-8")]:
        with pytest.raises(InputError, match=needle):
            read_events_csv_recovering(_write(tmp_path, text, "ev.csv"))


def test_events_clean_and_all_bad(tmp_path):
    events, recovery = read_events_csv_recovering(_write(tmp_path, "t_s,side,event\n1,left,IC\n", "ev.csv"))
    assert len(events) == 1 and recovery.complete
    events, recovery = read_events_csv_recovering(_write(tmp_path, "t_s,side,event\nx,left,IC\n", "ev.csv"))
    assert events == [] and recovery.rows_total == 1
    assert recovery.message().endswith("recovered 0 of 1 rows (0.00 %)")
