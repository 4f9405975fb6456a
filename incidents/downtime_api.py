"""Planned downtime in the API: upcoming downtimes for whoever asks (scoped as the page: her
units' and the hospital-wide ones), and scheduling and cancelling for IT, so a status screen can
show them and a change-management tool can announce them. The same services as the pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_errors import errors
from departments.models import Department
from incidents.downtime import (
    DEFAULT_NOTICE,
    DowntimeInvalid,
    DowntimeNotice,
    downtime_cancel,
    downtime_schedule,
    local_instant,
)
from incidents.downtime_selectors import downtime_visible_to, upcoming_downtimes
from incidents.models import PlannedDowntime
from tickets.api import require_it, signed
from tickets.models import Category

SCOPE = (
    "A requester sees the downtimes of her home department and the hospital-wide ones; IT "
    "staff see every one. Another unit's downtime is 404."
)


class DowntimeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    service = serializers.CharField()
    category = serializers.CharField(allow_null=True, help_text="The category's slug, if any.")
    hospital_wide = serializers.BooleanField()
    departments = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the departments affected."
    )
    notice_from = serializers.DateTimeField(help_text="When the advance notice starts to show.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField()
    procedure = serializers.CharField(allow_blank=True)
    is_drill = serializers.BooleanField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField(help_text="The downtime's page.")


def as_data(downtime: PlannedDowntime, request: Request) -> dict[str, Any]:
    return {
        "id": downtime.pk,
        "service": downtime.service,
        "category": downtime.category.slug if downtime.category else None,
        "hospital_wide": downtime.hospital_wide,
        "departments": sorted(department.code for department in downtime.departments.all()),
        "notice_from": downtime.notice_from,
        "starts_at": downtime.starts_at,
        "ends_at": downtime.ends_at,
        "reason": downtime.reason,
        "procedure": downtime.procedure,
        "is_drill": downtime.is_drill,
        "cancelled_at": downtime.cancelled_at,
        "url": request.build_absolute_uri(reverse("downtime:detail", args=[downtime.pk])),
    }


class WallOrInstantField(serializers.DateTimeField):
    """An ISO time with an offset is that instant; one without is the hospital's wall clock,
    refused when it names no instant or two (the nights clocks change)."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_aware(value):
            return value
        try:
            return local_instant(value, field=self.field_name or "starts_at")
        except DowntimeInvalid as invalid:
            raise serializers.ValidationError(
                [message for messages in invalid.errors.values() for message in messages]
            ) from None


class DowntimeCreateSerializer(serializers.Serializer[Any]):
    service = serializers.CharField(max_length=80)
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    hospital_wide = serializers.BooleanField(default=False)
    departments: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.filter(is_active=True),
        many=True,
        required=False,
        help_text="Department codes (ED, OR...); or hospital_wide.",
    )
    starts_at = WallOrInstantField()
    length_minutes = serializers.IntegerField(
        required=False, help_text="The expected length; or give ends_at."
    )
    ends_at = WallOrInstantField(required=False)
    notice_minutes = serializers.IntegerField(
        default=int(DEFAULT_NOTICE.total_seconds() // 60),
        help_text="How long before the start the advance notice shows.",
    )
    reason = serializers.CharField(max_length=200)
    procedure = serializers.CharField(required=False, allow_blank=True, default="")
    is_drill = serializers.BooleanField(default=False)


# The service's names for what the API calls otherwise.
API_FIELD = {"length": "length_minutes", "notice": "notice_minutes", "__all__": "detail"}


def invalid_answer(invalid: DowntimeInvalid) -> exceptions.ValidationError:
    found: dict[str, Any] = {}
    for field, messages in invalid.errors.items():
        key = API_FIELD.get(field, field)
        found[key] = " ".join(messages) if key == "detail" else messages
    return exceptions.ValidationError(found)


class DowntimeListView(APIView):
    @extend_schema(
        summary="Upcoming downtimes",
        description="Planned downtimes and drills not yet over and not cancelled, soonest "
        f"first. {SCOPE}",
        responses={200: DowntimeSerializer(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        rows = upcoming_downtimes(signed(request), now=timezone.now())
        return Response(DowntimeSerializer([as_data(row, request) for row in rows], many=True).data)

    @extend_schema(
        summary="Schedule a downtime (IT only)",
        description="Times with an offset are taken as they are; times without one are the "
        "hospital's local time, refused (400) when the clocks skip or repeat them. Give "
        "length_minutes or ends_at. Every problem is answered with 400 and nothing changes.",
        request=DowntimeCreateSerializer,
        responses={201: DowntimeSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        user = require_it(request.user)
        data = DowntimeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        length = values.get("length_minutes")
        notice = DowntimeNotice(
            service=values["service"],
            reason=values["reason"],
            procedure=values["procedure"],
            category=values.get("category"),
            hospital_wide=values["hospital_wide"],
            departments=values.get("departments", []),
            starts_at=values["starts_at"],
            ends_at=values.get("ends_at"),
            length=None if length is None else timedelta(minutes=length),
            notice=timedelta(minutes=values["notice_minutes"]),
            is_drill=values["is_drill"],
        )
        try:
            downtime = downtime_schedule(notice=notice, by=user)
        except DowntimeInvalid as invalid:
            raise invalid_answer(invalid) from None
        shown = downtime_visible_to(user, downtime.pk)
        assert shown is not None
        return Response(
            DowntimeSerializer(as_data(shown, request)).data, status=status.HTTP_201_CREATED
        )


def _visible(request: Request, pk: int) -> PlannedDowntime:
    downtime = downtime_visible_to(signed(request), pk)
    if downtime is None:
        raise exceptions.NotFound("No such downtime.")
    return downtime


class DowntimeDetailView(APIView):
    @extend_schema(
        summary="One downtime",
        description=SCOPE,
        responses={200: DowntimeSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(DowntimeSerializer(as_data(_visible(request, pk), request)).data)


class DowntimeCancelView(APIView):
    @extend_schema(
        summary="Cancel a downtime (IT only)",
        description="Its notice goes at once. A downtime already cancelled or over is 400.",
        request=None,
        responses={200: DowntimeSerializer, **errors(400, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = require_it(request.user)
        downtime = _visible(request, pk)
        try:
            downtime_cancel(downtime_id=downtime.pk, by=user)
        except DowntimeInvalid as invalid:
            raise invalid_answer(invalid) from None
        return Response(DowntimeSerializer(as_data(_visible(request, pk), request)).data)
