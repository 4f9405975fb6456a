"""The organisation a new installation starts with: the departments, calendars and IT teams of a
typical acute-care hospital. They are rows, seeded once by a migration; administrators change them
in admin. Functions take the migration's ``apps`` so they keep working as the models evolve."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.db.migrations.state import StateApps

ROUND_THE_CLOCK = "24x7"
BUSINESS_HOURS = "Business hours (Mon-Fri 08:00-17:00)"

# Holidays the business-hours clock stops for (observed dates).
HOLIDAYS = [
    (date(2026, 1, 1), "New Year's Day"),
    (date(2026, 5, 25), "Memorial Day"),
    (date(2026, 7, 3), "Independence Day (observed)"),
    (date(2026, 9, 7), "Labor Day"),
    (date(2026, 11, 26), "Thanksgiving"),
    (date(2026, 12, 25), "Christmas Day"),
    (date(2027, 1, 1), "New Year's Day"),
    (date(2027, 5, 31), "Memorial Day"),
    (date(2027, 7, 5), "Independence Day (observed)"),
    (date(2027, 9, 6), "Labor Day"),
    (date(2027, 11, 25), "Thanksgiving"),
    (date(2027, 12, 24), "Christmas Day (observed)"),
]

# (code, name, tier, calendar, auto_escalate, main unit name)
DEPARTMENTS = [
    ("ED", "Emergency Department", 1, ROUND_THE_CLOCK, True, "ED Main"),
    ("OR", "Perioperative Services (Pre-op, OR, PACU)", 1, ROUND_THE_CLOCK, True, "Main OR"),
    ("ICU", "Intensive Care Unit", 1, ROUND_THE_CLOCK, False, "Medical ICU"),
    ("NICU", "Neonatal ICU", 1, ROUND_THE_CLOCK, False, "NICU"),
    ("LD", "Labor & Delivery", 1, ROUND_THE_CLOCK, False, "Labor & Delivery"),
    ("CATH", "Cath Lab / Interventional Radiology", 1, ROUND_THE_CLOCK, False, "Cath Lab"),
    ("PHARM", "Pharmacy", 1, ROUND_THE_CLOCK, False, "Inpatient Pharmacy"),
    ("LAB", "Laboratory / Blood Bank", 1, ROUND_THE_CLOCK, False, "Core Lab"),
    ("RAD", "Radiology", 1, ROUND_THE_CLOCK, False, "Radiology"),
    ("TELE", "Telemetry / Step-down", 2, ROUND_THE_CLOCK, False, "Telemetry 6 East"),
    ("MEDSURG", "Medical-Surgical Units", 2, ROUND_THE_CLOCK, False, "Med-Surg 4 North"),
    ("BH", "Behavioral Health", 2, ROUND_THE_CLOCK, False, "Behavioral Health"),
    ("RT", "Respiratory Therapy", 2, ROUND_THE_CLOCK, False, "Respiratory Therapy"),
    ("REG", "Registration / Admitting", 2, ROUND_THE_CLOCK, False, "Main Registration"),
    ("TC", "Transfer Center", 2, ROUND_THE_CLOCK, False, "Transfer Center"),
    ("NADMIN", "Nursing Administration", 2, ROUND_THE_CLOCK, False, "House Supervisor"),
    ("HIM", "Health Information Management", 3, BUSINESS_HOURS, False, "HIM"),
    ("AMB", "Ambulatory / Infusion", 3, BUSINESS_HOURS, False, "Infusion Center"),
    ("ADMIN", "Administration / Finance / HR", 3, BUSINESS_HOURS, False, "Administration"),
]

# (slug, name, team email, team phone)
TEAMS = [
    ("service-desk", "Service Desk", "servicedesk@lakeside.example", "x4357"),
    ("clinical-apps", "Clinical Applications (EHR)", "clinapps@lakeside.example", "x4310"),
    ("imaging", "Imaging (PACS)", "pacs@lakeside.example", "x4320"),
    ("network", "Network & Telecom", "network@lakeside.example", "x4330"),
    ("field-services", "Field Services", "fieldservices@lakeside.example", "x4340"),
    ("interfaces", "Interfaces", "interfaces@lakeside.example", "x4350"),
    ("biomed", "Biomed / Clinical Engineering", "biomed@lakeside.example", "x4360"),
    ("security", "Information Security", "security@lakeside.example", "x4370"),
]

GROUPS = ["requester", "technician", "manager", "admin", "integration", "privacy_officer"]


def seed_organisation(apps: StateApps, schema_editor: Any = None) -> None:
    Group = apps.get_model("auth", "Group")
    BusinessCalendar = apps.get_model("departments", "BusinessCalendar")
    BusinessHours = apps.get_model("departments", "BusinessHours")
    Holiday = apps.get_model("departments", "Holiday")
    Department = apps.get_model("departments", "Department")
    Location = apps.get_model("departments", "Location")
    Team = apps.get_model("departments", "Team")

    for name in GROUPS:
        Group.objects.get_or_create(name=name)

    calendars = {}
    calendars[ROUND_THE_CLOCK], _ = BusinessCalendar.objects.get_or_create(
        name=ROUND_THE_CLOCK, defaults={"always_open": True, "time_zone": "America/Chicago"}
    )
    business, created = BusinessCalendar.objects.get_or_create(
        name=BUSINESS_HOURS, defaults={"always_open": False, "time_zone": "America/Chicago"}
    )
    if created:
        BusinessHours.objects.bulk_create(
            BusinessHours(calendar=business, weekday=day, opens=time(8), closes=time(17))
            for day in range(5)
        )
        Holiday.objects.bulk_create(
            Holiday(calendar=business, date=day, name=name) for day, name in HOLIDAYS
        )
    calendars[BUSINESS_HOURS] = business

    for code, name, tier, calendar, auto_escalate, unit in DEPARTMENTS:
        department, created = Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "tier": tier,
                "calendar": calendars[calendar],
                "auto_escalate": auto_escalate,
            },
        )
        if created:
            Location.objects.create(department=department, code=code, name=unit, kind="unit")

    for slug, name, email, phone in TEAMS:
        Team.objects.get_or_create(
            slug=slug, defaults={"name": name, "email": email, "phone": phone}
        )


# The hospital's default ladder: primary, re-paged every 5 min; no acknowledgement in 15 min:
# secondary; 15 more: the manager on call. Run twice, then the chain is marked unanswered.
LADDER = [("primary", 5, 15), ("secondary", 5, 15), ("manager", 5, 15)]


def seed_escalation_policies(
    apps: StateApps, schema_editor: Any = None, *, policies_app: str
) -> None:
    """Every team gets the default ladder. ``policies_app`` is the app whose EscalationPolicy
    and EscalationStep ``apps`` holds: "departments" in the migration that first seeded them,
    "oncall" since they moved there."""
    Team = apps.get_model("departments", "Team")
    EscalationPolicy = apps.get_model(policies_app, "EscalationPolicy")
    EscalationStep = apps.get_model(policies_app, "EscalationStep")
    for team in Team.objects.all():
        policy, created = EscalationPolicy.objects.get_or_create(
            team=team, defaults={"repeat_count": 2}
        )
        if created:
            EscalationStep.objects.bulk_create(
                EscalationStep(
                    policy=policy, position=position, target=target, repage_minutes=repage,
                    wait_minutes=wait,
                )
                for position, (target, repage, wait) in enumerate(LADDER)
            )  # fmt: skip


def seed_groups(apps: StateApps, schema_editor: Any = None) -> None:
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)
