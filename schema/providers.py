"""Providers (clinicians): types, inputs and root fields (article 003)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from models.enums import BillingRole, ProviderStatus


@strawberry.type
class ProviderSettings:
    messaging_enabled: bool
    default_rtm_status: bool


@strawberry.type
class Provider:
    """Minimal for now: the providers issue adds user, billing, locations, clients, clientCount."""

    id: strawberry.ID
    display_name: str
    specialty: str | None
    billing_role: BillingRole
    profile_image_url: str | None
    status: ProviderStatus
    deactivate_at: datetime | None
    deactivated_at: datetime | None
    version: int

    @strawberry.field
    def settings(self: Any) -> ProviderSettings:
        return ProviderSettings(messaging_enabled=self.messaging_enabled, default_rtm_status=self.default_rtm_status)
