"""Status callbacks: a source's callback URL hears of every change of a lead's status (issue 3, SPEC §6).

Each change is a StatusCallback row written in the transaction that made the change, so a crash between
deciding a lead and telling the callback URL loses nothing; the worker posts the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from leadgate.delivery.models import StatusCallback
from leadgate.leads.models import Lead
from leadgate.lib.ids import ulid
from leadgate.sources.models import Source


def callback_payload(lead: Lead, at: dt.datetime) -> dict[str, str]:
    return {
        "lead_id": lead.lead_id,
        "status": lead.status,
        "disposition_code": lead.disposition_code,
        "custom_reason": lead.custom_reason,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
    }


def queue_status_callbacks(source: Source, leads: Iterable[Lead], at: dt.datetime) -> int:
    """Write one pending callback per lead (call inside the transaction that changed them)."""
    if not source.callback_url:
        return 0
    rows = [
        StatusCallback(
            lead=lead,
            url=source.callback_url,
            message_id=f"msg_{ulid()}",
            payload=callback_payload(lead, at),
            next_attempt_at=at,
            created_at=at,
        )
        for lead in leads
    ]
    StatusCallback.objects.bulk_create(rows)
    return len(rows)
