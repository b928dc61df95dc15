"""Three indexes carry the columns the outcomes page counts, so PostgreSQL counts from them.

On PostgreSQL each is built and its predecessor dropped CONCURRENTLY: the needs and referrals
tables stay open to writes while it runs (a plain CREATE INDEX would hold them for the whole
build, as 0034/0035 held the referral table). The new index is built before the old one goes,
so no query is left without one. Elsewhere (SQLite) they are the same indexes without their
included columns, built the plain way. On either, each step may run again: a migration that
was interrupted (it runs outside a transaction) left an index half built or already dropped,
and running `migrate` again drops what is there and builds it anew.
"""

from django.db import migrations, models
from django.db.migrations.operations import AddIndex, RemoveIndex


def _drop(schema_editor, name):
    """DROP INDEX IF EXISTS (CONCURRENTLY on PostgreSQL): an index this migration built before
    it was interrupted (perhaps left invalid) goes before it is built again; one already
    dropped is not an error."""
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}")


def _build(schema_editor, model, index):
    _drop(schema_editor, index.name)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, index, concurrently=True)
    else:
        schema_editor.add_index(model, index)


class AddIndexOnline(AddIndex):
    """AddIndex, CONCURRENTLY on PostgreSQL, and again after an interruption."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _build(schema_editor, model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop(schema_editor, self.index.name)


class RemoveIndexOnline(RemoveIndex):
    """RemoveIndex, CONCURRENTLY on PostgreSQL, and again after an interruption."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop(schema_editor, self.name)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _build(schema_editor, model, to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name))


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("services", "0035_referral_accepted_at"),
    ]

    operations = [
        AddIndexOnline(
            model_name="need",
            index=models.Index(
                fields=["organization", "domain", "status"],
                include=("opened_on", "closed_on"),
                name="need_org_domain_status_cover",
            ),
        ),
        RemoveIndexOnline(model_name="need", name="services_ne_organiz_d9877f_idx"),
        AddIndexOnline(
            model_name="referral",
            index=models.Index(
                fields=["organization", "status"],
                include=("status_changed_at", "accepted_at", "id"),
                name="referral_org_status_cover",
            ),
        ),
        RemoveIndexOnline(model_name="referral", name="services_re_organiz_fec53d_idx"),
        AddIndexOnline(
            model_name="referral",
            index=models.Index(
                fields=["organization", "sent_at"], include=("provider_answered_at",), name="referral_org_sent_cover"
            ),
        ),
        RemoveIndexOnline(model_name="referral", name="services_re_organiz_bf1f0e_idx"),
    ]
