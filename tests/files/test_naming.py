"""File names in keys and in download headers."""

from __future__ import annotations

import uuid

import pytest

from files.naming import file_key, name_problem, name_sanitise
from files.storage import ObjectInfo, content_disposition


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Quarterly report.pdf", "Quarterly_report.pdf"),
        ("Übersicht März 2024.xlsx", "Ubersicht_Marz_2024.xlsx"),
        ("日本語.pdf", "file.pdf"),
        ("...hidden", "hidden"),
        ("no-extension", "no-extension"),
        ("a.verylongextensionthatgoeson", "a.verylongextensio"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
        ("report.p\u00e9f", "report.pef"),
    ],
)
def test_a_key_name_is_short_safe_ascii_keeping_the_extension(name: str, safe: str) -> None:
    result = name_sanitise(name)
    assert result == safe
    assert result.isascii() and "/" not in result and len(result) <= 120


def test_a_key_is_category_user_uuid_name() -> None:
    file_id = uuid.UUID("00000000-0000-4000-8000-000000000001")
    assert file_key(category="invoice", owner_id=7, file_id=file_id, name="A b.pdf") == (
        "invoice/7/00000000-0000-4000-8000-000000000001-A_b.pdf"
    )


def test_ordinary_names_pass() -> None:
    for name in ("report.pdf", "Relatório (final) v2.docx", "a" * 255, "notes. draft.txt"):
        assert name_problem(name) is None


def test_the_ascii_fallback_name_cannot_break_the_header() -> None:
    assert content_disposition('a "quoted" \\ 100%.pdf') == (
        "attachment; filename=\"a _quoted_ _ 100_.pdf\"; filename*=UTF-8''a%20%22quoted%22%20%5C%20100%25.pdf"
    )


def test_only_a_digest_etag_is_recorded_as_a_checksum() -> None:
    assert ObjectInfo(size=1, etag="9e107d9d372bb6826bd81d3542a419d6").checksum == (
        "md5:9e107d9d372bb6826bd81d3542a419d6"
    )
    # A multipart upload's ETag is not the MD5 of the object.
    assert ObjectInfo(size=1, etag="9e107d9d372bb6826bd81d3542a419d6-3").checksum == ""
