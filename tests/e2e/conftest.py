"""The end-to-end tests share the app tests' empty-database fixture."""

from tests.app.conftest import fresh_database  # noqa: F401
