"""The sandbox's fault injection and control endpoints."""

from __future__ import annotations

import json
import time
import typing as t

import pytest
import requests

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

LIST = "/products/v2/list"
PARAMS = {"store": "US", "categoryId": 8799, "limit": 10}


def _list(server: SandboxServer, timeout: float = 10) -> requests.Response:
    return requests.get(
        f"{server.url}{LIST}",
        params=PARAMS,
        timeout=timeout,
        headers={"X-RapidAPI-Key": server.api_key, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
    )


@pytest.mark.parametrize(
    ("kind", "status"), [("429", 429), ("500", 500), ("502", 502), ("503", 503)]
)
def test_status_faults_fire_the_given_number_of_times(
    make_sandbox: Callable[..., SandboxServer],
    kind: str,
    status: int,
) -> None:
    server = make_sandbox(products=300)
    server.set_faults({"rules": [{"kind": kind, "times": 2, "path": LIST}]})
    assert [_list(server).status_code for _ in range(3)] == [status, status, 200]
    assert server.stats()["faults_injected"] == 2


def test_malformed_and_truncated_bodies(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(products=300)
    good = _list(server).content
    server.set_faults(
        {"rules": [{"kind": "malformed", "times": 1}, {"kind": "truncated", "times": 1}]}
    )
    malformed, truncated = _list(server), _list(server)
    for response in (malformed, truncated):
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    assert truncated.content == good[: len(good) // 2]


def test_empty_page_keeps_the_item_count(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(products=300)
    server.set_faults({"rules": [{"kind": "empty_page", "times": 1, "after": 1}]})
    first, empty = _list(server).json(), _list(server).json()
    assert first["products"]
    assert empty["products"] == []
    assert empty["itemCount"] == first["itemCount"]


def test_timeout_fault_outlasts_the_client(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(products=300)
    server.set_faults({"rules": [{"kind": "timeout", "times": 1, "seconds": 1.5}]})
    with pytest.raises(requests.exceptions.ReadTimeout):
        _list(server, timeout=0.5)
    assert _list(server).status_code == 200


def test_latency_is_injected(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(products=300, latency_ms=(100, 120))
    start = time.monotonic()
    _list(server)
    assert time.monotonic() - start >= 0.1


def test_rate_rules_are_reproducible(make_sandbox: Callable[..., SandboxServer]) -> None:
    runs = []
    for _ in range(2):
        server = make_sandbox(products=300)
        server.set_faults({"rules": [{"kind": "503", "rate": 0.5}]})
        runs.append([_list(server).status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert 0 < runs[0].count(503) < 20


def test_control_endpoints_over_http(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(products=300)
    bad = requests.post(
        f"{server.url}/_sandbox/faults", json={"rules": [{"kind": "nope"}]}, timeout=5
    )
    assert bad.status_code == 400
    ok = requests.post(
        f"{server.url}/_sandbox/faults", json={"rules": [{"kind": "500", "times": 1}]}, timeout=5
    )
    assert ok.status_code == 200
    assert _list(server).status_code == 500
    advanced = requests.post(f"{server.url}/_sandbox/advance?days=3", timeout=5).json()
    assert advanced["day"] == 3
    stats = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()
    assert stats["by_path"] == {LIST: 1}
    assert stats["by_status"] == {"500": 1}
    requests.post(f"{server.url}/_sandbox/reset", timeout=5)
    assert requests.get(f"{server.url}/_sandbox/health", timeout=5).json()["day"] == 0
    assert server.stats()["requests_total"] == 0
