"""Client merges (issue 11): what each merge changed, so it can be undone within 30 days."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_client_portal')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientMerge',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('source_id', fields.UUIDField()),
                ('target_id', fields.UUIDField()),
                ('source_status', fields.CharField(max_length=16)),
                ('filled', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('moved_links', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('dropped_links', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('moved_invitations', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('merged_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('merged_by_id', fields.UUIDField(null=True)),
                ('undone_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'client_merges', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'source_id', 'merged_at']), Index(fields=['organization_id', 'target_id'])], 'pk_attr': 'id', 'table_description': 'One merge of `source` into `target`, with what it changed so an unmerge can put it back:'},
            bases=['TenantModel'],
        ),
    ]
