"""A client merge records each moved invitation's link token hash, so undoing it voids only the links
sent or shown at the survivor meanwhile (a merge recorded before this keeps none: all its shown links die)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_squashed_0006_integrations')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ClientMerge',
            name='invitation_tokens',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
