"""The permission catalogue: the only place permission codes exist."""

from __future__ import annotations

from enum import Enum


class Permission(str, Enum):
    LOCATIONS_MANAGE = "LOCATIONS_MANAGE"
    GROUPS_MANAGE = "GROUPS_MANAGE"
    USERS_READ = "USERS_READ"
    USERS_MANAGE = "USERS_MANAGE"
    USERS_ACCESS_MANAGE = "USERS_ACCESS_MANAGE"
    USERS_CREDENTIALS_RESET = "USERS_CREDENTIALS_RESET"
    PROVIDERS_READ = "PROVIDERS_READ"
    PROVIDERS_MANAGE = "PROVIDERS_MANAGE"
    PROVIDERS_DEACTIVATE = "PROVIDERS_DEACTIVATE"
    BILLING_READ = "BILLING_READ"
    BILLING_MANAGE = "BILLING_MANAGE"
    CLIENTS_READ_OWN = "CLIENTS_READ_OWN"
    CLIENTS_READ = "CLIENTS_READ"
    CLIENTS_MANAGE = "CLIENTS_MANAGE"
    CLIENTS_COVERAGE_READ = "CLIENTS_COVERAGE_READ"
    CLIENTS_COVERAGE_MANAGE = "CLIENTS_COVERAGE_MANAGE"
    CLIENTS_MERGE = "CLIENTS_MERGE"
    CLIENT_PORTAL_MANAGE = "CLIENT_PORTAL_MANAGE"
    INTEGRATIONS_MANAGE = "INTEGRATIONS_MANAGE"
    AUDIT_READ = "AUDIT_READ"


DESCRIPTIONS: dict[Permission, str] = {
    Permission.LOCATIONS_MANAGE: "Create, update and deactivate locations.",
    Permission.GROUPS_MANAGE: "Create, update and delete permission groups.",
    Permission.USERS_READ: "See staff users who work at a location where held.",
    Permission.USERS_MANAGE: "Create and edit staff users, their locations and groups.",
    Permission.USERS_ACCESS_MANAGE: "Enable or disable login access; send registration emails.",
    Permission.USERS_CREDENTIALS_RESET: "Reset another user's password or PIN; end their sessions.",
    Permission.PROVIDERS_READ: "See provider profiles.",
    Permission.PROVIDERS_MANAGE: "Edit provider profiles, billing roles and settings.",
    Permission.PROVIDERS_DEACTIVATE: "Deactivate providers now or on a date, reassign their clients, reactivate.",
    Permission.BILLING_READ: "See provider billing numbers (provincial and group).",
    Permission.BILLING_MANAGE: "Change provider billing numbers.",
    Permission.CLIENTS_READ_OWN: "See clients whose primary provider is the viewer (My Clients).",
    Permission.CLIENTS_READ: "See every client at a location where held (All Clients).",
    Permission.CLIENTS_MANAGE: "Create, edit and archive clients.",
    Permission.CLIENTS_COVERAGE_READ: "See health card and coverage/insurance fields.",
    Permission.CLIENTS_COVERAGE_MANAGE: "Change health card and coverage/insurance fields.",
    Permission.CLIENTS_MERGE: "Review online registrations, find duplicates, merge clients.",
    Permission.CLIENT_PORTAL_MANAGE: "Invite portal users to a client and manage proxy access.",
    Permission.INTEGRATIONS_MANAGE: "Manage partner integrations and their API tokens.",
    Permission.AUDIT_READ: "Read the audit trail.",
}

# Held only through an unrestricted group (or administration access), never per location.
ORG_WIDE: frozenset[Permission] = frozenset(
    {
        Permission.LOCATIONS_MANAGE,
        Permission.GROUPS_MANAGE,
        Permission.INTEGRATIONS_MANAGE,
        Permission.AUDIT_READ,
    }
)


def parse_codes(codes: list[str] | str) -> list[Permission]:
    """Permission codes as stored (a list or comma-separated), unknown ones dropped."""
    items = codes.split(",") if isinstance(codes, str) else codes
    known = Permission._value2member_map_
    return [known[c] for c in items if c in known]  # type: ignore[misc]
