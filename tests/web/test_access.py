"""Sign-in, roles and security headers, for every page of the web UI."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse

from leadgate.accounts.models import Role
from leadgate.web import urls as web_urls
from leadgate.web.access import requires

from .conftest import PASSWORD

SLUG = "data-summit-2026"
PAGES = [
    "/sources/",
    f"/sources/{SLUG}/",
    f"/sources/{SLUG}/counters",
    f"/sources/{SLUG}/leads/",
    f"/sources/{SLUG}/resolve/",
    f"/sources/{SLUG}/fields/",
    f"/sources/{SLUG}/rules/",
    f"/sources/{SLUG}/uploads/",
    f"/sources/{SLUG}/download",
    f"/sources/{SLUG}/template",
]


def _web_views():
    for pattern in web_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        yield pattern.name, pattern.callback


def test_every_view_but_sign_in_and_out_names_a_role():
    """A new page cannot be added without saying who may see it."""
    for name, view in _web_views():
        if name in ("login", "logout"):
            continue
        assert getattr(view, "required_role", None) in Role, name


@pytest.mark.parametrize("path", ["/", *PAGES])
def test_anonymous_people_are_sent_to_sign_in(summit, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={path}"


def test_an_htmx_poll_after_the_session_ended_sends_the_whole_page_to_sign_in(summit):
    response = Client().get(
        f"/sources/{SLUG}/counters",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver/sources/{SLUG}/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/signin/?next=%2Fsources%2F{SLUG}%2F"


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("persona", ["viewer", "manager", "admin"])
def test_every_role_may_read_every_page(summit, request, persona, path):
    client = request.getfixturevalue(persona)
    assert client.get(path).status_code == 200


def test_the_home_page_is_the_sources_list(viewer):
    response = viewer.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/sources/"


def test_signing_in_with_the_password_opens_the_page_asked_for(summit, people):
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/signin/?next=/sources/{SLUG}/")
    assert page.status_code == 200
    token = page.context["csrf_token"]
    response = client.post(
        "/signin/",
        {
            "username": "viewer",
            "password": PASSWORD,
            "next": f"/sources/{SLUG}/",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/sources/{SLUG}/"
    assert client.get(f"/sources/{SLUG}/").status_code == 200


def test_a_wrong_password_signs_nobody_in(people):
    client = Client()
    response = client.post("/signin/", {"username": "viewer", "password": "not the password"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert client.get("/sources/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(people):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/signin/", {"username": "viewer", "password": PASSWORD})
    assert response.status_code == 403


def test_signing_out_takes_a_post_with_the_token(viewer):
    assert viewer.get("/signout/").status_code == 405  # a link or an image cannot sign anyone out
    response = viewer.post("/signout/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/"
    assert viewer.get("/sources/").status_code == 302


def test_a_disabled_user_is_signed_out(people, viewer):
    people["viewer"].is_active = False
    people["viewer"].save()
    assert viewer.get("/sources/").status_code == 302


def test_pages_carry_a_strict_content_security_policy(summit, viewer):
    for path in [*PAGES, "/signin/"]:
        response = viewer.get(path) if path != "/signin/" else Client().get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, path
        assert "frame-ancestors 'none'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"


def test_the_pages_hold_no_inline_script_or_style(summit, viewer):
    body = viewer.get(f"/sources/{SLUG}/").content.decode()
    assert "<script>" not in body and "<script " not in body.replace('<script src="', "")
    assert "style=" not in body and "<style" not in body
    assert " on" + "load=" not in body


def test_the_capture_form_keeps_its_own_stricter_policy(summit):
    summit.form_enabled = True
    summit.save()
    policy = Client().get(f"/f/{SLUG}")["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.VIEWER, [True, False, False]), (Role.MANAGER, [True, True, False])]
)
def test_requires_lets_each_role_do_what_it_may(people, role, allowed):
    """The one decorator: a role may do its own work and that of the roles below it, nothing more."""
    views = [requires(needed)(lambda request: "done") for needed in (Role.VIEWER, Role.MANAGER, Role.ADMIN)]
    request = RequestFactory().get("/")
    request.user = people[role.value]
    for view, may in zip(views, allowed, strict=True):
        if may:
            assert view(request) == "done"
        else:
            with pytest.raises(PermissionDenied):
                view(request)


def test_managers_see_upload_leads_and_viewers_do_not(summit, viewer, manager):
    upload = f'href="/sources/{SLUG}/uploads/" data-opens="upload">Upload Leads'.encode()
    assert upload not in viewer.get(f"/sources/{SLUG}/").content
    assert upload in manager.get(f"/sources/{SLUG}/").content


def test_an_unknown_source_is_not_found(viewer, db):
    assert viewer.get("/sources/no-such-source/").status_code == 404
