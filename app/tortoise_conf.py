"""Config for Tortoise's own CLI: `tortoise -c app.tortoise_conf.TORTOISE_ORM makemigrations`."""

from app.db import tortoise_config
from app.settings import get_settings

TORTOISE_ORM = tortoise_config(get_settings().database_url)
