"""What every page shows of major incidents and planned downtime: the banner, read from the cache
by the first part of the page that asks (pages that show no banner never read it)."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from incidents.banner import banner_for


def banner(request: HttpRequest) -> dict[str, Any]:
    return {"banner": SimpleLazyObject(lambda: banner_for(request.user))}
