"""The webhook destination's form: only the signing secret (the URL is a common field)."""

from __future__ import annotations

from leadgate.delivery.destinations.forms import KindForm
from leadgate.delivery.destinations.webhook.config import Config


class Form(KindForm):
    secret_label = "Signing secret (whsec_…)"  # noqa: S105 (a label)
    secret_help = "Standard Webhooks secret. Leave empty to keep the current one; a new destination gets one."  # noqa: S105 (a help text)
    load_config = Config.load
