"""A session report for the coach: one self-contained HTML file to open from a USB stick.

:func:`write_report` writes, top to bottom: who and what was recorded and the strength-balance
flags (banners with their sentence and the trends they rest on); the sagittal shank angular
velocity of each rep with its gait events, one panel per rep behind a selector; the per-step
metrics of the session; left against right and the swing-versus-push view per rep; the rep table
and notes on the sensors and gaps in the data.

The file references nothing outside itself: inline CSS, charts drawn as inline SVG from numpy by
the small helpers of :mod:`~gaitmon.report.svg` (:class:`~gaitmon.report.svg.Frame`, ``axes``,
``trace_path``, :func:`decimate_minmax`), no script at all (the rep selector is CSS radio buttons).
Every text from outside (athlete name, sensor labels) goes through :func:`html.escape`. Legs are
told apart by colour *and* marker shape (Okabe & Ito's colour-blind-safe blue and vermillion), and
everything prints.

Modules, each importing only those above it in this list:

- :mod:`~gaitmon.report.style`: colours, chart width (SVG user units), page CSS, :func:`~gaitmon.report.style.fmt`;
- :mod:`~gaitmon.report.svg`: chart primitives, pure functions of numbers;
- :mod:`~gaitmon.report.flags`, :mod:`~gaitmon.report.traces`, :mod:`~gaitmon.report.steps`,
  :mod:`~gaitmon.report.legs`, :mod:`~gaitmon.report.tables`: sections 1–5 of the page;
- :mod:`~gaitmon.report.page`: header, sections in order, footer; :func:`render_report`, :func:`write_report`.
- :mod:`~gaitmon.report.history_page`: the athlete history page of ``gaitmon history --html`` (an
  athlete's sessions over weeks) from the same parts.
"""

from __future__ import annotations

from gaitmon.report.page import render_report as render_report
from gaitmon.report.page import write_report as write_report
from gaitmon.report.svg import decimate_minmax as decimate_minmax
from gaitmon.report.svg import nice_ticks as nice_ticks

__all__ = ["decimate_minmax", "nice_ticks", "render_report", "write_report"]
