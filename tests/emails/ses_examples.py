"""The example SES event payloads from AWS's documentation, with our ids and addresses put in.

Event publishing ("Examples of event data that Amazon SES publishes to Amazon
SNS") and the older notifications ("Amazon SNS notification examples for
Amazon SES"). Only messageId, destination, the recipient addresses and the
timestamps are replaced; everything else is as AWS documents it.
"""

from __future__ import annotations

import copy
from typing import Any

_MAIL: dict[str, Any] = {
    "timestamp": "2017-08-05T00:40:02.012Z",
    "source": "Sender Name <sender@example.com>",
    "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
    "sendingAccountId": "123456789012",
    "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
    "destination": ["recipient@example.com"],
    "headersTruncated": False,
    "headers": [
        {"name": "From", "value": "Sender Name <sender@example.com>"},
        {"name": "To", "value": "recipient@example.com"},
        {"name": "Subject", "value": "Message sent from Amazon SES"},
        {"name": "MIME-Version", "value": "1.0"},
        {
            "name": "Content-Type",
            "value": 'multipart/alternative; boundary="----=_Part_7307378_1629847660.1516840721503"',
        },
    ],
    "commonHeaders": {
        "from": ["Sender Name <sender@example.com>"],
        "to": ["recipient@example.com"],
        "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
        "subject": "Message sent from Amazon SES",
    },
    "tags": {
        "ses:configuration-set": ["ConfigSet"],
        "ses:source-ip": ["192.0.2.0"],
        "ses:from-domain": ["example.com"],
        "ses:caller-identity": ["ses_user"],
    },
}

_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "Send": ("send", {}),
    "Delivery": (
        "delivery",
        {
            "timestamp": "2016-10-19T23:21:04.133Z",
            "processingTimeMillis": 11893,
            "recipients": ["recipient@example.com"],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "mta.example.com",
        },
    ),
    "Bounce": (
        "bounce",
        {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": "recipient@example.com",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2017-08-05T00:41:02.669Z",
            "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "reportingMTA": "dsn; mta.example.com",
        },
    ),
    "Complaint": (
        "complaint",
        {
            "feedbackId": "0100015e0ab3d5b0-4f7a3c8b-09d6-42f5-9e14-3c6e2f2example-000000",
            "complaintSubType": None,
            "complainedRecipients": [{"emailAddress": "recipient@example.com"}],
            "timestamp": "2017-08-05T00:41:02.669Z",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/60.0.3112.90",
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2017-08-05T00:41:02.669Z",
        },
    ),
    "Reject": ("reject", {"reason": "Bad content"}),
    "Open": (
        "open",
        {
            "ipAddress": "192.0.2.1",
            "timestamp": "2017-08-09T22:00:19.652Z",
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8",
        },
    ),
    "Click": (
        "click",
        {
            "ipAddress": "192.0.2.1",
            "link": "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
            "linkTags": {"samplekey0": ["samplevalue0"], "samplekey1": ["samplevalue1"]},
            "timestamp": "2017-08-09T23:51:25.570Z",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/60.0.3112.90",
        },
    ),
    "Rendering Failure": (
        "failure",
        {
            "errorMessage": "Attribute 'attributeName' is not present in the rendering data.",
            "templateName": "MyTemplate",
        },
    ),
    "DeliveryDelay": (
        "deliveryDelay",
        {
            "timestamp": "2020-06-16T00:15:40.641Z",
            "delayType": "TransientCommunicationFailure",
            "expirationTime": "2020-06-16T00:25:11.000Z",
            "delayedRecipients": [
                {
                    "emailAddress": "recipient@example.com",
                    "status": "4.4.1",
                    "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host",
                }
            ],
        },
    ),
    "Subscription": (
        "subscription",
        {
            "contactList": "ContactListName",
            "timestamp": "2022-01-12T01:00:17.910Z",
            "source": "UnsubscribeHeader",
            "newTopicPreferences": {
                "unsubscribeAll": True,
                "topicSubscriptionStatus": [{"topicName": "ExampleTopicName", "subscriptionStatus": "OptOut"}],
            },
            "oldTopicPreferences": {
                "unsubscribeAll": False,
                "topicSubscriptionStatus": [{"topicName": "ExampleTopicName", "subscriptionStatus": "OptIn"}],
            },
        },
    ),
}

EVENT_TYPES = sorted(_BODIES)


def ses_event(
    kind: str,
    *,
    ses_message_id: str,
    recipients: list[str],
    notification: bool = False,
    timestamp: str | None = None,
    **body_changes: Any,
) -> dict[str, Any]:
    """AWS's example for `kind`, about our SES message and these recipients.

    `notification=True` gives the older notification format
    (`notificationType`), which exists for Bounce, Complaint and Delivery.
    """
    key, body = copy.deepcopy(_BODIES[kind])
    mail = copy.deepcopy(_MAIL)
    mail["messageId"] = ses_message_id
    mail["destination"] = list(recipients)
    mail["commonHeaders"]["to"] = list(recipients)
    if "recipients" in body:
        body["recipients"] = list(recipients)
    for list_key in ("bouncedRecipients", "delayedRecipients"):
        if list_key in body:
            template = body[list_key][0]
            body[list_key] = [{**template, "emailAddress": address} for address in recipients]
    if "complainedRecipients" in body:
        body["complainedRecipients"] = [{"emailAddress": address} for address in recipients]
    if timestamp and "timestamp" in body:
        body["timestamp"] = timestamp
    body.update(body_changes)
    type_key = "notificationType" if notification else "eventType"
    return {type_key: kind, key: body, "mail": mail}
