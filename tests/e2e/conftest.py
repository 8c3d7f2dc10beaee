"""The end-to-end tests share the app tests' empty-database and SMTP fixtures."""

from tests.app.conftest import fresh_database, smtp  # noqa: F401
