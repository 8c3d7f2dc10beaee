"""Fixtures for the app tests: a real SMTP server on loopback (aiosmtpd in its own thread) and an empty database."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.support import TestDatabase, empty_database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Collector:
    """Keeps every message it accepts; can answer the next DATA commands with a refusal, or slowly."""

    envelopes: list = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    delay: float = 0.0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refusals:
            return self.refusals.pop(0)
        self.envelopes.append(envelope)
        return "250 2.0.0 OK"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


@dataclass
class SmtpServer:
    url: str
    handler: Collector


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(url=f"smtp://127.0.0.1:{port}", handler=handler)
    finally:
        controller.stop()


@pytest.fixture
async def fresh_database(tmp_path) -> AsyncIterator[TestDatabase]:
    """An empty database of the run's backend, for a test that works through separate processes."""
    async with empty_database(tmp_path, "app") as database:
        yield database
