"""User code against an SDK with list[list[Enum]] fields."""

from __future__ import annotations

from typing import assert_type

from nested_enum_lists import Client
from nested_enum_lists.models import Board, Cell


def sync_calls(client: Client) -> None:
    board = client.boards.get()
    assert_type(board, Board)
    assert_type(board.rows, list[list[Cell]] | None)


def mistakes(client: Client) -> None:
    client.boards.get(1)  # expect-error: pyright=reportCallIssue mypy=call-arg,arg-type
