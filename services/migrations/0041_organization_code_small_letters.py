"""Organization codes in small letters, as every username is now typed (services.auth): an
admin could save "HL", and accounts "maria@HL" and "maria@hl" could then both exist and share
one count of failed sign-ins. Existing accounts keep their usernames (sign-in reads them
either way); new ones end in the code's small letters. A code whose small letters another
organization has already is numbered, as a new code is."""

from django.db import migrations


def lower_codes(apps, schema_editor):
    Organization = apps.get_model("services", "Organization")
    taken = set(Organization.objects.values_list("code", flat=True))
    for organization in Organization.objects.exclude(code="").order_by("pk"):
        lower = organization.code.lower()
        if lower == organization.code:
            continue
        candidate, n = lower, 1
        while candidate in taken:
            n += 1
            candidate = f"{lower[:18]}{n}"  # within the field's 20 characters
        taken.discard(organization.code)
        taken.add(candidate)
        Organization.objects.filter(pk=organization.pk).update(code=candidate)


class Migration(migrations.Migration):
    dependencies = [("services", "0040_need_papers")]

    operations = [migrations.RunPython(lower_codes, migrations.RunPython.noop)]
