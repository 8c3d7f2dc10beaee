"""Tortoise models, one module per aggregate. No GraphQL, no HTTP."""

MODEL_MODULES = [
    "models.organization",
    "models.users",
    "models.sessions",
    "models.groups",
    "models.providers",
    "models.clients",
    "models.portal",
    "models.audit",
    "models.outbox",
]
