"""Partner integrations (issue 12): integrations, their locations, API tokens and the database token buckets."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_client_merges')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Integration',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='integrations', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('permissions', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('all_locations', fields.BooleanField(default=False)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'integrations', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Aggregate'],
        ),
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('integration', fields.ForeignKeyField('models.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('prefix', fields.CharField(max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'api_tokens', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'integration_id'])], 'pk_attr': 'id'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='IntegrationLocation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('integration', fields.ForeignKeyField('models.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name='location_links', on_delete=OnDelete.CASCADE)),
                ('location', fields.ForeignKeyField('models.Location', source_field='location_id', db_constraint=True, to_field='id', related_name='integration_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'integration_locations', 'app': 'models', 'unique_together': (('organization_id', 'integration_id', 'location_id'),), 'pk_attr': 'id', 'table_description': 'A location an integration (not an all-locations one) works at.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='TokenBucket',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('integration_id', fields.UUIDField(unique=True)),
                ('level', fields.FloatField()),
                ('updated_at', fields.FloatField()),
            ],
            options={'table': 'token_buckets', 'app': 'models', 'pk_attr': 'id', 'table_description': "An integration's cost budget (all its tokens share it) when no Redis is configured: the level"},
            bases=['TenantModel'],
        ),
    ]
