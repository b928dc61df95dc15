"""The blind index of each person's phone number (services.fields.index_phone: its digits, a
US country code and an extension dropped), beside the encrypted number: what the People search
compares when it is given a number, on SQLite and PostgreSQL alike. Saves keep it current;
this fills it for the records already there, each number decrypted and indexed by the fields'
own code under the configured keys (FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEYS), as 0002 indexed
the SSNs."""

from django.db import migrations

import services.fields

BATCH = 500


def index_phones(apps, schema_editor):
    # A batch at a time, each read whole before it is written: SQLite does not isolate a
    # cursor still being read from the writes to its table. The number is encrypted, so the
    # database cannot pick out the rows that have one: every row is read.
    Exoneree = apps.get_model("services", "Exoneree")
    index = Exoneree._meta.get_field("phone_index")
    people = Exoneree.objects.only("phone", "phone_index").order_by("pk")
    last = 0
    while batch := list(people.filter(pk__gt=last)[:BATCH]):
        changed = []
        for person in batch:
            computed = index.compute(person)
            if computed != person.phone_index:
                person.phone_index = computed
                changed.append(person)
        Exoneree.objects.bulk_update(changed, ["phone_index"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0052_resource_hours_es"),
    ]

    operations = [
        migrations.AddField(
            model_name="exoneree",
            name="phone_index",
            field=services.fields.BlindIndexField(
                normalize=services.fields.index_phone, purpose="phone", sources=["phone"]
            ),
        ),
        migrations.RunPython(index_phones, migrations.RunPython.noop),
    ]
