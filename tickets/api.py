"""The REST API: the same product as the pages, for integrations, monitoring systems and
phone apps. Views validate input and call tickets/services.py; scope comes from the same
helpers as the pages (out of scope is 404), roles from departments/roles.py (403 where the
role lacks the action)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, QuerySet
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.api_errors import errors
from core.ids import ID_PATTERN, parse_id
from departments.models import Department, Location, Team
from departments.roles import is_it_staff
from departments.units import files_for_other_unit
from tickets import paging, queue
from tickets.api_serializers import (
    ApiRootSerializer,
    AssignSerializer,
    AttachmentSerializer,
    CategorySerializer,
    DepartmentSerializer,
    EventSerializer,
    FixedSerializer,
    LinkSerializer,
    LocationSerializer,
    MessageSerializer,
    PageChainSerializer,
    PrioritySerializer,
    RedactSerializer,
    ResolveSerializer,
    TakeNextSerializer,
    TeamSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TransitionSerializer,
    as_filed,
)
from tickets.attachments import AttachmentRefused
from tickets.models import Category, PageChain, Ticket, parse_ticket_number
from tickets.priority import Scope
from tickets.selectors import (
    api_ticket_rows,
    api_tickets,
    attachment_visible_to,
    timeline_events,
    visible_attachments,
)
from tickets.services import (
    ClaimLost,
    FilingPlaceRefused,
    TicketError,
    filing_location,
    record_view,
    ticket_answer_fixed,
    ticket_assign,
    ticket_change_priority,
    ticket_claim,
    ticket_comment,
    ticket_edit,
    ticket_file,
    ticket_link,
    ticket_redact,
    ticket_resolve,
    ticket_set_status,
    ticket_take_next,
)
from tickets.throttling import FilingRateThrottle
from tickets.uploads import upload_refusal
from tickets.views import attachment_response


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The ticket changed meanwhile."


def files_of(request: Request, values: dict[str, Any]) -> list[Any]:
    """The files a multipart request sent, or a 400 saying why they were cut off while they
    arrived (tickets/uploads.py): the request changes nothing."""
    refusal = upload_refusal(request.upload_handlers)
    if refusal:
        raise exceptions.ValidationError({"attachments": [refusal]})
    return list(values.get("attachments", []))


def files_refused(error: AttachmentRefused) -> exceptions.APIException:
    return exceptions.ValidationError({"attachments": [str(error)]})


class FileRenderer(BaseRenderer):
    """Lets a download be asked for with any Accept header: the view answers the file itself."""

    media_type = "*/*"
    format = "file"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Any = None) -> Any:  # fmt: skip
        return data


def refused(error: TicketError) -> exceptions.APIException:
    if isinstance(error, ClaimLost):
        return Conflict(str(error))
    if isinstance(error, FilingPlaceRefused):
        return exceptions.ValidationError({error.field: [str(error)]})
    return exceptions.ValidationError({"detail": str(error)})


class ById:
    """A viewset whose rows are named by id in the path: only ASCII digits reach it (the
    router's pattern), and an id no row can have is a 404 before the body is even read."""

    lookup_value_regex = ID_PATTERN
    not_found = "Not found."

    def object_id(self) -> int:
        kwargs: dict[str, str] = self.kwargs  # type: ignore[attr-defined]
        pk = parse_id(kwargs["pk"])
        if pk is None:
            raise exceptions.NotFound(self.not_found)
        return pk

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if "pk" in kwargs:
            self.object_id()


def signed(request: Request) -> User:
    """The authenticated user (every endpoint requires one)."""
    user = request.user
    assert isinstance(user, User)
    return user


def require_it(user: Any) -> User:
    if not is_it_staff(user):
        raise exceptions.PermissionDenied("This needs an IT staff account.")
    assert isinstance(user, User)
    return user


class SafeCursor(CursorPagination):
    """A tampered cursor is a 404 with a message, never a server error."""

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except (ValueError, TypeError, DjangoValidationError):
            raise exceptions.NotFound(self.invalid_cursor_message) from None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError):
            # A cursor whose position does not fit the ordering's column.
            raise exceptions.NotFound(self.invalid_cursor_message) from None


class TicketCursor(SafeCursor):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-created_at"

    def get_page_size(self, request: Request) -> int:
        """The page size asked for, at most ``max_page_size``; one that is not a whole number
        from 1 is refused rather than silently replaced by the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = parse_id(raw)
        if size is None or size < 1:
            raise exceptions.ValidationError(
                {"page_size": ["A page size is a whole number from 1."]}
            )
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = f"Rows per page, from 1; at most {self.max_page_size}."
        return parameters


class QueueOrdering(OrderingFilter):
    """Explicit orderings; ``queue`` is the technicians' queue order (P1 first, then time to
    breach)."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        if request.query_params.get(self.ordering_param) == "queue":
            return list(queue.QUEUE_ORDER)
        return super().get_ordering(request, queryset, view)


class TicketQueueFilter(queue.QueueFilter):
    """The queue's filters, plus the open/closed switch an API list needs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("now", timezone.now())
        super().__init__(*args, **kwargs)


class StrictFilterBackend(DjangoFilterBackend):  # type: ignore[misc]
    """A choice filter named with no value is refused (400) rather than read as "no filter":
    a client that sends ``?status=`` meant something, and is told so. An empty search (``?q=``)
    is still no search."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        filters = filterset_class.base_filters if filterset_class else {}
        empty = sorted(
            name
            for name, choice in filters.items()
            if not isinstance(choice, django_filters.CharFilter)
            and "" in request.query_params.getlist(name)
        )
        if empty:
            raise exceptions.ValidationError(
                {name: ["Give a value, or leave the parameter out."] for name in empty}
            )
        return super().filter_queryset(request, queryset, view)


class QueueFilterBackend(StrictFilterBackend):
    """A URL naming none of the filters leaves the list as it is (and cannot be invalid): the
    filter set and its form are not built for it."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        if request.query_params.keys().isdisjoint(TicketQueueFilter.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


def open_only(request: Request) -> bool:
    """The list's ``open_only`` switch: true unless the caller says false."""
    value = request.query_params.get("open_only", "true")
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise exceptions.ValidationError({"open_only": ["Say true or false."]})


@extend_schema_view(
    list=extend_schema(
        summary="List tickets in scope",
        description="Requesters see their own tickets; IT staff see all. Filters are the queue's.",
        parameters=[
            OpenApiParameter(
                "open_only", OpenApiTypes.BOOL, description="Only open tickets (default true)."
            )
        ],
        responses={200: TicketSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(summary="One ticket", responses={200: TicketSerializer, **errors(404)}),
)
class TicketViewSet(
    ById,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Ticket],
):
    serializer_class = TicketSerializer
    pagination_class = TicketCursor
    not_found = "No such ticket."
    filter_backends = [QueueFilterBackend, QueueOrdering]
    filterset_class = TicketQueueFilter
    ordering_fields = ["created_at", "updated_at", "priority", "next_due_at"]

    def get_queryset(self) -> QuerySet[Ticket]:
        """The list's tickets, as plain rows."""
        tickets = Ticket.objects.for_user(self.request.user)
        if self.action == "list" and open_only(self.request):
            tickets = tickets.open()
        return api_ticket_rows(tickets=tickets)

    def _ticket(self, *, shown: bool = False) -> Ticket:
        """The ticket in the URL if the caller may see it (404 otherwise). ``shown``: fetched
        with just what the answer shows, for a read that changes nothing."""
        tickets = Ticket.objects.for_user(self.request.user).filter(pk=self.object_id())
        found = (api_tickets(tickets=tickets) if shown else tickets).first()
        if found is None:
            raise exceptions.NotFound("No such ticket.")
        return found

    def retrieve(self, request: Request, pk: str) -> Response:
        ticket = self._ticket(shown=True)
        record_view(ticket=ticket, user=signed(request), via="api")
        return Response(TicketSerializer(ticket).data)

    def _answer(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        """The ticket as the service left it."""
        fresh = api_tickets(tickets=Ticket.objects.filter(pk=ticket.pk)).get()
        return Response(TicketSerializer(fresh).data, status=code)

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = super().get_throttles()
        if self.action == "create":
            # The same per-person counter as the filing form's.
            throttles.append(FilingRateThrottle())
        return throttles

    @extend_schema(
        summary="File a ticket",
        description=(
            "Department and priority are derived exactly as for the filing form: the department "
            "is the location's, and the ED/OR rule escalates. Send an Idempotency-Key header to "
            "make retries safe: the same key returns the same ticket (200) instead of a second "
            "one. Machine accounts may name a department instead of a location. A person filing "
            "for a location outside her own units (her home department) says so with "
            '"for_other_unit": true, and the ticket records it; without it the filing is '
            "refused (400). One person may file HELPDESK_FILING_RATE tickets (30 an hour by "
            "default), by form and API together; over it the answer is 429 with Retry-After. "
            "Files come with the filing as multipart/form-data (`attachments`, repeated); one "
            "refused (by its content or size) refuses the filing with 400 and files nothing."
        ),
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        request=TicketCreateSerializer,
        responses={201: TicketSerializer, 200: TicketSerializer, **errors(400, 403)},
    )
    def create(self, request: Request) -> Response:
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        assert isinstance(user, User)
        try:
            location = filing_location(
                requester=user, location=values.get("location"), department=values.get("department")
            )
        except FilingPlaceRefused as error:
            raise refused(error) from None
        if not values["for_other_unit"] and files_for_other_unit(request.user, location):
            raise exceptions.ValidationError(
                {"for_other_unit": [f"{location} is in the {location.department.name}, not "
                                    "your unit. To file for another unit, send "
                                    '"for_other_unit": true.']}
            )  # fmt: skip
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 56 or not (key.isascii() and key.isprintable()):
            raise exceptions.ValidationError(
                {"detail": "Idempotency-Key must be at most 56 printable ASCII characters."}
            )
        files = files_of(request, values)
        try:
            filing = ticket_file(
                requester=user,
                location=location,
                category=values["category"],
                title=values["title"],
                callback=values["callback"],
                care_delayed=values["care_delayed"],
                scope=Scope(values["scope"]),
                workaround=values["workaround"],
                description=values["description"],
                idempotency_key=f"api:{key}" if key else None,
                attachments=files,
                source=Ticket.Source.API,
            )
        except AttachmentRefused as error:
            raise files_refused(error) from None
        if not filing.created:
            return self._answer(filing.ticket)
        ticket, category = filing.ticket, values["category"]
        if ticket.team_id == category.team_id:
            ticket.team = category.team  # the row validation read, not a query for it again
        return Response(TicketSerializer(as_filed(ticket)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change details",
        description="Requesters may change the callback; IT may also change title and category. "
        "Anything else is refused with 400 and changes nothing: status, priority, assignment "
        "and links have their own actions.",
        request=TicketUpdateSerializer,
        responses={200: TicketSerializer, **errors(400, 404)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"detail": "Send a JSON object of fields to change."})
        editable = set(TicketUpdateSerializer().fields)
        unknown = sorted(set(request.data) - editable)
        if unknown:
            raise exceptions.ValidationError(
                {"detail": f"These fields cannot be changed here: {', '.join(unknown)}."}
            )
        data = TicketUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            ticket_edit(ticket=ticket, actor=signed(request), changes=dict(data.validated_data))
        except TicketError as error:
            raise refused(error) from None
        return self._answer(ticket)

    @extend_schema(
        summary="The ticket's timeline",
        description="Requesters see the public timeline; IT also sees internal notes and audit.",
        responses={200: EventSerializer(many=True), **errors(404)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        record_view(ticket=ticket, user=signed(request), via="api")
        events = timeline_events(ticket=ticket, public_only=not is_it_staff(request.user))
        return Response(EventSerializer(events.select_related("actor"), many=True).data)

    def _act(self, request: Request, run: Any) -> Response:
        ticket = self._ticket()
        user = require_it(request.user)
        try:
            run(ticket, user)
        except TicketError as error:
            raise refused(error) from None
        return self._answer(ticket)

    @extend_schema(
        summary="Claim an unassigned ticket",
        request=None,
        responses={200: TicketSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str) -> Response:
        return self._act(request, lambda ticket, user: ticket_claim(ticket=ticket, user=user))

    @extend_schema(
        summary="Take the most urgent unassigned ticket",
        request=TakeNextSerializer,
        responses={200: TicketSerializer, 204: None, **errors(400, 403)},
    )
    @action(detail=False, methods=["post"], url_path="take-next")
    def take_next(self, request: Request) -> Response:
        user = require_it(request.user)
        data = TakeNextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        view = queue.SavedView(data.validated_data.get("view", "all"))
        scope = Ticket.objects.filter(queue.view_q(view, user, timezone.now()))
        ticket = ticket_take_next(user=user, queryset=scope)
        if ticket is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._answer(ticket)

    @extend_schema(
        summary="Assign to a person or a team",
        request=AssignSerializer,
        responses={200: TicketSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        self._ticket()
        require_it(request.user)
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data.get("assignee")
        assignee = None
        if username:
            assignee = User.objects.filter(username=username, is_active=True).first()
            if assignee is None:
                raise exceptions.ValidationError({"assignee": ["No such person."]})
        team: Team | None = data.validated_data.get("team")
        return self._act(
            request,
            lambda ticket, user: ticket_assign(
                ticket=ticket, actor=user, assignee=assignee, team=team
            ),
        )

    def _message(self, request: Request, ticket: Ticket, *, internal: bool) -> Response:
        data = MessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        files = files_of(request, data.validated_data)
        try:
            ticket_comment(
                ticket=ticket,
                author=signed(request),
                text=data.validated_data.get("text", ""),
                internal=internal,
                attachments=files,
            )
        except AttachmentRefused as error:
            raise files_refused(error) from None
        except TicketError as error:
            raise refused(error) from None
        return self._answer(ticket)

    @extend_schema(
        summary="Reply to the requester",
        description="The requester sees it and is told by email (never with its files). "
        "Requesters may reply too. Send JSON, or multipart/form-data to add files.",
        request={"application/json": MessageSerializer, "multipart/form-data": MessageSerializer},
        responses={200: TicketSerializer, **errors(400, 404)},
    )
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str) -> Response:
        return self._message(request, self._ticket(), internal=False)

    @extend_schema(
        summary="Add an internal note (IT only)",
        description="Its files, like the note, are IT's only.",
        request={"application/json": MessageSerializer, "multipart/form-data": MessageSerializer},
        responses={200: TicketSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="internal-note")
    def internal_note(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        require_it(request.user)
        return self._message(request, ticket, internal=True)

    @extend_schema(
        summary="The ticket's attachments",
        description="Metadata and a download link for each file the caller may see (a "
        "requester never sees an internal note's); removed ones are left out.",
        responses={200: AttachmentSerializer(many=True), **errors(404)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def attachments(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        rows = visible_attachments(ticket=ticket, user=request.user)
        return Response(AttachmentSerializer(rows, many=True).data)

    @extend_schema(
        summary="Download an attachment",
        description="The file, as its detected content type: images inline, anything else as "
        "a download; sandboxed, never cached. Every download is on the ticket's audit trail. "
        "404 for anyone who may not see it.",
        parameters=[OpenApiParameter("attachment", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, "*/*"): OpenApiTypes.BINARY, **errors(404)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment>[0-9]{1,18})",
        url_name="attachment",
        pagination_class=None,
        filter_backends=[],
        renderer_classes=[FileRenderer],
    )
    def attachment(self, request: Request, pk: str, attachment: str) -> HttpResponseBase:
        ticket = self._ticket()
        found = attachment_visible_to(
            ticket=ticket, user=request.user, pk=parse_id(attachment) or 0
        )
        if found is None:
            raise exceptions.NotFound("No such attachment.")
        return attachment_response(found, signed(request))

    @extend_schema(
        summary="Move along the allowed transitions",
        description="Requesters may reopen or close their resolved ticket, or cancel their open "
        "one. IT "
        "cancelling a ticket gives the reason in `note`; the requester sees it.",
        request=TransitionSerializer,
        responses={200: TicketSerializer, **errors(400, 404)},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            ticket_set_status(
                ticket=ticket,
                actor=signed(request),
                status=values["status"],
                note=values["note"],
            )
        except TicketError as error:
            raise refused(error) from None
        return self._answer(ticket)

    @extend_schema(
        summary="Resolve with a resolution code",
        request=ResolveSerializer,
        responses={200: TicketSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return self._act(
            request,
            lambda ticket, user: ticket_resolve(
                ticket=ticket, actor=user, code=values["code"], note=values["note"]
            ),
        )

    @extend_schema(
        summary="Reopen a resolved ticket",
        request=None,
        responses={200: TicketSerializer, **errors(400, 404)},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        if ticket.status in Ticket.OPEN_STATUSES:
            raise exceptions.ValidationError({"detail": f"{ticket.number} is not resolved."})
        try:
            ticket_set_status(
                ticket=ticket, actor=signed(request), status=Ticket.Status.IN_PROGRESS
            )
        except TicketError as error:
            raise refused(error) from None
        return self._answer(ticket)

    @extend_schema(
        summary='Answer "Fixed?" on a resolved ticket',
        description="The requester's answer once IT resolved her ticket: `fixed: true` closes "
        "it; `fixed: false` reopens it with `answer`, one line saying what is still broken. Both "
        "are recorded for the technicians report. Only the person who filed the ticket answers.",
        request=FixedSerializer,
        responses={200: TicketSerializer, **errors(400, 404)},
    )
    @action(detail=True, methods=["post"])
    def fixed(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        data = FixedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            ticket_answer_fixed(
                ticket=ticket,
                requester=signed(request),
                fixed=values["fixed"],
                answer=values["answer"],
            )
        except TicketError as error:
            raise refused(error) from None
        return self._answer(ticket)

    @extend_schema(
        summary="Remove patient data",
        description=(
            "Replaces a passage of the title, the description or a comment with "
            "'[removed: patient data]', wherever it is on the ticket, keeping no copy of it. "
            "IT may do it on any ticket; the requester on her own open ticket, and not in "
            "internal notes. The removal goes on the timeline without the text, and "
            "phi_suspected is set again from what remains."
        ),
        request=RedactSerializer,
        responses={200: TicketSerializer, **errors(400, 404)},
    )
    @action(detail=True, methods=["post"])
    def redact(self, request: Request, pk: str) -> Response:
        ticket = self._ticket()
        data = RedactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            ticket_redact(
                ticket=ticket,
                actor=signed(request),
                target=values["target"],
                passage=values["passage"],
                event_id=values.get("event"),
            )
        except TicketError as error:
            raise refused(error) from None
        return self._answer(ticket)

    @extend_schema(
        summary="Change the priority, with a reason",
        request=PrioritySerializer,
        responses={200: TicketSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="change-priority")
    def change_priority(self, request: Request, pk: str) -> Response:
        data = PrioritySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return self._act(
            request,
            lambda ticket, user: ticket_change_priority(
                ticket=ticket, actor=user, priority=values["priority"], reason=values["reason"]
            ),
        )

    @extend_schema(
        summary="Link as a duplicate of, or related to, another ticket",
        request=LinkSerializer,
        responses={200: TicketSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def link(self, request: Request, pk: str) -> Response:
        data = LinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        self._ticket()
        require_it(request.user)
        other_pk = parse_ticket_number(values["other"])
        other = Ticket.objects.filter(pk=other_pk).first() if other_pk is not None else None
        if other is None:
            raise exceptions.ValidationError({"other": ["There is no such ticket."]})
        return self._act(
            request,
            lambda ticket, user: ticket_link(
                ticket=ticket, other=other, actor=user, duplicate=values["kind"] == "duplicate"
            ),
        )


@extend_schema_view(
    list=extend_schema(responses={200: DepartmentSerializer(many=True), **errors()})
)
class DepartmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Department]):
    serializer_class = DepartmentSerializer
    queryset = Department.objects.filter(is_active=True).order_by("tier", "name")
    pagination_class = None


@extend_schema_view(
    list=extend_schema(responses={200: LocationSerializer(many=True), **errors(400)})
)
class LocationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Location]):
    serializer_class = LocationSerializer
    queryset = Location.objects.filter(is_active=True).select_related("department")
    pagination_class = None
    filter_backends = [StrictFilterBackend]
    filterset_fields = ["kind"]


@extend_schema_view(list=extend_schema(responses={200: CategorySerializer(many=True), **errors()}))
class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Category]):
    serializer_class = CategorySerializer
    queryset = Category.objects.filter(is_active=True).select_related("parent", "team")
    pagination_class = None


@extend_schema_view(list=extend_schema(responses={200: TeamSerializer(many=True), **errors()}))
class TeamViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Team]):
    serializer_class = TeamSerializer
    queryset = Team.objects.order_by("name")
    pagination_class = None


class PageCursor(SafeCursor):
    page_size = 50
    ordering = "-started_at"


@extend_schema_view(
    list=extend_schema(
        summary="Recent page chains (IT only)",
        responses={200: PageChainSerializer(many=True), **errors(400, 403, 404)},
    )
)
class PageChainViewSet(ById, mixins.ListModelMixin, viewsets.GenericViewSet[PageChain]):
    serializer_class = PageChainSerializer
    pagination_class = PageCursor
    not_found = "No such page chain."
    filter_backends = [StrictFilterBackend]
    filterset_fields = ["status"]

    queryset = PageChain.objects.none()

    def get_queryset(self) -> QuerySet[PageChain]:
        if getattr(self, "swagger_fake_view", False):
            return PageChain.objects.none()
        if not is_it_staff(self.request.user):
            raise exceptions.PermissionDenied("Pages are for IT staff.")
        return PageChain.objects.select_related("ticket", "team", "acknowledged_by").annotate(
            page_count=Count("pages")
        )

    @extend_schema(
        summary="Acknowledge: stop the escalation",
        request=None,
        responses={200: PageChainSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        user = require_it(request.user)
        chain = get_object_or_404(PageChain, pk=self.object_id())
        try:
            paging.acknowledge(chain_id=chain.pk, user=user, via=paging.AckVia.API)
        except paging.PagingError as error:
            raise Conflict(str(error)) from None
        return Response(PageChainSerializer(self.get_queryset().get(pk=chain.pk)).data)


# The root's links, by the name each has in the answer: the route it points to.
ROOT_LINKS = {
    "tickets": "api-ticket-list",
    "departments": "api-department-list",
    "locations": "api-location-list",
    "categories": "api-category-list",
    "teams": "api-team-list",
    "on_call": "api-on-call",
    "pages": "api-page-list",
    "reports": "api-reports",
    "schema": "api-schema",
    "docs": "api-docs",
}


class ApiRootView(APIView):
    @extend_schema(
        summary="The API's resources",
        description="A link to each resource, to the schema and to the browsable docs.",
        responses={200: ApiRootSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        links = {
            name: request.build_absolute_uri(reverse(route)) for name, route in ROOT_LINKS.items()
        }
        return Response(ApiRootSerializer(links).data)


class ReadableYamlRenderer(OpenApiYamlRenderer):
    """The schema's YAML as plain text, which a browser shows instead of downloading."""

    media_type = "text/plain"
    charset = "utf-8"


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema: YAML by default (application/vnd.oai.openapi), JSON with
    ?format=json or by Accept, as clients ask for it; to a browser (which asks for HTML), the
    same YAML as plain text to read."""

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        format_asked = self.settings.URL_FORMAT_OVERRIDE in request.query_params
        if not format_asked and "text/html" in request.headers.get("Accept", ""):
            return ReadableYamlRenderer(), ReadableYamlRenderer.media_type
        return super().perform_content_negotiation(request, force)
