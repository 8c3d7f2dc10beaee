"""The `info` every resolver receives, typed: its context is the request's `RequestContext`."""

from __future__ import annotations

import strawberry

from resolvers.context import RequestContext

Info = strawberry.Info[RequestContext, None]
