"""Shared fixtures: real sandbox servers on free 127.0.0.1 ports, stopped afterwards."""

from __future__ import annotations

import typing as t

import pytest

from tap_asos.sandbox import SandboxConfig, SandboxServer

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Small enough for a fast suite, large enough for several pages per category.
TEST_PRODUCTS = 1200
TEST_SEED = 11


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """A read-only sandbox shared by the session: never advance or fault it."""
    server = SandboxServer(SandboxConfig(seed=TEST_SEED, products=TEST_PRODUCTS)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Factory of private sandboxes (for tests that advance time or inject faults)."""
    servers: list[SandboxServer] = []

    def make(**overrides: t.Any) -> SandboxServer:
        config = SandboxConfig(**{"seed": TEST_SEED, "products": TEST_PRODUCTS, **overrides})
        server = SandboxServer(config).start()
        servers.append(server)
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
