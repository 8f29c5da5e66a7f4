"""Helpers for tests that deliver leads: one round of the delivery engine, and waiting deliveries made due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from leadgate.delivery.engine import Deliverer, Round
from leadgate.delivery.models import Delivery


def deliver(threads: int = 4, **options: Any) -> Round:
    """Post everything due now, as one worker would, and record it."""
    deliverer = Deliverer(threads=threads, **options)
    try:
        return deliverer.run_once()
    finally:
        deliverer.close()


def make_due() -> None:
    """Waiting deliveries due now, as if their backoff had passed."""
    Delivery.objects.filter(state__in=["pending", "retrying"]).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
