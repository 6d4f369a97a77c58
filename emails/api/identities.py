"""`/api/email/identities`: the SES sender identities, and starting verification of a new one. Staff only.

Identities are the account's, not a user's: any staff member may see them and
add one (no model holds them, so there is no model permission to ask for).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from core.rest.envelope import envelope_schema, error_responses, ok
from emails.senders import IDENTITY_TYPES, identities_list, identity_verify

_STATUS_HELP = "SES's status: Pending, Success, Failed, TemporaryFailure or NotStarted."


class DkimSerializer(serializers.Serializer[Any]):
    enabled = serializers.BooleanField()
    status = serializers.CharField(help_text=_STATUS_HELP)
    tokens = serializers.ListField(child=serializers.CharField())


class IdentitySerializer(serializers.Serializer[Any]):
    identity = serializers.CharField(help_text="A domain or an email address.")
    type = serializers.ChoiceField(choices=IDENTITY_TYPES)
    verified = serializers.BooleanField(
        help_text="Whether mail may be sent from it (for a domain: from any address at it)."
    )
    status = serializers.CharField(help_text=_STATUS_HELP)
    dkim = DkimSerializer()


class IdentityCreateSerializer(serializers.Serializer[Any]):
    # Shape only; what a domain or an address may be is the service's rule (emails.senders).
    identity = serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False)


class DnsRecordSerializer(serializers.Serializer[Any]):
    type = serializers.CharField(help_text="TXT or CNAME.")
    name = serializers.CharField()
    value = serializers.CharField()


class VerificationSerializer(serializers.Serializer[Any]):
    identity = serializers.CharField()
    type = serializers.ChoiceField(choices=IDENTITY_TYPES)
    records = DnsRecordSerializer(many=True, help_text="The DNS records to publish; none for an address.")
    note = serializers.CharField(help_text="What happens next, in words.")


_Identities = inline_serializer("Identities", {"identities": IdentitySerializer(many=True)})


class IdentityViewSet(viewsets.ViewSet):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: envelope_schema("Identities", _Identities), **error_responses(401, 403, 503)})
    def list(self, request: Request) -> Response:
        return ok({"identities": identities_list()})

    @extend_schema(
        request=IdentityCreateSerializer,
        responses={
            201: envelope_schema("Verification", VerificationSerializer),
            **error_responses(400, 401, 403, 503),
        },
    )
    def create(self, request: Request) -> Response:
        payload = IdentityCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        verification = identity_verify(payload.validated_data["identity"])
        return ok(verification, message="Verification started", status=status.HTTP_201_CREATED)
