"""One address's export and erasure: everything held handed over; then replaced by a keyed hash everywhere.

The mail is sent through the API and SES (moto), its events come as SNS
posts stored and applied by the pipeline, as in production.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.core import serializers
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from emails.models import Bulk, Event, IdempotencyKey, InboundNotification, Message, Recipient, Suppression
from emails.privacy import contact_erase
from emails.pseudonyms import Scrubber, address_pseudonym
from emails.suppression import SuppressionList, preferences_set, suppression_add
from emails.tracking import notification_store, notifications_drain
from tests.emails.ses_examples import ses_event
from tests.factories import UserFactory
from tests.sns_signing import sns_envelope

JANE = "jane@example.com"
BOB = "bob@example.com"
ERASED_COUNTS = {"recipients", "messages", "bodiesRemoved", "events", "suppressions", "notifications", "bulks",
                 "idempotencyKeys"}  # fmt: skip


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def staff_with(*codenames: str) -> Any:
    staff = UserFactory(is_staff=True)
    for codename in codenames:
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    return staff


@pytest.fixture
def eraser(db: Any) -> Any:
    return staff_with("erase_contact")


def ses_id(message: Message) -> str:
    return str(message.recipients.values_list("ses_message_id", flat=True).first())


def arrive(event: dict[str, Any], **mail: Any) -> None:
    """One SES event posted by SNS, stored as the webhook does, then applied by the pipeline."""
    event["mail"].update(mail)
    envelope = sns_envelope(event)
    notification_store(message=envelope, body=json.dumps(envelope))
    notifications_drain()


def send(post_email: Any, payload: dict[str, Any], **headers: str) -> Message:
    body = {"subject": "Your statement", "textContent": "Hello Jane", "htmlContent": "<p>Hello Jane</p>",
            "category": "notification", **payload}  # fmt: skip
    response = post_email(body, **headers)
    assert response.status_code == 201, response.content
    return Message.objects.get(pk=response.json()["data"]["messageId"])


@pytest.fixture
def held(post_email: Any, ses: Any, api: APIClient, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """Jane, on every kind of row: two messages (one shared with Bob), events, a bounce, an unsubscribe, a bulk."""
    shared = send(
        post_email,
        {"to": ["Jane Doe <Jane@Example.com>", BOB], "subject": f"Statement for {JANE}", "customData": {"email": JANE}},
        **{"Idempotency-Key": f"statement-{JANE}"},
    )
    both = {"destination": [JANE, BOB], "commonHeaders": {"to": [f"Jane Doe <{JANE}>", BOB], "subject": "x"}}
    arrive(ses_event("Delivery", ses_message_id=ses_id(shared), recipients=[BOB]), **both)
    arrive(ses_event("Delivery", ses_message_id=ses_id(shared), recipients=[JANE]), **both)
    arrive(ses_event("Open", ses_message_id=ses_id(shared), recipients=[JANE]), **both)
    marketing = send(post_email, {"to": [JANE], "category": "marketing", "subject": "News"})
    bounce = {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [
        {"emailAddress": JANE, "action": "failed", "status": "5.1.1",
         "diagnosticCode": f"smtp; 550 5.1.1 <{JANE}>: Recipient address rejected"}]}  # fmt: skip
    arrive(ses_event("Bounce", ses_message_id=ses_id(marketing), recipients=[JANE], **bounce))
    preferences_set(address=JANE, receives=["notification", "client-portal"])  # off marketing, by her own choice
    # An event SES sent about mail we hold no record of: no recipient matched it.
    arrive(ses_event("Complaint", ses_message_id="not-ours-0001", recipients=[JANE]))
    bobs = send(post_email, {"to": [BOB], "subject": "Only Bob"})
    with django_capture_on_commit_callbacks(execute=True):
        bulk = api.post("/api/email/bulk", {
            "name": "Spring", "subject": "Spring news", "textContent": "Hi {{ first }}", "category": "notification",
            "recipients": [{"to": JANE, "templateData": {"first": "Jane"}}, {"to": BOB, "templateData": {"first": "B"}},
                           {"to": JANE.upper(), "templateData": {"first": "again"}}],
        }, format="json")  # fmt: skip
    assert bulk.status_code == 202, bulk.content
    return {"shared": shared, "marketing": marketing, "bobs": bobs, "bulk": Bulk.objects.get()}


def export(client: APIClient, address: str = JANE) -> dict[str, Any]:
    response = client.get(f"/api/email/contacts/{quote(address)}/export")
    assert response.status_code == 200, response.content
    return dict(response.json()["data"])


def erase(client: APIClient, address: str = JANE) -> dict[str, int]:
    response = client.post(f"/api/email/contacts/{quote(address)}/erase")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert set(data) == ERASED_COUNTS
    return dict(data)


def test_the_export_is_everything_held_about_the_address(held: dict[str, Any], staff_user: Any, user: Any) -> None:
    data = export(client_for(staff_user), "JANE@example.COM")  # whatever its case

    assert data["address"] == JANE
    rows = {r["message"]["id"]: r for r in data["recipients"]}
    bulk_messages = {str(m.pk) for m in held["bulk"].messages.all() if m.recipients.get().address == JANE}
    assert set(rows) == {str(held["shared"].pk), str(held["marketing"].pk), *bulk_messages}
    shared = rows[str(held["shared"].pk)]
    assert (shared["displayName"], shared["status"], shared["kind"]) == ("Jane Doe", "opened", "to")
    assert shared["message"]["subject"] == f"Statement for {JANE}"
    assert shared["message"]["owner"] == user.username
    assert (shared["message"]["category"], shared["message"]["status"]) == ("notification", "delivered")
    assert shared["message"]["sentAt"] is not None
    assert rows[str(held["marketing"].pk)]["status"] == "bounced"

    # Her events only, the unmatched complaint too; none of Bob's.
    assert {e["address"] for e in data["events"]} == {JANE}
    # The bulk's message to her came after the bounce: suppressed, never sent.
    assert sorted(e["type"] for e in data["events"]) == ["bounce", "complaint", "delivery", "open", "send", "send",
                                                         "suppressed"]  # fmt: skip
    bounce = next(e for e in data["events"] if e["type"] == "bounce")
    assert JANE in bounce["details"]["diagnosticCode"]
    # The complaint found her suppressed for all mail already (the bounce).
    assert sorted((s["scope"], s["reason"]) for s in data["suppressions"]) == [
        ("all", "bounce"),
        ("marketing", "unsubscribe"),
    ]
    assert data["preferences"] == [
        {"category": "marketing", "receives": False}, {"category": "notification", "receives": True},
        {"category": "client-portal", "receives": True},
    ]  # fmt: skip
    assert data["blockedForAllMail"] is True
    # Every stored SNS body naming her, Bob's delivery too (its mail listed her as a destination).
    assert len(data["notifications"]) == 5
    assert all(JANE in n["body"].lower() for n in data["notifications"])
    (bulk,) = data["bulks"]
    assert bulk["bulkId"] == str(held["bulk"].pk) and bulk["name"] == "Spring"
    assert [row["index"] for row in bulk["rows"]] == [0]
    assert [(s["index"], s["to"]) for s in bulk["skipped"]] == [(2, JANE.upper())]
    assert data["truncated"] == []


def test_an_export_is_cut_at_its_limit_and_says_so(held: dict[str, Any], staff_user: Any, settings: Any) -> None:
    settings.EMAIL_EXPORT_MAX_ROWS = 2
    data = export(client_for(staff_user))
    assert (len(data["recipients"]), len(data["events"]), len(data["notifications"])) == (2, 2, 2)
    assert len(data["suppressions"]) == 2
    assert data["truncated"] == ["recipients", "events", "notifications"]


def test_an_address_nothing_is_held_about_exports_empty(db: Any, staff_user: Any) -> None:
    data = export(client_for(staff_user), "nobody@example.com")
    assert (data["recipients"], data["events"], data["suppressions"], data["notifications"], data["bulks"]) == (
        [],
        [],
        [],
        [],
        [],
    )


def everything_stored() -> str:
    """Every row of every kind the address could be in, as text, lower-cased."""
    models = (Message, Recipient, Event, Suppression, InboundNotification, Bulk, IdempotencyKey)
    return "\n".join(serializers.serialize("json", m.objects.all()) for m in models).lower()


def test_after_the_erasure_nothing_holds_the_address_readably(
    held: dict[str, Any], eraser: Any, staff_user: Any
) -> None:
    assert JANE in everything_stored() and "jane doe" in everything_stored()
    before = Message.objects.get(pk=held["shared"].pk)

    counts = erase(client_for(eraser), "Jane@Example.com")

    assert counts == {"recipients": 3, "messages": 3, "bodiesRemoved": 3, "events": 7, "suppressions": 2,
                      "notifications": 5, "bulks": 1, "idempotencyKeys": 1}  # fmt: skip
    stored = everything_stored()
    assert JANE not in stored and "jane doe" not in stored
    assert json.dumps(JANE)[1:-1] not in stored  # nor JSON-escaped
    hashed = address_pseudonym(JANE)
    assert hashed.startswith("erased:") and len(hashed) == len("erased:") + 64
    assert set(Recipient.objects.exclude(address=BOB).values_list("address", "display_name", "domain")) == {
        (hashed, "", "")
    }
    # Her messages keep their metadata, counts and cost, not their bodies; Bob's own message keeps its body.
    shared = Message.objects.get(pk=held["shared"].pk)
    assert (shared.status, shared.sent_count, shared.delivered_count, shared.cost) == (
        before.status,
        before.sent_count,
        before.delivered_count,
        before.cost,
    )
    assert (shared.html_body, shared.text_body, shared.body_removed_reason) == ("", "", "erasure")
    assert shared.subject == f"Statement for {hashed}"
    assert Message.objects.get(pk=held["bobs"].pk).text_body == "Hello Jane"
    assert bob_untouched()
    # Events keep their timeline under the hash.
    assert sorted(Event.objects.filter(address=hashed).values_list("type", flat=True)) == [
        "bounce",
        "complaint",
        "delivery",
        "open",
        "send",
        "send",
        "suppressed",
    ]


def bob_untouched() -> bool:
    return Recipient.objects.filter(address=BOB).count() == 3 and BOB in everything_stored()


def test_after_the_erasure_no_search_finds_the_address(
    held: dict[str, Any], eraser: Any, staff_user: Any, client: Client
) -> None:
    erase(client_for(eraser))
    staff = client_for(staff_user)

    log = staff.get("/api/email", {"search": JANE}).json()["data"]
    assert log["emails"] == [] and log["pagination"]["total"] == 0
    assert staff.get("/api/email", {"search": "jane"}).json()["data"]["pagination"]["total"] == 0
    contact = staff.get(f"/api/email/contacts/{JANE}").json()["data"]
    assert (contact["messages"], contact["suppressions"], contact["suppressed"]) == ([], [], False)
    assert export(staff)["recipients"] == []

    # The suppression list: nothing found by the address, and nothing readable in it at all.
    admin = UserFactory(is_staff=True, is_superuser=True)
    everyone = client_for(admin)
    found = everyone.get("/api/email/suppressions", {"search": "jane"}).json()["data"]
    assert found["suppressions"] == []
    listed = everyone.get("/api/email/suppressions").json()["data"]["suppressions"]
    assert listed and all(s["address"].startswith("erased:") for s in listed)
    assert not any("@" in s["address"] or "jane" in s["detail"].lower() for s in listed)

    # The pages: the contact page, the log.
    client.force_login(admin)
    page = client.get(f"/contacts/{JANE}").content.decode()
    assert "None of the mail went to this address." in page
    assert "Statement for" not in page
    assert "Your statement" not in client.get("/emails", {"search": JANE}).content.decode()

    # The admin's searches.
    for model in ("message", "recipient", "event", "suppression", "inboundnotification", "idempotencykey"):
        response = client.get(f"/admin/emails/{model}/", {"q": JANE})
        assert response.status_code == 200, model
        assert response.context["cl"].result_count == 0, model


def test_an_erased_suppressed_address_is_never_mailed_again(
    held: dict[str, Any], eraser: Any, post_email: Any, ses: Any
) -> None:
    erase(client_for(eraser))
    handed_to_ses = len(ses.sent_messages)

    again = send(post_email, {"to": [JANE.upper()], "subject": "Are you there?"})

    again.refresh_from_db()
    assert again.status == "suppressed"
    assert again.recipients.get().status == "suppressed"
    assert len(ses.sent_messages) == handed_to_ses  # never handed to SES
    # Mail to someone else goes as ever.
    assert send(post_email, {"to": [BOB]}).recipients.get().status == "sent"
    assert len(ses.sent_messages) == handed_to_ses + 1


def test_a_second_erasure_changes_nothing(held: dict[str, Any], eraser: Any) -> None:
    erase(client_for(eraser))
    stored = everything_stored()
    assert erase(client_for(eraser)) == dict.fromkeys(ERASED_COUNTS, 0)
    assert everything_stored() == stored


def test_ses_events_that_name_an_erased_address_later_are_kept_under_its_hash(
    held: dict[str, Any], eraser: Any
) -> None:
    erase(client_for(eraser))
    Suppression.objects.update(lifted_at=timezone.now())  # staff lifted her suppressions since
    shared = held["shared"]
    # Days later SES reports a click and a complaint, naming her in the clear.
    later = {"destination": [JANE], "commonHeaders": {"to": [f"Jane Doe <{JANE}>"], "subject": "x"}}
    arrive(ses_event("Click", ses_message_id=ses_id(shared), recipients=[JANE],
                  link=f"https://crm.example.com/r?u={JANE}"), **later)  # fmt: skip
    arrive(ses_event("Complaint", ses_message_id=ses_id(shared), recipients=[JANE]), **later)

    hashed = address_pseudonym(JANE)
    assert JANE not in everything_stored()
    recipient = Recipient.objects.get(message=shared, address=hashed)
    assert recipient.status == "complaint"  # applied to her erased row, as any event
    click = Event.objects.get(recipient=recipient, type="click")
    assert click.details["link"] == f"https://crm.example.com/r?u={hashed}"
    # The complaint suppresses her again, under the hash.
    assert list(Suppression.objects.filter(lifted_at=None).values_list("address", "reason")) == [(hashed, "complaint")]


def test_mail_still_to_be_sent_is_not_sent_to_the_erased_address(
    post_email: Any, ses: Any, eraser: Any, api: APIClient
) -> None:
    later = (timezone.now() + timedelta(days=2)).isoformat()
    with_bob = send(post_email, {"to": [JANE, BOB], "sendAt": later})
    alone = send(post_email, {"to": [JANE], "sendAt": later})

    assert erase(client_for(eraser))["recipients"] == 2

    with_bob.refresh_from_db()
    alone.refresh_from_db()
    # Bob still gets his: its bodies stay, her row will not be sent.
    assert (with_bob.status, with_bob.text_body, with_bob.body_removed_at) == ("scheduled", "Hello Jane", None)
    assert with_bob.recipients.get(address=address_pseudonym(JANE)).status == "suppressed"
    assert with_bob.suppressed_count == 1
    # Nobody is left to send hers to: its bodies go.
    assert (alone.text_body, alone.body_removed_reason) == ("", "erasure")
    assert alone.recipients.get().status == "suppressed"


@pytest.mark.parametrize("action", ["export", "erase"])
def test_only_staff_with_the_permission_may(action: str, db: Any, user: Any, staff_user: Any, eraser: Any) -> None:
    method = "get" if action == "export" else "post"
    path = f"/api/email/contacts/{JANE}/{action}"
    allowed = staff_user if action == "export" else eraser
    refused = [user, UserFactory(is_staff=True), eraser if action == "export" else staff_user]

    for someone in refused:
        response = getattr(client_for(someone), method)(path)
        assert response.status_code == 403, someone
        assert response.json()["success"] is False
    assert getattr(APIClient(), method)(path).status_code == 401
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert getattr(bad_token, method)(path).status_code == 401
    assert getattr(client_for(allowed), method)(path).status_code == 200


@pytest.mark.parametrize("address", ["not-an-address", "jane@", "a" * 250 + "@example.com", "jane@example.com\x00",
                                     "erased:" + "0" * 64])  # fmt: skip
def test_an_invalid_address_is_refused_and_changes_nothing(
    address: str, held: dict[str, Any], eraser: Any, staff_user: Any
) -> None:
    stored = everything_stored()
    for client, method, action in ((client_for(eraser), "post", "erase"), (client_for(staff_user), "get", "export")):
        response = getattr(client, method)(f"/api/email/contacts/{quote(address)}/{action}")
        assert response.status_code == 400, response.content
        assert [d["path"] for d in response.json()["details"]] == [["address"]]
    assert everything_stored() == stored


def test_the_send_path_matches_erased_addresses_in_one_query(
    db: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    suppression_add(address=JANE, reason="bounce")
    contact_erase(address=JANE)
    with django_assert_num_queries(1):
        found = SuppressionList.of([JANE, BOB, "carol@example.com"])
    assert found.matching(JANE.upper(), "notification") is not None
    assert found.matching(BOB, "notification") is None


def test_after_a_key_rotation_the_old_keys_hashes_still_match(db: Any, settings: Any) -> None:
    suppression_add(address=JANE, reason="complaint")
    contact_erase(address=JANE)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-for-this-test"
    settings.SECRET_KEY_FALLBACKS = [old]
    assert SuppressionList.of([JANE]).matching(JANE, "marketing") is not None
    # Why the old key has to stay among the fallbacks:
    settings.SECRET_KEY_FALLBACKS = []
    assert SuppressionList.of([JANE]).matching(JANE, "marketing") is None


def test_the_hash_is_keyed_and_its_key_is_for_this_purpose_only(settings: Any) -> None:
    hashed = address_pseudonym(" Jane@Example.com ")
    assert hashed == address_pseudonym(JANE)
    assert hashed != address_pseudonym(JANE, secret="another-key")
    # Not the plain SHA-256 of the address, nor Django's salted_hmac under the secret key as it is.
    assert hashed[len("erased:") :] != hashlib.sha256(JANE.encode()).hexdigest()
    assert hashed[len("erased:") :] != hmac.new(settings.SECRET_KEY.encode(), JANE.encode(), "sha256").hexdigest()


def test_the_scrubber_replaces_the_address_and_its_names_only_beside_it() -> None:
    scrub = Scrubber.of(JANE, names=["Ed", "J"])
    assert scrub.text("To: Ed <JANE@example.com>, Eddie <eddie@example.com>") == (
        f"To:  <{scrub.pseudonym}>, Eddie <eddie@example.com>"
    )
    assert scrub.text("Ed wrote to eddie@example.com") == "Ed wrote to eddie@example.com"  # no address, no change
    inner = json.dumps({"mail": {"destination": [JANE]}, "note": "Ed"})
    body = json.dumps({"Type": "Notification", "Message": inner})
    scrubbed = json.loads(scrub.document(body))
    assert json.loads(scrubbed["Message"])["mail"]["destination"] == [scrub.pseudonym]
    # A name is removed between the address's places only, never out of the pseudonym ("erased:" holds "ed").
    assert scrub.text(f"Ed {JANE}") == f" {scrub.pseudonym}"


@pytest.mark.parametrize(
    "path",
    ["%FF%FE", "%00", "a" * 5000, "jane@example.com/extra", "%F0%9F%98%80@example.com",
     "j%C3%B6s%C3%A9@ex%C3%A4mple.com", "..%2F..%2Fetc", "'; DROP TABLE emails_recipient; --@example.com", "%25"],
)  # fmt: skip
def test_hostile_addresses_get_an_answer_never_a_server_error(path: str, db: Any, eraser: Any, staff_user: Any) -> None:
    erased = client_for(eraser).post(
        f"/api/email/contacts/{path}/erase", data=b"\xff{not json", content_type="application/json"
    )
    exported = client_for(staff_user).get(f"/api/email/contacts/{path}/export")
    for response in (erased, exported):
        assert response.status_code in (200, 400), (path, response.status_code, response.content[:200])
