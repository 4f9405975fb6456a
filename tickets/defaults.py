"""Ticket categories a new installation starts with. Top-level categories are the tiles on the
filing page; each routes to an IT team. Seeded once by a migration, edited in admin."""

from __future__ import annotations

from typing import Any

from django.db.migrations.state import StateApps

# (slug, tile name, hint under the tile, icon, team slug, [subcategories])
CATEGORIES: list[tuple[str, str, str, str, str, list[str]]] = [
    (
        "ehr",
        "Epic / EHR",
        "Frozen, slow, orders, results",
        "ehr",
        "clinical-apps",
        [
            "Access",
            "Slow or frozen",
            "Printing from Epic",
            "Orders and results",
            "Mobile apps",
            "Downtime read-only",
        ],
    ),
    (
        "identity",
        "Sign-in and badge",
        "Password, lockout, badge tap",
        "identity",
        "service-desk",
        ["Password reset", "Account locked", "Badge-tap sign-on", "MFA"],
    ),
    (
        "printers",
        "Printers and labels",
        "Wristbands, specimen labels",
        "printer",
        "field-services",
        [
            "Wristband printer",
            "Specimen labels",
            "Pharmacy labels",
            "Discharge papers",
            "Other printer",
        ],
    ),
    (
        "workstations",
        "Computer or WOW",
        "PC, workstation on wheels",
        "workstation",
        "field-services",
        ["WOW battery", "PC won't start", "Monitor, keyboard, mouse"],
    ),
    (
        "pacs",
        "Images / PACS",
        "Images missing or slow",
        "pacs",
        "imaging",
        ["Images missing", "Images slow", "Worklist"],
    ),
    (
        "medication",
        "Medication systems",
        "Scanners, eMAR, cabinets, pumps",
        "medication",
        "clinical-apps",
        ["Barcode scanners", "eMAR", "Dispensing cabinets", "Smart pumps"],
    ),
    (
        "comms",
        "Phones and Vocera",
        "Vocera, unit phones, pagers",
        "comms",
        "network",
        ["Vocera", "Unit phones", "Pagers", "Secure chat", "Alarm routing"],
    ),
    (
        "devices",
        "Medical device data",
        "Monitors, vents into Epic",
        "device",
        "biomed",
        ["Patient monitors", "Ventilators", "Anesthesia machines", "Fetal monitoring"],
    ),
    (
        "network",
        "Wi-Fi and network",
        "Wi-Fi, wired, VPN",
        "network",
        "network",
        ["Wi-Fi", "Wired network", "VPN"],
    ),
    (
        "interfaces",
        "Interfaces",
        "Results or orders not crossing",
        "interface",
        "interfaces",
        ["HL7 ADT", "Results", "Dispensing cabinets", "Backlog"],
    ),
    ("email", "Email", "Outlook, shared mailboxes", "email", "service-desk", []),
    (
        "security",
        "Security",
        "Phishing, lost device",
        "security",
        "security",
        ["Phishing", "Lost or stolen device", "Patient data exposed"],
    ),
    (
        "requests",
        "Request",
        "Access, new hire, moves, software",
        "request",
        "service-desk",
        ["Access request", "New hire", "Device move", "Software"],
    ),
]


def seed_categories(apps: StateApps, schema_editor: Any = None) -> None:
    Category = apps.get_model("tickets", "Category")
    Team = apps.get_model("departments", "Team")
    teams = {team.slug: team for team in Team.objects.all()}
    for order, (slug, name, hint, icon, team_slug, children) in enumerate(CATEGORIES, start=1):
        parent, created = Category.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "hint": hint,
                "icon": icon,
                "team": teams[team_slug],
                "sort_order": order * 10,
            },
        )
        if not created:
            continue
        for position, child in enumerate(children, start=1):
            Category.objects.create(
                slug=f"{slug}-{position}",
                name=child,
                parent=parent,
                icon=icon,
                team=teams[team_slug],
                sort_order=position,
            )


BUSINESS_DAY_MINUTES = 9 * 60  # 08:00-17:00

# (priority, response minutes, resolution minutes, calendar name or None for the department's)
SLA_DEFAULTS: list[tuple[int, int, int, str | None]] = [
    (1, 15, 4 * 60, "24x7"),
    (2, 30, 8 * 60, None),
    (3, 4 * 60, 3 * BUSINESS_DAY_MINUTES, "Business hours (Mon-Fri 08:00-17:00)"),
    (4, BUSINESS_DAY_MINUTES, 5 * BUSINESS_DAY_MINUTES, "Business hours (Mon-Fri 08:00-17:00)"),
    (
        5,
        2 * BUSINESS_DAY_MINUTES,
        10 * BUSINESS_DAY_MINUTES,
        "Business hours (Mon-Fri 08:00-17:00)",
    ),
]


def seed_sla_policies(apps: StateApps, schema_editor: Any = None) -> None:
    """P1 runs 24x7; P2 on the department's clock (24x7 in the ED, business hours in HIM);
    P3-P5 on business hours. Warn at 75% of a target."""
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    BusinessCalendar = apps.get_model("departments", "BusinessCalendar")
    calendars = {calendar.name: calendar for calendar in BusinessCalendar.objects.all()}
    for priority, response, resolution, calendar in SLA_DEFAULTS:
        SlaPolicy.objects.get_or_create(
            priority=priority,
            department=None,
            defaults={
                "response_minutes": response,
                "resolution_minutes": resolution,
                "warn_percent": 75,
                "calendar": calendars[calendar] if calendar else None,
            },
        )
