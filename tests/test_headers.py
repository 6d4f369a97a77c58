"""The security headers of every route: the site's Content-Security-Policy (and the few views' own changes to it),
X-Frame-Options, HSTS and the HTTPS redirect behind a TLS-ending proxy.

Every route of the URL conf (the admin's aside, tested by example) is asked for, so a new route gets the check
too: with a real object when `world` names one, otherwise with a made-up one (a 404 has the headers too).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from emails.accepting import BulkDraft, BulkRow, bulk_accept
from emails.models import Suppression
from emails.suppression import preferences_url, unsubscribe_url
from emails.templating import TemplateDraft, template_save
from files.models import File
from tests.emails.test_pages import make_message
from tests.factories import UserFactory

# The site's policy, written out here rather than read from the settings, so that weakening them fails.
SITE = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# The pages showing a sanitised email in a srcdoc iframe (which inherits the page's policy) allow style
# attributes, an email's layout, and nothing else more.
PREVIEW = {**SITE, "style-src-attr": ["'unsafe-inline'"]}
# A message's body with its remote images: images from anywhere, nothing else, sandboxed, framed by us only.
BODY = {
    "default-src": ["'none'"],
    "img-src": ["http:", "https:", "data:"],
    "style-src": ["'unsafe-inline'"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'self'"],
    "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
}
# Routes whose views change the site's policy, by name (or route, when unnamed).
OWN_POLICY = {
    "emails:compose": PREVIEW,
    "compose": PREVIEW,
    "emails:detail": PREVIEW,
    "emails:bulk": PREVIEW,
    "emails:template-new": PREVIEW,
    "emails:template-edit": PREVIEW,
    "emails:template-test": PREVIEW,
    "emails:message-html": BODY,
}
FRAMED_BY_US = {"emails:message-html"}
# The load balancer's probes, answered as JSON by crm_email.health.HealthMiddleware ahead of every other middleware.
PROBES = {"healthz", "readyz"}
# What a signed-in user opens as a page (200, text/html); every other route answers something else.
PAGES = {
    "login", "api-docs", "emails:compose", "compose", "emails:log", "emails:detail", "emails:message-live",
    "emails:message-html", "emails:log-live", "emails:bulk", "emails:bulk-detail", "emails:bulk-live",
    "emails:analytics", "emails:contact", "emails:identities", "emails:templates", "emails:template-new",
    "emails:template-edit", "emails:settings", "emails:unsubscribe", "emails:preferences", "files:list",
    "files:delete",
}  # fmt: skip


def policy(header: str) -> dict[str, list[str]]:
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {words[0]: words[1:] for words in directives}


def routes(patterns: list[Any] | None = None, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(name, route) of every view in the URL conf, the name namespaced (the route itself when unnamed)."""
    found: list[tuple[str, str]] = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
            if inner != "admin":  # the admin's hundreds of routes are tested by example below
                found += routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name or route
            found.append((name, route))
    return found


@pytest.fixture
def world(db: Any, ses: Any) -> dict[str, Any]:
    """A superuser with something behind every route, and the path to ask each route for."""
    user = UserFactory(is_staff=True, is_superuser=True)
    message = make_message(user, subject="Statement", to=("ada@example.com",))
    message.html_body = '<p style="color: #333">Dear Ada, <img src="https://pixel.example/o.gif" alt=""></p>'
    message.save(update_fields=["html_body"])
    template = template_save(
        draft=TemplateDraft(slug="statement", name="Statement", category="notification", subject="Hi {{ name }}",
                            html="<p>Dear {{ name }}</p>", text=""),
        by=user,
    )  # fmt: skip
    bulk = bulk_accept(
        owner=user,
        draft=BulkDraft(name="Spring", subject="Hi", text="Hello", category="marketing",
                        rows=[BulkRow(to="ada@example.com")]),
    )  # fmt: skip
    file_id = uuid.uuid4()
    File.objects.create(
        id=file_id, key=f"document/{user.pk}/{file_id}-x.pdf", file_name="x.pdf", original_name="x.pdf",
        content_type="application/pdf", size=10, max_size=10, category="contract", status="completed", owner=user,
    )  # fmt: skip
    suppression = Suppression.objects.create(address="gone@example.com", reason="manual")
    hold = "1"
    local = {
        "emails:detail": f"/emails/{message.pk}",
        "emails:message-live": f"/emails/{message.pk}/live",
        "emails:message-html": f"/emails/{message.pk}/html",
        "emails:cancel": f"/emails/{message.pk}/cancel",
        "emails:reschedule": f"/emails/{message.pk}/reschedule",
        "emails:resend": f"/emails/{message.pk}/resend",
        "emails:log-live": f"/emails/live?id={message.pk}",
        "emails:bulk-detail": f"/bulk/{bulk.pk}",
        "emails:bulk-live": f"/bulk/{bulk.pk}/live",
        "emails:bulk-change": f"/bulk/{bulk.pk}/pause",
        "emails:contact": "/contacts/ada@example.com",
        "emails:template-edit": f"/templates/{template.slug}",
        "emails:template-restore": f"/templates/{template.slug}/restore",
        "emails:template-test": f"/templates/{template.slug}/test",
        "emails:template-delete": f"/templates/{template.slug}/delete",
        "emails:unsubscribe": unsubscribe_url(address="ada@example.com", category="marketing"),
        "emails:preferences": preferences_url(address="ada@example.com"),
        "files:download": f"/files/{file_id}/download",
        "files:delete": f"/files/{file_id}/delete",
        "files:disk-upload": "/files/upload/not-a-token",
        "files:disk-download": "/files/download/not-a-token",
        "api:contact-detail": "/api/email/contacts/ada@example.com",
        "api:suppression-detail": f"/api/email/suppressions/{suppression.pk}",
        "api:reputation-hold-resume": f"/api/email/reputation/holds/{hold}/resume",
        "api:bulk-detail": f"/api/email/bulk/{bulk.pk}",
        "api:bulk-cancel": f"/api/email/bulk/{bulk.pk}/cancel",
        "api:bulk-pause": f"/api/email/bulk/{bulk.pk}/pause",
        "api:bulk-report": f"/api/email/bulk/{bulk.pk}/report.csv",
        "api:bulk-resume": f"/api/email/bulk/{bulk.pk}/resume",
        "api:bulk-retry-failed": f"/api/email/bulk/{bulk.pk}/retry-failed",
        "api:template-detail": f"/api/email/templates/{template.slug}",
        "api:template-preview": f"/api/email/templates/{template.slug}/preview",
        "api:template-restore": f"/api/email/templates/{template.slug}/restore",
        "api:template-test": f"/api/email/templates/{template.slug}/test",
        "api:template-versions": f"/api/email/templates/{template.slug}/versions",
        "api:email-detail": f"/api/email/{message.pk}",
        "api:email-cancel": f"/api/email/{message.pk}/cancel",
        "api:email-resend": f"/api/email/{message.pk}/resend",
        "files-api:file-detail": f"/api/files/{file_id}",
        "files-api:file-download-url": f"/api/files/{file_id}/download-url",
    }
    # The public pages are asked for by path only (their absolute URL names PUBLIC_BASE_URL's host).
    local = {name: re.sub(r"^https?://[^/]+", "", path) for name, path in local.items()}
    return {"user": user, "paths": local}


# Values for the parameters of a route without an entry in `world`: it answers 404 or 405, headers and all.
_ANY = ("00000000-0000-0000-0000-000000000000", "1", "x")


def _path(name: str, route: str, paths: dict[str, str]) -> str:
    if name in paths:
        return paths[name]
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _ANY[0] if m.group(1) == "uuid" else _ANY[1], route)
    # A DRF route is a regex: each group takes the first value it matches, and the anchors go.
    path = re.sub(
        r"\(\?P<\w+>((?:[^()]|\([^()]*\))+)\)",
        lambda m: next(value for value in _ANY if re.fullmatch(m.group(1), value)),
        path,
    )
    return "/" + path.replace("^", "").replace("/?$", "").replace("$", "")


def test_every_route_answers_with_the_sites_policy_or_its_views_own_and_is_never_framed(
    world: dict[str, Any], client: Client
) -> None:
    client.force_login(world["user"])
    checked, pages = 0, set()
    for name, route in routes():
        if name in PROBES:
            continue
        path = _path(name, route, world["paths"])
        response = client.get(path)
        where = f"{name} (GET {path} answered {response.status_code})"
        assert response.status_code < 500, where
        assert policy(response["Content-Security-Policy"]) == OWN_POLICY.get(name, SITE), where
        assert response["X-Frame-Options"] == ("SAMEORIGIN" if name in FRAMED_BY_US else "DENY"), where
        assert response["X-Content-Type-Options"] == "nosniff", where
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages.add(name)
        checked += 1
    assert checked >= 70  # the walk found the URL conf
    # Each page is a page: a new one is noticed here, and listed in the browser's walk (test_content_policy).
    assert pages == PAGES


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/emails/message/", "/admin/auth/user/add/", "/admin/login/", "/api/docs/?script="]
)
def test_the_admin_and_the_api_docs_script_have_the_sites_policy(
    world: dict[str, Any], client: Client, path: str
) -> None:
    client.force_login(world["user"])
    response = client.get(path)
    assert response.status_code == 200 or response.status_code == 302
    assert policy(response["Content-Security-Policy"]) == SITE
    assert response["X-Frame-Options"] == "DENY"


def test_the_message_page_frames_only_its_own_body_and_only_when_asked(world: dict[str, Any], client: Client) -> None:
    client.force_login(world["user"])
    detail = world["paths"]["emails:detail"]

    blocked = client.get(detail).content.decode()
    assert "srcdoc=" in blocked and world["paths"]["emails:message-html"] not in blocked
    assert "Load remote images" in blocked

    shown = client.get(detail + "?images=remote").content.decode()
    assert f'src="{world["paths"]["emails:message-html"]}"' in shown and "srcdoc=" not in shown
    assert "Block remote images" in shown

    body = client.get(world["paths"]["emails:message-html"])
    assert body["Referrer-Policy"] == "no-referrer"
    assert b'<img src="https://pixel.example/o.gif"' in body.content  # sanitised, not stripped of its images


def test_nobody_else_gets_a_messages_body(world: dict[str, Any], client: Client) -> None:
    path = world["paths"]["emails:message-html"]
    client.force_login(UserFactory())
    assert client.get(path).status_code == 404
    client.logout()
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_message_without_remote_images_offers_no_button(world: dict[str, Any], client: Client) -> None:
    message = make_message(world["user"])
    message.html_body = '<p style="color: red">Hi <img src="cid:logo" alt=""></p>'
    message.save(update_fields=["html_body"])
    client.force_login(world["user"])
    page = client.get(f"/emails/{message.pk}").content.decode()
    assert "srcdoc=" in page and "remote images" not in page


def test_pages_that_upload_to_s3_may_connect_to_its_bucket(
    world: dict[str, Any], client: Client, settings: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "crm-files", "region_name": "eu-west-1", "access_key": "a", "secret_key": "b"},
        },
    }
    client.force_login(world["user"])
    for path in ("/files", "/"):
        connect = policy(client.get(path)["Content-Security-Policy"])["connect-src"]
        assert connect[0] == "'self'" and len(connect) == 2, path
        assert re.fullmatch(r"https://crm-files\.s3[.a-z0-9-]*\.amazonaws\.com", connect[1]), connect
    # An API answer is no page: nothing to connect from.
    assert policy(client.get("/api/files")["Content-Security-Policy"])["connect-src"] == ["'self'"]


# --- HTTPS ------------------------------------------------------------------------------------------------------


@pytest.fixture
def production_https(settings: Any) -> None:
    """The HTTPS settings docs/deploy.md gives, as their variables set them (tests/test_deploy_check.py reads those)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True


def test_behind_the_tls_proxy_https_is_served_with_hsts_and_http_is_redirected(
    production_https: None, client: Client
) -> None:
    over_tls = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert over_tls.status_code == 200
    assert over_tls["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"

    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    assert "Strict-Transport-Security" not in plain  # HSTS only over HTTPS


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_load_balancers_health_checks_are_not_redirected(production_https: None, client: Client, path: str) -> None:
    assert client.get(path).status_code != 301


def test_without_a_proxy_a_forwarded_proto_header_is_not_believed(settings: Any, client: Client) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = None
    forged = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert forged.status_code == 301


def test_locally_nothing_needs_https(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
    assert "secure" not in str(response.cookies.get("csrftoken", "")).lower()
