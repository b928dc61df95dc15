"""Appointment reminders off for everyone who chose "do not contact". The forms refuse the two
together (services.forms.contact.reminders_not_to_be_sent) and the planner never reminds such a
person, but records saved before the forms' check may still hold both: the next edit of such a
record, by the person or their caseworker, was refused for a box nobody had touched. Turning the
box off changes what happens to nobody (no reminder was ever planned for them); it makes the
record say what the product does."""

from django.db import migrations


def reminders_off_where_not_to_be_contacted(apps, schema_editor):
    Exoneree = apps.get_model("services", "Exoneree")
    Exoneree.objects.filter(contact_preference="do_not_contact", appointment_reminders=True).update(
        appointment_reminders=False
    )


class Migration(migrations.Migration):
    dependencies = [("services", "0042_follow_up_done_by")]

    operations = [migrations.RunPython(reminders_off_where_not_to_be_contacted, migrations.RunPython.noop)]
