"""Small real files of each accepted type, and impostors, built in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf(extra: bytes = b"") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" + extra + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def gif() -> bytes:
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def webp() -> bytes:
    body = b"WEBPVP8 " + struct.pack("<I", 10) + b"\x00" * 10
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            # A fixed timestamp: the same sample is the same bytes whenever it is made.
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


_CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx(with_macros: bool = False) -> bytes:
    entries = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": b"<w:document>Hello</w:document>",
    }
    if with_macros:
        entries["word/vbaProject.bin"] = b"\x00" * 32
    return _zip(entries)


def xlsx() -> bytes:
    return _zip(
        {"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": b"<Relationships/>", "xl/workbook.xml": b"<workbook/>"}
    )


def plain_zip() -> bytes:
    return _zip({"notes.txt": b"just a zip"})


MSI_CLSID = bytes.fromhex("84100c00000000000000c00000000046")


def _ole2(stream_name: str, root_clsid: bytes = b"\x00" * 16) -> bytes:
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<H", header, 0x1E, 9)  # 512-byte sectors
    struct.pack_into("<I", header, 0x30, 0)  # the directory starts at sector 0, right after the header
    directory = bytearray(512)
    for index, (name, clsid) in enumerate([("Root Entry", root_clsid), (stream_name, b"\x00" * 16)]):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        offset = index * 128
        directory[offset : offset + len(encoded)] = encoded
        struct.pack_into("<H", directory, offset + 0x40, len(encoded))
        directory[offset + 0x50 : offset + 0x60] = clsid
    return bytes(header) + bytes(directory) + b"\x00" * 512


def doc() -> bytes:
    return _ole2("WordDocument")


def xls() -> bytes:
    return _ole2("Workbook")


def msi() -> bytes:
    return _ole2("SummaryInformation", root_clsid=MSI_CLSID)


def exe() -> bytes:
    header = bytearray(b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 112)
    struct.pack_into("<I", header, 0x3C, 0x80)
    return bytes(header) + b"PE\x00\x00" + b"\x00" * 256


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def csv_text() -> bytes:
    return "name,city\nJosé,Málaga\nMZ Holdings,Zürich\n".encode()
