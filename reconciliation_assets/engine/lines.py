"""Turn a supplier CSV into physical lines (file, line number, text), exactly and in bounded memory.

Why not a CSV reader: readers pad short rows, drop blank lines and renumber records, and the
SPEC wants every physical line accounted for by its own number. Here the bytes are split on
``\\n`` with numpy and handed to Arrow zero-copy, chunk by chunk, so memory does not grow with
the file and no Python code runs per line.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK_BYTES = 16 * 1024 * 1024
UTF8_BOM = codecs.BOM_UTF8

LINES_SCHEMA = pa.schema(
    [
        ("arquivo_idx", pa.int32()),
        ("linha", pa.int64()),
        ("conteudo", pa.large_string()),
    ]
)


def _cp1252_c1_passthrough(error: UnicodeError) -> tuple[str, int]:
    """Map the five bytes cp1252 leaves undefined to their C1 code points, as browsers do.

    Python's cp1252 refuses 0x81, 0x8D, 0x8F, 0x90 and 0x9D; losing or replacing them would
    silently change a line, so they pass through unchanged instead.
    """
    if not isinstance(error, UnicodeDecodeError):  # registered for decoding only
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(b) for b in bad), error.end


codecs.register_error("recon_c1_passthrough", _cp1252_c1_passthrough)


@dataclass(frozen=True)
class FileProfile:
    """What the project learned about one input file before parsing it."""

    encoding: str  # "utf-8", "utf-8-sig" or "cp1252"
    size_bytes: int
    sha256: str


def profile_file(path: Path) -> FileProfile:
    """Detect the encoding over the *whole* file (a strict UTF-8 decode) and hash it.

    A sniff of the head would read a Windows-1252 file whose first accented name is on line
    900,000 as UTF-8 and fail (or corrupt) there; one streaming pass costs ~1 s per GB.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    digest = hashlib.sha256()
    size = 0
    valid_utf8 = True
    has_bom = False
    with path.open("rb") as fh:
        first = True
        while chunk := fh.read(CHUNK_BYTES):
            if first:
                has_bom = chunk.startswith(UTF8_BOM)
                first = False
            size += len(chunk)
            digest.update(chunk)
            if valid_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid_utf8 = False
        if valid_utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid_utf8 = False
    encoding = "cp1252" if not valid_utf8 else "utf-8-sig" if has_bom else "utf-8"
    return FileProfile(encoding=encoding, size_bytes=size, sha256=digest.hexdigest())


def _utf8_chunks(path: Path, encoding: str) -> Iterator[bytes]:
    """Yield UTF-8 bytes of the file in chunks that each end on a line boundary (except the last)."""
    for buf, _raw in _line_chunks(path, encoding):
        yield buf


def _line_chunks(path: Path, encoding: str) -> Iterator[tuple[bytes, list[bytes]]]:
    """Yield (UTF-8 bytes ending on a line boundary except the last, the raw chunks read since the
    previous yield): the file is read once, and the caller can hash exactly the bytes on disk."""
    # Pieces of a line still open; joined once a chunk brings its end, so a line that spans
    # many chunks (CR-only endings, one huge line) is not copied again on every chunk.
    pending: list[bytes] = []
    raw: list[bytes] = []
    with path.open("rb") as fh:
        first = True
        while chunk := fh.read(CHUNK_BYTES):
            raw.append(chunk)
            if first and encoding == "utf-8-sig" and chunk.startswith(UTF8_BOM):
                chunk = chunk[len(UTF8_BOM) :]
            first = False
            if encoding == "cp1252":
                # Single-byte encoding: any chunk boundary is a character boundary.
                chunk = chunk.decode("cp1252", errors="recon_c1_passthrough").encode("utf-8")
            cut = chunk.rfind(b"\n")
            if cut < 0:
                pending.append(chunk)
                continue
            buf = b"".join([*pending, chunk[: cut + 1]])
            pending = [chunk[cut + 1 :]]
            yield buf, raw
            raw = []
    carry = b"".join(pending)
    if carry or raw:
        yield carry, raw


def _split_lines(buf: bytes) -> pa.LargeStringArray:
    """Split a UTF-8 buffer on ``\\n`` into an Arrow string array without a Python loop.

    The terminator (``\\n`` or ``\\r\\n``) is removed; a last line without newline is kept.
    ``\\r\\n`` can only be a terminator (every ``\\n`` ends a line), so it is folded to ``\\n``
    on the whole buffer first; a lone ``\\r`` inside a line is data and stays.
    """
    text, _valid = _split_lines_checked(buf, check=False)
    return text


def _split_lines_checked(buf: bytes, check: bool = True) -> tuple[pa.LargeStringArray, bool]:
    """``_split_lines`` and whether every line is valid UTF-8 (checked before any kernel reads it).

    Only ASCII bytes are removed (``\\r`` before ``\\n``) or split at, and a multi-byte sequence
    holds none, so the lines are valid UTF-8 exactly when the buffer is.
    """
    buf = buf.replace(b"\r\n", b"\n")
    if buf.endswith(b"\r"):  # last line, CRLF cut before its LF: the file ended there
        buf = buf[:-1]
    data = np.frombuffer(buf, dtype=np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(data == 0x0A) + 1))
    if starts[-1] >= len(buf):  # the buffer ends with a newline: no line starts after it
        starts = starts[:-1]
    offsets = np.empty(len(starts) + 1, dtype=np.int64)
    offsets[:-1] = starts
    offsets[-1] = len(buf)
    with_lf = pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(offsets.tobytes()), pa.py_buffer(buf)
    )
    if check:
        try:
            with_lf.validate(full=True)
        except pa.ArrowInvalid:
            return with_lf, False
    return pc.utf8_rtrim(with_lf, characters="\n"), True  # each element holds at most its one terminator


def iter_line_batches(path: Path, encoding: str, arquivo_idx: int) -> Iterator[pa.RecordBatch]:
    """Yield record batches of (arquivo_idx, linha, conteudo) for every physical line."""
    next_line = 1
    for buf in _utf8_chunks(path, encoding):
        text = _split_lines(buf)
        n = len(text)
        numbers = pa.array(np.arange(next_line, next_line + n, dtype=np.int64))
        next_line += n
        idx = pa.array(np.full(n, arquivo_idx, dtype=np.int32))
        yield pa.RecordBatch.from_arrays([idx, numbers, text], schema=LINES_SCHEMA)


class NotUtf8(Exception):
    """A file read as UTF-8 holds a byte sequence that is not UTF-8: it is Windows-1252."""


@dataclass
class ScannedFile:
    """What one read of a file found: its profile and its lines (``blank``: data lines of spaces/tabs)."""

    profile: FileProfile
    lines: int
    blank: int


# A blank line as validation skips it (linhas_avaliadas.sql): spaces and tabs only.
BLANK_LINE = r"^[ \t]*$"


def sniff_encoding(path: Path) -> str:
    """The encoding as far as the head of the file tells: ``cp1252`` is final (the head is not
    UTF-8); ``utf-8``/``utf-8-sig`` are confirmed or refuted by ``scan_lines`` over the whole file."""
    with path.open("rb") as fh:
        head = fh.read(HEADER_MAX_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig" if head.startswith(UTF8_BOM) else "utf-8"


def scan_lines(
    path: Path, encoding: str, arquivo_idx: int, write: Callable[[pa.RecordBatch], None]
) -> ScannedFile:
    """Read the file once: hash its bytes, check that it is UTF-8 (unless ``cp1252``), split it into
    physical lines handed to ``write`` and count the blank ones. Raises ``NotUtf8`` at the first
    chunk that is not UTF-8 (the caller starts again as Windows-1252; lines already written are its to
    discard). The same lines, encoding and digest as ``profile_file`` then ``iter_line_batches``."""
    digest = hashlib.sha256()
    size = 0
    next_line = 1
    blank = 0
    for buf, raw in _line_chunks(path, encoding):
        for chunk in raw:
            digest.update(chunk)
            size += len(chunk)
        if not buf:
            continue
        text, valid = _split_lines_checked(buf, check=encoding != "cp1252")
        if not valid:
            raise NotUtf8(path.name)
        n = len(text)
        blanks = pc.match_substring_regex(text, BLANK_LINE)
        blank += int(pc.sum(blanks).as_py() or 0)
        if next_line == 1 and n and blanks[0].as_py():
            blank -= 1  # line 1 is the header, never a data line
        numbers = pa.array(np.arange(next_line, next_line + n, dtype=np.int64))
        next_line += n
        idx = pa.array(np.full(n, arquivo_idx, dtype=np.int32))
        write(pa.RecordBatch.from_arrays([idx, numbers, text], schema=LINES_SCHEMA))
    profile = FileProfile(encoding=encoding, size_bytes=size, sha256=digest.hexdigest())
    return ScannedFile(profile=profile, lines=next_line - 1, blank=blank)


HEADER_MAX_BYTES = 1024 * 1024


def read_first_line(path: Path, encoding: str) -> str | None:
    """The header line decoded (its LF or CRLF removed), or None for an empty file.

    Only the first ``HEADER_MAX_BYTES`` are read: a file with no ``\\n`` there (CR-only line
    endings, a file that is one huge line) gives that prefix, and the header check rejects it,
    instead of the whole file being loaded to find a line end that never comes.
    """
    with path.open("rb") as fh:
        head = fh.read(HEADER_MAX_BYTES)
    if encoding == "utf-8-sig" and head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM) :]
    if not head:
        return None
    cut = head.find(b"\n")
    line = head if cut < 0 else head[:cut]
    if line.endswith(b"\r") and cut >= 0:
        line = line[:-1]
    if encoding == "cp1252":
        return line.decode("cp1252", errors="recon_c1_passthrough")
    # A prefix may end inside a multi-byte character; the rest of the file was checked already.
    return line.decode("utf-8", errors="ignore" if cut < 0 else "strict")
