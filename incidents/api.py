"""The incidents API: list and read (scoped), declare, post an update, resolve (IT), and "me
too" (link the caller as affected). A monitoring system can open an incident; a status screen
can show it. Every change goes through incidents.services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api_errors import errors
from departments.models import Department
from incidents import selectors, services
from incidents.models import Incident
from tickets.api import ById, require_it, signed
from tickets.models import Category


class IncidentSerializer(serializers.ModelSerializer[Incident]):
    number = serializers.CharField(read_only=True)
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    departments: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    affected_count = serializers.IntegerField(read_only=True)
    # The page chain for its commander (acknowledge it at /api/pages/<id>/acknowledge/).
    commander_page: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="commander_chain", read_only=True, allow_null=True
    )

    class Meta:
        model = Incident
        fields = [
            "id", "number", "service", "category", "status", "hospital_wide", "departments",
            "message", "workaround", "started_at", "declared_at", "last_update_at",
            "next_update_at", "resolved_at", "resolution", "affected_count", "commander_page",
        ]  # fmt: skip
        read_only_fields = fields


class IncidentDeclareSerializer(serializers.Serializer[Any]):
    service = serializers.CharField(max_length=80)
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.filter(parent__isnull=True)
    )
    message = serializers.CharField(max_length=services.MESSAGE_MAX_LENGTH)
    workaround = serializers.CharField(
        max_length=services.MESSAGE_MAX_LENGTH, required=False, allow_blank=True
    )
    hospital_wide = serializers.BooleanField(default=True)
    departments = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), many=True, required=False
    )
    next_update_at = serializers.DateTimeField(required=False, allow_null=True)


class IncidentUpdateSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=services.MESSAGE_MAX_LENGTH)
    next_update_at = serializers.DateTimeField(required=False, allow_null=True)


class IncidentResolveSerializer(serializers.Serializer[Any]):
    resolution = serializers.CharField(max_length=services.MESSAGE_MAX_LENGTH)


class MeTooSerializer(serializers.Serializer[Any]):
    callback = serializers.CharField(max_length=60, required=False, allow_blank=True)
    note = serializers.CharField(
        max_length=services.NOTE_MAX_LENGTH, required=False, allow_blank=True
    )


class MeTooAnswerSerializer(serializers.Serializer[Any]):
    incident = serializers.CharField()
    joined = serializers.BooleanField(help_text="False when the caller was already counted.")
    affected_count = serializers.IntegerField()


def refused(error: services.IncidentError) -> exceptions.APIException:
    return exceptions.ValidationError({"detail": str(error)})


class IncidentViewSet(
    ById, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Incident]
):
    """Major incidents: IT sees every one; anyone else the ones that concern her."""

    serializer_class = IncidentSerializer

    def get_queryset(self) -> QuerySet[Incident]:
        return (
            selectors.incidents_for(self.request.user)
            .select_related("category")
            .prefetch_related("departments")
            .order_by("-declared_at", "-pk")
        )

    @extend_schema(
        summary="Major incidents, newest first",
        responses={200: IncidentSerializer(many=True), **errors()},
    )
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(summary="One major incident", responses={200: IncidentSerializer, **errors(404)})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(IncidentSerializer(self._incident()).data)

    def _incident(self) -> Incident:
        incident = self.get_queryset().filter(pk=self.object_id()).first()
        if incident is None:
            raise exceptions.NotFound("Not found.")
        return incident

    def _answer(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(IncidentSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Declare a major incident",
        request=IncidentDeclareSerializer,
        responses={201: IncidentSerializer, **errors(400, 403)},
    )
    def create(self, request: Request) -> Response:
        user = require_it(signed(request))
        data = IncidentDeclareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            incident = services.declare(
                by=user, service=values["service"], category=values["category"],
                message=values["message"], workaround=values.get("workaround", ""),
                hospital_wide=values["hospital_wide"], departments=values.get("departments", []),
                next_update_at=values.get("next_update_at"),
            )  # fmt: skip
        except services.IncidentError as error:
            raise refused(error) from None
        return self._answer(incident, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Post an update",
        request=IncidentUpdateSerializer,
        responses={200: IncidentSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def updates(self, request: Request, pk: str) -> Response:
        user = require_it(signed(request))
        incident = self._incident()
        data = IncidentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.post_update(
                incident=incident, by=user, text=data.validated_data["text"],
                next_update_at=data.validated_data.get("next_update_at"),
            )  # fmt: skip
        except services.IncidentError as error:
            raise refused(error) from None
        return self._answer(incident)

    @extend_schema(
        summary="Resolve, with every linked ticket",
        request=IncidentResolveSerializer,
        responses={200: IncidentSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        user = require_it(signed(request))
        incident = self._incident()
        data = IncidentResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.resolve(
                incident=incident, by=user, resolution=data.validated_data["resolution"]
            )
        except services.IncidentError as error:
            raise refused(error) from None
        return self._answer(incident)

    @extend_schema(
        summary='"Me too": count the caller as affected (no ticket, no page)',
        request=MeTooSerializer,
        responses={200: MeTooAnswerSerializer, 201: MeTooAnswerSerializer, **errors(400, 404)},
    )
    @action(detail=True, methods=["post"], url_path="me-too")
    def me_too(self, request: Request, pk: str) -> Response:
        user = signed(request)
        incident = self._incident()
        data = MeTooSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            _affected, created = services.join(
                incident=incident,
                user=user,
                callback=data.validated_data.get("callback", ""),
                note=data.validated_data.get("note", ""),
            )
        except services.IncidentError as error:
            raise refused(error) from None
        answer = {
            "incident": incident.number,
            "joined": created,
            "affected_count": incident.affected.count(),
        }
        return Response(
            MeTooAnswerSerializer(answer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
