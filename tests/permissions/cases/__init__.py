"""One module of matrix rows per domain; `tests/permissions/test_matrix.py` joins them in one table."""
