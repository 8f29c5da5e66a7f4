"""Shared fixtures: the SPEC §6 example definition, applied; a fast password hasher."""

from __future__ import annotations

from pathlib import Path

import pytest

SPEC_EXAMPLE = (Path(__file__).parent / "data" / "spec_example.yaml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    """API keys are remembered per process for a few seconds; each test starts without any."""
    from leadgate.accounts.services import forget_authenticated_keys

    forget_authenticated_keys()


@pytest.fixture
def summit(db):
    """The SPEC §6 example source, "data-summit-2026", with its picklists and lists."""
    from leadgate.sources.definition_file import apply_definition
    from leadgate.sources.models import Source

    apply_definition(SPEC_EXAMPLE)
    return Source.objects.get(slug="data-summit-2026")


def good_lead(**overrides):
    lead = {
        "email": "ann.lee@acme-corp.com",
        "first_name": "Ann",
        "job_level": "VP",
        "country": "Germany",
        "phone": "+49 30 1234567",
        "opt_in": "yes",
    }
    lead.update(overrides)
    return lead


#: The path of the example webhook destination's URL in tests: a token in the path, as real hook URLs often
#: carry one, so that pages and answers can be checked for showing the host only.
HOOK_PATH = "/hooks/T0K3N-in-the-path"


@pytest.fixture
def receiver():
    """A local HTTP receiver that records what leadgate posts (tests/receiver.py)."""
    from tests.receiver import Receiver

    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def hook_secret():
    from leadgate.lib.tokens import new_webhook_secret

    return new_webhook_secret()


@pytest.fixture
def hook(summit, receiver, hook_secret, settings):
    """The SPEC example's webhook destination ("crm_webhook"), posting to the local receiver."""
    from leadgate.delivery.models import Destination

    settings.LEADGATE_ALLOW_PRIVATE_DESTINATIONS = True
    destination = Destination.objects.get(key="crm_webhook")
    destination.url = receiver.url + HOOK_PATH
    destination.set_secret(hook_secret)
    destination.save()
    return destination
