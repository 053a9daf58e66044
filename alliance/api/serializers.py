"""Inputs every app's API actions share."""

from __future__ import annotations

from rest_framework import serializers


class ReasonSerializer(serializers.Serializer):
    """`{reason}`: why a need is declined or rejected, a claim, a registration or hours are rejected, a
    meeting is cancelled — the reason the services pass on to whoever is told."""

    reason = serializers.CharField(max_length=300)
