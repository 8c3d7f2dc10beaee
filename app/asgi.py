"""The ASGI entry point for uvicorn (`app.asgi:app`): settings are checked at import, at start."""

import sys

from app.logging import configure_logging
from app.settings import SettingsError, get_settings

try:
    _settings = get_settings()
except SettingsError as error:
    print(f"tessera: {error}", file=sys.stderr)
    raise SystemExit(2) from None

configure_logging(_settings.log_level)

from app import heap  # noqa: E402
from app.main import create_app  # noqa: E402

app = create_app(_settings)
heap.settle()
