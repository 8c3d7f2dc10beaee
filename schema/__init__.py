"""Strawberry types, inputs, enums, DataLoaders and the schema assembly (thin: fields call resolvers)."""
