"""Outbox mail holding a link token records when the link expires (indexed, for the purge job), and
a mail whose link expired before delivery can be EXPIRED (issue 7: no readable tokens in the outbox)."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.enums import OutboxStatus


class AlterFieldComment(ops.AlterField):
    """An AlterField whose only change is the column's description (a new enum value in a VARCHAR column).

    PostgreSQL updates the column comment. SQLite keeps no comment, yet Tortoise 1.1.9 rebuilds the
    whole table for any altered field, and the rebuilt table loses its indexes (here the
    (status, next_attempt_at) index the mail job claims by): on SQLite only the state changes.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is not None and state_editor.DIALECT != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is not None and state_editor.DIALECT != "sqlite":
            await super().database_backward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        AlterFieldComment(
            model_name='OutboxMessage',
            name='status',
            field=fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: PENDING\nSENT: SENT\nFAILED: FAILED\nEXPIRED: EXPIRED', enum_type=OutboxStatus, max_length=16),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='link_expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['link_expires_at']),
        ),
    ]
