"""The rule "is this location one of hers?": her home department's locations and the department
of the workstation she files from are hers; IT staff and machine accounts file for anywhere."""

from __future__ import annotations

import pytest

from departments.models import Department, Location
from departments.units import files_for_other_unit, home_unit, own_department_ids
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def at(code: str) -> Location:
    return Location.objects.get(code=code)


def test_her_home_department_is_hers_and_another_is_not(nurse_medsurg):
    assert files_for_other_unit(nurse_medsurg, at("MEDSURG")) is False
    assert files_for_other_unit(nurse_medsurg, at("ED")) is True
    assert files_for_other_unit(nurse_medsurg, at("ICU")) is True


def test_a_workstation_link_makes_the_workstations_department_hers(nurse_medsurg):
    workstation = Location.objects.create(
        department=Department.objects.get(code="ED"), code="WOW-ED-07",
        name="Workstation on wheels 7", kind=Location.Kind.WORKSTATION,
    )  # fmt: skip
    assert files_for_other_unit(nurse_medsurg, at("ED"), workstation=workstation) is False
    assert files_for_other_unit(nurse_medsurg, at("OR"), workstation=workstation) is True
    assert own_department_ids(nurse_medsurg, workstation=workstation) == {
        Department.objects.get(code="MEDSURG").pk,
        Department.objects.get(code="ED").pk,
    }


def test_a_nurse_without_a_home_department_has_no_unit_of_her_own(reference_data):
    newcomer = UserFactory(role="requester", home=None)
    assert own_department_ids(newcomer) == frozenset()
    assert files_for_other_unit(newcomer, at("MEDSURG")) is True


@pytest.mark.parametrize("role", ["technician", "manager", "admin", "integration"])
def test_it_staff_and_machine_accounts_file_for_any_unit(reference_data, role):
    user = UserFactory(role=role, home=None)
    assert files_for_other_unit(user, at("ED")) is False


def test_her_home_unit_is_her_department_s_first_unit_by_name(nurse_ed):
    ed = Department.objects.get(code="ED")
    Location.objects.create(department=ed, code="ED-ACUTE", name="Acute bays", kind="unit")
    Location.objects.create(department=ed, code="ED-WS-1", name="A workstation", kind="workstation")

    assert home_unit(nurse_ed).code == "ED-ACUTE"


def test_without_a_home_department_there_is_no_home_unit(reference_data):
    assert home_unit(UserFactory(username="float.rn", home=None)) is None
