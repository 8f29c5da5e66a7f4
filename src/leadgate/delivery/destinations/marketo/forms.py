"""The Marketo destination's form: the custom service's client id and secret, the lookup field, a program."""

from __future__ import annotations

from django import forms

from leadgate.delivery.destinations.forms import KindForm
from leadgate.delivery.destinations.marketo.config import Config


class Form(KindForm):
    secret_label = "Client secret"  # noqa: S105 (a label, not a password)
    secret_help = (
        "The Client Secret of the custom service (Admin > Integration > LaunchPoint > View Details). "  # noqa: S105
        "Stored encrypted. Leave empty to keep the current one."
    )
    load_config = Config.load

    client_id = forms.CharField(
        label="Client ID",
        strip=True,
        help_text="The custom service's Client ID. The destination URL is the REST API endpoint without "
        "/rest, e.g. https://123-ABC-456.mktorest.com (Admin > Integration > Web Services).",
    )
    lookup_field = forms.CharField(
        label="Lookup field",
        required=False,
        strip=True,
        initial="email",
        help_text="The Marketo field (REST API name) that finds an existing lead to update. Default: email.",
    )
    partition_name = forms.CharField(
        label="Lead partition",
        required=False,
        strip=True,
        help_text="The partition new leads are created in. Empty: the default partition.",
    )
    program_id = forms.IntegerField(
        label="Program ID",
        required=False,
        min_value=1,
        help_text="Optional: add each delivered lead to this program (the number in the program's URL).",
    )
    program_status = forms.CharField(
        label="Program status",
        required=False,
        strip=True,
        help_text='The membership status to give, as named in the program\'s channel, e.g. "Registered".',
    )
