"""Reading a certification upload as it streams in, refusing it as soon as a limit is crossed.

FastAPI's `UploadFile` would spool every byte to disk before the route could look at it; here the
multipart body is parsed chunk by chunk, so an oversize file, one file too many, an unsupported type
(from its first bytes), a pixel bomb (from its header) or an overlong WAV (from its header) stops
the request while it is still being sent. Nothing is written anywhere: parts stay in memory until
the whole submission has been validated.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from ai.evidence.audio import MAX_SECONDS
from ai.evidence.images import MAX_PIXELS, check_pixels, header_size
from ai.evidence.sniff import JPEG, PNG, WAV, WEBP, EvidenceError, MediaKind, SniffedType, sniff

FILE_FIELDS = {"photos": MediaKind.IMAGE, "recordings": MediaKind.AUDIO}


@dataclass(frozen=True)
class UploadLimits:
    max_photos: int = 10
    max_recordings: int = 3
    max_photo_bytes: int = 20 * 1024 * 1024
    max_recording_bytes: int = 30 * 1024 * 1024
    max_total_bytes: int = 80 * 1024 * 1024
    max_pixels: int = MAX_PIXELS
    max_seconds: float = MAX_SECONDS
    max_field_bytes: int = 8_000
    max_fields: int = 10


class UploadRefused(Exception):
    """A problem with one file (or the request); `status` is the HTTP status to answer with."""

    def __init__(self, status: int, problem: str, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.status, self.problem, self.message, self.file = status, problem, message, file


STATUS_OF_PROBLEM = {
    "too_large": 413, "too_many_files": 413, "submission_too_large": 413, "too_many_pixels": 413,
    "too_long": 413, "unsupported_type": 415, "extension_mismatch": 415, "unsupported_codec": 415,
    "polyglot": 415, "wrong_field": 415,
}


def refused(error: EvidenceError, file: str) -> UploadRefused:
    return UploadRefused(STATUS_OF_PROBLEM.get(error.problem, 422), error.problem, error.message, file)


@dataclass
class FilePart:
    field: str
    filename: str
    data: bytearray = field(default_factory=bytearray)
    sniffed: SniffedType | None = None
    header_checked: bool = False
    next_probe: int = 64  # the header is tried at 64 B, then each time the buffer has grown fourfold

    @property
    def label(self) -> str:
        return self.filename or f"(unnamed {self.field} file)"


@dataclass
class ParsedUpload:
    fields: dict[str, str]
    files: list[FilePart]


class _Reader:
    """The callbacks of python-multipart's streaming parser, with every limit checked per chunk."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.fields: dict[str, str] = {}
        self.files: list[FilePart] = []
        self.total = 0
        self._headers: dict[str, str] = {}
        self._header_name = b""
        self._header_value = b""
        self._field: tuple[str, bytearray] | None = None
        self._file: FilePart | None = None

    # -- headers of a part
    def on_part_begin(self) -> None:
        self._headers, self._field, self._file = {}, None, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = self._header_value.decode("utf-8", "replace")
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            if len(self.fields) >= self.limits.max_fields:
                raise UploadRefused(413, "too_many_fields", f"more than {self.limits.max_fields} form fields")
            self._field = (name, bytearray())
            return
        if name not in FILE_FIELDS:
            raise UploadRefused(422, "unknown_field", f"files go in the fields 'photos' or 'recordings', not "
                                f"{name!r}", filename.decode("utf-8", "replace"))
        part = FilePart(name, filename.decode("utf-8", "replace"))
        same = sum(1 for f in self.files if f.field == name)
        limit = self.limits.max_photos if name == "photos" else self.limits.max_recordings
        if same >= limit:
            raise UploadRefused(413, "too_many_files", f"at most {limit} {name} per submission", part.label)
        self.files.append(part)
        self._file = part

    # -- data of a part
    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._field is not None:
            self._field[1].extend(chunk)
            if len(self._field[1]) > self.limits.max_field_bytes:
                raise UploadRefused(413, "field_too_large", f"the field {self._field[0]!r} is longer than "
                                    f"{self.limits.max_field_bytes} bytes")
            return
        part = self._file
        if part is None:
            return
        part.data.extend(chunk)
        self.total += len(chunk)
        self._check_running(part)

    def on_part_end(self) -> None:
        if self._field is not None:
            name, value = self._field
            self.fields[name] = value.decode("utf-8", "replace")
        elif self._file is not None:
            self._check_complete(self._file)
        self._field, self._file = None, None

    def _check_running(self, part: FilePart) -> None:
        limit = self.limits.max_photo_bytes if part.field == "photos" else self.limits.max_recording_bytes
        if len(part.data) > limit:
            raise UploadRefused(413, "too_large", f"the file is larger than {limit // (1024 * 1024)} MB", part.label)
        if self.total > self.limits.max_total_bytes:
            raise UploadRefused(413, "submission_too_large", "the files together exceed "
                                f"{self.limits.max_total_bytes // (1024 * 1024)} MB", part.label)
        if part.sniffed is None and len(part.data) >= 16:
            self._sniff(part)
        if part.sniffed is not None and not part.header_checked:
            self._check_header(part, final=False)

    def _check_complete(self, part: FilePart) -> None:
        if part.sniffed is None:
            self._sniff(part)
        if not part.header_checked:
            self._check_header(part, final=True)

    def _sniff(self, part: FilePart) -> None:
        try:
            part.sniffed = sniff(bytes(part.data[:64]), part.filename)
        except EvidenceError as exc:
            raise refused(exc, part.label) from None
        if part.sniffed.kind is not FILE_FIELDS[part.field]:
            raise UploadRefused(415, "wrong_field", f"this is {part.sniffed.kind.value}, sent as one of the "
                                f"{part.field}; put photos in 'photos' and recordings in 'recordings'", part.label)

    def _check_header(self, part: FilePart, final: bool) -> None:
        """Pixel count (images) or declared duration (WAV) as soon as the header has arrived."""
        size = len(part.data)
        if not final and size < part.next_probe:
            return
        part.next_probe = size * 4
        sniffed = part.sniffed
        try:
            if sniffed in (JPEG, PNG, WEBP):
                width, height = header_size(bytes(part.data))
                check_pixels(width, height, self.limits.max_pixels)
                part.header_checked = True
            elif sniffed is WAV:
                part.header_checked = self._check_wav_duration(part) or final
            else:
                part.header_checked = True  # other audio: duration is probed once the file is complete
        except EvidenceError as exc:
            if exc.problem == "too_many_pixels" or final:
                raise refused(exc, part.label) from None

    def _check_wav_duration(self, part: FilePart) -> bool:
        data = bytes(part.data[:65_536])
        pos, byte_rate, data_size = 12, None, None
        while pos + 8 <= len(data):
            kind, length = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
            if kind == b"fmt " and pos + 16 <= len(data):
                byte_rate = struct.unpack("<I", data[pos + 16:pos + 20])[0]
            if kind == b"data":
                data_size = length
                break
            pos += 8 + length + (length & 1)
        if byte_rate is None or data_size is None:
            return False
        if byte_rate and data_size / byte_rate > self.limits.max_seconds:
            raise UploadRefused(413, "too_long", f"the recording declares {data_size / byte_rate:.0f} s, over the "
                                f"limit of {self.limits.max_seconds:.0f} s", part.label)
        return True


async def read_upload(content_type: str, stream: AsyncIterator[bytes], limits: UploadLimits) -> ParsedUpload:
    """Parse a multipart/form-data body from `stream`, enforcing `limits` as the bytes arrive."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused(415, "not_multipart", "send the submission as multipart/form-data with the fields "
                            "skill, description, photos and recordings")
    reader = _Reader(limits)
    parser = MultipartParser(boundary, callbacks={  # type: ignore[arg-type]
        "on_part_begin": reader.on_part_begin, "on_part_data": reader.on_part_data,
        "on_part_end": reader.on_part_end, "on_header_field": reader.on_header_field,
        "on_header_value": reader.on_header_value, "on_header_end": reader.on_header_end,
        "on_headers_finished": reader.on_headers_finished})
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise UploadRefused(400, "malformed_multipart", f"the multipart body cannot be parsed ({exc})") from None
    return ParsedUpload(reader.fields, reader.files)
