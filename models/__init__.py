"""Tortoise models, one module per aggregate. No GraphQL, no HTTP."""

MODEL_MODULES = [
    "models.organization",
    "models.users",
    "models.sessions",
    "models.groups",
    "models.providers",
    "models.clients",
    "models.portal",
    "models.merges",
    "models.integrations",
    "models.audit",
    "models.outbox",
]
