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


def start_ticket_numbers(apps: StateApps, schema_editor: Any) -> None:
    """Ticket numbers start at HD-1001: a four-digit number reads better over the phone than HD-7,
    and never looks like a bed or room number."""
    connection = schema_editor.connection
    table = "tickets_ticket"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 1000, true)", [table])
        elif connection.vendor == "sqlite":
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, 1000)", [table])
