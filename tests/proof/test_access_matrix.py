"""Who reaches what: every route of the URL conf, as each kind of caller, against one table of expected answers.

The routes come from django.urls.get_resolver(), so a route added without a row in EXPECTED fails
test_every_route_is_in_the_table. A route that names an object (an id, a slug, an address, a token) is asked
for the owner's real object by: its owner, another user with the same (no) permissions, staff without and
staff with the view-all permissions (tests.proof.world.STAFF_PERMISSIONS), anonymous, and wherever a token is
read a bad one (the API's Authorization header; a capability URL's signed token, forged). Routes without an
object get the same callers, so anonymous and a bad token at least. A list another user gets must hold none of
the owner's ids. Each request runs in a savepoint rolled back after it, so one caller's cancel or delete is not
the next one's starting point. The admin's routes (all of them, by the URL conf too) let in staff only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.proof.routes import Route, routes
from tests.proof.world import World

ROLES = ("anonymous", "bad_token", "owner", "peer", "staff", "staff_all")


def _kwargs(route: Route, world: World) -> dict[str, Any]:
    """The owner's object for each of the route's parameters."""
    name = route.key.rsplit(":", 1)[-1]
    values: dict[str, Any] = {
        "message_id": world.message.pk,
        "bulk_id": world.bulk.pk,
        "file_id": world.file.pk,
        "slug": world.template.slug,
        "address": world.address,
        "change": "pause",
    }
    if "token" in route.params:
        values["token"] = {
            "unsubscribe": world.unsubscribe_token,
            "preferences": world.preferences_token,
            "disk-upload": world.upload_token,
            "disk-download": world.download_token,
        }[name]
    if "pk" in route.params:
        prefix = name.split("-", 1)[0]
        values["pk"] = {
            "email": world.message.pk,
            "bulk": world.bulk.pk,
            "file": world.file.pk,
            "suppression": world.suppression.pk,
            "reputation": world.hold.pk,
            "contact": world.address,
        }[prefix]
    return {p: values[p] for p in route.params}


def _ask(route: Route, method: str, role: str, world: World, sessions: dict[str, str]) -> Any:
    client = Client()
    if role in sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[role]
    headers = {"Authorization": "Token not-a-real-token"} if role == "bad_token" and route.is_api else {}
    kwargs = _kwargs(route, world)
    if role == "bad_token" and "token" in kwargs:  # a capability URL: its token forged
        kwargs["token"] = "x" + kwargs["token"][1:-4] + "AAAA"
    url = reverse(route.key, kwargs=kwargs) if route.named else "/" + route.path
    with transaction.atomic():
        response = client.generic(method.upper(), url, headers=headers)
        transaction.set_rollback(True)
    return response


def _roles(route: Route) -> tuple[str, ...]:
    """Everyone; a bad token only where one is read: the API's header, or a capability URL's token."""
    return ROLES if route.is_api or "token" in route.params else tuple(r for r in ROLES if r != "bad_token")


def _sessions(world: World) -> dict[str, str]:
    sessions = {}
    for role in ("owner", "peer", "staff", "staff_all"):
        client = Client()
        client.force_login(world.user(role))
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


# --- The table ---------------------------------------------------------------------------------------------
# Per route and method, the status each caller gets: page(anonymous, owner, peer, staff, staff_all) and
# api(anonymous, bad_token, owner, peer, staff, staff_all). The owner's objects are the world's (a queued
# message, a queued bulk, a completed file, a system template, a suppression, a hold, an address it mailed);
# bodies are empty, so a 400 or 409 is "let in, and refused on the merits".


def page(anonymous: int, owner: int, peer: int, staff: int, staff_all: int) -> dict[str, int]:
    return {"anonymous": anonymous, "owner": owner, "peer": peer, "staff": staff, "staff_all": staff_all}


def api(anonymous: int, bad_token: int, owner: int, peer: int, staff: int, staff_all: int) -> dict[str, int]:
    return {"bad_token": bad_token, **page(anonymous, owner, peer, staff, staff_all)}


def token(valid: int, forged: int) -> dict[str, int]:
    """A capability URL: its signed token is the credential, whoever asks; bad_token is the token forged."""
    return {**page(valid, valid, valid, valid, valid), "bad_token": forged}


EXPECTED: Mapping[str, Mapping[str, Mapping[str, int]]] = {
    "healthz": {"get": page(200, 200, 200, 200, 200), "post": page(200, 200, 200, 200, 200)},
    "readyz": {"get": page(200, 200, 200, 200, 200), "post": page(200, 200, 200, 200, 200)},
    "login": {
        "get": page(200, 200, 200, 200, 200),
        "post": page(200, 200, 200, 200, 200),
        "put": page(200, 200, 200, 200, 200),
    },
    "logout": {"get": page(405, 405, 405, 405, 405), "post": page(302, 302, 302, 302, 302)},
    "api:email-webhook": {"get": api(405, 405, 405, 405, 405, 405), "post": api(403, 403, 403, 403, 403, 403)},
    "api:analytics-list": {"get": api(401, 401, 200, 200, 200, 200)},
    "api:account-list": {"get": api(401, 401, 403, 403, 403, 200)},
    "api:contact-privacy-erase": {"post": api(401, 401, 403, 403, 403, 200)},
    "api:contact-privacy-export": {"get": api(401, 401, 403, 403, 403, 200)},
    "api:contact-detail": {"get": api(401, 401, 200, 200, 200, 200)},
    "api:suppression-list": {"get": api(401, 401, 403, 403, 403, 200), "post": api(401, 401, 403, 403, 403, 400)},
    "api:suppression-detail": {"delete": api(401, 401, 403, 403, 403, 200)},
    "api:reputation-hold-resume": {"post": api(401, 401, 403, 403, 403, 200)},
    "api:reputation-list": {"get": api(401, 401, 403, 403, 403, 200)},
    "api:identity-list": {"get": api(401, 401, 403, 403, 200, 200), "post": api(401, 401, 403, 403, 400, 400)},
    "api:bulk-list": {"get": api(401, 401, 200, 200, 200, 200), "post": api(401, 401, 400, 400, 400, 400)},
    "api:bulk-detail": {"get": api(401, 401, 200, 404, 404, 200)},
    "api:bulk-cancel": {"post": api(401, 401, 200, 404, 404, 200)},
    "api:bulk-pause": {"post": api(401, 401, 200, 404, 404, 200)},
    "api:bulk-report": {"get": api(401, 401, 200, 404, 404, 200)},
    "api:bulk-resume": {"post": api(401, 401, 409, 404, 404, 409)},
    "api:bulk-retry-failed": {"post": api(401, 401, 409, 404, 404, 409)},
    "api:template-list": {"get": api(401, 401, 403, 403, 403, 200), "post": api(401, 401, 403, 403, 403, 400)},
    "api:template-detail": {
        "get": api(401, 401, 403, 403, 403, 200),
        "put": api(401, 401, 403, 403, 403, 400),
        "patch": api(401, 401, 403, 403, 403, 200),
        "delete": api(401, 401, 403, 403, 403, 409),
    },
    "api:template-preview": {"post": api(401, 401, 403, 403, 403, 200)},
    "api:template-restore": {"post": api(401, 401, 403, 403, 403, 400)},
    "api:template-test": {"post": api(401, 401, 403, 403, 403, 400)},
    "api:template-versions": {"get": api(401, 401, 403, 403, 403, 200)},
    "api:email-list": {"get": api(401, 401, 200, 200, 200, 200), "post": api(401, 401, 400, 400, 400, 400)},
    "api:email-quota": {"get": api(401, 401, 200, 200, 200, 200)},
    "api:email-detail": {"get": api(401, 401, 200, 404, 404, 200), "patch": api(401, 401, 400, 404, 404, 400)},
    "api:email-cancel": {"post": api(401, 401, 200, 404, 404, 200)},
    "api:email-resend": {"post": api(401, 401, 409, 404, 404, 409)},
    "files-api:file-list": {"get": api(401, 401, 200, 200, 200, 200)},
    "files-api:file-complete": {"post": api(401, 401, 400, 400, 400, 400)},
    "files-api:file-upload-url": {"post": api(401, 401, 400, 400, 400, 400)},
    "files-api:file-detail": {"get": api(401, 401, 200, 404, 404, 200), "delete": api(401, 401, 200, 404, 404, 200)},
    "files-api:file-download-url": {"get": api(401, 401, 200, 404, 404, 200)},
    "schema": {"get": page(200, 200, 200, 200, 200)},
    "api-docs": {"get": page(200, 200, 200, 200, 200)},
    "emails:compose": {"get": page(302, 200, 200, 200, 200), "post": page(302, 200, 200, 200, 200)},
    "compose": {"get": page(302, 200, 200, 200, 200), "post": page(302, 200, 200, 200, 200)},
    "emails:compose-recipients": {"get": page(302, 200, 200, 200, 200)},
    "emails:compose-template": {"post": page(302, 403, 403, 403, 404)},
    "emails:log": {"get": page(302, 200, 200, 200, 200)},
    "emails:export": {"get": page(302, 200, 200, 200, 200), "post": page(302, 200, 200, 200, 200)},
    "emails:detail": {"get": page(302, 200, 404, 404, 200)},
    "emails:message-live": {"get": page(302, 200, 404, 404, 200)},
    "emails:message-html": {"get": page(302, 200, 404, 404, 200)},
    "emails:cancel": {"post": page(302, 302, 404, 404, 302)},
    "emails:reschedule": {"post": page(302, 302, 404, 404, 302)},
    "emails:resend": {"post": page(302, 302, 404, 404, 302)},
    "emails:log-live": {"get": page(302, 200, 200, 200, 200)},
    "emails:bulk": {"get": page(302, 200, 200, 200, 200), "post": page(302, 200, 200, 200, 200)},
    "emails:bulk-detail": {"get": page(302, 200, 404, 404, 200)},
    "emails:bulk-live": {"get": page(302, 200, 404, 404, 200)},
    "emails:bulk-change": {"post": page(302, 302, 404, 404, 302)},
    "emails:analytics": {"get": page(302, 200, 200, 200, 200)},
    "emails:analytics-export": {"get": page(302, 200, 200, 200, 200), "post": page(302, 200, 200, 200, 200)},
    "emails:contact": {"get": page(302, 200, 200, 200, 200)},
    "emails:identities": {"get": page(302, 403, 403, 200, 200), "post": page(302, 403, 403, 400, 400)},
    "emails:templates": {"get": page(302, 403, 403, 403, 200)},
    "emails:template-new": {"get": page(302, 403, 403, 403, 200), "post": page(302, 403, 403, 403, 400)},
    "emails:template-preview": {"post": page(403, 403, 403, 403, 200)},
    "emails:template-edit": {"get": page(302, 403, 403, 403, 200), "post": page(302, 403, 403, 403, 400)},
    "emails:template-restore": {"post": page(302, 403, 403, 403, 404)},
    "emails:template-test": {"post": page(302, 403, 403, 403, 400)},
    "emails:template-delete": {"post": page(302, 403, 403, 403, 302)},
    "emails:settings": {"get": page(302, 200, 200, 200, 200), "post": page(302, 302, 302, 302, 302)},
    "emails:unsubscribe": {"get": token(200, 400), "post": token(200, 400)},
    "emails:preferences": {"get": token(200, 400), "post": token(302, 400)},
    "files:list": {"get": page(302, 200, 200, 200, 200)},
    # A GET only: it counts the download. Signed-in callers get the 405 before any file is looked up.
    "files:download": {"get": page(302, 302, 404, 404, 302), "post": page(302, 405, 405, 405, 405)},
    "files:delete": {"get": page(302, 200, 404, 404, 200), "post": page(302, 302, 404, 404, 302)},
    "files:disk-upload": {"get": token(405, 405), "post": token(403, 403)},
    "files:disk-download": {"get": token(200, 403), "post": token(405, 405)},  # S3's 405, before the token
}
# Every route of django.contrib.admin but its own sign-in and sign-out: anyone but staff is sent to sign in.
ADMIN_OPEN = {"admin:login", "admin:logout"}
ADMIN_SAMPLE = {"app_label": "emails", "object_id": "1", "content_type_id": "1", "url": "x", "id": "1"}


def test_every_route_is_in_the_table(db: Any) -> None:
    """A new route fails here until its expected answers are written in EXPECTED."""
    missing = [r.key for r in routes() if not r.path.startswith("admin/") and r.key not in EXPECTED]
    assert missing == [], f"routes without a row in EXPECTED: {missing}"
    stale = set(EXPECTED) - {r.key for r in routes()}
    assert stale == set(), f"rows for routes that are gone: {sorted(stale)}"


@pytest.fixture
def world(db: Any, ses: Any, settings: Any) -> World:
    """SES answered by moto (quota, identities), files on disk under the test's MEDIA_ROOT."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return World.build()


def test_each_caller_gets_what_the_table_says(world: World) -> None:
    sessions = _sessions(world)
    owned = [str(world.message.pk), str(world.bulk.pk), str(world.file.pk)]
    log = next(r for r in routes() if r.key == "api:email-list")
    assert owned[0].encode() in _ask(log, "get", "staff_all", world, sessions).content  # the leak check sees
    wrong, leaks = [], []
    for route in routes():
        if route.path.startswith("admin/") or route.key not in EXPECTED:
            continue
        for method in route.methods:
            for role in _roles(route):
                response = _ask(route, method, role, world, sessions)
                expected = EXPECTED[route.key].get(method, {}).get(role)
                if response.status_code != expected:
                    wrong.append(f"{method.upper()} {route.key} as {role}: {response.status_code}, expected {expected}")
                if role in ("peer", "staff") and response.status_code == 200 and not route.params:
                    body = b"".join(response) if response.streaming else response.content
                    leaks += [f"{method.upper()} {route.key} as {role} shows {i}" for i in owned if i.encode() in body]
    assert wrong == [], "\n".join(wrong)
    assert leaks == []  # a list another user sees holds nothing of the owner's


def test_the_admin_lets_in_staff_only(world: World) -> None:
    sessions = _sessions(world)
    wrong = []
    for route in routes():
        if not route.path.startswith("admin/") or route.key in ADMIN_OPEN:
            continue
        if route.named:
            url = reverse(route.key, kwargs={p: ADMIN_SAMPLE[p] for p in route.params})
        else:  # the admin's unnamed redirects: "<path:object_id>/"
            url = "/" + route.path.replace("<path:object_id>", "1")
        for role in ("anonymous", "owner", "peer"):
            client = Client()
            if role in sessions:
                client.cookies[settings.SESSION_COOKIE_NAME] = sessions[role]
            response = client.get(url)
            if response.status_code != 302 or not response["Location"].startswith("/admin/login/"):
                wrong.append(f"{url} as {role}: {response.status_code} {response.get('Location')}")
    assert wrong == [], "\n".join(wrong)
