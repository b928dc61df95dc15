"""What the API shows of each record. Output only: input is validated by the pages' forms
(services.forms) and written by services.actions, so no rule lives here. (Their fields are not
marked read-only: DRF would then drop what the schema needs to say, such as a choice that may be
blank.)"""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from services.choices import Language
from services.models.casework import Assessment, CaseNote
from services.models.consent import Consent
from services.models.directory import Provider, Resource
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import ProviderQuestion, Referral
from services.outcomes.scope import Cell


def text(help_text: str = "") -> serializers.CharField:
    """A string that may be empty (an e-mail address or a web address, when there is one)."""
    return serializers.CharField(allow_blank=True, help_text=help_text)


class PersonSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    email = text("An e-mail address, or empty.")
    ssn = serializers.CharField(source="ssn_masked", read_only=True, help_text="Always masked: •••-••-1234.")
    caseworkers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Exoneree
        fields = [
            "id",
            "display_name",
            "legal_name",
            "preferred_name",
            "pronouns",
            "preferred_language",
            "email",
            "phone",
            "address",
            "contact_preference",
            "ok_to_leave_message",
            "contact_notes",
            "date_of_birth",
            "ssn",
            "conviction_state",
            "conviction_county",
            "conviction_date",
            "release_date",
            "exoneration_date",
            "caseworkers",
            "created_at",
            "updated_at",
        ]


class PersonRowSerializer(serializers.ModelSerializer):
    """A person in a list: who, not their contact details (open one to read those; it is logged)."""

    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Exoneree
        fields = ["id", "display_name", "legal_name", "preferred_name", "preferred_language", "updated_at"]


class NeedSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="exoneree_id", read_only=True)

    class Meta:
        model = Need
        fields = [
            "id",
            "person",
            "domain",
            "description",
            "own_words",
            "priority",
            "status",
            "opened_on",
            "closed_on",
            "created_by",
        ]


class ProviderQuestionSerializer(serializers.ModelSerializer):
    """A question the provider sent back through its link, and the caseworker's answer: read
    here as on the referral's page, by whoever may open the referral (its access helper)."""

    answer = text("The caseworker's answer, or empty while it is not answered.")

    class Meta:
        model = ProviderQuestion
        fields = ["id", "provider", "text", "at", "answer", "answered_at", "answered_by"]


class ReferralSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="need.exoneree_id", read_only=True)
    categories = serializers.SerializerMethodField()
    provider_questions = ProviderQuestionSerializer(
        many=True, read_only=True, help_text="The provider's questions, oldest first, each with its answer."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "person",
            "need",
            "resource",
            "status",
            "categories",
            "note",
            "decline_reason",
            "decline_code",
            "got_service",
            "helped",
            "feedback",
            "provider_contact",
            "expected_on",
            "created_by",
            "created_at",
            "status_changed_at",
            "consent_revoked_at",
            "provider_questions",
        ]

    def get_categories(self, referral: Referral) -> list[str]:
        return sorted(row.category for row in referral.category_rows.all())


class FollowUpSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="exoneree_id", read_only=True)
    done = serializers.BooleanField(source="is_done", read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "person",
            "title",
            "details",
            "due_at",
            "assigned_to",
            "need",
            "referral",
            "shared_with_exoneree",
            "done",
            "done_at",
            "outcome",
            "created_at",
            # A check-in after release: the days after release it stands for (7, 30, 90, 180,
            # 365), or null. Planned by intake, never set through the API.
            "release_check",
        ]


class NoteSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="exoneree_id", read_only=True)

    class Meta:
        model = CaseNote
        fields = ["id", "person", "author", "text", "visibility", "created_at", "updated_at"]


class AssessmentSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="exoneree_id", read_only=True)
    scores = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = ["id", "person", "kind", "taken_on", "taken_by", "scores"]

    def get_scores(self, assessment: Assessment) -> dict[str, int]:
        return {row.domain: row.score for row in assessment.scores.all()}


class ConsentSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="exoneree_id", read_only=True)
    categories = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "person",
            "provider",
            "purpose",
            "categories",
            "starts_on",
            "ends_on",
            "signed_how",
            "signed_on",
            "witness",
            "recorded_by",
            "created_at",
            "revoked_at",
            "revoked_how",
        ]

    def get_categories(self, consent: Consent) -> list[str]:
        return sorted(row.category for row in consent.category_rows.all())


class ProviderSerializer(serializers.ModelSerializer):
    website = text("A web address, or empty.")
    email = text("An e-mail address, or empty.")
    language = serializers.ChoiceField(
        choices=Language.choices,
        help_text="The language of the referral emails to the provider and of the page their link opens. "
        "A director may change it (PATCH, with If-Match).",
    )

    class Meta:
        model = Provider
        fields = ["id", "name", "website", "email", "language"]


class ResourceSerializer(serializers.ModelSerializer):
    domains = serializers.SerializerMethodField()
    email = text("An e-mail address, or empty.")

    class Meta:
        model = Resource
        fields = [
            "id",
            "provider",
            "name",
            "domains",
            "fees",
            "languages",
            "address",
            "city",
            "state",
            "postal_code",
            "phone",
            "email",
            "hours",
            "hours_es",
            "status",
            "updated_at",
        ]

    def get_domains(self, resource: Resource) -> list[str]:
        return sorted(row.domain for row in resource.domain_rows.all())


@extend_schema_field(
    {
        "type": ["number", "string", "null"],
        "description": "A count or a share; a day (YYYY-MM-DD) where the figure lists deadlines; null: none.",
    }
)
class CellValue(serializers.Field):
    """A cell of an outcome figure's row, as its number (or a deadline's day)."""

    def to_representation(self, cell: Cell) -> Any:
        return cell.value.isoformat() if isinstance(cell.value, date) else cell.value


class OutcomeRowSerializer(serializers.Serializer):
    key = text("What the row counts (a caseworker's id, a kind of need…), or empty.")
    label = serializers.CharField()
    values = serializers.ListField(source="cells", child=CellValue(), help_text="One per column after the first.")


class FigureSerializer(serializers.Serializer):
    """One outcome figure as the page shows it: its columns and rows of numbers (a deadline as a date)."""

    name = serializers.CharField()
    title = serializers.CharField()
    how = text("How it is counted.")
    summary = text("The figure in a sentence, or empty.")
    columns = serializers.ListField(child=serializers.CharField(), help_text="The first names the rows' labels.")
    rows = OutcomeRowSerializer(many=True)


# The Outcomes page's figures for a period. Its first day and last are "from" and "to", as the
# query names them: Python keywords, so the class is made from a dict of its fields.
OutcomesSerializer = type(
    "OutcomesSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(source="start", help_text="The period's first day."),
        "to": serializers.DateField(source="end", help_text="Its last day."),
        "figures": FigureSerializer(many=True),
    },
)
