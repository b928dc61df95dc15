"""The API's endpoints. Each is thin: one access helper loads (404 not yours, 403 read-only,
an access-log entry for every person's record read), the page's own form validates, one action
writes. Lists of a person's records hang under that person, so reading them is one logged
opening of that record, as on the person's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Model, QuerySet
from django.urls import resolve
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from services import access
from services.actions import casework, consent, directory, follow_ups, needs, referrals
from services.api import inputs
from services.api import serializers as out
from services.api.auth import STAFF_ROLES
from services.api.base import etag_of, filled, form_data, locked, matching, valid
from services.choices import ConsentRevokedHow, Language, ReferralStatus
from services.forms.casework import CaseNoteForm, FollowUpDoneAlreadyForm, FollowUpDoneForm, FollowUpForm
from services.forms.directory import ProviderLanguageForm
from services.forms.people import CASE_STATE_CHOICES
from services.forms.referrals import NeedForm, NeedStatusForm, ReferralForm, ReferralTransitionForm
from services.forms.reports import OutcomeFilterForm
from services.lifecycle import check_referral_transition
from services.models.casework import Assessment, CaseNote
from services.models.consent import Consent
from services.models.directory import Provider, Resource
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.outcomes import report
from services.outcomes.scope import OutcomeFilters
from services.selectors import api as lists
from services.selectors.records import CASE_STATES, exoneree_list
from services.selectors.resources import resources_for_need


def _written(serializer_class: type[serializers.Serializer], obj: Model, status: int = 200) -> Response:
    data = serializer_class(obj).data
    return Response(data, status=status, headers={"ETag": etag_of(data)})


def _if_match_sent(request: Request, serializer_class: type[serializers.Serializer], obj: Model) -> None:
    """An action may carry If-Match: then it applies only to the version the caller read."""
    if request.headers.get("If-Match"):
        matching(request, etag_of(serializer_class(obj).data))


class Detail(generics.RetrieveAPIView):
    """One record, through its access helper; its ETag for a later update."""

    loader: Any = None

    def get_object(self) -> Any:
        return type(self).loader(self.request.user, self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _written(self.serializer_class, self.get_object())


class UnderPerson(generics.ListAPIView):
    """A person's records of one kind: opening them is one logged opening of the person."""

    def person(self) -> Exoneree:
        if not hasattr(self, "_person"):
            self._person = access.get_exoneree(self.request.user, self.kwargs["pk"])
        return self._person

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # the schema's look at the view
            return self.serializer_class.Meta.model.objects.none()
        return self.selector(self.request.user).filter(exoneree=self.person())

    def selector(self, user: Any) -> QuerySet[Any]:
        raise NotImplementedError


class StrictBooleanField(forms.NullBooleanField):
    """`true` or `false` (or left out); anything else is a 400 with the reason. `1` and `0`
    too, which django-filter's own BooleanFilter took: a client that sent them keeps working."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        said = {"true": True, "false": False, "1": True, "0": False}.get(str(value).lower())
        if said is None:
            raise forms.ValidationError("Say true or false.", code="invalid")
        return said


class StrictBooleanFilter(filters.BooleanFilter):
    """django-filter's BooleanFilter reads a value it does not know (`?mine=-1`) as "left out"
    and answers the whole list; this one refuses it, as People refuses a filter it does not know."""

    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput)  # the value as sent, for the field to judge
        super().__init__(*args, **kwargs)


# People -------------------------------------------------------------------------------------------


class PersonFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="search",
        help_text="Words of the legal or preferred name, or a whole phone number in any format "
        "(exact: part of a number finds nobody).",
    )
    mine = StrictBooleanFilter(method="carried", help_text="Only the people you carry.")
    case = filters.ChoiceFilter(
        choices=CASE_STATE_CHOICES,
        method="in_state",
        help_text="Whose case is open (the default, as on the People page), open with nobody assigned, closed, or all.",
    )

    class Meta:
        model = Exoneree
        fields = ["preferred_language"]

    def filter_queryset(self, queryset: QuerySet[Exoneree]) -> QuerySet[Exoneree]:
        # Open cases unless asked: a filter's method is not called when its parameter is absent.
        queryset = super().filter_queryset(queryset)
        return queryset.filter(CASE_STATES[self.form.cleaned_data.get("case") or "open"])

    def in_state(self, queryset: QuerySet[Exoneree], name: str, value: str) -> QuerySet[Exoneree]:
        return queryset  # applied by filter_queryset, which also sees the parameter left out

    def search(self, queryset: QuerySet[Exoneree], name: str, value: str) -> QuerySet[Exoneree]:
        return queryset.filter(pk__in=exoneree_list(self.request.user, q=value, case="all").values("pk"))

    def carried(self, queryset: QuerySet[Exoneree], name: str, value: bool) -> QuerySet[Exoneree]:
        return queryset.filter(caseworkers=self.request.user) if value else queryset


class PersonList(generics.ListAPIView):
    """The people you may see (no contact details here: open one, and it is logged)."""

    serializer_class = out.PersonRowSerializer
    filterset_class = PersonFilter

    def get_queryset(self) -> QuerySet[Exoneree]:
        return lists.people(self.request.user)


class PersonDetail(Detail):
    serializer_class = out.PersonSerializer
    loader = staticmethod(access.get_exoneree)


# Needs --------------------------------------------------------------------------------------------


class NeedFilter(filters.FilterSet):
    class Meta:
        model = Need
        fields = ["status", "domain", "priority"]


@extend_schema(request=inputs.NEED_INPUT)
class PersonNeeds(UnderPerson, generics.CreateAPIView):
    """GET: the person's needs. POST: record a need (domain, description, own_words, priority, opened_on)."""

    serializer_class = out.NeedSerializer
    filterset_class = NeedFilter

    def selector(self, user: Any) -> QuerySet[Need]:
        return lists.needs(user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = access.get_exoneree(request.user, kwargs["pk"], change=True)
        form = valid(NeedForm(filled(NeedForm(), request.data)))
        need = needs.need_create(by=request.user, exoneree=person, need=form.instance)
        return _written(out.NeedSerializer, need, status=201)


class NeedDetail(Detail, generics.UpdateAPIView):
    """GET one need (with its ETag). PATCH: change it; send If-Match with the ETag you read."""

    serializer_class = out.NeedSerializer
    loader = staticmethod(access.get_need)
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=inputs.NEED_CHANGE)
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().patch(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        need = access.get_need(request.user, kwargs["pk"], change=True)
        with transaction.atomic():
            need = locked(Need, need.pk, need.organization_id, lambda: access.get_need(request.user, need.pk))
            matching(request, etag_of(out.NeedSerializer(need).data))
            form = valid(NeedForm(filled(NeedForm(instance=need), request.data), instance=need))
            need = needs.need_update(by=request.user, need=form.instance)
        return _written(out.NeedSerializer, need)


@extend_schema(request=inputs.NEED_STATUS, responses=out.NeedSerializer)
@api_view(["POST"])
def need_status(request: Request, pk: int) -> Response:
    """Open, in progress, met or withdrawn (the allowed moves only: 409 otherwise)."""
    need = access.get_need(request.user, pk, change=True)
    _if_match_sent(request, out.NeedSerializer, need)
    form = valid(NeedStatusForm(form_data(request.data, NeedStatusForm())))
    needs.need_set_status(by=request.user, need=need, status=form.cleaned_data["status"])
    return _written(out.NeedSerializer, need)


# Referrals ----------------------------------------------------------------------------------------


class ReferralFilter(filters.FilterSet):
    class Meta:
        model = Referral
        fields = ["status", "need", "resource"]


class PersonReferrals(UnderPerson):
    serializer_class = out.ReferralSerializer
    filterset_class = ReferralFilter

    def get_queryset(self) -> QuerySet[Referral]:
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        return lists.referrals(self.request.user).filter(need__exoneree=self.person())


@extend_schema(request=inputs.REFERRAL_INPUT, responses={201: out.ReferralSerializer})
@api_view(["POST"])
def need_refer(request: Request, pk: int) -> Response:
    """A draft referral for this need (resource, note, categories it will share)."""
    need = access.get_need(request.user, pk, change=True)
    resources = resources_for_need(request.user, need)
    form = valid(ReferralForm(form_data(request.data, ReferralForm(resources=resources)), resources=resources))
    referral = referrals.referral_create(by=request.user, need=need, **form.cleaned_data)
    return _written(out.ReferralSerializer, referral, status=201)


class ReferralDetail(Detail):
    serializer_class = out.ReferralSerializer
    loader = staticmethod(access.get_referral)


@extend_schema(request=inputs.REFERRAL_TRANSITION, responses=out.ReferralSerializer)
@api_view(["POST"])
def referral_transition(request: Request, pk: int) -> Response:
    """Move a referral along its lifecycle. Sending needs the person's current consent for each
    category it shares (400, naming what is missing, otherwise); a status the lifecycle does not
    allow from the referral's current one is a 409, naming those it allows."""
    referral = access.get_referral(request.user, pk, change=True)
    _if_match_sent(request, out.ReferralSerializer, referral)
    body = form_data(request.data, ReferralTransitionForm(referral=referral))
    # The form offers only the moves allowed from here, and would call any other status "not one
    # of the available choices" (a 400); a real status the lifecycle forbids from this state is a
    # conflict with the record, as a need's move is (the action checks it again, under its lock).
    if body.get("status") in ReferralStatus.values:
        check_referral_transition(referral.status, body["status"])
    form = valid(ReferralTransitionForm(body, referral=referral))
    referral = referrals.referral_transition(by=request.user, referral=referral, **form.move())
    return _written(out.ReferralSerializer, access.get_referral(request.user, referral.pk))


# Follow-ups ---------------------------------------------------------------------------------------


class FollowUpFilter(filters.FilterSet):
    done = StrictBooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = FollowUp
        fields = ["assigned_to", "need", "referral"]


@extend_schema(request=inputs.FOLLOW_UP_INPUT)
class PersonFollowUps(UnderPerson, generics.CreateAPIView):
    """GET: the person's follow-ups. POST: a new one (title, due_at, assigned_to, need,
    referral, details, shared_with_exoneree); a `due_at` more than 30 days past is a 400, as
    on the page (a follow-up is still to do; a contact that happened is a note)."""

    serializer_class = out.FollowUpSerializer
    filterset_class = FollowUpFilter

    def selector(self, user: Any) -> QuerySet[FollowUp]:
        return lists.follow_ups(user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = access.get_exoneree(request.user, kwargs["pk"], change=True)
        form = valid(FollowUpForm(filled(FollowUpForm(exoneree=person), request.data), exoneree=person))
        follow_up = follow_ups.follow_up_save(by=request.user, exoneree=person, follow_up=form.instance)
        return _written(out.FollowUpSerializer, follow_up, status=201)


@extend_schema(
    request=inline_serializer(
        "FollowUpDoneAlreadyInput",
        {
            "title": serializers.CharField(help_text="What was done, e.g. “Drove him to the SSA office”."),
            "due_at": serializers.DateTimeField(
                required=False, help_text="When it was done: now if left out; a time still to come is a 400."
            ),
            "need": serializers.IntegerField(required=False, help_text="One of the person's needs."),
            "referral": serializers.IntegerField(required=False, help_text="One of the person's referrals."),
            "outcome": serializers.CharField(
                required=False, allow_blank=True, allow_null=True, help_text="What came of it."
            ),
            "shared_with_exoneree": serializers.BooleanField(
                required=False, help_text="They were there: show it on their plan (off if left out)."
            ),
        },
    ),
    responses={201: out.FollowUpSerializer},
)
@api_view(["POST"])
def person_follow_up_done_already(request: Request, pk: int) -> Response:
    """Record something already done for the person, as "+ Record something already done" on
    their page: a follow-up of theirs, yours, done when it happened, so never overdue and never
    reminded. A `due_at` still to come is a 400: that is a follow-up to schedule (POST follow-ups/)."""
    person = access.get_exoneree(request.user, pk, change=True)
    form = valid(
        FollowUpDoneAlreadyForm(filled(FollowUpDoneAlreadyForm(exoneree=person), request.data), exoneree=person)
    )
    follow_up = follow_ups.follow_up_record_done(by=request.user, exoneree=person, follow_up=form.instance)
    return _written(out.FollowUpSerializer, follow_up, status=201)


class FollowUpDetail(Detail):
    serializer_class = out.FollowUpSerializer
    loader = staticmethod(access.get_follow_up)


@extend_schema(request=inputs.FOLLOW_UP_DONE, responses=out.FollowUpSerializer)
@api_view(["POST"])
def follow_up_done(request: Request, pk: int) -> Response:
    """Mark done, with what happened (optional). Done twice is still done once."""
    follow_up = access.get_follow_up(request.user, pk, change=True)
    _if_match_sent(request, out.FollowUpSerializer, follow_up)
    form = valid(FollowUpDoneForm(form_data(request.data, FollowUpDoneForm())))
    follow_ups.follow_up_complete(by=request.user, follow_up=follow_up, outcome=form.cleaned_data["outcome"])
    return _written(out.FollowUpSerializer, follow_up)


@extend_schema(request=None, responses=out.FollowUpSerializer)
@api_view(["POST"])
def follow_up_reopen(request: Request, pk: int) -> Response:
    follow_up = access.get_follow_up(request.user, pk, change=True)
    _if_match_sent(request, out.FollowUpSerializer, follow_up)
    follow_ups.follow_up_reopen(by=request.user, follow_up=follow_up)
    return _written(out.FollowUpSerializer, follow_up)


# Notes and assessments ----------------------------------------------------------------------------


@extend_schema(request=inputs.NOTE_INPUT)
class PersonNotes(UnderPerson, generics.CreateAPIView):
    serializer_class = out.NoteSerializer

    def selector(self, user: Any) -> QuerySet[CaseNote]:
        return lists.notes(user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = access.get_exoneree(request.user, kwargs["pk"], change=True)
        form = valid(CaseNoteForm(filled(CaseNoteForm(), request.data)))
        note = casework.note_save(by=request.user, exoneree=person, note=form.instance)
        return _written(out.NoteSerializer, note, status=201)


class NoteDetail(Detail):
    serializer_class = out.NoteSerializer
    loader = staticmethod(access.get_note)


class PersonAssessments(UnderPerson):
    serializer_class = out.AssessmentSerializer

    def selector(self, user: Any) -> QuerySet[Assessment]:
        return lists.assessments(user)


class AssessmentDetail(Detail):
    serializer_class = out.AssessmentSerializer
    loader = staticmethod(access.get_assessment)


# Consents -----------------------------------------------------------------------------------------


class PersonConsents(UnderPerson):
    serializer_class = out.ConsentSerializer

    def selector(self, user: Any) -> QuerySet[Consent]:
        return lists.consents(user)


class ConsentDetail(Detail):
    serializer_class = out.ConsentSerializer
    loader = staticmethod(access.get_consent)


@extend_schema(request=None, responses=out.ConsentSerializer)
@api_view(["POST"])
def consent_revoke(request: Request, pk: int) -> Response:
    """Revoke on the person's word: open referrals that relied on it are flagged, their
    caseworkers told."""
    record = access.get_consent(request.user, pk, change=True)
    _if_match_sent(request, out.ConsentSerializer, record)
    consent.consent_revoke(by=request.user, consent=record, how=ConsentRevokedHow.STAFF)
    return _written(out.ConsentSerializer, access.get_consent(request.user, pk))


# The directory ------------------------------------------------------------------------------------


class ResourceFilter(filters.FilterSet):
    domain = filters.CharFilter(field_name="domain_rows__domain", distinct=True)

    class Meta:
        model = Resource
        fields = ["status", "city", "state", "provider"]


class ResourceList(generics.ListAPIView):
    serializer_class = out.ResourceSerializer
    filterset_class = ResourceFilter

    def get_queryset(self) -> QuerySet[Any]:
        return lists.resources(self.request.user)


class ResourceDetail(Detail):
    serializer_class = out.ResourceSerializer
    loader = staticmethod(access.get_resource)


class ProviderList(generics.ListAPIView):
    serializer_class = out.ProviderSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return lists.providers(self.request.user)


class ProviderDetail(Detail, generics.UpdateAPIView):
    """GET one provider (with its ETag). PATCH: change its language, the one its referral emails
    and its link's page are in (directors only); send If-Match with the ETag you read."""

    serializer_class = out.ProviderSerializer
    loader = staticmethod(access.get_provider)
    http_method_names = ["get", "patch", "head", "options"]
    writers = STAFF_ROLES  # past the gate, access.get_provider lets only a director change it

    @extend_schema(
        request=inline_serializer("ProviderLanguage", {"language": serializers.ChoiceField(choices=Language.choices)})
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().patch(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        provider = access.get_provider(request.user, kwargs["pk"], change=True)
        with transaction.atomic():
            provider = locked(
                Provider, provider.pk, provider.organization_id, lambda: access.get_provider(request.user, provider.pk)
            )
            matching(request, etag_of(out.ProviderSerializer(provider).data))
            form = valid(ProviderLanguageForm(form_data(request.data, ProviderLanguageForm())))
            provider = directory.provider_set_language(
                by=request.user, provider=provider, language=form.cleaned_data["language"]
            )
        return _written(out.ProviderSerializer, provider)


# Outcomes -----------------------------------------------------------------------------------------


@extend_schema(
    parameters=[
        OpenApiParameter("from", str, description="First day (YYYY-MM-DD)"),
        OpenApiParameter("to", str, description="Last day (YYYY-MM-DD)"),
        OpenApiParameter("caseworker", int),
        OpenApiParameter("domain", str),
    ],
    responses=out.OutcomesSerializer,
)
@api_view(["GET"])
def outcomes(request: Request) -> Response:
    """The outcome figures of the director's organization for a period (as the Outcomes page)."""
    if not access.is_director(request.user):
        raise PermissionDenied("The outcome figures are for directors.")
    organization = access.organization_of(request.user)
    caseworkers = access.caseworker_users(organization)
    data = {name: request.query_params.get(name, "") for name in ("from", "to", "caseworker", "domain")}
    form = valid(OutcomeFilterForm(data, caseworkers=caseworkers, today=timezone.localdate()))
    d = form.cleaned_data
    chosen = OutcomeFilters(start=d["from"], end=d["to"], caseworker=d["caseworker"], domain=d["domain"])
    people = access.exonerees_visible_to(request.user)
    figures = report.outcomes(organization, people, chosen, now=timezone.now())
    return Response(out.OutcomesSerializer({"start": chosen.start, "end": chosen.end, "figures": figures}).data)


@extend_schema(exclude=True)
@api_view(["GET"])
def root(request: Request) -> Response:
    """Where to start: the schema and the reference."""
    return Response(
        {
            "people": reverse("api:people", request=request),
            "resources": reverse("api:resources", request=request),
            "providers": reverse("api:providers", request=request),
            "outcomes": reverse("api:outcomes", request=request),
            "schema": reverse("api-schema", request=request),
            "docs": reverse("api-docs", request=request),
        }
    )


@extend_schema(exclude=True)
@api_view(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
def no_such_address(request: Request, rest: str) -> Response:
    """Any other address under /api/v1/ (`/api/v1/needs/abc/`, a negative id): a 404 in the API's
    own shape, past its token and role checks like every endpoint, where Django answered an HTML
    page a client cannot read. An address missing its last slash is told so (Django's redirect
    to it would lose a POST's body)."""
    if not request.path.endswith("/") and resolve(request.path + "/").url_name != "api-no-such-address":
        raise NotFound(f"Addresses of the API end with a slash: {request.path}/")
    raise NotFound("There is no such address in the API: see /api/docs/.")
