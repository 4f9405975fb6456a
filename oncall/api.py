"""The API's on-call answer: who is on call for every team now."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_errors import errors
from departments.roles import display_name
from oncall.selectors import on_call_board


class PersonOnCallSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    pager = serializers.CharField(allow_blank=True)
    callback = serializers.CharField(allow_blank=True)


class OnCallSerializer(serializers.Serializer[Any]):
    team = serializers.CharField()
    team_name = serializers.CharField()
    team_phone = serializers.CharField(allow_blank=True)
    primary = PersonOnCallSerializer(allow_null=True)
    secondary = PersonOnCallSerializer(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)


class OnCallView(APIView):
    @extend_schema(
        summary="Who is on call now", responses={200: OnCallSerializer(many=True), **errors()}
    )
    def get(self, request: Request) -> Response:
        def who(user: User | None) -> dict[str, str] | None:
            if user is None:
                return None
            profile = getattr(user, "profile", None)
            return {
                "name": display_name(user),
                "pager": profile.pager if profile else "",
                "callback": profile.callback if profile else "",
            }

        rows = [
            {
                "team": row.team.slug,
                "team_name": row.team.name,
                "team_phone": row.team.phone,
                "primary": who(row.primary),
                "secondary": who(row.secondary),
                "until": row.until,
            }
            for row in on_call_board(timezone.now())
        ]
        return Response(OnCallSerializer(rows, many=True).data)
