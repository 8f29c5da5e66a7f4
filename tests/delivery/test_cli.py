"""`leadgate destination …`, `leadgate worker --batch` and `leadgate summary` as a user runs them."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from leadgate.lib.tokens import new_webhook_secret
from tests.receiver import Receiver, Reply
from tests.test_cli import leadgate, write  # noqa: F401 (the fixture)

DEFINITION = """
picklists:
  - {{key: job_level, name: Job Level, values: [C-Level, VP, Director, Other]}}
list_mappers:
  - {{key: job_level_to_crm, picklist: job_level, entries: {{C-Level: Executive, VP: Executive}}}}
destinations:
  - key: crm_webhook
    kind: webhook
    url: "{url}"
    secret_env: CRM_WEBHOOK_SECRET
    mapping:
      - {{from: email, to: Email}}
      - {{from: job_level, to: JobLevel, mapper: job_level_to_crm}}
      - {{value: "{{first_name}} at the Summit", to: Note}}
sources:
  - slug: summit
    name: Summit
    kind: event
    status: live
    destinations: [crm_webhook]
    fields:
      - {{key: email, label: Email, type: email, required: true}}
      - {{key: first_name, label: First Name, type: text}}
      - {{key: job_level, label: Job Level, type: picklist, picklist: job_level}}
"""


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def env():
    return {
        "CRM_WEBHOOK_SECRET": new_webhook_secret(),
        "LEADGATE_ALLOW_PRIVATE_DESTINATIONS": "true",
    }


def _apply(leadgate, tmp_path, receiver, env):  # noqa: F811
    path = write(tmp_path, "summit.yaml", DEFINITION.format(url=receiver.url + "/hooks"))
    leadgate("apply", path, "--json", extra_env=env)


def test_test_connection_and_a_test_lead_show_the_exchange(leadgate, tmp_path, receiver, env):  # noqa: F811
    _apply(leadgate, tmp_path, receiver, env)

    tested = json.loads(leadgate("destination", "test", "crm_webhook", "--json", extra_env=env).stdout)
    assert tested["ok"] is True
    assert tested["exchanges"][0]["method"] == "HEAD"
    # Unmapped picklist values are flagged before the first post.
    assert any("Director" in w and "job_level_to_crm" in w for w in tested["warnings"])

    sent = json.loads(
        leadgate(
            "destination", "test-lead", "crm_webhook", "--source", "summit", "--json", extra_env=env
        ).stdout
    )
    assert sent["ok"] is True
    [exchange] = sent["exchanges"]
    assert exchange["status"] == 200
    post = receiver.received[-1]
    payload = Webhook(env["CRM_WEBHOOK_SECRET"]).verify(post.body, post.headers)
    assert payload["lead_id"].startswith("LD-TEST")
    assert payload["fields"] == {
        "Email": "leadgate.test@example.com",
        "JobLevel": "Executive",
        "Note": "Test First Name at the Summit",
    }
    assert json.loads(exchange["request_body"]) == payload
    assert env["CRM_WEBHOOK_SECRET"] not in json.dumps(sent)

    plain = leadgate("destination", "test-lead", "crm_webhook", extra_env=env).stdout
    assert "> POST " in plain and "< 200" in plain and plain.rstrip().endswith(".")


def test_a_failed_test_exits_1_with_the_reason(leadgate, tmp_path, receiver, env):  # noqa: F811
    _apply(leadgate, tmp_path, receiver, env)
    receiver.script(Reply(503, b"maintenance"))
    proc = leadgate("destination", "test", "crm_webhook", ok=False, extra_env=env)
    assert proc.returncode == 1
    assert "failed: the receiver answers HTTP 503" in proc.stdout
    missing = leadgate("destination", "test", "nope", ok=False, extra_env=env)
    assert missing.returncode == 1 and 'no destination "nope"' in missing.stderr


def test_leads_are_delivered_by_the_worker_and_counted_in_the_summary(leadgate, tmp_path, receiver, env):  # noqa: F811
    _apply(leadgate, tmp_path, receiver, env)
    csv = write(tmp_path, "leads.csv", "email,first_name,job_level\na@acme.com,Ann,VP\nb@acme.com,Bo,Chief\n")
    leadgate("upload", "summit", csv, "--json", extra_env=env)
    pending = json.loads(leadgate("summary", "summit", "--json", extra_env=env).stdout)
    assert pending["deliveries"] == {"pending": 1, "delivered": 0, "retrying": 0, "dead": 0, "rejected": 0}

    leadgate("worker", "--batch", extra_env=env)

    done = json.loads(leadgate("summary", "summit", "--json", extra_env=env).stdout)
    assert done["deliveries"] == {"pending": 0, "delivered": 1, "retrying": 0, "dead": 0, "rejected": 0}
    [post] = [r for r in receiver.received if r.method == "POST"]
    assert json.loads(post.body)["fields"]["Email"] == "a@acme.com"
    listed = [
        json.loads(line)
        for line in leadgate("destination", "list", "--json", extra_env=env).stdout.split("\n")
        if line
    ]
    assert listed[0]["key"] == "crm_webhook" and listed[0]["deliveries"]["delivered"] == 1


def test_dead_deliveries_are_retried_on_request(leadgate, tmp_path, receiver, env):  # noqa: F811
    env = {**env, "LEADGATE_DELIVERY_MAX_ATTEMPTS": "1"}
    _apply(leadgate, tmp_path, receiver, env)
    receiver.default = Reply(500, b"down")
    csv = write(tmp_path, "leads.csv", "email,first_name,job_level\na@acme.com,Ann,VP\n")
    leadgate("upload", "summit", csv, "--json", extra_env=env)
    leadgate("worker", "--batch", extra_env=env)
    dead = json.loads(leadgate("summary", "summit", "--json", extra_env=env).stdout)["deliveries"]
    assert dead["dead"] == 1

    retried = json.loads(leadgate("destination", "retry", "crm_webhook", "--json", extra_env=env).stdout)
    assert retried == {"destination": "crm_webhook", "retried": 1}
    receiver.default = Reply(200)
    leadgate("worker", "--batch", extra_env=env)
    done = json.loads(leadgate("summary", "summit", "--json", extra_env=env).stdout)["deliveries"]
    assert (done["dead"], done["delivered"]) == (0, 1)
