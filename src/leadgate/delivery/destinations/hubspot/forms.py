"""The HubSpot destination's form: the API base, the property contacts are matched by, and the token."""

from __future__ import annotations

from django import forms

from leadgate.delivery.destinations.forms import KindForm
from leadgate.delivery.destinations.hubspot.config import DEFAULT_BASE_URL, Config

PRIVATE_APP_HELP = (
    "From HubSpot: Settings › Integrations › Private apps, with the crm.objects.contacts.read and .write "
    "scopes. Stored encrypted. Leave empty to keep the current one."
)


class Form(KindForm):
    secret_label = "Private app access token"  # noqa: S105 (a label)
    secret_help = PRIVATE_APP_HELP
    load_config = Config.load

    base_url = forms.URLField(
        label="API base URL",
        required=False,
        initial=DEFAULT_BASE_URL,
        assume_scheme="https",
        help_text="HubSpot's API. Change it only for a proxy; the destination's URL, when set, wins.",
    )
    id_property = forms.CharField(
        label="Match contacts by",
        required=False,
        initial="email",
        help_text="The internal name of a unique HubSpot property: a lead updates the record with its value.",
    )
    object_type = forms.CharField(
        label="Object type",
        required=False,
        initial="contacts",
        help_text='"contacts" unless leads go to another object with a unique property.',
    )
