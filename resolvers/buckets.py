"""Partner token budgets: a leaky bucket per integration, which all its tokens share (minting more
tokens buys no more budget; docs/architecture.md "API conventions"; Shopify's model). A request is
charged its requested cost before it runs and settled afterwards: given back what it did not use, or
charged what it used beyond the estimate, in full (the level may then go below zero, as far as the
answer cost: a debt the refill pays off first; capping the debt would let one request return more
than the bucket is ever charged). The bucket refills at `restore_rate` points a second up to `size`.

Every worker and process must share one bucket, or two workers give a token twice its budget:
- with `TESSERA_REDIS_URL`, in Redis: one Lua script per charge or refund, atomic on the server and
  timed by the server's clock (`TIME`), one round trip each;
- otherwise in the database (`models.integrations.TokenBucket`), the token's row locked for the
  update (PostgreSQL `FOR UPDATE`; SQLite has one writer).
A bucket store that cannot be reached raises `BucketUnavailable`: tokens are then refused with
SERVICE_UNAVAILABLE (fail closed); nothing else depends on it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.integrations import TokenBucket
from resolvers.redis_client import redis_client


class BucketUnavailable(Exception):
    """The shared bucket store did not answer."""


@dataclass(frozen=True)
class Budget:
    size: int
    restore_rate: int


@dataclass(frozen=True)
class Taken:
    granted: bool
    available: float  # after the charge when granted; what there was when not

    def retry_after(self, cost: int, budget: Budget) -> int:
        """Seconds until `cost` points are available again."""
        return max(1, math.ceil((cost - self.available) / budget.restore_rate))


def leak(level: float, updated_at: float, now: float, budget: Budget) -> float:
    """The level at `now`, refilled since `updated_at` (the pure rule both stores follow)."""
    return min(float(budget.size), level + max(0.0, now - updated_at) * budget.restore_rate)


class BucketStore(Protocol):
    async def take(self, bucket_id: str, organization_id: str, cost: int, budget: Budget) -> Taken: ...

    async def settle(self, bucket_id: str, organization_id: str, points: int, budget: Budget) -> float: ...

    async def peek(self, bucket_id: str, budget: Budget) -> float:
        """The level now, writing nothing (what a refused request reports)."""
        ...


# KEYS[1]: the bucket; ARGV: size, restore rate, change (negative: a charge; positive: a refund), and
# whether a charge must fit (1) or is owed anyway (0: a settlement, owed in full, however far below zero).
# Returns {granted (0/1), level as text}.
_SCRIPT = """
local size = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local change = tonumber(ARGV[3])
local must_fit = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stored = redis.call('HMGET', KEYS[1], 'level', 'ts')
local level = tonumber(stored[1]) or size
local ts = tonumber(stored[2]) or now
level = math.min(size, level + math.max(0, now - ts) * rate)
local granted = 1
if must_fit == 1 and change < 0 and level + change < 0 then
  granted = 0
else
  level = math.min(size, level + change)
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now))
-- Kept until it would have refilled to full (a missing bucket is a full one), debt included.
redis.call('EXPIRE', KEYS[1], math.ceil((size - level) / rate) + 60)
return {granted, tostring(level)}
"""


class RedisBuckets:
    def __init__(self, url: str) -> None:
        self.client = redis_client(url)
        self.script = self.client.register_script(_SCRIPT)

    async def peek(self, bucket_id: str, budget: Budget) -> float:
        from redis.exceptions import RedisError

        try:
            level, ts = await self.client.hmget(f"tessera:bucket:{bucket_id}", "level", "ts")
            seconds, micros = await self.client.time()
        except (TimeoutError, RedisError, OSError) as error:
            raise BucketUnavailable(str(error)) from None
        now = seconds + micros / 1_000_000
        if level is None or ts is None:
            return float(budget.size)  # a missing bucket is a full one
        return leak(float(level), float(ts), now, budget)

    async def _run(self, bucket_id: str, change: float, budget: Budget, must_fit: bool) -> tuple[bool, float]:
        from redis.exceptions import RedisError

        try:
            granted, level = await self.script(
                keys=[f"tessera:bucket:{bucket_id}"], args=[budget.size, budget.restore_rate, change, int(must_fit)]
            )
        except (TimeoutError, RedisError, OSError) as error:
            raise BucketUnavailable(str(error)) from None
        return bool(int(granted)), float(level)

    async def take(self, bucket_id: str, organization_id: str, cost: int, budget: Budget) -> Taken:
        granted, level = await self._run(bucket_id, -cost, budget, must_fit=True)
        return Taken(granted, level)

    async def settle(self, bucket_id: str, organization_id: str, points: int, budget: Budget) -> float:
        return (await self._run(bucket_id, points, budget, must_fit=False))[1]


class DatabaseBuckets:
    async def peek(self, bucket_id: str, budget: Budget) -> float:
        row = await TokenBucket.filter(integration_id=bucket_id).first()
        return float(budget.size) if row is None else leak(row.level, row.updated_at, time.time(), budget)

    async def _change(
        self, bucket_id: str, organization_id: str, change: float, budget: Budget, must_fit: bool
    ) -> tuple[bool, float]:
        now = time.time()
        async with in_transaction():
            row = await TokenBucket.filter(integration_id=bucket_id).select_for_update().first()
            if row is None:
                try:
                    async with in_transaction():  # a savepoint: another worker may create it first
                        row = await TokenBucket.create(
                            organization_id=organization_id, integration_id=bucket_id, level=budget.size, updated_at=now
                        )
                except IntegrityError:
                    row = await TokenBucket.filter(integration_id=bucket_id).select_for_update().get()
            level = leak(row.level, row.updated_at, now, budget)
            granted = not (must_fit and change < 0 and level + change < 0)
            if granted:
                level = min(float(budget.size), level + change)
            await TokenBucket.filter(id=row.id).update(level=level, updated_at=now)
        return granted, level

    async def take(self, bucket_id: str, organization_id: str, cost: int, budget: Budget) -> Taken:
        granted, level = await self._change(bucket_id, organization_id, -cost, budget, must_fit=True)
        return Taken(granted, level)

    async def settle(self, bucket_id: str, organization_id: str, points: int, budget: Budget) -> float:
        return (await self._change(bucket_id, organization_id, points, budget, must_fit=False))[1]


def store_for(redis_url: str | None) -> BucketStore:
    """The store for this process: Redis when configured (the shared client), else the database."""
    return RedisBuckets(redis_url) if redis_url is not None else DatabaseBuckets()
