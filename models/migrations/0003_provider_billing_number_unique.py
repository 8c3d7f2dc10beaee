"""A provincial billing number belongs to one provider of an organization (issue 9): the plain
(organization_id, provincial_billing_number) index becomes a unique one. NULLs stay allowed to
repeat (both SQLite and PostgreSQL treat NULLs as distinct). An organization that already holds a
number twice must settle it first: the migration fails rather than pick a provider."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0002_outbox_link_expiry')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Provider',
            name=None,
            fields=['organization_id', 'provincial_billing_number'],
        ),
        ops.AddConstraint(
            model_name='Provider',
            constraint=UniqueConstraint(fields=('organization_id', 'provincial_billing_number'), name=None),
        ),
    ]
