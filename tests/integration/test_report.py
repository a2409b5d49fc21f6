"""The HTML session report: self-contained, well-formed, escaped, and robust to thin sessions."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import escape, unescape
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.engine.analyze import analyze_samples
from gaitmon.report import decimate_minmax, nice_ticks, render_report, svg, write_report
from gaitmon.report import traces as traces_module
from gaitmon.report.style import LEG_COLOUR, NARROW_PX
from gaitmon.session.meta import SensorInfo, SessionMeta
from gaitmon.stream.timing import GapMark
from tests.conftest import simulated

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HOSTILE = "<script>alert(1)</script>"


class TagBalance(HTMLParser):
    """Fails on an end tag that does not close the innermost open element."""

    def __init__(self):
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):  # <line/> in SVG: opens and closes
        pass

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()


def check_well_formed(page: str) -> list[str]:
    """Asserts balanced tags and XML-parsable SVG; returns the SVG sources."""
    parser = TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.open == []
    charts = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    for chart in charts:
        ET.fromstring(chart)
    return charts


def slice_samples(samples, start, end):
    return {side: (t[(t > start) & (t < end)], x[(t > start) & (t < end)]) for side, (t, x) in samples.items()}


@pytest.fixture(scope="module")
def session():
    sim = simulated("swing_plateau", seed=3, rate=500.0, n_reps=8)  # a session whose plateau is flagged
    return sim.samples, analyze_samples(sim.samples)


@pytest.fixture(scope="module")
def report(session, tmp_path_factory):
    samples, result = session
    meta = SessionMeta(athlete=HOSTILE, sensors={side: SensorInfo(side, label="Polar <Verity>", rate_hz=416)
                                                for side in ("left", "right")})
    gaps = [GapMark("left", 80.0, 80.4, 200, 10, "disconnected", False)]
    path = write_report(tmp_path_factory.mktemp("report") / "report.html", result, samples, meta, gaps)
    return path, path.read_text(encoding="utf-8"), result


def test_report_is_one_well_formed_self_contained_file(report):
    path, page, _ = report
    assert path.is_file() and page.startswith("<!DOCTYPE html>")
    charts = check_well_formed(page)
    assert len(charts) >= 4
    assert not re.search(r"https?://", page)
    assert not re.search(r"<(script|link|img|iframe)\b", page, flags=re.I)
    assert not re.search(r"\b(src|href)=", page)


def test_one_panel_per_rep_and_the_flagged_rep_is_shown_first(report):
    _, page, result = report
    reps = result.balance.reps
    assert len(reps) == 8
    assert page.count('class="rep-panel"') == len(reps)
    for rep in reps:
        assert f'id="panel-{rep.number}"' in page and f'id="rep-{rep.number}"' in page
    checked = re.findall(r'<input type="radio" name="rep" id="rep-(\d+)" class="picker" checked>', page)
    first_alarm = min(flag.rep for flag in result.balance.alarms)
    assert checked == [str(first_alarm)]


def test_flags_are_banners_with_their_sentence(report):
    _, page, result = report
    assert result.balance.alarms, "the swing_plateau scenario raises a flag"
    for flag in result.balance.flags:
        assert escape(flag.message) in page
    assert page.count('class="flag alarm"') == len(result.balance.alarms)
    assert "not a diagnosis" in page
    assert "swing speed has stopped rising" in page


def media_block(css: str, query: str) -> str:
    """The rules inside ``@media <query>{…}`` of ``css`` (braces matched)."""
    start = css.index("@media " + query + "{") + len("@media " + query + "{")
    depth, end = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(css[end], 0)
        end += 1
    return css[start:end - 1]


def rule(block: str, selector: str) -> str:
    """The declarations of ``selector`` (exactly that selector list) in ``block``."""
    found = re.search(r"(?:^|[}\s])" + re.escape(selector) + r"\{([^}]*)\}", block)
    assert found, f"no rule for {selector}"
    return found.group(1)


def test_printed_it_shows_every_rep_one_section_a_page_and_no_selector(report):
    """Print: each section from a new page (the header stays with the flags), every rep's panel shown
    (on screen only the picked one is), its trace for both legs inside; the rep selector and the
    sentence about picking are hidden, a sentence saying all reps follow shown instead."""
    _, page, result = report
    css = page[page.index("<style>") + 7:page.index("</style>")]
    printed = media_block(css, "print")
    assert "break-before:page" in rule(printed, "section") and "break-before:auto" in rule(printed, "section#flags")
    assert "display:block!important" in rule(printed, ".rep-panel")  # over the picker's #rep-N:checked rules
    assert "display:none" in rule(printed, ".screen-only,.tabs") and "display:block" in rule(printed, ".print-only")
    assert "@page{margin:" in css
    for rep in result.balance.reps:
        panel = re.search(rf'<figure class="rep-panel" id="panel-{rep.number}">(.*?)</figure>', page, flags=re.S)
        assert panel and all(f'stroke="{LEG_COLOUR[side]}"' in panel.group(1) for side in ("left", "right"))
    assert re.search(r'<p class="screen-only">Pick a rep', page)
    assert f'<p class="print-only">All {len(result.balance.reps)} reps' in page


def test_at_phone_width_the_chart_text_stays_readable_and_tables_scroll(report):
    """375 px wide: the viewport is the device's, every chart keeps a width at which its smallest
    text is at least 10 CSS px (and scrolls sideways), and every table scrolls sideways in its box."""
    _, page, _ = report
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in page
    css = page[page.index("<style>") + 7:page.index("</style>")]
    narrow = media_block(css, f"screen and (max-width:{NARROW_PX}px)")
    assert 375 < NARROW_PX
    chart_px = float(re.search(r"width:(\d+)px", rule(narrow, "figure svg")).group(1))
    assert "overflow-x:auto" in rule(narrow, "figure") and "max-width:none" in rule(narrow, "figure svg")
    figures = re.findall(r"<figure\b.*?</figure>", page, flags=re.S)
    assert len(figures) >= 10
    for figure in figures:
        width = float(re.search(r'<svg viewBox="0 0 ([\d.]+) ', figure).group(1))
        smallest = min(float(size) for size in re.findall(r'font-size="([\d.]+)"', figure))
        assert smallest * chart_px / width >= 10.0, (smallest, width)
    tables = page.count("<table")
    assert tables >= 2 and page.count('<div class="scroll"><table') == tables
    assert "overflow-x:auto" in rule(css, ".scroll")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(not (CHROMIUM and shutil.which("pdftotext")), reason="needs Chromium and pdftotext (poppler)")
def test_printed_by_a_browser_every_rep_is_in_the_pdf(report, tmp_path):
    """Chromium prints the report to PDF: every rep's panel caption is in it (on screen only one
    rep is shown), each section starts a page of its own, and the rep selector is not printed."""
    path, _, result = report
    pdf = tmp_path / "report.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", path.as_uri()], capture_output=True, timeout=120, check=True)
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    text = "\f".join(pages)
    for rep in result.balance.reps:
        assert f"Rep {rep.number}: {rep.start_s:.1f}" in text, rep.number
    headings = ["Strength balance", "Gyro traces and gait events", "Step by step", "Left vs right",
                "Reps, sensors and gaps"]
    starts = [next(i for i, p in enumerate(pages) if heading in p) for heading in headings]
    assert starts == sorted(starts) and len(set(starts[1:])) == len(starts) - 1
    assert "Pick a rep" not in text


#: Run in the report at phone width: page width, viewport width, and the smallest chart text in CSS px
#: (its font size times the chart's on-screen scale; charts shown: one rep panel of the selector), written
#: onto the parent page's body.
PHONE_PROBE = """<script>
const charts = [...document.querySelectorAll("figure svg")].filter(chart => chart.getBoundingClientRect().width);
const sizes = charts.flatMap(chart => {
  const scale = chart.getBoundingClientRect().width / chart.viewBox.baseVal.width;
  return [...chart.querySelectorAll("text")].map(t => parseFloat(t.getAttribute("font-size")) * scale);
});
parent.document.body.dataset.probe = JSON.stringify({page: document.documentElement.scrollWidth,
  viewport: window.innerWidth, smallest: Math.min(...sizes), charts: charts.length});
</script>"""


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium")
def test_at_phone_width_in_a_browser_nothing_overflows_and_chart_text_is_readable(report, tmp_path):
    """Chromium lays the report out 375 px wide (in an iframe: a headless window is at least 500 px):
    the page does not scroll sideways, and no chart text is smaller than 10 px."""
    _, page, _ = report
    (tmp_path / "report.html").write_text(page.replace("</body>", PHONE_PROBE + "</body>"), encoding="utf-8")
    (tmp_path / "phone.html").write_text('<body><iframe src="report.html" width="375" height="800"></iframe></body>')
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--virtual-time-budget=5000", "--dump-dom", (tmp_path / "phone.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    probe = json.loads(unescape(re.search(r'data-probe="([^"]*)"', dom).group(1)))
    assert probe["viewport"] == 375 and probe["page"] <= 375, probe
    assert probe["charts"] >= 4 and probe["smallest"] >= 10.0, probe


def test_text_from_outside_is_escaped(report):
    _, page, _ = report
    assert HOSTILE not in page and "<Verity>" not in page
    assert escape(HOSTILE) in page and escape("Polar <Verity>") in page


def test_sections_and_rep_table(report):
    _, page, result = report
    for section in ("flags", "traces", "steps", "legs", "tables"):
        assert f'<section id="{section}">' in page
    rep_table = page[page.index('<table class="reps">'):]
    assert rep_table[:rep_table.index("</table>")].count("<tbody") == len(result.balance.reps)
    assert "disconnected" in page  # the marked gap is listed


def test_size_of_a_five_minute_two_sensor_1khz_session(tmp_path):
    sim = simulated("swing_plateau", seed=2, rate=1000.0, n_reps=9, recovery_s=20.0)
    assert sim.duration_s >= 290
    path = write_report(tmp_path / "report.html", analyze_samples(sim.samples), sim.samples)
    assert path.stat().st_size < 2_000_000


def test_no_reps_shows_the_first_seconds_and_says_why(tmp_path):
    samples = slice_samples(simulated("balanced", seed=0, rate=200.0, n_reps=1, recovery_s=20.0).samples, 15, 40)
    result = analyze_samples(samples)
    assert result.steps and not result.balance.reps
    page = write_report(tmp_path / "walk.html", result, samples).read_text()
    check_well_formed(page)
    assert 'class="rep-panel"' not in page
    assert "too short to count as a sprint rep" in page
    assert "No strength-balance flag" in page


def test_no_movement_at_all(tmp_path):
    samples = slice_samples(simulated("balanced", seed=0, rate=200.0, n_reps=1, recovery_s=20.0).samples, 0, 2)
    result = analyze_samples(samples)
    assert not result.events
    page = write_report(tmp_path / "still.html", result, samples).read_text()
    check_well_formed(page)
    assert "No steps were detected" in page


def test_one_leg(tmp_path):
    sim = simulated("balanced", seed=0, rate=200.0, n_reps=3)
    samples = {"left": sim.samples["left"]}
    result = analyze_samples(samples)
    page = write_report(tmp_path / "one.html", result, samples).read_text()
    check_well_formed(page)
    assert page.count('class="rep-panel"') == len(result.balance.reps) > 0
    assert "Right shank" not in page and "Only the left leg" in page


def test_missing_values_and_events(tmp_path, session):
    samples, result = session
    steps = [dataclasses.replace(step, flight_s=math.nan, push_force_bw=math.nan) if i % 3 else step
             for i, step in enumerate(result.steps)]
    result = dataclasses.replace(result, events=[], steps=steps)
    page = write_report(tmp_path / "nan.html", result, samples).read_text()
    check_well_formed(page)
    assert not re.search(r"\bnan\b", page, flags=re.I)
    assert "–" in page  # missing values are shown as a dash


def test_decimation_keeps_every_extreme_in_time_order():
    t = np.arange(10_000) / 1000.0
    y = np.sin(2 * np.pi * 3 * t) + (t == 4.321) * 5.0
    td, yd = decimate_minmax(t, y, 0.0, 10.0, 500)
    assert len(td) <= 1000 and np.all(np.diff(td) > 0)
    assert yd.max() == y.max() and yd.min() == y.min()
    assert 4.321 in td


def test_ticks_are_round_and_inside():
    ticks = nice_ticks(-9.7, 23.4, 5)
    assert ticks[0] >= -9.7 and ticks[-1] <= 23.4 and len(ticks) >= 3
    assert np.allclose(np.diff(ticks), ticks[1] - ticks[0]) and (ticks[1] - ticks[0]) in (5, 10)


# -- the vectorised SVG text: identical to formatting point by point -----------------------------

_coordinate = (st.floats(-2e3, 2e3) | st.integers(-20_000, 20_000).map(lambda i: i * 0.05)
               | st.sampled_from([0.0, -0.0, 0.05, -0.05, 0.25, 0.35, 2.675, 9_899_999.95]))
_odd = st.sampled_from([math.nan, math.inf, -math.inf, 1e7, -3.4e38])


def _point_by_point_path(x, y, breaks):
    """The path data as it was written before it was vectorised: an f-string per point."""
    parts = np.split(np.column_stack([x, y]), breaks)
    return "".join("M" + "L".join(f"{a:.1f} {b:.1f}" for a, b in part.tolist()) for part in parts if len(part))


#: format_rows through the numpy blocks even for a few rows, and through Python for all.
ROWS_MODES = pytest.mark.parametrize("few_rows", [0, 10**9], ids=["vectorised", "python"])


@ROWS_MODES
@settings(max_examples=60, deadline=None)
@given(points=st.lists(st.tuples(_coordinate, _coordinate), max_size=80), data=st.data())
def test_path_data_matches_point_by_point_formatting(few_rows, points, data):
    x, y = (np.array([p[i] for p in points], dtype=float) for i in (0, 1))
    breaks = sorted(data.draw(st.lists(st.integers(0, len(points)), max_size=5)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(svg, "FEW_ROWS", few_rows)
        assert svg.path_data(x, y, breaks) == _point_by_point_path(x, y, breaks)


@ROWS_MODES
@settings(max_examples=60, deadline=None)
@given(points=st.lists(st.tuples(_coordinate | _odd, _coordinate | _odd), max_size=60),
       shape=st.sampled_from(sorted(svg.MARKER_SHAPES)), r=st.sampled_from([3.2, 4.5, 5, 5.5]))
def test_markers_match_point_by_point_formatting(few_rows, points, shape, r):
    x, y = (np.array([p[i] for p in points], dtype=float) for i in (0, 1))
    expected = "".join(svg.MARKER_SHAPES[shape].format(x=a, y=b, l=a - r, rr=a + r, t=b - r, b=b + r, r=r, d=2 * r)
                       for a, b in zip(x.tolist(), y.tolist()) if math.isfinite(a) and math.isfinite(b))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(svg, "FEW_ROWS", few_rows)
        assert svg.markers(shape, x, y, r) == expected


@ROWS_MODES
def test_markers_of_scalars_and_huge_values(few_rows, monkeypatch):
    monkeypatch.setattr(svg, "FEW_ROWS", few_rows)
    assert svg.markers("circle", 0, 0, 5) == "M-5.0 0.0a5 5 0 1 0 10 0a5 5 0 1 0 -10 0z"
    x = np.array([1e12, 3.0] * 40)
    assert svg.path_data(x, x) == _point_by_point_path(x, x, ())  # beyond the fixed layout: Python formats


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(-3, 3), min_size=1, max_size=400), columns=st.integers(1, 40))
def test_decimation_picks_each_columns_first_minimum_and_last_maximum(values, columns):
    y = np.array(values, dtype=float)  # few distinct values: many ties
    t = np.arange(len(y)) / 100.0
    td, yd = decimate_minmax(t, y, 0.0, t[-1] + 0.01, columns)
    if len(t) <= 2 * columns:
        assert np.array_equal(td, t)
        return
    column = np.minimum((t / (t[-1] + 0.01) * columns).astype(np.int64), columns - 1)
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    by_value = np.lexsort((y, column))  # the reference: sorted by column, then value, stable
    index = np.unique(np.concatenate([by_value[starts], by_value[np.r_[starts[1:], len(t)] - 1]]))
    assert np.array_equal(td, t[index]) and np.array_equal(yd, y[index])


def test_a_panel_reads_only_its_window(session):
    """Each rep panel takes its samples by binary search: a trace whose values outside every
    panel's window are poisoned gives the same page (a mask over the whole trace would too, but
    this pins the contract that traces are time-sorted and windows are found on time)."""
    samples, result = session
    page = render_report(result, samples)
    windows = [(rep.start_s - traces_module.REP_PAD_S[0], rep.end_s + traces_module.REP_PAD_S[1])
               for rep in result.balance.reps]
    poisoned = {}
    for side, (t, omega) in result.traces.items():
        inside = np.zeros(len(t), dtype=bool)
        for lo, hi in windows:
            inside[svg.time_window(t, lo, hi)] = True
        poisoned[side] = (t, np.where(inside, omega, 1e9))
    assert render_report(dataclasses.replace(result, traces=poisoned), samples) == page
