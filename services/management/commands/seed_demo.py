"""Demo data for trying Reentry locally: `python manage.py seed_demo [--password P]`.

Writes what services/data/demo.yaml describes (read and checked by services.demo): two
organizations, their directors and caseworkers, seven exonerees with a case history each
(needs, referrals with their events, follow-ups and the check-ins after release, notes,
assessments) and a resource directory of 30+ services per organization, with the other
organization in it as a linked member organization (and one person's consent to be
transferred there, so a transfer can be tried).
Every date is relative to today, so the demo always looks current.

Idempotent: organizations, users and exonerees are looked up by a stable key (name,
username, organization + legal name) and only what is missing is created; a case history is
written only for an exoneree that has none yet. Every run sets one password on all demo
accounts: the one given with --password, or a freshly generated one that is printed.

The only people named anywhere are the seven exonerees; staff accounts are named after their
role ("Caseworker One"), and providers and services carry organization names. Phone numbers
are in the fictional 555-01xx range, SSNs in the never-issued 900-999 area, emails at
example.org.

It refuses to run with DEBUG off: it creates accounts with a shared, printed password.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from services import outcome_counts
from services.actions import casework, enrolment, people, provider_answers, referrals, release_checks
from services.actions import consent as consent_actions
from services.actions import directory as directory_actions
from services.actions import follow_ups as follow_ups_actions
from services.actions import legal as legal_actions
from services.actions import needs as needs_actions
from services.choices import ConsentSignedHow, ReferralStatus, ReminderKind, ReminderStatus, Role
from services.demo import (
    DEMO_DEVICE_NAME,
    Demo,
    ExonereeSpec,
    OrgSpec,
    ReferralSpec,
    demo_data,
    demo_totp_key,
    demo_totp_secret,
)
from services.models.casework import Assessment, CaseNote
from services.models.consent import Consent, ConsentCategoryRow
from services.models.directory import Provider, Resource
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim, RecordClearance
from services.models.needs import Need
from services.models.notifications import Reminder
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral, ReferralEvent
from services.reminder_plans import reminders_plan_for_exoneree
from services.selectors import coverage

User = get_user_model()
EMAIL_DOMAIN = "example.org"
DEMO_REMINDER_TITLE = "Demo: call to confirm the housing appointment"

# Which statuses a referral passes through to end in each one (services.lifecycle allows these).
S = ReferralStatus
REFERRAL_PATHS = {
    S.DRAFT: (),
    S.SENT: (S.SENT,),
    S.ACCEPTED: (S.SENT, S.ACCEPTED),
    S.DECLINED: (S.SENT, S.DECLINED),
    S.IN_PROGRESS: (S.SENT, S.ACCEPTED, S.IN_PROGRESS),
    S.COMPLETED: (S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED),
    S.UNRESOLVED: (S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.UNRESOLVED),
    S.CANCELLED: (S.SENT, S.CANCELLED),
}


class Command(BaseCommand):
    help = "Create (or refresh) demo organizations, accounts, cases and resources. DEBUG only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default="",
            help="Password for every demo account (default: a new random one, printed at the end).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo refuses to run with DEBUG off: it creates accounts that share a known "
                "password. Run it only on a development machine (DEBUG=1)."
            )
        given = options["password"] or ""
        password = given or self.kept_password()
        if given:
            try:
                validate_password(given)
            except ValidationError as exc:
                self.stderr.write(self.style.WARNING("Warning: weak demo password: " + " ".join(exc.messages)))

        demo = demo_data()
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.created: dict[str, int] = {}
        with transaction.atomic():
            existed = User.objects.filter(username__in=demo.usernames()).exists()
            orgs = self.orgs = {spec.key: self.organization(spec) for spec in demo.organizations}
            # The demo writes rows directly too (back-dated), so each organization is counted once
            # at the end, not by every tracked action before and after.
            with outcome_counts.recounted_afterwards(orgs.values()):
                users = self.staff(demo, orgs)
                directors = {s.organization: users[s.username] for s in demo.staff if s.role == Role.DIRECTOR}
                for spec in demo.organizations:
                    self.directory(demo, spec, orgs[spec.key], directors[spec.key])
                for link in demo.member_providers:
                    self.member_provider(orgs[link.organization], orgs[link.member])
                for case in demo.exonerees:
                    spec, org = demo.organization(case.organization), orgs[case.organization]
                    exoneree_user = self.case(case, spec, org, directors[spec.key], users[case.caseworker])
                    if exoneree_user is not None:
                        users[case.username] = exoneree_user
                self.demo_reminder(users["caseworker1"])
                self.demo_provider_notice(users["caseworker1"])
            # One hash for all accounts: they share the password anyway, and hashing is slow.
            hashed = make_password(password)
            for user in users.values():
                user.password = hashed
                user.is_active = True
                user.save(update_fields=["password", "is_active"])

        self.report(demo, orgs, users, password=password, given=bool(given), existed=existed)

    def kept_password(self) -> str:
        """The password generated on an earlier run (DEMO_PASSWORD_FILE), or a new one kept
        there: a restart of `make run` must not change everyone's password."""
        path = Path(settings.DEMO_PASSWORD_FILE)
        if path.exists() and (kept := path.read_text().strip()):
            return kept
        path.parent.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(12)
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password

    # Organizations and staff.

    def organization(self, spec: OrgSpec) -> Organization:
        org, created = Organization.objects.get_or_create(name=spec.name, defaults={"timezone": spec.timezone})
        self.count("organizations", created)
        return org

    def staff(self, demo: Demo, orgs: dict[str, Organization]) -> dict[str, Any]:
        users = {}
        for number, member in enumerate(demo.staff):
            user, created = User.objects.get_or_create(
                username=member.username,
                defaults={
                    "email": f"{member.username}@{EMAIL_DOMAIN}",
                    "first_name": member.first_name,
                    "last_name": member.last_name,
                },
            )
            self.count("staff accounts", created)
            StaffMember.objects.get_or_create(
                user=user,
                defaults={
                    "organization": orgs[member.organization],
                    "role": member.role,
                    "title": member.title,
                    "phone": f"({demo.organization(member.organization).area_code}) 555-{160 + number:04d}",
                },
            )
            users[member.username] = user
            self.demo_authenticator(user)
        return users

    def demo_authenticator(self, user: Any) -> None:
        """Staff must pass a second factor: give each demo staff account a fixed TOTP secret.

        Fixed so a secret added to an authenticator app keeps working after every `make run`;
        printed by `report`, and `manage.py demo_code <username>` prints the current code.
        Safe only because this command refuses to run with DEBUG off.
        """
        TOTPDevice.objects.update_or_create(
            user=user, name=DEMO_DEVICE_NAME, defaults={"key": demo_totp_key(user.username), "confirmed": True}
        )

    # The resource directory.

    def directory(self, demo: Demo, spec: OrgSpec, org: Organization, director: Any) -> None:
        """The services of demo.yaml, made local: each provider gets one of the organization's
        place words, each service one of its cities, a street address and a phone number."""
        existing = set(Resource.objects.filter(organization=org).values_list("provider__name", "name"))
        prefixes: dict[str, str] = {}
        for i, row in enumerate(demo.services):
            if row.provider not in prefixes:
                prefixes[row.provider] = spec.provider_prefixes[len(prefixes) % len(spec.provider_prefixes)]
            provider_name = f"{prefixes[row.provider]} {row.provider}"
            slug = provider_name.lower().replace(" ", "-")
            # Where referrals go: each provider's intake desk (a run on an older database fills it in).
            intake_email = f"intake@{slug}.{EMAIL_DOMAIN}"
            if (provider_name, row.name) in existing:
                Resource.objects.filter(
                    organization=org, provider__name=provider_name, name=row.name, intake_email=""
                ).update(intake_email=intake_email)
                continue
            provider, _ = Provider.objects.get_or_create(
                organization=org,
                name=provider_name,
                defaults={
                    "description": f"Nonprofit partner serving the {spec.provider_prefixes[0]} area.",
                    "website": f"https://{slug}.{EMAIL_DOMAIN}/",
                },
            )
            city = spec.cities[i % len(spec.cities)]
            resource = Resource(
                provider=provider,
                name=row.name,
                description=row.description,
                eligibility=row.eligibility,
                fees=row.fees,
                application_process=row.application,
                languages=row.languages,
                address=f"{100 + 12 * i} {demo.streets[i % len(demo.streets)]}",
                city=city.name,
                state=spec.state,
                postal_code=city.postal_code,
                phone=f"({spec.area_code}) 555-{100 + i:04d}",
                intake_email=intake_email,
                hours=row.hours,
                hours_es=row.hours_es,
                status=row.status,
            )
            directory_actions.resource_save(by=director, resource=resource, domains=list(row.domains))
            self.count("resources", True)

    def member_provider(self, org: Organization, member: Organization) -> None:
        """The other demo organization in this one's directory, linked to it as a member
        organization (an operator's step in /admin/ on a real site): a consent with it lets a
        person's record be transferred there."""
        slug = member.name.lower().replace(" ", "-")
        _, created = Provider.objects.update_or_create(
            organization=org,
            name=member.name,
            defaults={"member_organization": member},
            create_defaults={
                "member_organization": member,
                "description": "A member organization on this Reentry site: records can be transferred to it.",
                "website": f"https://{slug}.{EMAIL_DOMAIN}/",
            },
        )
        self.count("member organizations in the directory", created)

    # One exoneree and their case history.

    def legal(self, case: ExonereeSpec, spec: OrgSpec, exoneree: Exoneree, caseworker: Any) -> None:
        """The claim under the organization's state statute (counted from the exoneration), and the
        record holders asked to clear the conviction (each saved through the actions)."""

        def ago(days: int | None) -> date | None:
            return None if days is None else self.today - timedelta(days=days)

        item = case.claim
        override = None if item.override_days_ahead is None else self.today + timedelta(days=item.override_days_ahead)
        claim = CompensationClaim(
            jurisdiction=spec.state,
            trigger_event=item.trigger,
            trigger_date=exoneree.exoneration_date,
            stage=item.stage,
            attorney=item.attorney,
            filed_on=ago(item.filed_days_ago),
            decided_on=ago(item.decided_days_ago),
            award_total=None if item.award_total is None else Decimal(item.award_total),
            denial_reason=item.denial_reason,
            deadline_override=override,
            override_reason=item.override_reason,
        )
        legal_actions.claim_create(by=caseworker, exoneree=exoneree, claim=claim)
        self.count("compensation claims", True)
        for record in case.records:
            clearance = RecordClearance(
                holder=record.holder,
                status=record.status,
                requested_on=ago(record.requested_days_ago),
                confirmed_on=ago(record.confirmed_days_ago),
            )
            legal_actions.clearance_save(by=caseworker, exoneree=exoneree, clearance=clearance)
            self.count("record clearances", True)

    def case(self, case: ExonereeSpec, spec: OrgSpec, org: Organization, director: Any, caseworker: Any) -> Any:
        exoneree = Exoneree.objects.filter(organization=org, legal_name=case.legal_name).first()
        if exoneree is None:
            released = self.today - timedelta(days=case.released_days_ago)
            exonerated = released - timedelta(days=2)
            exoneree = Exoneree(
                organization=org,
                legal_name=case.legal_name,
                pronouns=case.pronouns,
                preferred_language=case.language,
                email=f"{case.username}@{EMAIL_DOMAIN}" if case.username else "",
                phone=f"({spec.area_code}) 555-{case.phone_suffix}",
                address=case.address,
                contact_preference=case.contact,
                ok_to_leave_message=case.ok_to_leave_message,
                contact_notes=case.contact_notes,
                date_of_birth=date(self.today.year - case.born.age, case.born.month, case.born.day),
                ssn=case.ssn,
                conviction_state=spec.state,
                conviction_county=case.county,
                conviction_date=released - timedelta(days=round(case.years_inside * 365.25)),
                release_date=released,
                exoneration_date=exonerated,
            )
            exoneree.full_clean()
            exoneree.save()
            self.count("exonerees", True)
        if not exoneree.caseworkers.exists():
            people.caseload_assign(by=director, exoneree=exoneree, caseworkers=[caseworker])
        if not exoneree.enrolments.exists():  # their case, open since their release
            released = self.today - timedelta(days=case.released_days_ago)
            enrolment.enrolment_open(by=caseworker, exoneree=exoneree, opened_on=released)
            self.count("enrolments", True)
        if not exoneree.compensation_claims.exists():
            self.legal(case, spec, exoneree, caseworker)
        reminders_plan_for_exoneree(exoneree)  # compensation-deadline warnings, record re-checks

        user = None
        if case.username:
            first, _, last = case.legal_name.partition(" ")
            user, created = User.objects.get_or_create(
                username=case.username,
                defaults={"email": f"{case.username}@{EMAIL_DOMAIN}", "first_name": first, "last_name": last},
            )
            self.count("exoneree logins", created)
            if exoneree.user_id != user.pk:
                exoneree.user = user
                exoneree.save(update_fields=["user"])

        if not exoneree.needs.exists():
            self.needs(case, org, exoneree, caseworker)
        if not exoneree.follow_ups.exists():
            self.follow_ups(case, spec, exoneree, caseworker)
        self.release_checks(case, exoneree, caseworker)
        if not exoneree.notes.exists():
            for item in case.notes:
                note = CaseNote(
                    text=item.text, visibility=item.visibility, created_at=self.now - timedelta(days=item.days_ago)
                )
                casework.note_save(by=caseworker, exoneree=exoneree, note=note)
                self.count("notes", True)
        for item in case.member_consents:
            provider = Provider.objects.get(organization=org, member_organization=self.orgs[item.member])
            self.consent(exoneree, provider, list(item.categories), item.days_ago, caseworker, purpose=item.purpose)
        if not exoneree.assessments.exists():
            for item in case.assessments:
                assessment = Assessment(kind=item.kind, taken_on=self.today - timedelta(days=item.days_ago))
                casework.assessment_save(
                    by=caseworker, exoneree=exoneree, assessment=assessment, scores=item.score_by_domain()
                )
                self.count("assessments", True)
        return user

    def needs(self, case: ExonereeSpec, org: Organization, exoneree: Exoneree, caseworker: Any) -> None:
        for item in case.needs:
            need = Need(
                domain=item.domain,
                description=item.description,
                own_words=item.own_words,
                priority=item.priority,
                opened_on=self.today - timedelta(days=item.opened_days_ago),
                papers=list(item.papers),
            )
            needs_actions.need_create(by=caseworker, exoneree=exoneree, need=need)
            self.count("needs", True)
            for ref in item.referrals:
                self.referral(ref, org, need, caseworker)
            if need.status != item.status:
                closed = None if item.closed_days_ago is None else self.today - timedelta(days=item.closed_days_ago)
                needs_actions.need_set_status(by=caseworker, need=need, status=item.status, today=closed)

    def referral(self, ref: ReferralSpec, org: Organization, need: Need, caseworker: Any) -> None:
        resource = Resource.objects.filter(organization=org, name=ref.service).first()
        if resource is None:
            raise CommandError(f"No demo resource named {ref.service!r} in {org}.")
        referral = referrals.referral_create(by=caseworker, need=need, resource=resource, note=ref.note)
        if REFERRAL_PATHS[ref.status]:
            categories = coverage.referral_categories(referral)
            self.consent(need.exoneree, resource.provider, categories, ref.days_ago, caseworker)
        for status in REFERRAL_PATHS[ref.status]:
            final = status == ref.status
            referrals.referral_transition(
                by=caseworker,
                referral=referral,
                status=status,
                decline_reason=ref.decline_reason if final else "",
                got_service=ref.got_service if final else None,
                helped=ref.helped if final else None,
                feedback=ref.feedback if final else "",
            )
        # The actions stamp everything "now"; spread the history over the days it took.
        start = self.now - timedelta(days=ref.days_ago, hours=3)
        end = self.now - timedelta(days=ref.last_change_days_ago, hours=2)
        events = list(ReferralEvent.objects.filter(referral=referral).order_by("pk"))
        step = (end - start) / max(len(events) - 1, 1)
        for i, event in enumerate(events):
            event.at = start + step * i
        ReferralEvent.objects.bulk_update(events, ["at"])
        sent, accepted = (
            next((event.at for event in events if event.to_status == status), None)
            for status in (ReferralStatus.SENT, ReferralStatus.ACCEPTED)
        )
        Referral.objects.filter(pk=referral.pk).update(
            created_at=start, status_changed_at=events[-1].at, sent_at=sent, accepted_at=accepted
        )
        # History: its providers were told long ago, not by an email of this run.
        Reminder.objects.filter(referral=referral, kind=ReminderKind.REFERRAL_NOTICE).update(
            status=ReminderStatus.CANCELLED, reason="Demo history: not emailed."
        )
        self.count("referrals", True)

    def consent(
        self, exoneree: Exoneree, provider: Provider, categories: list[str], days_ago: int, by: Any, purpose: str = ""
    ) -> None:
        """The signed release a sent referral (or a transfer) needs: one per provider, naming what it shares.
        Only a current one counts: one revoked or run out while trying the demo is given back."""
        signed = self.today - timedelta(days=days_ago + 1)
        current = coverage.current_consents(exoneree, today=self.today).filter(provider=provider)
        covered = set(ConsentCategoryRow.objects.filter(consent__in=current).values_list("category", flat=True))
        if set(categories) <= covered:
            return
        consent = Consent(
            provider=provider,
            purpose=purpose or f"So that {provider.name} can help with what {exoneree.first_name} asked for.",
            starts_on=signed,
            ends_on=self.today + timedelta(days=365),
            signed_how=ConsentSignedHow.PAPER,
            signed_on=signed,
        )
        consent_actions.consent_create(by=by, exoneree=exoneree, consent=consent, categories=categories)

    def follow_ups(self, case: ExonereeSpec, spec: OrgSpec, exoneree: Exoneree, caseworker: Any) -> None:
        tz = ZoneInfo(spec.timezone)
        needs = {need.domain: need for need in exoneree.needs.all()}
        for item in case.follow_ups:
            due = datetime.combine(self.today + timedelta(days=item.due_in_days), time(item.hour), tzinfo=tz)
            follow_up = FollowUp(
                title=item.title,
                details=item.details,
                due_at=due,
                assigned_to=caseworker,
                shared_with_exoneree=item.shared,
                need=needs.get(item.need) if item.need else None,
            )
            if item.outcome is not None:
                follow_up.done_at, follow_up.done_by = due + timedelta(hours=1), caseworker
                follow_up.outcome = item.outcome
            follow_ups_actions.follow_up_save(by=caseworker, exoneree=exoneree, follow_up=follow_up)
            self.count("follow-ups", True)

    def release_checks(self, case: ExonereeSpec, exoneree: Exoneree, caseworker: Any) -> None:
        """The check-ins after release, through intake's action: planned just before the first one
        the file says was done (marked done through the caseworker's action, an hour after their
        time), or else now (only those still ahead). A run finds those planned and adds none."""
        done = {item.days: item.outcome for item in case.check_ins_done}
        if unknown := set(done) - set(release_checks.RELEASE_CHECK_DAYS):
            raise CommandError(f"{case.legal_name}: no check-in after release at {sorted(unknown)} days.")
        org, released = exoneree.organization, exoneree.release_date
        since = release_checks.release_check_due(org, released, min(done)) - timedelta(minutes=1) if done else self.now
        planned = release_checks.release_checks_plan(by=caseworker, exoneree=exoneree, now=since)
        for follow_up in planned:
            if follow_up.release_check in done:
                follow_ups_actions.follow_up_complete(
                    by=caseworker, follow_up=follow_up, outcome=done[follow_up.release_check]
                )
                FollowUp.objects.filter(pk=follow_up.pk).update(done_at=follow_up.due_at + timedelta(hours=1))
            self.count("check-ins after release", True)
        # History: reminders of days gone by were never sent.
        Reminder.objects.filter(follow_up__in=planned, status=ReminderStatus.PENDING, send_at__lte=self.now).update(
            status=ReminderStatus.CANCELLED, reason="Demo history: not sent."
        )

    # A reminder to watch arrive.

    def demo_reminder(self, caseworker: Any) -> None:
        """A follow-up for caseworker1 due two minutes from now, so whoever starts `make run`
        sees its reminder arrive (console email and notification). Each run replaces the
        previous one (with its reminders) instead of adding another."""
        FollowUp.objects.filter(title=DEMO_REMINDER_TITLE, assigned_to=caseworker).delete()
        exoneree = caseworker.caseload.order_by("pk").first()
        follow_up = FollowUp(
            title=DEMO_REMINDER_TITLE,
            details="Created by seed_demo to show a reminder arriving.",
            due_at=timezone.now() + timedelta(minutes=2),  # from the end of seeding, however slow
            assigned_to=caseworker,
            shared_with_exoneree=False,
        )
        follow_ups_actions.follow_up_save(by=caseworker, exoneree=exoneree, follow_up=follow_up)

    def demo_provider_notice(self, caseworker: Any) -> None:
        """caseworker1's sent referral goes to its provider again on every run, with a new
        link: within a minute of `make run` the console prints the provider's email, and
        whoever opens its link plays the provider (no account needed)."""
        referral = (
            Referral.objects.filter(need__exoneree__in=caseworker.caseload.all(), status=ReferralStatus.SENT)
            .order_by("pk")
            .first()
        )
        if referral is not None:
            # One email per run: a notice an earlier run queued and nobody sent is replaced.
            Reminder.objects.filter(
                referral=referral, kind=ReminderKind.REFERRAL_NOTICE, status=ReminderStatus.PENDING
            ).update(status=ReminderStatus.CANCELLED, reason="Replaced by a later seed_demo run.")
            provider_answers.referral_resend(by=caseworker, referral=referral)

    # Output.

    def count(self, what: str, created: bool) -> None:
        if created:
            self.created[what] = self.created.get(what, 0) + 1

    def report(
        self,
        demo: Demo,
        orgs: dict[str, Organization],
        users: dict[str, Any],
        *,
        password: str,
        given: bool,
        existed: bool,
    ) -> None:
        write = self.stdout.write
        org_ids = [org.pk for org in orgs.values()]
        totals = {
            "organizations": len(orgs),
            "accounts": len(users),
            "exonerees": Exoneree.objects.filter(organization_id__in=org_ids).count(),
            "needs": Need.objects.filter(exoneree__organization_id__in=org_ids).count(),
            "referrals": Referral.objects.filter(need__exoneree__organization_id__in=org_ids).count(),
            "follow-ups": FollowUp.objects.filter(exoneree__organization_id__in=org_ids).count(),
            "notes": CaseNote.objects.filter(exoneree__organization_id__in=org_ids).count(),
            "assessments": Assessment.objects.filter(exoneree__organization_id__in=org_ids).count(),
            "resources": Resource.objects.filter(organization_id__in=org_ids).count(),
        }
        if self.created:
            made = ", ".join(f"{n} {what}" for what, n in self.created.items())
            write(self.style.SUCCESS(f"Demo data created: {made}."))
        else:
            write("Demo data already present; nothing new was created.")
        write("In the demo: " + ", ".join(f"{n} {what}" for what, n in totals.items()) + ".")

        org_names = {org.pk: org.name for org in orgs.values()}
        rows = []
        for username, user in users.items():
            staff = StaffMember.objects.filter(user=user).first()
            if staff is not None:
                rows.append((username, staff.role, org_names.get(staff.organization_id, "")))
            else:
                exoneree = Exoneree.objects.filter(user=user).first()
                rows.append((username, "exoneree", org_names.get(exoneree.organization_id, "") if exoneree else ""))
        header = ("username", "role", "organization")
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(3)]
        write("")
        for i, row in enumerate((header, *rows)):
            write("  " + "  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
            if i == 0:
                write("  " + "  ".join("-" * w for w in widths))
        write("")
        if given:
            write(self.style.SUCCESS("Password for every demo account: the one given with --password."))
        else:
            write(self.style.SUCCESS(f"Password for every demo account: {password}"))
            write(f"(kept in {settings.DEMO_PASSWORD_FILE}: the next run uses it again; delete it for a new one)")
        write("")
        write("Staff accounts also need a code from an authenticator app (two-step sign-in). Add")
        write("each secret below to one (Google Authenticator, FreeOTP, ...: 'enter a setup key',")
        write("time-based), or print the current code with `python manage.py demo_code <username>`.")
        write("The secrets are fixed: they stay the same on every run.")
        for member in demo.staff:
            write(f"  {member.username.ljust(12)} {demo_totp_secret(member.username)}")
