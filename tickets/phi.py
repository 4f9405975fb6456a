"""Heuristic detection of patient data (PHI) pasted into IT tickets.

The scanner is deliberately label-driven: a bare number or a capitalised word on its own says
nothing in hospital IT speech (asset tags, extensions, bed numbers, product names), but the same
value right after "MRN", "DOB" or "patient" almost always is patient data. The product only warns,
so a rare false positive costs a click while a false negative leaks PHI into the ticket history.

Findings carry the kind and the span only, never the matched text, so that they can be logged,
counted and sent to the client without copying the PHI they point at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "PHI_KIND_LABELS",
    "REDACTION_MARK",
    "PhiFinding",
    "PhiKind",
    "kinds",
    "redact",
    "scan",
    "spans",
]

#: What a removed passage of patient data reads as, wherever it was.
REDACTION_MARK = "[removed: patient data]"


class PhiKind(StrEnum):
    SSN = "ssn"
    MRN = "mrn"
    ACCOUNT = "account"
    DOB = "dob"
    PATIENT_NAME = "patient_name"


PHI_KIND_LABELS: dict[PhiKind, str] = {
    PhiKind.SSN: "a Social Security number",
    PhiKind.MRN: "a medical record number (MRN)",
    PhiKind.ACCOUNT: "an account, encounter or accession number (CSN, FIN, HAR...)",
    PhiKind.DOB: "a date of birth",
    PhiKind.PATIENT_NAME: "a patient's name",
}


@dataclass(frozen=True, slots=True)
class PhiFinding:
    kind: PhiKind
    start: int
    end: int


# Every quantifier below is bounded or anchored on a literal label, and the name words sit in
# atomic groups, so a 4,000-character description is scanned in roughly linear time whatever
# a user (or hypothesis) types.

# Filler a nurse types between a label and its value: "MRN: 123", "MR # 123", "FIN no. 123",
# "medical record number is 123", "born on 3/4/1952".
_SEP = (
    r"(?:[ \t]{0,3}(?:[:#=.-]|(?i:number|nbr|num|no|is|was|of|on)\b\.?)){0,4}"
    r"\s{0,3}"
)
# Labels must not run into a following letter ("final", "dobby") but may touch the digits.
_LABEL_END = r"(?![^\W\d_])"

_SSN_RE = re.compile(
    r"(?<![0-9][-.])\b(?P<area>[0-9]{3})[- .](?P<group>[0-9]{2})[- .](?P<serial>[0-9]{4})\b"
    # A trailing ".5" or "-12" means a longer dotted or dashed identifier, not an SSN.
    r"(?![-.][0-9])"
)

_MRN_RE = re.compile(
    r"\b(?i:mrns?|mr(?=[ \t]?\#)|med(?:ical)?\.?[ \t]{0,2}rec(?:ord)?s?\.?)"
    + _LABEL_END
    + _SEP
    # Any run length is matched here and checked in Python, because the allowed length is a
    # per-call setting while the regex is compiled once.
    + r"(?P<value>[0-9]+)(?![0-9])"
)

_ACCOUNT_RE = re.compile(
    r"\b(?i:csn|fin|har|acct|account|encounter|enc|accession|acc)"
    + _LABEL_END
    + _SEP
    # Accession numbers often carry a short modality or lab prefix ("CT12345678", "A-1234567").
    + r"(?P<value>(?:[A-Za-z]{1,3}-?)?[0-9]{5,})(?![0-9])"
)

_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![^\W\d_])\.?"
)
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])(?i:st|nd|rd|th)?"
_YEAR4 = r"(?:1[89]|20)[0-9]{2}"
_DATE = (
    r"(?:"
    r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-](?:[0-9]{4}|[0-9]{2})"
    rf"|{_YEAR4}[/.-][0-9]{{1,2}}[/.-][0-9]{{1,2}}"
    rf"|{_MONTH}[ \t]{{0,2}}{_DAY},?[ \t]{{1,2}}{_YEAR4}"
    rf"|{_DAY}[ \t-]{{1,2}}{_MONTH}[ \t,-]{{1,3}}(?:{_YEAR4}|[0-9]{{2}})"
    r")(?![0-9])"
)
_DOB_RE = re.compile(
    r"\b(?i:dob|d\.[ \t]?o\.[ \t]?b\.?|date[ \t]+of[ \t]+birth|birth[ \t]?date|birthday|born)"
    + _LABEL_END
    + _SEP
    + rf"(?P<value>{_DATE})"
)

# Only the label is consumed here; the name is matched separately from the label's end, so a
# rejected candidate ("patient The ...") does not swallow a real name that follows it.
_NAME_LABEL_RE = re.compile(
    # "200 ms Then it froze" is a duration, not a title.
    r"\b(?P<label>(?i:patient|pt\.?|mrs\.?|mr\.?|(?<![0-9]\s)ms\.?))"
    r"(?:[ \t]+(?i:name))?"
    r"(?:[ \t]{0,2}[:#-])?\s{1,3}"
)
# Upper-case without a period these are Microsoft ("MS Teams") and the MR modality
# ("MR Contrast"), not titles.
_ACRONYM_LABELS = frozenset({"MS", "MR"})

_WORD = r"(?>[^\W\d_]+(?:['\u2019-][^\W\d_]+)*)(?!\w)"
# Case is checked in Python rather than in the regex: `re` has no Unicode upper/lower classes,
# and keeping the regex case-agnostic avoids leaking the label's (?i) into the name.
_NAME_RE = re.compile(rf"(?P<first>{_WORD})(?:[ \t]{{1,3}}(?P<second>{_WORD}))?")
_NAME_PART_SPLIT_RE = re.compile(r"(['\u2019-])")
_POSSESSIVE_SUFFIXES = ("'s", "\u2019s")
_SURNAME_PREFIXES = ("Mac", "Mc")

# Capitalised words that follow "patient", "pt", "PT" or "Ms" in hospital IT tickets without
# being anyone's name: product areas, devices, vendors and sentence words.
# fmt: off
_NOT_NAMES = frozenset({
    "Care", "Access", "Portal", "Room", "Bed", "Label", "Labels", "Wristband", "Monitor",
    "Monitoring", "Transport", "Chart", "Record", "Records", "List", "Lists", "Safety", "Flow",
    "Experience", "Registration", "Services", "Financial", "Tracking", "Board", "Data",
    "Information", "Info", "Education", "Rooms", "Beds", "Is", "Was", "The", "A", "An", "In",
    "On", "At", "To", "And", "Or", "Not", "Has", "Had", "Can", "Cannot", "Will", "Needs",
    "Needed", "Patient", "Patients", "Pt", "Name", "Names", "Wristbands", "Monitors", "Charts",
    "Boards", "Portals", "Lookup", "Search", "Status", "Station", "Stations", "Header",
    "Banner", "Kiosk", "Kiosks", "Wifi", "Guest", "Entertainment", "Phone", "Phones", "Call",
    "Census", "Identification", "Id", "Field", "Details", "Demographics", "Profile", "Summary",
    "Schedule", "Scheduling", "Appointment", "Appointments", "Orders", "Order", "Notes", "Note",
    "Eval", "Evaluation", "Department", "Dept", "Gym", "Clinic", "Unit", "Floor", "Desk",
    "Queue", "Movement", "Tracker", "Relations", "Billing", "Statement", "Statements",
    "Estimate", "Estimates", "Messages", "Messaging", "Alert", "Alerts", "Alarm", "Alarms",
    "Discharge", "Admission", "Intake", "Arrival", "Location", "Video", "Camera", "Sitter",
    "Satisfaction", "Survey", "Scale", "Scales", "Pump", "Pumps", "Bracelet", "Printer",
    "Printers", "Epic", "Cerner", "Pyxis", "Omnicell", "Alaris", "Vocera", "Citrix", "Windows",
    "Teams", "Word", "Excel", "Outlook", "Office", "Edge", "Zebra", "Imprivata", "Haiku",
    "Rover", "Canto", "Then", "This", "That", "It", "When", "But", "So", "No", "Yes", "We",
    "They", "He", "She", "His", "Her", "Their", "Our", "My", "Still", "Now", "Again", "Also",
    "Just", "Only", "Since", "From", "For", "With", "Without", "Of", "By", "If", "Please",
    "Are", "Were", "Does", "Did", "Should", "Would", "Could", "Keeps", "Gets", "Got", "Mr",
    "Mrs", "Ms", "Dr", "Miss",
})
# fmt: on


def _is_capitalised(part: str) -> bool:
    return len(part) >= 2 and part[0].isupper() and part[1:].islower()


def _is_name_part(part: str, next_separator: str) -> bool:
    if _is_capitalised(part):
        return True
    # "O'Brien", "D'Angelo": a lone capital joined by an apostrophe.
    if len(part) == 1 and part.isupper() and next_separator in ("'", "\u2019"):
        return True
    return any(
        part.startswith(prefix) and _is_capitalised(part[len(prefix) :])
        for prefix in _SURNAME_PREFIXES
    )


def _is_name_word(word: str) -> bool:
    if word in _NOT_NAMES:
        return False
    pieces = _NAME_PART_SPLIT_RE.split(word)
    for index in range(0, len(pieces), 2):
        next_separator = pieces[index + 1] if index + 1 < len(pieces) else ""
        if not _is_name_part(pieces[index], next_separator):
            return False
    return True


def _strip_possessive(word: str) -> tuple[str, bool]:
    for suffix in _POSSESSIVE_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)], True
    return word, False


def _name_span(text: str, pos: int) -> tuple[int, int] | None:
    match = _NAME_RE.match(text, pos)
    if match is None:
        return None
    first, possessive = _strip_possessive(match.group("first"))
    if not _is_name_word(first):
        return None
    start = match.start("first")
    end = start + len(first)
    second_raw = match.group("second")
    # "Mr. Jones's chart": the possessive closes the name.
    if second_raw is not None and not possessive:
        second, _ = _strip_possessive(second_raw)
        if _is_name_word(second):
            end = match.start("second") + len(second)
    return start, end


def _valid_ssn(area: str, group: str, serial: str) -> bool:
    # SSA never issues these, so they are test data or typos rather than a real SSN.
    area_number = int(area)
    return (
        area_number != 0
        and area_number != 666
        and area_number < 900
        and group != "00"
        and serial != "0000"
    )


def _scan_ssn(text: str) -> list[PhiFinding]:
    return [
        PhiFinding(PhiKind.SSN, match.start(), match.end())
        for match in _SSN_RE.finditer(text)
        if _valid_ssn(match.group("area"), match.group("group"), match.group("serial"))
    ]


def _scan_mrn(text: str, min_digits: int, max_digits: int) -> list[PhiFinding]:
    return [
        PhiFinding(PhiKind.MRN, match.start("value"), match.end("value"))
        for match in _MRN_RE.finditer(text)
        if min_digits <= len(match.group("value")) <= max_digits
    ]


def _scan_value(pattern: re.Pattern[str], kind: PhiKind, text: str) -> list[PhiFinding]:
    return [
        PhiFinding(kind, match.start("value"), match.end("value"))
        for match in pattern.finditer(text)
    ]


def _scan_names(text: str) -> list[PhiFinding]:
    findings: list[PhiFinding] = []
    last_end = 0
    for label in _NAME_LABEL_RE.finditer(text):
        if label.group("label") in _ACRONYM_LABELS or label.start() < last_end:
            continue
        span = _name_span(text, label.end())
        if span is not None:
            findings.append(PhiFinding(PhiKind.PATIENT_NAME, *span))
            last_end = span[1]
    return findings


_KIND_ORDER = {kind: index for index, kind in enumerate(PhiKind)}


def scan(text: str, *, mrn_min_digits: int = 6, mrn_max_digits: int = 10) -> list[PhiFinding]:
    """All findings, ordered by start, non-overlapping per kind.

    An MRN is only reported when its digit run is between ``mrn_min_digits`` and
    ``mrn_max_digits`` long (inclusive), since the MRN format differs between hospitals.
    """
    if mrn_min_digits < 1 or mrn_max_digits < mrn_min_digits:
        raise ValueError("need 1 <= mrn_min_digits <= mrn_max_digits")
    findings = [
        *_scan_ssn(text),
        *_scan_mrn(text, mrn_min_digits, mrn_max_digits),
        *_scan_value(_ACCOUNT_RE, PhiKind.ACCOUNT, text),
        *_scan_value(_DOB_RE, PhiKind.DOB, text),
        *_scan_names(text),
    ]
    findings.sort(key=lambda finding: (finding.start, _KIND_ORDER[finding.kind], finding.end))
    return findings


def kinds(text: str, *, mrn_min_digits: int = 6, mrn_max_digits: int = 10) -> list[PhiKind]:
    """Distinct kinds found, in PhiKind declaration order (for warning messages)."""
    found = {
        finding.kind
        for finding in scan(text, mrn_min_digits=mrn_min_digits, mrn_max_digits=mrn_max_digits)
    }
    return [kind for kind in PhiKind if kind in found]


def spans(text: str, *, mrn_min_digits: int = 6, mrn_max_digits: int = 10) -> list[tuple[int, int]]:
    """Where the findings are, as (start, end) character offsets, overlapping ones merged: what
    to remove so that nothing flagged is left, without saying what it is."""
    merged: list[tuple[int, int]] = []
    for finding in scan(text, mrn_min_digits=mrn_min_digits, mrn_max_digits=mrn_max_digits):
        if merged and finding.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finding.end))
        else:
            merged.append((finding.start, finding.end))
    return merged


def redact(text: str, passage: str) -> tuple[str, int]:
    """``text`` with every occurrence of ``passage`` replaced by :data:`REDACTION_MARK`, and how
    many there were. Earlier removals are left alone: a passage is only looked for between them,
    so removing "patient" does not eat into a mark."""
    if not passage:
        return text, 0
    pieces = text.split(REDACTION_MARK)
    found = sum(piece.count(passage) for piece in pieces)
    if not found:
        return text, 0
    return REDACTION_MARK.join(piece.replace(passage, REDACTION_MARK) for piece in pieces), found
