"""Reading the file `import` sends: what becomes a record, what is refused and why.

A file that cannot be imported at all is refused with one message and exit 2 before
anything is sent; a row that cannot be sent is reported (rejected file), never dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from onboarding_ops.bootstrap import Ops
from onboarding_ops.cli import app
from onboarding_ops.errors import BadArgument
from onboarding_ops.gateway import batches
from onboarding_ops.hr_file import Record, Row, Unreadable, inspect, rows
from onboarding_ops.settings import Settings
from typer.testing import CliRunner

# Nothing listens there: a command that reached for the gateway would fail with exit 1.
NOWHERE = Ops(
    Settings(
        kafka_bootstrap_servers="127.0.0.1:9",
        mongodb_url="mongodb://127.0.0.1:9/x",
        ingest_url="http://127.0.0.1:9",
        ops_connect_timeout_s=1,
    )
)
HEADER = "employee_id,first_name,last_name,preferred_name,email,title,department,start_date\n"


def read(path: Path, format_name: str | None = None) -> list[Row]:
    return list(rows(inspect(path, format_name)))


def sent(row: Row) -> dict[str, object]:
    assert isinstance(row, Record), row
    fields: dict[str, object] = json.loads(row.body)
    return fields


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), obj=NOWHERE)
    return result.exit_code, result.output


def test_a_csv_row_sends_its_filled_cells_and_leaves_empty_ones_out(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "people.csv",
        HEADER
        + '1,José,Núñez,,jose@example.com,"Engineer, Platform",,2024-01-15\n'
        + "\n"  # blank lines are skipped
        + '2,Ann,"Lee\nSmith",Annie,ann@example.com,,Sales,\n',
    )

    found = read(path)

    assert [row.line for row in found] == [2, 4]
    assert sent(found[0]) == {
        "employee_id": "1",
        "first_name": "José",
        "last_name": "Núñez",
        "email": "jose@example.com",
        "title": "Engineer, Platform",
        "start_date": "2024-01-15",
    }
    assert sent(found[1])["last_name"] == "Lee\nSmith"
    assert found[1].given["preferred_name"] == "Annie"
    assert found[1].given["title"] == ""  # the row as given keeps every cell


def test_a_csv_row_with_the_wrong_number_of_cells_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "people.csv",
        "employee_id,first_name,last_name,email\n"
        "1,A,B,a@example.com\n"
        "2,A,B,a@example.com,extra\n"
        "3,A\n"
        "4,A,B,d@example.com\n",
    )

    found = read(path)

    assert [type(row).__name__ for row in found] == ["Record", "Unreadable", "Unreadable", "Record"]
    assert found[1] == Unreadable(
        3,
        ["2", "A", "B", "a@example.com", "extra"],
        [{"loc": ["row"], "msg": "5 cells where the header has 4", "type": "csv_columns"}],
    )
    assert found[2].line == 4


def test_a_byte_order_mark_and_spaces_around_column_names_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("\ufeffemployee_id, first_name ,last_name,email\r\n1,A,B,a@x.org\r\n".encode())

    assert sent(read(path)[0]) == {
        "employee_id": "1",
        "first_name": "A",
        "last_name": "B",
        "email": "a@x.org",
    }


def test_json_lines_send_the_hr_fields_and_refuse_what_is_not_an_object(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "people.ndjson",
        '{"employee_id": "1", "first_name": "A", "last_name": "B", "email": "a@x.org", '
        '"manager": "someone"}\n'
        "\n"
        '{"employee_id": "2", "first_name": \n'
        "[1, 2]\n"
        '{"employee_id": "3", "start_date": NaN}\n'
        '{"employee_id": "4", "title": null}\n',
    )

    found = read(path)

    assert sent(found[0]) == {
        "employee_id": "1",
        "first_name": "A",
        "last_name": "B",
        "email": "a@x.org",
    }
    assert found[0].given["manager"] == "someone"  # kept as given, not sent
    refused = [row for row in found if isinstance(row, Unreadable)]
    assert [(row.line, row.reasons[0]["type"]) for row in refused] == [
        (3, "json_invalid"),
        (4, "object_type"),
        (5, "json_invalid"),
    ]
    assert refused[0].given == '{"employee_id": "2", "first_name": '
    assert refused[0].reasons[0]["msg"].startswith("not JSON: Expecting value")
    assert refused[2].reasons[0]["msg"] == "not JSON: NaN is not JSON"
    assert sent(found[-1]) == {"employee_id": "4", "title": None}  # the gateway decides


def test_format_comes_from_the_extension_or_the_option(tmp_path: Path) -> None:
    jsonl = write(tmp_path, "people.txt", '{"employee_id": "1"}\n')

    assert inspect(jsonl, "jsonl").format == "jsonl"
    assert inspect(write(tmp_path, "a.JSONL", "{}\n"), None).format == "jsonl"
    with pytest.raises(BadArgument, match=r"cannot tell the format of .*people\.txt"):
        inspect(jsonl, None)
    with pytest.raises(BadArgument, match="--format 'xml': use csv or jsonl"):
        inspect(jsonl, "xml")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("employee_id,first_name,last_name,emial\n", "unknown columns: 'emial'"),
        ("employee_id,first_name,last_name,emial\n", "required columns missing: email"),
        ("employee_id,first_name,last_name,email,email\n", "columns named twice: email"),
        ("", "has no header row"),
    ],
)
def test_a_csv_header_that_is_not_the_hr_fields_exits_2(
    tmp_path: Path, header: str, reason: str
) -> None:
    path = write(tmp_path, "people.csv", header)

    code, output = invoke("import", str(path))

    assert code == 2
    assert reason in output
    assert "Traceback" not in output


def test_a_file_that_cannot_be_read_exits_2_before_anything_is_sent(tmp_path: Path) -> None:
    latin1 = tmp_path / "people.csv"
    latin1.write_bytes(HEADER.encode() + "1,Jos\xe9,N,,j@example.com,,,\n".encode("latin-1"))

    assert invoke("import", str(tmp_path / "absent.csv")) == (
        2,
        f"error: {tmp_path / 'absent.csv'} does not exist\n",
    )
    code, output = invoke("import", str(latin1))
    assert code == 2
    assert f"{latin1} is not UTF-8 text (byte {len(HEADER) + 5})" in output


@pytest.mark.parametrize(("size", "code"), [("0", 2), ("1001", 2), ("ten", 2)])
def test_a_batch_size_outside_1_to_1000_exits_2(tmp_path: Path, size: str, code: int) -> None:
    path = write(tmp_path, "people.csv", HEADER)

    exit_code, output = invoke("import", str(path), "--batch-size", size)

    assert exit_code == code
    assert "--batch-size" in output


def test_the_outputs_must_not_be_the_input(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", HEADER)

    code, output = invoke("import", str(path), "--rejected", str(path))

    assert code == 2
    assert f"--rejected {path} is the file to import" in output


def test_batches_hold_the_batch_size_and_unreadable_rows_go_with_the_batch_they_are_in(
    tmp_path: Path,
) -> None:
    lines = [json.dumps({"employee_id": str(n)}) for n in range(5)]
    lines.insert(2, "not json")
    path = write(tmp_path, "people.jsonl", "\n".join(lines) + "\n")

    found = list(batches(read(path), 2))

    assert [[r.line for r in b.records] for b in found] == [[1, 2], [4, 5], [6]]
    assert [[u.line for u in b.unreadable] for b in found] == [[3], [], []]
    assert found[0].body() == b'[{"employee_id":"0"},{"employee_id":"1"}]'
