"""Who may see and change what. Every view loads records through this module.

The rules:
- caseworker: the exonerees they hold an object permission on (granted when assigned,
  removed when reassigned), and everything under those exonerees; plus, read-only and
  until it expires, a person of their organization they opened by emergency access
  (break-the-glass, services.models.consent.EmergencyAccess); nothing else.
- director: every record of their own organization, read-only for case records; they
  manage caseloads, staff and the resource directory.
- a restricted person (issue 23: a victim-safety concern, a press-followed case): only their
  assigned caseworkers and the directors see them. No emergency grant opens them, no search
  (the intake's duplicate check, the emergency search) reveals them, and every opening of
  their record is told to the directors.
- exoneree: their own plan only, through `own_exoneree`.
- the Network's analyst (services.models.network): the Network's figures only, counts summed
  over the organizations that share them (`network_organizations`); no record, no page of an
  organization.
- anyone else (including a superuser without a staff role): nothing here; operators use
  the admin site.

A record that is not yours is a 404, so nobody learns that it exists; a record you may see
but not change is a 403.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from services import audit
from services.auth import analyst_of, own_exoneree_or_none, reads_others, staff_of
from services.choices import Role, TransferStatus
from services.lib.sql import joined_per_row
from services.lifecycle import REFERRAL_NOT_ON_PLAN
from services.models.api import ApiToken
from services.models.casework import Assessment, CaseNote
from services.models.consent import Consent, EmergencyAccess
from services.models.directory import HsdsImport, Provider, Resource, ResourceDomain, TaxonomyTerm
from services.models.documents import Document
from services.models.follow_ups import FollowUp
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem
from services.models.merges import Merge
from services.models.messages import Message
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree, ExonereeUserObjectPermission
from services.models.referrals import Referral
from services.models.transfers import Transfer
from services.second_factor import second_factor_redirect

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

M = TypeVar("M", bound=Model)

VIEW_EXONEREE = "view_exoneree"
CHANGE_EXONEREE = "change_exoneree"
CASEWORKER_PERMS = (VIEW_EXONEREE, CHANGE_EXONEREE)


ANALYST = "analyst"


def role_of(user: AnyUser) -> str | None:
    """'director', 'caseworker', 'exoneree', 'analyst' or None."""
    if staff := staff_of(user):
        return staff.role
    if user.is_authenticated and own_exoneree_or_none(user) is not None:
        return "exoneree"
    if analyst_of(user) is not None:
        return ANALYST
    return None


def organization_of(user: AnyUser) -> Organization:
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied
    return staff.organization


def own_exoneree(user: AnyUser) -> Exoneree:
    """The exoneree record linked to this login; 403 for anybody else."""
    exoneree = own_exoneree_or_none(user)
    if exoneree is None:
        raise PermissionDenied
    return exoneree


# Decorators: the gate every view starts with. They answer 403 (the page exists but is not
# for your role); the object loaders below answer 404 for records not yours. Every gate
# checks the second factor first, so no page behind one is reachable on a password alone.


def _gate(view: Callable[..., HttpResponse], roles: tuple[str, ...] | None) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if (redirect := second_factor_redirect(request)) is not None:
            return redirect
        if roles is not None and role_of(request.user) not in roles:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        return _gate(view, roles)

    return decorator


def signed_in_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any role, or none (home, account pages): signed in, with the second factor if owed."""
    return _gate(view, None)


staff_required = _role_required(Role.CASEWORKER, Role.DIRECTOR)
caseworker_required = _role_required(Role.CASEWORKER)
director_required = _role_required(Role.DIRECTOR)
exoneree_required = _role_required("exoneree")
analyst_required = _role_required(ANALYST)


def idle_minutes(user: AnyUser) -> int:
    """How long the user's session may stay idle: staff and analysts read other people's
    records or figures, so theirs ends sooner than an exoneree's."""
    return settings.SESSION_IDLE_MINUTES_STAFF if reads_others(user) else settings.SESSION_IDLE_MINUTES_EXONEREE


def network_organizations(user: AnyUser) -> QuerySet[Organization]:
    """The organizations whose kept counts the Network's figures sum: those whose director
    chose to share them, for an analyst; none for anyone else."""
    if analyst_of(user) is None:
        return Organization.objects.none()
    return Organization.objects.filter(shares_network_figures=True)


# Exonerees and everything under them.


def exonerees_visible_to(user: AnyUser) -> QuerySet[Exoneree]:
    """One query: the exonerees this user may see."""
    staff = staff_of(user)
    if staff is None:
        return Exoneree.objects.none()
    # A duplicate merged into another record is nobody's to open (services/actions/merges.py).
    in_org = Exoneree.objects.current().filter(organization_id=staff.organization_id)
    if staff.role == Role.DIRECTOR:
        return in_org
    # The grants on the direct foreign-key permission table (only an explicit grant on the
    # row counts: no global permissions, no superuser shortcut), or an emergency grant that
    # has not expired (break-the-glass: read-only, since only the change permission, which
    # a grant never gives, lets anyone write). One IN over a UNION, so the database starts
    # from the user's few grants rather than testing every row of the organization.
    assigned = ExonereeUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename=VIEW_EXONEREE,
        permission__content_type=ContentType.objects.get_for_model(Exoneree),
    ).values("content_object_id")
    # A restricted person is seen by their assigned caseworkers only: no grant opens them.
    emergency = active_emergency_grants(user).filter(exoneree__restricted=False).order_by().values("exoneree_id")
    return in_org.filter(pk__in=assigned.union(emergency))


def exonerees_findable_by(user: AnyUser) -> QuerySet[Exoneree]:
    """The people of the user's organization whose existence a search may reveal to them (the
    intake's duplicate check, the emergency search): everyone but a restricted person they do
    not see, for whom such a search finds nothing at all."""
    staff = staff_of(user)
    if staff is None:
        return Exoneree.objects.none()
    in_org = Exoneree.objects.current().filter(organization_id=staff.organization_id)
    return in_org.filter(Q(restricted=False) | Q(pk__in=exonerees_visible_to(user).values("pk")))


def active_emergency_grants(user: AnyUser) -> QuerySet[EmergencyAccess]:
    return EmergencyAccess.objects.filter(user_id=user.pk, expires_at__gt=timezone.now())


def can_change_exoneree(user: AnyUser, exoneree: Exoneree) -> bool:
    """Only an assigned caseworker changes case records; a director reads them."""
    staff = staff_of(user)
    if staff is None or staff.role != Role.CASEWORKER or staff.organization_id != exoneree.organization_id:
        return False
    if getattr(exoneree, "change_permission_of", None) == user.pk:  # asked with the record (get_exoneree)
        return exoneree.has_change_permission
    return exoneree.user_permissions.filter(user=user, permission__codename=CHANGE_EXONEREE).exists()


def _with_change_permission(queryset: QuerySet[Exoneree], user: AnyUser) -> QuerySet[Exoneree]:
    """Whether `user` holds the change permission on each row, in the query that loads it."""
    granted = ExonereeUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user_id=user.pk, permission__codename=CHANGE_EXONEREE
    )
    return queryset.annotate(has_change_permission=Exists(granted), change_permission_of=Value(user.pk))


def get_exoneree_for_emergency(user: AnyUser, pk: int) -> Exoneree:
    """The record a caseworker's emergency request matched: their own organization only.

    Not logged as an opening here: the grant that follows is the entry (and the opening
    after it is logged as usual)."""
    staff = staff_of(user)
    if staff is None or staff.role != Role.CASEWORKER:
        raise PermissionDenied
    return get_object_or_404(Exoneree.objects.current(), pk=pk, organization_id=staff.organization_id, restricted=False)


def get_exoneree(user: AnyUser, pk: int, *, change: bool = False, annotate: dict[str, Any] | None = None) -> Exoneree:
    """The person `pk`, if the user may see them (and change them, with `change`); logged.

    `annotate`: expressions the page wants loaded with the record (saves it a query)."""
    queryset = exonerees_visible_to(user).select_related("organization", "user").annotate(**(annotate or {}))
    if (staff := staff_of(user)) is not None and staff.role == Role.CASEWORKER:
        queryset = _with_change_permission(queryset, user)
    exoneree = get_object_or_404(queryset, pk=pk)
    if change and not can_change_exoneree(user, exoneree):
        raise PermissionDenied
    _opened(user, exoneree)
    return exoneree


def _opened(user: AnyUser, exoneree: Exoneree, target: Model | None = None) -> None:
    """Log the opening (once per request); a restricted record's opening is also told to the
    organization's directors (but the one opening it): who, never what is in the record."""
    if audit.record_view(user, exoneree, target) and exoneree.restricted:
        _tell_directors_restricted_opened(user, exoneree)


def _tell_directors_restricted_opened(user: AnyUser, exoneree: Exoneree) -> None:
    who = user.get_full_name() or user.get_username()
    directors = StaffMember.objects.filter(
        organization_id=exoneree.organization_id, role=Role.DIRECTOR, user__is_active=True
    ).exclude(user_id=user.pk)
    url = reverse("exoneree_access_log", args=[exoneree.pk])
    Notification.objects.bulk_create(
        [
            Notification(user_id=director, text=f"{who} opened a restricted record.", url=url)
            for director in directors.values_list("user_id", flat=True)
        ]
    )


def _get_under_exoneree(user: AnyUser, queryset: QuerySet[M], path: str, pk: int, *, change: bool) -> M:
    """A record that belongs to an exoneree, found only among the exonerees the user sees."""
    visible = exonerees_visible_to(user)
    obj = get_object_or_404(queryset.filter(**{f"{path}__in": visible}), pk=pk)
    exoneree = obj
    for part in path.split("__"):
        exoneree = getattr(exoneree, part)
    if change and not can_change_exoneree(user, exoneree):
        raise PermissionDenied
    _opened(user, exoneree, obj)
    return obj


def get_need(user: AnyUser, pk: int, *, change: bool = False) -> Need:
    return _get_under_exoneree(user, Need.objects.select_related("exoneree"), "exoneree", pk, change=change)


def get_referral(user: AnyUser, pk: int, *, change: bool = False) -> Referral:
    queryset = Referral.objects.select_related("need__exoneree", "resource__provider", "created_by")
    return _get_under_exoneree(user, queryset, "need__exoneree", pk, change=change)


def get_follow_up(user: AnyUser, pk: int, *, change: bool = False) -> FollowUp:
    queryset = FollowUp.objects.select_related("exoneree", "assigned_to", "need", "referral")
    return _get_under_exoneree(user, queryset, "exoneree", pk, change=change)


def get_note(user: AnyUser, pk: int, *, change: bool = False) -> CaseNote:
    note = _get_under_exoneree(user, CaseNote.objects.select_related("exoneree"), "exoneree", pk, change=change)
    # A note is its author's words: colleagues may read it, only the author rewrites it.
    if change and note.author_id != user.pk:
        raise PermissionDenied
    return note


def get_assessment(user: AnyUser, pk: int, *, change: bool = False) -> Assessment:
    queryset = Assessment.objects.select_related("exoneree", "taken_by")
    return _get_under_exoneree(user, queryset, "exoneree", pk, change=change)


def get_message(user: AnyUser, pk: int, *, change: bool = False) -> Message:
    """A message of a person's conversation, for staff who may see (or, with `change`, act
    for) that person; a person reaches only their own thread, through `own_exoneree`."""
    return _get_under_exoneree(user, Message.objects.select_related("exoneree"), "exoneree", pk, change=change)


def get_consent(user: AnyUser, pk: int, *, change: bool = False) -> Consent:
    queryset = Consent.objects.select_related("exoneree", "provider")
    return _get_under_exoneree(user, queryset, "exoneree", pk, change=change)


def get_claim(user: AnyUser, pk: int, *, change: bool = False) -> CompensationClaim:
    queryset = CompensationClaim.objects.select_related("exoneree__organization")
    return _get_under_exoneree(user, queryset, "exoneree", pk, change=change)


def get_payment(user: AnyUser, pk: int, *, change: bool = False) -> ClaimPayment:
    queryset = ClaimPayment.objects.select_related("claim__exoneree")
    return _get_under_exoneree(user, queryset, "claim__exoneree", pk, change=change)


def get_certificate(user: AnyUser, pk: int, *, change: bool = False) -> InnocenceCertificate:
    queryset = InnocenceCertificate.objects.select_related("exoneree")
    return _get_under_exoneree(user, queryset, "exoneree", pk, change=change)


def get_legal_item(user: AnyUser, pk: int, *, change: bool = False) -> LegalItem:
    return _get_under_exoneree(user, LegalItem.objects.select_related("exoneree"), "exoneree", pk, change=change)


def get_own_consent(user: AnyUser, pk: int) -> Consent:
    """One of the signed-in exoneree's own consents; anybody else's is a 404."""
    exoneree = own_exoneree(user)
    return get_object_or_404(Consent.objects.select_related("exoneree", "provider"), pk=pk, exoneree=exoneree)


def get_own_referral(user: AnyUser, pk: int) -> Referral:
    """A referral on the signed-in exoneree's own plan (sent, never a draft or a cancelled
    one: those are not on their plan); anybody else's is a 404."""
    exoneree = own_exoneree(user)
    queryset = Referral.objects.select_related("need__exoneree", "resource__provider").exclude(
        status__in=REFERRAL_NOT_ON_PLAN
    )
    return get_object_or_404(queryset, pk=pk, need__exoneree=exoneree)


def get_merge(user: AnyUser, pk: int) -> Merge:
    """A merge of two records of the director's own organization (to undo it)."""
    if not is_director(user):
        raise PermissionDenied
    queryset = Merge.objects.filter(organization_id=organization_of(user).pk).select_related("kept", "duplicate")
    return get_object_or_404(queryset, pk=pk)


# Transfers to another organization (issue 23): proposed by whoever may change the person (or
# their director); answered by the receiving organization's director only.


def get_exoneree_to_transfer(user: AnyUser, pk: int) -> Exoneree:
    exoneree = get_exoneree(user, pk)
    if not is_director(user) and not can_change_exoneree(user, exoneree):
        raise PermissionDenied
    return exoneree


def transfers_to_answer(user: AnyUser) -> QuerySet[Transfer]:
    """The pending transfers addressed to the director's organization (the person's name only)."""
    if not is_director(user):
        return Transfer.objects.none()
    return (
        Transfer.objects.filter(to_organization_id=organization_of(user).pk, status=TransferStatus.PENDING)
        .select_related("exoneree", "from_organization", "proposed_by")
        .only(
            "parts",
            "proposed_at",
            "to_organization_id",
            "exoneree__organization_id",
            "exoneree__legal_name",
            "exoneree__preferred_name",
            "from_organization__name",
            "proposed_by__first_name",
            "proposed_by__last_name",
            "proposed_by__username",
        )
    )


def get_transfer_to_answer(user: AnyUser, pk: int) -> Transfer:
    if not is_director(user):
        raise PermissionDenied
    return get_object_or_404(transfers_to_answer(user), pk=pk)


# A person's papers. Not logged as an opening when read: each download is one entry of its
# own (services.actions.documents.document_download), which the person sees.
DOCUMENT_SECRETS = ("data_key",)  # decrypted only by the download


def get_document(user: AnyUser, pk: int, *, change: bool = False) -> Document:
    """A document (not deleted; an earlier version too) of a person the user sees; `replaced`:
    whether a newer version has replaced it, read in the same query."""
    queryset = Document.objects.filter(exoneree__in=exonerees_visible_to(user), deleted_at__isnull=True)
    queryset = queryset.annotate(replaced=Exists(Document.objects.filter(replaces=OuterRef("pk"))))
    document = get_object_or_404(queryset.select_related("exoneree").defer(*DOCUMENT_SECRETS), pk=pk)
    if change:
        if not can_change_exoneree(user, document.exoneree):
            raise PermissionDenied
        _opened(user, document.exoneree, document)  # the replace form shows the record
    elif document.exoneree.restricted:  # a download (logged as one): a restricted record's opening
        _tell_directors_restricted_opened(user, document.exoneree)
    return document


def get_own_document(user: AnyUser, pk: int) -> Document:
    """A current document on the signed-in exoneree's own plan; anybody else's is a 404."""
    exoneree = own_exoneree(user)
    queryset = Document.objects.current().filter(exoneree=exoneree, shown_on_plan=True).defer(*DOCUMENT_SECRETS)
    return get_object_or_404(queryset, pk=pk)


def get_own_appointment(user: AnyUser, pk: int) -> FollowUp:
    """An open appointment on the signed-in exoneree's own plan (shared with them, not done);
    a staff task, a done one or anybody else's is a 404."""
    exoneree = own_exoneree(user)
    queryset = FollowUp.objects.select_related("exoneree__organization")
    return get_object_or_404(queryset, pk=pk, exoneree=exoneree, shared_with_exoneree=True, done_at__isnull=True)


def emergency_grants_visible_to(user: AnyUser) -> QuerySet[EmergencyAccess]:
    """A director sees the emergency accesses to their organization's records."""
    if not is_director(user):
        return EmergencyAccess.objects.none()
    return EmergencyAccess.objects.filter(exoneree__organization_id=organization_of(user).pk).select_related(
        "user", "exoneree", "reviewed_by"
    )


def get_emergency_grant(user: AnyUser, pk: int) -> EmergencyAccess:
    if not is_director(user):
        raise PermissionDenied
    return get_object_or_404(emergency_grants_visible_to(user), pk=pk)


def get_emergency_grant_to_end(user: AnyUser, pk: int) -> EmergencyAccess:
    """A grant its holder may end early, or a director of the record's organization."""
    staff = staff_of(user)
    if staff is None:
        raise PermissionDenied
    grants = EmergencyAccess.objects.filter(exoneree__organization_id=staff.organization_id)
    if staff.role != Role.DIRECTOR:
        grants = grants.filter(user_id=user.pk)
    return get_object_or_404(grants.select_related("user", "exoneree"), pk=pk)


# The resource directory: shared by the staff of one organization, managed by directors.


def resources_visible_to(user: AnyUser) -> QuerySet[Resource]:
    staff = staff_of(user)
    if staff is None:
        return Resource.objects.none()
    return Resource.objects.filter(organization_id=staff.organization_id)


def get_resource(user: AnyUser, pk: int, *, change: bool = False) -> Resource:
    resource = get_object_or_404(resources_visible_to(user).select_related("provider"), pk=pk)
    if change and not is_director(user):
        raise PermissionDenied
    return resource


def providers_visible_to(user: AnyUser) -> QuerySet[Provider]:
    staff = staff_of(user)
    if staff is None:
        return Provider.objects.none()
    return Provider.objects.filter(organization_id=staff.organization_id)


def get_provider(user: AnyUser, pk: int, *, change: bool = False) -> Provider:
    provider = get_object_or_404(providers_visible_to(user), pk=pk)
    if change and not is_director(user):
        raise PermissionDenied
    return provider


# The directory in HSDS (services/views/hsds.py, hsds_api.py): read by the organization's staff
# under its HSDS ids; imported, mapped and exported by its directors.


def resources_with_domains(user: AnyUser) -> QuerySet[Resource]:
    """The user's organization's resources, with their provider and the need domains each
    serves (`domains`, joined by commas) in the same query."""
    domains = joined_per_row(ResourceDomain.objects.all(), "resource", "domain", ",")
    return resources_visible_to(user).select_related("provider").annotate(domains=domains)


def get_resource_by_hsds_id(user: AnyUser, hsds_id: str) -> Resource:
    return get_object_or_404(resources_with_domains(user), hsds_id=hsds_id)


def get_provider_by_hsds_id(user: AnyUser, hsds_id: str) -> Provider:
    return get_object_or_404(providers_visible_to(user), hsds_id=hsds_id)


def taxonomy_terms_visible_to(user: AnyUser) -> QuerySet[TaxonomyTerm]:
    if not is_director(user):
        return TaxonomyTerm.objects.none()
    return TaxonomyTerm.objects.filter(organization_id=organization_of(user).pk)


def get_hsds_import(user: AnyUser, pk: int) -> HsdsImport:
    """An upload waiting for its director's confirm: their organization's only."""
    if not is_director(user):
        raise PermissionDenied
    queryset = HsdsImport.objects.filter(organization_id=organization_of(user).pk, applied_at__isnull=True)
    return get_object_or_404(queryset, pk=pk)


# Retention (issue 23): a director reviews the closed cases of their own organization.


def get_closed_case(user: AnyUser, pk: int) -> Exoneree:
    """A closed, not yet de-identified case of the director's organization; 404 otherwise."""
    if not is_director(user):
        raise PermissionDenied
    closed = Exoneree.objects.filter(
        organization_id=organization_of(user).pk, case_closed_on__isnull=False, deidentified_at__isnull=True
    )
    return get_object_or_404(closed.select_related("organization"), pk=pk)


# Staff management: a director manages the staff of their own organization.


def is_director(user: AnyUser) -> bool:
    staff = staff_of(user)
    return staff is not None and staff.role == Role.DIRECTOR


def staff_visible_to(user: AnyUser) -> QuerySet[StaffMember]:
    staff = staff_of(user)
    if staff is None:
        return StaffMember.objects.none()
    return StaffMember.objects.filter(organization_id=staff.organization_id).select_related("user")


def get_staff_member(user: AnyUser, pk: int) -> StaffMember:
    if not is_director(user):
        raise PermissionDenied
    return get_object_or_404(staff_visible_to(user), pk=pk)


def caseworker_accounts(organization: Organization | int | None) -> QuerySet[Any]:
    """Every caseworker's user account of an organization (or its id), switched off too (they
    may still carry people, to be moved), by name."""
    return (
        get_user_model()
        .objects.filter(staff__organization=organization, staff__role=Role.CASEWORKER)
        .order_by("first_name", "last_name", "pk")
    )


def caseworker_users(organization: Organization) -> QuerySet[Any]:
    """The active caseworkers' user accounts of an organization, by name."""
    return caseworker_accounts(organization).filter(is_active=True)


def get_caseworker(user: AnyUser, pk: int) -> Any:
    """A caseworker's account in the director's own organization, switched off too (their
    people are moved after); 404 for anyone else."""
    return get_object_or_404(caseworker_accounts(organization_of(user)), pk=pk)


def get_notification(user: AnyUser, pk: int) -> Notification:
    """A notification is only ever its recipient's: anyone else gets a 404."""
    return get_object_or_404(Notification, pk=pk, user_id=user.pk)


# API tokens: each staff member sees and revokes their own; a director, every token of their
# organization.


def api_tokens_visible_to(user: AnyUser) -> QuerySet[ApiToken]:
    staff = staff_of(user)
    if staff is None:
        return ApiToken.objects.none()
    tokens = ApiToken.objects.filter(organization_id=staff.organization_id).select_related("user", "revoked_by")
    return tokens if staff.role == Role.DIRECTOR else tokens.filter(user_id=user.pk)


def get_api_token(user: AnyUser, pk: int) -> ApiToken:
    return get_object_or_404(api_tokens_visible_to(user), pk=pk)
