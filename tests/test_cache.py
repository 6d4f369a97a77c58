"""The default cache on Redis (CACHE_URL): Django's backend, sharing one Redis client per connection pool."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache

from tests.test_settings import settings_with


@pytest.fixture
def redis_cache(redis_url: str, settings: Any) -> Any:
    settings.CACHES = {**settings.CACHES, "shared": {"BACKEND": "crm_email.cache.RedisCache", "LOCATION": redis_url}}
    cache: BaseCache = caches["shared"]
    cache.clear()
    yield cache
    cache.clear()


def test_a_cache_url_gives_this_backend_and_none_the_local_memory(monkeypatch: Any) -> None:
    monkeypatch.delenv("CACHE_URL", raising=False)
    assert settings_with(monkeypatch)["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")

    redis = settings_with(monkeypatch, CACHE_URL="redis://cache.internal:6379/1")["CACHES"]["default"]

    assert redis == {"BACKEND": "crm_email.cache.RedisCache", "LOCATION": "redis://cache.internal:6379/1"}


def test_it_counts_adds_and_expires_as_djangos_redis_cache_does(redis_cache: Any) -> None:
    assert redis_cache.add("window", 0, timeout=60) is True
    assert redis_cache.add("window", 5, timeout=60) is False  # one opener wins
    assert [redis_cache.incr("window") for _ in range(3)] == [1, 2, 3]
    redis_cache.set("gone", "soon", timeout=0)
    assert redis_cache.get("gone", "default") == "default"
    redis_cache.set_many({"a": {"b": [1, 2]}, "c": "d"}, timeout=60)
    assert redis_cache.get_many(["a", "c", "x"]) == {"a": {"b": [1, 2]}, "c": "d"}


def test_every_call_and_every_thread_share_one_client_per_pool(redis_cache: Any) -> None:
    client = redis_cache._cache.get_client(write=True)
    seen: list[Any] = []

    def use() -> None:
        redis_cache.set("k", 1, timeout=60)
        seen.append(redis_cache._cache.get_client("k", write=True))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == [client] * 4
    assert redis_cache.get("k") == 1
