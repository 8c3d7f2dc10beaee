"""The visible cost budget of API tokens (docs/architecture.md "API conventions"): every response to
an API token carries `extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus
{maximumAvailable, currentlyAvailable, restoreRate}}`, Shopify's shape.

The requested cost is the estimate the query limits computed (schema/limits.py: 1 a field, a page
multiplying its children by `first`, a list with no `first` by the rows its field declares). The
bucket (resolvers/buckets.py) is charged that before anything executes; a query that does not fit
answers RATE_LIMITED with `retryAfter` (HTTP 200), one that could never fit QUERY_TOO_COMPLEX.
After execution the actual cost is counted from what was returned, 1 a field a row (a page of 3
costs less than `first: 50`), and the difference settled (`charged_cost`: an answer with errors pays
at least its estimate; one that returned more than its estimate pays all of it, however deep in debt
that leaves the bucket). All tokens of an integration share its bucket.
A bucket store that does not answer refuses the token with SERVICE_UNAVAILABLE; staff sessions and
portal accounts never touch it. A request refused before the charge (over the whole budget, by the
document limits or by validation, or by the view before any document ran: `uncharged`) shows the
budget too, charged nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from graphql import ExecutionResult
from strawberry.extensions import SchemaExtension

from permissions.errors import ApiError, ApiErrorCode
from resolvers import buckets
from resolvers.credentials import API_TOKEN_PREFIX

UNAVAILABLE_RETRY_SECONDS = 5
log = logging.getLogger("tessera.budget")


def actual_cost(data: Any) -> int:
    """1 a field returned, per row: the unit of the requested estimate, which counts a page's fields
    `first` times where this counts them once a row returned (an empty list counts its field once)."""
    if not isinstance(data, dict):
        return 0
    total = 0
    for value in data.values():
        if isinstance(value, list):
            total += sum(1 + actual_cost(item) for item in value) or 1
        else:
            total += 1 + actual_cost(value)
    return total


def charged_cost(result: Any, requested: int) -> int:
    """What a request pays: what it returned, counted by `actual_cost` (more than the estimate when a
    list with no `first` returned many rows), but never less than the estimate when it ended in
    errors: a failed field can null the whole answer after the others did their work, and counting
    that answer as free would make the budget free to bypass."""
    data = getattr(result, "data", None)
    counted = actual_cost(data)
    if data is None or getattr(result, "errors", None):
        return max(requested, counted)
    return counted


class TokenBudget(SchemaExtension):
    cost: dict[str, Any] | None = None

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        execution = self.execution_context
        ctx = execution.context
        principal = await ctx.principal() if ctx is not None and hasattr(ctx, "principal") else None
        if principal is None or not principal.is_token or principal.api_token is None or execution.result:
            yield
            return
        budget, store = _bucket(ctx.settings)
        requested = int(getattr(ctx, "requested_cost", 0) or 0)
        bucket_id, organization_id = str(principal.api_token.integration_id), principal.organization_id
        if requested > budget.size:
            self.cost = _report(requested, 0, await _level(store, bucket_id, budget), budget)
            execution.result = _refused(
                ApiError(
                    ApiErrorCode.QUERY_TOO_COMPLEX,
                    f"The query's cost {requested} is over this token's budget of {budget.size}.",
                )
            )
            yield
            return
        try:
            taken = await store.take(bucket_id, organization_id, requested, budget)
        except buckets.BucketUnavailable:
            self.cost = _report(requested, 0, 0.0, budget)  # nothing to spend until the store answers
            execution.result = _refused(
                ApiError(
                    ApiErrorCode.SERVICE_UNAVAILABLE,
                    "The rate limiter is not answering: try again shortly.",
                    retryAfter=UNAVAILABLE_RETRY_SECONDS,
                )
            )
            yield
            return
        if not taken.granted:
            self.cost = _report(requested, 0, taken.available, budget)
            retry = taken.retry_after(requested, budget)
            execution.result = _refused(
                ApiError(
                    ApiErrorCode.RATE_LIMITED,
                    f"This token's budget is spent: retry in {retry} s.",
                    retryAfter=retry,
                )
            )
            yield
            return
        yield
        result = execution.result
        actual = charged_cost(result, requested)
        level = taken.available
        if actual != requested:
            with contextlib.suppress(buckets.BucketUnavailable):  # the settlement is lost, never the answer
                level = await store.settle(bucket_id, organization_id, requested - actual, budget)
        self.cost = _report(requested, actual, level, budget)

    def get_results(self) -> dict[str, Any] | Awaitable[dict[str, Any]]:  # type: ignore[override]
        """The cost report. For an API token whose request never reached the charge (refused by the
        document limits or validation, say) it is still to be read, so this hands Strawberry's async
        runner an awaitable (it awaits what it is given); every other request, and `execute_sync`
        (which refuses an async `get_results`), gets a plain dict."""
        ctx = self.execution_context.context
        if self.cost is None and str(getattr(ctx, "token", None) or "").startswith(API_TOKEN_PREFIX):
            return self._uncharged()
        return {"cost": self.cost} if self.cost is not None else {}

    async def _uncharged(self) -> dict[str, Any]:
        found = await uncharged(self.execution_context.context)
        self.cost = found.get("cost")
        return found


async def uncharged(ctx: Any) -> dict[str, Any]:
    """`{"cost": ...}` for an API token's request refused before the charge (by validation, the
    document limits, or before the document was even read: an unknown persisted query, a bad body):
    every answer to a token shows its budget, charged nothing. `{}` for any other caller. Best
    effort: the answer is a refusal already, and a database that cannot be read now must not turn
    it into a 500 (the report is left out, and logged)."""
    try:
        principal = await ctx.principal()
        if principal is None or not principal.is_token or principal.api_token is None:
            return {}
        budget, store = _bucket(ctx.settings)
        level = await _level(store, str(principal.api_token.integration_id), budget)
        return {"cost": _report(int(getattr(ctx, "requested_cost", 0) or 0), 0, level, budget)}
    except Exception:
        log.warning("budget report left out", exc_info=True)
        return {}


def _bucket(settings: Any) -> tuple[buckets.Budget, buckets.BucketStore]:
    """A token's budget as configured, and the store its bucket lives in."""
    budget = buckets.Budget(settings.token_bucket_size, settings.token_bucket_restore_rate)
    return budget, buckets.store_for(settings.redis_url)


async def _level(store: buckets.BucketStore, bucket_id: str, budget: buckets.Budget) -> float:
    """What the bucket holds now, read without writing (0 when the store does not answer): a refused
    request costs the store no write, however many a token sends."""
    try:
        return await store.peek(bucket_id, budget)
    except buckets.BucketUnavailable:
        return 0.0


def _refused(error: ApiError) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[error])


def _report(requested: int, actual: int, available: float, budget: buckets.Budget) -> dict[str, Any]:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": float(budget.size),
            "currentlyAvailable": round(available, 1),
            "restoreRate": float(budget.restore_rate),
        },
    }
