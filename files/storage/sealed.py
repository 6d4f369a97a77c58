"""Files sealed at rest on disk: AES-256-GCM in 64 KiB segments, each authenticated on its own (a streaming AEAD).

The layout follows Tink's AES-GCM-HKDF streaming AEAD, so a file is written
and read in constant memory and any byte range is read by decrypting only
the segments that hold it:

    header  = magic (8) | version (1) | key id (4) | salt (16) | nonce prefix (7)
    segment = AES-256-GCM(file key, nonce, plaintext[i*64 KiB : (i+1)*64 KiB], aad=header) (+16 bytes of tag)
    nonce   = nonce prefix (7) | segment index (4, big-endian) | 1 for the final segment, else 0 (1)

Each file has its own key, HKDF-SHA256 of the master key with the file's
random salt, so nonces never repeat across files. The index in the nonce
catches reordered segments, the final flag a file cut at a segment boundary,
the header as associated data a swapped header, and the tags any changed
byte: a failure is StoredObjectCorrupt, never bytes served. The key id
(derived from the master key) names which configured key sealed a file, so
keys can be rotated while older files stay readable.

A file that does not start with the magic is a plain file, written before a
key was configured; it is read as it is while plain files are allowed
(FILE_ENCRYPTION_ALLOW_PLAIN), and `manage.py files_seal` seals it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from files.exceptions import StorageUnavailable, StoredObjectCorrupt

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAGIC = b"\x8aCRMSEAL"
VERSION = 1
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
_HEADER = struct.Struct(">8sB4s16s7s")
HEADER_SIZE = _HEADER.size
_CIPHER_SEGMENT = SEGMENT_SIZE + TAG_SIZE
_MAX_SEGMENTS = 2**32
_FILE_KEY_INFO = b"crm-email files: segment key v1"
_KEY_ID_INFO = b"crm-email files: key id"


def key_id(master: bytes) -> bytes:
    """Four bytes that name a master key in the headers it writes, without saying anything of it."""
    return hmac.new(master, _KEY_ID_INFO, hashlib.sha256).digest()[:4]


@dataclass(frozen=True)
class Keyring:
    """The key new files are sealed with (None: files are written plain), the older ones still read, and
    whether a plain file is read at all (once every file is sealed, one without a header is a swapped one)."""

    current: bytes | None = None
    previous: tuple[bytes, ...] = ()
    plain_readable: bool = True

    @classmethod
    def of(cls, current: bytes | None, previous: Iterable[bytes] = (), *, plain_readable: bool = True) -> Keyring:
        return cls(current=current, previous=tuple(previous), plain_readable=plain_readable)

    def is_current(self, header: bytes) -> bool:
        """Whether a file's header says it is sealed with the current key."""
        if self.current is None or len(header) < HEADER_SIZE or not is_sealed(header):
            return False
        return hmac.compare_digest(_HEADER.unpack(header[:HEADER_SIZE])[2], key_id(self.current))

    def find(self, wanted: bytes) -> bytes | None:
        for master in (self.current, *self.previous):
            if master is not None and hmac.compare_digest(key_id(master), wanted):
                return master
        return None


def _file_key(master: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_FILE_KEY_INFO).derive(master)
    return AESGCM(derived)


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if final else 0)


def is_sealed(head: bytes) -> bool:
    """Whether a file's first bytes are a sealed file's header (else it is plain)."""
    return head[: len(MAGIC)] == MAGIC


def sealed_size(plain_size: int) -> int:
    """The size on disk of a sealed file of `plain_size` bytes (an empty file is one empty final segment)."""
    segments = max(1, -(-plain_size // SEGMENT_SIZE))
    return HEADER_SIZE + plain_size + segments * TAG_SIZE


class SealedWriter:
    """Seals what is written to it into `raw`, one segment at a time; `close` writes the final segment.

    At most one segment (plus the chunk being written) is held in memory. A
    full segment is only written once more bytes arrive, since the last one
    must carry the final flag.
    """

    def __init__(self, raw: IO[bytes], master: bytes) -> None:
        self.raw = raw
        salt, prefix = os.urandom(16), os.urandom(7)
        self.header = _HEADER.pack(MAGIC, VERSION, key_id(master), salt, prefix)
        self.aead = _file_key(master, salt)
        self.prefix = prefix
        self.pending = bytearray()
        self.index = 0
        self.closed = False
        raw.write(self.header)

    def write(self, data: bytes) -> int:
        self.pending += data
        while len(self.pending) > SEGMENT_SIZE:
            self._seal(bytes(self.pending[:SEGMENT_SIZE]), final=False)
            del self.pending[:SEGMENT_SIZE]
        return len(data)

    def _seal(self, plain: bytes, *, final: bool) -> None:
        if self.index >= _MAX_SEGMENTS:
            raise ValueError("A sealed file holds at most 2**32 segments.")
        self.raw.write(self.aead.encrypt(_nonce(self.prefix, self.index, final), plain, self.header))
        self.index += 1

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._seal(bytes(self.pending), final=True)
            self.pending.clear()
        finally:
            self.raw.close()

    def abandon(self) -> None:
        """Close without the final segment: what was written is to be thrown away."""
        self.closed = True
        self.pending.clear()
        self.raw.close()


class SealedReader(io.RawIOBase):
    """The plaintext of a sealed file, seekable; each segment is authenticated before a byte of it is returned.

    `verify_ends` authenticates the first and the last segments at once, so
    a changed header, a truncated file or a tampered start fails on opening
    rather than part-way through a response. Ranged reads skip it, and then
    decrypt only the segments they cover.
    """

    def __init__(self, raw: IO[bytes], keyring: Keyring, *, name: str, verify_ends: bool = True) -> None:
        super().__init__()
        self.raw = raw
        self.label = name
        header = raw.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or not is_sealed(header):
            raise StoredObjectCorrupt(f"{name}: the header of the sealed file is incomplete.")
        _, version, wanted, salt, self.prefix = _HEADER.unpack(header)
        if version != VERSION:
            raise StoredObjectCorrupt(f"{name}: sealed with format version {version}, which this version cannot read.")
        master = keyring.find(wanted)
        if master is None:
            # A configuration problem (a key removed too soon), not a damaged file: try again once it is set.
            raise StorageUnavailable(
                f"{name} is sealed with key id {wanted.hex()}, which neither FILE_ENCRYPTION_KEY nor "
                "FILE_ENCRYPTION_PREVIOUS_KEYS holds."
            )
        self.header = header
        self.aead = _file_key(master, salt)
        body = os.fstat(raw.fileno()).st_size - HEADER_SIZE
        self.segments = max(1, -(-body // _CIPHER_SEGMENT))
        last = body - (self.segments - 1) * _CIPHER_SEGMENT
        # Every segment but an empty file's only one holds at least one byte.
        if last < TAG_SIZE or (self.segments > 1 and last == TAG_SIZE) or self.segments > _MAX_SEGMENTS:
            raise StoredObjectCorrupt(f"{name}: the sealed file has been cut short or extended.")
        self.size = body - self.segments * TAG_SIZE
        self.position = 0
        self.cached: tuple[int, bytes] | None = None
        if verify_ends:
            self._segment(self.segments - 1)
            self._segment(0)

    def _segment(self, index: int) -> bytes:
        if self.cached is not None and self.cached[0] == index:
            return self.cached[1]
        self.raw.seek(HEADER_SIZE + index * _CIPHER_SEGMENT)
        sealed = self.raw.read(_CIPHER_SEGMENT)
        final = index == self.segments - 1
        try:
            plain = self.aead.decrypt(_nonce(self.prefix, index, final), sealed, self.header)
        except InvalidTag:
            raise StoredObjectCorrupt(
                f"{self.label}: segment {index} of the sealed file failed its authentication check "
                "(changed, moved or cut short)."
            ) from None
        self.cached = (index, plain)
        return plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.position = base + offset
        return self.position

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        if self.position >= self.size or not len(target):
            return 0
        index, within = divmod(self.position, SEGMENT_SIZE)
        plain = self._segment(index)
        count = min(len(target), len(plain) - within)
        target[:count] = plain[within : within + count]
        self.position += count
        return count

    def fileno(self) -> int:
        # Never hand the sealed bytes' descriptor to a server's sendfile.
        raise io.UnsupportedOperation("a sealed file has no descriptor of its plaintext")

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


def read_all(handle: IO[bytes], size: int) -> bytes:
    """Exactly `size` bytes from `handle` (fewer only at its end), whatever its short reads."""
    parts: list[bytes] = []
    while size > 0:
        chunk = handle.read(size)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)
