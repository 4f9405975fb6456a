"""SLA policies: the targets a ticket's clocks run to."""

from __future__ import annotations

from django.db import models

from core.reference_cache import ReferenceCache, ReferenceDataModel
from departments.models import BusinessCalendar, Department
from tickets.priority import (
    PRIORITY_LABELS,
)


class SlaPolicy(ReferenceDataModel):
    """Response and resolution targets for one priority, optionally for one department.

    Targets are in business time on the policy's calendar; with no calendar the clock runs on
    the ticket's department calendar (24x7 for the ED, business hours for HIM...).
    """

    priority = models.PositiveSmallIntegerField(choices=list(PRIORITY_LABELS.items()))
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text="Leave empty for the hospital-wide default of this priority.",
    )
    response_minutes = models.PositiveIntegerField(help_text="First response target, in minutes.")
    resolution_minutes = models.PositiveIntegerField(help_text="Resolution target, in minutes.")
    warn_percent = models.PositiveSmallIntegerField(
        default=75, help_text="Warn when this share of a target has elapsed."
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text="The clock the targets run on; empty means the department's own calendar.",
    )

    class Meta:
        ordering = ["priority", "department__name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["priority"],
                condition=models.Q(department__isnull=True),
                name="sla_one_default_per_priority",
            ),
            models.UniqueConstraint(
                fields=["priority", "department"], name="sla_one_policy_per_department_priority"
            ),
            models.CheckConstraint(
                condition=models.Q(warn_percent__gte=1, warn_percent__lte=99),
                name="sla_warn_percent_1_to_99",
            ),
        ]

    def __str__(self) -> str:
        where = self.department.name if self.department_id and self.department else "All"
        return f"P{self.priority} ({where})"

    @classmethod
    def for_ticket(cls, *, priority: int, department: Department) -> SlaPolicy:
        """The department's own policy for this priority, else the hospital-wide one."""
        policies = cls.objects.filter(
            models.Q(department=department) | models.Q(department__isnull=True), priority=priority
        ).select_related("calendar")
        found = sorted(policies, key=lambda policy: policy.department_id is None)
        if not found:
            raise SlaPolicy.DoesNotExist(f"No SLA policy for P{priority}; add one in admin.")
        return found[0]

    def calendar_for(self, department: Department) -> BusinessCalendar:
        return self.calendar if self.calendar is not None else department.calendar

    @classmethod
    def terms_for(
        cls, *, priority: int, department: Department
    ) -> tuple[SlaPolicy, BusinessCalendar]:
        """The policy and the calendar its clock runs on, held per process: every filing
        reads them, and they change only when an administrator edits them."""

        def lookup() -> tuple[SlaPolicy, BusinessCalendar]:
            policy = cls.for_ticket(priority=priority, department=department)
            return policy, policy.calendar_for(department)

        return _sla_terms.get_or_set((priority, department.pk), lookup)


# The department's calendar is part of the terms: a department moved to another calendar too.
_sla_terms: ReferenceCache[tuple[int, int], tuple[SlaPolicy, BusinessCalendar]] = ReferenceCache(
    SlaPolicy, BusinessCalendar, Department
)
