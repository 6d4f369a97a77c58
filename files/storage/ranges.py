"""One byte range of a download (HTTP Range, RFC 9110 section 14), as S3 serves one from a presigned GET."""

from __future__ import annotations

import io
import re
from typing import IO, TYPE_CHECKING

from files.exceptions import RangeNotSatisfiable

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, length) of the one range `header` asks for; None to serve the whole file.

    A header this does not serve (several ranges, another unit, a range
    whose end comes before its start) is ignored, as RFC 9110 allows: the
    whole file is sent. A range that starts past the end raises
    RangeNotSatisfiable.
    """
    found = _SINGLE_RANGE.fullmatch(header.replace(" ", ""))
    if found is None or found.groups() == ("", ""):
        return None
    first, last = found.groups()
    if not first:  # the last `last` bytes
        if int(last) == 0:
            raise RangeNotSatisfiable(size)
        start = max(size - int(last), 0)
        return start, size - start
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end - start + 1


class RangeReader(io.RawIOBase):
    """At most `length` bytes of `inner` from where it stands; closing it closes `inner`."""

    def __init__(self, inner: IO[bytes], length: int) -> None:
        super().__init__()
        self.inner = inner
        self.left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        wanted = min(len(target), self.left)
        if wanted <= 0:
            return 0
        chunk = self.inner.read(wanted)
        target[: len(chunk)] = chunk
        self.left -= len(chunk)
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self.inner.close()
        super().close()
