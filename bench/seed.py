"""Fill a database with a whole network of organizations: `python bench/seed.py [options]`.

Default network: 20 organizations, 10,000 exonerees, 80,000 needs, 200,000 referrals (with
their status events), 1,000,000 follow-ups, 2,000 resources, plus notes, assessments and
consents; sizes are options, `--scale` multiplies them all. Uses the database DATABASE_URL
names (see bench/README.md: `perf_bench`), migrates it, and refuses one that already holds
people unless `--reset` (which empties every table first).

Rows are written the way the app writes them, only in bulk:
- object permissions: a `view_exoneree` and a `change_exoneree` row in the direct
  foreign-key table (ExonereeUserObjectPermission) for every caseworker who carries a
  person, as `actions.people.caseload_assign` grants them; the caseworkers relation alongside;
- encrypted fields: every value is encrypted on its own by the field itself
  (`get_db_prep_save`: AES-GCM, a fresh nonce, the field's context), and blind indexes are
  computed by their fields; nothing is reused, so decrypting a page costs what it would;
- distributions: organization sizes are skewed (a few large ones), caseloads ~25 per
  caseworker, people's record counts lognormal (most have a few, some have many), referral
  statuses follow their real paths, past follow-ups are done but for a fifth of the
  last two months' and a fiftieth of older ones.

On PostgreSQL rows go in with COPY (ids assigned here, sequences moved past them after);
on SQLite with executemany. Writes var/bench/accounts.json: the bench accounts
(bench-caseworker, bench-director with a known TOTP key, bench-exoneree), their password,
and the records bench/pages.py opens. `--smoke`: a network of 2 organizations and 40
people, in a second (tests/test_bench_smoke.py seeds it for the other scripts' --smoke).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
os.environ.setdefault("DEBUG", "1")
BENCH_DIR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from services.choices import (  # noqa: E402
    AssessmentDomain,
    AssessmentKind,
    ClaimStage,
    ConsentCategory,
    ConsentSignedHow,
    ContactPreference,
    NeedDomain,
    NeedStatus,
    NoteVisibility,
    PersonAnswer,
    Priority,
    ReferralStatus,
    ResourceStatus,
    Role,
)
from services.lib.hsds import new_hsds_id  # noqa: E402
from services.models.casework import Assessment, AssessmentScore, CaseNote  # noqa: E402
from services.models.consent import Consent, ConsentCategoryRow  # noqa: E402
from services.models.directory import Provider, Resource, ResourceDomain  # noqa: E402
from services.models.enrolments import Enrolment  # noqa: E402
from services.models.follow_ups import FollowUp  # noqa: E402
from services.models.legal import CompensationClaim  # noqa: E402
from services.models.needs import Need  # noqa: E402
from services.models.notifications import Notification  # noqa: E402
from services.models.organizations import Organization, StaffMember  # noqa: E402
from services.models.people import Exoneree, ExonereeUserObjectPermission  # noqa: E402
from services.models.referrals import Referral, ReferralEvent  # noqa: E402

User = get_user_model()
S = ReferralStatus
# Where a referral ends up, and the moves that take it there (weights sum to 1).
PATHS = [
    (0.45, [S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED]),
    (0.15, [S.SENT]),
    (0.10, [S.SENT, S.ACCEPTED]),
    (0.10, [S.SENT, S.DECLINED]),
    (0.07, [S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.UNRESOLVED]),
    (0.05, [S.SENT, S.CANCELLED]),
    (0.05, []),
    (0.03, [S.CANCELLED]),
]
# The statuses a provider moves a referral to through its link (the rest are the caseworker's).
PROVIDER_MOVES_TO = {S.ACCEPTED, S.DECLINED, S.IN_PROGRESS, S.COMPLETED}
FIRST = "James Maria Robert Linda Michael Aisha DeShawn Rosa Luis Tyrone Kenji Fatima Marcus Anita Thomas Grace".split()
LAST = (
    "Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Washington Lee Walker".split()
)
CITIES = "Chicago Houston Dallas Tulsa Detroit Memphis Atlanta Baltimore Newark Cleveland".split()
FOLLOW_UP_TITLES = ["Check-in call", "Housing appointment", "ID office visit", "Benefits interview", "Court date"]
NEED_TEXTS = [
    "Needs a birth certificate before applying for an ID.",
    "Looking for stable housing near family.",
    "Wants job training in a trade.",
    "Needs health coverage; eligible for Medicaid.",
    "Asked for help with the compensation claim.",
    "Would like a peer support group.",
]
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 (bench accounts on a bench database)
# The bench director's and caseworker's authenticator key (hex, as django-otp stores it).
BENCH_TOTP_KEY = "3132333435363738393031323334353637383930"


class Writer:
    """Bulk rows into one model's table, with a progress bar: COPY on PostgreSQL."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.postgres = connection.vendor == "postgresql"
        self.next_id: dict[type, int] = {}

    def ids(self, model: type[models.Model], count: int) -> range:
        start = self.next_id.get(model) or (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
        self.next_id[model] = start + count
        return range(start, start + count)

    def write(self, model: type[models.Model], fields: list[str], rows: Iterable[tuple], total: int) -> None:
        """Rows of values for `fields` (plain values; encrypted fields get their plaintext)."""
        meta = model._meta
        field_objs = [meta.get_field(name) for name in fields]
        # A NOT NULL column the bench does not set (one added since it was written) gets its
        # field's default, so a new column does not stop the seed.
        given = {f.attname for f in field_objs}
        filled = [
            f
            for f in meta.concrete_fields
            if f.attname not in given and not f.primary_key and not f.null and f.db_default is models.NOT_PROVIDED
        ]
        defaults = tuple(f.get_default() for f in filled)  # plain values: prep() encrypts, as for the rest
        if filled:
            rows = (tuple(row) + defaults for row in rows)
            field_objs += filled
        columns = [f.column for f in field_objs]
        # Only fields whose Python value is not what the database stores go through the field.
        prepared = [
            i for i, f in enumerate(field_objs) if hasattr(f, "encryption_context") or isinstance(f, models.JSONField)
        ]
        label = meta.verbose_name_plural
        start, done = time.perf_counter(), 0

        def prep(row: tuple) -> tuple:
            if not prepared:
                return row
            values = list(row)
            for i in prepared:
                values[i] = field_objs[i].get_db_prep_save(values[i], connection)
            return tuple(values)

        # The first row is prepared before COPY holds the connection: its first encryption asks
        # the key canaries (services.keyring), a query that would wait on the COPY for ever.
        rows = iter(rows)
        ready = itertools.chain([prep(row) for row in itertools.islice(rows, 1)], map(prep, rows))
        with connection.cursor() as cursor:
            if self.postgres:
                sql = f'COPY "{meta.db_table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) FROM STDIN'
                with cursor.cursor.copy(sql) as copy:
                    for row in ready:
                        copy.write_row(row)
                        done += 1
                        if done % self.batch == 0:
                            progress(label, done, total, start)
            else:
                marks = ", ".join("%s" for _ in columns)
                # Table and column names from the models.
                sql = f'INSERT INTO "{meta.db_table}" ({", ".join(columns)}) VALUES ({marks})'  # noqa: S608
                chunk: list[tuple] = []
                for row in ready:
                    chunk.append(row)
                    if len(chunk) == self.batch:
                        cursor.executemany(sql, chunk)
                        done += len(chunk)
                        chunk = []
                        progress(label, done, total, start)
                if chunk:
                    cursor.executemany(sql, chunk)
                    done += len(chunk)
        if done % self.batch or not done:
            progress(label, done, total, start)
        print()


def progress(label: str, done: int, total: int, start: float) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    bar = "#" * filled + "." * (width - filled)
    print(f"\r  {label:<24} [{bar}] {done:>9,}/{total:,} {time.perf_counter() - start:6.1f} s", end="", flush=True)


class Network:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)  # noqa: S311 (made-up rows, the same every run; nothing secret)
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.w = Writer(args.batch)

    def n(self, name: str) -> int:
        return max(1, int(getattr(self.args, name) * self.args.scale))

    def day(self, back: int = 3 * 365, ahead: int = 0) -> date:
        return self.today - timedelta(days=self.rng.randint(-ahead, back))

    def moment(self, on: date) -> datetime:
        return timezone.make_aware(datetime.combine(on, datetime.min.time())) + timedelta(
            hours=self.rng.randint(8, 17), minutes=self.rng.randint(0, 59)
        )

    def skewed(self, count: int, sigma: float = 0.9) -> list[float]:
        """Lognormal weights: most get a few rows, some get many."""
        return [self.rng.lognormvariate(0, sigma) for _ in range(count)]

    def spread(self, owners: list[int], weights: list[float], total: int) -> list[int]:
        return self.rng.choices(owners, weights=weights, k=total)

    def run(self) -> dict[str, Any]:
        rng, w = self.rng, self.w
        perms = {p.codename: p.pk for p in Permission.objects.filter(content_type__app_label="services")}
        password = make_password(BENCH_PASSWORD)

        # Organizations: sizes by a Zipf-like law (the first is the largest).
        org_count = self.n("orgs")
        org_ids = list(w.ids(Organization, org_count))
        zones = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
        w.write(
            Organization,
            ["id", "name", "code", "timezone", "escalation_days", "digest_hour", "created_at", "figures_version"],
            (
                (pk, f"Bench network {i + 1:02d}", f"bench{i + 1:02d}", zones[i % 4], 3, 8, self.now, 0)
                for i, pk in enumerate(org_ids)
            ),
            org_count,
        )
        org_weight = [1 / (i + 1) ** 0.8 for i in range(org_count)]
        people_total = self.n("exonerees")
        org_of_person = sorted(self.spread(org_ids, org_weight, people_total))
        people_in_org = {org: org_of_person.count(org) for org in org_ids}

        # Staff: a director per organization, a caseworker per ~25 people.
        staff_rows = []  # (org, role)
        for org in org_ids:
            staff_rows.append((org, Role.DIRECTOR))
            staff_rows += [(org, Role.CASEWORKER)] * max(1, math.ceil(people_in_org[org] / 25))
        staff_users = list(w.ids(User, len(staff_rows)))
        people_ids = list(w.ids(Exoneree, people_total))
        logins = [pk for pk in people_ids if rng.random() < 0.3]
        login_users = list(w.ids(User, len(logins)))
        user_of_person = dict(zip(logins, login_users, strict=True))

        def user_rows() -> Iterator[tuple]:
            for i, pk in enumerate(staff_users):
                role = staff_rows[i][1]
                username = f"bench-{role}-{i:05d}"
                yield (pk, username, password, rng.choice(FIRST), rng.choice(LAST), f"{username}@example.org")
            for pk in login_users:
                yield (pk, f"bench-person-{pk:06d}", password, rng.choice(FIRST), rng.choice(LAST), "")

        user_fields = ["id", "username", "password", "first_name", "last_name", "email"]
        w.write(
            User,
            [*user_fields, "is_staff", "is_active", "is_superuser", "date_joined"],
            ((*row, False, True, False, self.now) for row in user_rows()),
            len(staff_users) + len(login_users),
        )
        w.write(
            StaffMember,
            ["id", "user", "organization", "role", "title", "phone"],
            (
                (pk, user, org, role, "", "")
                for pk, user, (org, role) in zip(
                    w.ids(StaffMember, len(staff_rows)), staff_users, staff_rows, strict=True
                )
            ),
            len(staff_rows),
        )
        directors = {
            org: user for user, (org, role) in zip(staff_users, staff_rows, strict=True) if role == Role.DIRECTOR
        }
        caseworkers_of_org: dict[int, list[int]] = {org: [] for org in org_ids}
        for user, (org, role) in zip(staff_users, staff_rows, strict=True):
            if role == Role.CASEWORKER:
                caseworkers_of_org[org].append(user)

        # People, each with one caseworker (a fifth with two), encrypted contact details.
        carriers: dict[int, list[int]] = {}
        org_of = dict(zip(people_ids, org_of_person, strict=True))
        # Each person's compensation claim (the person's old status, five values: the same draws).
        statuses = [ClaimStage.ASSESSING, ClaimStage.FILED, ClaimStage.AWARDED, ClaimStage.DENIED]
        statuses.append(ClaimStage.NOT_ELIGIBLE)
        claims: list[tuple] = []
        enrolled: dict[int, date] = {}  # each person's case, open since their release (issue 23)
        name_field = {f.name: f for f in Exoneree._meta.fields}

        def person_rows() -> Iterator[tuple]:
            for pk in people_ids:
                org = org_of[pk]
                team = caseworkers_of_org[org]
                carriers[pk] = rng.sample(team, 2 if rng.random() < 0.2 and len(team) > 1 else 1)
                legal = f"{rng.choice(FIRST)} {rng.choice(LAST)} {pk:05d}"
                born = date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28))
                ssn = f"{rng.randint(100, 899):03d}{rng.randint(10, 99):02d}{rng.randint(1000, 9999):04d}"
                released = self.day(back=8 * 365)
                convicted = released - timedelta(days=rng.randint(365 * 5, 365 * 25))
                row = Exoneree(legal_name=legal, date_of_birth=born, ssn=ssn)
                state = rng.choice(["TX", "IL", "NY", "CA", "LA", "OH"])
                county = f"{rng.choice(CITIES)} County"
                exonerated = released + timedelta(days=rng.randint(0, 400))
                stage = rng.choice(statuses)
                deadline = released + timedelta(days=rng.choice([365, 730, 1095]))
                filed = deadline - timedelta(days=30) if stage in (ClaimStage.FILED, ClaimStage.AWARDED) else None
                claims.append((pk, org, state, stage, deadline, filed))
                enrolled[pk] = released
                yield (
                    pk,
                    org,
                    legal,
                    rng.choice(["", "", "", legal.split()[0]]),
                    "",
                    "en" if rng.random() < 0.85 else "es",
                    f"person{pk}@example.org" if rng.random() < 0.7 else "",
                    (phone := f"555-01{rng.randint(0, 99):02d}"),
                    f"{rng.randint(1, 9999)} Main St, {rng.choice(CITIES)}",
                    rng.choice(ContactPreference.values[:4]),
                    rng.random() < 0.5,
                    "Best after 5pm" if rng.random() < 0.3 else "",
                    born,
                    ssn,
                    name_field["ssn_index"].compute(row),
                    name_field["name_dob_index"].compute(row),
                    name_field["phone_index"].compute(Exoneree(phone=phone)),
                    state,
                    county,
                    convicted,
                    released,
                    exonerated,
                    rng.random() < 0.3,
                    "email",
                    user_of_person.get(pk),
                    self.moment(released),
                    self.now,
                )

        w.write(
            Exoneree,
            [
                "id",
                "organization",
                "legal_name",
                "preferred_name",
                "pronouns",
                "preferred_language",
                "email",
                "phone",
                "address",
                "contact_preference",
                "ok_to_leave_message",
                "contact_notes",
                "date_of_birth",
                "ssn",
                "ssn_index",
                "name_dob_index",
                "phone_index",
                "conviction_state",
                "conviction_county",
                "conviction_date",
                "release_date",
                "exoneration_date",
                "appointment_reminders",
                "reminder_channel",
                "user",
                "created_at",
                "updated_at",
            ],
            person_rows(),
            people_total,
        )
        w.write(
            Enrolment,
            ["exoneree", "opened_on", "created_at"],
            ((pk, opened_on, self.now) for pk, opened_on in enrolled.items()),
            people_total,
        )
        # The claims: the deadline as a lawyer's (the bench does not care which rule), filed a
        # month before it when the stage says filed.
        w.write(
            CompensationClaim,
            ["exoneree", "organization", "jurisdiction", "trigger_event", "stage", "deadline_override"]
            + ["filing_deadline", "deadline_basis", "deadline_citation", "override_reason", "filed_on", "attorney"]
            + ["denial_reason", "payment_schedule", "notes", "created_at", "updated_at"],
            (
                (pk, org, state, "", stage, deadline, deadline, "override", "", "bench", filed, "", "", "", "")
                + (self.now, self.now)
                for pk, org, state, stage, deadline, filed in claims
            ),
            len(claims),
        )
        pairs = [(person, user) for person, users in carriers.items() for user in users]
        through = Exoneree.caseworkers.through
        w.write(
            through,
            ["id", "exoneree", "user"],
            ((pk, person, user) for pk, (person, user) in zip(w.ids(through, len(pairs)), pairs, strict=True)),
            len(pairs),
        )
        grants = [
            (person, user, perms[code]) for person, user in pairs for code in ("view_exoneree", "change_exoneree")
        ]
        w.write(
            ExonereeUserObjectPermission,
            ["id", "content_object", "user", "permission"],
            ((pk, *grant) for pk, grant in zip(w.ids(ExonereeUserObjectPermission, len(grants)), grants, strict=True)),
            len(grants),
        )

        # The directory: providers and resources per organization, 1–3 domains each.
        resources_of_org: dict[int, list[int]] = {}
        provider_rows, resource_rows, domain_rows = [], [], []
        resource_total = self.n("resources")
        per_org = max(1, resource_total // org_count)
        provider_ids = iter(w.ids(Provider, org_count * max(1, per_org // 4)))
        resource_ids = iter(w.ids(Resource, org_count * per_org))
        provider_of_resource = {}
        for org in org_ids:
            providers = [next(provider_ids) for _ in range(max(1, per_org // 4))]
            provider_rows += [(pk, org, f"Provider {pk}", "", "", "", new_hsds_id()) for pk in providers]
            resources_of_org[org] = []
            for _ in range(per_org):
                pk = next(resource_ids)
                provider = rng.choice(providers)
                provider_of_resource[pk] = provider
                resources_of_org[org].append(pk)
                domains = rng.sample(NeedDomain.values, rng.randint(1, 3))
                status = rng.choices(ResourceStatus.values, [0.85, 0.05, 0.10])[0]
                city = rng.choice(CITIES)
                resource_rows.append(
                    (
                        pk,
                        org,
                        provider,
                        f"{domains[0].replace('_', ' ').title()} service {pk}",
                        "Walk-in help.",
                        city,
                        status,
                    )
                )
                domain_rows += [(pk, d) for d in domains]
        w.write(
            Provider,
            ["id", "organization", "name", "description", "website", "email", "hsds_id"],
            provider_rows,
            len(provider_rows),
        )
        blank = ["eligibility", "fees", "application_process", "languages", "address", "state", "postal_code", "phone"]
        w.write(
            Resource,
            [
                "id",
                "organization",
                "provider",
                "name",
                "description",
                "city",
                "status",
                *blank,
                "email",
                "hours",
                "updated_at",
                "hsds_id",
            ],
            ((*row, *[""] * len(blank), "", "Mon–Fri 9am–5pm", self.now, new_hsds_id()) for row in resource_rows),
            len(resource_rows),
        )
        w.write(
            ResourceDomain,
            ["id", "resource", "domain"],
            ((pk, *row) for pk, row in zip(w.ids(ResourceDomain, len(domain_rows)), domain_rows, strict=True)),
            len(domain_rows),
        )

        # Needs, spread unevenly over people.
        weight = self.skewed(people_total)
        need_total = self.n("needs")
        need_ids = list(w.ids(Need, need_total))
        need_owner = self.spread(people_ids, weight, need_total)
        need_domain, need_opened = {}, {}

        def need_rows() -> Iterator[tuple]:
            for pk, person in zip(need_ids, need_owner, strict=True):
                opened = self.day()
                roll = rng.random()
                status = (
                    NeedStatus.MET
                    if roll < 0.45
                    else NeedStatus.NO_LONGER_WANTED
                    if roll < 0.5
                    else NeedStatus.IN_PROGRESS
                    if roll < 0.7
                    else NeedStatus.OPEN
                )
                closed = min(opened + timedelta(days=rng.randint(1, 150)), self.today) if roll < 0.5 else None
                domain = rng.choice(NeedDomain.values)
                need_domain[pk], need_opened[pk] = domain, opened
                yield (
                    pk,
                    person,
                    org_of[person],
                    domain,
                    rng.choice(NEED_TEXTS),
                    "In my own words: I want to stand on my own." if rng.random() < 0.3 else "",
                    rng.choice(Priority.values),
                    status,
                    opened,
                    closed,
                    rng.choice(carriers[person]),
                )

        w.write(
            Need,
            [
                "id",
                "exoneree",
                "organization",
                "domain",
                "description",
                "own_words",
                "priority",
                "status",
                "opened_on",
                "closed_on",
                "created_by",
            ],
            need_rows(),
            need_total,
        )
        owner_of_need = dict(zip(need_ids, need_owner, strict=True))

        # Referrals: to a resource of the person's organization, with their status events.
        referral_total = self.n("referrals")
        referral_ids = list(w.ids(Referral, referral_total))
        need_weight = self.skewed(need_total, 0.6)
        referral_need = self.spread(need_ids, need_weight, referral_total)
        weights, paths = zip(*PATHS, strict=True)
        events: list[tuple] = []
        referral_of_person: dict[int, list[int]] = {}

        def referral_rows() -> Iterator[tuple]:
            for pk, need in zip(referral_ids, referral_need, strict=True):
                person = owner_of_need[need]
                made = self.moment(need_opened[need]) + timedelta(days=rng.randint(0, 20))
                made = min(made, self.now)
                by = rng.choice(carriers[person])
                resource = rng.choice(resources_of_org[org_of[person]])
                # Most providers answer through their link; the rest by phone, to the caseworker.
                provider = provider_of_resource[resource] if rng.random() < 0.6 else None
                when, previous, answered_at, sent_at, accepted_at = made, "", None, None, None
                events.append((pk, "", S.DRAFT, made, by, None))
                previous = S.DRAFT
                for status in rng.choices(paths, weights)[0]:
                    when = min(when + timedelta(days=rng.randint(1, 15), hours=rng.randint(0, 5)), self.now)
                    answer = provider if previous != S.DRAFT and status in PROVIDER_MOVES_TO else None
                    events.append((pk, previous, status, when, None if answer else by, answer))
                    if answer and answered_at is None:
                        answered_at = when
                    if status == S.SENT:
                        sent_at = when
                    if status == S.ACCEPTED:
                        accepted_at = when
                    previous = status
                referral_of_person.setdefault(person, []).append(pk)
                done = previous == S.COMPLETED
                yield (
                    pk,
                    need,
                    org_of[person],
                    resource,
                    previous,
                    "Please call before the visit." if rng.random() < 0.5 else "",
                    "No openings this month." if previous == S.DECLINED else "",
                    (rng.random() < 0.8) if done else None,
                    (rng.random() < 0.7) if done else None,
                    "It helped a lot." if done and rng.random() < 0.4 else "",
                    by,
                    made,
                    when,
                    answered_at,
                    sent_at,
                    accepted_at,
                    (PersonAnswer.YES if rng.random() < 0.5 else "") if done else "",
                )

        w.write(
            Referral,
            [
                "id",
                "need",
                "organization",
                "resource",
                "status",
                "note",
                "decline_reason",
                "got_service",
                "helped",
                "feedback",
                "created_by",
                "created_at",
                "status_changed_at",
                "provider_answered_at",
                "sent_at",
                "accepted_at",
                "person_answer",
            ],
            referral_rows(),
            referral_total,
        )
        w.write(
            ReferralEvent,
            ["id", "referral", "from_status", "to_status", "at", "by", "by_provider", "note"],
            ((pk, *event, "") for pk, event in zip(w.ids(ReferralEvent, len(events)), events, strict=True)),
            len(events),
        )

        # Follow-ups: over three years and the next month, by one of the person's caseworkers.
        follow_up_total = self.n("follow_ups")
        follow_up_owner = self.spread(people_ids, weight, follow_up_total)
        needs_of_person: dict[int, list[int]] = {}
        for need, person in owner_of_need.items():
            needs_of_person.setdefault(person, []).append(need)

        follow_up_ids = w.ids(FollowUp, follow_up_total)  # not inside the generator: it runs during the COPY

        def follow_up_rows() -> Iterator[tuple]:
            for pk, person in zip(follow_up_ids, follow_up_owner, strict=True):
                due = self.now - timedelta(days=rng.randint(-30, 3 * 365), hours=rng.randint(0, 23))
                # Most past follow-ups get done; a few recent ones are overdue, and a few old
                # ones were never closed.
                done = None
                recent = due > self.now - timedelta(days=60)
                if due < self.now and rng.random() < (0.8 if recent else 0.98):
                    done = min(due + timedelta(days=rng.randint(0, 6)), self.now)
                roll = rng.random()
                need = rng.choice(needs_of_person[person]) if roll < 0.3 and person in needs_of_person else None
                referral = (
                    rng.choice(referral_of_person[person])
                    if 0.3 <= roll < 0.5 and person in referral_of_person
                    else None
                )
                yield (
                    pk,
                    person,
                    need,
                    referral,
                    rng.choice(FOLLOW_UP_TITLES),
                    "Bring the letter from the court." if rng.random() < 0.4 else "",
                    due,
                    rng.choice(carriers[person]),
                    rng.random() < 0.6,
                    done,
                    "Went well; next step booked." if done and rng.random() < 0.5 else "",
                    rng.choice(carriers[person]),
                    due - timedelta(days=rng.randint(1, 20)),
                )

        w.write(
            FollowUp,
            [
                "id",
                "exoneree",
                "need",
                "referral",
                "title",
                "details",
                "due_at",
                "assigned_to",
                "shared_with_exoneree",
                "done_at",
                "outcome",
                "created_by",
                "created_at",
            ],
            follow_up_rows(),
            follow_up_total,
        )

        # Notes, assessments with scores, consents with their categories.
        note_total = self.n("notes")
        w.write(
            CaseNote,
            ["id", "exoneree", "author", "text", "visibility", "created_at", "updated_at"],
            (
                (pk, person, rng.choice(carriers[person]), "Talked through the week; doing better.", vis, at, at)
                for pk, person in zip(
                    w.ids(CaseNote, note_total), self.spread(people_ids, weight, note_total), strict=True
                )
                for vis, at in [(rng.choice(NoteVisibility.values), self.moment(self.day()))]
            ),
            note_total,
        )
        assessments, scores = [], []
        for person in people_ids:
            taken = [(AssessmentKind.INTAKE, self.day(back=3 * 365, ahead=0))]
            if rng.random() < 0.7:
                taken.append(
                    (AssessmentKind.INTERIM, min(taken[0][1] + timedelta(days=rng.randint(30, 400)), self.today))
                )
            assessments += [(person, kind, on, rng.choice(carriers[person])) for kind, on in taken]
        assessment_ids = list(w.ids(Assessment, len(assessments)))
        w.write(
            Assessment,
            ["id", "exoneree", "kind", "taken_on", "taken_by"],
            ((pk, *row) for pk, row in zip(assessment_ids, assessments, strict=True)),
            len(assessments),
        )
        for pk in assessment_ids:
            scores += [(pk, domain, rng.randint(1, 5)) for domain in rng.sample(AssessmentDomain.values, 6)]
        w.write(
            AssessmentScore,
            ["id", "assessment", "domain", "score"],
            ((pk, *row) for pk, row in zip(w.ids(AssessmentScore, len(scores)), scores, strict=True)),
            len(scores),
        )
        consents, categories = [], []
        for person in people_ids:
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                starts = self.day(back=2 * 365)
                resource = rng.choice(resources_of_org[org_of[person]])
                consents.append((person, provider_of_resource[resource], starts))
        consent_ids = list(w.ids(Consent, len(consents)))
        w.write(
            Consent,
            [
                "id",
                "exoneree",
                "provider",
                "purpose",
                "starts_on",
                "ends_on",
                "signed_how",
                "signed_on",
                "witness",
                "recorded_by",
                "created_at",
                "revoked_how",
            ],
            (
                (
                    pk,
                    person,
                    provider,
                    "To arrange services for the need we discussed.",
                    starts,
                    starts + timedelta(days=365),
                    ConsentSignedHow.PAPER,
                    starts,
                    "",
                    rng.choice(carriers[person]),
                    self.moment(starts),
                    "",
                )
                for pk, (person, provider, starts) in zip(consent_ids, consents, strict=True)
            ),
            len(consents),
        )
        for pk in consent_ids:
            categories += [(pk, c) for c in {ConsentCategory.CONTACT, rng.choice(ConsentCategory.values)}]
        w.write(
            ConsentCategoryRow,
            ["id", "consent", "category"],
            ((pk, *row) for pk, row in zip(w.ids(ConsentCategoryRow, len(categories)), categories, strict=True)),
            len(categories),
        )

        # The bench accounts, in the largest organization: a caseworker with a typical
        # caseload, and a person of theirs with typical records who has a login.
        org = org_ids[0]
        sizes: dict[int, int] = {}
        for person, users in carriers.items():
            for user in users:
                if org_of[person] == org:
                    sizes[user] = sizes.get(user, 0) + 1
        ranked = sorted(sizes, key=sizes.get)
        caseworker = ranked[len(ranked) // 2]
        theirs = [p for p, users in carriers.items() if caseworker in users]
        counts = {p: 0 for p in theirs}
        for person in follow_up_owner:
            if person in counts:
                counts[person] += 1
        person = sorted(theirs, key=counts.get)[len(theirs) // 2]
        return {
            "org": org,
            "caseworker": caseworker,
            "director": directors[org],
            "person": person,
            "person_follow_ups": counts[person],
            "caseload": sizes[caseworker],
        }


def finish(writer: Writer, picked: dict[str, Any]) -> dict[str, Any]:
    """Sequences past the ids used; the bench accounts named and given their second factor."""
    if writer.postgres:
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(writer.next_id)):
                cursor.execute(sql)
    caseworker = User.objects.get(pk=picked["caseworker"])
    director = User.objects.get(pk=picked["director"])
    person = Exoneree.objects.select_related("user").get(pk=picked["person"])
    caseworker.username, director.username = "bench-caseworker", "bench-director"
    caseworker.save(update_fields=["username"])
    director.save(update_fields=["username"])
    login = person.user or User(password=make_password(BENCH_PASSWORD), first_name=person.legal_name.split()[0])
    login.username = "bench-exoneree"
    login.save()
    if person.user_id != login.pk:
        person.user = login
        person.save(update_fields=["user"])
    for user in (caseworker, director):
        TOTPDevice.objects.update_or_create(
            user=user, name="Bench authenticator", defaults={"key": BENCH_TOTP_KEY, "confirmed": True}
        )
    # A few unread notifications, as the header counts them.
    Notification.objects.bulk_create(
        [
            Notification(user=user, text="A follow-up is due today.", url="/dashboard/")
            for user in (caseworker, director)
        ]
        * 5
    )
    # The page searches for a surname that several of the caseload share.
    word = person.legal_name.split()[1]
    return {
        "password": BENCH_PASSWORD,
        "totp_key": BENCH_TOTP_KEY,
        "accounts": {"caseworker": "bench-caseworker", "director": "bench-director", "exoneree": "bench-exoneree"},
        "organization": picked["org"],
        "caseworker_id": caseworker.pk,
        "caseload": picked["caseload"],
        "exoneree_id": person.pk,
        "exoneree_follow_ups": picked["person_follow_ups"],
        "search": word,
        "resource_search": "housing",
    }


def reset() -> None:
    # Every table but the permissions and content types that migrate made (it would not make them again).
    kept = {Permission._meta.db_table, ContentType._meta.db_table}
    tables = [t for t in connection.introspection.django_table_names(only_existing=True) if t not in kept]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE"
            )
        else:
            # The audit log refuses deletes through the ORM, not through SQL.
            for table in tables:
                cursor.execute(f'DELETE FROM "{table}"')  # noqa: S608 (Django's own table names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--exonerees", type=int, default=10_000)
    parser.add_argument("--needs", type=int, default=80_000)
    parser.add_argument("--referrals", type=int, default=200_000)
    parser.add_argument("--follow-ups", dest="follow_ups", type=int, default=1_000_000)
    parser.add_argument("--resources", type=int, default=2_000)
    parser.add_argument("--notes", type=int, default=30_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every size above")
    parser.add_argument("--batch", type=int, default=10_000, help="rows between progress updates")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--reset", action="store_true", help="empty every table first")
    parser.add_argument("--smoke", action="store_true", help="2 organizations, 40 people (a second)")
    args = parser.parse_args()
    if args.smoke:
        smoke = {"orgs": 2, "exonerees": 40, "needs": 120, "referrals": 120, "follow_ups": 400, "resources": 30}
        vars(args).update(smoke, notes=40, scale=1.0)

    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if Exoneree.objects.exists():
        if not args.reset:
            sys.exit("This database already holds people: pass --reset to empty it first.")
        reset()
    start = time.perf_counter()
    network = Network(args)
    with transaction.atomic():
        picked = network.run()
        info = finish(network.w, picked)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # statistics, and a visibility map for index-only scans
    info["seeded_in_seconds"] = round(time.perf_counter() - start, 1)
    info["sizes"] = {
        name: network.n(name)
        for name in ("orgs", "exonerees", "needs", "referrals", "follow_ups", "resources", "notes")
    }
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "accounts.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"Seeded in {info['seeded_in_seconds']} s; bench accounts in {BENCH_DIR / 'accounts.json'}")


if __name__ == "__main__":
    main()
