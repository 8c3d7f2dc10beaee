"""Strawberry types, inputs, enums, DataLoaders and the schema assembly (thin: fields call resolvers).

The API's enums are registered first, whatever module is imported first: a type that met an
unregistered enum would give Strawberry two definitions of it.
"""

from schema import enums as _enums  # noqa: F401
