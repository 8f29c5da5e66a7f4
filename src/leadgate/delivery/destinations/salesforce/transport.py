"""The Salesforce destination: Leads upserted by an external-id field that holds the LeadID.

- Authentication is the OAuth 2.0 client credentials flow of a connected app:
  ``POST {url}/services/oauth2/token`` on the org's My Domain gives an access token and the ``instance_url``
  the API calls go to. The token is kept on the transport (several worker threads share it) and replaced
  once when the API answers 401.
- A batch of up to 200 leads is one sObject Collections upsert,
  ``PATCH {instance_url}/services/data/{version}/composite/sobjects/{object}/{external_id_field}`` with
  ``allOrNone: false``. The external-id field holds the LeadID, so a retry after a lost answer updates the
  record the first attempt created instead of creating a second one.
- The answer is one result per record, in order: saved (created or updated), or a list of errors. Errors
  about the record (a duplicate rule, a validation rule, a bad value) refuse that lead; a locked row or the
  org's API limit asks for a retry.
- Salesforce parses the whole request before it saves any record, so a field the object does not have, or a
  value of the wrong type, fails the whole collection with 400. Then the leads that carry the named field
  are refused and the rest sent again; when the answer names no field, each lead is sent on its own so that
  one bad lead cannot refuse 199 good ones.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leadgate.delivery.destinations.base import (
    DELIVERED,
    REFUSED,
    RETRY,
    Exchange,
    OutgoingLead,
    Result,
    Transport,
    answer_verdict,
    for_all,
    json_body,
    parse_json,
    retry_after,
)
from leadgate.delivery.destinations.salesforce.config import Config
from leadgate.lib.http import HttpResponse

# Status codes (per record, or for the whole request) that another attempt can get past.
TRANSIENT = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "REQUEST_LIMIT_EXCEEDED",
        "SERVER_UNAVAILABLE",
        "API_CURRENTLY_DISABLED",
        "QUERY_TIMEOUT",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",  # another record's failure undid this one
    }
)
MAX_REASON = 1000

# What the token endpoint's error codes mean for the owner, who must fix the connected app.
_TOKEN_HINTS = {
    "invalid_client_id": "check the consumer key (client id)",
    "invalid_client": "check the consumer key (client id) and the client secret",
    "invalid_grant": "enable the client credentials flow on the connected app and choose its Run As user",
    "unsupported_grant_type": "enable the client credentials flow on the connected app",
    "inactive_user": "the connected app's Run As user is inactive",
    "inactive_org": "the org is inactive or locked",
}
_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)'", re.I)


@dataclass(frozen=True)
class _Login:
    access_token: str
    instance_url: str


class _NoToken(Exception):
    """No access token: the reason says why, for the owner to fix (the engine retries meanwhile)."""


class SalesforceTransport(Transport):
    kind = "salesforce"
    batch_size = 200  # the sObject Collections limit
    config_class = Config.load
    config: Config

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._login: _Login | None = None

    # --- sending ----------------------------------------------------------------------------------------

    def send(self, leads: Sequence[OutgoingLead]) -> list[Result]:
        return self._upsert(list(leads), [])

    def _upsert(self, leads: list[OutgoingLead], exchanges: list[Exchange]) -> list[Result]:
        if not leads:
            return []
        config = self.config
        path = f"{self._data}/composite/sobjects/{config.object}/{config.external_id_field}"
        body = json_body({"allOrNone": False, "records": [self._record(lead) for lead in leads]})
        try:
            response = self._call("PATCH", path, body, exchanges)
        except _NoToken as exc:
            return for_all(leads, RETRY, str(exc), exchanges)
        if response is None:
            return for_all(leads, RETRY, exchanges[-1].error, exchanges)
        if response.ok:
            answers = parse_json(response)
            if not (isinstance(answers, list) and len(answers) == len(leads)):
                reason = (
                    f"Salesforce's answer is not the {len(leads)} results expected: {response.describe()}"
                )
                return for_all(leads, RETRY, reason, exchanges)
            return [
                self._record_result(lead, answer, exchanges)
                for lead, answer in zip(leads, answers, strict=True)
            ]
        errors = api_errors(response)
        reason = "; ".join(f"{code}: {message}" for code, message in errors) or response.describe()
        if any(code in TRANSIENT for code, _ in errors):
            return for_all(leads, RETRY, reason, exchanges, retry_after(response))
        if any(config.external_id_field.lower() in message.lower() for _, message in errors):
            # A set-up mistake (the field is missing, hidden or not an external id), not the leads' fault.
            reason += (
                f" — {config.object} needs the field {config.external_id_field}: a text field marked "
                "External ID and Unique that the Run As user can edit"
            )
            return for_all(leads, RETRY, reason, exchanges)
        if response.status == 400 and errors:
            if len(leads) > 1:
                return self._isolate(leads, errors, reason, exchanges)
            return for_all(leads, REFUSED, reason, exchanges)
        verdict, _ = answer_verdict(response)
        return for_all(leads, verdict, reason, exchanges, retry_after(response))

    def _isolate(
        self, leads: list[OutgoingLead], errors: list[tuple[str, str]], reason: str, exchanges: list[Exchange]
    ) -> list[Result]:
        """A whole collection refused with 400: find the leads it is about, and send the others again.

        Costs one more request when the answer names an unknown field some leads carry, and one request per
        lead when it names nothing (a value of the wrong type); an API call is cheaper than a refused lead.
        """
        named = {m.group(1).lower() for _, message in errors if (m := _NO_SUCH_COLUMN.search(message))}
        carrying = [i for i, lead in enumerate(leads) if named & {name.lower() for name in lead.fields}]
        results: dict[int, Result] = {}
        if named and carrying:
            for i in carrying:
                results[i] = Result(leads[i], REFUSED, reason, exchanges=list(exchanges))
            rest = [i for i in range(len(leads)) if i not in results]
            for i, result in zip(rest, self._upsert([leads[i] for i in rest], list(exchanges)), strict=True):
                results[i] = result
        else:
            for i, lead in enumerate(leads):
                results[i] = self._upsert([lead], list(exchanges))[0]
        return [results[i] for i in range(len(leads))]

    def _record(self, lead: OutgoingLead) -> dict[str, Any]:
        # The external id goes last, so no mapped field can replace the LeadID the upsert matches on.
        return {
            **lead.fields,
            "attributes": {"type": self.config.object},
            self.config.external_id_field: lead.lead_id,
        }

    def _record_result(self, lead: OutgoingLead, answer: Any, exchanges: list[Exchange]) -> Result:
        if not isinstance(answer, dict):
            reason = f"Salesforce's result for this record is not an object: {answer!r:.200}"
            return Result(lead, RETRY, reason, exchanges=list(exchanges))
        if answer.get("success") is True:
            done = "created" if answer.get("created") else "updated"
            return Result(lead, DELIVERED, f"{done} {self.config.object} {answer.get('id') or ''}".rstrip(),
                          external_id=str(answer.get("id") or ""), exchanges=list(exchanges))  # fmt: skip
        errors = [error for error in answer.get("errors") or [] if isinstance(error, dict)]
        if not errors:
            return Result(
                lead,
                RETRY,
                "Salesforce did not save the record and gave no reason",
                exchanges=list(exchanges),
            )
        reason = "; ".join(record_error(error) for error in errors)
        transient = any(
            str(error.get("statusCode")) in TRANSIENT or "UNABLE_TO_LOCK_ROW" in str(error.get("message"))
            for error in errors
        )
        return Result(lead, RETRY if transient else REFUSED, _short(reason), exchanges=list(exchanges))

    # --- the connection test ----------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str, list[Exchange]]:
        """Get a token, read the object's describe, check that the external-id field is there and is one."""
        config = self.config
        exchanges: list[Exchange] = []
        try:
            response = self._call(
                "GET",
                f"{self._data}/sobjects/{config.object}/describe",
                None,
                exchanges,
            )
        except _NoToken as exc:
            return False, str(exc), exchanges
        if response is None:
            return False, f"no answer from Salesforce: {exchanges[-1].error}", exchanges
        if response.status == 404:
            return (
                False,
                f"Salesforce has no object {config.object}, or the Run As user cannot see it",
                exchanges,
            )
        describe = parse_json(response)
        if not response.ok or not isinstance(describe, dict):
            errors = "; ".join(f"{code}: {message}" for code, message in api_errors(response))
            return False, f"Salesforce answers {errors or response.describe()}", exchanges
        fields = [f for f in describe.get("fields") or [] if isinstance(f, dict)]
        field = next(
            (f for f in fields if str(f.get("name", "")).lower() == config.external_id_field.lower()), None
        )
        where = f"{config.object}.{config.external_id_field}"
        if field is None:
            return (
                False,
                (
                    f"{config.object} has no field {config.external_id_field} (or the Run As user cannot "
                    "see it): create a text field with that API name, marked External ID and Unique, so "
                    "leads can be upserted by LeadID"
                ),
                exchanges,
            )
        if not field.get("externalId"):
            return (
                False,
                f"{where} exists but is not marked External ID: edit the field and tick External ID",
                exchanges,
            )
        unique = (
            "" if field.get("unique") else " (tick Unique too, so no second record can hold the same LeadID)"
        )
        return (
            True,
            f"connected; {where} is an external-id field, so leads are upserted by LeadID{unique}",
            exchanges,
        )

    @property
    def _data(self) -> str:
        return f"/services/data/{self.config.api_version}"

    # --- the token --------------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: bytes | None, exchanges: list[Exchange]
    ) -> HttpResponse | None:
        """One API request with the cached token; a 401 gets a new token and one more try."""
        login = self._current_login(exchanges)
        response = self._api_request(login, method, path, body, exchanges)
        if response is not None and response.status == 401:
            login = self._current_login(exchanges, stale=login)
            response = self._api_request(login, method, path, body, exchanges)
        return response

    def _api_request(
        self, login: _Login, method: str, path: str, body: bytes | None, exchanges: list[Exchange]
    ) -> HttpResponse | None:
        headers = {"authorization": f"Bearer {login.access_token}", "accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        response, _ = self.request(
            method, login.instance_url + path, headers=headers, body=body, exchanges=exchanges
        )
        return response

    def _current_login(self, exchanges: list[Exchange], stale: _Login | None = None) -> _Login:
        """The cached token, or a new one when there is none or the API refused ``stale``.

        The lock is held while a token is fetched: the other threads need the same token and wait for it.
        """
        with self._lock:
            if self._login is None or self._login == stale:
                self._login = None
                self._login = self._fetch_token(exchanges)
            return self._login

    def _fetch_token(self, exchanges: list[Exchange]) -> _Login:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.config.client_id,
            "client_secret": self.secret,
        }
        response, exchange = self.request(
            "POST",
            self.url.rstrip("/") + "/services/oauth2/token",
            headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
            body=urllib.parse.urlencode(form).encode("ascii"),
            exchanges=exchanges,
        )
        if response is None:
            raise _NoToken(f"no answer from the Salesforce token endpoint: {exchange.error}")
        answer = parse_json(response)
        if not response.ok:
            if isinstance(answer, dict) and answer.get("error"):
                code = str(answer["error"])
                hint = _TOKEN_HINTS.get(code, "check the connected app")
                said = f"{code}: {answer.get('error_description') or ''}".rstrip(": ")
                raise _NoToken(f"Salesforce refuses the connected app's credentials ({said}); {hint}")
            raise _NoToken(f"the Salesforce token endpoint answers {response.describe()}")
        token = answer.get("access_token") if isinstance(answer, dict) else None
        instance_url = answer.get("instance_url") if isinstance(answer, dict) else None
        if not (isinstance(token, str) and token and isinstance(instance_url, str)):
            raise _NoToken("the Salesforce token endpoint's answer has no access_token and instance_url")
        if not instance_url.startswith(("https://", "http://")):
            raise _NoToken(
                f"the Salesforce token endpoint gives an instance_url that is not a URL: {instance_url:.100}"
            )
        self.redact.add(token)
        return _Login(token, instance_url.rstrip("/"))


def api_errors(response: HttpResponse) -> list[tuple[str, str]]:
    """(errorCode, message) of a REST error answer: ``[{"message": …, "errorCode": …}]``."""
    answer = parse_json(response)
    if isinstance(answer, dict):
        answer = [answer]
    if not isinstance(answer, list):
        return []
    return [
        (str(item.get("errorCode") or item.get("statusCode") or "ERROR"), str(item.get("message") or ""))
        for item in answer
        if isinstance(item, dict) and (item.get("errorCode") or item.get("statusCode") or item.get("message"))
    ]


def record_error(error: dict[str, Any]) -> str:
    """``<statusCode>: <message> (fields: …)``, with the matching records of a duplicate rule."""
    code = error.get("statusCode") or error.get("errorCode") or "ERROR"
    text = f"{code}: {error.get('message') or ''}".rstrip()
    fields = [str(f) for f in error.get("fields") or []]
    if fields:
        text += f" (fields: {', '.join(fields)})"
    duplicate = error.get("duplicateResult")
    if isinstance(duplicate, dict):
        ids = [
            str(match["record"].get("Id"))
            for result in duplicate.get("matchResults") or []
            if isinstance(result, dict)
            for match in result.get("matchRecords") or []
            if isinstance(match, dict) and isinstance(match.get("record"), dict) and match["record"].get("Id")
        ]
        if ids:
            text += f" (matching records: {', '.join(ids)})"
    return text


def _short(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
