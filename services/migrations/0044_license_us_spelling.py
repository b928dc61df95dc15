""" "driver's license", as the US spells it: the paper's name, and the words of the need the
checklist makes in one click for it (services/data/document_checklist.yaml).

A need made in one click before needs named their papers (0040) is known by those words
(Need.is_for_paper): such needs with the old spelling are given the paper they are for, so the
checklist still says help was asked for, and the new spelling the person reads on their plan."""

from django.db import migrations, models

OLD_WORDS = "Get a state ID or driver's licence."
NEW_WORDS = "Get a state ID or driver's license."


def one_click_needs_in_us_spelling(apps, schema_editor):
    Need = apps.get_model("services", "Need")
    # The description is encrypted: read here, not filtered by the database. A person has few
    # needs for identification, and only those without their papers named are read.
    for need in Need.objects.filter(domain="identification").only("description", "papers").iterator():
        if not need.papers and need.description == OLD_WORDS:
            need.description, need.papers = NEW_WORDS, ["state_id"]
            need.save(update_fields=["description", "papers"])


class Migration(migrations.Migration):
    dependencies = [("services", "0043_no_reminders_for_do_not_contact")]

    operations = [
        migrations.AlterField(
            model_name="document",
            name="kind",
            field=models.CharField(
                choices=[
                    ("birth_certificate", "Birth certificate"),
                    ("social_security_card", "Social Security card"),
                    ("state_id", "State ID or driver's license"),
                    ("passport", "Passport"),
                    ("court_order", "Court order"),
                    ("certificate_of_innocence", "Certificate of innocence"),
                    ("signed_release", "Signed release"),
                    ("benefits_letter", "Benefits letter"),
                    ("medical", "Medical"),
                    ("other", "Other"),
                ],
                max_length=30,
            ),
        ),
        migrations.RunPython(one_click_needs_in_us_spelling, migrations.RunPython.noop),
    ]
