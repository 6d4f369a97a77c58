"""What a stored file really is, by its magic bytes, checked against the type it was declared as.

Only a few ranges of the object are read (its start, and for Office files
their directory), so S3 objects are never downloaded whole for the check.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from files.choices import ALLOWED_CONTENT_TYPES

# read(start, length): bytes of the object; a negative start reads its last `length` bytes.
Reader = Callable[[int, int], bytes]

HEAD_BYTES = 8192
# Executables, whatever name or type they arrive under.
_EXECUTABLES: list[tuple[bytes, str]] = [
    # A DOS/Windows header is full of NUL bytes; a text starting with "MZ" is not.
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xfe\xed\xfa\xce", "a macOS program"),
    (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
    (b"\x00asm", "a WebAssembly program"),
    (b"#!", "a script"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "a Windows shortcut"),
]
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
# The class id of a Windows Installer package's root storage: an OLE2 file too.
_MSI_CLSID = bytes.fromhex("84100c00000000000000c00000000046")
_SIGNATURES: list[tuple[Callable[[bytes], bool], str]] = [
    (lambda h: b"%PDF-" in h[:1024], "a PDF document"),
    (lambda h: h.startswith(b"\xff\xd8\xff"), "a JPEG image"),
    (lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"), "a PNG image"),
    (lambda h: h[:6] in (b"GIF87a", b"GIF89a"), "a GIF image"),
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", "a WebP image"),
    (lambda h: h.startswith(_OLE2), "an Office 97-2003 file"),
    (lambda h: h.startswith(_ZIP), "a ZIP archive"),
]
_TEXT_TYPES = frozenset({"text/plain", "text/csv"})
# Control characters that plain text and CSV do not contain (tab, LF, FF, CR and ESC are fine).
_BINARY_BYTES = frozenset(set(range(32)) - {9, 10, 12, 13, 27}) | {127}


def content_problem(*, content_type: str, size: int, read: Reader) -> str | None:
    """Why the object's bytes are not what `content_type` says, or None when they are."""
    label = ALLOWED_CONTENT_TYPES.get(content_type)
    if label is None:
        return f"The type {content_type!r} is not accepted."
    head = read(0, HEAD_BYTES)
    for magic, kind in _EXECUTABLES:
        if head.startswith(magic) and (magic != b"MZ" or b"\x00" in head[:64]):
            return f"The file is {kind}; executables are never accepted, whatever their name or type."
    found = _detected(head)
    if content_type in _TEXT_TYPES:
        if found or _looks_binary(head) or _looks_binary(read(-HEAD_BYTES, HEAD_BYTES)):
            return f"The file is not {_a(label)}: its content is {found or 'binary data'}."
        return None
    checks: dict[str, Callable[[], str | None]] = {
        "application/pdf": lambda: _expect(found, "a PDF document"),
        "image/jpeg": lambda: _expect(found, "a JPEG image"),
        "image/png": lambda: _expect(found, "a PNG image"),
        "image/gif": lambda: _expect(found, "a GIF image"),
        "image/webp": lambda: _expect(found, "a WebP image"),
        "application/msword": lambda: _expect(found, "an Office 97-2003 file") or _ole2_problem(head, read, "word"),
        "application/vnd.ms-excel": lambda: (
            _expect(found, "an Office 97-2003 file") or _ole2_problem(head, read, "excel")
        ),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": lambda: (
            _expect(found, "a ZIP archive") or _ooxml_problem(size, read, b"word/", "Word document")
        ),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": lambda: (
            _expect(found, "a ZIP archive") or _ooxml_problem(size, read, b"xl/", "Excel workbook")
        ),
    }
    problem = checks[content_type]()
    if problem is not None and problem.startswith("expected "):
        return f"The file is not {_a(label)}: its content is {found or 'unrecognised binary data'}."
    return problem


def content_problem_of_bytes(*, content_type: str, content: bytes) -> str | None:
    """The same check on bytes held in memory (inline email attachments)."""

    def read(start: int, length: int) -> bytes:
        if start < 0:
            return content[max(len(content) - length, 0) :]
        return content[start : start + length]

    return content_problem(content_type=content_type, size=len(content), read=read)


def _a(label: str) -> str:
    return f"{'an' if label[0] in 'AEIOU' else 'a'} {label}"


def _detected(head: bytes) -> str:
    return next((kind for matches, kind in _SIGNATURES if matches(head)), "")


def _expect(found: str, wanted: str) -> str | None:
    return None if found == wanted else f"expected {wanted}"


def _looks_binary(sample: bytes) -> bool:
    return any(byte in _BINARY_BYTES for byte in sample)


def _ole2_problem(head: bytes, read: Reader, kind: str) -> str | None:
    """Look into the first sector of an OLE2 file's directory: installers, and the other Office type."""
    if len(head) < 0x34:
        return "The file is not a complete Office document."
    sector_shift, first_dir_sector = struct.unpack_from("<H", head, 0x1E)[0], struct.unpack_from("<I", head, 0x30)[0]
    if not 7 <= sector_shift <= 12:
        return "The file is not a valid Office document."
    sector_size = 1 << sector_shift
    directory = read((first_dir_sector + 1) * sector_size, sector_size)
    if len(directory) >= 0x60 and directory[0x50:0x60] == _MSI_CLSID:
        return "The file is a Windows installer; executables are never accepted, whatever their name or type."
    names = _ole2_names(directory)
    word, excel = "WordDocument" in names, bool({"Workbook", "Book"} & names)
    if kind == "word" and excel and not word:
        return "The file is not a Word 97-2003 document: its content is an Excel 97-2003 workbook."
    if kind == "excel" and word and not excel:
        return "The file is not an Excel 97-2003 workbook: its content is a Word 97-2003 document."
    return None


def _ole2_names(directory: bytes) -> set[str]:
    names = set()
    for offset in range(0, len(directory) - 127, 128):
        length = struct.unpack_from("<H", directory, offset + 0x40)[0]
        if 2 <= length <= 64:
            names.add(directory[offset : offset + length - 2].decode("utf-16-le", errors="replace"))
    return names


_EOCD = b"PK\x05\x06"
_MAX_DIRECTORY = 4 * 1024 * 1024


def _ooxml_problem(size: int, read: Reader, folder: bytes, label: str) -> str | None:
    """An Office Open XML file is a ZIP whose directory lists [Content_Types].xml and its own folder."""
    tail = read(-65_557, 65_557)  # the end-of-directory record and the longest ZIP comment
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        return f"The file is not {_a(label)}: it is not a complete ZIP archive."
    directory_size, directory_offset = struct.unpack_from("<II", tail, at + 12)
    if directory_offset + directory_size > size or directory_size > _MAX_DIRECTORY:
        return f"The file is not {_a(label)}: its ZIP directory is damaged."
    directory = read(directory_offset, directory_size)
    if b"[Content_Types].xml" not in directory or folder not in directory:
        return f"The file is not {_a(label)}: the archive does not hold one."
    if b"vbaProject.bin" in directory:
        return f"The file is {_a(label)} with macros; files that can run code are never accepted."
    return None
