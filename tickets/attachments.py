"""What a file sent to a ticket is, decided from its content, and where it is kept.

A screenshot of the EHR is patient data, and a file from a browser is whatever its sender made
it: every upload is read in chunks up to the limit and no further, its type detected from its
bytes (``filetype``, ``olefile``, ``zipfile``; never the name or the declared type), images
re-encoded by Pillow into a plain bitmap (no EXIF, GPS or camera serials; the long side capped;
refused above a pixel count before a single pixel is decoded), and anything that could run in a
browser or on a PC refused. What is accepted is written to the ``attachments`` storage under a
random name; the name as sent is kept as data, cleaned for headers.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import logging
import secrets
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Protocol

import filetype
import olefile
import pillow_heif
from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from tickets.models import Attachment

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

STORAGE_ALIAS = "attachments"
# What the forms say before anything is sent.
ACCEPTED_KINDS = (
    "screenshots and photos, PDF, text, log and CSV files, Word and Excel files, e-mails"
)
# How long a stored file with no row may be the upload of a transaction still running.
ORPHAN_AGE = timedelta(hours=1)
NAME_MAX_LENGTH = 120
_CHUNK = 64 * 1024

# A docx or xlsx is a zip: these bounds refuse a zip bomb before anything is inflated.
_ZIP_MAX_ENTRIES = 5000
_ZIP_MAX_INFLATED = 200 * 1024 * 1024
_ZIP_MAX_RATIO = 200
_OOXML_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}

# The content types served, by the kind detected; and the names each kind may carry.
CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "eml": "message/rfc822",
    "msg": "application/vnd.ms-outlook",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# (The first suffix is the one a bare name is given.)
_SUFFIXES = {
    "png": (".png",),
    "jpeg": (".jpg", ".jpeg", ".jfif"),
    "gif": (".gif",),
    "webp": (".webp",),
    "heic": (".heic", ".heif"),
    "pdf": (".pdf",),
    "docx": (".docx",),
    "xlsx": (".xlsx",),
    "msg": (".msg",),
    "txt": (".txt", ".log", ".text"),
    "csv": (".csv",),
    "eml": (".eml",),
}
_SUFFIX_WORDS = {
    "png": "a PNG image", "jpeg": "a JPEG image", "gif": "a GIF image", "webp": "a WebP image",
    "heic": "a HEIC photo", "pdf": "a PDF", "docx": "a Word document", "xlsx": "an Excel workbook",
    "msg": "an Outlook message", "txt": "a text file", "csv": "a CSV file", "eml": "an e-mail",
}  # fmt: skip
_IMAGE_KINDS = {
    "image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp",
    "image/heic": "heic", "image/heif": "heic",
}  # fmt: skip
# Pillow's format name for what each image kind is stored as (a HEIC photo becomes a JPEG).
_STORED_FORMAT = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP", "heic": "JPEG"}
# Text that a browser or a shell would run, at the start of a "text" file.
_MARKUP_STARTS = ("<", "#!")
_MARKUP_ANYWHERE = ("<script", "<svg", "<iframe", "<object", "<embed", "javascript:")

REFUSED_KIND = (
    "{name}: this kind of file is not accepted (web pages, SVG, XML, scripts, programs and "
    "archives never are). Send a screenshot, a PDF, a text or CSV file, or a Word or Excel file."
)


class AttachmentRefused(ValueError):
    """A file the rules refuse; the message says which and why, in words for the sender."""


class Upload(Protocol):
    """A file as Django hands it over (an UploadedFile), or any named file with chunks."""

    name: str | None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]: ...


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file that passed: the bytes to store (re-encoded for an image) and what it is."""

    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def limits_text() -> str:
    """ "Up to 10 MB a file, 25 MB a ticket": the limits, said on every form that uploads."""
    helpdesk = settings.HELPDESK
    return (
        f"Up to {megabytes(helpdesk['ATTACHMENT_MAX_BYTES'])} a file, "
        f"{megabytes(helpdesk['ATTACHMENT_TICKET_MAX_BYTES'])} a ticket: screenshots, PDF, "
        "text/CSV, Office files."
    )


def megabytes(size: int) -> str:
    """ "10 MB": a size limit in words."""
    return f"{size / (1024 * 1024):.0f} MB"


def clean_name(raw: str | None) -> str:
    """The name as sent, safe in a header and on a page: no folders, no control or format
    characters (right-to-left overrides that turn "gpj.exe" around), no quotes or slashes, no
    leading dots; at most NAME_MAX_LENGTH characters with its suffix kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if char.isspace() else char for char in name)
    name = "".join(
        char
        for char in name
        if unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
        and char not in "\"'`<>:*?|;"
    )
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > NAME_MAX_LENGTH:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: NAME_MAX_LENGTH - len(suffix)].rstrip() + suffix
    return name or "attachment"


def read_limited(upload: Upload, *, limit: int, name: str) -> bytes:
    """The file's bytes, read in chunks and refused as soon as they pass ``limit``: nothing
    past the limit is read."""
    parts: list[bytes] = []
    total = 0
    for chunk in upload.chunks(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise AttachmentRefused(
                f"{name} is larger than {megabytes(limit)}, the most one file can be."
            )
        parts.append(chunk)
    if total == 0:
        raise AttachmentRefused(f"{name} is empty.")
    return b"".join(parts)


def check_file(upload: Upload) -> CheckedFile:
    """The file as it will be stored, or AttachmentRefused saying why not."""
    name = clean_name(upload.name)
    data = read_limited(upload, limit=settings.HELPDESK["ATTACHMENT_MAX_BYTES"], name=name)
    kind = _detect(data, name)
    name = _named_for(name, kind)
    if kind in _STORED_FORMAT:
        data, stored_kind = _reencoded_image(data, kind, name)
        if stored_kind != kind:  # a HEIC photo, stored as a JPEG
            name = f"{PurePosixPath(name).stem}.jpg"
        kind = stored_kind
    return CheckedFile(name=name, content_type=CONTENT_TYPES[kind], data=data)


def check_files(uploads: Iterable[Upload]) -> list[CheckedFile]:
    """Every file checked, and together within what a ticket may hold; the first refusal
    stops them all (nothing is stored from a refused send)."""
    checked = [check_file(upload) for upload in uploads]
    check_room(checked, stored_bytes=0)
    return checked


def check_room(checked: list[CheckedFile], *, stored_bytes: int) -> None:
    """Refused when the files would take the ticket past its limit, beside ``stored_bytes``
    already on it."""
    limit = settings.HELPDESK["ATTACHMENT_TICKET_MAX_BYTES"]
    if stored_bytes + sum(file.size for file in checked) > limit:
        already = f" ({megabytes(stored_bytes)} already on it)" if stored_bytes else ""
        raise AttachmentRefused(
            f"A ticket holds at most {megabytes(limit)} of files{already}: send fewer or "
            "smaller files."
        )


def _named_for(name: str, kind: str) -> str:
    """The name, if its suffix says what the content is; a bare name gets the kind's suffix."""
    path = PurePosixPath(name)
    suffix = path.suffix.lower()
    if not suffix:
        return name + _SUFFIXES[kind][0]
    if suffix not in _SUFFIXES[kind]:
        raise AttachmentRefused(
            f"{name}: its content is {_SUFFIX_WORDS[kind]}, not what its name says. "
            "Rename it or send the file it should be."
        )
    return name


def _detect(data: bytes, name: str) -> str:
    """The kind of file, from its bytes."""
    if olefile.isOleFile(data=data):
        return _outlook_message(data, name)
    guess = filetype.guess(data)
    if guess is None:
        return _text_kind(data, name)
    mime = guess.mime
    if mime in _IMAGE_KINDS:
        return _IMAGE_KINDS[mime]
    if mime == "application/pdf":
        return "pdf"
    if mime == "application/zip" or mime.startswith("application/vnd.openxmlformats"):
        return _office_kind(data, name)
    raise AttachmentRefused(REFUSED_KIND.format(name=name))


def _outlook_message(data: bytes, name: str) -> str:
    """An Outlook .msg is an OLE compound file with a message's property streams; other OLE
    files (old .doc/.xls with macros, installers) are refused."""
    try:
        with olefile.OleFileIO(data) as ole:
            is_message = ole.exists("__properties_version1.0") and any(
                entry[0].startswith("__substg1.0_") for entry in ole.listdir()
            )
    except OSError:
        is_message = False
    if not is_message:
        raise AttachmentRefused(REFUSED_KIND.format(name=name))
    return "msg"


def _office_kind(data: bytes, name: str) -> str:
    """A docx or an xlsx: a zip with exactly the parts of one, small enough when inflated and
    without macros or embedded programs. Any other zip (or a zip bomb) is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise AttachmentRefused(REFUSED_KIND.format(name=name)) from None
    names = {entry.filename for entry in entries}
    inflated = sum(entry.file_size for entry in entries)
    bomb = (
        len(entries) > _ZIP_MAX_ENTRIES
        or inflated > _ZIP_MAX_INFLATED
        or any(entry.file_size > _ZIP_MAX_RATIO * max(entry.compress_size, 1) for entry in entries)
    )
    if bomb:
        raise AttachmentRefused(f"{name} unpacks to far more than it weighs; it is refused.")
    kinds = [kind for kind, part in _OOXML_MAIN_PART.items() if part in names]
    risky = any(
        entry.lower().endswith((".bin", ".exe", ".dll", ".js", ".vbs", ".ps1", ".bat", ".cmd"))
        for entry in names
    )
    if "[Content_Types].xml" not in names or len(kinds) != 1 or risky:
        raise AttachmentRefused(REFUSED_KIND.format(name=name))
    return kinds[0]


def _text_kind(data: bytes, name: str) -> str:
    """Plain text, a log, a CSV or an e-mail (.eml): UTF-8 (or Windows-1252, as old exports
    are), no NUL bytes, and nothing a browser would read as markup or a shell as a script."""
    if b"\x00" in data:
        raise AttachmentRefused(REFUSED_KIND.format(name=name))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise AttachmentRefused(REFUSED_KIND.format(name=name)) from None
    folded = text.lstrip().lower()
    if folded.startswith(_MARKUP_STARTS) or any(mark in folded for mark in _MARKUP_ANYWHERE):
        raise AttachmentRefused(REFUSED_KIND.format(name=name))
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _SUFFIXES["eml"]:
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            data, headersonly=True
        )
        if not (message["From"] or message["Subject"]):
            raise AttachmentRefused(f"{name} is not an e-mail: it has no From or Subject.")
        return "eml"
    return "csv" if suffix in _SUFFIXES["csv"] else "txt"


def _reencoded_image(data: bytes, kind: str, name: str) -> tuple[bytes, str]:
    """The image drawn again as a plain bitmap: turned as its EXIF says, then every piece of
    metadata left behind, no larger than the long-side cap. Refused when it cannot be decoded
    or has more pixels than allowed, checked from its header before decoding anything."""
    helpdesk = settings.HELPDESK
    max_pixels = helpdesk["ATTACHMENT_IMAGE_MAX_PIXELS"]
    max_side = helpdesk["ATTACHMENT_IMAGE_MAX_SIDE"]
    unreadable = AttachmentRefused(f"{name} is not an image that can be opened.")
    too_large = AttachmentRefused(
        f"{name} has more pixels than an image may have; send a screenshot or a smaller photo."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise too_large
                if image.format == "JPEG":
                    # Decode at a reduced scale when the photo is far larger than the cap.
                    image.draft("RGB", (max_side, max_side))
                image.load()
                upright = ImageOps.exif_transpose(image)
    except AttachmentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (Image.MAX_IMAGE_PIXELS), should its header say more than ours.
        raise too_large from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise unreadable from None
    upright.thumbnail((max_side, max_side))
    stored_kind = "jpeg" if kind == "heic" else kind
    pixels = _plain_pixels(upright, stored_kind)
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 90} if stored_kind in {"jpeg", "webp"} else {}
    if stored_kind == "png":
        # zlib's level 3, not Pillow's 6: a full-HD screenshot is written in two thirds of the
        # time for a file a tenth larger, while the nurse waits for her ticket number.
        options["compress_level"] = 3
    pixels.save(out, format=_STORED_FORMAT[kind], **options)
    return out.getvalue(), stored_kind


def _plain_pixels(image: Image.Image, kind: str) -> Image.Image:
    """The pixels alone in a mode the stored format takes, with no info carried over (ICC
    profile, comments, EXIF): a new image the pixels are pasted into."""
    if kind == "jpeg":
        mode = "L" if image.mode in {"1", "L"} else "RGB"
    elif kind == "gif":
        mode = "P" if image.mode == "P" else "RGBA"
    else:
        mode = "RGBA" if image.mode in {"RGBA", "LA", "P", "PA"} else "RGB"
    converted = image.convert(mode)
    plain = Image.new(mode, converted.size)
    if mode == "P":
        palette = converted.getpalette()
        if palette is not None:
            plain.putpalette(palette)
    plain.paste(converted)
    return plain


# --- Storage -------------------------------------------------------------------------------


def attachment_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def new_stored_name() -> str:
    """Random, with no suffix: nothing about the file can be guessed or run from its name."""
    return secrets.token_hex(20)


@contextmanager
def files_removed_unless_committed() -> Iterator[list[str]]:
    """For a block that writes files and the rows naming them in one transaction: the names
    it appends to the yielded list are deleted again if the block fails (its transaction
    rolls back). A rollback of an outer transaction after the block leaves the files without
    a row; the orphan sweep removes them once they are older than ORPHAN_AGE."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        storage = attachment_storage()
        for name in written:
            storage.delete(name)
        raise


def store(file: CheckedFile, written: list[str]) -> str:
    """Write the file under a new random name (recorded in ``written``); the name."""
    name = attachment_storage().save(new_stored_name(), ContentFile(file.data))
    written.append(name)
    return name


def remove_stored_on_commit(stored_name: str) -> None:
    """Delete a removed attachment's file once its removal is committed."""
    transaction.on_commit(lambda: attachment_storage().delete(stored_name))


def sweep_orphans(*, now: datetime | None = None) -> int:
    """Delete stored files no live attachment names (a crash between writing and committing,
    a rolled-back outer transaction, a removal whose delete failed) once older than
    ORPHAN_AGE, so a transaction still running keeps its files. The number deleted."""
    now = now or timezone.now()
    storage = attachment_storage()
    try:
        _folders, names = storage.listdir("")
    except FileNotFoundError:
        return 0
    removed = 0
    for start in range(0, len(names), 500):
        batch = names[start : start + 500]
        live = set(
            Attachment.objects.live()
            .filter(stored_name__in=batch)
            .values_list("stored_name", flat=True)
        )
        for name in batch:
            if name in live or storage.get_modified_time(name) > now - ORPHAN_AGE:
                continue
            storage.delete(name)
            removed += 1
    if removed:
        logger.info("attachment sweep removed %d stored files with no attachment", removed)
    return removed


@shared_task(name="tickets.tasks.attachment_orphan_sweep", acks_late=True, ignore_result=True)
def attachment_orphan_sweep() -> int:
    """Beat runs it hourly; overlapping runs are safe."""
    return sweep_orphans()
