"""Putting rows into another write's statement: the parameters of each part
are numbered after the ones before, and a part that could be numbered wrong
is refused rather than sent."""

from __future__ import annotations

import pytest

from mpp_shared.sql_rows import Row, renumbered, with_rows


def test_each_rows_parameters_follow_the_statement_and_the_rows_before() -> None:
    first = Row("a (x, y)", "$1, $2", ("x1", "y1"))
    second = Row("b (z)", "$1::int", (7,))
    sql, args = with_rows(
        "made AS (INSERT INTO m (v) VALUES ($1) RETURNING id)",
        ["v"],
        [first, second],
        when="made",
        final="SELECT count(*) FROM made",
    )
    assert args == ["v", "x1", "y1", 7]
    assert "INSERT INTO a (x, y) SELECT $2, $3 WHERE EXISTS (SELECT 1 FROM made)" in sql
    assert "INSERT INTO b (z) SELECT $4::int WHERE EXISTS (SELECT 1 FROM made)" in sql
    assert sql.startswith("WITH made AS (") and sql.endswith("SELECT count(*) FROM made")


def test_the_same_shape_gives_the_same_text_so_the_prepared_statement_is_reused() -> None:
    def text(value: str) -> str:
        return with_rows(
            "m AS (SELECT $1)", [value], [Row("a (x)", "$1", (value,))], when="m", final="SELECT 1"
        )[0]

    assert text("one") is text("two")


def test_a_row_naming_a_parameter_it_does_not_carry_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\$3 in a row of 2 values"):
        with_rows("m AS (SELECT 1)", [], [Row("a (x)", "$1, $3", (1, 2))], when="m", final="")


def test_dollar_quoting_is_refused_rather_than_renumbered() -> None:
    with pytest.raises(ValueError, match="dollar quoting"):
        renumbered("SELECT $$a $1 b$$", 3)
    assert renumbered("UPDATE t SET a = $3 WHERE id = $1 AND n = $12", 9) == (
        "UPDATE t SET a = $12 WHERE id = $10 AND n = $21"
    )
