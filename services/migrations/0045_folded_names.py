"""The legal and preferred names folded (services.fields.normalize_name: no case, accents or
punctuation), beside the names: what the name searches compare, so that "Délia" finds Delia
Ruiz and "Munoz" finds Muñoz, on SQLite and PostgreSQL alike. Saves keep them current; this
fills them for the records already there (a de-identified record's placeholder name is folded
like any other: its real name is gone from the row)."""

from django.conf import settings
from django.db import migrations, models

import services.fields
from services.fields import normalize_name

BATCH = 500


def fold_names(apps, schema_editor):
    # A batch at a time, each read whole before it is written: SQLite does not isolate a
    # cursor still being read from the writes to its table.
    Exoneree = apps.get_model("services", "Exoneree")
    people = Exoneree.objects.only("legal_name", "preferred_name").order_by("pk")
    last = 0
    while batch := list(people.filter(pk__gt=last)[:BATCH]):
        for person in batch:
            person.legal_name_folded = normalize_name(person.legal_name)
            person.preferred_name_folded = normalize_name(person.preferred_name)
        Exoneree.objects.bulk_update(batch, ["legal_name_folded", "preferred_name_folded"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0044_license_us_spelling"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="exoneree",
            name="legal_name_folded",
            field=services.fields.FoldedNameField(source="legal_name"),
        ),
        migrations.AddField(
            model_name="exoneree",
            name="preferred_name_folded",
            field=services.fields.FoldedNameField(source="preferred_name"),
        ),
        # Before the indexes, which are then built once over the filled columns.
        migrations.RunPython(fold_names, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="exoneree",
            index=models.Index(fields=["organization", "legal_name_folded"], name="exoneree_org_legal_folded"),
        ),
        migrations.AddIndex(
            model_name="exoneree",
            index=models.Index(fields=["organization", "preferred_name_folded"], name="exoneree_org_preferred_folded"),
        ),
    ]
