"""LibreOffice Calc as a user's spreadsheet: open a leadgate download and save it again, as people do.

``resave(src, dst_dir, as_=...)`` runs headless Calc (``soffice --convert-to``) on one file and returns the
file it wrote. A CSV is opened the way a double-click opens it: with the Text Import dialog's defaults
(LibreOffice's ``Office.Calc/Dialogs/CSVImport`` settings) — separators comma, semicolon *and* tab, ``"``
as text delimiter, the character set the BOM names, no column forced to text, "Detect special numbers"
off, formulas not evaluated. Nothing is forced to text on purpose: what Calc does to the values on the way
is exactly the damage leadgate's upload has to cope with. A workbook needs no options.

Calc runs under a fixed locale (en-US unless asked), because its locale decides how numbers and dates are
read and shown, and with a private profile made once per test session, so parallel runs and the user's own
LibreOffice never share settings or a running instance.

The filter option tokens are those of the LibreOffice help page "CSV Filter Options" (token 1: field
separators as ASCII codes joined by ``/``; 2: text delimiter, 34 = ``"``; 3: character set, from the help's
character set table: 1 = Windows-1252/WinLatin 1, 76 = Unicode (UTF-8), 65535 = Unicode UCS2, which Calc
writes as UTF-16 little-endian with a BOM; 4: first row; 5: column formats, empty = Standard; 6: language,
0 = the locale's; 7: quoted field as text / quote all text cells; 8: detect special numbers on import, store
numbers as numbers on export; 9: save cell contents as shown). Calc 7.4 writes UTF-8 without a BOM.

What Calc 7.4 does, recorded on this machine (``tests/files/test_calc_round_trip.py`` pins the main rows
down). The XLSX download's cells are text cells, which Calc never converts: every value comes back as it
was, whichever way it is saved, except characters Windows-1252 cannot hold. The CSV download is another
story; each of its cells as Calc opens it, and as every way of saving it then writes it:

==============================  ==============================  =========  ==========================
cell in the CSV download        en-US: saved (text and XLSX)    XLSX cell  de-DE, where different
==============================  ==============================  =========  ==========================
``'+441632960000`` (guarded)    = (the guard's ``'`` is kept)   text
``07400123456``, ``00123``      ``7400123456``, ``123``         number
``441632960000`` (no ``+``)     =                               number
``01067``, ``02134``            ``1067``, ``2134``              number
``2026-03-14``                  =                               date
``14/03/2026``, ``03/14/2026``  =                               text
``2026-03-14T09:30:00+01:00``   =                               text
``42``, ``3.5``, ``1``          =                               number     ``3.5`` stays text
``1,200``                       ``1200``                        number     ``1,2`` (one point two)
``2500.50``                     ``2500.5``                      number     stays text, =
``1e5``                         ``100000``                      number
``4.41632E+11``                 ``441632000000``                number     stays text, =
``TRUE``, ``yes``               =                               text
``'=HYPERLINK(1)``, ``'@Acme``  = (the guard's ``'`` is kept)   text
``佐藤``, ``🎉``                = (``??`` and ``?`` in 1252)    text
``a; b`` (not quoted)           split: ``a`` and `` b``         text
==============================  ==============================  =========  ==========================

"=" means the value came back as it was. The guard's ``'`` stays part of the text because Calc takes it
as a character of a CSV cell, not as its "this is text" input marker, so a workbook saved from the CSV
download holds it too; it also keeps a phone written with ``+`` a text cell, so only phones without one
become numbers. A semicolon or tab in an unquoted cell of the comma CSV (a comma or tab in the
semicolon CSV) splits the cell, because the import dialog's default separators are all three, which is
why the downloads quote such cells.
"""

from __future__ import annotations

import atexit
import codecs
import csv
import datetime as dt
import io
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

#: Set (to anything) by CI: a machine without Calc fails the Calc tests instead of skipping them.
REQUIRE_CALC = "LEADGATE_REQUIRE_CALC"
DEFAULT_LOCALE = "en-US"
CSV_FILTER = "Text - txt - csv (StarCalc)"
TIMEOUT = 240  # seconds; a fresh profile's first start takes a while on a busy machine

# The Text Import dialog's defaults, as a double-click gets them (Office.Calc/Dialogs/CSVImport):
# Separators ",;<tab>", TextSeparators '"', FromRow 1, Language 0, QuotedFieldAsText false,
# DetectSpecialNumbers false, EvaluateFormulas false. Token 3 is filled in per file (see open_options).
_DOUBLE_CLICK = "44/59/9,34,{charset},1,,0,false,false"
_CHARSET_UTF8 = "76"
_CHARSET_UTF16 = "65535"


@dataclass(frozen=True)
class SaveAs:
    """One way to save: Calc's export filter and options, and what the file it writes holds."""

    name: str
    extension: str
    filter: str
    options: str = ""
    encoding: str = ""  # the Python codec of the text Calc writes; "" for a workbook
    delimiter: str = ""
    bom: bytes = b""

    @property
    def convert_to(self) -> str:
        target = f"{self.extension}:{self.filter}"
        return f"{target}:{self.options}" if self.options else target

    @property
    def is_text(self) -> bool:
        return bool(self.encoding)

    def __str__(self) -> str:
        return self.name


# Export options: separator, ", character set, first row 1, no column formats, language 0,
# quote only where needed (false), numbers as numbers (true), cell contents as shown (true) — the
# Export Text File dialog's defaults apart from the separator and character set.
XLSX = SaveAs("xlsx", "xlsx", "Calc MS Excel 2007 XML")
CSV_WINDOWS_1252 = SaveAs(
    "csv-windows-1252-comma", "csv", CSV_FILTER, "44,34,1,1,,0,false,true,true", "cp1252", ","
)
CSV_UTF8_SEMICOLON = SaveAs(
    "csv-utf8-semicolon", "csv", CSV_FILTER, "59,34,76,1,,0,false,true,true", "utf-8", ";"
)
TXT_UTF16_TAB = SaveAs(
    "txt-utf16-tab", "txt", CSV_FILTER, "9,34,65535,1,,0,false,true,true", "utf-16", "\t", codecs.BOM_UTF16_LE
)
SAVE_AS = (XLSX, CSV_WINDOWS_1252, CSV_UTF8_SEMICOLON, TXT_UTF16_TAB)


class CalcError(RuntimeError):
    """Calc did not write the file it was asked for."""


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def open_options(src: Path) -> str:
    """The import options a double-click uses for this text file: the dialog picks the BOM's charset."""
    head = src.read_bytes()[:3]
    charset = _CHARSET_UTF16 if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else _CHARSET_UTF8
    return _DOUBLE_CLICK.format(charset=charset)


class Calc:
    """Headless LibreOffice Calc with a private profile; one at a time per profile."""

    def __init__(self, soffice: str, profile: Path, locale: str = DEFAULT_LOCALE) -> None:
        self.soffice = soffice
        self.profile = profile
        self.locale = locale

    def with_locale(self, locale: str) -> Calc:
        """The same Calc as a user with another locale (de-DE: decimal comma, day-first dates)."""
        return Calc(self.soffice, self.profile, locale)

    def resave(self, src: Path, dst_dir: Path, as_: SaveAs = XLSX) -> Path:
        """Open ``src`` as a user would and save it into ``dst_dir`` as ``as_``; returns the new file."""
        src, dst_dir = Path(src).resolve(), Path(dst_dir).resolve()
        if dst_dir == src.parent:
            raise ValueError("save into another folder: Calc would overwrite the file it opens")
        dst_dir.mkdir(parents=True, exist_ok=True)
        dst = dst_dir / f"{src.stem}.{as_.extension}"
        dst.unlink(missing_ok=True)
        command = [
            self.soffice,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
        ]
        if src.suffix.lower() in (".csv", ".txt"):
            command.append(f"--infilter={CSV_FILTER}:{open_options(src)}")
        command += ["--convert-to", as_.convert_to, "--outdir", str(dst_dir), str(src)]
        output = self._run(command)
        # soffice exits 0 even when it could not load or save, so the file is the only proof.
        if not dst.is_file() or dst.stat().st_size == 0:
            raise CalcError(f"Calc did not write {dst.name} ({as_}): {output.strip()[-2000:]}")
        return dst

    def _run(self, command: list[str]) -> str:
        unix_locale = self.locale.replace("-", "_") + ".UTF-8"
        env = {**os.environ, "LC_ALL": unix_locale, "LANG": unix_locale, "LANGUAGE": ""}
        # Its own process group, so a timeout kills soffice.bin too, not just the launcher script.
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            text=True,
        )
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise CalcError(f"Calc took longer than {TIMEOUT} s: {' '.join(command)}") from None
        return output


@cache
def _session_calc(soffice: str) -> Calc:
    profile = Path(tempfile.mkdtemp(prefix="leadgate-calc-profile-"))
    atexit.register(shutil.rmtree, profile, ignore_errors=True)
    return Calc(soffice, profile)


def require_calc() -> Calc:
    """This session's Calc; skips the test when Calc is not installed, fails it if CI requires Calc."""
    soffice = find_soffice()
    if soffice is None:
        if os.environ.get(REQUIRE_CALC):
            pytest.fail(
                f"LibreOffice Calc (soffice) is not installed and {REQUIRE_CALC} is set;"
                " run tests/system-packages.sh"
            )
        pytest.skip(
            "LibreOffice Calc (soffice) is not installed: run tests/system-packages.sh to include the"
            " spreadsheet round trip"
        )
    return _session_calc(soffice)


# --- reading what Calc wrote ----------------------------------------------------------------------------


def read_rows(path: Path, as_: SaveAs) -> list[list[str]]:
    """The file's rows as the text a person sees in each cell (empty cells as "")."""
    if not as_.is_text:
        return _workbook_rows(path)
    data = Path(path).read_bytes()
    if not data.startswith(as_.bom):
        raise CalcError(f"{path.name} does not start with the BOM {as_.bom!r}")
    # The BOM is not part of the first header; UTF-16 takes its byte order from it.
    encoding = "utf-8-sig" if as_.encoding == "utf-8" else as_.encoding
    text = data.decode(encoding)
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=as_.delimiter) if row]


def _workbook_rows(path: Path) -> list[list[str]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [[_shown(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _shown(value: object) -> str:
    """A cell value as Calc's default formats show it (whole numbers without ".0", dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return str(value)


def cell_types(path: Path) -> list[list[str]]:
    """The openpyxl data type of every cell of a workbook's first sheet ("s" text, "n" number, "d" date)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    try:
        return [[cell.data_type for cell in row] for row in workbook.worksheets[0].iter_rows()]
    finally:
        workbook.close()
