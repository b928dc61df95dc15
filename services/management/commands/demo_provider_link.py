"""Open the provider's side of a demo referral: `manage.py demo_provider_link` lists the demo's
referrals that are with their provider, `manage.py demo_provider_link 12` prints a new link to
referral 12's provider page.

A provider answers from a link in the email the referral sends; only the link's hash is stored,
so without a mailbox (`make run` prints emails in the worker's output, among everything else)
the demo had no plain way to that page. DEBUG only, and only for the demo's organizations. The
new link is issued as an email's would be (services.referral_reminders.link_issue): the newest
three of a referral's links work at once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from services.demo import demo_data
from services.lifecycle import WITH_PROVIDER
from services.models.referrals import Referral
from services.referral_reminders import link_issue
from services.selectors import coverage


class Command(BaseCommand):
    help = "List the demo's referrals with their provider, or print a provider's link to one (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("referral", nargs="?", type=int, help="the referral's number, as the list shows it")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_provider_link runs only with DEBUG on: it exists for the demo.")
        referrals = (
            Referral.objects.filter(
                organization__name__in=[org.name for org in demo_data().organizations], status__in=WITH_PROVIDER
            )
            .select_related("resource__provider", "need__exoneree", "organization")
            .order_by("pk")
        )
        if options["referral"] is None:
            for referral in referrals:
                self.stdout.write(
                    f"{referral.pk:>5}  {referral.get_status_display():<12} {referral.resource.provider.name}"
                    f" ({referral.organization.name})"
                )
            self.stderr.write("Then: manage.py demo_provider_link <number> prints a link to that provider's page.")
            return
        referral = referrals.filter(pk=options["referral"]).first()
        if referral is None:
            raise CommandError("No demo referral with that number is with its provider: run it without one for a list.")
        if missing := coverage.consent_missing(referral):
            raise CommandError(
                f"The person's consent does not cover what referral {referral.pk} shares ({', '.join(missing)}):"
                " its provider's page would not open."
            )
        with transaction.atomic():
            token, _ = link_issue(referral, now=timezone.now(), replace=False)
        self.stdout.write(settings.SITE_URL + reverse("provider_referral", args=[token]))
