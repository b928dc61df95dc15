"""Organization.code: the ending of every new account's username (services.models.organizations).

Added without the unique constraint, filled from each name the way a new organization gets it,
then made unique.
"""

from django.db import migrations, models

HELP = "New accounts here are named like maria@code. Left blank, it is made from the name."


def fill_codes(apps, schema_editor):
    from services.models.organizations import organization_code

    Organization = apps.get_model("services", "Organization")
    for organization in Organization.objects.order_by("pk"):
        organization.code = organization_code(organization.name, taken=Organization.objects.exclude(code=""))
        organization.save(update_fields=["code"])


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0018_audit_actions"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="code",
            field=models.SlugField(
                blank=True, db_index=False, default="", help_text=HELP, max_length=20, verbose_name="username ending"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="organization",
            name="code",
            field=models.SlugField(
                blank=True, db_index=False, help_text=HELP, max_length=20, unique=True, verbose_name="username ending"
            ),
        ),
    ]
