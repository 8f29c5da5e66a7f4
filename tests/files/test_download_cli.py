"""`leadgate download` through its real entry point, on a fresh data directory."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import SPEC_EXAMPLE

LEADGATE = str(Path(sys.executable).with_name("leadgate"))
DEMO = "demo-summit"


@pytest.fixture(scope="module")
def leadgate(tmp_path_factory):
    """Run `leadgate …` as a user would; the data directory (with the demo source) is shared by the module."""
    home = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "LEADGATE_DATA_DIR": str(home / "data"), "LEADGATE_DATABASE_URL": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args, ok=True, text=True):
        proc = subprocess.run(
            [LEADGATE, *args], capture_output=True, text=text, env=env, timeout=300, cwd=home, check=False
        )
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    run("demo", "--leads", "60")
    (home / "spec.yaml").write_text(SPEC_EXAMPLE, encoding="utf-8")
    run("apply", str(home / "spec.yaml"))  # a second source, without leads
    run.home = home
    return run


def test_download_xlsx_json(leadgate, tmp_path):
    target = tmp_path / "leads.xlsx"
    proc = leadgate("download", DEMO, "--format", "xlsx", "-o", str(target), "--json")
    assert json.loads(proc.stdout) == {"source": DEMO, "file": str(target), "format": "xlsx", "rows": 60}
    sheet = openpyxl.load_workbook(target)["Leads"]
    assert sheet.max_row == 61 and sheet.freeze_panes == "A2"
    assert next(sheet.iter_rows(values_only=True))[:2] == ("LeadID", "Status")
    assert not list(tmp_path.glob(".*.part"))  # the partial file was renamed, not left behind
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # an ordinary file, not mkstemp's private one


def test_filters_and_format_from_the_extension(leadgate, tmp_path):
    target = tmp_path / "rejected.csv"
    proc = leadgate("download", DEMO, "--status", "rejected", "--status", "failed", "-o", str(target))
    assert proc.stdout.startswith("") and "leads written to" in proc.stdout
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0][:11] == [
        "LeadID",
        "Status",
        "Disposition Code",
        "Custom Reason",
        "Source",
        "Received Via",
        "Submitted At",
        "Processed At",
        "Updated At",
        "Delivery Status",
        "Upload",
    ]
    assert rows[1:] and {row[1] for row in rows[1:]} <= {"rejected", "failed"}
    code = rows[1][2]
    proc = leadgate("download", DEMO, "--code", code.lower(), "--format", "csv", "-o", str(target), "--json")
    assert json.loads(proc.stdout)["rows"] == sum(1 for row in rows[1:] if row[2] == code)
    proc = leadgate("download", DEMO, "--since", "2999-01-01", "--by", "updated", "-o", str(target), "--json")
    assert json.loads(proc.stdout)["rows"] == 0


def test_several_statuses_and_codes_either_way(leadgate, tmp_path):
    target = tmp_path / "leads.csv"

    def rows(*args):
        return json.loads(leadgate("download", DEMO, *args, "-o", str(target), "--json").stdout)["rows"]

    everything = rows()
    assert rows("--status", "accepted", "rejected", "in_review", "processing", "failed") == everything
    assert rows("--status", "accepted", "--status", "rejected") == rows("--status", "accepted", "rejected")
    assert rows("--code", "ACCEPT_LEAD", "reject_lead_invalid_email") == rows(
        "--code", "accept_lead", "--code", "REJECT_LEAD_INVALID_EMAIL"
    )


def test_to_standard_output(leadgate):
    proc = leadgate("download", DEMO, "--format", "csv-semicolon", "-o", "-", "--json", text=False)
    assert proc.stdout.startswith(b"\xef\xbb\xbfLeadID;Status;")
    assert proc.stdout.count(b"\r\n") >= 61  # header and 60 leads (and line breaks inside values)
    assert json.loads(proc.stderr) == {"source": DEMO, "file": "-", "format": "csv-semicolon", "rows": 60}


def test_template(leadgate, tmp_path):
    target = tmp_path / "template.csv"
    leadgate("download", "data-summit-2026", "--template", "-o", str(target))
    assert target.read_bytes() == b"\xef\xbb\xbfemail,first_name,job_level,country,phone,opt_in\r\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--status", "bogus", "-o", "x.csv"], "invalid_status", 'unknown status "bogus"'),
        (["--code", "NOPE", "-o", "x.csv"], "invalid_code", 'unknown disposition code "NOPE"'),
        (["--since", "yesterday", "-o", "x.csv"], "invalid_time", '"yesterday" is not a date or time'),
        (["-o", "leads.ods"], "usage", "say which format"),
        (["-o", "/nonexistent/dir/x.csv"], "unwritable_file", "cannot write /nonexistent/dir/x.csv"),
    ],
)
def test_errors_are_one_line_and_exit_1(leadgate, args, code, message):
    proc = leadgate("download", DEMO, *args, ok=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"leadgate: {message}") and proc.stderr.count("\n") == 1
    proc = leadgate("download", DEMO, *args, "--json", ok=False)
    assert json.loads(proc.stdout)["error"]["code"] == code


def test_unknown_source(leadgate):
    proc = leadgate("download", "nope", "-o", "x.csv", ok=False)
    assert proc.returncode == 1 and 'no source "nope"' in proc.stderr


def test_a_failed_download_leaves_no_file(summit, tmp_path, monkeypatch, capsys):
    """In process, with the disk filling up half-way through the file."""
    from leadgate import cli
    from leadgate.files.downloads import Download

    def half_then_full(self, out, progress=None):
        out.write(b"PK half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Download, "write_to", half_then_full)
    target = tmp_path / "leads.xlsx"
    target.write_bytes(b"the previous download")
    with pytest.raises(SystemExit) as exited:
        cli.main(["download", "data-summit-2026", "-o", str(target)])
    assert exited.value.code == 1
    assert capsys.readouterr().err == f"leadgate: cannot write {target}: No space left on device\n"
    assert target.read_bytes() == b"the previous download"
    assert [p.name for p in tmp_path.iterdir()] == ["leads.xlsx"]
