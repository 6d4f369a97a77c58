"""What the other email endpoints answer: the log's stats, a send's acknowledgement, the quota (schema, and where
shaped here, the data)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class CountByStatusSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    count = serializers.IntegerField()


class CountByCategorySerializer(serializers.Serializer[Any]):
    category = serializers.CharField()
    count = serializers.IntegerField()


class CountByPrioritySerializer(serializers.Serializer[Any]):
    priority = serializers.CharField()
    count = serializers.IntegerField()


class EmailStatsSerializer(serializers.Serializer[Any]):
    totalEmails = serializers.IntegerField()
    totalRecipients = serializers.IntegerField()
    totalSent = serializers.IntegerField()
    totalDelivered = serializers.IntegerField()
    totalBounced = serializers.IntegerField()
    totalComplained = serializers.IntegerField()
    totalSuppressed = serializers.IntegerField()
    totalFailed = serializers.IntegerField()
    totalCost = serializers.FloatField()
    avgSize = serializers.IntegerField()
    byStatus = CountByStatusSerializer(many=True)
    byCategory = CountByCategorySerializer(many=True)
    byPriority = CountByPrioritySerializer(many=True)


class EmailQueuedSerializer(serializers.Serializer[Any]):
    messageId = serializers.UUIDField()
    emailLogId = serializers.UUIDField()
    status = serializers.CharField()
    recipientCount = serializers.IntegerField()
    attachmentCount = serializers.IntegerField()
    sendAt = serializers.DateTimeField(allow_null=True, help_text="When a scheduled message is due; null otherwise.")
    idempotentReplay = serializers.BooleanField()


class QuotaUsageSerializer(serializers.Serializer[Any]):
    deliveryAttempts = serializers.IntegerField()
    bounces = serializers.IntegerField()
    complaints = serializers.IntegerField()
    rejects = serializers.IntegerField()


class QuotaSerializer(serializers.Serializer[Any]):
    maxSend24Hour = serializers.FloatField()
    maxSendRate = serializers.FloatField()
    sentLast24Hours = serializers.FloatField()
    remaining24Hour = serializers.FloatField()
    usagePercent = serializers.FloatField()
    last24Hours = QuotaUsageSerializer()
    fetchedAt = serializers.DateTimeField()
