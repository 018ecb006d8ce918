"""An HR file to import, read row by row: the records to send, and the rows that cannot be.

Two formats: CSV whose header names HR fields (`employee_id`, `first_name`, ...; an empty
cell is an absent field), or JSON lines (one object per line; blank lines skipped). The
file is checked whole before anything is sent (`inspect`): readable, UTF-8, a CSV header
that names every required field and nothing else. Each row then becomes a `Record` (its HR
fields as compact JSON, what the batch endpoint validates) or an `Unreadable` row (a CSV
row with the wrong number of cells, a line that is not a JSON object) with its reasons,
shaped like the endpoint's own `{loc, msg, type}`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from onboarding_events import HrUser

from onboarding_ops.errors import BadArgument

Format = Literal["csv", "jsonl"]
EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
HR_FIELDS = tuple(HrUser.model_fields)
REQUIRED_FIELDS = tuple(name for name, f in HrUser.model_fields.items() if f.is_required())
# The single webhook's body limit: no valid record comes near it (its fields are short).
MAX_RECORD_BYTES = 64 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class HrFile:
    path: Path
    format: Format
    sha256: str  # of the bytes: a resumed import must be of the same content
    rows_estimate: int  # lines (less the header): the progress bar's total


@dataclass(frozen=True)
class Record:
    line: int  # where the row starts in the file, from 1
    given: Any  # the row as the file has it, for the rejected file
    body: bytes  # what is sent: the row's HR fields as compact JSON


@dataclass(frozen=True)
class Unreadable:
    line: int
    given: Any
    reasons: list[dict[str, Any]]


Row = Record | Unreadable


def inspect(path: Path, format_name: str | None) -> HrFile:
    """The file's format, content hash and size; BadArgument (exit 2) if it cannot be read."""
    chosen = _format(path, format_name)
    sha256, lines = _scan(path)
    if chosen == "csv":
        with path.open(encoding="utf-8-sig", newline="") as text:
            _check_header(path, next(csv.reader(text), None))
        lines -= 1
    return HrFile(path, chosen, sha256, max(lines, 0))


def rows(source: HrFile) -> Iterator[Row]:
    with source.path.open(encoding="utf-8-sig", newline="") as text:
        yield from _csv_rows(text) if source.format == "csv" else _json_rows(text)


def _format(path: Path, format_name: str | None) -> Format:
    if format_name is not None:
        if format_name not in ("csv", "jsonl"):
            raise BadArgument(f"--format {format_name!r}: use csv or jsonl")
        return "csv" if format_name == "csv" else "jsonl"
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise BadArgument(
            f"cannot tell the format of {path} from its name: "
            "use .csv, .jsonl or .ndjson, or pass --format csv or --format jsonl"
        )
    return found


def _scan(path: Path) -> tuple[str, int]:
    """SHA-256 and line count in one pass, checking the file is UTF-8 text."""
    digest, lines, offset, last = hashlib.sha256(), 0, 0, b"\n"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as raw:
            while chunk := raw.read(_CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise BadArgument(
                        f"{path} is not UTF-8 text (byte {offset + exc.start})"
                    ) from None
                digest.update(chunk)
                lines += chunk.count(b"\n")
                offset, last = offset + len(chunk), chunk[-1:]
            decoder.decode(b"", final=True)
    except FileNotFoundError:
        raise BadArgument(f"{path} does not exist") from None
    except IsADirectoryError:
        raise BadArgument(f"{path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise BadArgument(f"{path} is not UTF-8 text (it ends inside a character)") from None
    except OSError as exc:
        raise BadArgument(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    return digest.hexdigest(), lines + (last != b"\n")


def _check_header(path: Path, header: list[str] | None) -> None:
    if not header:
        raise BadArgument(f"{path} has no header row: the first row names the HR fields")
    names = [name.strip() for name in header]
    problems = []
    if doubled := sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"columns named twice: {', '.join(doubled)}")
    if unknown := [n for n in names if n not in HR_FIELDS]:
        problems.append(f"unknown columns: {', '.join(repr(n) for n in unknown)}")
    if missing := [n for n in REQUIRED_FIELDS if n not in names]:
        problems.append(f"required columns missing: {', '.join(missing)}")
    if problems:
        raise BadArgument(
            f"{path}: the header {'; '.join(problems)} (the HR fields: {', '.join(HR_FIELDS)})"
        )


def _csv_rows(text: TextIO) -> Iterator[Row]:
    reader = csv.reader(text)
    header = [name.strip() for name in next(reader)]
    end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Unreadable(end + 1, None, [_reason("csv_invalid", f"not CSV: {exc}")])
            end = reader.line_num
            continue
        start, end = end + 1, reader.line_num
        if not cells:
            continue  # a blank line
        if len(cells) != len(header):
            message = f"{len(cells)} cells where the header has {len(header)}"
            yield Unreadable(start, cells, [_reason("csv_columns", message)])
            continue
        given = dict(zip(header, cells, strict=True))
        yield _record(start, given, {name: cell for name, cell in given.items() if cell != ""})


def _json_rows(text: TextIO) -> Iterator[Row]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_no_constant)
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            given = line.rstrip("\r\n")
            yield Unreadable(number, given, [_reason("json_invalid", f"not JSON: {reason}")])
            continue
        if not isinstance(value, dict):
            yield Unreadable(number, value, [_reason("object_type", "not a JSON object")])
            continue
        yield _record(number, value, {k: v for k, v in value.items() if k in HR_FIELDS})


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _record(line: int, given: Any, fields: dict[str, Any]) -> Row:
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    if len(body) > MAX_RECORD_BYTES:
        message = f"{len(body):,} bytes of HR fields, more than a record may have (64 KiB)"
        return Unreadable(line, given, [_reason("too_large", message)])
    return Record(line, given, body)


def _reason(kind: str, message: str) -> dict[str, Any]:
    return {"loc": ["row"], "msg": message, "type": kind}
