"""The detector behind `test_stands_alone`, on snippets: what it flags and what it leaves.

Snippets that must be flagged would be flagged in this file too, so their lines carry the
allow marker (outside the string: the snippet itself is checked in full).
"""

from __future__ import annotations

import pytest

from tests.repo.outside_refs import (
    ALLOW_MARKER,
    COMPUTED,
    FROM_ROOT,
    MACHINE,
    RELATIVE,
    SHARED,
    find_outside_refs,
    tracked_names,
)

CONFTEST = "deploy/okta-simulator/tests/conftest.py"  # three folders below the root
SIM_README = "deploy/okta-simulator/README.md"

# The okta-simulator conftest as it was, reading the spec from a folder beside the clone.
OLD_CONFTEST = (
    "SPEC_PATH = (\n"
    '    Path(__file__).resolve().parents[4] / "shared" / "okta"'  # stands-alone: allow
    ' / "okta-users-subset.openapi.yaml"\n'
    ")\n"
)
NEW_CONFTEST = (
    'SPEC_PATH = Path(__file__).resolve().parents[1] / "okta-api"'
    ' / "okta-users-subset.openapi.yaml"\n'
)

# A link out of the repository, assembled so no tracked line holds it whole.
OUTSIDE_LINK = "../" + "shared/CONTRACT.md"  # stands-alone: allow


def kinds(path: str, text: str, tracked: frozenset[str] | None = None) -> set[tuple[int, str]]:
    return {(f.line, f.why) for f in find_outside_refs(path, text, tracked)}


def test_the_old_conftest_line_is_flagged_on_its_line() -> None:
    assert kinds(CONFTEST, OLD_CONFTEST) == {(2, COMPUTED), (2, SHARED)}


def test_the_spec_beside_the_simulator_passes() -> None:
    assert kinds(CONFTEST, NEW_CONFTEST) == set()


@pytest.mark.parametrize(("index", "outside"), [(0, False), (3, False), (4, True), (9, True)])
def test_parents_index_counts_against_the_files_depth(index: int, outside: bool) -> None:
    # parents[3] of a file three folders down is the root itself; parents[4] is beside it.
    text = f'ROOT = Path(__file__).resolve().parents[{index}] / "x"\n'

    assert kinds(CONFTEST, text) == ({(1, COMPUTED)} if outside else set())


@pytest.mark.parametrize(("count", "outside"), [(1, False), (4, False), (5, True)])
def test_chained_parent_counts_like_parents(count: int, outside: bool) -> None:
    text = "ROOT = Path(__file__)" + ".parent" * count + "\n"

    assert kinds(CONFTEST, text) == ({(1, COMPUTED)} if outside else set())


def test_a_chain_over_several_lines_is_reported_where_it_starts() -> None:
    text = "x = 1\nROOT = (\n    Path(__file__)\n    .resolve()\n    .parents[5]\n)\n"

    assert kinds(CONFTEST, text) == {(3, COMPUTED)}


def test_climbing_further_from_a_name_set_from_file_adds_up() -> None:
    here = "HERE = Path(__file__).resolve().parent\n"

    assert kinds(CONFTEST, here + "ROOT = HERE.parent.parent.parent\n") == set()
    assert kinds(CONFTEST, here + "ROOT = HERE.parents[3]\n") == {(2, COMPUTED)}


@pytest.mark.parametrize(("count", "outside"), [(1, False), (4, False), (5, True)])
def test_nested_dirname_counts_like_parent(count: int, outside: bool) -> None:
    text = "ROOT = " + "os.path.dirname(" * count + "os.path.abspath(__file__)" + ")" * count

    assert kinds(CONFTEST, text) == ({(1, COMPUTED)} if outside else set())


def test_shared_beside_a_computed_climb_is_flagged_at_any_depth() -> None:
    text = 'SPEC = ROOT.parent / "shared" / "okta"\n'  # stands-alone: allow

    assert kinds(CONFTEST, text) == {(1, SHARED)}


def test_shared_without_a_climb_passes() -> None:
    text = 'cache = ROOT / "shared" / "x"\nthe shared producer\n'

    assert kinds(CONFTEST, text) == set()


def test_a_markdown_link_to_a_folder_beside_the_root_is_flagged() -> None:
    text = "The contract is [x](" + OUTSIDE_LINK + ").\n"

    assert kinds("README.md", text) == {(1, RELATIVE), (1, SHARED)}


def test_a_markdown_link_inside_the_repository_passes() -> None:
    assert kinds("README.md", "See [x](docs/http.md) and [y](./docs/README.md#topics).\n") == set()


@pytest.mark.parametrize(
    ("text", "outside"),
    [
        ("[up](../../README.md)", False),
        ("[doc](../../docs/http.md#status)", False),
        ("[out](../../../elsewhere/x.md)", True),  # stands-alone: allow
        ("`../../../elsewhere`.", True),  # stands-alone: allow
    ],
)
def test_relative_paths_resolve_against_the_files_folder(text: str, outside: bool) -> None:
    assert kinds(SIM_README, text + "\n") == ({(1, RELATIVE)} if outside else set())


def test_a_path_from_the_root_written_in_a_subfolder_is_read_from_the_root() -> None:
    # From enrich-service/ this names root/other/..., which is not there; from the root, as
    # prose often means it, it climbs out.
    text = "See `../other/CONTRACT.md`.\n"  # stands-alone: allow
    tracked = tracked_names(["README.md", "enrich-service/README.md"])
    present = tracked_names(["README.md", "enrich-service/README.md", "other/CONTRACT.md"])

    assert kinds("enrich-service/README.md", text, tracked) == {(1, FROM_ROOT)}
    assert kinds("enrich-service/README.md", text, present) == set()
    assert kinds("enrich-service/README.md", text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "spec = '/work/shared/okta/spec.yaml'",  # stands-alone: allow
        'open("/home/dev/okta.yaml")',  # stands-alone: allow
        "cp /tmp/okta.yaml deploy/",  # stands-alone: allow
        "[spec](/Users/dev/spec.yaml)",  # stands-alone: allow
    ],
)
def test_absolute_paths_into_the_machine_are_flagged(text: str) -> None:
    assert kinds("README.md", text + "\n") == {(1, MACHINE)}


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/../../x and http://host/home/x/",
        'assert link.startswith("https://acme.okta.example/home/google/0oa")',
        'linkUrl=f"{base}/home/{app.app_name}"',
        "Wait for it... and so on..",
        "cd deploy/ferretdb && go vet ./...",
        "from .. import models",
        "range 1..5",
        "classpath = f\"{target.parent / 'libs'}\"",
        'Path(sys.executable).parent.parent.parent.parent.parent / "bin"',
    ],
)
def test_urls_prose_and_other_dots_pass(text: str) -> None:
    assert kinds(CONFTEST, text + "\n") == set()


def test_a_line_with_the_allow_marker_is_skipped() -> None:
    text = f"[x]({OUTSIDE_LINK})  <!-- {ALLOW_MARKER} -->\n"

    assert kinds("README.md", text) == set()


def test_a_finding_names_file_and_line() -> None:
    text = "one\n[x](../elsewhere/x.md)\n"  # stands-alone: allow
    (finding,) = find_outside_refs("README.md", text)

    assert str(finding) == f"README.md:2: {RELATIVE}: [x](../elsewhere/x.md)"  # stands-alone: allow
