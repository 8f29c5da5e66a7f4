"""The webhook destination: one signed JSON post per lead (SPEC §6 "Webhook deliveries").

Body: ``{"lead_id", "source", "status", "submitted_at", "fields": {...}}``, signed the Standard Webhooks way
with the destination's ``whsec_`` secret. The ``webhook-id`` is the delivery's message id, the same for every
attempt, so a receiver that saw a post whose answer was lost drops the retry.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadgate.delivery.destinations.base import (
    DELIVERED,
    RETRY,
    Exchange,
    OutgoingLead,
    Result,
    Transport,
    answer_verdict,
    json_body,
    retry_after,
)
from leadgate.delivery.destinations.webhook.config import Config
from leadgate.lib.webhooks import signed_headers


class WebhookTransport(Transport):
    kind = "webhook"
    batch_size = 1
    config_class = Config.load

    def send(self, leads: Sequence[OutgoingLead]) -> list[Result]:
        return [self._post(lead) for lead in leads]

    def _post(self, lead: OutgoingLead) -> Result:
        body = json_body(payload(lead))
        exchanges: list[Exchange] = []
        try:
            headers = signed_headers(self.secret, lead.message_id, body)
        except ValueError as exc:  # no secret, or not whsec_…: the owner fixes it while retries last
            return Result(lead, RETRY, f"cannot sign the post: {exc}")
        response, _ = self.request("POST", self.url, headers=headers, body=body, exchanges=exchanges)
        if response is None:
            return Result(lead, RETRY, exchanges[-1].error, exchanges=exchanges)
        verdict, reason = answer_verdict(response)
        if verdict == DELIVERED:
            return Result(lead, DELIVERED, exchanges=exchanges)
        return Result(lead, verdict, reason, retry_after=retry_after(response), exchanges=exchanges)

    def test_connection(self) -> tuple[bool, str, list[Exchange]]:
        """A webhook has nothing to read: an unsigned HEAD shows the receiver is there and answers."""
        exchanges: list[Exchange] = []
        response, exchange = self.request("HEAD", self.url, exchanges=exchanges)
        if response is None:
            return False, f"no answer from the receiver: {exchange.error}", exchanges
        if response.status >= 500 and response.status != 501:  # 501: the receiver only has no HEAD
            return False, f"the receiver answers {exchange.describe()}", exchanges
        return (
            True,
            f"the receiver answers ({exchange.describe()}); send a test lead to check the signature",
            exchanges,
        )


def payload(lead: OutgoingLead) -> dict[str, object]:
    return {
        "lead_id": lead.lead_id,
        "source": lead.source,
        "status": lead.status,
        "submitted_at": lead.submitted_at.isoformat().replace("+00:00", "Z"),
        "fields": lead.fields,
    }
