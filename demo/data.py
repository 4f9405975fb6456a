"""The demo hospital, Lakeside Regional Medical Center, as data: its people, rooms and
workstations, the problems its staff report, what IT writes back, and when things happen.

Tables only; ``demo.generate`` turns them into accounts, rotations and three months of tickets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from departments.models import Location
from departments.roles import Role
from tickets.models import Ticket
from tickets.priority import Scope, Urgency
from tickets.services import PHI_FLAGGED_TEXT

# Only demo accounts in a demo installation use it (seed_demo refuses anywhere else).
DEMO_PASSWORD = "demo"  # noqa: S105
SEED = 2026
DAYS = 90
TICKET_COUNT = 350
# A resolved ticket closes by itself after this long without the requester reopening it.
CLOSE_AFTER = timedelta(days=3)

# --- People -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    first_name: str
    last_name: str
    home: str | None  # department code
    job_title: str
    callback: str
    pager: str = ""
    role: Role = Role.REQUESTER
    teams: tuple[str, ...] = ()
    # IT staff: their part of their teams' finished tickets (relative weight), and how long their
    # fixes take against the typical time (0.8: a fifth quicker).
    share: float = 1.0
    pace: float = 1.0

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# fmt: off
DEMO_ACCOUNTS: tuple[Person, ...] = (
    Person("nurse.ed", "Erin", "Walsh", "ED", "RN, Emergency Department", "x4410 / Vocera Erin"),
    Person("nurse.or", "Omar", "Haddad", "OR", "RN, Perioperative Services", "x4520 / Vocera Omar"),
    Person("nurse.medsurg", "Maya", "Chen", "MEDSURG", "RN, Med-Surg 4 North",
           "x4630 / Vocera Maya"),
    Person("tech", "Terry", "Nguyen", None, "IT Support Technician II", "x4341",
           pager="Pager 2207", role=Role.TECHNICIAN,
           teams=("service-desk", "clinical-apps", "field-services"), share=2.5),
    Person("tech2", "Jordan", "Reyes", None, "Senior Systems Technician", "x4332",
           pager="Pager 2214", role=Role.TECHNICIAN,
           teams=("network", "imaging", "interfaces", "biomed"), share=2.5, pace=0.85),
    Person("manager", "Morgan", "Patel", None, "IT Service Manager", "x4300",
           pager="Pager 2200", role=Role.MANAGER),
    Person("admin", "Sam", "Okafor", None, "Help Desk Administrator", "x4301",
           pager="Pager 2201", role=Role.ADMIN),
)
# fmt: on

# Clinical staff who file the rest of the tickets. They cannot sign in (unusable passwords): the
# demo is driven through the accounts above.
CLINICAL_STAFF: tuple[Person, ...] = (
    Person("rn.jlopez", "Jasmine", "Lopez", "ED", "RN", "x4411 / Vocera Jasmine"),
    Person("rn.dokafor", "Daniel", "Okafor", "ED", "Charge RN", "x4400 / Vocera ED Charge"),
    Person("huc.kbrennan", "Kayla", "Brennan", "ED", "Health Unit Coordinator", "x4402"),
    Person("rn.sfischer", "Sarah", "Fischer", "OR", "Circulating RN", "x4521 / Vocera Sarah"),
    Person("crna.mortiz", "Miguel", "Ortiz", "OR", "CRNA", "x4530 / Vocera Anesthesia 2"),
    Person("rn.gwong", "Grace", "Wong", "OR", "PACU RN", "x4540 / Vocera Grace"),
    Person("rn.tbaptiste", "Tanya", "Baptiste", "ICU", "RN", "x4710 / Vocera Tanya"),
    Person("rn.kmurphy", "Kevin", "Murphy", "ICU", "Charge RN", "x4700 / Vocera ICU Charge"),
    Person("rn.asantos", "Ana", "Santos", "NICU", "NICU RN", "x4750 / Vocera Ana"),
    Person("rn.lharris", "Lauren", "Harris", "LD", "L&D RN", "x4760 / Vocera Lauren"),
    Person("cvt.bgreen", "Brian", "Green", "CATH", "Cardiovascular Technologist", "x4780"),
    Person("pharmd.rmehta", "Ravi", "Mehta", "PHARM", "Clinical Pharmacist", "x4800"),
    Person("cpht.tjohnson", "Tasha", "Johnson", "PHARM", "Pharmacy Technician", "x4805"),
    Person("mls.ekowalski", "Ewa", "Kowalski", "LAB", "Medical Laboratory Scientist", "x4820"),
    Person("rtr.cdiaz", "Carlos", "Diaz", "RAD", "CT Technologist", "x4840"),
    Person("rtr.hlee", "Hannah", "Lee", "RAD", "MRI Technologist", "x4845"),
    Person("rn.mjackson", "Marcus", "Jackson", "TELE", "Telemetry RN", "x4610 / Vocera Marcus"),
    Person("mt.ssingh", "Simran", "Singh", "TELE", "Monitor Technician", "x4615"),
    Person("rn.bthompson", "Beth", "Thompson", "MEDSURG", "RN, 5 South", "x4650 / Vocera Beth"),
    Person("rn.afoster", "Aaron", "Foster", "MEDSURG", "Charge RN, 8 North", "x4680 / Vocera 8N"),
    Person("rn.nreid", "Nia", "Reid", "BH", "Behavioral Health RN", "x4900"),
    Person("rt.jkim", "Jason", "Kim", "RT", "Respiratory Therapist", "x4910 / Vocera RT 1"),
    Person("reg.mgarcia", "Maria", "Garcia", "REG", "Patient Access Representative", "x4920"),
    Person("rn.cobrien", "Colleen", "O'Brien", "TC", "Transfer Center RN", "x4930"),
    Person("rn.wbrooks", "Walter", "Brooks", "NADMIN", "House Supervisor", "x4940 / Vocera House"),
    Person("him.dpowell", "Denise", "Powell", "HIM", "HIM Specialist", "x4950"),
    Person("rn.rsilva", "Rosa", "Silva", "AMB", "Infusion RN", "x4960"),
    Person("hr.ecampbell", "Emily", "Campbell", "ADMIN", "Payroll Manager", "x4970"),
    Person("dir.lpark", "Linda", "Park", "ADMIN", "Director of Nursing Operations", "x4975"),
    Person("huc.twright", "Tom", "Wright", "MEDSURG", "Unit Clerk, 4 West", "x4640"),
)

# IT staff who share the on-call rotations with tech and tech2. Like the clinical staff above,
# they cannot sign in; they are here so "Who's on call" and the pages look like a real team.
IT_STAFF: tuple[Person, ...] = (
    Person("it.pshah", "Priya", "Shah", None, "Clinical Applications Analyst", "x4312",
           pager="Pager 2231", role=Role.TECHNICIAN, teams=("clinical-apps", "service-desk"),
           share=2.0, pace=0.8),
    Person("it.dkowalski", "Dan", "Kowalski", None, "Field Services Technician", "x4344",
           pager="Pager 2242", role=Role.TECHNICIAN, teams=("field-services", "service-desk"),
           share=1.5, pace=1.3),
    Person("it.lfischer", "Lena", "Fischer", None, "Network Engineer", "x4333",
           pager="Pager 2253", role=Role.TECHNICIAN, teams=("network",), pace=0.9),
    Person("it.mbell", "Marcus", "Bell", None, "PACS Administrator", "x4321",
           pager="Pager 2264", role=Role.TECHNICIAN, teams=("imaging", "interfaces"),
           share=1.5, pace=1.1),
    Person("it.aroberts", "Alex", "Roberts", None, "Biomedical Engineer", "x4361",
           pager="Pager 2275", role=Role.TECHNICIAN, teams=("biomed",), share=2.0, pace=1.4),
    Person("it.ktan", "Kim", "Tan", None, "Information Security Analyst", "x4371",
           pager="Pager 2286", role=Role.TECHNICIAN, teams=("security",), share=3.0),
    Person("it.jmorales", "Julia", "Morales", None, "Service Desk Analyst", "x4358",
           pager="Pager 2292", role=Role.TECHNICIAN, teams=("service-desk",),
           share=2.0, pace=0.7),
    Person("it.sadeyemi", "Samuel", "Adeyemi", None, "Service Desk Analyst (new hire)", "x4359",
           pager="Pager 2293", role=Role.TECHNICIAN, teams=("service-desk",),
           share=0.8, pace=1.5),
    Person("it.hnakamura", "Hiro", "Nakamura", None, "Epic Analyst, ClinDoc", "x4314",
           pager="Pager 2234", role=Role.TECHNICIAN, teams=("clinical-apps",), pace=1.2),
    Person("it.rcosta", "Rita", "Costa", None, "Field Services Technician", "x4346",
           pager="Pager 2245", role=Role.TECHNICIAN, teams=("field-services",),
           share=1.8, pace=0.9),
    Person("it.twilliams", "Trevor", "Williams", None, "Interface Analyst", "x4326",
           pager="Pager 2266", role=Role.TECHNICIAN, teams=("interfaces",), pace=0.95),
)  # fmt: skip

# How many tickets each demo nurse owns: (open, resolved or closed).
NURSE_TICKETS = {"nurse.ed": (2, 4), "nurse.or": (2, 3), "nurse.medsurg": (1, 4)}

# Which demo technician works which team's open tickets, so whoever signs in as tech or tech2 has a
# queue. Finished tickets are spread over each team's members (see Person.share and .pace).
TEAM_TECHNICIAN = {
    "service-desk": "tech",
    "clinical-apps": "tech",
    "field-services": "tech",
    "network": "tech2",
    "imaging": "tech2",
    "interfaces": "tech2",
    "biomed": "tech2",
    "security": "tech2",
}


# --- Places -----------------------------------------------------------------------------------

WORKSTATION = Location.Kind.WORKSTATION
ROOM = Location.Kind.ROOM
UNIT = Location.Kind.UNIT


def _series(
    department: str, code: str, name: str, numbers: Iterable[int], kind: str = WORKSTATION
) -> list[tuple[str, str, str, str]]:
    return [(department, code.format(n=n), name.format(n=n), kind) for n in numbers]


# (department code, location code, name, kind). Codes are what is on the sticker and what a
# per-workstation link carries (/file/?ws=WOW-ED-07).
LOCATIONS: list[tuple[str, str, str, str]] = [
    *_series("ED", "WOW-ED-{n:02d}", "ED WOW {n:02d}", range(1, 13)),
    *_series("ED", "PC-ED-TRIAGE-{n}", "ED triage PC {n}", range(1, 5)),
    *_series("ED", "ED-TRAUMA-{n}", "ED Trauma Bay {n}", range(1, 4), ROOM),
    *_series("ED", "ED-HALL-H{n}", "ED Hallway H{n}", range(1, 7), ROOM),
    ("ED", "ED-FASTTRACK", "ED Fast Track", ROOM),
    *_series("OR", "OR-{n:02d}", "OR {n}", range(1, 13), ROOM),
    ("OR", "PREOP", "Pre-op", ROOM),
    ("OR", "PACU", "PACU", ROOM),
    *_series("OR", "PC-OR-{n:02d}", "OR {n} in-room PC", (3, 7, 11, 12)),
    *_series("OR", "WOW-PACU-{n:02d}", "PACU WOW {n:02d}", range(1, 3)),
    ("OR", "PC-PREOP-1", "Pre-op check-in PC", WORKSTATION),
    ("ICU", "ICU-POD-A", "ICU Pod A", ROOM),
    ("ICU", "ICU-POD-B", "ICU Pod B", ROOM),
    *_series("ICU", "WOW-ICU-{n:02d}", "ICU WOW {n:02d}", range(1, 5)),
    ("ICU", "PC-ICU-CENTRAL", "ICU central monitoring PC", WORKSTATION),
    ("NICU", "NICU-POD-1", "NICU Pod 1", ROOM),
    ("NICU", "NICU-MILK", "NICU milk room", ROOM),
    *_series("NICU", "WOW-NICU-{n:02d}", "NICU WOW {n:02d}", range(1, 3)),
    ("LD", "LD-TRIAGE", "LD Triage", ROOM),
    ("LD", "LD-NURSES", "L&D nurses' station", ROOM),
    *_series("LD", "WOW-LD-{n:02d}", "L&D WOW {n:02d}", range(1, 4)),
    ("CATH", "CATH-1", "Cath Lab 1", ROOM),
    ("CATH", "CATH-2", "Cath Lab 2", ROOM),
    ("CATH", "IR-1", "IR Suite", ROOM),
    ("PHARM", "PHARM-IV", "IV Room", ROOM),
    *_series("PHARM", "PC-PHARM-VERIFY-{n}", "Pharmacy verification PC {n}", range(1, 3)),
    ("LAB", "LAB-BB", "Blood Bank", ROOM),
    ("LAB", "LAB-CHEM", "Chemistry bench", ROOM),
    ("LAB", "PC-LAB-RECV-1", "Lab specimen receiving PC", WORKSTATION),
    *_series("RAD", "RAD-READ-{n}", "Reading Room {n}", range(1, 3), ROOM),
    ("RAD", "RAD-MRI-1", "MRI 1", ROOM),
    *_series("RAD", "RAD-CT-{n}", "CT {n}", range(1, 3), ROOM),
    ("TELE", "TELE-MONITOR", "Tele monitor room", ROOM),
    *_series("TELE", "WOW-6E-{n:02d}", "6 East WOW {n:02d}", range(1, 5)),
    ("MEDSURG", "MS-5S", "Med-Surg 5 South", UNIT),
    ("MEDSURG", "MS-8N", "Med-Surg 8 North", UNIT),
    *_series("MEDSURG", "WOW-4N-{n:02d}", "4 North WOW {n:02d}", range(1, 5)),
    *_series("MEDSURG", "WOW-5S-{n:02d}", "5 South WOW {n:02d}", range(1, 4)),
    *_series("MEDSURG", "WOW-8N-{n:02d}", "8 North WOW {n:02d}", range(1, 4)),
    ("BH", "BH-DAYROOM", "BH dayroom", ROOM),
    ("BH", "PC-BH-1", "BH nurses' station PC", WORKSTATION),
    ("RT", "RT-WORKROOM", "RT workroom", ROOM),
    ("RT", "WOW-RT-01", "RT WOW 01", WORKSTATION),
    ("REG", "REG-ED", "ED registration desk", ROOM),
    *_series("REG", "PC-REG-{n:02d}", "Registration PC {n:02d}", range(1, 4)),
    *_series("TC", "PC-TC-{n:02d}", "Transfer Center desk {n}", range(1, 4)),
    ("NADMIN", "PC-NADMIN-1", "House supervisor office PC", WORKSTATION),
    *_series("HIM", "PC-HIM-{n:02d}", "HIM scanning station {n}", range(1, 3)),
    ("AMB", "AMB-INFUSION-A", "Infusion chairs 1-12", ROOM),
    *_series("AMB", "WOW-INF-{n:02d}", "Infusion WOW {n:02d}", range(1, 3)),
    ("ADMIN", "PC-PAYROLL-1", "Payroll office PC", WORKSTATION),
    ("ADMIN", "ADMIN-BOARD", "Administration boardroom", ROOM),
    ("MEDSURG", "4W-DESK", "4 West unit desk", ROOM),
]


# --- Problems ---------------------------------------------------------------------------------

HIGH, MEDIUM, LOW = Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW
ME, MY_UNIT, SEVERAL = Scope.ME, Scope.UNIT, Scope.SEVERAL

# The nurse's answers behind each urgency: (care delayed now?, workaround?).
ANSWERS: dict[Urgency, tuple[bool, bool]] = {
    HIGH: (True, False),
    MEDIUM: (True, True),
    LOW: (False, True),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that goes wrong, as a nurse reports it.

    ``title`` is filed from ``home`` at least once; other reports of it come from ``places``
    (location codes, ``PREFIX*`` for a series) with a title from ``variants``. Titles and the
    description are format strings: {name} and {tag} of the location, {time}, {minutes}, {beds}.
    """

    title: str
    category: str  # slug; a subcategory falls back to its tile if an admin removed it
    urgency: Urgency
    scopes: tuple[Scope, ...]
    home: str
    places: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    description: str = ""
    weight: float = 1.0
    # Filed exactly once, never drawn at random (the two PHI slips).
    once: bool = False


# fmt: off
PROBLEMS: tuple[Problem, ...] = (
    # Emergency Department
    Problem("Epic frozen on all triage PCs", "ehr-2", HIGH, (MY_UNIT,), "PC-ED-TRIAGE-2",
            places=("PC-ED-TRIAGE-*", "WOW-ED-*"),
            variants=("Epic frozen on {name} and the PC next to it",
                      "Epic hourglass on every ED WOW",
                      "Epic freezing at triage, whole screen white"),
            description="Spinning wheel since {time}, can't chart triage. Restarted one PC, "
                        "same thing.",
            weight=1.2),
    Problem("Triage wristband printer printing blank bands", "printers-1", HIGH, (MY_UNIT,),
            "PC-ED-TRIAGE-1",
            places=("PC-ED-TRIAGE-*", "REG-ED"),
            variants=("Wristband printer at {name} printing blank bands",
                      "Wristbands cut in half at {name}"),
            description="Bands come out blank, ribbon looks fine. Writing bands by hand for now.",
            weight=1.2),
    Problem("Badge tap not working on WOW-ED-07", "identity-3", MEDIUM, (ME, ME, MY_UNIT),
            "WOW-ED-07",
            places=("WOW-ED-*",),
            variants=("Badge tap not working on {tag}",
                      "Badge reader on {tag} beeps but won't sign in"),
            description="Tapping does nothing, typing the password works.",
            weight=1.5),
    Problem("CT head done 20 min ago not in PACS", "pacs-1", HIGH, (MY_UNIT,), "ED-TRAUMA-1",
            places=("ED-TRAUMA-*", "ED-HALL-H*", "ED-FASTTRACK"),
            variants=("CT head done {minutes} min ago not in PACS",
                      "Chest X-ray from {time} not showing in PACS",
                      "CT C-spine from {time} not in PACS"),
            description="Scan finished at {time}, radiology says it was sent. Nothing in the "
                        "viewer."),
    Problem("Vocera calls dropping near trauma bays", "comms-1", HIGH, (MY_UNIT,),
            "ED-TRAUMA-2",
            places=("ED-TRAUMA-*", "ED-HALL-H*"),
            variants=("Vocera calls dropping in {name}",
                      "Vocera badges can't reach each other near {name}"),
            description="Calls cut out after a few seconds near the bays. Using the overhead "
                        "for now.",
            weight=0.8),
    Problem("Wi-Fi drops at hallway beds H1-H6", "network-1", MEDIUM, (MY_UNIT,), "ED-HALL-H3",
            places=("ED-HALL-H*", "ED-FASTTRACK"),
            variants=("Wi-Fi drops at {name}, WOWs disconnecting", "WOWs losing Wi-Fi in {name}"),
            description="WOWs lose connection every few minutes in the hallway, fine back at "
                        "the desk.",
            weight=0.8),
    # Perioperative Services
    Problem("Intraop record won't load in OR 7, case starting", "ehr-2", HIGH, (ME, MY_UNIT),
            "OR-07",
            places=("OR-*",),
            variants=("Intraop record won't load in {name}, case starting",),
            description="Intraop navigator spins and times out. Case is on the table, charting "
                        "on paper.",
            weight=1.2),
    Problem("Anesthesia machine vitals not flowing, OR 3", "devices-3", HIGH, (MY_UNIT,),
            "OR-03",
            places=("OR-*",),
            variants=("Anesthesia machine vitals not flowing, {name}",),
            description="Vitals stopped filing to the intraop record at {time}; the machine "
                        "itself is fine."),
    Problem("OR 12 in-room PC won't boot", "workstations-2", HIGH, (MY_UNIT,), "PC-OR-12",
            places=("PC-OR-*",),
            variants=("{name} won't boot", "{name} stuck on a black screen"),
            description="Power light on, nothing on the screen. First case at 07:30.",
            weight=0.8),
    Problem("PACU specimen label printer jammed", "printers-2", MEDIUM, (MY_UNIT,), "PACU",
            places=("PACU", "PREOP"),
            variants=("{name} specimen label printer jammed",),
            description="Labels stuck inside, cleared it twice. Using the Pre-op printer "
                        "meanwhile."),
    # ICU, NICU, L&D
    Problem("Monitor vitals not filing, beds 1-8", "devices-1", HIGH, (MY_UNIT,), "ICU-POD-A",
            places=("ICU-POD-*",),
            variants=("Monitor vitals not filing, beds {beds}",),
            description="Flowsheet has no vitals since {time}. Monitors show them fine."),
    Problem("Barcode scanners can't read wristbands", "medication-1", HIGH, (MY_UNIT, SEVERAL),
            "ICU-POD-B",
            places=("WOW-ICU-*", "WOW-NICU-*", "WOW-6E-*", "WOW-5S-*", "WOW-LD-*"),
            variants=("Barcode scanner on {tag} can't read wristbands",
                      "Scanners beep but won't scan wristbands on the unit"),
            description="Scanner lights up, no beep on any band. Overriding the scan with a "
                        "second nurse.",
            weight=1.2),
    Problem("Breast-milk label printer offline", "printers", HIGH, (MY_UNIT,), "NICU-MILK",
            places=("NICU-MILK",),
            variants=("Breast-milk label printer offline again",),
            description="Can't label milk bottles, Epic says the printer is offline.",
            weight=0.6),
    Problem("Fetal monitoring central station blank", "devices-4", HIGH, (MY_UNIT,),
            "LD-NURSES",
            places=("LD-NURSES", "LD-TRIAGE"),
            variants=("Fetal monitoring central station blank at {name}",),
            description="Central station screen is blank; strips still show in the rooms.",
            weight=0.6),
    Problem("Travel RN can't log into Epic", "identity", MEDIUM, (ME,), "WOW-ICU-03",
            places=("WOW-ICU-*", "WOW-LD-*", "WOW-NICU-*", "WOW-6E-*", "WOW-8N-*"),
            variants=("Travel RN can't log into Epic", "Float pool RN can't log into Epic",
                      "New travel RN's Epic login not working",
                      "Agency RN can't log into Epic on {tag}"),
            description="First shift here, login says the account is not active. Charge nurse "
                        "is charting.",
            weight=1.5),
    # Pharmacy, Lab, Radiology
    Problem("Dispensing cabinet not getting orders, nurses overriding", "medication-3", HIGH,
            (MY_UNIT, SEVERAL), "PC-PHARM-VERIFY-1",
            places=("PC-PHARM-VERIFY-*", "ICU-POD-A", "MS-5S", "MS-8N", "WOW-ED-*"),
            variants=("Pyxis not getting new orders, nurses overriding",
                      "Dispensing cabinet profile empty since {time}"),
            description="Verified orders don't show in the cabinet; units are overriding.",
            weight=0.8),
    Problem("IV room labels misaligned", "printers-3", MEDIUM, (MY_UNIT,), "PHARM-IV",
            places=("PHARM-IV",),
            variants=("IV room labels printing off the edge",),
            description="Barcode prints half off the label. Reprinting one at a time works.",
            weight=0.8),
    Problem("Lab results not crossing to Epic since 02:10", "interfaces-2", HIGH, (SEVERAL,),
            "LAB-CHEM",
            places=("LAB-CHEM", "PC-LAB-RECV-1", "ICU-POD-A", "WOW-ED-*"),
            variants=("Lab results not crossing to Epic since {time}",
                      "Results verified in the lab but missing in Epic since {time}"),
            description="Results are verified in the lab system but not in Epic. Calling "
                        "criticals.",
            weight=0.8),
    Problem("Prior studies slow to open, reading room 2", "pacs-2", MEDIUM, (MY_UNIT, ME),
            "RAD-READ-2",
            places=("RAD-READ-*",),
            variants=("Prior studies slow to open, {name}",),
            description="Priors take 2-3 minutes to load, current studies are fine."),
    Problem("MRI modality worklist empty", "interfaces", MEDIUM, (MY_UNIT,), "RAD-MRI-1",
            places=("RAD-MRI-1", "RAD-CT-*"),
            variants=("{name} modality worklist empty",),
            description="Worklist on the scanner is empty, the schedule in Epic is full. "
                        "Typing in by hand.",
            weight=0.8),
    # Med-Surg and Telemetry
    Problem("WOW battery dies after 30 min", "workstations-1", MEDIUM, (ME,), "WOW-5S-02",
            places=("WOW-4N-*", "WOW-5S-*", "WOW-8N-*", "WOW-6E-*", "WOW-ED-*", "WOW-ICU-*"),
            variants=("{tag} battery dies after {minutes} min",
                      "Battery on {tag} won't hold a charge"),
            description="Fully charged at start of shift, dead by the second med pass.",
            weight=3.5),
    Problem("Discharge papers printing to wrong printer", "printers-4", MEDIUM, (MY_UNIT,),
            "MS-8N",
            places=("MS-5S", "MS-8N", "TELE-MONITOR"),
            variants=("Discharge papers printing to wrong printer",
                      "Discharge papers printing to the 4 North printer",
                      "AVS printing to wrong printer"),
            description="Discharge paperwork ends up on another floor's printer.",
            weight=1.5),
    Problem("Locked out after password change", "identity-2", MEDIUM, (ME,), "WOW-4N-02",
            places=("WOW-4N-*", "WOW-5S-*", "WOW-8N-*", "WOW-6E-*", "WOW-ICU-*", "PC-REG-*",
                    "WOW-ED-*"),
            variants=("Locked out after password change",
                      "Locked out after password change on {tag}",
                      "Account locked after password reset"),
            description="Changed my password this morning, now locked out of Epic and email.",
            weight=3.5),
    Problem("Epic read-only icon missing during downtime", "ehr-6", HIGH, (MY_UNIT, SEVERAL),
            "MS-5S",
            places=("MS-5S", "MS-8N", "TELE-MONITOR"),
            variants=("Downtime read-only icon missing on {name} PCs",),
            description="Planned downtime started, no read-only icon on the desktops. Using "
                        "the BCA printout.",
            weight=0.5),
    Problem("Tele alarms not reaching Vocera", "comms-5", HIGH, (MY_UNIT,), "TELE-MONITOR",
            places=("TELE-MONITOR", "WOW-6E-*"),
            variants=("Tele alarms not reaching Vocera, beds {beds}",),
            description="Monitor tech sees alarms, nurses' badges get nothing. Calling rooms "
                        "by phone.",
            weight=0.8),
    # Elsewhere
    Problem("Insurance-card scanner not detected", "workstations-3", LOW, (ME,), "PC-REG-02",
            places=("PC-REG-*", "REG-ED"),
            variants=("Insurance-card scanner not detected", "Card scanner not detected on {name}"),
            description="Scanner light is on, Epic says no device found. Typing cards in."),
    Problem("Transfer Center calls rolling to voicemail", "comms-2", HIGH, (MY_UNIT,),
            "PC-TC-01",
            places=("PC-TC-*",),
            variants=("Transfer line rolling to voicemail after one ring",),
            description="Outside hospitals calling for transfers get voicemail. Using the "
                        "backup line.",
            weight=0.6),
    Problem("Pumps fail drug-library download, 8 North", "devices", MEDIUM, (MY_UNIT,), "MS-8N",
            places=("MS-5S", "MS-8N", "ICU-POD-A", "AMB-INFUSION-A"),
            variants=("Pumps fail drug-library download, {name}",),
            description="Pumps show the old library version after docking. Biomed asked us to "
                        "report it.",
            weight=0.8),
    Problem("Phishing email posing as payroll", "security-1", LOW, (SEVERAL,), "PC-PAYROLL-1",
            places=("PC-PAYROLL-1", "ADMIN-BOARD", "PC-NADMIN-1"),
            variants=("Phishing email about a payroll change",
                      "Suspicious email asking to confirm direct deposit"),
            description="Several staff got an email asking them to log in to update direct "
                        "deposit. Nobody clicked.",
            weight=0.8),
    Problem("Request: reporting access for new manager", "requests-1", LOW, (ME,),
            "ADMIN-BOARD",
            places=("ADMIN-BOARD", "PC-NADMIN-1"),
            variants=("Request: report access for new unit manager",),
            description="New manager starts Monday and needs staffing and quality reports.",
            weight=0.5),
    # The everyday: what fills a real queue between the memorable ones.
    Problem("Password expired, can't sign in", "identity-1", MEDIUM, (ME,), "WOW-8N-01",
            places=("WOW-*", "PC-REG-*", "PC-HIM-*", "PC-PHARM-VERIFY-*"),
            variants=("Password expired, can't sign in", "Password expired, can't sign in on {tag}",
                      "Forgot password after vacation"),
            description="Password expired overnight, the reset page won't take my answers.",
            weight=4.0),
    Problem("Citrix session frozen, Epic won't relaunch", "ehr-2", MEDIUM, (ME,), "WOW-6E-02",
            places=("WOW-*",),
            variants=("Citrix session frozen on {tag}, Epic won't relaunch",),
            description="Epic closed and now says my session is still open somewhere else.",
            weight=2.5),
    Problem("Second monitor black", "workstations-3", LOW, (ME,), "PC-PHARM-VERIFY-2",
            places=("PC-*",),
            variants=("Second monitor black on {name}",),
            description="Left screen works, right one says no signal.",
            weight=2.0),
    Problem("Specimen labels printing faded", "printers-2", MEDIUM, (MY_UNIT,), "LAB-CHEM",
            places=("LAB-CHEM", "LAB-BB", "ICU-POD-A", "ED-FASTTRACK", "MS-5S"),
            variants=("Specimen labels printing faded in {name}",),
            description="Barcodes on specimen labels are too light for the lab scanners.",
            weight=1.5),
    Problem("Unit phone at nurses' station has no dial tone", "comms-2", MEDIUM, (MY_UNIT,),
            "LD-NURSES",
            places=("LD-NURSES", "MS-5S", "MS-8N", "TELE-MONITOR", "BH-DAYROOM"),
            variants=("Phone at {name} has no dial tone",),
            description="Main desk phone is dead; using a cell phone."),
    Problem("Haiku won't upload wound photos", "ehr-5", LOW, (ME,), "WOW-5S-01",
            places=("WOW-5S-*", "WOW-8N-*", "WOW-ICU-*"),
            variants=("Haiku photo upload fails on the unit phone",),
            description="Photo upload spins and fails; the rest of Haiku works."),
    Problem("eMAR shows doses as due that were already given", "medication-2", MEDIUM,
            (MY_UNIT,), "WOW-4N-03",
            places=("WOW-4N-*", "WOW-6E-*", "WOW-ICU-*"),
            variants=("eMAR showing given doses as due on {tag}",),
            description="Doses scanned and given still show as due after a refresh."),
    Problem("Ventilator data not flowing to flowsheet, ICU Pod B", "devices-2", HIGH,
            (MY_UNIT,), "ICU-POD-B",
            places=("ICU-POD-*", "RT-WORKROOM", "WOW-RT-01"),
            variants=("Ventilator data not flowing to flowsheet, {name}",),
            description="Vent settings stopped filing at {time}; charting them by hand.",
            weight=0.7),
    Problem("Pager not receiving rapid response pages", "comms-3", HIGH, (ME,), "RT-WORKROOM",
            places=("RT-WORKROOM", "PC-NADMIN-1", "ICU-POD-A"),
            variants=("Pager missing rapid response pages",),
            description="Missed two rapid response pages this shift; a test page from the "
                        "operator worked.",
            weight=0.5),
    Problem("Secure chat messages arriving late", "comms-4", MEDIUM, (MY_UNIT,),
            "TELE-MONITOR",
            places=("TELE-MONITOR", "MS-5S", "ICU-POD-A"),
            variants=("Secure chat messages arriving late on the unit",),
            description="Messages from providers arrive 10-15 minutes after they were sent.",
            weight=0.8),
    Problem("Hemodynamic system can't send case to Epic, Cath Lab 2", "devices", HIGH,
            (MY_UNIT,), "CATH-2",
            places=("CATH-*", "IR-1"),
            variants=("Hemodynamic system can't send case to Epic, {name}",),
            description="Case finished but the hemo report won't transfer. Next case waiting.",
            weight=0.6),
    Problem("Tablets lose Wi-Fi in the BH dayroom", "network-1", LOW, (MY_UNIT,),
            "BH-DAYROOM",
            description="Rounding tablets disconnect in the dayroom; fine at the nurses' "
                        "station.",
            weight=0.5),
    Problem("Infusion WOW won't connect to Wi-Fi", "network-1", MEDIUM, (ME,), "WOW-INF-01",
            places=("WOW-INF-*",),
            variants=("{name} won't connect to Wi-Fi",),
            description="Says connected, no internet. Using the desk PC for now.",
            weight=0.7),
    Problem("HIM scanning station won't send documents to Epic", "interfaces-4", LOW,
            (MY_UNIT,), "PC-HIM-01",
            places=("PC-HIM-*",),
            variants=("{name} won't send batches to Epic",),
            description="Scanned batches sit in the outbox since {time}.",
            weight=0.6),
    Problem("Bed board not updating after transfers", "interfaces-1", HIGH, (SEVERAL,),
            "PC-NADMIN-1",
            places=("PC-NADMIN-1", "PC-TC-*"),
            variants=("Bed board not updating since {time}",),
            description="Transfers done in Epic don't show on the bed board. Placing beds by "
                        "phone.",
            weight=0.5),
    Problem("VPN drops every few minutes", "network-3", MEDIUM, (ME,), "PC-PHARM-VERIFY-2",
            places=("PC-PHARM-VERIFY-*", "PC-PAYROLL-1"),
            variants=("VPN drops every {minutes} minutes",),
            description="Remote verification from home keeps disconnecting.",
            weight=0.6),
    Problem("Blood bank labels printing off-center", "printers-2", MEDIUM, (MY_UNIT,),
            "LAB-BB",
            description="Unit labels print shifted to the right; barcodes cut off.",
            weight=0.4),
    Problem("Request: Epic and badge access for new hire starting Monday", "requests-2", LOW,
            (ME,), "MS-5S",
            places=("MS-*", "ICU-POD-A", "LD-NURSES", "ED-FASTTRACK"),
            variants=("Request: access for new grad RN starting Monday",),
            description="New hire orientation is Monday; needs Epic, badge tap and Vocera.",
            weight=1.5),
    Problem("Request: move PC to the new charting alcove", "requests-3", LOW, (ME,), "MS-8N",
            places=("MS-*", "TELE-MONITOR"),
            variants=("Request: move a PC on {name} to the charting alcove",),
            description="Unit manager approved; any day this week after 10:00.",
            weight=0.8),
    Problem("Unit printer out of toner, no spare on the unit", "printers-5", LOW, (MY_UNIT,),
            "MS-5S",
            places=("MS-*", "TELE-MONITOR", "LD-NURSES", "ICU-POD-*", "BH-DAYROOM"),
            variants=("Printer on {name} out of toner, no spare",),
            description="Toner light on since {time}; printing to the next unit's printer.",
            weight=1.5),
    Problem("Keyboard keys sticking", "workstations-3", LOW, (ME,), "WOW-8N-02",
            places=("WOW-*", "PC-*"),
            variants=("Keyboard keys sticking on {tag}",),
            description="Several keys stick after the cart was wiped down. A spare keyboard "
                        "would do."),
    Problem("Can't open attachments in Outlook", "email", LOW, (ME,), "PC-NADMIN-1",
            places=("PC-NADMIN-1", "PC-PAYROLL-1", "ADMIN-BOARD", "PC-HIM-*"),
            variants=("Outlook attachments won't open on {name}",),
            description="PDF attachments show an error; web Outlook opens them fine.",
            weight=0.8),
    Problem("Request: install dose calculator on pharmacy PCs", "requests-4", LOW, (ME,),
            "PC-PHARM-VERIFY-1",
            places=("PC-PHARM-VERIFY-*",),
            variants=("Request: dose calculator update on {name}",),
            description="Approved by the pharmacy director; needed before the go-live on the "
                        "1st.",
            weight=0.5),
    # Two slips of patient data into a description, so the PHI flag shows in the demo.
    Problem("Wristband printer skips one admission's band", "printers-1", MEDIUM, (ME,),
            "PC-ED-TRIAGE-3",
            description="pt Smith MRN 00123456 wristband won't print, other bands print fine.",
            once=True),
    Problem("Lab label printed on the wrong unit's printer", "printers-2", MEDIUM, (ME,),
            "WOW-4N-02",
            description="Label for patient Alvarez MRN 20456781 printed on 5 South instead "
                        "of 4 North.",
            once=True),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Emailed:
    """A ticket that came in by e-mail to the help desk's mailbox, filed at P4 without the
    three answers. ``answered``: the answers the sender gave on the web afterwards (urgency,
    who is affected, how many minutes after the e-mail); None while it still waits for triage.
    The problem's urgency is what filing without answers assumes (low) until then."""

    problem: Problem
    sender: str
    hours_ago: float
    answered: tuple[Urgency, Scope, int] | None = None


# fmt: off
EMAILED: tuple[Emailed, ...] = (
    Emailed(Problem("Printer on 4 West keeps jamming", "printers", LOW, (MY_UNIT,), "4W-DESK",
                    description="The printer behind the 4 West desk jams every few pages since "
                                "this morning. We have cleared it five times. Can someone come "
                                "and look? Thanks, Tom"),
            sender="huc.twright", hours_ago=2.5),
    Emailed(Problem("FW: Pyxis cabinet firmware update Saturday 02:00", "medication", LOW,
                    (MY_UNIT,), "PHARM-IV",
                    description="Forwarding from the vendor's field engineer: they will push "
                                "new firmware to every cabinet Saturday 02:00-04:00 and want "
                                "someone from IT on the bridge line. Who should join?"),
            sender="cpht.tjohnson", hours_ago=20),
    Emailed(Problem("Vocera badge on 4 North won't hold a charge", "comms", LOW, (MY_UNIT,),
                    "WOW-4N-01",
                    description="Sent from my phone. Badge 4N-07 dies after an hour even on a "
                                "fresh battery."),
            sender="nurse.medsurg", hours_ago=1),
    Emailed(Problem("Label printer on the chemistry bench printing faint", "printers", LOW,
                    (ME,), "LAB-CHEM",
                    description="Specimen labels still scan but the text is getting hard to "
                                "read. New ribbon did not help."),
            sender="mls.ekowalski", hours_ago=26, answered=(LOW, ME, 40)),
    Emailed(Problem("Tracking board screen in ED Fast Track is blank", "workstations", LOW,
                    (MY_UNIT,), "ED-FASTTRACK",
                    description="The big screen over the Fast Track desk went black; the "
                                "board still works on the PCs."),
            sender="huc.kbrennan", hours_ago=0.35, answered=(LOW, MY_UNIT, 8)),
)
# fmt: on

BEDS = ("1-8", "9-16", "3 and 4", "12-14", "5", "17-20")


# --- What IT writes back ----------------------------------------------------------------------

# Looked up by category slug, then by the tile's slug, then "" (anything).

# (what the technician tells the requester while working on it, the resolution note)
# fmt: off
FIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "ehr": (
        ("Known issue with the Epic 2026 upgrade, fix scheduled tonight 02:00.",
         "Vendor fix applied overnight at 02:00; confirmed with the unit in the morning."),
        ("Cleared your stuck Citrix session and relaunched Epic; please sign in again.",
         "Citrix session cleared; Epic opens normally."),
        ("Epic is slow hospital-wide right now; the Epic team is on a bridge call. Updates here "
         "every 30 minutes.",
         "Slowness resolved after a server failover; response times back to normal."),
        ("Rebuilt the Epic profile on that workstation; it should open in under a minute now.",
         "Profile rebuilt; confirmed charting works."),
    ),
    "ehr-5": (
        ("Photo upload needs the latest Haiku version; pushed the update to the unit phones.",
         "Haiku updated; test photo uploaded to the chart."),
    ),
    "ehr-6": (
        ("The read-only shortcut was missing from this unit's desktop image; pushing it back out "
         "now.",
         "Read-only shortcut restored on all unit PCs and tested during the downtime."),
    ),
    "identity": (
        ("Travel and float accounts come from the agency onboarding form; pushed it through and "
         "linked the nursing template.",
         "Account activated with the right template; first sign-in done."),
        ("The account existed but had no Epic access yet; added the unit's security class.",
         "Epic access added; signed in on the unit."),
    ),
    "identity-1": (
        ("Reset the password with you over the phone; the new one works in Epic and email.",
         "Password reset; signed in on the WOW."),
        ("Self-service reset needs security questions; reset it for you and enrolled them.",
         "Password reset and self-service reset enrolled."),
    ),
    "identity-2": (
        ("Unlocked the account. A phone still had the old password saved and kept locking it; "
         "please update it there.",
         "Account unlocked; old password removed from the phone's mail app."),
        ("Unlocked; the badge tap had the old password cached, cleared it.",
         "Account unlocked and badge-tap password sync fixed."),
    ),
    "identity-3": (
        ("Re-enrolled your badge; tap in again and it should pick you up.",
         "Badge re-enrolled; tap-in works."),
        ("Badge reader firmware on that cart was out of date; updated it remotely.",
         "Reader firmware updated; tap-in tested."),
    ),
    "printers": (
        ("Remoted in and cleared the print queue; please try again.",
         "Print queue cleared; test labels OK."),
        ("Recalibrated the label stock from here; please print a test label.",
         "Label stock recalibrated; labels print aligned."),
        ("Field Services on the way with a spare printer, about 15 minutes.",
         "Printer swapped for a spare; test labels print clean."),
        ("The printhead is worn out; bringing a new one up.",
         "Printhead replaced; printing clean."),
    ),
    "printers-4": (
        ("Epic was sending discharge papers to an old printer mapping; correcting it for the "
         "unit.",
         "Printer mapping in Epic corrected; test page printed in the right place."),
    ),
    "printers-5": (
        ("The printer lost its network address after last night's change; fixed it, please "
         "print again.",
         "Network address fixed; test page printed."),
        ("Field Services is bringing toner and a spare for the unit's cupboard.",
         "Toner replaced; two spares left on the unit."),
    ),
    "workstations": (
        ("Reseated the dock cable and the device shows up again; please test.",
         "Cable reseated and driver reinstalled; tested with the user."),
        ("Bringing a replacement up from stock.", "Replaced from stock; tested with the user."),
    ),
    "workstations-1": (
        ("The battery on that cart is at end of life; bringing a swap battery up now.",
         "Battery replaced; the cart held its charge through a full shift."),
        ("Field Services on the way with a loaner WOW.",
         "Loaner WOW in place while the cart's battery pack is replaced."),
    ),
    "workstations-2": (
        ("The PC failed its disk check; swapping in a spare from stock, about 20 minutes.",
         "PC swapped for a spare; Epic and scanner tested."),
        ("The power supply failed; Field Services is on the way with a replacement.",
         "Power supply replaced; PC boots and Epic opens."),
    ),
    "pacs": (
        ("The study was stuck in the PACS inbound queue; pushed it through, please refresh.",
         "Study pushed from the inbound queue; visible in PACS and Epic."),
        ("Asked the tech to re-send the study from the scanner; it should show in a minute.",
         "Study re-sent; visible in the viewer."),
    ),
    "pacs-2": (
        ("Priors from before 2024 come from the slower archive tier; the imaging team is moving "
         "them up.",
         "Archive tier move finished; priors open in seconds."),
    ),
    "medication": (
        ("Scanners on the unit had the wrong configuration; reprogrammed them, please scan a "
         "test wristband.",
         "Scanners reprogrammed; wristband scans confirmed on three carts."),
        ("Replaced the scanner cradle; the old one was not charging.",
         "Cradle replaced; scanner charging and scanning."),
    ),
    "medication-2": (
        ("The eMAR was showing a cached schedule; cleared it for the unit.",
         "eMAR cache cleared; doses show correctly after a refresh."),
    ),
    "medication-3": (
        ("The cabinet interface stopped after the 03:00 restart; pharmacy informatics restarted "
         "it and orders are flowing again.",
         "Cabinet interface restarted; orders profile again."),
    ),
    "comms": (
        ("Access points near the bays were overloaded; moved them to a new channel.",
         "Channels changed; test calls held for 10 minutes at the bays."),
        ("Re-registered the unit's Vocera badges; test calls go through now.",
         "Badges re-registered; test calls OK."),
    ),
    "comms-2": (
        ("The hunt group lost its overflow rule; calls ring to the next desk again.",
         "Hunt group overflow fixed; test calls answered."),
        ("The phone's port was disabled in the closet; re-enabled it.",
         "Port re-enabled; dial tone back."),
    ),
    "comms-3": (
        ("The pager was in the wrong group after the roster change; fixed it.",
         "Pager group corrected; test rapid response page received."),
    ),
    "comms-4": (
        ("The secure chat server was behind on delivery; the vendor restarted its queue.",
         "Message queue restarted; messages arrive within seconds."),
    ),
    "comms-5": (
        ("Alarm routing rules were missing after the bed move; re-added them.",
         "Alarm routing rules restored; test alarm reached the badges."),
    ),
    "devices": (
        ("The device server certificate expired overnight; Biomed is renewing it.",
         "Certificate renewed; device data flowing again."),
        ("Biomed restarted the device gateway for the unit.",
         "Gateway restarted; data transfer confirmed with the unit."),
    ),
    "devices-1": (
        ("Biomed re-associated the monitors to the right beds; vitals are filing again.",
         "Device association corrected; vitals filing every minute."),
    ),
    "devices-2": (
        ("The ventilator's serial adapter had come loose; Biomed reseated it.",
         "Adapter reseated; vent settings filing to the flowsheet."),
    ),
    "devices-3": (
        ("The network cable behind the boom was unplugged; reconnected and data is flowing.",
         "Network drop replaced; anesthesia data flowing to the intraop record."),
    ),
    "devices-4": (
        ("The central station lost its link to the monitor network; Biomed rebooted it.",
         "Central station rebooted; all strips showing."),
    ),
    "network": (
        ("Added a temporary access point; a permanent one is scheduled for next week.",
         "Access point added; WOWs roam without dropping."),
        ("Roaming settings on the WOWs were wrong after the last update; pushed the fix.",
         "Roaming fix pushed; no drops in the last day."),
    ),
    "network-3": (
        ("The VPN client was an old version; updated it remotely.",
         "VPN client updated; stable for a full session."),
    ),
    "interfaces": (
        ("The worklist feed lost its connection to Epic; restarted it and today's schedule "
         "shows again.",
         "Worklist feed restarted; schedule showing on the scanner."),
    ),
    "interfaces-1": (
        ("The ADT feed to the bed board stopped at midnight; restarted it.",
         "ADT feed restarted; bed board matches Epic."),
    ),
    "interfaces-2": (
        ("The results interface stopped after the lab system patch; restarted it and the "
         "backlog is draining.",
         "Interface restarted and backlog cleared; spot-checked results in Epic."),
    ),
    "interfaces-4": (
        ("The document import queue was full; cleared it and the batches are going through.",
         "Queue cleared; batches filed in Epic."),
    ),
    "email": (
        ("An update turned off Outlook's attachment preview; turned it back on.",
         "Attachments open again in Outlook."),
    ),
    "security": (
        ("Thanks for reporting it. We pulled the message from all mailboxes and blocked the "
         "sender.",
         "Message purged from all mailboxes and sender blocked; no one entered a password."),
        ("Please don't click the link; we are blocking it at the mail gateway.",
         "Link blocked at the gateway and the message purged."),
    ),
    "requests": (
        ("Approved by your director; we'll set it up and let you know here.",
         "Set up and confirmed with the requester."),
        ("Request received; we'll schedule it with your unit manager.", "Completed as requested."),
    ),
}

QUESTIONS: dict[str, tuple[str, ...]] = {
    "": (
        "Is this still happening after a restart? Please reply here when you're back on the "
        "unit.",
        "Can you try another workstation and tell us if it happens there too?",
    ),
    "identity-3": (
        "Can you tell us the tag on the cart's sticker (like WOW-ED-07)? Then we can remote in.",
    ),
    "workstations": (
        "Can you tell us the tag on the cart's sticker (like WOW-ED-07)? Then we can remote in.",
    ),
    "printers": ("What is the printer's name? It is on the sticker on its front.",),
    "printers-4": ("Which printer do they come out on instead? The name is on its front.",),
    "identity": ("What does the error say exactly? A photo of the screen helps.",),
    "requests": ("We need your manager's approval for this; please ask them to reply here.",),
}

REQUESTER_REPLIES: dict[str, tuple[str, ...]] = {
    "": (
        "Thanks, working again.",
        "That did it. Thanks for the quick call back.",
        "Thank you! The rest of the unit is fine too.",
    ),
    "printers": ("Printing fine now, thank you!", "Labels look good again, thanks."),
}

INTERNAL_NOTES: dict[str, tuple[str, ...]] = {
    "": (
        "Called back on the listed extension and confirmed it works.",
        "Checked the logs: it started right after the 02:00 change window.",
    ),
    "workstations": (
        "Third ticket for this cart this month; asked Field Services to pull it for a full "
        "check.",
        "Same fault as last week on this unit; probably the battery batch from the spring order.",
    ),
}

VENDORS: dict[str, str] = {
    "": "the vendor", "ehr": "Epic", "identity": "Imprivata", "printers": "Zebra",
    "printers-4": "HP", "printers-5": "HP", "workstations": "Dell", "workstations-1": "Capsa",
    "pacs": "Sectra", "medication": "Honeywell", "medication-3": "BD Pyxis", "comms": "Vocera",
    "comms-2": "Cisco", "comms-3": "Spok", "devices": "Philips", "devices-4": "GE",
    "network": "Cisco", "interfaces": "Epic", "email": "Microsoft", "security": "Proofpoint",
    "requests": "Epic",
}
# fmt: on

PHI_REPLY = "Please leave names and record numbers out of tickets; we don't need them to fix this."
PHI_FLAGGED = PHI_FLAGGED_TEXT
AUTO_CLOSED = f"Closed automatically {CLOSE_AFTER.days} days after it was resolved."
CANCEL_REASONS = (
    "Cancelled by the requester: it started working again after a restart.",
    "Cancelled by the requester: duplicate of an open ticket for the same outage.",
)


Code = Ticket.ResolutionCode
# How tickets end, by category (then tile, then anything): most are fixed; sign-in problems are
# often "explained how"; carts and printers get parts; devices and interfaces wait on vendors.
# fmt: off
RESOLUTION_MIX: dict[str, tuple[tuple[str, int], ...]] = {
    "": ((Code.FIXED, 50), (Code.WORKAROUND, 12), (Code.TRAINING, 14), (Code.NO_FAULT, 10),
         (Code.VENDOR, 7), (Code.HARDWARE_REPLACED, 7)),
    "identity": ((Code.FIXED, 45), (Code.TRAINING, 35), (Code.WORKAROUND, 5), (Code.NO_FAULT, 15)),
    "printers": ((Code.FIXED, 45), (Code.HARDWARE_REPLACED, 25), (Code.WORKAROUND, 10),
                 (Code.NO_FAULT, 10), (Code.VENDOR, 5), (Code.TRAINING, 5)),
    "workstations": ((Code.FIXED, 35), (Code.HARDWARE_REPLACED, 40), (Code.WORKAROUND, 10),
                     (Code.NO_FAULT, 10), (Code.TRAINING, 5)),
    "ehr": ((Code.FIXED, 45), (Code.WORKAROUND, 20), (Code.TRAINING, 15), (Code.VENDOR, 10),
            (Code.NO_FAULT, 10)),
    "pacs": ((Code.FIXED, 45), (Code.VENDOR, 20), (Code.WORKAROUND, 20), (Code.NO_FAULT, 15)),
    "interfaces": ((Code.FIXED, 55), (Code.VENDOR, 25), (Code.WORKAROUND, 15), (Code.NO_FAULT, 5)),
    "devices": ((Code.FIXED, 30), (Code.VENDOR, 30), (Code.HARDWARE_REPLACED, 20),
                (Code.WORKAROUND, 10), (Code.NO_FAULT, 10)),
    "medication": ((Code.FIXED, 40), (Code.VENDOR, 20), (Code.HARDWARE_REPLACED, 15),
                   (Code.WORKAROUND, 15), (Code.NO_FAULT, 10)),
    "security": ((Code.FIXED, 60), (Code.TRAINING, 25), (Code.NO_FAULT, 15)),
    "requests": ((Code.FIXED, 80), (Code.TRAINING, 20)),
}

# What a requester answers to "Fixed?" when it is not.
STILL_BROKEN: dict[str, tuple[str, ...]] = {
    "": ("Same problem again about an hour later.", "Worked for a while, now it's back.",
         "Still not working on the other computers on the unit."),
    "printers": ("Printing again, but the labels come out blank.",
                 "Jammed again after ten labels."),
    "identity": ("Still locked out on the cart in room 12.",
                 "Badge tap works at the desk but not on the carts."),
    "ehr": ("Still frozen on the triage PCs.", "Faster for an hour, now slow again."),
    "workstations": ("Battery died again after 40 minutes.", "Still won't boot."),
    "comms": ("Calls still dropping near the trauma bays.",),
    "network": ("Wi-Fi dropped again at the hallway beds.",),
}
# fmt: on
STILL_BROKEN_REOPENED = "Reopened: the requester says it is still broken."
CONFIRMED_CLOSED = "Closed: the requester confirmed it is fixed."
# Of the resolved tickets: the requester says "still broken" in about one in eight and the ticket
# goes back to work; about six in ten answer "yes" within a day and a bit; the rest never answer.
STILL_BROKEN_SHARE = 0.12
ANSWERED_YES_SHARE = 0.62
# After a "still broken", the second answer is "yes" this often (else none).
YES_AFTER_REOPEN = 0.7
ANSWER_WITHIN_MINUTES = (5, 30 * 60)


# --- When things happen -----------------------------------------------------------------------

# Tickets filed per hour of the local day, relative: day shift busiest, the 07:00 and 19:00
# shift changes bump, nights quiet.
# fmt: off
HOUR_WEIGHTS = (
    0.35, 0.3, 0.3, 0.3, 0.35, 0.5, 0.9, 1.7, 1.9, 1.8, 1.7, 1.6,  # 00:00-11:59
    1.4, 1.5, 1.5, 1.4, 1.2, 1.0, 0.9, 1.1, 0.9, 0.7, 0.5, 0.4,  # 12:00-23:59
)
# fmt: on
WEEKEND_FACTOR = 0.55

# First response and resolution, in minutes, by priority: (fastest, typical slowest).
RESPONSE_MINUTES = {1: (2, 12), 2: (5, 30), 3: (20, 240), 4: (60, 600), 5: (240, 1800)}
RESOLUTION_MINUTES = {1: (20, 200), 2: (45, 420), 3: (120, 3600), 4: (240, 6000), 5: (1440, 12000)}
# How likely a ticket is still open, relative, by age: (younger than hours, weight).
OPEN_BY_AGE = ((6, 30.0), (24, 15.0), (72, 6.0), (168, 1.2), (336, 0.3), (math.inf, 0.001))
# One ticket in this many takes 1.5-4x longer, so the SLA reports have breaches to show.
SLOW_ONE_IN = 5
