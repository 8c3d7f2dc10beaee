"""Automatic persisted queries (Apollo's protocol), so a phone sends a hash instead of the document.

A request whose `extensions.persistedQuery` is `{"version": 1, "sha256Hash": "<hex>"}`:
- without `query`: runs the document this caller stored under that hash, or answers
  PERSISTED_QUERY_NOT_FOUND (HTTP 200, as Apollo clients expect), on which the client sends hash and
  document together;
- with `query`: the document's SHA-256 must be that hash (else BAD_USER_INPUT, nothing stored); it is
  stored for this caller, then runs as any request.

The store is per caller: documents are kept under the bearer token that sent them (its SHA-256, never
the token), once the request has shown that token opens a session or is a live API token (`keep`,
called after execution: a made-up bearer string stores nothing), and a request without one stores and
finds nothing. A shared store would let anyone learn whether somebody, in any organization, recently
sent a given document, and a document can hold patient data written in it rather than passed as
variables. It is also bounded: documents no longer than the document limit (`schema/limits.py`), at
most `CAPACITY` of them and `MAX_BYTES` in all, and at most `PER_CALLER` and `PER_CALLER_BYTES` of
one caller's, least recently used out (one caller cannot push everyone else's documents out). A
stored document is only text its caller could have sent: it is parsed, limited, validated and
authorized on every request like a sent one. The store is per process; a
worker that lacks a hash answers NOT_FOUND and the client resends, so several workers need no
shared store.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any

from cross_web import HTTPException

from schema.limits import LIMITS

CAPACITY = 2000
MAX_BYTES = 16 * 1024 * 1024
PER_CALLER = 100
PER_CALLER_BYTES = 1024 * 1024
_HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryNotFound(Exception):
    """The hash names no document this caller stored: the client must send the document with it."""


def _sha256(text: str) -> str:
    # surrogatepass: a lone surrogate in the JSON is the caller's odd input, not our failure; the
    # document limits refuse it later with a clear error.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class PersistedQueries:
    def __init__(
        self,
        capacity: int = CAPACITY,
        max_bytes: int = MAX_BYTES,
        per_caller: int = PER_CALLER,
        per_caller_bytes: int = PER_CALLER_BYTES,
    ) -> None:
        self.capacity, self.max_bytes = capacity, max_bytes
        self.per_caller, self.per_caller_bytes = per_caller, per_caller_bytes
        self.size = 0
        self.documents: OrderedDict[tuple[str, str], str] = OrderedDict()
        # Each caller's own documents, least recently used first, with their bytes.
        self.callers: dict[str, OrderedDict[str, int]] = {}

    def resolve(self, query: str | None, extensions: dict[str, Any] | None, token: str | None = None) -> str | None:
        """The document to run: `query` itself (its hash checked), or the one the caller (its bearer
        `token`) stored under the request's hash. Stores nothing: see `keep`."""
        digest = _requested_hash(extensions)
        if digest is None:
            return query
        caller = _sha256(token) if token else None
        if query is None:
            found = self.documents.get((caller, digest)) if caller else None
            if found is None or caller is None:
                raise PersistedQueryNotFound
            self.documents.move_to_end((caller, digest))
            self.callers[caller].move_to_end(digest)
            return found
        if _sha256(query) != digest:
            raise HTTPException(400, "persistedQuery.sha256Hash is not the SHA-256 of the query.")
        return query

    def keep(self, query: str | None, extensions: dict[str, Any] | None, token: str | None) -> None:
        """Store a document sent with its hash, for its caller: called once the request has shown the
        token is someone's (`resolve` has checked the hash already)."""
        digest = _requested_hash(extensions)
        if digest is None or query is None or not token or len(query) > LIMITS.max_characters:
            return
        if _sha256(query) == digest:
            self.store((_sha256(token), digest), query)

    def store(self, key: tuple[str, str], query: str) -> None:
        caller, digest = key
        self._drop(key)
        self.documents[key] = query
        own = self.callers.setdefault(caller, OrderedDict())
        own[digest] = _memory(query)
        self.size += own[digest]
        while len(own) > self.per_caller or sum(own.values()) > self.per_caller_bytes:
            self._drop((caller, next(iter(own))))
        while len(self.documents) > self.capacity or self.size > self.max_bytes:
            self._drop(next(iter(self.documents)))

    def _drop(self, key: tuple[str, str]) -> None:
        if self.documents.pop(key, None) is None:
            return
        caller, digest = key
        own = self.callers[caller]
        self.size -= own.pop(digest)
        if not own:
            del self.callers[caller]


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The hash a request names (lower case), None when it names none; BAD_USER_INPUT when malformed."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    version = persisted.get("version") if isinstance(persisted, dict) else None
    if type(version) is not int or version != 1 or not isinstance(digest, str):
        raise HTTPException(400, "persistedQuery must be {version: 1, sha256Hash: <hex SHA-256>}.")
    digest = digest.lower()
    if not _HASH.fullmatch(digest):
        raise HTTPException(400, "persistedQuery.sha256Hash must be 64 hexadecimal digits.")
    return digest


def _memory(query: str) -> int:
    """The bytes a document's characters take in memory, not its length: one emoji makes CPython store
    every character of the string in 4 bytes, so counting characters let the store hold 4 times its
    bound."""
    widest = ord(max(query)) if query else 0
    return len(query) * (4 if widest > 0xFFFF else 2 if widest > 0xFF else 1)
