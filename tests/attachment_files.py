"""Files for the attachment tests, made in code: images with Pillow, Office files with zipfile,
an Outlook message as a minimal compound file. Nothing binary is committed."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pillow_heif
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

pillow_heif.register_heif_opener()

CANARY = "CANARY-7f3a9c-Jane-Doe-MRN-00451234"


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), **options) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (80, 60), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0xA431] = "SERIAL-123456"  # BodySerialNumber
    gps = {1: "N", 2: (41.0, 52.0, 30.0), 3: "W", 4: (87.0, 37.0, 12.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"patient room 12")
    return out.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def ooxml(kind: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    main = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(main, '<?xml version="1.0"?><document/>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("tool.exe", b"MZ" + b"\0" * 200)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A docx-shaped zip whose one part inflates 1000-fold."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


def huge_png(side: int = 20000) -> bytes:
    """A valid 1-bit PNG of side x side pixels, a few kilobytes when compressed: written row by
    row, never held as pixels in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\0" + b"\0" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def outlook_message() -> bytes:
    """A minimal compound file with an Outlook message's streams (each a full 4 KB, so no mini
    stream is needed): the property stream and a subject."""
    end, free, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    streams = [
        ("__substg1.0_0037001F", "Printer on 4 West".encode("utf-16-le").ljust(4096, b"\0")),
        ("__properties_version1.0", b"\0" * 4096),
    ]
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<I", header, 76, 0)
    for slot in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * slot, free)
    fat = [0xFFFFFFFD, end]
    first_sectors = []
    for _name, data in streams:
        count = len(data) // 512
        first = len(fat)
        first_sectors.append(first)
        fat += [first + n + 1 for n in range(count - 1)] + [end]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int):
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        raw[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, left, right, child)
        struct.pack_into("<IQ", raw, 116, start, size)
        return bytes(raw)

    directory = (
        entry("Root Entry", 5, no_stream, no_stream, 1, end, 0)
        + entry(streams[0][0], 2, no_stream, 2, no_stream, first_sectors[0], 4096)
        + entry(streams[1][0], 2, no_stream, no_stream, no_stream, first_sectors[1], 4096)
        + entry("", 0, no_stream, no_stream, no_stream, 0, 0)
    )
    return (
        bytes(header)
        + struct.pack("<128I", *fat)
        + directory
        + b"".join(data for _name, data in streams)
    )
