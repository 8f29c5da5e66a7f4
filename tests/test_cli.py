"""The `leadgate` command through its real entry point, on a fresh data directory each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SPEC_EXAMPLE

ROOT = Path(__file__).resolve().parent.parent
# The console script pip installed next to this interpreter: the very entry point users run.
LEADGATE = str(Path(sys.executable).with_name("leadgate"))
DOCS = ROOT / "docs" / "dispositions.md"


@pytest.fixture
def leadgate(tmp_path):
    """Run `leadgate …` as a user would, with its own SQLite data directory."""
    env = {**os.environ, "LEADGATE_DATA_DIR": str(tmp_path / "data"), "LEADGATE_DATABASE_URL": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args, ok=True, stdin=None, extra_env=None):
        proc = subprocess.run(
            [LEADGATE, *args],
            capture_output=True,
            text=True,
            env={**env, **(extra_env or {})},
            input=stdin,
            timeout=300,
            cwd=tmp_path,
        )
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    return run


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_apply_on_a_fresh_data_dir_is_idempotent(leadgate, tmp_path):
    path = write(tmp_path, "leadgate.yaml", SPEC_EXAMPLE)
    first = json.loads(leadgate("apply", path, "--json").stdout)
    assert "source:data-summit-2026" in first["created"] and len(first["created"]) == 7
    second = json.loads(leadgate("apply", path, "--json").stdout)
    assert second == {"created": [], "updated": [], "unchanged": first["created"]}


def test_apply_errors_exit_1_with_the_path(leadgate, tmp_path):
    path = write(tmp_path, "bad.yaml", SPEC_EXAMPLE.replace("picklist: job_level,", "picklist: job_levle,"))
    proc = leadgate("apply", path, ok=False)
    assert proc.returncode == 1
    assert 'sources[0].fields[2].picklist: no picklist "job_levle"' in proc.stderr
    assert proc.stderr.startswith("leadgate: ")
    proc = leadgate("apply", path, "--json", ok=False)
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "invalid_definition"
    summary = leadgate("summary", "data-summit-2026", ok=False)
    assert summary.returncode == 1 and 'no source "data-summit-2026"' in summary.stderr


def test_missing_file_is_one_line(leadgate):
    proc = leadgate("apply", "nope.yaml", ok=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "leadgate: cannot read nope.yaml: No such file or directory"


def test_export_writes_what_apply_reads(leadgate, tmp_path):
    leadgate("apply", write(tmp_path, "in.yaml", SPEC_EXAMPLE))
    leadgate("export", "-o", str(tmp_path / "out.yaml"))
    again = json.loads(leadgate("apply", str(tmp_path / "out.yaml"), "--json").stdout)
    assert again["created"] == again["updated"] == []


def test_an_empty_demo_says_so_plainly(leadgate):
    line = leadgate("demo", "--leads", "0").stdout.strip()
    assert line.endswith("0 leads, 0 accepted, 0 rejected across 0 codes"), line


def test_demo_summary_and_leads(leadgate):
    demo = json.loads(leadgate("demo", "--json").stdout)
    assert demo["source"] == "demo-summit"
    assert demo["total"] >= 5000
    rejected_share = demo["status"]["rejected"] / demo["total"]
    assert 0.10 <= rejected_share <= 0.20, demo
    reject_codes = [c for c in demo["dispositions"] if c.startswith("REJECT_")]
    assert len(reject_codes) >= 6, demo["dispositions"]
    summary = json.loads(leadgate("summary", "demo-summit", "--json").stdout)
    assert summary == demo
    lines = leadgate("leads", "demo-summit", "--status", "rejected", "--json").stdout.splitlines()
    assert len(lines) == demo["status"]["rejected"]
    row = json.loads(lines[0])
    assert set(row) == {"lead_id", "status", "disposition_code", "custom_reason", "values", "clean"}
    assert row["status"] == "rejected" and row["custom_reason"]
    code = reject_codes[0]
    coded = leadgate("leads", "demo-summit", "--code", code, "--json").stdout.splitlines()
    assert len(coded) == demo["dispositions"][code]
    # nothing changed in the rules, so reprocessing the rejected leads changes nothing
    again = json.loads(leadgate("reprocess", "demo-summit", "--json").stdout)
    assert again["reprocessed"] == demo["status"]["rejected"] and again["changed"] == 0
    # a second run refreshes rather than doubling
    assert json.loads(leadgate("demo", "--json").stdout)["total"] == demo["total"]


def test_createuser(leadgate):
    proc = leadgate(
        "createuser",
        "maria",
        "--role",
        "manager",
        "--json",
        extra_env={"LEADGATE_PASSWORD": "a-long-secret-1"},
    )
    assert json.loads(proc.stdout) == {"username": "maria", "role": "manager"}
    again = leadgate(
        "createuser",
        "maria",
        "--role",
        "viewer",
        ok=False,
        extra_env={"LEADGATE_PASSWORD": "a-long-secret-1"},
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    nopass = leadgate("createuser", "li", "--role", "viewer", ok=False, extra_env={"LEADGATE_PASSWORD": ""})
    assert nopass.returncode == 1 and "LEADGATE_PASSWORD" in nopass.stderr


def test_bad_configuration_is_one_line(leadgate):
    proc = leadgate("check", ok=False, extra_env={"LEADGATE_DEBUG": "ture"})
    assert proc.returncode == 1
    assert proc.stderr.strip() == "leadgate: LEADGATE_DEBUG='ture' is not a boolean; use true or false"
    assert leadgate("check", "--json").returncode == 0


def test_an_unreachable_database_is_one_line(leadgate):
    proc = leadgate(
        "summary", "x", ok=False, extra_env={"LEADGATE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("leadgate: cannot use the database: connection failed")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_dispositions_and_the_generated_docs_page_agree(leadgate):
    listed = json.loads(leadgate("dispositions", "--json").stdout)
    assert listed[0]["code"] == "ACCEPT_LEAD"
    assert "FAILED_PROCESSING_ERROR" in {d["code"] for d in listed}
    markdown = leadgate("dispositions", "--markdown").stdout
    assert DOCS.read_text(encoding="utf-8") == markdown, "docs/dispositions.md is stale: run `make docs`"


def test_apikey_create_list_revoke(leadgate, tmp_path):
    leadgate("apply", write(tmp_path, "leadgate.yaml", SPEC_EXAMPLE))
    created = json.loads(leadgate("apikey", "create", "data-summit-2026", "--name", "booth", "--json").stdout)
    assert created["source"] == "data-summit-2026" and created["key"].startswith("lgk_")
    [listed] = [json.loads(line) for line in leadgate("apikey", "list", "--json").stdout.splitlines()]
    assert (listed["name"], listed["prefix"], listed["revoked_at"]) == ("booth", created["key"][:10], None)
    assert created["key"] not in leadgate("apikey", "list").stdout
    revoked = json.loads(leadgate("apikey", "revoke", listed["prefix"], "--json").stdout)
    assert revoked["revoked_at"]
    missing = leadgate("apikey", "create", "nope", ok=False)
    assert missing.returncode == 1 and 'no source "nope"' in missing.stderr


def test_callback_secret_shown_and_rotated(leadgate, tmp_path):
    leadgate("apply", write(tmp_path, "leadgate.yaml", SPEC_EXAMPLE))
    missing = leadgate("callback", "data-summit-2026", ok=False)
    assert missing.returncode == 1 and "has no callback URL" in missing.stderr
    with_callback = SPEC_EXAMPLE.replace(
        "    review: false", "    review: false\n    callback_url: https://crm.example.com/hook"
    )
    leadgate("apply", write(tmp_path, "cb.yaml", with_callback))
    shown = json.loads(leadgate("callback", "data-summit-2026", "--json").stdout)
    assert shown["url"] == "https://crm.example.com/hook" and shown["secret"].startswith("whsec_")
    rotated = json.loads(leadgate("callback", "data-summit-2026", "--rotate", "--json").stdout)
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != shown["secret"]
    assert (
        json.loads(leadgate("callback", "data-summit-2026", "--json").stdout)["secret"] == rotated["secret"]
    )
