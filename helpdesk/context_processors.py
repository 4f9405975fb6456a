from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.links import site_links
from departments.roles import is_it_staff, is_manager


def helpdesk(request: HttpRequest) -> dict[str, Any]:
    return {
        "hospital_name": settings.HELPDESK["HOSPITAL_NAME"],
        "service_desk_phone": settings.HELPDESK["SERVICE_DESK_PHONE"],
        "idle_timeout_seconds": settings.SESSION_COOKIE_AGE,
        "demo_mode": settings.DEMO_MODE,
        "is_it_staff": is_it_staff(request.user),
        "is_manager": is_manager(request.user),
        "links": site_links(),
    }
