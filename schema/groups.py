"""Groups: types, inputs and root fields (see DESIGN.md)."""
