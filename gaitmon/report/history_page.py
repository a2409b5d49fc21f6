"""The athlete history page (``gaitmon history ATHLETE --html``): an athlete's weeks on one self-contained page.

Top to bottom: who, which dates and how many sessions; the session-scale strength-balance flags as
banners with the numbers they rest on (:func:`~gaitmon.report.flags.flag_html`, as in the session
report); each leg's swing-side and push-side outputs per session in % change from the first session
with reps, with the leg's trend over the last :data:`~gaitmon.analysis.balance.SESSION_WINDOW`
sessions as the flag estimates it (:func:`~gaitmon.analysis.balance.session_trend`) and ⚑ where a
flag was raised; the same outputs in their units (rad/s, × body weight), left against right; the
table of sessions (the numbers ``gaitmon history`` prints, from the same
:func:`~gaitmon.session.history.athlete_weeks`), flagged sessions shaded; the athlete's calibrations.

The look is the session report's (:mod:`~gaitmon.report.style`, :mod:`~gaitmon.report.svg`): inline
CSS and SVG, no script, nothing fetched; it reads on a phone (charts keep their width and scroll
sideways) and prints. On the charts, x is the session's number among those with reps (the flag's
unit), labelled with its date.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from html import escape
from pathlib import Path

import numpy as np

from gaitmon.analysis.balance import PUSH, SESSION_WINDOW, SWING, session_trend, trend_line
from gaitmon.analysis.calibration import Calibration
from gaitmon.report.flags import flag_html
from gaitmon.report.page import header_html
from gaitmon.report.style import CSS, INK, LEG_COLOUR, LEG_MARKER, LEGS, MUTED, PUSH_COLOUR, SWING_COLOUR, WIDTH
from gaitmon.report.svg import Frame, axes, legend, line, marker_path, nice_ticks, padded_range, path_data, svg, text
from gaitmon.session.history import AthleteWeeks, History, SessionOutputs, calibrations_lines, load_athlete_weeks

#: What the page adds to the report's stylesheet: numbers kept on one line, flagged sessions shaded.
HISTORY_CSS = ("table.sessions td{white-space:nowrap}tr.flagged td{background:#fff6d8}"
               "table.sessions .flags{text-align:left;white-space:normal;min-width:16em}")

#: The outputs, as the page names and draws them: (field, name, colour, marker, unit, format, what it is).
OUTPUTS = ((SWING, "swing", SWING_COLOUR, "circle", "rad/s", "{:.2f}", "peak swing ω"),
           (PUSH, "push", PUSH_COLOUR, "square", "× BW", "{:.2f}", "force estimate"))


#: Least span of the % charts' y axis (% change): a flat history is not magnified into its noise.
MIN_PERCENT_SPAN = 5.0


def charted(weeks: AthleteWeeks) -> list[SessionOutputs]:
    """The sessions the charts show: those with reps, oldest first (the i-th is at x = i + 1)."""
    return [session for session in weeks.sessions if session.reps]


def date_ticks(sessions: list[SessionOutputs]) -> tuple[np.ndarray, list[str]]:
    """Session numbers to label on x (whole, round, at most 7) and their dates."""
    ticks = 1 + nice_ticks(0, max(len(sessions) - 1, 1), 6, least_step=1)  # the first session labelled
    ticks = ticks[(ticks >= 1) & (ticks <= len(sessions))]
    return ticks, [sessions[int(t) - 1].label for t in ticks]


def percent_series(sessions: list[SessionOutputs], leg: str, key: str) -> np.ndarray:
    """The leg's output per charted session in % change from the baseline (the first of them: 0 %)."""
    y = np.array([session.change_pct[leg][key] for session in sessions], dtype=float)
    if len(y):
        y[0] = 0.0 if math.isfinite(sessions[0].medians[leg][key]) else math.nan
    return y


def flag_marks(frame: Frame, sessions: list[SessionOutputs], leg: str) -> str:
    """A dotted line and ⚑ at each session after which an alarm of ``leg`` (or both legs) was raised."""
    out = []
    for i, session in enumerate(sessions, 1):
        if any(flag.alarm and flag.side in (leg, "both") for flag in session.flags):
            x = float(frame.x(i))
            out.append(line(x, frame.top, x, frame.bottom, INK, 1, "1 3"))
            out.append(text(x, frame.top + 12, "⚑", 13, "middle"))
    return "".join(out)


def series(frame: Frame, x: np.ndarray, y: np.ndarray, colour: str, shape: str, leg: str, output: str,
           opacity: float = 0.6) -> str:
    """One output of one leg per session: a line through the finite points and a marker on each.

    The group names its leg and output (``data-leg``, ``data-output``; each panel is a group named by
    ``data-panel``), so a reader of the page can find them.
    """
    keep = np.isfinite(y)
    radius = float(np.clip(0.3 * frame.width / max(len(x), 1), 1.5, 4.5))  # a season's points must not merge
    path = (f'<path d="{path_data(frame.x(x[keep]), frame.y(y[keep]))}" fill="none" stroke="{colour}" '
            f'stroke-width="1.5" stroke-opacity="{opacity:g}"/>' if keep.sum() > 1 else "")
    return (f'<g data-leg="{leg}" data-output="{output}">{path}'
            f'{marker_path(shape, frame.x(x), frame.y(y), colour, radius)}</g>')


def trend_text(weeks: AthleteWeeks, leg: str) -> str:
    """The leg's latest session-scale trends in words, e.g. ``swing +0.4 %/session, 97 % CI …``."""
    reps = [session.reps for session in weeks.sessions]
    return "; ".join(f"{name} {session_trend(reps, leg, key).describe('session')}" for key, name, *_ in OUTPUTS)


def balance_svg(weeks: AthleteWeeks) -> str:
    """Per leg (one panel each, stacked): swing and push per session in % change from the baseline
    session, each with its trend over the last sessions as the session-scale flag estimates it."""
    sessions = charted(weeks)
    n = len(sessions)
    x = np.arange(1, n + 1, dtype=float)
    reps = [session.reps for session in weeks.sessions]
    first = max(1, n - SESSION_WINDOW + 1)
    values = {(leg, key): percent_series(sessions, leg, key) for leg in LEGS for key, *_ in OUTPUTS}
    fits = {}
    for (leg, key), y in values.items():
        fit = trend_line(session_trend(reps, leg, key), x, y, float(first), float(n), "meta_regression")
        fits[leg, key] = None if fit is None else (np.array([fit.x0, fit.x1]), np.array([fit.y0, fit.y1]))
    everything = np.concatenate([*values.values(), [0.0], *(fit[1] for fit in fits.values() if fit is not None)])
    lo, hi = padded_range(everything, 0.12)
    middle, half = (lo + hi) / 2, max(hi - lo, MIN_PERCENT_SPAN) / 2
    y_range = (middle - half, middle + half)
    y_ticks = nice_ticks(*y_range, 4)
    x_ticks, x_labels = date_ticks(sessions)
    height, gap, top = 170.0, 78.0, 58.0
    frames = [Frame(64, top + i * (height + gap), WIDTH - 84, height, (0.5, n + 0.5), y_range)
              for i in range(len(LEGS))]
    trend = [(line(-8, 0, 8, 0, INK, 2, "5 3"), f"trend, {sessions[first - 1].label} to {sessions[-1].label}")]
    out = [legend([(f'{line(-8, 0, 8, 0, colour, 2)}{marker_path(shape, 0, 0, colour, 4.5)}', f"{name} ({what})")
                   for _, name, colour, shape, _, _, what in OUTPUTS] + (trend if any(fits.values()) else []), 64, 14)]
    for frame, leg in zip(frames, LEGS):
        out.append(f'<g data-panel="{leg}">')
        out.append(axes(frame, x_ticks, y_ticks, y_title=f"{leg.capitalize()} leg: % change from {weeks.baseline}",
                        x_labels=x_labels))
        out.append(line(frame.left, float(frame.y(0)), frame.right, float(frame.y(0)), MUTED, 1, "2 2"))
        out.append(flag_marks(frame, sessions, leg))
        for key, name, colour, shape, *_ in OUTPUTS:
            fit = fits[leg, key]
            if fit is not None:
                out.append(f'<path d="{path_data(frame.x(fit[0]), frame.y(fit[1]))}" fill="none" stroke="{colour}" '
                           f'stroke-width="2.5" stroke-dasharray="6 3"/>')
            out.append(series(frame, x, values[leg, key], colour, shape, leg, name))
        out.append("</g>")
    out.append(text(frames[-1].left + frames[-1].width / 2, frames[-1].bottom + 36, "session (date, UTC)", 13,
                    "middle"))
    return svg(WIDTH, frames[-1].bottom + 48, "".join(out),
               "Swing against push per session, in % change from the first session with reps")


def outputs_svg(weeks: AthleteWeeks) -> str:
    """Per output (one panel each, stacked): each leg's median at top speed per session, in its unit."""
    sessions = charted(weeks)
    n = len(sessions)
    x = np.arange(1, n + 1, dtype=float)
    x_ticks, x_labels = date_ticks(sessions)
    height, gap, top = 150.0, 78.0, 58.0
    titles = {SWING: "Swing peak at top speed (rad/s)", PUSH: "Push force at top speed (× body weight)"}
    out = [legend([(marker_path(LEG_MARKER[leg], 0, 0, LEG_COLOUR[leg], 5), f"{leg} leg") for leg in LEGS], 64, 14)]
    bottom = top
    for i, (key, name, *_) in enumerate(OUTPUTS):
        values = {leg: np.array([s.medians[leg][key] for s in sessions]) for leg in LEGS}
        y_range = padded_range(np.concatenate(list(values.values())), 0.15)
        frame = Frame(64, top + i * (height + gap), WIDTH - 84, height, (0.5, n + 0.5), y_range)
        out.append(f'<g data-panel="{name}">')
        out.append(axes(frame, x_ticks, nice_ticks(*y_range, 4), y_title=titles[key], x_labels=x_labels))
        for leg in LEGS:
            out.append(series(frame, x, values[leg], LEG_COLOUR[leg], LEG_MARKER[leg], leg, name, 0.8))
        out.append("</g>")
        bottom = frame.bottom
    out.append(text(64 + (WIDTH - 84) / 2, bottom + 36, "session (date, UTC)", 13, "middle"))
    return svg(WIDTH, bottom + 48, "".join(out), "Left and right leg outputs at top speed per session")


def facts(weeks: AthleteWeeks | None, athlete: str) -> list[tuple[str, str]]:
    """(label, value) pairs of the header: athlete, dates, sessions, baseline, flags."""
    if weeks is None:
        return [("Athlete", athlete), ("Sessions", "none yet")]
    first, last = weeks.sessions[0].record.started_at[:10], weeks.sessions[-1].record.started_at[:10]
    n_weeks = (_dt.date.fromisoformat(last) - _dt.date.fromisoformat(first)).days // 7 + 1
    n = len(weeks.sessions)
    alarms = sum(flag.alarm for flag in weeks.flags)
    notes = len(weeks.flags) - alarms
    if weeks.with_reps < weeks.min_sessions:
        raised = f"none yet (needs {weeks.min_sessions} sessions with reps)"
    else:
        raised = f"{alarms} flag{'s' * (alarms != 1)}, {notes} note{'s' * (notes != 1)}"
    dates = first if first == last else f"{first} to {last}, {n_weeks} weeks"
    return [("Athlete", weeks.athlete), ("Dates (UTC)", dates),
            ("Sessions", f"{n} ({weeks.with_reps} with reps)"),
            ("Baseline", weeks.baseline or "none (no session with reps)"), ("Session-scale flags", raised)]


def flags_section(weeks: AthleteWeeks) -> str:
    intro = ("<p class=\"lead\">Across sessions the flag asks: has the <b>swing side</b> (peak swing speed of the "
             "shank) stopped rising while the <b>push side</b> (force estimate from contact and flight times) keeps "
             "rising — or the reverse? Each leg's outputs at top speed are compared with its own first session; "
             "each flag is an observation from this athlete's own numbers, not a diagnosis.</p>")
    head = f'<section id="flags"><h2>Strength balance across sessions</h2>{intro}'
    if weeks.with_reps < weeks.min_sessions:
        n = weeks.with_reps
        why = (f"No session-scale flag yet: it needs at least {weeks.min_sessions} sessions with reps "
               f"(there {'is' if n == 1 else 'are'} {n}).")
        return f'{head}<div class="flag none"><p class="sentence">{escape(why)}</p></div></section>'
    if not weeks.flags:
        return (f'{head}<div class="flag none"><p class="sentence">No session-scale flag was raised over '
                f"{weeks.with_reps} sessions with reps.</p></div></section>")
    ordered = sorted(weeks.flags, key=lambda flag: not flag.alarm)  # alarms first, each group in the order raised
    return head + "".join(flag_html(flag) for flag in ordered) + "</section>"


def trends_section(weeks: AthleteWeeks) -> str:
    head = '<section id="trends"><h2>Swing vs push, session by session</h2>'
    sessions = charted(weeks)
    if not sessions:
        return head + "<p>No session with reps yet, so nothing to compare.</p></section>"
    window = min(SESSION_WINDOW, len(sessions))
    trends = "".join(f"<li><b>{leg.capitalize()} leg</b>, last {window} session{'s' * (window != 1)}: "
                     f"{escape(trend_text(weeks, leg))}</li>" for leg in LEGS)
    return (head + "<p class=\"lead\">Each point: the leg's median over the top-speed steps of all the session's "
            f"reps, in % change from the same leg's median in {escape(weeks.baseline or '')} (the first session "
            f"with reps). Dashed: each leg's trend over the last {SESSION_WINDOW} sessions as the session-scale "
            "flag estimates it (a random-effects regression over the sessions' top-speed steps), drawn through "
            "the mean of the points. ⚑: a flag was raised after that session.</p>"
            f"<figure>{balance_svg(weeks)}</figure><ul>{trends}</ul>"
            "<p class=\"lead\">The same medians in their units, left against right.</p>"
            f"<figure>{outputs_svg(weeks)}</figure></section>")


def session_flags(session: SessionOutputs) -> str:
    """The flags raised after the session in a few words: each kind once, with the legs it was raised for."""
    kinds: dict[tuple[bool, str], list[str]] = {}
    for flag in session.flags:
        kinds.setdefault((flag.alarm, flag.headline), []).append("both legs" if flag.side == "both" else flag.side)
    return "; ".join(f"{'⚑ ' if alarm else 'note: '}{headline} ({', '.join(sides)})"
                     for (alarm, headline), sides in kinds.items())


def _cell(value: float, change: float, template: str) -> str:
    """A table cell: the value, and its % change from the baseline when known (as ``gaitmon history``)."""
    if not math.isfinite(value):
        return "<td>–</td>"
    shown = template.format(value)
    if math.isfinite(change):
        shown += f' <span class="unit">({change:+.1f} %)</span>'
    return f"<td>{shown.replace('-', '−')}</td>"


def sessions_table(weeks: AthleteWeeks) -> str:
    heads = ["<th>Date<br><span class=\"unit\">UTC</span></th>", "<th>Reps</th>"]
    heads += [f"<th>{leg.capitalize()} {name}<br><span class=\"unit\">{escape(unit)}</span></th>"
              for leg in LEGS for _, name, _, _, unit, _, _ in OUTPUTS]
    heads.append('<th class="flags">Flags raised after it</th>')
    rows = []
    for session in weeks.sessions:
        flagged = any(flag.alarm for flag in session.flags)
        cells = [f'<td class="text">{escape(session.label)}</td>', f"<td>{len(session.reps)}</td>"]
        cells += [_cell(session.medians[leg][key], session.change_pct[leg][key], template)
                  for leg in LEGS for key, _, _, _, _, template, _ in OUTPUTS]
        cells.append(f'<td class="flags">{escape(session_flags(session))}</td>')
        css = ' class="flagged"' if flagged else ""
        rows.append(f'<tr{css} data-session="{escape(session.record.session_id)}">{"".join(cells)}</tr>')
    baseline = f"; % change from {escape(weeks.baseline)}" if weeks.baseline else ""
    return ('<section id="sessions"><h2>Sessions</h2><p class="lead">Per leg, the median over the top-speed '
            f"steps of all reps{baseline} (the first session with reps). Shaded: a strength-balance flag was "
            "raised after that session.</p>"
            f'<div class="scroll"><table class="sessions"><thead><tr>{"".join(heads)}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div></section>")


def calibrations_html(calibrations: list[Calibration]) -> str:
    if not calibrations:
        return ""
    lines = calibrations_lines(calibrations)
    items = "".join(f"<li>{escape(line_.strip())}</li>" for line_ in lines[1:])
    return f'<section id="calibrations"><h3>Calibrations</h3><p>{escape(lines[0])}</p><ul>{items}</ul></section>'


def render_history_page(weeks: AthleteWeeks | None, calibrations: list[Calibration], athlete: str,
                        source: str = "") -> str:
    """The page as one HTML string (see :func:`write_history_page`); ``weeks`` None: no sessions yet."""
    name = weeks.athlete if weeks is not None else (calibrations[0].athlete if calibrations else athlete)
    title = f"gaitmon athlete history — {name}"
    if weeks is None:
        body = ('<section id="flags"><div class="flag none"><p class="sentence">No sessions of this athlete in '
                "the history yet: import some with <code>gaitmon import</code>.</p></div></section>")
    else:
        body = flags_section(weeks) + trends_section(weeks) + sessions_table(weeks)
    header = header_html(facts(weeks, name), f"Athlete history: {name}")
    return "".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{CSS}{HISTORY_CSS}</style></head><body>",
        header, body, calibrations_html(calibrations),
        f"<footer>gaitmon athlete history · {escape(source)}. Swing side: peak forward angular velocity of the "
        "shank in mid-swing. Push side: spring-mass estimate of peak vertical force from contact and flight times "
        "(Morin et al. 2005), not a force plate.</footer></body></html>",
    ])


def default_page_name(athlete: str) -> str:
    """The page's file name when none is given: the athlete's name made safe, ``-history.html``."""
    safe = re.sub(r"[^\w.-]+", "-", athlete.strip(), flags=re.UNICODE).strip("-.") or "athlete"
    return f"{safe}-history.html"


def write_history_page(path: Path, history: History, athlete: str) -> Path:
    """Write the athlete's history page as one self-contained HTML file.

    Parameters
    ----------
    path : Path
        The file to write (overwritten; its folder is created).
    history : History
        Read through its public methods only.
    athlete : str
        Matched case-insensitively.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    gaitmon.errors.InputError
        The athlete has neither sessions nor calibrations in the history.
    """
    weeks = load_athlete_weeks(history, athlete)
    page = render_history_page(weeks, history.calibrations(athlete), athlete, str(history.path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
