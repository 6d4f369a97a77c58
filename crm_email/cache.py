"""The default cache on Redis (CACHE_URL): Django's backend, with one Redis client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and
redis-py 8 fills in some 170 response callbacks in each: about 0.2 ms of CPU
here, as much as the call's own round trip (docs/benchmarks.md, issue 13). The
API's throttles make three cache calls per send, the webhook one per SNS
message. A client is safe to share between threads (each command takes a
connection from the pool, and the pool starts afresh in a forked process), so
one per pool serves them all.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _SharedClientCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own pool and client class (RedisCacheClient.get_client), which the stubs do not list.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both build one at first; either serves.
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClientCacheClient
