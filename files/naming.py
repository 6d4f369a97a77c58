"""File names: what is refused, and the safe form used in storage keys."""

from __future__ import annotations

import re
import unicodedata
import uuid

from files.choices import MAX_NAME_LENGTH

# The part of a key made from the name: short enough that category/user/uuid-name stays well
# under S3's 1,024 bytes and our 512-character column.
KEY_NAME_LENGTH = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a file's name, or None. The name itself is kept as given for display."""
    if not name or not name.strip():
        return "A file name is required."
    if len(name) > MAX_NAME_LENGTH:
        return f"A file name has at most {MAX_NAME_LENGTH} characters."
    # Cc: C0/C1 controls, DEL; Cf: invisible format characters, among them the
    # bidirectional overrides that disguise "fdp.exe" as "exe.pdf".
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        return "A file name must not contain control or invisible formatting characters."
    if "/" in name or "\\" in name or ".." in name or name.strip() == ".":
        return "A file name must not contain a path ('/', '\\' or '..')."
    return None


def name_sanitise(name: str) -> str:
    """An ASCII name of letters, digits, dot, dash and underscore, keeping the extension."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem.strip(". "):  # "README", ".profile"
        stem, extension = name, ""
    safe_extension = _ascii(extension).strip("._")[:16]
    safe_stem = _ascii(stem).strip("._") or "file"
    safe_stem = safe_stem[: KEY_NAME_LENGTH - len(safe_extension) - 1]
    return f"{safe_stem}.{safe_extension}" if safe_extension else safe_stem


def _ascii(text: str) -> str:
    return _UNSAFE.sub("_", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


def file_key(*, category: str, owner_id: int, file_id: uuid.UUID, name: str) -> str:
    """`category/user/uuid-sanitised-name`: unique by the uuid, readable by the rest."""
    return f"{category}/{owner_id}/{file_id}-{name_sanitise(name)}"
