"""Print the current two-step sign-in code of a demo staff account: `manage.py demo_code director1`.

For `make run` without an authenticator app at hand. It only knows the fixed demo secrets
that seed_demo sets, and refuses to run with DEBUG off.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp

from services.demo import demo_data, demo_totp_key


class Command(BaseCommand):
    help = "Print the current sign-in code of a demo staff account (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", choices=[member.username for member in demo_data().staff])

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code runs only with DEBUG on: it exists for the demo accounts.")
        code = totp(bytes.fromhex(demo_totp_key(options["username"])))
        left = 30 - int(time.time()) % 30
        self.stdout.write(f"{code:06d}")
        self.stderr.write(f"(valid for about {left} more seconds)")
