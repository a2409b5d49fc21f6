"""The report's look: colours, chart width, the page's CSS, and how a value is written.

Legs are told apart by colour *and* marker shape (Okabe & Ito's colour-blind-safe blue and
vermillion) and everything prints. Constants and one pure function (:func:`fmt`); nothing here
imports the rest of the package.
"""

from __future__ import annotations

import math


LEGS = ("left", "right")
LEG_COLOUR = {"left": "#0072B2", "right": "#D55E00"}
LEG_MARKER = {"left": "circle", "right": "square"}
SWING_COLOUR = "#009E73"
PUSH_COLOUR = "#A23B8A"
INK = "#111111"
MUTED = "#555555"
GRID = "#d4d4d4"
CONTACT_FILL = "#e2e2e2"
TOP_SPEED_FILL = "#ececec"
GAP_FILL = "#F0E442"
FONT = "Segoe UI, Helvetica, Arial, sans-serif"

#: Width of every chart (SVG user units; shown at up to this many CSS pixels).
WIDTH = 960
#: On a phone a chart keeps this width (CSS px) and scrolls sideways: its 12-unit text stays at
#: 12 × 880 / 960 = 11 px instead of the 4 px it would shrink to at 375 px.
NARROW_CHART_PX = 880
#: Below this viewport width (CSS px) the page takes its phone layout.
NARROW_PX = 720

#: The page's stylesheet (the rep selector adds one rule per rep: :func:`~gaitmon.report.traces.rep_picker_css`).
CSS = """
*{box-sizing:border-box}
body{font:16px/1.45 Segoe UI,Helvetica,Arial,sans-serif;color:#111;background:#fff;margin:0 auto;
 max-width:1000px;padding:16px 20px 48px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
h1{font-size:26px;margin:0 0 8px}h2{font-size:21px;margin:32px 0 6px;border-bottom:2px solid #111}
h3{font-size:18px;margin:24px 0 6px}p{margin:6px 0}.lead{color:#333}.why{font-weight:600}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px;margin:0}
.facts div{border:1px solid #bbb;border-radius:6px;padding:6px 10px}
.facts dt{font-size:13px;color:#444}.facts dd{margin:0;font-weight:600}
.facts div.wide{grid-column:1/-1}
.flag{display:flex;flex-wrap:wrap;gap:12px;align-items:center;border:2px solid #111;border-left-width:10px;
 border-radius:6px;padding:10px 14px;margin:10px 0;break-inside:avoid}
.flag>div{flex:1 1 380px}.flag svg{flex:0 1 400px}
.flag.alarm{background:#fff6d8}.flag.note,.flag.none{border-color:#888;background:#f5f5f5}
.flag .kind{font-weight:700;text-transform:uppercase;font-size:13px;letter-spacing:.05em}
.flag .sentence{font-size:18px;font-weight:600}.flag .basis{font-size:14px;color:#333}
svg{display:block;width:100%;height:auto;max-width:100%}
figure{margin:8px 0;break-inside:avoid}figcaption{font-weight:600;margin:4px 0}
.picker{position:absolute;opacity:0;pointer-events:none}
.tabs{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}
.tabs label{border:1px solid #111;border-radius:4px;padding:4px 10px;cursor:pointer;background:#fff}
.picker:focus-visible~.tabs{outline:2px dashed #0072B2}
.rep-panel{display:none}
table{border-collapse:collapse;font-size:14px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #bbb;padding:3px 7px;text-align:right}th{background:#eee;vertical-align:bottom}
td.text{text-align:left}.unit{font-weight:400;color:#444;font-size:12px}
table.reps tbody{border-top:2px solid #111}tbody.flagged td{background:#fff6d8}.scroll{overflow-x:auto}
footer{margin-top:32px;font-size:13px;color:#444}
.print-only,.narrow-only{display:none}
""" + f"""
@media screen and (max-width:{NARROW_PX}px){{
 body{{padding:10px 10px 40px}}h1{{font-size:22px}}h2{{font-size:19px}}
 figure{{overflow-x:auto}}figure svg{{width:{NARROW_CHART_PX}px;max-width:none}}
 .flag{{padding:8px 10px}}.flag>div{{flex-basis:100%}}.flag svg{{min-width:340px}}.flag .sentence{{font-size:17px}}
 .narrow-only{{display:block;font-size:13px;color:#444}}
}}
""" + """
@page{margin:12mm}
@media print{
 body{max-width:none;padding:0;font-size:11pt}
 section{break-before:page}section#flags{break-before:auto}h2,h3,figcaption{break-after:avoid}
 h2{margin:0 0 6px}section#flags h2{margin-top:16px}h3{margin:12px 0 4px}footer{margin-top:12px}
 .flag{margin:6px 0;padding:6px 12px}.flag .sentence{font-size:13pt}.flag .basis{font-size:10pt}
 .screen-only,.tabs{display:none}.print-only{display:block}
 .rep-panel{display:block!important}figure{overflow:visible}figure svg{width:100%;max-width:100%}
 .scroll{overflow:visible}table{font-size:8pt}th,td{padding:1px 4px}thead{display:table-header-group}
 tr{break-inside:avoid}
}
"""


def fmt(value, template: str = "{:.1f}", scale: float = 1.0) -> str:
    """``value × scale`` formatted, or an en dash when it is missing or not a finite number."""
    if isinstance(value, str):
        return template.format(value)
    if value is None or not math.isfinite(value):
        return "–"
    return template.format(value * scale).replace("-", "−")
