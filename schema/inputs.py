"""Inputs that name one object and nothing else (archive this client, revoke that token).

The contract gives each such mutation an input type of its own (`ArchiveClientInput { id: ID! }`),
so one can grow a field later without touching the others; `id_input` declares one in a line.
"""

from __future__ import annotations

import strawberry


def id_input(name: str, description: str | None = None) -> type:
    """The input type `name { id: ID! }`."""
    cls = type(name, (), {"__annotations__": {"id": strawberry.ID}, "__module__": __name__})
    return strawberry.input(cls, description=description)
