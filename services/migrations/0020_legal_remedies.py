"""Legal remedies: claims, payments, certificates, record clearance, other legal items.

The person's two compensation fields move into a claim (`claims_from_people`), keeping every
value: the status becomes the claim's stage, the hand-typed deadline becomes a deadline the
lawyer set (with a reason that says where it came from), and the deadline warnings already
planned are attached to the claim under the claim's key, so none is sent twice or lost. The
reverse puts the latest claim's stage and deadline back on the person.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import services.fields
import services.models.validators

# The jurisdictions of services/data/compensation_rules.yaml when this migration was written (a
# migration must not change meaning when the data file does).
JURISDICTIONS = frozenset(
    "US DC AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)
STAGE_OF_STATUS = {
    "not_filed": "assessing",
    "filed": "filed",
    "awarded": "awarded",
    "denied": "denied",
    "not_eligible": "not_eligible",
}
STATUS_OF_STAGE = {
    "assessing": "not_filed",
    "attorney_engaged": "not_filed",
    "closed": "not_filed",
    "filed": "filed",
    "hearing": "filed",
    "appeal": "filed",
    "awarded": "awarded",
    "paid": "awarded",
    "denied": "denied",
    "not_eligible": "not_eligible",
}
COMPENSATION_KINDS = ["compensation_90", "compensation_30", "compensation_7", "compensation_0"]
MOVED_REASON = "Entered on the person's record before claims were tracked; check it with the lawyer."


def claims_from_people(apps, schema_editor):
    Exoneree = apps.get_model("services", "Exoneree")
    Claim = apps.get_model("services", "CompensationClaim")
    Reminder = apps.get_model("services", "Reminder")
    # The fields are dropped later in this same transaction: on PostgreSQL an ALTER TABLE fails
    # while foreign-key checks of the rows written here are still deferred, so check them now.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # Everyone whose fields say anything: a status other than the default, or a deadline. A
    # person with neither had nothing recorded (no claim reads as "not yet filed").
    people = Exoneree.objects.filter(
        ~models.Q(compensation_status="not_filed") | models.Q(compensation_deadline__isnull=False)
    ).values_list("pk", "organization_id", "compensation_status", "compensation_deadline", "conviction_state")
    for pk, organization_id, status, deadline, state in people.iterator():
        state = (state or "").strip().upper()
        claim = Claim.objects.create(
            exoneree_id=pk,
            organization_id=organization_id,
            # The state of conviction is the usual statute; the lawyer corrects it if not.
            jurisdiction=state if state in JURISDICTIONS else "",
            stage=STAGE_OF_STATUS[status],
            deadline_override=deadline,
            override_reason=MOVED_REASON if deadline else "",
            filing_deadline=deadline,
            deadline_basis="override" if deadline else "no_jurisdiction",
        )
        for reminder in Reminder.objects.filter(exoneree_id=pk, kind__in=COMPENSATION_KINDS):
            reminder.compensation_claim_id = claim.pk
            reminder.key = reminder.key.replace(f":e{pk}:", f":c{claim.pk}:", 1)
            reminder.save(update_fields=["compensation_claim", "key"])


def people_from_claims(apps, schema_editor):
    Exoneree = apps.get_model("services", "Exoneree")
    Claim = apps.get_model("services", "CompensationClaim")
    Reminder = apps.get_model("services", "Reminder")
    # The fields are dropped later in this same transaction: on PostgreSQL an ALTER TABLE fails
    # while foreign-key checks of the rows written here are still deferred, so check them now.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    latest = {}
    for claim in Claim.objects.order_by("created_at", "pk").iterator():
        latest[claim.exoneree_id] = claim
    for pk, claim in latest.items():
        Exoneree.objects.filter(pk=pk).update(
            compensation_status=STATUS_OF_STAGE[claim.stage], compensation_deadline=claim.filing_deadline
        )
        for reminder in Reminder.objects.filter(compensation_claim_id=claim.pk):
            reminder.key = reminder.key.replace(f":c{claim.pk}:", f":e{pk}:", 1)
            reminder.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0019_organization_code"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="reminder",
            name="kind",
            field=models.CharField(
                choices=[
                    ("before", "Follow-up due soon"),
                    ("due", "Follow-up due now"),
                    ("overdue", "Follow-up overdue"),
                    ("escalation", "Overdue follow-up escalated"),
                    ("digest", "Morning digest"),
                    ("compensation_90", "Compensation deadline in 90 days"),
                    ("compensation_30", "Compensation deadline in 30 days"),
                    ("compensation_7", "Compensation deadline in 7 days"),
                    ("compensation_0", "Compensation deadline today"),
                    ("exoneree_appointment", "Appointment reminder to the person"),
                    ("record_recheck", "Check a cleared record again"),
                    ("referral_notice", "Referral sent to the provider"),
                    ("provider_nudge", "Unanswered referral: nudge to the provider"),
                    ("referral_unanswered", "Referral not answered by the provider"),
                    ("referral_not_completed", "Accepted referral not completed"),
                    ("referral_escalation", "Stalled referral escalated"),
                ],
                max_length=30,
            ),
        ),
        migrations.CreateModel(
            name="CompensationClaim",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "jurisdiction",
                    models.CharField(
                        blank=True, help_text="Whose statute: the federal one, DC or a state.", max_length=2
                    ),
                ),
                (
                    "trigger_event",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("vacatur_dismissal", "Conviction vacated and charges dismissed"),
                            ("acquittal_retrial", "Acquitted on retrial"),
                            ("pardon", "Pardon"),
                            ("certificate_of_innocence", "Certificate or finding of innocence"),
                            ("release", "Release from prison"),
                        ],
                        max_length=30,
                        verbose_name="event that starts the filing window",
                    ),
                ),
                (
                    "trigger_date",
                    models.DateField(
                        blank=True,
                        null=True,
                        validators=[services.models.validators.validate_sensible_date],
                        verbose_name="date of that event",
                    ),
                ),
                ("filing_deadline", models.DateField(blank=True, editable=False, null=True)),
                ("deadline_basis", models.CharField(default="no_jurisdiction", editable=False, max_length=30)),
                ("deadline_citation", models.CharField(blank=True, editable=False, max_length=300)),
                (
                    "deadline_override",
                    models.DateField(
                        blank=True,
                        null=True,
                        validators=[services.models.validators.validate_sensible_date],
                        verbose_name="deadline set by the lawyer",
                    ),
                ),
                (
                    "override_reason",
                    services.fields.EncryptedTextField(
                        blank=True, max_length=1000, verbose_name="why the lawyer set it"
                    ),
                ),
                ("override_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("assessing", "Assessing eligibility"),
                            ("attorney_engaged", "Attorney engaged"),
                            ("filed", "Filed"),
                            ("hearing", "Hearing"),
                            ("awarded", "Awarded"),
                            ("denied", "Denied"),
                            ("appeal", "On appeal"),
                            ("paid", "Paid"),
                            ("not_eligible", "Not eligible (no statute or disqualified)"),
                            ("closed", "Closed without filing"),
                        ],
                        default="assessing",
                        max_length=20,
                    ),
                ),
                (
                    "attorney",
                    models.CharField(
                        blank=True, help_text="Name and firm or clinic.", max_length=200, verbose_name="attorney"
                    ),
                ),
                (
                    "filed_on",
                    models.DateField(
                        blank=True, null=True, validators=[services.models.validators.validate_sensible_date]
                    ),
                ),
                (
                    "hearing_on",
                    models.DateField(
                        blank=True, null=True, validators=[services.models.validators.validate_sensible_date]
                    ),
                ),
                (
                    "decided_on",
                    models.DateField(
                        blank=True,
                        null=True,
                        validators=[services.models.validators.validate_sensible_date],
                        verbose_name="awarded or denied on",
                    ),
                ),
                (
                    "denial_reason",
                    services.fields.EncryptedTextField(
                        blank=True, max_length=2000, verbose_name="reason for the denial"
                    ),
                ),
                (
                    "appeal_filed_on",
                    models.DateField(
                        blank=True, null=True, validators=[services.models.validators.validate_sensible_date]
                    ),
                ),
                (
                    "award_per_year",
                    services.fields.EncryptedDecimalField(
                        blank=True, decimal_places=2, max_digits=12, null=True, verbose_name="award per year (US$)"
                    ),
                ),
                (
                    "award_total",
                    services.fields.EncryptedDecimalField(
                        blank=True, decimal_places=2, max_digits=12, null=True, verbose_name="award in total (US$)"
                    ),
                ),
                (
                    "payment_schedule",
                    services.fields.EncryptedTextField(
                        blank=True, help_text="Lump sum, yearly annuity, monthly…, and from when.", max_length=1000
                    ),
                ),
                ("notes", services.fields.EncryptedTextField(blank=True, max_length=4000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "exoneree",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="compensation_claims",
                        to="services.exoneree",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="services.organization",
                    ),
                ),
                (
                    "override_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="ClaimPayment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("received_on", models.DateField(validators=[services.models.validators.validate_sensible_date])),
                (
                    "amount",
                    services.fields.EncryptedDecimalField(decimal_places=2, max_digits=12, verbose_name="amount (US$)"),
                ),
                ("note", services.fields.EncryptedTextField(blank=True, max_length=1000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "claim",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="payments",
                        to="services.compensationclaim",
                    ),
                ),
            ],
            options={
                "ordering": ["received_on", "pk"],
            },
        ),
        migrations.AddField(
            model_name="reminder",
            name="compensation_claim",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reminders",
                to="services.compensationclaim",
            ),
        ),
        migrations.CreateModel(
            name="InnocenceCertificate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[("applied", "Applied"), ("granted", "Granted"), ("denied", "Denied")],
                        default="applied",
                        max_length=20,
                    ),
                ),
                ("court", models.CharField(max_length=200)),
                (
                    "applied_on",
                    models.DateField(
                        blank=True, null=True, validators=[services.models.validators.validate_sensible_date]
                    ),
                ),
                (
                    "decided_on",
                    models.DateField(
                        blank=True,
                        null=True,
                        validators=[services.models.validators.validate_sensible_date],
                        verbose_name="granted or denied on",
                    ),
                ),
                ("notes", services.fields.EncryptedTextField(blank=True, max_length=4000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "exoneree",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="innocence_certificates",
                        to="services.exoneree",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="LegalItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("civil_rights_suit", "Civil-rights suit"),
                            ("tax_relief", "Tax relief (IRC § 139F exclusion, refunds)"),
                            ("acknowledgment", "Official acknowledgment or apology"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("considering", "Being considered"),
                            ("in_progress", "Under way"),
                            ("done", "Done"),
                            ("dropped", "Not pursued"),
                        ],
                        default="considering",
                        max_length=20,
                    ),
                ),
                (
                    "started_on",
                    models.DateField(
                        blank=True, null=True, validators=[services.models.validators.validate_sensible_date]
                    ),
                ),
                (
                    "done_on",
                    models.DateField(
                        blank=True,
                        null=True,
                        validators=[services.models.validators.validate_sensible_date],
                        verbose_name="done or dropped on",
                    ),
                ),
                ("notes", services.fields.EncryptedTextField(blank=True, max_length=4000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "exoneree",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="legal_items", to="services.exoneree"
                    ),
                ),
            ],
            options={
                "ordering": ["kind", "-created_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="RecordClearance",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "holder",
                    models.CharField(
                        choices=[
                            ("court", "Court of conviction"),
                            ("state_repository", "State criminal records repository"),
                            ("fbi", "FBI (national criminal history)"),
                            ("dmv", "Motor vehicles department (DMV)"),
                            ("registry", "Registry (such as the sex-offender registry)"),
                            ("corrections", "Department of corrections"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("not_requested", "Not requested yet"),
                            ("requested", "Requested"),
                            ("confirmed_clear", "Confirmed clear"),
                            ("still_showing", "Still showing"),
                        ],
                        default="not_requested",
                        max_length=20,
                    ),
                ),
                (
                    "requested_on",
                    models.DateField(
                        blank=True, null=True, validators=[services.models.validators.validate_sensible_date]
                    ),
                ),
                (
                    "confirmed_on",
                    models.DateField(
                        blank=True,
                        null=True,
                        validators=[services.models.validators.validate_sensible_date],
                        verbose_name="confirmed clear on",
                    ),
                ),
                (
                    "last_checked_on",
                    models.DateField(
                        blank=True, null=True, validators=[services.models.validators.validate_sensible_date]
                    ),
                ),
                ("notes", services.fields.EncryptedTextField(blank=True, max_length=4000)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "exoneree",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="record_clearances",
                        to="services.exoneree",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="services.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["holder", "pk"],
            },
        ),
        migrations.AddField(
            model_name="reminder",
            name="record_clearance",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reminders",
                to="services.recordclearance",
            ),
        ),
        migrations.AddIndex(
            model_name="compensationclaim",
            index=models.Index(fields=["exoneree", "stage"], name="services_co_exonere_c63089_idx"),
        ),
        migrations.AddIndex(
            model_name="compensationclaim",
            index=models.Index(fields=["organization", "filing_deadline"], name="services_co_organiz_a239d0_idx"),
        ),
        migrations.AddIndex(
            model_name="recordclearance",
            index=models.Index(fields=["organization", "holder", "status"], name="services_re_organiz_02aff4_idx"),
        ),
        migrations.AddConstraint(
            model_name="recordclearance",
            constraint=models.UniqueConstraint(fields=("exoneree", "holder"), name="record_clearance_one_per_holder"),
        ),
        migrations.RunPython(claims_from_people, people_from_claims),
        migrations.RemoveField(
            model_name="exoneree",
            name="compensation_deadline",
        ),
        migrations.RemoveField(
            model_name="exoneree",
            name="compensation_status",
        ),
    ]
