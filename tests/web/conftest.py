"""Web UI personas: an admin, a manager and a viewer, each a signed-in test client."""

from __future__ import annotations

import pytest
from django.test import Client

from leadgate.accounts.services import create_user

PASSWORD = "correct horse battery"


@pytest.fixture
def people(db):
    return {role: create_user(role, role, PASSWORD) for role in ("admin", "manager", "viewer")}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer(people):
    return signed_in(people["viewer"])


@pytest.fixture
def manager(people):
    return signed_in(people["manager"])


@pytest.fixture
def admin(people):
    return signed_in(people["admin"])
