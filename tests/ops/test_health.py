from __future__ import annotations

import pytest
from django.utils import timezone

from leadgate.ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthz_needs_a_live_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=now, seen_at=now)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "workers": "1"}


def test_stale_heartbeat_is_not_a_live_worker(client):
    then = timezone.now() - timezone.timedelta(minutes=5)
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=then, seen_at=then)
    assert client.get("/healthz").status_code == 503
