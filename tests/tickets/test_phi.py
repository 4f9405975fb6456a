"""Tests for the PHI scanner; pure Python, no database and no Django."""

from __future__ import annotations

import dataclasses
import itertools
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickets.phi import (
    PHI_KIND_LABELS,
    REDACTION_MARK,
    PhiFinding,
    PhiKind,
    kinds,
    redact,
    scan,
    spans,
)

MUST_FLAG: list[tuple[str, PhiKind]] = [
    ("pt John Smith MRN 00123456 can't get wristband", PhiKind.MRN),
    ("pt John Smith MRN 00123456 can't get wristband", PhiKind.PATIENT_NAME),
    ("SSN 123-45-6789 in the registration screen", PhiKind.SSN),
    ("pasted 123 45 6789 into the comments by mistake", PhiKind.SSN),
    ("DOB 03/04/1952", PhiKind.DOB),
    ("Mrs. Garcia in bed 4 monitor not charting", PhiKind.PATIENT_NAME),
    ("FIN# 987654321 won't load", PhiKind.ACCOUNT),
    ("accession 4455667 missing from PACS", PhiKind.ACCOUNT),
    ("medical record number: 7654321", PhiKind.MRN),
    ("MR# 2233445 shows the wrong allergies", PhiKind.MRN),
    ("MR # 2233445 duplicate chart", PhiKind.MRN),
    ("med rec 88776655 merged with the wrong patient", PhiKind.MRN),
    ("MRN is 12345678, armband printed blank", PhiKind.MRN),
    ("CSN 1234567890 stuck in pre-admit", PhiKind.ACCOUNT),
    ("HAR: 55512345 not dropping charges", PhiKind.ACCOUNT),
    ("acct #12345678 estimate wrong", PhiKind.ACCOUNT),
    ("encounter no. 99887766 will not close", PhiKind.ACCOUNT),
    ("accession CT12345678 images not in PACS", PhiKind.ACCOUNT),
    ("D.O.B. March 4, 1952 shows as 1925 on the label", PhiKind.DOB),
    ("pt born 4 Mar 1952 can't log into MyChart", PhiKind.DOB),
    ("date of birth: 03-04-52 wrong in Epic", PhiKind.DOB),
    ("dob 1952-03-04 will not save", PhiKind.DOB),
    ("patient John Smith can't be found in the ED tracking board", PhiKind.PATIENT_NAME),
    ("Mr. Garcia's wristband won't scan", PhiKind.PATIENT_NAME),
    ("pt Jones needs a new pump channel", PhiKind.PATIENT_NAME),
    ("Ms. Nguyen cannot hear the nurse call", PhiKind.PATIENT_NAME),
    ("patient: Mary O'Brien label printed twice", PhiKind.PATIENT_NAME),
    ("Pt. Name: Ana Lopez missing from the census", PhiKind.PATIENT_NAME),
]

MUST_NOT_FLAG: list[str] = [
    "Epic frozen on all triage PCs",
    "Badge tap not working on WOW-ED-07",
    "CT head done 20 min ago not in PACS",
    "Lab results not crossing to Epic since 02:10",
    "Monitor vitals not filing, beds 1-8",
    "patient care is delayed",
    "Patient Access can't print labels",
    "Patient Portal is down for everyone",
    "the pt's chart won't open in Haiku",
    "call me at x4567",
    "ext 4567",
    "printer at 10.20.30.40",
    "see HD-1042",
    "ASSET 004512",
    "call 312-555-0142",
    "000-12-3456",
    "666-12-3456",
    "912-34-5678",
    "123-00-4567",
    "123-45-0000",
    "unlabelled number 12345678",
    "PC-OR12-01 in OR 7 has no sound",
    "MS Teams keeps crashing on the unit",
    "MR Contrast injector offline",
    "login takes 300 ms Then it freezes",
    "Zebra printer in room 12 jams since 2019",
    "MRN field greyed out on the registration screen",
    "DOB field rejects dates before 1950",
    "account locked after password reset",
    "version 10.2.1 of the Pyxis software",
    "patient The wristband printer is jammed",
]


@pytest.mark.parametrize(("text", "kind"), MUST_FLAG)
def test_must_flag(text: str, kind: PhiKind) -> None:
    assert kind in kinds(text)


@pytest.mark.parametrize("text", MUST_NOT_FLAG)
def test_must_not_flag(text: str) -> None:
    assert scan(text) == []


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("pt John Smith MRN 00123456 can't get wristband", PhiKind.MRN, "00123456"),
        ("pt John Smith MRN 00123456 can't get wristband", PhiKind.PATIENT_NAME, "John Smith"),
        ("SSN 123-45-6789 in the registration screen", PhiKind.SSN, "123-45-6789"),
        ("DOB 03/04/1952", PhiKind.DOB, "03/04/1952"),
        ("D.O.B. March 4, 1952 shows", PhiKind.DOB, "March 4, 1952"),
        ("Mrs. Garcia in bed 4", PhiKind.PATIENT_NAME, "Garcia"),
        ("Mr. Garcia's wristband", PhiKind.PATIENT_NAME, "Garcia"),
        ("FIN# 987654321 won't load", PhiKind.ACCOUNT, "987654321"),
        ("medical record number: 7654321", PhiKind.MRN, "7654321"),
    ],
)
def test_span_covers_the_sensitive_value(text: str, kind: PhiKind, value: str) -> None:
    spans = [text[f.start : f.end] for f in scan(text) if f.kind is kind]
    assert spans == [value]


def test_rejected_candidate_does_not_hide_a_following_name() -> None:
    text = "patient The patient Jones"
    assert [text[f.start : f.end] for f in scan(text)] == ["Jones"]


def test_findings_are_ordered_by_start() -> None:
    text = "MRN 1234567 for pt Jones, SSN 123-45-6789, DOB 3/4/1952, CSN 998877665"
    findings = scan(text)
    assert [f.start for f in findings] == sorted(f.start for f in findings)
    assert [f.kind for f in findings] == [
        PhiKind.MRN,
        PhiKind.PATIENT_NAME,
        PhiKind.SSN,
        PhiKind.DOB,
        PhiKind.ACCOUNT,
    ]


def test_kinds_are_distinct_and_in_declaration_order() -> None:
    text = "pt Jones DOB 3/4/1952 MRN 1234567 MRN 7654321 SSN 123-45-6789"
    assert kinds(text) == [PhiKind.SSN, PhiKind.MRN, PhiKind.DOB, PhiKind.PATIENT_NAME]


def test_mrn_length_setting_is_respected() -> None:
    assert kinds("MRN 12345") == []
    assert kinds("MRN 12345", mrn_min_digits=5) == [PhiKind.MRN]
    assert kinds("MRN 12345678901") == []
    assert kinds("MRN 12345678901", mrn_max_digits=11) == [PhiKind.MRN]


def test_mrn_digit_run_must_not_be_part_of_a_longer_run() -> None:
    assert scan("MRN 1234567890123") == []


def test_invalid_mrn_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="mrn_min_digits"):
        scan("MRN 1234567", mrn_min_digits=8, mrn_max_digits=6)


def test_findings_never_carry_the_matched_text() -> None:
    assert [field.name for field in dataclasses.fields(PhiFinding)] == ["kind", "start", "end"]
    text = "SSN 123-45-6789 pt John Smith"
    assert all("6789" not in repr(f) and "Smith" not in repr(f) for f in scan(text))


def test_every_kind_has_a_warning_label() -> None:
    assert set(PHI_KIND_LABELS) == set(PhiKind)
    assert all(label.strip() for label in PHI_KIND_LABELS.values())


@pytest.mark.parametrize(
    "text",
    [
        "MRN " * 1000,
        "patient " * 500,
        "1-" * 2000,
        "Mr. " * 1000,
        "DOB " * 1000,
        "1/" * 2000,
        "123-45-" * 570,
        "MRN" + " no" * 1300,
        "MRN" + " " * 3990 + "1",
        "pt " + "Ab-" * 1300 + "1",
        "pt " + "O'" * 2000,
        "DOB March " * 400,
    ],
)
def test_adversarial_input_completes(text: str) -> None:
    scan(text)


@given(st.text(max_size=4000))
def test_scan_never_raises_and_spans_are_in_bounds(text: str) -> None:
    findings = scan(text)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    assert [f.start for f in findings] == sorted(f.start for f in findings)
    for kind in PhiKind:
        of_kind = [f for f in findings if f.kind is kind]
        assert all(a.end <= b.start for a, b in itertools.pairwise(of_kind))


_CONTEXT = st.text(alphabet=string.ascii_letters + " ", max_size=200)


@given(_CONTEXT, st.text(alphabet=string.digits, min_size=6, max_size=10), _CONTEXT)
def test_labelled_mrn_in_any_context_is_found(before: str, digits: str, after: str) -> None:
    text = f"{before} MRN {digits} {after}"
    start = len(before) + len(" MRN ")
    assert PhiFinding(PhiKind.MRN, start, start + len(digits)) in scan(text)


@given(st.text(alphabet=string.ascii_lowercase + " ", max_size=4000))
def test_lowercase_words_alone_never_flag(text: str) -> None:
    assert scan(text) == []


_SEPARATOR = st.sampled_from("- .")
_VALID_AREA = st.integers(1, 899).filter(lambda area: area != 666)
_INVALID_AREA = st.one_of(st.just(0), st.just(666), st.integers(900, 999))


def _ssn(area: int, group: int, serial: int, first: str, second: str) -> str:
    return f"{area:03d}{first}{group:02d}{second}{serial:04d}"


@given(_VALID_AREA, st.integers(1, 99), st.integers(1, 9999), _SEPARATOR, _SEPARATOR)
def test_valid_ssn_is_always_flagged(
    area: int, group: int, serial: int, first: str, second: str
) -> None:
    ssn = _ssn(area, group, serial, first, second)
    text = f"ssn was {ssn} in the note"
    assert PhiFinding(PhiKind.SSN, 8, 8 + len(ssn)) in scan(text)


@given(
    st.one_of(
        st.tuples(_INVALID_AREA, st.integers(0, 99), st.integers(0, 9999)),
        st.tuples(st.integers(0, 999), st.just(0), st.integers(0, 9999)),
        st.tuples(st.integers(0, 999), st.integers(0, 99), st.just(0)),
    ),
    _SEPARATOR,
    _SEPARATOR,
)
def test_invalid_ssn_is_never_flagged(parts: tuple[int, int, int], first: str, second: str) -> None:
    text = f"ssn was {_ssn(*parts, first, second)} in the note"
    assert scan(text) == []


# Removing what was found ------------------------------------------------------------------------


def test_spans_merge_what_overlaps_and_say_nothing_of_what_it_is() -> None:
    text = "SSN 123-45-6789 and MRN 123456789, pt John Smith"
    assert [text[start:end] for start, end in spans(text)] == [
        "123-45-6789", "123456789", "John Smith"
    ]  # fmt: skip


@given(st.text(alphabet="MRNpt DOBSsn:#-/0123456789JohnSmith", max_size=60))
def test_spans_are_ordered_apart_and_cover_every_finding(text: str) -> None:
    found = spans(text)
    assert all(end < next_start for (_, end), (next_start, _) in itertools.pairwise(found))
    for finding in scan(text):
        assert any(start <= finding.start and finding.end <= end for start, end in found)


def test_removing_the_spans_leaves_nothing_flagged() -> None:
    text = "pt John Smith MRN 00123456 DOB 03/04/1952"
    for start, end in reversed(spans(text)):
        text = text[:start] + REDACTION_MARK + text[end:]
    assert scan(text) == []
    assert kinds(text) == []


def test_redact_replaces_every_occurrence_and_counts_them() -> None:
    assert redact("Quill in bed 4; Quill moved", "Quill") == (
        f"{REDACTION_MARK} in bed 4; {REDACTION_MARK} moved",
        2,
    )
    assert redact("nothing here", "Quill") == ("nothing here", 0)
    assert redact("nothing here", "") == ("nothing here", 0)


def test_redact_leaves_earlier_marks_alone() -> None:
    text = f"{REDACTION_MARK} and the patient data"
    assert redact(text, "patient") == (f"{REDACTION_MARK} and the {REDACTION_MARK} data", 1)
    assert redact(text, "data] and") == (text, 0)


@given(st.text(max_size=80), st.text(min_size=1, max_size=8))
def test_after_redact_the_passage_is_only_ever_inside_a_mark(text: str, passage: str) -> None:
    scrubbed, _found = redact(text, passage)
    assert all(passage not in piece for piece in scrubbed.split(REDACTION_MARK))
