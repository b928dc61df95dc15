"""Let a locked-out username sign in again now: `manage.py unlock_sign_in USERNAME`.

The operator's unlock, as a director's on the Staff page: django-axes' lockout of the username
from every address, and django-otp's wait on the account's authenticator and backup codes after
wrong codes. axes' own `axes_reset_username` lifts only the first: the person then got in with
the password, only to be kept waiting at the code. Any account (an exoneree's too), or a
username with no account. In the access log, as the director's unlock is.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from services import audit
from services.auth import account_named, typed_username
from services.models.audit import AuditEvent
from services.signin import sign_in_unlock


class Command(BaseCommand):
    help = "Lift a username's sign-in lockout from every address, and the wait after wrong sign-in codes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="as the person types it (capitals and spaces around it do not matter)")

    @transaction.atomic
    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if not typed_username(username):
            raise CommandError("Give the username to unlock.")
        user = account_named(username)
        removed = sign_in_unlock(username=username, user=user)
        named = user.get_username() if user is not None else typed_username(username)
        audit.record(
            AuditEvent.Action.PERMISSION_CHANGED,
            target=f"Sign-in of {named}",
            changes={"sign_in_lockout": ["locked", "unlocked"], "by": "manage.py unlock_sign_in"},
        )
        account = "" if user is not None else " (no account has this username)"
        self.stdout.write(f"{named} can sign in again{account}: {removed} lockout record(s) removed.")
