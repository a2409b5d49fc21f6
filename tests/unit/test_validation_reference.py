"""Reading reference exports (gaitmon.validation.reference), the agreement statistics and the alignment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gaitmon.analysis.steps import Step
from gaitmon.errors import InputError
from gaitmon.validation.alignment import AlignmentError, align
from gaitmon.validation.comparison import agreement_row, icc_2_1
from gaitmon.validation.reference import force_contacts, read_reference

SS = "urn:schemas-microsoft-com:office:spreadsheet"


def test_icc_2_1_reproduces_shrout_and_fleiss_worked_example():
    # Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; ICC(2,1) = 0.29.
    ratings = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    assert icc_2_1(ratings) == pytest.approx(0.29, abs=0.005)
    assert math.isnan(icc_2_1(ratings[:1]))


def test_agreement_row_matches_a_direct_computation():
    rng = np.random.default_rng(3)
    ref = rng.uniform(90, 130, 40)
    gm = ref + 6 + rng.normal(0, 4, 40)
    row = agreement_row(gm, ref, icc=True)
    d = gm - ref
    assert row["bias"] == pytest.approx(d.mean())
    assert row["sd"] == pytest.approx(d.std(ddof=1))
    assert row["loa_high"] - row["loa_low"] == pytest.approx(2 * 1.96 * d.std(ddof=1))
    assert row["mae"] == pytest.approx(np.abs(d).mean())
    half = 2.0227 * d.std(ddof=1) / math.sqrt(40)  # t(0.975, 39)
    assert row["bias_ci_high"] - row["bias"] == pytest.approx(half, rel=1e-3)
    assert 0 < row["icc_2_1"] < 1


def test_event_table_is_read_into_steps(tmp_path):
    path = tmp_path / "plates.csv"
    path.write_text("t_s,side,event\n0.10,left,TO\n0.50,right,IC\n0.70,right,TO\n0.90,left,IC\n1.10,left,TO\n"
                    "1.30,right,IC\n")
    ref = read_reference(path)
    assert ref.kind == "event table"
    assert [s.side for s in ref.steps] == ["right", "left", "right"]
    first = ref.steps[0]
    assert first.contact_s == pytest.approx(0.2) and first.flight_s == pytest.approx(0.2)
    assert [e.t for e in ref.toe_offs()] == [0.1, 0.7, 1.1]
    assert ref.lines[0] == "line 3"


def test_force_contacts_are_interpolated_between_samples():
    fs = 1000.0
    t = np.arange(0, 2, 1 / fs)
    contacts = [(0.2003, 0.3107), (0.6251, 0.7349), (1.0502, 1.1604)]
    fz = np.zeros_like(t)
    for ic, to in contacts:  # half-sine contact of 1500 N, exactly 0 outside
        inside = (t > ic) & (t < to)
        fz[inside] = 1500 * np.sin(np.pi * (t[inside] - ic) / (to - ic))
    threshold = 20.0
    found = force_contacts(t, fz, threshold)
    assert len(found) == 3
    for (ic, to), (f_ic, f_to) in zip(contacts, found):
        # where the half sine reaches the threshold, continuous time
        lag = (to - ic) / np.pi * np.arcsin(threshold / 1500)
        assert f_ic == pytest.approx(ic + lag, abs=2e-4)  # sub-sample: well under the 1 ms sample
        assert f_to == pytest.approx(to - lag, abs=2e-4)


def test_vertical_force_csv_per_side(tmp_path):
    fs = 500.0
    t = np.arange(0, 1.5, 1 / fs)
    left = np.where((t > 0.2) & (t < 0.32), 900.0, 3.0)
    right = np.where((t > 0.6) & (t < 0.72), 900.0, -2.0)
    path = tmp_path / "force.csv"
    path.write_text("time_s,Fz_left,Fz_right\n" + "".join(f"{a:.4f},{b:.1f},{c:.1f}\n" for a, b, c in zip(t, left, right)))
    ref = read_reference(path)
    assert ref.kind == "vertical force"
    assert [s.side for s in ref.steps] == ["left", "right"]
    assert ref.steps[0].contact_s == pytest.approx(0.12, abs=2.1e-3)
    assert ref.steps[0].flight_s == pytest.approx(0.28, abs=4.1e-3)


def _spreadsheet(rows: list[list[tuple[int, str, str]]]) -> str:
    """SpreadsheetML with sparse cells: each cell (column 1-based, type, text); gaps use ss:Index."""
    out = ['<?xml version="1.0" encoding="utf-8"?><?mso-application progid="Excel.Sheet"?>',
           f'<Workbook xmlns="{SS}" xmlns:ss="{SS}"><Worksheet ss:Name="Données OJ"><Table>']
    for row in rows:
        out.append("<Row>")
        last = 0
        for col, kind, value in row:
            index = f' ss:Index="{col}"' if col != last + 1 else ""
            out.append(f'<Cell{index}><Data ss:Type="{kind}">{value}</Data></Cell>')
            last = col
        out.append("</Row>")
    out.append("</Table></Worksheet></Workbook>")
    return "".join(out)


HEADER_FR = [(1, "String", "Nom"), (21, "String", "Test"), (24, "String", "#"), (25, "String", "G/D"),
             (29, "String", "Temps de vol"), (30, "String", "Temps de contact"), (31, "String", "Temps de pas"),
             (39, "String", "intermédiaire"), (49, "String", "Temps de Contact")]


def test_optojump_xml_export_with_sparse_cells(tmp_path):
    rows = [HEADER_FR,
            [(1, "String", "Bolt"), (24, "String", "Iniciar en el exterior"), (25, "String", "START")]]
    t = 0.0
    for k in range(6):
        contact, flight = 0.100 + 0.002 * k, 0.120
        t += contact + flight
        rows.append([(1, "String", "Bolt"), (21, "String", "Sprint"), (24, "Number", str(k + 1)),
                     (25, "String", "GD"[k % 2]), (29, "Number", f"{flight:.3f}"), (30, "Number", f"{contact:.3f}"),
                     (31, "Number", f"{contact + flight:.3f}"), (39, "Number", f"{t:.3f}"), (49, "Number", "0.5")])
    rows.append([(24, "String", "Expiration"), (26, "Number", "15")])
    path = tmp_path / "oj.xml"
    path.write_text(_spreadsheet(rows), encoding="utf-8")
    ref = read_reference(path)
    assert ref.kind == "OptoJump Next"
    assert len(ref.steps) == 6
    assert [s.side for s in ref.steps[:2]] == ["left", "right"]
    assert ref.steps[1].contact_s == pytest.approx(0.102)  # "Temps de contact", not the stance column
    assert ref.steps[1].flight_s == pytest.approx(0.120)
    assert ref.timed and ref.steps[1].ic_s - ref.steps[0].ic_s == pytest.approx(0.222)
    assert any("not steps" in n for n in ref.notes)
    assert ref.lines[0] == "sheet 1, row 3"


@pytest.mark.parametrize("names, feet", [
    (("#", "L/R", "TVuelo", "TContacto", "TPaso", "Split"), "LR"),  # Spanish OptoGait/OptoJump
    (("#", "L/R", "Flight time", "Contact time", "Step time", "Split"), "LR"),  # English
])
def test_optojump_xml_in_other_languages(tmp_path, names, feet):
    header = [(24 + k, "String", name) for k, name in enumerate(names)]
    rows = [header]
    for k in range(4):
        rows.append([(24, "Number", str(k + 1)), (25, "String", feet[k % 2]), (26, "Number", "0.110"),
                     (27, "Number", "0.105"), (28, "Number", "0.215"), (29, "Number", f"{0.215 * (k + 1):.3f}")])
    path = tmp_path / "oj.xml"
    path.write_text(_spreadsheet(rows), encoding="utf-8")
    ref = read_reference(path)
    assert ref.kind == "OptoJump Next" and len(ref.steps) == 4
    assert ref.steps[0].contact_s == pytest.approx(0.105) and ref.steps[0].flight_s == pytest.approx(0.110)
    assert [s.side for s in ref.steps] == ["left", "right", "left", "right"]


def test_optojump_xml_bad_cell_names_the_row(tmp_path):
    rows = [HEADER_FR, [(24, "Number", "1"), (25, "String", "G"), (29, "Number", "0.12"), (30, "Number", "abc"),
                        (39, "Number", "0.2")]]
    path = tmp_path / "oj.xml"
    path.write_text(_spreadsheet(rows), encoding="utf-8")
    with pytest.raises(InputError, match=r"oj.xml: sheet 1, row 2: column 'Temps de contact': 'abc' is not a number"):
        read_reference(path)


def test_step_table_with_decimal_comma_and_no_time(tmp_path):
    path = tmp_path / "steps.csv"
    path.write_text("Athlete: X\n\nstep;foot;contact [ms];flight [ms]\n1;L;112,5;118,0\n2;R;110,0;121,5\n"
                    "3;L;108,0;\nAverage;;110,2;119,8\n")
    ref = read_reference(path)
    assert ref.kind == "step table"
    assert len(ref.steps) == 3 and not ref.timed
    assert ref.steps[0].contact_s == pytest.approx(0.1125)
    assert ref.steps[1].ic_s == pytest.approx(0.2305)
    assert math.isnan(ref.steps[2].flight_s)
    assert any("decimal comma" in n for n in ref.notes)


@pytest.mark.parametrize("content, message", [
    ("a,b,c\n1,2,3\n", r"bad.csv: line 1: not a reference layout gaitmon reads"),
    ("t_s,side,event\n0.1,left,TO\n0.5,right,I", r"bad.csv: line 3: .*'I' is not an event|line 3: expected 3 fields"),
    ("contact_ms,flight_ms,side\n110,120,left\n112,11", r"bad.csv: line 3: expected 3 fields as in the header, found 2 "
                                                        r"\(the file looks truncated\)"),
    ("contact_ms,flight_ms\n", r"bad.csv: line 1: header only"),
    ("", r"bad.csv: file is empty"),
    ("contact_ms,flight_ms,side\n110,120,middle\n", r"bad.csv: line 2: column 'side': 'middle' is not a foot"),
    ("contact_ms,flight_ms\n-5,120\n", r"bad.csv: line 2: contact time -5 ms is not a contact"),
    (f'<?xml version="1.0"?><Workbook xmlns="{SS}"><Worksheet><Table><Row>', r"bad.csv: line 1, column \d+: not "
                                                                             r"well-formed XML"),
])
def test_bad_references_give_one_line_naming_the_place(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_reference(path)


def _steps(times, contacts, sides) -> list[Step]:
    return [Step(side=s, ic_s=t, to_s=t + c, contact_s=c) for t, c, s in zip(times, contacts, sides)]


def test_alignment_recovers_an_offset_and_refuses_a_periodic_sequence():
    rng = np.random.default_rng(1)
    # An acceleration: steps shorten from 0.40 s to 0.22 s, then 20 steady steps.
    step = np.concatenate([np.linspace(0.40, 0.22, 16), np.full(20, 0.22)]) + rng.normal(0, 0.004, 36)
    ic = 100 + np.cumsum(step)
    contact = np.concatenate([np.linspace(0.20, 0.10, 16), np.full(20, 0.10)])
    sides = ["left", "right"] * 18
    gaitmon = _steps(ic + rng.normal(0, 0.002, 36), contact + 0.008, sides)
    reference = _steps(ic[4:30] - 100 - 3.5, contact[4:30], sides[4:30])
    found = align(reference, gaitmon, 0.05)
    assert found.offset_s == pytest.approx(103.5, abs=0.003)
    assert found.n_matched == 26 and found.p_value < 0.01
    # A perfectly periodic run: every stride fits alike.
    periodic = _steps(np.arange(40) * 0.22, np.full(40, 0.1), sides + sides[:4])
    with pytest.raises(AlignmentError, match="ambiguous"):
        align(_steps(np.arange(10, 30) * 0.22 + 7.0, np.full(20, 0.1), sides[:20]), periodic, 0.05)
    with pytest.raises(AlignmentError, match="do not show the same steps"):
        align(_steps(np.cumsum(rng.uniform(0.3, 0.9, 20)), np.full(20, 0.1), sides[:20]), gaitmon, 0.05)


def test_vertical_force_per_plate_gives_contacts_of_unknown_foot(tmp_path):
    t = np.arange(0, 1.2, 0.001)
    plate1 = np.where((t > 0.1) & (t < 0.2), 800.0, 0.0)
    plate2 = np.where((t > 0.45) & (t < 0.55), 800.0, 0.0)
    path = tmp_path / "plates.csv"
    path.write_text("time [ms];Fz1 [N];Fz2 [N]\n" + "".join(
        f"{a * 1e3:.0f};{b:.1f};{c:.1f}\n".replace(".", ",") for a, b, c in zip(t, plate1, plate2)))
    ref = read_reference(path)
    assert [s.side for s in ref.steps] == ["", ""]
    assert ref.steps[0].ic_s == pytest.approx(0.1, abs=1e-3)
    assert ref.steps[0].flight_s == pytest.approx(0.25, abs=2e-3)
    assert any("do not name a side" in n for n in ref.notes)
