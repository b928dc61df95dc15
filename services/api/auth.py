"""Who is calling: a personal access token (`Authorization: Bearer rnt_…`), or the browser's
signed-in session (with its CSRF token, and past the second step for staff)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from services.access import role_of
from services.actions.api_tokens import hash_key, token_used
from services.auth import staff_of
from services.choices import Role
from services.models.api import ApiToken

STAFF_ROLES = (Role.CASEWORKER, Role.DIRECTOR)
CASE_WRITERS = (Role.CASEWORKER,)


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header is 'Bearer <token>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = (
            ApiToken.objects.select_related("user__staff__organization")
            .filter(key_hash=hash_key(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        staff = staff_of(token.user) if token is not None else None
        # A token acts for its owner only while they still work at the organization it was made in.
        if token is None or not token.user.is_active or staff is None or staff.organization_id != token.organization_id:
            raise exceptions.AuthenticationFailed("The token is not valid, has expired or was revoked.")
        token_used(token)
        # OrganizationTimezoneMiddleware ran before DRF knew who this is (a token is read only
        # here): without this, a time sent without an offset was read in the site's zone, not
        # the organization's, as the pages and a signed-in session read it.
        timezone.activate(staff.organization.zone())
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class StaffOnly(permissions.BasePermission):
    """Caseworkers and directors read; only caseworkers write a case, as on the pages (whose gate
    answers a director's change with 403 before looking for the record), and the directory is
    the directors' (a view's `writers`, whose access helper says whose record it is); a session
    must have passed the second step; a read-only token may only read."""

    message = "The API is for caseworkers and directors."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        role = role_of(user)
        if role not in STAFF_ROLES:
            return False
        if request.method not in permissions.SAFE_METHODS and role not in getattr(view, "writers", CASE_WRITERS):
            self.message = "Changes to a case are made by a caseworker; a director reads."
            return False
        if isinstance(request.auth, ApiToken):
            if request.method not in permissions.SAFE_METHODS and not request.auth.can_write:
                self.message = "This token may only read: make one with the write scope."
                return False
            return True
        # The session: only one that passed the second step (django-otp marks the user verified).
        if not getattr(request._request.user, "is_verified", lambda: False)():
            self.message = "Sign in with your second step first."
            return False
        return True


class TokenScheme(OpenApiAuthenticationExtension):
    """How the schema describes the tokens."""

    target_class = TokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A personal access token: Account → API tokens."}
