"""app/middleware.py and app/graphql.py helpers: the client IP behind proxies, the bearer token."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.requests import Request

from app.graphql import bearer_token
from app.middleware import client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


@pytest.mark.parametrize(
    "peer, forwarded, expected",
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.7", "203.0.113.5"),  # untrusted peer: header ignored
        ("10.1.2.3", "198.51.100.7", "198.51.100.7"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # right-most untrusted hop
        ("10.1.2.3", "198.51.100.7, 10.9.9.9", "198.51.100.7"),  # skip trusted hops
        ("10.1.2.3", "10.9.9.9, 10.8.8.8", "10.1.2.3"),  # nothing but proxies
        ("10.1.2.3", "garbage", "10.1.2.3"),
        ("10.1.2.3", "", "10.1.2.3"),
        ("10.1.2.3", " , ", "10.1.2.3"),
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        (None, "198.51.100.7", None),
    ],
)
def test_client_ip(peer, forwarded, expected):
    assert client_ip(peer, forwarded, PROXIES) == expected


def test_no_trusted_proxies_means_the_peer():
    assert client_ip("10.1.2.3", "198.51.100.7", ()) == "10.1.2.3"


def request_with(headers: dict[str, str], query: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request(
        {"type": "http", "method": "POST", "path": "/graphql", "headers": raw, "query_string": query.encode()}
    )


@pytest.mark.parametrize(
    "header, expected",
    [
        ("Bearer tss_abc", "tss_abc"),
        ("bearer tss_abc", "tss_abc"),
        ("BEARER   tss_abc  ", "tss_abc"),
        ("Basic dXNlcjpwYXNz", None),
        ("tss_abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
    ],
)
def test_bearer_token(header, expected):
    assert bearer_token(request_with({"authorization": header} if header else {})) == expected


def test_bearer_token_never_from_the_url():
    assert bearer_token(request_with({}, "token=tss_abc&access_token=tss_abc")) is None
