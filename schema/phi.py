"""The PHI access log (docs/architecture.md "Audit and PHI access"; PHIPA s.10.1, HIPAA 164.312(b)).

Every field that returns a client notes it on the request context (`ctx.note_client_read`), and
`coverage` notes that the health card went out too. After execution this extension writes ONE
audit event for the request, "client.read", naming every client returned and flagging those whose
coverage was returned: one insert per request, never one per client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from resolvers import audit


class PhiAccessLog(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context.context
        read = getattr(ctx, "clients_read", None)
        if not read:
            return
        await audit.record(
            ctx,
            audit.CLIENT_READ_ACTION,
            target_type=audit.Target.CLIENT,
            target_id=next(iter(read)) if len(read) == 1 else None,
            changes={
                "clientIds": sorted(read),
                "coverageClientIds": sorted(cid for cid, coverage in read.items() if coverage),
            },
        )
        read.clear()
