"""Need.organization and Referral.organization, copied from the person's; filled in here,
required from 0012 (a separate migration: on PostgreSQL a table whose rows were just updated
cannot be altered in the same transaction while its foreign-key checks are pending)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Exoneree = apps.get_model("services", "Exoneree")
    Need = apps.get_model("services", "Need")
    Referral = apps.get_model("services", "Referral")
    person = Exoneree.objects.filter(pk=OuterRef("exoneree_id")).values("organization_id")[:1]
    Need.objects.update(organization_id=Subquery(person))
    need = Need.objects.filter(pk=OuterRef("need_id")).values("organization_id")[:1]
    Referral.objects.update(organization_id=Subquery(need))


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0010_organization_figures_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="need",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="services.organization",
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="services.organization",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
