"""The sign-in backend: Django's ModelBackend, with a cheaper user load on every request.

Every page asks the same things of the signed-in user: their staff role and organization
(services.access.staff_of), their own exoneree record (own_exoneree_or_none) or their role of
the Network's analyst (analyst_of), whether they have a confirmed second-factor device
(needs_second_factor), and, on staff pages, how many notifications they have not read (the
header). `get_user` answers all of them in the query that loads the user, instead of one query
each; the functions that ask use these answers when they are there and query as before when
they are not (a user loaded any other way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Count, Exists, OuterRef, Q, Value
from django_otp import device_classes

from services.models.messages import Message
from services.models.network import NetworkAnalyst
from services.models.notifications import Notification
from services.models.organizations import StaffMember
from services.models.people import Exoneree

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

# Set on a user by get_user: whether they have a confirmed device, and their unread count.
HAS_DEVICE = "preloaded_has_second_factor"
UNREAD = "preloaded_unread_notifications"
UNREAD_MESSAGES = "preloaded_unread_messages"


def has_device(user: str = "pk") -> Q:
    """Whether the user (`user`: the path to them from the rows read) has a confirmed device."""
    confirmed = Q()
    for model in device_classes():
        confirmed |= Exists(model.objects.filter(user=OuterRef(user), confirmed=True))
    return confirmed


def invitation_taken_up() -> Q:
    """For users read: whether their account was taken up, as services.actions.staff's
    `has_chosen_a_password` asks of one (a usable password, a sign-in, or a second factor)."""
    return ~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX) | Q(last_login__isnull=False) | has_device()


def typed_username(username: Any) -> str:
    """A username as the sign-in form counts it: without the spaces around it, in small letters.
    Every username the app makes is in small letters (services.actions.staff.account_username);
    a phone or a caps lock that capitalizes the first letter is not a wrong username."""
    return str(username or "").strip().lower()


def account_named(username: str) -> Any:
    """The account a sign-in typed with this username is for, as UserBackend finds it: the
    exact username, or else the one in small letters (None when neither exists)."""
    if not username:
        return None
    accounts = get_user_model()._default_manager
    typed = typed_username(username)
    return accounts.filter(username=username).first() or (
        accounts.filter(username=typed).first() if typed != username else None
    )


class UserBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        """The account with exactly this username, or else the one with it in small letters
        (an account an administrator named with capitals still signs in as typed)."""
        user = super().authenticate(request, username=username, password=password, **kwargs)
        typed = typed_username(username)
        if user is None and username is not None and typed != username:
            user = super().authenticate(request, username=typed, password=password, **kwargs)
        return user

    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()
        confirmed = has_device()
        unread = (
            Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
            .order_by()
            .values("user")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # Messages not yet read (issue 19): a person's from their caseworkers, a caseworker's
        # from the people they carry; distinct, as the caseworkers' join repeats a message.
        unread_messages = (
            Message.objects.filter(
                Q(from_person=False, exoneree__user=OuterRef("pk"))
                | Q(from_person=True, exoneree__caseworkers=OuterRef("pk")),
                read_at__isnull=True,
            )
            .order_by()
            .annotate(one=Value(1))
            .values("one")
            .annotate(n=Count("pk", distinct=True))
            .values("n")
        )
        try:
            user = (
                User._default_manager.select_related("staff__organization", "exoneree__organization", "network_analyst")
                .annotate(**{HAS_DEVICE: confirmed, UNREAD: unread, UNREAD_MESSAGES: unread_messages})
                .get(pk=user_id)
            )
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def preloaded(user: Any, name: str) -> tuple[bool, Any]:
    """(True, value) when get_user loaded this one-to-one relation or annotation with the user."""
    if name in (HAS_DEVICE, UNREAD, UNREAD_MESSAGES):
        return (True, getattr(user, name)) if hasattr(user, name) else (False, None)
    descriptor = getattr(user.__class__, name, None)  # __class__: request.user may be a lazy proxy
    if descriptor is None or not hasattr(descriptor, "is_cached") or not descriptor.is_cached(user):
        return False, None
    return True, getattr(user, name, None)  # None: loaded, and there is none


def staff_of(user: AnyUser) -> StaffMember | None:
    """The user's active staff role, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, "_staff_cache"):
        loaded, staff = preloaded(user, "staff")
        if not loaded:
            staff = StaffMember.objects.select_related("organization").filter(user=user).first()
        user._staff_cache = staff
    return user._staff_cache


def analyst_of(user: AnyUser) -> NetworkAnalyst | None:
    """The user's role of the Network's analyst (services.models.network), cached on the user
    object for the request."""
    if not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, "_analyst_cache"):
        loaded, analyst = preloaded(user, "network_analyst")
        if not loaded:
            analyst = NetworkAnalyst.objects.filter(user=user).first()
        user._analyst_cache = analyst
    return user._analyst_cache


def reads_others(user: AnyUser) -> bool:
    """Staff and the Network's analysts: they read other people's records or figures, so they
    always owe the second step (services.second_factor) and their sessions end sooner when idle
    (services.access.idle_minutes)."""
    return staff_of(user) is not None or analyst_of(user) is not None


def own_exoneree_or_none(user: AnyUser) -> Exoneree | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, "_own_exoneree_cache"):
        loaded, exoneree = preloaded(user, "exoneree")
        if not loaded:
            exoneree = Exoneree.objects.select_related("organization").filter(user=user).first()
        user._own_exoneree_cache = exoneree
    return user._own_exoneree_cache
