"""Online registrations, duplicate suggestions and the reversible merge (article 001): types, inputs
and root fields. Resolvers: resolvers/registrations.py, resolvers/duplicates.py, resolvers/merges.py.
Every client they hand out goes through the scoping rule and the PHI access log, as any client read.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry

from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires
from permissions.errors import bad_input
from resolvers import duplicates, merges, registrations
from resolvers.errors import InputError
from schema.clients import Client, ClientPayload, HandsOutClient, seen
from schema.errors import UserError, UserWarning
from schema.info import Info
from schema.inputs import id_input
from schema.pagination import Connection, SortKey, datetime_key, keyset_page

REGISTRATION_KEYS = (datetime_key("created_at", descending=True), SortKey("id", descending=True))


@strawberry.type
class DuplicateCandidate:
    client: Client
    score: float = strawberry.field(description="0..1.")
    reasons: list[str] = strawberry.field(description='e.g. "same date of birth", "similar name", "same mobile".')


@strawberry.input
class MergeClientsInput:
    source_id: strawberry.ID = strawberry.field(description="e.g. the online registration; becomes MERGED.")
    target_id: strawberry.ID = strawberry.field(description="The existing profile that survives.")
    fill_empty_fields: bool | None = strawberry.field(
        default=True, description="Copy the source's values into the target's empty fields."
    )
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET, description="The target's version; when given and stale: CONFLICT."
    )


UnmergeClientInput = id_input(
    "UnmergeClientInput",
    "Undo a merge within 30 days: the source comes back as it was, with the portal links and "
    "invitations it brought; edits made to the survivor since stay on the survivor.",
)
ApproveRegistrationInput = id_input("ApproveRegistrationInput")


@strawberry.type
class MergeClientsPayload(HandsOutClient, result="client"):
    client: Client | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
    warnings: list[UserWarning] = strawberry.field(
        default_factory=list,
        description="mergeClients: an online registration's portal access and contact details kept back.",
    )

    @classmethod
    def of_result(cls, result: Any) -> MergeClientsPayload:
        """mergeClients answers with the client kept and its warnings; unmergeClient with the client."""
        if isinstance(result, merges.Merged):
            return cls(client=result.client, warnings=[UserWarning.of(w) for w in result.warnings])  # type: ignore[arg-type]
        return super().of_result(result)


@strawberry.type
class Query:
    @strawberry.field(
        **requires(
            Permission.CLIENTS_MERGE,
            description="Clients created by online registration and waiting for review, newest first, at the "
            "locations where the viewer holds CLIENTS_MERGE.",
        )
    )
    async def online_registrations(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Connection[Client]:
        principal = await info.context.require_principal()
        page = await keyset_page(registrations.online_registrations(principal), REGISTRATION_KEYS, first, after)
        seen(info, (edge.node for edge in page.edges))
        return page  # type: ignore[return-value]

    @strawberry.field(
        **requires(
            Permission.CLIENTS_MERGE,
            description="Likely duplicates of a client among the clients the viewer may see, best first, each "
            "with a score and its reasons (a health card only for viewers who may read coverage). Needs "
            "CLIENTS_MERGE at the client's location; another client is an empty list.",
        )
    )
    async def client_duplicates(
        self, info: Info, client_id: strawberry.ID, limit: int | None = 10
    ) -> list[DuplicateCandidate]:
        try:
            wanted = duplicates.check_limit(limit)
        except ValueError as error:
            raise bad_input(str(error)) from None
        principal = await info.context.require_principal()
        try:
            client = await registrations.reviewable_client(principal, client_id)
        except InputError:  # not found, or not reviewable by the viewer: nothing to suggest
            return []
        found = await duplicates.duplicate_candidates(principal, client, wanted)
        seen(info, (c.client for c in found))
        return [DuplicateCandidate(client=c.client, score=c.score, reasons=c.reasons) for c in found]  # type: ignore[arg-type]


# Merging, unmerging and approving registrations: CLIENTS_MERGE at the clients' locations.
_merge = partial(requires, Permission.CLIENTS_MERGE, effects=(GrantEffect.NONE,))


@strawberry.type
class Mutation:
    merge_clients = strawberry.mutation(
        resolver=MergeClientsPayload.resolver(MergeClientsInput, "client.merge", merges.merge_clients),
        **_merge(
            description="Merge a client (e.g. an online registration) into the existing profile: needs CLIENTS_MERGE "
            "at both clients' locations. The source becomes MERGED; its portal links and pending invitations move "
            "to the target, and filling the target's empty fields shows the source's values to the target's portal "
            "accounts: either needs CLIENT_PORTAL_MANAGE at the target's location. An online registration brings "
            "no contact details or date of birth and only the links of accounts that opened an invitation mailed "
            "to the target's email, with a warning, unless its sign-up account did; nothing is merged into such a "
            "registration. Undo it with unmergeClient within 30 days (CLIENT_PORTAL_MANAGE at the source's location "
            "when the merge moved portal access)."
        ),
    )
    unmerge_client = strawberry.mutation(
        resolver=MergeClientsPayload.resolver(UnmergeClientInput, "client.unmerge", merges.unmerge_client, "id"),
        **_merge(
            description="Undo a merge within 30 days (chains unwind last merge first). When the merge moved portal "
            "access it also needs CLIENT_PORTAL_MANAGE at the source's location; a moved invitation's link shown "
            "to staff at the survivor meanwhile dies (send a new one), and an account made from such a link is "
            "not linked to the source."
        ),
    )
    approve_registration = strawberry.mutation(
        resolver=ClientPayload.resolver(
            ApproveRegistrationInput, "client.approve", registrations.approve_registration, "id"
        ),
        **_merge(description="A registration that is a new patient: PENDING_REVIEW becomes ACTIVE."),
    )
