"""ASOS API sandbox: a local stand-in for the ASOS API on RapidAPI.

Start it with ``asos-sandbox --port 0`` or in-process::

    with SandboxServer(SandboxConfig(products=2000)) as server:
        server.url, server.api_key

The tap never imports this package: the two meet over HTTP only.
"""

from __future__ import annotations

from tap_asos.sandbox.config import SandboxConfig
from tap_asos.sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer"]
