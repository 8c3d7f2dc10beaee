"""The client portal (issue 10): portal accounts, their sessions, proxy links and client invitations."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import ProxyRelationship
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_provider_billing_number_unique')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PortalAccount',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('email', fields.CharField(max_length=254)),
                ('email_key', fields.CharField(max_length=254)),
                ('password_hash', fields.CharField(max_length=200)),
                ('first_name', fields.CharField(null=True, max_length=100)),
                ('last_name', fields.CharField(null=True, max_length=100)),
                ('email_verified', fields.BooleanField(default=False)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'portal_accounts', 'app': 'models', 'unique_together': (('organization_id', 'email_key'),), 'pk_attr': 'id', 'table_description': 'A person who logs in to the client portal of one organization: a client, or someone acting'},
            bases=['DerivedKeys', 'TenantModel'],
        ),
        ops.CreateModel(
            name='ClientInvitation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(max_length=254)),
                ('email_key', fields.CharField(max_length=254)),
                ('relationship', fields.CharEnumField(description='SELF: SELF\nPARENT: PARENT\nGUARDIAN: GUARDIAN\nSPOUSE: SPOUSE\nCAREGIVER: CAREGIVER\nOTHER: OTHER', enum_type=ProxyRelationship, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('verification_code', fields.CharField(null=True, max_length=6)),
                ('code_failures', fields.IntField(default=0)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('send_count', fields.IntField(default=0)),
                ('link_shown', fields.BooleanField(default=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_by', fields.ForeignKeyField('models.PortalAccount', source_field='accepted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'client_invitations', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'client_id', 'created_at']), Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'An invitation to link a portal account to a client: its link token (`tsl_...`) is stored'},
            bases=['DerivedKeys', 'TenantModel'],
        ),
        ops.CreateModel(
            name='ClientPortalLink',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='portal_links', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.PortalAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.CASCADE)),
                ('relationship', fields.CharEnumField(description='SELF: SELF\nPARENT: PARENT\nGUARDIAN: GUARDIAN\nSPOUSE: SPOUSE\nCAREGIVER: CAREGIVER\nOTHER: OTHER', enum_type=ProxyRelationship, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'client_portal_links', 'app': 'models', 'unique_together': (('organization_id', 'client_id', 'account_id'),), 'indexes': [Index(fields=['organization_id', 'account_id'])], 'pk_attr': 'id', 'table_description': 'Proxy access: this account may act for this client (itself with SELF).'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='PortalSession',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.PortalAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ip_address', fields.CharField(null=True, max_length=45)),
                ('user_agent', fields.CharField(null=True, max_length=300)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_reason', fields.CharField(null=True, max_length=32)),
            ],
            options={'table': 'portal_sessions', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'account_id'])], 'pk_attr': 'id', 'table_description': 'A portal session. The bearer token (`tsp_...`) is never stored, only its SHA-256 hash.'},
            bases=['TenantModel'],
        ),
    ]
