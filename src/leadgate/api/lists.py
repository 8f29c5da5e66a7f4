"""The shared lists: picklists and their aliases, list mappers, domain lists, suppression lists."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from leadgate.accounts.models import Role
from leadgate.sources import services
from leadgate.sources.models import DomainList, ListMapper, Picklist, SuppressionList

from .auth import key_auth, require_role
from .problems import AUTH_ERRORS, Problem, ProblemSchema
from .schemas import (
    AliasesIn,
    DomainListOut,
    DomainsIn,
    EntriesIn,
    MapperOut,
    PicklistOut,
    SuppressionIn,
    SuppressionListOut,
    ValuesIn,
)

router = Router(tags=["lists"])
NOT_FOUND = {404: ProblemSchema, **AUTH_ERRORS}
CHANGE = {404: ProblemSchema, 422: ProblemSchema, **AUTH_ERRORS}


def _get(model: Any, key: str, what: str) -> Any:
    obj = model.objects.filter(key=key).first()
    if obj is None:
        raise Problem(404, f"unknown_{what.replace(' ', '_')}", f'No {what} "{key}".')
    return obj


def _picklist_out(p: Picklist) -> dict[str, Any]:
    return {
        "key": p.key,
        "name": p.name,
        "case_sensitive": p.case_sensitive,
        "values": [v.value for v in p.values.all()],
        "aliases": {a.alias: a.value.value for a in p.aliases.select_related("value")},
        "mappers": [m.key for m in p.mappers.all()],
    }


@router.get("/picklists", auth=key_auth, response={200: list[PicklistOut], **AUTH_ERRORS})
def list_picklists(request: HttpRequest) -> list[dict[str, Any]]:
    require_role(request, Role.VIEWER)
    return [_picklist_out(p) for p in Picklist.objects.order_by("key")]


@router.get("/picklists/{key}", auth=key_auth, response={200: PicklistOut, **NOT_FOUND})
def get_picklist(request: HttpRequest, key: str) -> dict[str, Any]:
    require_role(request, Role.VIEWER)
    return _picklist_out(_get(Picklist, key, "picklist"))


@router.post("/picklists/{key}/values", auth=key_auth, response={200: PicklistOut, **CHANGE})
def add_values(request: HttpRequest, key: str, body: ValuesIn) -> dict[str, Any]:
    """Add canonical values; values already on the picklist (in any case) are left as they are."""
    require_role(request, Role.MANAGER)
    picklist = _get(Picklist, key, "picklist")
    services.add_picklist_values(picklist, body.values)
    return _picklist_out(picklist)


@router.post("/picklists/{key}/aliases", auth=key_auth, response={200: PicklistOut, **CHANGE})
def set_aliases(request: HttpRequest, key: str, body: AliasesIn) -> dict[str, Any]:
    """Map incoming variants to canonical values: `{"aliases": {"Vice President": "VP"}}`."""
    require_role(request, Role.MANAGER)
    picklist = _get(Picklist, key, "picklist")
    try:
        services.set_picklist_aliases(picklist, body.aliases)
    except services.ListError as exc:
        raise Problem(422, "invalid_alias", str(exc)) from None
    return _picklist_out(picklist)


def _mapper_out(m: ListMapper) -> dict[str, Any]:
    return {
        "key": m.key,
        "name": m.name,
        "picklist": m.picklist.key,
        "entries": {e.value.value: e.output for e in m.entries.select_related("value")},
        "unmapped": services.unmapped_values(m),
    }


@router.get("/list-mappers", auth=key_auth, response={200: list[MapperOut], **AUTH_ERRORS})
def list_mappers(request: HttpRequest) -> list[dict[str, Any]]:
    require_role(request, Role.VIEWER)
    return [_mapper_out(m) for m in ListMapper.objects.select_related("picklist").order_by("key")]


@router.get("/list-mappers/{key}", auth=key_auth, response={200: MapperOut, **NOT_FOUND})
def get_mapper(request: HttpRequest, key: str) -> dict[str, Any]:
    require_role(request, Role.VIEWER)
    return _mapper_out(_get(ListMapper, key, "list mapper"))


@router.post("/list-mappers/{key}/entries", auth=key_auth, response={200: MapperOut, **CHANGE})
def set_entries(request: HttpRequest, key: str, body: EntriesIn) -> dict[str, Any]:
    """Set the output of picklist values: `{"entries": {"VP": "Executive"}}`; other entries stay."""
    require_role(request, Role.MANAGER)
    mapper = _get(ListMapper, key, "list mapper")
    try:
        services.set_mapper_entries(mapper, body.entries)
    except services.ListError as exc:
        raise Problem(422, "invalid_entry", str(exc)) from None
    return _mapper_out(mapper)


def _domain_list_out(x: DomainList) -> dict[str, Any]:
    return {"key": x.key, "name": x.name, "builtin": x.builtin, "domains": list(x.domains)}


@router.get("/domain-lists", auth=key_auth, response={200: list[DomainListOut], **AUTH_ERRORS})
def list_domain_lists(request: HttpRequest) -> list[dict[str, Any]]:
    require_role(request, Role.VIEWER)
    return [_domain_list_out(x) for x in DomainList.objects.order_by("key")]


@router.get("/domain-lists/{key}", auth=key_auth, response={200: DomainListOut, **NOT_FOUND})
def get_domain_list(request: HttpRequest, key: str) -> dict[str, Any]:
    require_role(request, Role.VIEWER)
    return _domain_list_out(_get(DomainList, key, "domain list"))


@router.put("/domain-lists/{key}", auth=key_auth, response={200: DomainListOut, **CHANGE})
def put_domain_list(request: HttpRequest, key: str, body: DomainsIn) -> dict[str, Any]:
    """Replace the list's domains (``*`` wildcards: ``*.edu``, ``competitor.*``)."""
    require_role(request, Role.MANAGER)
    domain_list = _get(DomainList, key, "domain list")
    _refuse_bad_entries(body.domains, "domains")
    try:
        services.set_domain_list(domain_list, body.domains)
    except services.ListError as exc:
        raise Problem(422, "builtin_list", str(exc)) from None
    return _domain_list_out(domain_list)


def _refuse_bad_entries(entries: list[str], what: str) -> None:
    """422 naming the first entry that is not a domain (or an email address), as the web pages check."""
    check = services.email_entry_problem if what == "emails" else services.domain_entry_problem
    for index, entry in enumerate(entries):
        problem = check(entry) if entry.strip() else None
        if problem:
            raise Problem(422, f"invalid_{what[:-1]}", f'{what}[{index}]: "{entry.strip()}" {problem}.')


def _suppression_out(x: SuppressionList) -> dict[str, Any]:
    return {"key": x.key, "name": x.name, "emails": list(x.emails), "domains": list(x.domains)}


@router.get("/suppression-lists", auth=key_auth, response={200: list[SuppressionListOut], **AUTH_ERRORS})
def list_suppression_lists(request: HttpRequest) -> list[dict[str, Any]]:
    require_role(request, Role.VIEWER)
    return [_suppression_out(x) for x in SuppressionList.objects.order_by("key")]


@router.get("/suppression-lists/{key}", auth=key_auth, response={200: SuppressionListOut, **NOT_FOUND})
def get_suppression_list(request: HttpRequest, key: str) -> dict[str, Any]:
    require_role(request, Role.VIEWER)
    return _suppression_out(_get(SuppressionList, key, "suppression list"))


@router.put("/suppression-lists/{key}", auth=key_auth, response={200: SuppressionListOut, **CHANGE})
def put_suppression_list(request: HttpRequest, key: str, body: SuppressionIn) -> dict[str, Any]:
    """Replace the list's emails and domains."""
    require_role(request, Role.MANAGER)
    suppression = _get(SuppressionList, key, "suppression list")
    _refuse_bad_entries(body.emails, "emails")
    _refuse_bad_entries(body.domains, "domains")
    services.set_suppression_list(suppression, body.emails, body.domains)
    return _suppression_out(suppression)


@router.post("/suppression-lists/{key}/add", auth=key_auth, response={200: SuppressionListOut, **CHANGE})
def add_to_suppression_list(request: HttpRequest, key: str, body: SuppressionIn) -> dict[str, Any]:
    """Add emails and domains (a do-not-contact request, a returned lead) to the list."""
    require_role(request, Role.MANAGER)
    suppression = _get(SuppressionList, key, "suppression list")
    _refuse_bad_entries(body.emails, "emails")
    _refuse_bad_entries(body.domains, "domains")
    services.set_suppression_list(suppression, body.emails, body.domains, add=True)
    return _suppression_out(suppression)
