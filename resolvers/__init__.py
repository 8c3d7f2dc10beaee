"""The operations: plain async functions `(ctx, input) -> result`, one module per domain."""
