"""Reference data and roles live in the shared cache; an edit in admin, a bulk change the project
makes, or a change of someone's groups shows on the very next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse

from departments.models import BusinessCalendar, Department, Location, Team
from departments.roles import display_name, is_it_staff
from tests.factories import TicketFactory, UserFactory
from tickets.models import Category, Ticket, references_covering

QUEUE = reverse("queue")
FILE = reverse("file_ticket")


@pytest.fixture
def root(reference_data: None) -> User:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(root: User) -> Client:
    client = Client()
    client.force_login(root)
    return client


def _form_data(response: Any) -> dict[str, Any]:
    """What the admin change page would post back unchanged, inlines included."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update(
            {management.add_prefix(name): management[name].value() for name in management.fields}
        )
        forms.extend(inline.formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            bound = form[name]
            value = bound.value()
            if field.disabled or value is None:
                continue
            if isinstance(field.widget, MultiWidget):
                for index, part in enumerate(field.widget.decompress(value)):
                    data[f"{bound.html_name}_{index}"] = "" if part is None else part
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(item) for item in value]
            else:
                data[bound.html_name] = value
    return data


def _change_in_admin(client: Client, row: Any, **changes: Any) -> None:
    url = reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_change", args=[row.pk])
    data = _form_data(client.get(url))
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors


def _delete_selected_in_admin(client: Client, model: Any, *rows: Any) -> None:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.post(
        url,
        {"action": "delete_selected", "_selected_action": [row.pk for row in rows], "post": "yes"},
    )
    assert response.status_code == 302


def _ticket_page(client: Client, ticket: Ticket) -> str:
    return client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()


def test_a_department_renamed_in_admin_shows_on_the_next_ticket_page(admin_client, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    assert "Med-Surg" in _ticket_page(admin_client, ticket)

    _change_in_admin(admin_client, ticket.department, name="Medical-Surgical 4 West")

    assert "Medical-Surgical 4 West" in _ticket_page(admin_client, ticket)


def test_a_category_renamed_in_admin_shows_on_the_next_ticket_page(admin_client, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    _ticket_page(admin_client, ticket)

    _change_in_admin(admin_client, ticket.category, name="Label and wristband printers")

    assert "Label and wristband printers" in _ticket_page(admin_client, ticket)


def test_a_category_hidden_in_admin_leaves_the_filing_tiles_at_once(admin_client, nurse_ed):
    printers = Category.objects.get(slug="printers")
    nurse = Client()
    nurse.force_login(nurse_ed)
    assert printers.name in nurse.get(FILE).content.decode()

    _change_in_admin(admin_client, printers, is_active="")

    assert printers.name not in nurse.get(FILE).content.decode()


def test_a_location_renamed_in_admin_shows_on_the_next_ticket_page(admin_client, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    _ticket_page(admin_client, ticket)

    _change_in_admin(admin_client, ticket.location, name="Med-Surg 4 West nurses' station")

    assert "Med-Surg 4 West nurses&#x27; station" in _ticket_page(admin_client, ticket)


def test_a_team_renamed_in_admin_shows_in_the_queue_filters_at_once(admin_client, tech):
    team = Team.objects.get(slug="field-services")
    queue = Client()
    queue.force_login(tech)
    assert team.name in queue.get(QUEUE).content.decode()

    _change_in_admin(admin_client, team, name="Desktop and Printer Support")

    body = queue.get(QUEUE).content.decode()
    assert "Desktop and Printer Support" in body


def test_locations_deleted_with_the_admin_bulk_action_leave_the_filing_form(admin_client, nurse_ed):
    ed = Department.objects.get(code="ED")
    bays = [
        Location.objects.create(department=ed, code=f"ED-HALL-{n}", name=f"Hallway bed {n}")
        for n in (1, 2)
    ]
    nurse = Client()
    nurse.force_login(nurse_ed)
    assert "Hallway bed 2" in nurse.get(FILE).content.decode()

    _delete_selected_in_admin(admin_client, Location, *bays)

    assert not Location.objects.filter(code__startswith="ED-HALL-").exists()
    assert "Hallway bed" not in nurse.get(FILE).content.decode()


def test_a_team_deleted_with_the_admin_bulk_action_leaves_the_queue_filters(admin_client, tech):
    team = Team.objects.create(slug="tele-sitters", name="Tele-sitter Support")
    queue = Client()
    queue.force_login(tech)
    assert "Tele-sitter Support" in queue.get(QUEUE).content.decode()

    _delete_selected_in_admin(admin_client, Team, team)

    assert "Tele-sitter Support" not in queue.get(QUEUE).content.decode()


def test_locations_added_in_bulk_can_be_filed_for_at_once(nurse_ed, client):
    client.force_login(nurse_ed)
    client.get(FILE)  # the locations are cached
    # As the demo and the bench add their rooms and workstations.
    Location.objects.bulk_create(
        [Location(department=Department.objects.get(code="ED"), code="WOW-ED-99", name="WOW 99")]
    )
    assert "WOW 99" in client.get(FILE).content.decode()


def test_a_department_updated_in_bulk_shows_on_the_next_ticket_page(client, tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    client.force_login(tech)
    _ticket_page(client, ticket)

    Department.objects.filter(pk=ticket.department_id).update(name="Medical-Surgical")

    assert "Medical-Surgical" in _ticket_page(client, ticket)


def test_team_managers_set_in_bulk_are_read_at_once(manager):
    """The demo's rotations name the manager of every team with one update()."""
    assert references_covering(lambda rows: True).teams
    Team.objects.update(manager=manager)
    teams = references_covering(lambda rows: True).teams.values()
    assert {team.manager_id for team in teams} == {manager.pk}


def test_a_calendar_made_round_the_clock_changes_its_clock_at_once(reference_data):
    calendar = BusinessCalendar.objects.filter(always_open=False).first()
    assert calendar is not None
    before = calendar.as_clock()
    calendar.always_open = True
    calendar.save()
    after = BusinessCalendar.objects.get(pk=calendar.pk).as_clock()
    assert after != before
    assert after == type(after).always_open(calendar.time_zone)


# Roles


def test_a_technician_taken_out_of_it_in_admin_loses_the_queue_at_once(admin_client, tech):
    queue = Client()
    queue.force_login(tech)
    assert queue.get(QUEUE).status_code == 200

    requester = Group.objects.get(name="requester")
    _change_in_admin(admin_client, tech, groups=[str(requester.pk)])

    assert queue.get(QUEUE).status_code == 404


def test_a_nurse_added_to_the_technicians_sees_the_queue_at_once(client, nurse_ed):
    client.force_login(nurse_ed)
    assert client.get(QUEUE).status_code == 404

    nurse_ed.groups.add(Group.objects.get(name="technician"))

    assert client.get(QUEUE).status_code == 200


def test_people_removed_from_a_group_by_the_group_lose_its_role_at_once(client, tech):
    client.force_login(tech)
    assert client.get(QUEUE).status_code == 200

    Group.objects.get(name="technician").user_set.remove(tech)

    assert client.get(QUEUE).status_code == 404


def test_a_group_emptied_takes_its_role_from_everyone_at_once(client, tech):
    client.force_login(tech)
    assert client.get(QUEUE).status_code == 200

    Group.objects.get(name="technician").user_set.clear()

    assert client.get(QUEUE).status_code == 404


def test_a_technician_taken_out_of_it_leaves_the_assign_choices_at_once(
    client, manager, tech, nurse_medsurg
):
    ticket = TicketFactory(requester=nurse_medsurg)
    client.force_login(manager)
    choice = f'<option value="{tech.pk}">{display_name(tech)}</option>'
    assert choice in _ticket_page(client, ticket)

    tech.groups.clear()

    assert choice not in _ticket_page(client, ticket)


def test_the_role_read_is_cached_between_requests(tech, django_assert_num_queries):
    assert is_it_staff(User.objects.get(pk=tech.pk))
    fresh = User.objects.get(pk=tech.pk)  # as every request has its own user object
    with django_assert_num_queries(0):
        assert is_it_staff(fresh)
