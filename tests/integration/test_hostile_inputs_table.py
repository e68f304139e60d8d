"""Keeps docs/HOSTILE_INPUTS.md honest: at least 60 rows, every category of issue 12 present,
and every test a row names exists (pytest node ids as pytest collects them; doctest
`TEST_CASE` names, with an optional `SUBCASE` inside that test case, in the file named).
Whether the named test asserts the row's outcome is for review; that it exists and runs is
checked here, so a renamed or deleted test breaks the table instead of silently leaving a
row unbacked."""

import re
import subprocess
import sys
from collections import defaultdict

import pytest

from conftest import SOURCE_DIR

DOC = SOURCE_DIR / "docs" / "HOSTILE_INPUTS.md"
ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*)\|\s*`([^`]+)`\s*\|\s*$")
SECTIONS = ["WebSocket frames", "Opening handshakes", "Oro tickets", "WAMP v1", "WAMP v2",
            "Config files", "Routing files", "Plugin manifests", "Users file"]


def rows():
    """(number, section, middle cells, test reference) of every table row."""
    section = None
    found = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = ROW.match(line)
        if match:
            found.append((int(match.group(1)), section, match.group(2), match.group(3)))
    return found


def test_the_table_has_at_least_60_numbered_rows_in_every_category():
    table = rows()
    assert len(table) >= 60, len(table)
    assert [number for number, *_ in table] == list(range(1, len(table) + 1)), \
        "rows are numbered 1, 2, 3, ... in order"
    for wanted in SECTIONS:
        assert any(section and section.startswith(wanted) for _, section, _, _ in table), \
            f"no rows under a section starting {wanted!r}"
    v2 = " ".join(ref for _, section, _, ref in table if section.startswith("WAMP v2"))
    assert "json" in v2 and "msgpack" in v2, "WAMP v2 rows must cover both serializers"


def collected_node_ids(directory, files):
    """What `pytest --collect-only -q` lists for `files` in `directory`."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *files], cwd=directory, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {line.strip() for line in completed.stdout.splitlines() if "::" in line}


def test_every_pytest_node_id_in_the_table_exists():
    wanted = defaultdict(set)  # directory -> {(file name, node id within it)}
    for number, _, _, ref in rows():
        path, _, rest = ref.partition("::")
        if not path.endswith(".py"):
            continue
        file = SOURCE_DIR / path
        assert file.is_file(), f"row {number}: no file {path}"
        wanted[file.parent].add((number, file.name, rest))
    assert wanted, "no pytest rows found"
    missing = []
    for directory, refs in wanted.items():
        collected = collected_node_ids(directory, sorted({name for _, name, _ in refs}))
        missing += [f"row {number}: {name}::{rest}" for number, name, rest in sorted(refs)
                    if f"{name}::{rest}" not in collected]
    assert not missing, "tests named in docs/HOSTILE_INPUTS.md that pytest does not collect:\n" \
        + "\n".join(missing)


def test_every_doctest_case_in_the_table_exists():
    checked = 0
    for number, _, _, ref in rows():
        path, _, rest = ref.partition("::")
        if not path.endswith(".cpp"):
            continue
        source = (SOURCE_DIR / path).read_text(encoding="utf-8")
        case, _, subcase = (part.strip() for part in rest.partition(" > "))
        start = source.find(f'TEST_CASE("{case}")')
        assert start >= 0, f"row {number}: no TEST_CASE(\"{case}\") in {path}"
        if subcase:
            end = source.find("TEST_CASE(", start + 1)
            body = source[start:end if end >= 0 else len(source)]
            assert f'SUBCASE("{subcase}")' in body, \
                f"row {number}: no SUBCASE(\"{subcase}\") in TEST_CASE(\"{case}\") of {path}"
        checked += 1
    assert checked > 0, "no doctest rows found"


@pytest.mark.parametrize("reference", [
    "tests/integration/test_wamp1_protocol.py::test_no_such_test",
    "tests/unit/config/server_config_test.cpp::config errors name file, line and column > nope",
])
def test_a_row_naming_a_missing_test_is_caught(tmp_path, monkeypatch, reference):
    """The checks above fail on a table naming a test that does not exist."""
    doc = tmp_path / "HOSTILE_INPUTS.md"
    doc.write_text("## WAMP v1\n\n| # | input | outcome | test |\n|---:|---|---|---|\n"
                   f"| 1 | x | y | `{reference}` |\n")
    monkeypatch.setattr(sys.modules[__name__], "DOC", doc)
    check = (test_every_pytest_node_id_in_the_table_exists if ".py::" in reference
             else test_every_doctest_case_in_the_table_exists)
    with pytest.raises(AssertionError):
        check()


def test_the_readme_links_the_table():
    assert "(docs/HOSTILE_INPUTS.md)" in (SOURCE_DIR / "README.md").read_text(encoding="utf-8")
