"""The formula-injection guard and its exact reversal, alone and through real CSV and XLSX files."""

from __future__ import annotations

import csv
import io

import fastexcel
import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from leadgate.files.guard import FORMULA_TRIGGERS, guard, guard_expr, unguard, unguard_expr
from leadgate.files.writing import CsvWriter, XlsxWriter

# What leadgate stores: any text but lone surrogates and NUL (lib/text.py makes input storable).
stored_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
# Text that starts like a formula, or like a guarded one, is where the guard works: draw it often.
risky_text = st.tuples(
    st.sampled_from(["", "'", "''", "'''"]), st.sampled_from(sorted(FORMULA_TRIGGERS)), stored_text
)
any_text = st.one_of(stored_text, risky_text.map("".join))


@pytest.mark.parametrize("trigger", sorted(FORMULA_TRIGGERS))
def test_a_cell_starting_with_a_trigger_gets_one_quote(trigger):
    text = f"{trigger}cmd|' /C calc'!A0"
    assert guard(text) == "'" + text
    assert unguard(guard(text)) == text


@pytest.mark.parametrize(
    ("text", "guarded"),
    [
        ("+49 30 1234567", "'+49 30 1234567"),
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("-5", "'-5"),
        ("@Acme", "'@Acme"),
        ("'=x", "''=x"),  # already quoted by a person: one more, so the upload gives "'=x" back
        ("''+1", "'''+1"),
        ("'hello", "'hello"),  # a quote before ordinary text is the person's own: left alone
        ("'", "'"),
        ("", ""),
        ("a=b", "a=b"),
        ("Ann", "Ann"),
    ],
)
def test_guard_examples(text, guarded):
    assert guard(text) == guarded
    assert unguard(guarded) == text


def test_unguard_removes_only_the_quote_a_guard_adds():
    assert unguard("'hello") == "'hello"
    assert unguard("'=x") == "=x"
    assert unguard("''=x") == "'=x"
    assert unguard("=x") == "=x"
    assert unguard("") == ""


@given(any_text)
def test_any_text_survives_guard_then_unguard(text):
    guarded = guard(text)
    assert unguard(guarded) == text
    assert guarded[:1] not in FORMULA_TRIGGERS  # what a spreadsheet sees never starts a formula


@given(st.lists(st.one_of(st.none(), any_text), max_size=20))
def test_the_polars_expressions_do_what_the_functions_do(texts):
    column = pl.Series("cell", texts, dtype=pl.String)
    guarded = pl.select(guard_expr(pl.lit(column))).to_series()
    assert guarded.to_list() == [None if t is None else guard(t) for t in texts]
    assert pl.select(unguard_expr(pl.lit(guarded))).to_series().to_list() == texts
    assert pl.select(unguard_expr(pl.lit(column))).to_series().to_list() == [
        None if t is None else unguard(t) for t in texts
    ]


class Sink(io.BytesIO):
    """A stream that cannot seek, like standard output or a web response."""

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        raise OSError("not seekable")


FILE_EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FILE_EXAMPLES
@given(st.lists(any_text, min_size=1, max_size=8), st.sampled_from([",", ";"]))
def test_any_text_survives_a_real_csv(texts, separator):
    out = Sink()
    writer = CsvWriter(out, ["value", "next"], separator=separator)
    writer.write(pl.DataFrame({"value": texts, "next": ["x"] * len(texts)}))
    writer.close()
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    # What a spreadsheet opens: no cell starts a formula.
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=separator))
    assert all(cell[:1] not in FORMULA_TRIGGERS for row in rows for cell in row)
    # What polars (the upload's reader) reads back, unguarded: the text as it was.
    frame = pl.read_csv(data, separator=separator, infer_schema=False, encoding="utf8-lossy")
    back = frame.select(unguard_expr(pl.col("value")).fill_null(""))["value"].to_list()
    assert back == texts


@FILE_EXAMPLES
@given(st.lists(any_text, min_size=1, max_size=8))
def test_any_text_survives_a_real_xlsx_unguarded(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("xlsx") / "values.xlsx"
    with path.open("wb") as out:
        writer = XlsxWriter(out, ["value"])
        writer.write(pl.DataFrame({"value": texts}))
        writer.close()
    # XLSX cells are text cells, never guarded: openpyxl reads each text exactly (it leaves OOXML's
    # _xHHHH_ escapes to the caller, as its own unescape undoes them).
    sheet = openpyxl.load_workbook(path).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2, max_row=len(texts) + 1)]
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
    assert [unescape(cell.value) if cell.value is not None else "" for cell in cells] == texts
    # fastexcel (calamine, the upload's reader) decodes those escapes itself; empty rows at the end are
    # no rows to it.
    frame = fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string").to_polars()
    read = frame["value"].fill_null("").to_list()
    assert read + [""] * (len(texts) - len(read)) == texts
