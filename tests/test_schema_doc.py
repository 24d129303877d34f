"""SCHEMA.md documents exactly the live schema: every table, view, column (with its type) and macro."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import db

SCHEMA_MD = Path(__file__).resolve().parents[1] / "SCHEMA.md"
# SCHEMA.md writes DuckDB's long type names the way people type them.
TYPE_ALIASES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}


def parse_schema_doc(text: str) -> dict[str, dict[str, dict]]:
    """Return {"Tables"|"Views": {name: {column: (type, meaning)}}, "Macros": {name: (returns, meaning)}}.

    Sections are `## Tables`, `## Views`, `## Macros`; each table or view is a `### \\`name\\``
    heading followed by a `| column | type | meaning |` table.
    """
    doc: dict[str, dict] = {"Tables": {}, "Views": {}, "Macros": {}}
    section = current = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("## "):
            section = line[3:].strip()
            current = None
        elif line.startswith("### ") and section in ("Tables", "Views"):
            match = re.fullmatch(r"### `([a-z_][a-z0-9_]*)`", line.strip())
            assert match, f"SCHEMA.md line {number}: a heading must be ### `name`, got {line!r}"
            current = match.group(1)
            assert current not in doc[section], f"SCHEMA.md line {number}: {current} documented twice"
            doc[section][current] = {}
        elif line.startswith("| `") and section in doc:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert len(cells) == 3, f"SCHEMA.md line {number}: expected 3 cells, got {cells}"
            name, data_type, meaning = cells
            assert meaning, f"SCHEMA.md line {number}: {name} has no meaning"
            name = name.strip("`")
            if section == "Macros":
                doc["Macros"][re.sub(r"\(.*", "", name)] = (data_type, meaning)
            else:
                assert current is not None, f"SCHEMA.md line {number}: column outside a ### section"
                assert name not in doc[section][current], f"SCHEMA.md line {number}: {name} twice"
                doc[section][current][name] = (data_type, meaning)
    return doc


def read_live_schema(con) -> dict[str, dict[str, dict[str, str]]]:
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables"
            " WHERE table_catalog = current_database() AND table_schema = 'main'"
        ).fetchall()
    )
    live: dict[str, dict] = {"Tables": {}, "Views": {}}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
        " ORDER BY table_name, column_index"
    ).fetchall():
        section = "Views" if kinds[table] == "VIEW" else "Tables"
        live[section].setdefault(table, {})[column] = TYPE_ALIASES.get(data_type, data_type)
    return live


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("schema") / "rp.duckdb")
    try:
        schema = read_live_schema(con)
        schema["Macros"] = {
            name
            for (name,) in con.execute(
                "SELECT function_name FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro')"
                " AND NOT internal AND database_name = current_database()"
            ).fetchall()
        }
        yield schema
    finally:
        con.close()


@pytest.fixture(scope="module")
def documented():
    return parse_schema_doc(SCHEMA_MD.read_text(encoding="utf-8"))


@pytest.mark.parametrize("section", ["Tables", "Views"])
def test_every_table_and_view_is_documented_and_nothing_stale(live, documented, section):
    undocumented = sorted(set(live[section]) - set(documented[section]))
    stale = sorted(set(documented[section]) - set(live[section]))
    assert (undocumented, stale) == ([], []), f"{section}: undocumented {undocumented}, stale {stale}"


@pytest.mark.parametrize("section", ["Tables", "Views"])
def test_every_column_is_documented_with_its_type(live, documented, section):
    problems = []
    for name, columns in live[section].items():
        doc_columns = documented[section].get(name, {})
        for column, data_type in columns.items():
            if column not in doc_columns:
                problems.append(f"{name}.{column} ({data_type}) is not documented")
            elif doc_columns[column][0] != data_type:
                problems.append(f"{name}.{column} is {data_type}, SCHEMA.md says {doc_columns[column][0]}")
        for column in set(doc_columns) - set(columns):
            problems.append(f"{name}.{column} is documented but does not exist")
    assert problems == []


def test_every_macro_is_documented(live, documented):
    assert set(documented["Macros"]) == live["Macros"]


def test_the_parser_rejects_what_it_cannot_read():
    # The check is only as good as the parser: a malformed entry must fail loudly, not be skipped.
    with pytest.raises(AssertionError, match="expected 3 cells"):
        parse_schema_doc("## Tables\n### `t`\n| `a` | INTEGER |\n")
    with pytest.raises(AssertionError, match="has no meaning"):
        parse_schema_doc("## Tables\n### `t`\n| `a` | INTEGER |  |\n")
    assert parse_schema_doc("## Views\n### `v`\n| `a` | DATE | day |\n")["Views"] == {"v": {"a": ("DATE", "day")}}
