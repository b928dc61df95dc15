"""Set up a member organization joining Reentry, with its first director:
`manage.py add_organization NAME HANDLE EMAIL [--timezone America/Chicago] [--code pir]
[--first-name --last-name]`. Operators only: no page makes an organization.

The director's account is `HANDLE@<code>`, made with no usable password. The command prints a
set-password link (as a staff invitation's, valid for INVITATION_LINK_SECONDS, dead once used)
for the operator to hand over; no password is ever made, printed or emailed. After choosing one,
the director enrols a second factor at their first sign-in, then adds their staff and loads
their resource directory from the app. Run again with the same names for a new link, or with
another handle to give an existing organization another director.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.actions.organizations import organization_add_director
from services.lib.links import invitation_link


class Command(BaseCommand):
    help = "Set up an organization and its first director (or add a director to one), printing their invitation link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the organization's name, as its staff and the people it serves know it")
        parser.add_argument("handle", help="the director's username before @<code> (kept in small letters)")
        parser.add_argument("email", help="the director's email address (for their password resets)")
        parser.add_argument("--timezone", default="", help="where the organization works, like America/Chicago")
        parser.add_argument("--code", default="", help="the usernames' ending (else the name's initials)")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, name: str, handle: str, email: str, **options: Any) -> None:
        try:
            member = organization_add_director(
                name=name,
                handle=handle,
                email=email,
                timezone=options["timezone"],
                code=options["code"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        organization, user = member.organization, member.user
        hours = settings.PASSWORD_RESET_TIMEOUT // 3600
        self.stdout.write(
            f"{organization.name} (usernames end @{organization.code}, times in {organization.timezone}): "
            f"{user.get_username()} is its director.\n"
            f"Send them this link to choose their password (it works once, for {hours} hours; run the command "
            f"again for a new one). They then set up a sign-in code, add their staff under Staff and load "
            f"their resource directory under Resources:\n"
            f"{invitation_link(user)}"
        )
