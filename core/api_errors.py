"""The API's error answers as its schema documents them: ``{"detail": ...}`` for every refusal,
and a 400 that names either the request or its fields."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What was wrong, in words to show a person.")


# A 400 is either {"detail": "..."} or {field: ["message", ...]}: an object either way.
BAD_REQUEST = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="What was wrong: {'detail': message} or {field: [messages]}. Nothing changed.",
)
ERRORS = {
    400: BAD_REQUEST,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
    429: ErrorSerializer,
}


def errors(*codes: int) -> dict[int, Any]:
    return {code: ERRORS[code] for code in (401, 429, *codes)}
