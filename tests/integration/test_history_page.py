"""The athlete history page (``gaitmon history ATHLETE --html``): every session, the numbers of the
text output, flagged sessions marked, chart points where the numbers say, nothing fetched.

The history is built as in tests/integration/test_history.py: simulated sessions run through the
detector, one a week, with the swing side made to stop improving after week 3 while the push side
keeps improving (so the session-scale flag is raised after week 6, 2024-02-12).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser

import numpy as np
import pytest

from gaitmon.analysis import session_scale_flags
from gaitmon.analysis.balance import PUSH, SWING, session_trend
from gaitmon.analysis.calibration import Calibration, CalibrationEntry
from gaitmon.cli import main
from gaitmon.report.history_page import write_history_page
from gaitmon.session.history import History, history_text, load_athlete_weeks
from tests.integration.test_history import MONDAY, _meta, _steps
from tests.integration.test_report import CHROMIUM, PHONE_PROBE, check_well_formed

ATHLETE = "Ana Silva"
#: Sessions after which the session-scale flag is raised in this history (from test_history's scenario).
FLAGGED = {"2024-02-12"}


def _import_weeks(history: History, weeks: int, athlete: str = ATHLETE) -> None:
    for week in range(weeks):
        steps = _steps(week % 2, swing_gain=1 + 0.03 * min(week, 2), push_gain=1 + 0.03 * week)
        history.add_session(_meta(athlete, week=week), steps)


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """Eight weekly sessions of one athlete, one short session without reps, and another athlete."""
    folder = tmp_path_factory.mktemp("season")
    db = folder / "history.sqlite"
    with History(db) as history:
        _import_weeks(history, 8)
        history.add_session(_meta(week=8), _steps(0)[:6])  # a few steps: no rep
        _import_weeks(history, 2, "Bo Lee")
        text = history_text(history, ATHLETE)
        weeks = load_athlete_weeks(history, ATHLETE)
        path = write_history_page(folder / "page.html", history, "ana silva")
    return db, path.read_text(encoding="utf-8"), text, weeks


class Rows(HTMLParser):
    """The rows of the sessions table: (tr attributes, the text of each cell)."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[dict, list[str]]] = []
        self.inside = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "sessions") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append((dict(attrs), []))
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1][1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(page: str) -> list[tuple[dict, list[str]]]:
    parser = Rows()
    parser.feed(page)
    return parser.rows[1:]  # without the header


def text_rows(text: str) -> list[list[str]]:
    """The session rows of ``gaitmon history``'s table: date, reps, four cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("date (UTC)")) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def _plain(cell: str) -> str:
    return cell.replace("−", "-").replace("–", "—")


def chart(page: str, label: str) -> ET.Element:
    source = next(c for c in re.findall(r"<svg\b.*?</svg>", page, flags=re.S) if f'aria-label="{label}' in c)
    return ET.fromstring(source)


def points(group: ET.Element) -> np.ndarray:
    """The (x, y) points of a series: its line's path (M, L commands)."""
    path = group.find("path")
    return np.array([[float(a), float(b)] for a, b in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path.get("d"))])


def y_scale(panel: ET.Element) -> tuple[float, float]:
    """(value per unit of y, value at y = 0) from the panel's y tick labels (drawn 4.5 below their grid line)."""
    ticks = [(float(t.text.replace("−", "-")), float(t.get("y")) - 4.5) for t in panel.iter("text")
             if t.get("text-anchor") == "end" and re.fullmatch(r"−?[\d.]+", t.text or "")]
    assert len(ticks) >= 2
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    per_unit = (v1 - v0) / (y1 - y0)
    return per_unit, v0 - per_unit * y0


def test_page_is_self_contained_with_every_session(season):
    _, page, _, weeks = season
    assert page.startswith("<!DOCTYPE html>")
    check_well_formed(page)
    assert not re.search(r"https?://|//[a-z]", page)
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page, flags=re.I)
    assert not re.search(r"\b(src|href)=|url\(|@import", page)
    assert "<h1>Athlete history: Ana Silva</h1>" in page
    assert "2024-01-08 to 2024-03-04, 9 weeks" in page and "9 (8 with reps)" in page
    rows = table_rows(page)
    assert [r[1][0] for r in rows] == [(MONDAY + dt.timedelta(weeks=w)).date().isoformat() for w in range(9)]
    assert [r[0]["data-session"] for r in rows] == [s.record.session_id for s in weeks.sessions]
    assert len(rows) == 9 and "Bo Lee" not in page


def test_the_table_shows_the_numbers_of_the_text_output(season):
    _, page, text, _ = season
    want = text_rows(text)
    got = [cells for _, cells in table_rows(page)]
    assert len(want) == len(got) == 9
    for w, g in zip(want, got):
        assert [_plain(c) for c in g[:6]] == [_plain(c) for c in w]
    assert got[-1][1] == "0" and got[-1][2:6] == ["–"] * 4  # the session without reps


def test_flagged_sessions_are_marked_with_the_evidence(season):
    _, page, text, weeks = season
    flagged = {cells[0] for attrs, cells in table_rows(page) if attrs.get("class") == "flagged"}
    assert flagged == FLAGGED
    assert {line.split("FLAG after ")[1][:10] for line in text.splitlines() if "FLAG after" in line} == FLAGGED
    row = next(cells for _, cells in table_rows(page) if cells[0] in FLAGGED)
    assert row[-1] == "⚑ swing-side output stalled while push-side rose (left, right, both legs)"
    for flag in weeks.flags:  # each banner: the sentence with its slopes and CIs, and what it rests on
        assert flag.message in unescape(page)
        assert f"Rests on {flag.swing.n} sessions ({flag.covers})" in unescape(page)
    assert page.count('class="flag alarm"') == len(weeks.flags) == 3
    balance = chart(page, "Swing against push per session")
    for leg in ("left", "right"):
        panel = balance.find(f"g[@data-panel='{leg}']")
        assert sum(t.text == "⚑" for t in panel.iter("text")) == 1


def test_chart_points_are_at_the_numbers_of_the_text_output(season):
    """The SVG read back through its own tick labels: each leg's swing and push points are the text
    output's % changes (0 at the baseline), and the outputs in their units are its medians."""
    _, page, text, _ = season
    rows = [row for row in text_rows(text) if row[1] != "0"]
    assert len(rows) == 8

    def column(i: int, percent: bool) -> np.ndarray:
        cells = [row[2 + i] for row in rows]
        if percent:
            change = [re.search(r"\(([+-][\d.]+) %\)", c) for c in cells]
            return np.array([float(m.group(1)) if m else 0.0 for m in change])
        return np.array([float(c.split()[0]) for c in cells])

    balance, outputs = chart(page, "Swing against push per session"), chart(page, "Left and right leg outputs")
    for j, leg in enumerate(("left", "right")):
        panel = balance.find(f"g[@data-panel='{leg}']")
        per_unit, offset = y_scale(panel)
        for k, output in enumerate(("swing", "push")):
            xy = points(panel.find(f"g[@data-leg='{leg}'][@data-output='{output}']"))
            assert len(xy) == 8 and np.allclose(np.diff(xy[:, 0]), np.diff(xy[:, 0])[0], atol=0.21)  # evenly spaced
            got = offset + per_unit * xy[:, 1]
            assert np.allclose(got, column(2 * j + k, True), atol=0.05 + 0.1 * abs(per_unit)), (leg, output, got)
    for k, output in enumerate(("swing", "push")):
        panel = outputs.find(f"g[@data-panel='{output}']")
        per_unit, offset = y_scale(panel)
        for j, leg in enumerate(("left", "right")):
            xy = points(panel.find(f"g[@data-leg='{leg}'][@data-output='{output}']"))
            got = offset + per_unit * xy[:, 1]
            assert np.allclose(got, column(2 * j + k, False), atol=0.005 + 0.1 * abs(per_unit)), (leg, output, got)


def test_the_trends_drawn_are_the_session_scale_flags_estimates(season):
    """After the session that raised it, a leg's session trend is the flag's own evidence."""
    _, page, _, weeks = season
    reps = [s.reps for s in weeks.sessions]
    sessions = [(s.label, s.reps) for s in weeks.sessions]
    raised_at = next(i for i, s in enumerate(weeks.sessions) if s.flags) + 1
    for flag in session_scale_flags(sessions[:raised_at]):
        if flag.side == "both":
            continue
        assert session_trend(reps[:raised_at], flag.side, SWING) == flag.swing
        assert session_trend(reps[:raised_at], flag.side, PUSH) == flag.push
    for leg in ("left", "right"):
        latest = session_trend(reps, leg, SWING).describe("session").replace("-", "−")
        assert latest in page or latest.replace("−", "-") in unescape(page)


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium")
def test_at_phone_width_in_a_browser_nothing_overflows_and_chart_text_is_readable(season, tmp_path):
    _, page, _, _ = season
    (tmp_path / "page.html").write_text(page.replace("</body>", PHONE_PROBE + "</body>"), encoding="utf-8")
    (tmp_path / "phone.html").write_text('<body><iframe src="page.html" width="375" height="800"></iframe></body>')
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--virtual-time-budget=5000", "--dump-dom", (tmp_path / "phone.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    probe = json.loads(unescape(re.search(r'data-probe="([^"]*)"', dom).group(1)))
    assert probe["viewport"] == 375 and probe["page"] <= 375, probe
    assert probe["charts"] == 2 and probe["smallest"] >= 10.0, probe


@pytest.mark.skipif(not (CHROMIUM and shutil.which("pdftotext")), reason="needs Chromium and pdftotext (poppler)")
def test_printed_by_a_browser_every_session_and_flag_is_in_the_pdf(season, tmp_path):
    _, page, _, weeks = season
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    pdf = tmp_path / "page.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", (tmp_path / "page.html").as_uri()], capture_output=True, timeout=120,
                   check=True)
    printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                             check=True).stdout
    for session in weeks.sessions:
        assert re.search(rf"^\s*{session.label}\s+{len(session.reps)}\s", printed, flags=re.M), session.label
    words = " ".join(printed.split())
    for flag in weeks.flags:  # each banner's sentence, with its slopes
        who = flag.message.split(",")[0]
        assert f"{who}, sessions" in words and f"({flag.swing.describe('session')})" in words, who


def test_one_session_and_no_sessions_give_a_page_that_says_so(tmp_path):
    db = tmp_path / "history.sqlite"
    hostile = "<script>Cy</script>"
    with History(db) as history:
        _import_weeks(history, 1, hostile)
        one = write_history_page(tmp_path / "one.html", history, hostile).read_text(encoding="utf-8")
        history.add_calibration(Calibration("Dee", "2025-03-01T10:00:00+00:00", "OptoJump run.csv",
                                            (CalibrationEntry("contact", "all", 0.012, 0.004, 40),)))
        none = write_history_page(tmp_path / "none.html", history, "dee").read_text(encoding="utf-8")
    for page in (one, none):
        check_well_formed(page)
        assert "<script" not in page
    assert "Athlete history: &lt;script&gt;Cy&lt;/script&gt;" in one
    assert "it needs at least 4 sessions with reps (there is 1)" in one
    assert len(table_rows(one)) == 1 and "No session with reps" not in one
    assert "No sessions of this athlete in the history yet" in none and "OptoJump run.csv" in none


def test_sessions_without_reps_only(tmp_path):
    with History(tmp_path / "history.sqlite") as history:
        history.add_session(_meta(week=0), _steps(0)[:6])
        page = write_history_page(tmp_path / "page.html", history, ATHLETE).read_text(encoding="utf-8")
    check_well_formed(page)
    assert "No session with reps yet" in page and "<svg" not in page.split('id="trends"')[1].split("</section>")[0]
    assert "none (no session with reps)" in page


def test_command_line_writes_the_page_and_an_unknown_athlete_is_one_line_exit_2(season, tmp_path, monkeypatch,
                                                                                  capsys):
    db = season[0]
    monkeypatch.chdir(tmp_path)
    assert main(["history", "ana silva", "--html", "--db", str(db)]) == 0
    assert (tmp_path / "ana-silva-history.html").is_file()
    assert "ana-silva-history.html" in capsys.readouterr().out
    assert main(["history", ATHLETE, "--html", str(tmp_path / "sub" / "p.html"), "--db", str(db)]) == 0
    assert (tmp_path / "sub" / "p.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    capsys.readouterr()

    assert main(["history", "Nobody", "--html", str(tmp_path / "nobody.html"), "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"gaitmon: error: {db}: no sessions for athlete 'Nobody'; known: Ana Silva, Bo Lee\n"
    assert captured.out == "" and not (tmp_path / "nobody.html").exists()
