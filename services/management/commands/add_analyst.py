"""Give someone the Network's analyst role: `manage.py add_analyst USERNAME EMAIL [--first-name
--last-name]`, or take it away with `--remove`. Operators only: no page makes an analyst.

The account is made with no usable password. The command prints a set-password link (as a
staff invitation's, valid for INVITATION_LINK_SECONDS, dead once used) for the operator to
hand over; no password is ever made, printed or emailed. After choosing one, the analyst
enrols a second factor at their first sign-in, as staff do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.actions.network import analyst_add, analyst_remove
from services.lib.links import invitation_link


class Command(BaseCommand):
    help = "Make an account the Network's analyst (the Network's figures only), or --remove the role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="what they will sign in with (kept in small letters)")
        parser.add_argument("email", nargs="?", default="", help="their email address (not needed with --remove)")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--remove", action="store_true", help="take the analyst role away (the account stays)")

    def handle(self, *args: Any, username: str, email: str, remove: bool, **options: Any) -> None:
        if remove:
            if not analyst_remove(username=username):
                raise CommandError(f"{username} is not an analyst.")
            self.stdout.write(f"{username} is no longer an analyst: the Network's figures are closed to them.")
            return
        if not email:
            raise CommandError("Give their email address after the username.")
        try:
            user = analyst_add(
                username=username, email=email, first_name=options["first_name"], last_name=options["last_name"]
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if user.has_usable_password():
            self.stdout.write(f"{user.get_username()} is an analyst; they sign in with their own password.")
            return
        hours = settings.PASSWORD_RESET_TIMEOUT // 3600
        self.stdout.write(
            f"{user.get_username()} is an analyst. Send them this link to choose their password (it works once, "
            f"for {hours} hours; run the command again for a new one), then they set up a sign-in code:\n"
            f"{invitation_link(user)}"
        )
