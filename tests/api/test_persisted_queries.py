"""Automatic persisted queries (app/persisted.py): a hash instead of the document, Apollo's protocol."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from app.persisted import PersistedQueries, PersistedQueryNotFound
from models.sessions import Session
from schema.limits import LIMITS
from tests.support import error_codes

VIEWER = "{ viewer { kind organization { slug } } }"


def _sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


async def _post(client, body: dict[str, Any], token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json=body, headers=headers)
    return response.status_code, response.json()


def _persisted(digest: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def test_an_unknown_hash_asks_for_the_document(client, org_a) -> None:
    status, body = await _post(client, {"extensions": _persisted(_sha(VIEWER))}, org_a.admin.token)
    assert status == 200 and error_codes(body) == ["PERSISTED_QUERY_NOT_FOUND"], body
    assert body["errors"][0]["message"] == "PersistedQueryNotFound" and "data" not in body
    assert body["errors"][0]["extensions"]["requestId"]


async def test_hash_and_document_store_it_then_the_hash_alone_runs_it(client, org_a) -> None:
    full = {"query": VIEWER, "extensions": _persisted(_sha(VIEWER))}
    status, first = await _post(client, full, org_a.admin.token)
    assert status == 200 and "errors" not in first, first
    status, again = await _post(client, {"extensions": _persisted(_sha(VIEWER).upper())}, org_a.admin.token)
    assert status == 200 and again["data"] == first["data"] == {
        "viewer": {"kind": "USER", "organization": {"slug": org_a.organization.slug}}
    }


async def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_is_stored(client, org_a) -> None:
    other = "{ viewer { kind } }"
    status, body = await _post(client, {"query": other, "extensions": _persisted(_sha(VIEWER))}, org_a.admin.token)
    assert status == 400 and error_codes(body) == ["BAD_USER_INPUT"], body
    status, body = await _post(client, {"extensions": _persisted(_sha(VIEWER))}, org_a.admin.token)
    assert error_codes(body) == ["PERSISTED_QUERY_NOT_FOUND"], body


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-hex"}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": "abc"},
    ],
)
async def test_a_malformed_persisted_query_is_bad_input(client, extensions) -> None:
    status, body = await _post(client, {"query": VIEWER, "extensions": extensions})
    assert status == 400 and error_codes(body) == ["BAD_USER_INPUT"], body


async def test_a_stored_document_is_authorized_like_a_sent_one(client, org_a) -> None:
    """A stored document is only text: it runs with the caller's rights of the moment."""
    document = "{ users(first: 5) { edges { node { username } } } }"
    await _post(client, {"query": document, "extensions": _persisted(_sha(document))}, org_a.admin.token)
    await Session.filter(id=org_a.admin.session.id).update(revoked_at=datetime.now(UTC), revoked_reason="LOGOUT")
    status, body = await _post(client, {"extensions": _persisted(_sha(document))}, org_a.admin.token)
    assert status == 200 and error_codes(body) == ["UNAUTHENTICATED"], body


def test_the_store_is_bounded_least_recently_used_out() -> None:
    store = PersistedQueries(capacity=2)
    documents = ["{ a }", "{ b }", "{ c }"]
    for document in documents[:2]:
        store.keep(document, _persisted(_sha(document)), "token")
    store.resolve(None, _persisted(_sha("{ a }")), "token")  # a is used again: b is now the oldest
    store.keep(documents[2], _persisted(_sha(documents[2])), "token")
    assert store.resolve(None, _persisted(_sha("{ a }")), "token") == "{ a }"
    with pytest.raises(PersistedQueryNotFound):
        store.resolve(None, _persisted(_sha("{ b }")), "token")


def test_the_store_is_bounded_in_bytes_and_keeps_no_document_over_the_limit() -> None:
    store = PersistedQueries(max_bytes=20)
    over = "{ " + "a " * LIMITS.max_characters + "}"
    store.keep(over, _persisted(_sha(over)), "token")
    for document in ("{ aaaaaaaa }", "{ bbbbbbbb }"):  # 12 characters each: the first must go
        store.keep(document, _persisted(_sha(document)), "token")
    assert store.size <= 20 and list(store.documents.values()) == ["{ bbbbbbbb }"]
    with pytest.raises(PersistedQueryNotFound):
        store.resolve(None, _persisted(_sha(over)), "token")


async def test_a_callers_stored_documents_are_its_own(client, org_a, org_b) -> None:
    """Whether somebody sent a document is nobody else's business (it may hold patient data)."""
    full = {"query": VIEWER, "extensions": _persisted(_sha(VIEWER))}
    await _post(client, full, org_a.admin.token)
    status, body = await _post(client, {"extensions": _persisted(_sha(VIEWER))}, org_b.admin.token)
    assert error_codes(body) == ["PERSISTED_QUERY_NOT_FOUND"], body
    status, body = await _post(client, {"extensions": _persisted(_sha(VIEWER))})
    assert error_codes(body) == ["PERSISTED_QUERY_NOT_FOUND"], body


ODD = '{"query": "{ viewer { kind } } # %s", "extensions": {"persistedQuery": {"version": %s, "sha256Hash": "%s"}}}'


@pytest.mark.parametrize(("comment", "version"), [("plain", "true"), ("\\ud800", "1")])
async def test_odd_input_in_a_persisted_query_is_never_a_500(client, comment: str, version: str) -> None:
    """`version: true` is not 1; a lone surrogate in the document is the caller's odd input."""
    body = ODD % (comment, version, "0" * 64)
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and error_codes(response.json()) == ["BAD_USER_INPUT"], response.text


def test_one_caller_fills_only_its_own_share_of_the_store() -> None:
    """Least recently used out within the caller's own documents first: one caller sending many
    documents cannot push another caller's out (audit 56)."""
    store = PersistedQueries(capacity=10, per_caller=3)
    store.keep("{ mine }", _persisted(_sha("{ mine }")), "someone")
    for n in range(20):
        document = f"{{ junk{n} }}"
        store.keep(document, _persisted(_sha(document)), "flooder")
    assert store.resolve(None, _persisted(_sha("{ mine }")), "someone") == "{ mine }"
    assert len(store.callers[_sha("flooder")]) == 3 and len(store.documents) == 4
    assert store.size == sum(sum(own.values()) for own in store.callers.values())


async def test_a_made_up_bearer_token_stores_nothing(client, org_a) -> None:
    """A document is kept only once its request has shown the bearer token is someone's: made-up
    strings, each a "caller" of its own, could otherwise fill the store with junk (audit 56)."""
    for token in ("not-a-real-token", "tss_" + "x" * 43):
        status, body = await _post(client, {"query": VIEWER, "extensions": _persisted(_sha(VIEWER))}, token)
        assert status == 200 and error_codes(body) == ["UNAUTHENTICATED"], body
        status, body = await _post(client, {"extensions": _persisted(_sha(VIEWER))}, token)
        assert error_codes(body) == ["PERSISTED_QUERY_NOT_FOUND"], body
    status, body = await _post(client, {"query": VIEWER, "extensions": _persisted(_sha(VIEWER))}, org_a.admin.token)
    status, body = await _post(client, {"extensions": _persisted(_sha(VIEWER))}, org_a.admin.token)
    assert status == 200 and body["data"]["viewer"]["kind"] == "USER", body
