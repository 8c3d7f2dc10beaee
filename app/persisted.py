"""Automatic persisted queries (Apollo's protocol), so a phone sends a hash instead of the document.

A request whose `extensions.persistedQuery` is `{"version": 1, "sha256Hash": "<hex>"}`:
- without `query`: runs the document stored under that hash, or answers PERSISTED_QUERY_NOT_FOUND
  (HTTP 200, as Apollo clients expect), on which the client sends hash and document together;
- with `query`: the document's SHA-256 must be that hash (else BAD_USER_INPUT, nothing stored); it is
  stored, then runs as any request.
A stored document is only text the caller could have sent: it is parsed, limited, validated and
authorized on every request exactly like a sent one. The store is per process and bounded (least
recently used out); a worker that lacks a hash answers NOT_FOUND and the client resends, so several
workers need no shared store.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any

from cross_web import HTTPException

CAPACITY = 2000
_HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryNotFound(Exception):
    """The hash names no stored document: the client must send the document with it."""


class PersistedQueries:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.documents: OrderedDict[str, str] = OrderedDict()

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The document to run: `query` itself, or the one stored under the request's hash."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(persisted, dict) or persisted.get("version") != 1 or not isinstance(digest, str):
            raise HTTPException(400, "persistedQuery must be {version: 1, sha256Hash: <hex SHA-256>}.")
        digest = digest.lower()
        if not _HASH.fullmatch(digest):
            raise HTTPException(400, "persistedQuery.sha256Hash must be 64 hexadecimal digits.")
        if query is None:
            found = self.documents.get(digest)
            if found is None:
                raise PersistedQueryNotFound
            self.documents.move_to_end(digest)
            return found
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise HTTPException(400, "persistedQuery.sha256Hash is not the SHA-256 of the query.")
        self.documents[digest] = query
        self.documents.move_to_end(digest)
        while len(self.documents) > self.capacity:
            self.documents.popitem(last=False)
        return query
