"""Bulk test data. Reference rows (departments, teams, categories) come from the migrations."""

from __future__ import annotations

import uuid
from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from departments.models import Department, Location, Profile
from tickets.models import Category, SlaPolicy, Ticket
from tickets.priority import (
    Impact,
    Scope,
    Urgency,
    decide_priority,
    impact_from_scope,
    urgency_from_answers,
)
from tickets.services import ticket_file


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@lakeside.example")
    password = factory.django.Password("demo")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def home(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if create:
            Profile.objects.update_or_create(
                user=self,
                defaults={
                    "home_department": Department.objects.get(code=extracted)
                    if extracted
                    else None,
                    "callback": "x4567",
                },
            )


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    """A ticket as ticket_file would have filed it, without the timeline (for volume)."""

    class Meta:
        model = Ticket

    title = factory.Sequence(lambda n: f"Printer jammed on unit, report {n}")
    requester = factory.SubFactory(UserFactory, role="requester", home="MEDSURG")
    location = factory.LazyFunction(lambda: Location.objects.get(code="MEDSURG"))
    department = factory.LazyAttribute(lambda t: t.location.department)
    category = factory.LazyFunction(lambda: Category.objects.get(slug="printers"))
    team = factory.LazyAttribute(lambda t: t.category.team)
    callback = "x4567"
    care_delayed = False
    scope = Scope.ME
    workaround = True
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)
    created_at = factory.LazyFunction(timezone.now)

    urgency = factory.LazyAttribute(
        lambda t: urgency_from_answers(care_delayed=t.care_delayed, workaround=t.workaround)
    )
    impact = factory.LazyAttribute(lambda t: impact_from_scope(Scope(t.scope)))
    matrix_priority = factory.LazyAttribute(lambda t: t.decision.matrix_priority)
    priority = factory.LazyAttribute(lambda t: t.decision.priority)
    auto_escalated = factory.LazyAttribute(lambda t: t.decision.escalated)

    class Params:
        decision = factory.LazyAttribute(
            lambda t: decide_priority(
                impact=Impact(t.impact),
                urgency=Urgency(t.urgency),
                department_name=t.department.name,
                auto_escalate=t.department.auto_escalate,
            )
        )

    @classmethod
    def _create(cls, model_class: type[Ticket], *args: Any, **kwargs: Any) -> Ticket:
        """Deadlines as filing would set them, from the ticket's own created_at."""
        ticket = model_class(*args, **kwargs)
        policy = SlaPolicy.for_ticket(priority=ticket.priority, department=ticket.department)
        ticket.apply_sla_policy(policy, policy.calendar_for(ticket.department))
        ticket.save()
        return ticket


def file_by_email(requester: User, *, location: str = "ED", **overrides: Any) -> Ticket:
    """A ticket as the help desk's mailbox files it, through ticket_file: without the three
    answers, so it waits at P4 for triage."""
    values: dict[str, Any] = {
        "category": Category.objects.get(slug="printers"),
        "title": "Triage wristband printer printing blank bands",
        "callback": "x4410",
        "care_delayed": None,
        "scope": None,
        "workaround": None,
        "source": Ticket.Source.EMAIL,
    }
    values.update(overrides)
    return ticket_file(
        requester=requester, location=Location.objects.get(code=location), **values
    ).ticket
