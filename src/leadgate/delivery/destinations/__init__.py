"""Destination kinds: one folder each (see `base`), found by the kind's name."""

from __future__ import annotations

import importlib

from leadgate.delivery.destinations.base import Transport

# kind → the transport class, "module:Class" under this package.
KINDS = {
    "webhook": "webhook.transport:WebhookTransport",
    "hubspot": "hubspot.transport:HubSpotTransport",
    "salesforce": "salesforce.transport:SalesforceTransport",
    "marketo": "marketo.transport:MarketoTransport",
}


def transport_class(kind: str) -> type[Transport]:
    try:
        module, name = KINDS[kind].split(":")
    except KeyError:
        raise ValueError(f'no destination kind "{kind}"') from None
    cls: type[Transport] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return cls
