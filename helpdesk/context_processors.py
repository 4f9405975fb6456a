from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html

from core.links import site_links
from departments.roles import is_it_staff, is_manager, is_privacy_officer


def _csrf_field(request: HttpRequest) -> str:
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )


def helpdesk(request: HttpRequest) -> dict[str, Any]:
    return {
        # One masked token for every form on a page, made when the first form asks for it, as
        # Django's own templates do: the Jinja2 backend's csrf_input masks a fresh one for each
        # of the ticket page's dozen forms.
        "csrf_input": SimpleLazyObject(lambda: _csrf_field(request)),
        "hospital_name": settings.HELPDESK["HOSPITAL_NAME"],
        "service_desk_phone": settings.HELPDESK["SERVICE_DESK_PHONE"],
        "idle_timeout_seconds": settings.SESSION_COOKIE_AGE,
        "demo_mode": settings.DEMO_MODE,
        "is_it_staff": is_it_staff(request.user),
        "is_manager": is_manager(request.user),
        "is_privacy_officer": is_privacy_officer(request.user),
        "links": site_links(),
    }
