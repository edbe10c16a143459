"""Unit tests of the run-wide rate limiter, budget and counters."""

from __future__ import annotations

import time

import pytest

from tap_asos.runtime import RateLimiter, RequestBudgetExhaustedError, RequestPolicy, RunStats


def test_limiter_spaces_requests_after_the_burst() -> None:
    limiter = RateLimiter(rate=50, burst=1)
    limiter.acquire()
    start = time.monotonic()
    waited = sum(limiter.acquire() for _ in range(5))
    elapsed = time.monotonic() - start
    # 5 more tokens at 50/s take 0.1 s: only a limiter that blocks takes that long (the
    # margin is for the first grant, just before `start`). Load only makes it slower.
    assert 0.095 <= elapsed < 1.0
    # It reports the sleeps it asked for, which cannot exceed the time that passed.
    assert 0.05 < waited <= elapsed + 0.001


def test_disabled_limiter_never_waits() -> None:
    limiter = RateLimiter(rate=0)
    assert all(limiter.acquire() == 0 for _ in range(1000))


def test_pause_blocks_the_next_request() -> None:
    limiter = RateLimiter(rate=100, burst=1)
    limiter.pause(0.1)
    start = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - start >= 0.09


def test_budget_counts_and_stops() -> None:
    stats = RunStats()
    policy = RequestPolicy(stats, max_requests=3)
    for _ in range(3):
        policy.take_request_slot("products")
    assert not policy.budget_exhausted
    with pytest.raises(RequestBudgetExhaustedError, match="3 requests"):
        policy.take_request_slot("products")
    assert policy.budget_exhausted
    assert stats.summary()["requests"] == 3
    assert stats.per_stream["products"]["requests"] == 3


def test_quota_headers_are_kept() -> None:
    run = RunStats()
    run.record_response(
        200,
        {
            "x-ratelimit-requests-limit": "500",
            "x-ratelimit-requests-remaining": "42",
            "x-ratelimit-requests-reset": "3600",
        },
    )
    run.record_response(429, {})
    summary = run.summary()
    assert summary["quota_remaining"] == 42
    assert summary["quota_limit"] == 500
    assert summary["rate_limited_429"] == 1
