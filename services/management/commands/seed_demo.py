"""Demo data for trying Reentry locally: `python manage.py seed_demo [--password P]`.

Two organizations, their directors and caseworkers, six exonerees with a case history each
(needs, referrals with their events, follow-ups, notes, assessments) and a resource directory
of 30+ services per organization. Every date is relative to today, so the demo always looks
current.

Idempotent: organizations, users and exonerees are looked up by a stable key (name,
username, organization + legal name) and only what is missing is created; a case history is
written only for an exoneree that has none yet. Every run sets one password on all demo
accounts: the one given with --password, or a freshly generated one that is printed.

The only people named anywhere are the six exonerees; staff accounts are named after their
role ("Caseworker One"), and providers and services carry organization names. Phone numbers
are in the fictional 555-01xx range, SSNs in the never-issued 900-999 area, emails at
example.org.

It refuses to run with DEBUG off: it creates accounts with a shared, printed password.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
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
from services.actions import casework, people, provider_answers
from services.actions import consent as consent_actions
from services.actions import directory as directory_actions
from services.actions import follow_ups as follow_ups_actions
from services.actions import needs as needs_actions
from services.actions import referrals as referrals_actions
from services.choices import (
    AssessmentDomain,
    AssessmentKind,
    CompensationStatus,
    ConsentSignedHow,
    ContactPreference,
    Language,
    NeedDomain,
    NeedStatus,
    NoteVisibility,
    Priority,
    ReferralStatus,
    ReminderKind,
    ReminderStatus,
    ResourceStatus,
    Role,
)
from services.models.casework import Assessment, CaseNote
from services.models.consent import Consent, ConsentCategoryRow
from services.models.directory import Provider, Resource
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.notifications import Reminder
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral, ReferralEvent
from services.reminders import reminders_plan_for_exoneree
from services.selectors import coverage

User = get_user_model()
EMAIL_DOMAIN = "example.org"
DEMO_REMINDER_TITLE = "Demo: call to confirm the housing appointment"

# --- the data, as compact tables -------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    key: str
    name: str
    timezone: str
    state: str
    area_code: str
    counties: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (city, postal code)
    provider_prefixes: tuple[str, ...]  # place words that make provider names local


ORGANIZATIONS = (
    OrgSpec(
        key="midwest",
        name="Midwest Exoneree Reentry Project",
        timezone="America/Chicago",
        state="IL",
        area_code="312",
        counties=("DuPage", "Lake", "Champaign"),
        cities=(("Chicago", "60601"), ("Aurora", "60505"), ("Waukegan", "60085"), ("Rockford", "61101")),
        provider_prefixes=("Lakeshore", "Prairie", "Riverside", "Northside", "Heartland"),
    ),
    OrgSpec(
        key="gulf",
        name="Gulf Coast Innocence Reentry",
        timezone="America/New_York",
        state="FL",
        area_code="813",
        counties=("Pinellas", "Orange", "Manatee"),
        cities=(("Tampa", "33602"), ("Clearwater", "33755"), ("Sarasota", "34236"), ("Lakeland", "33801")),
        provider_prefixes=("Gulf Coast", "Bayshore", "Harbor", "Palmetto", "Suncoast"),
    ),
)

# (username, organization key, role, first name, last name): role words, never a person's name.
STAFF = (
    ("director1", "midwest", Role.DIRECTOR, "Director", "One"),
    ("caseworker1", "midwest", Role.CASEWORKER, "Caseworker", "One"),
    ("caseworker2", "midwest", Role.CASEWORKER, "Caseworker", "Two"),
    ("director2", "gulf", Role.DIRECTOR, "Director", "Two"),
    ("caseworker3", "gulf", Role.CASEWORKER, "Caseworker", "Three"),
)
STAFF_TITLES = {Role.DIRECTOR: "Program director", Role.CASEWORKER: "Reentry caseworker"}


@dataclass(frozen=True)
class ServiceRow:
    provider: str  # provider name without its place word, e.g. "Housing Collaborative"
    name: str
    domains: str  # space-separated NeedDomain values
    eligibility: str
    fees: str
    spanish: bool
    hours: str
    status: str = ResourceStatus.ACTIVE
    description: str = ""
    application: str = "Call to schedule an intake appointment; walk-ins welcome during open hours."


# One directory per organization is generated from this table: the provider gets the
# organization's place word, the location one of its cities.
SERVICES = (
    ServiceRow(
        "Community Food Pantry",
        "Weekly grocery pickup",
        "basic",
        "Anyone living in the area; no ID needed on the first visit.",
        "Free",
        True,
        "Tue and Thu 10am–2pm",
        description="A week of groceries, including fresh produce, once a week.",
    ),
    ServiceRow(
        "Community Food Pantry",
        "Hot meals and clothing closet",
        "basic",
        "Open to all.",
        "Free",
        True,
        "Mon–Sat 11am–1pm",
        description="A hot lunch every day and seasonal clothing, shoes and hygiene kits.",
        application="Walk in; no appointment or paperwork.",
    ),
    ServiceRow(
        "Digital Access Program",
        "Free phone and phone basics class",
        "basic education",
        "Adults with low income; people recently released are welcome.",
        "Free",
        False,
        "Mon–Fri 9am–5pm",
        description="A smartphone with a year of service and a two-session class on using it.",
    ),
    ServiceRow(
        "Housing Collaborative",
        "Emergency shelter beds",
        "housing basic",
        "Adults 18 and over; call by 3pm for a same-night bed.",
        "Free",
        True,
        "24 hours, 7 days",
        description="Short-term beds, showers, lockers and meals.",
        application="Call the intake line by 3pm; beds are assigned first come, first served.",
    ),
    ServiceRow(
        "Housing Collaborative",
        "Transitional housing (up to 24 months)",
        "housing",
        "Adults returning home after incarceration, including exonerees.",
        "Rent is 30% of income, none without income",
        False,
        "Mon–Fri 9am–5pm",
        description="A furnished room in shared housing with an on-site case manager.",
        application="Referral from a caseworker, then an interview on site.",
    ),
    ServiceRow(
        "Tenant Support Center",
        "Security deposit and first month's rent",
        "housing income",
        "Household income below 80% of the area median and a lease offer in hand.",
        "Free",
        True,
        "Mon–Thu 9am–4pm",
        description="One-time grant paid directly to the landlord.",
    ),
    ServiceRow(
        "Tenant Support Center",
        "Landlord-tenant legal clinic",
        "legal housing",
        "Tenants facing eviction, lockout or unsafe conditions.",
        "Free",
        True,
        "Wed 1pm–6pm",
        description="Advice and representation in landlord-tenant disputes.",
    ),
    ServiceRow(
        "Regional Housing Authority",
        "Housing Choice Voucher applications",
        "housing",
        "Income below 50% of the area median.",
        "Free",
        True,
        "Mon–Fri 8:30am–4:30pm",
        status=ResourceStatus.TEMPORARILY_CLOSED,
        description="Long-term rent subsidy. The waiting list is closed until further notice.",
    ),
    ServiceRow(
        "Transit Access Program",
        "Reduced-fare transit card",
        "transportation",
        "Income below 200% of the federal poverty level.",
        "$5 card fee, waived on request",
        True,
        "Mon–Fri 8am–6pm",
        description="Half-price bus and train fares for a year.",
    ),
    ServiceRow(
        "Rides to Work Cooperative",
        "Rides to interviews and medical appointments",
        "transportation employment medical",
        "Clients of a partner agency; book 48 hours ahead.",
        "Free",
        False,
        "Mon–Sat 6am–8pm",
        description="Door-to-door rides in the county.",
    ),
    ServiceRow(
        "Driver Education Center",
        "Driver's license test preparation",
        "transportation identification",
        "Adults with a valid state ID.",
        "$25 sliding scale",
        False,
        "Sat 9am–1pm",
        status=ResourceStatus.INACTIVE,
        description="Classroom and road-test practice. The program has ended.",
    ),
    ServiceRow(
        "ID Recovery Project",
        "Birth certificate and state ID",
        "identification",
        "Anyone without a current ID; fees are paid by the project.",
        "Free",
        True,
        "Mon, Wed, Fri 10am–3pm",
        description="Orders the birth certificate and goes with you to get the state ID.",
    ),
    ServiceRow(
        "ID Recovery Project",
        "Social Security card replacement",
        "identification income",
        "Anyone who needs a replacement card.",
        "Free",
        True,
        "Mon, Wed, Fri 10am–3pm",
        description="Help with the application and the documents it requires.",
    ),
    ServiceRow(
        "Benefits Access Center",
        "SNAP and cash assistance enrollment",
        "income basic",
        "Households with low income.",
        "Free",
        True,
        "Mon–Fri 9am–5pm",
        description="Screens for and applies to food and cash assistance in one visit.",
        application="Bring any ID you have and proof of address if you have it; we can help without them.",
    ),
    ServiceRow(
        "Benefits Access Center",
        "SSI and SSDI application help",
        "income health_coverage",
        "Adults with a disability or aged 65 and over.",
        "Free",
        True,
        "Mon–Fri 9am–5pm",
        description="Prepares and follows disability benefit applications and appeals.",
    ),
    ServiceRow(
        "Community Credit Union",
        "Second-chance checking account",
        "income",
        "Anyone, with no banking-history check.",
        "No monthly fee",
        True,
        "Mon–Fri 9am–5pm, Sat 9am–noon",
        description="A checking account with a debit card and free money orders.",
    ),
    ServiceRow(
        "Financial Coaching Network",
        "One-on-one financial coaching",
        "income education",
        "Adults in the county.",
        "Free",
        False,
        "By appointment, evenings available",
        description="Budgeting, credit repair and planning for a lump-sum payment.",
    ),
    ServiceRow(
        "Health Coverage Navigators",
        "Medicaid and Marketplace enrollment",
        "health_coverage",
        "Anyone without health coverage.",
        "Free",
        True,
        "Mon–Fri 9am–6pm",
        description="Enrollment help, followed up until the coverage card arrives.",
    ),
    ServiceRow(
        "Community Health Center",
        "Primary care",
        "medical health_coverage",
        "Everyone; insured or not.",
        "Sliding scale from $20",
        True,
        "Mon–Fri 8am–7pm, Sat 9am–1pm",
        description="Check-ups, chronic illness care and prescriptions.",
    ),
    ServiceRow(
        "Community Health Center",
        "Dental clinic",
        "medical",
        "Everyone; Medicaid accepted.",
        "Sliding scale from $25",
        True,
        "Tue–Fri 8am–4pm",
        description="Cleanings, fillings, extractions and dentures.",
    ),
    ServiceRow(
        "Vision Access Clinic",
        "Eye exams and glasses",
        "medical",
        "Adults with low income.",
        "Free",
        False,
        "Thu 9am–3pm",
        status=ResourceStatus.TEMPORARILY_CLOSED,
        description="Exams and a free pair of glasses. Closed while the clinic moves.",
    ),
    ServiceRow(
        "Trauma Recovery Center",
        "Counseling for trauma and PTSD",
        "mental_health",
        "Adults who lived through violence or wrongful imprisonment.",
        "Free",
        True,
        "Mon–Fri 9am–8pm",
        description="Individual therapy with clinicians experienced in incarceration trauma.",
    ),
    ServiceRow(
        "Trauma Recovery Center",
        "Peer support group for the wrongly convicted",
        "mental_health community",
        "People who were wrongly convicted, and their families.",
        "Free",
        False,
        "Every other Tuesday 6pm–8pm",
        description="A group led by exonerees for exonerees.",
    ),
    ServiceRow(
        "Crisis Line Services",
        "24/7 crisis line",
        "mental_health",
        "Anyone.",
        "Free",
        True,
        "24 hours, 7 days",
        description="Call or text any time to talk with a counselor.",
        application="Call or text; no intake needed.",
    ),
    ServiceRow(
        "Recovery Services",
        "Outpatient substance use treatment",
        "substance_use mental_health",
        "Adults; Medicaid and uninsured accepted.",
        "Sliding scale",
        True,
        "Mon–Fri 7am–7pm",
        description="Counseling and groups. Records are protected under 42 CFR Part 2.",
    ),
    ServiceRow(
        "Recovery Services",
        "Medication for opioid use disorder",
        "substance_use medical",
        "Adults with opioid use disorder.",
        "Medicaid accepted; sliding scale",
        False,
        "Mon–Sat 6am–11am",
        description="Buprenorphine and methadone with counseling.",
    ),
    ServiceRow(
        "Legal Aid Society",
        "Record expungement clinic",
        "legal",
        "Residents with an arrest or conviction record.",
        "Free",
        True,
        "First Saturday of the month 9am–1pm",
        description="Reviews your record and files the petitions.",
    ),
    ServiceRow(
        "Legal Aid Society",
        "Wrongful conviction compensation claims",
        "legal income",
        "People whose conviction was vacated or who were pardoned.",
        "Free",
        False,
        "Mon–Fri 9am–5pm",
        description="Prepares and files the state compensation claim before its deadline.",
    ),
    ServiceRow(
        "Family Law Project",
        "Custody and child support help",
        "legal family",
        "Parents with low income.",
        "Free",
        True,
        "Tue and Thu 9am–5pm",
        description="Advice and representation in custody, visitation and support cases.",
    ),
    ServiceRow(
        "Workforce Center",
        "Job readiness and placement",
        "employment",
        "Adults looking for work; records are not a barrier.",
        "Free",
        True,
        "Mon–Fri 8:30am–5pm",
        description="Résumés, interview practice and introductions to fair-chance employers.",
    ),
    ServiceRow(
        "Building Trades Pathway",
        "Construction pre-apprenticeship",
        "employment education",
        "Adults 18+ with a driver's license.",
        "Free, with a weekly stipend",
        False,
        "Mon–Fri 7am–3:30pm",
        description="Twelve weeks of paid training leading to union apprenticeships.",
    ),
    ServiceRow(
        "Adult Learning Center",
        "GED preparation",
        "education",
        "Adults 18+ without a high-school diploma.",
        "Free",
        True,
        "Mon–Thu 6pm–9pm",
        description="Classes and tutoring for all four GED subjects; test fees covered.",
    ),
    ServiceRow(
        "Community College",
        "Computer literacy for beginners",
        "education employment",
        "Adults; no experience needed.",
        "Free for residents",
        True,
        "Sat 10am–1pm",
        description="Email, the web, word processing and online job applications.",
    ),
    ServiceRow(
        "Family Reunification Services",
        "Family counseling and reunification",
        "family mental_health",
        "Families separated by incarceration.",
        "Free",
        True,
        "Mon–Fri 10am–7pm",
        description="Sessions for the whole family, at home or in the office.",
    ),
    ServiceRow(
        "Parenting Circle",
        "Parenting classes",
        "family",
        "Parents and grandparents raising children.",
        "Free",
        True,
        "Wed 6pm–8pm",
        description="Eight weekly sessions with a meal and child care.",
    ),
    ServiceRow(
        "Exoneree Peer Network",
        "Monthly exoneree gatherings",
        "community",
        "Exonerees and their families.",
        "Free",
        True,
        "Last Sunday of the month 2pm–5pm",
        description="A meal and an afternoon with others who have been through it.",
    ),
    ServiceRow(
        "Interfaith Welcome Circle",
        "Mentoring and welcome meals",
        "community basic",
        "Anyone returning home; no religious practice required.",
        "Free",
        False,
        "Sun 1pm–3pm",
        description="A volunteer mentor and a shared meal each week.",
    ),
    ServiceRow(
        "Volunteer Connection Hub",
        "Volunteering placements",
        "community employment",
        "Adults.",
        "Free",
        False,
        "Mon–Fri 10am–4pm",
        status=ResourceStatus.INACTIVE,
        description="Matched volunteering with local nonprofits. The program has ended.",
    ),
)
STREETS = ("Example St", "Sample Ave", "Demo Blvd", "Placeholder Rd", "Specimen Ln")


@dataclass(frozen=True)
class Ref:
    """A referral: to which service, where it ended, created and last changed how many days ago."""

    service: str
    status: str
    days_ago: int
    last_change_days_ago: int = 1
    note: str = ""
    decline_reason: str = ""
    got_service: bool | None = None
    helped: bool | None = None
    feedback: str = ""


@dataclass(frozen=True)
class NeedSpec:
    domain: str
    priority: str
    status: str
    description: str
    own_words: str
    opened_days_ago: int
    referrals: tuple[Ref, ...] = ()
    closed_days_ago: int = 1


@dataclass(frozen=True)
class FollowSpec:
    title: str
    due_in_days: int  # negative: in the past
    hour: int = 10
    details: str = ""
    outcome: str | None = None  # set: done, with this outcome
    need: str = ""  # NeedDomain of a need of this person
    shared: bool = True


@dataclass(frozen=True)
class CaseSpec:
    org: str
    caseworker: str
    legal_name: str
    username: str  # "" for no login
    pronouns: str
    language: str
    phone_suffix: str
    address: str
    contact: str
    contact_notes: str
    ok_to_leave_message: bool
    born: tuple[int, int, int]  # age in years, month, day
    ssn: str
    county: int  # index into the organization's counties
    years_inside: int
    released_days_ago: int
    compensation: str
    needs: tuple[NeedSpec, ...]
    follow_ups: tuple[FollowSpec, ...]
    notes: tuple[tuple[str, str, int], ...]  # (visibility, text, days ago)
    # (kind, days ago, 17 scores in AssessmentDomain order; spaces are ignored)
    assessments: tuple[tuple[str, int, str], ...] = field(default=())


S = ReferralStatus
P = Priority
N = NeedStatus
D = NeedDomain
STAFF_NOTE, SHARED_NOTE = NoteVisibility.STAFF, NoteVisibility.SHARED

CASES = (
    CaseSpec(
        org="midwest",
        caseworker="caseworker1",
        legal_name="Marcus Webb",
        username="exoneree1",
        pronouns="he/him",
        language=Language.ENGLISH,
        phone_suffix="0150",
        address="100 Example St, Apt 2\nChicago, IL 60601",
        contact=ContactPreference.TEXT,
        contact_notes="Texts are best; his cousin may answer the landline.",
        ok_to_leave_message=False,
        born=(52, 3, 14),
        ssn="900123456",
        county=0,
        years_inside=24,
        released_days_ago=40,
        compensation=CompensationStatus.NOT_YET_FILED,
        needs=(
            NeedSpec(
                D.HOUSING,
                P.URGENT,
                N.IN_PROGRESS,
                "A place of your own, so you don't have to sleep on a relative's couch.",
                "I need my own place. I can't keep sleeping on my cousin's couch.",
                38,
                (
                    Ref(
                        "Emergency shelter beds",
                        S.CANCELLED,
                        37,
                        36,
                        note="Needs a bed tonight if the couch falls through.",
                    ),
                    Ref(
                        "Transitional housing (up to 24 months)",
                        S.IN_PROGRESS,
                        30,
                        4,
                        note="Recently exonerated after 24 years; looking for a furnished room.",
                    ),
                ),
            ),
            NeedSpec(
                D.IDENTIFICATION,
                P.HIGH,
                N.MET,
                "Birth certificate and state ID.",
                "I walked out with nothing, not even an ID. Without it I can't do anything else.",
                38,
                (
                    Ref(
                        "Birth certificate and state ID",
                        S.COMPLETED,
                        37,
                        20,
                        got_service=True,
                        helped=True,
                        feedback="Birth certificate arrived; state ID issued the same week.",
                    ),
                ),
                closed_days_ago=20,
            ),
            NeedSpec(
                D.HEALTH_COVERAGE,
                P.HIGH,
                N.IN_PROGRESS,
                "Sign up for Medicaid before your blood-pressure medication runs out.",
                "I need to see a doctor about my blood pressure before the pills run out.",
                20,
                (Ref("Medicaid and Marketplace enrollment", S.SENT, 12, 11),),
            ),
            NeedSpec(
                D.MENTAL_HEALTH,
                P.MEDIUM,
                N.IN_PROGRESS,
                "Counseling when you are ready, and help with sleep.",
                "I don't sleep much. Maybe later I'd talk to somebody who understands what it was like.",
                15,
                (Ref("Counseling for trauma and PTSD", S.DRAFT, 2, 2),),
            ),
            NeedSpec(
                D.TRANSPORTATION,
                P.MEDIUM,
                N.IN_PROGRESS,
                "Getting to appointments across the city.",
                "Everything is far. I want to get around without asking for rides.",
                30,
                (Ref("Reduced-fare transit card", S.ACCEPTED, 10, 6),),
            ),
        ),
        follow_ups=(
            FollowSpec(
                "First-week contact after release",
                -34,
                outcome="Met at the office. Staying with family; wants ID and housing first.",
            ),
            FollowSpec("30-day check-in", -10, 14, outcome="ID done. Housing interview went well; sleeping badly."),
            FollowSpec("Call about the Medicaid application", -2, 11, need=D.HEALTH_COVERAGE),
            FollowSpec("Move-in walkthrough at the transitional house", 3, 13, need=D.HOUSING),
            FollowSpec("90-day check-in", 50),
            FollowSpec(
                "Start the compensation claim (deadline in about two years)",
                60,
                details="Refer to the compensation claims clinic well before the filing deadline.",
                shared=False,
            ),
        ),
        notes=(
            (
                STAFF_NOTE,
                "Reports sleeping three to four hours a night and startling at noise. Screened positive "
                "for PTSD symptoms; declined counseling for now, open to it later. Revisit at 90 days.",
                10,
            ),
            (
                SHARED_NOTE,
                "Your state ID is ready. Next: the Medicaid application, and the visit to the "
                "transitional house on the date in your plan.",
                20,
            ),
        ),
        assessments=((AssessmentKind.INTAKE, 35, "11121 12112 25223 33"),),
    ),
    CaseSpec(
        org="midwest",
        caseworker="caseworker1",
        legal_name="Delia Ruiz",
        username="",
        pronouns="she/her",
        language=Language.SPANISH,
        phone_suffix="0151",
        address="214 Sample Ave, Apt 3B\nAurora, IL 60505",
        contact=ContactPreference.PHONE,
        contact_notes="Prefers calls in Spanish after 5pm; OK to leave a message.",
        ok_to_leave_message=True,
        born=(47, 8, 2),
        ssn="901234567",
        county=1,
        years_inside=11,
        released_days_ago=550,
        compensation=CompensationStatus.AWARDED,
        needs=(
            NeedSpec(
                D.EMPLOYMENT,
                P.HIGH,
                N.IN_PROGRESS,
                "A job in a commercial kitchen, using the cooking you already know.",
                "Quiero volver a trabajar en una cocina. Antes cocinaba y me gustaba.",
                400,
                (
                    Ref(
                        "Construction pre-apprenticeship",
                        S.DECLINED,
                        380,
                        370,
                        decline_reason="Requires a driver's license, which she does not have yet.",
                    ),
                    Ref(
                        "Job readiness and placement",
                        S.COMPLETED,
                        360,
                        200,
                        got_service=True,
                        helped=False,
                        feedback="Finished the course and has a résumé; no kitchen job offer yet.",
                    ),
                    Ref("Computer literacy for beginners", S.UNRESOLVED, 150, 60),
                ),
            ),
            NeedSpec(
                D.FAMILY,
                P.HIGH,
                N.IN_PROGRESS,
                "Rebuilding your relationship with your adult daughter.",
                "Lo más importante para mí es recuperar la relación con mi hija.",
                500,
                (Ref("Family counseling and reunification", S.IN_PROGRESS, 300, 90),),
            ),
            NeedSpec(
                D.LEGAL,
                P.URGENT,
                N.MET,
                "File your state compensation claim.",
                "Quiero que el estado reconozca lo que me hizo.",
                545,
                (
                    Ref(
                        "Wrongful conviction compensation claims",
                        S.COMPLETED,
                        540,
                        120,
                        got_service=True,
                        helped=True,
                        feedback="Claim filed in month two; award granted.",
                    ),
                ),
                closed_days_ago=120,
            ),
            NeedSpec(
                D.HOUSING,
                P.HIGH,
                N.MET,
                "Deposit for an apartment.",
                "Necesito un lugar propio, aunque sea pequeño.",
                545,
                (
                    Ref(
                        "Security deposit and first month's rent",
                        S.COMPLETED,
                        530,
                        480,
                        got_service=True,
                        helped=True,
                        feedback="Deposit paid; she signed a one-year lease and renewed it.",
                    ),
                ),
                closed_days_ago=480,
            ),
        ),
        follow_ups=(
            FollowSpec("One-year check-in", -185, 17, outcome="Stable housing, award received, still job hunting."),
            FollowSpec("Ask how family counseling is going", -5, 17, need=D.FAMILY),
            FollowSpec("18-month check-in", 2, 17),
            FollowSpec("Kitchen job fair with the workforce center", 9, 10, need=D.EMPLOYMENT),
        ),
        notes=(
            (
                STAFF_NOTE,
                "Compensation award arrived; she asked for help planning for it. Suggested the "
                "financial coaching service; she will think about it.",
                110,
            ),
            (
                SHARED_NOTE,
                "La feria de empleo es el día que aparece en su plan. Lleve su currículum.",
                6,
            ),
        ),
        assessments=(
            (AssessmentKind.INTAKE, 545, "11213 32212 25212 23"),
            (AssessmentKind.INTERIM, 365, "32413 33432 35323 33"),
            (AssessmentKind.INTERIM, 30, "52514 34543 45434 43"),
        ),
    ),
    CaseSpec(
        org="midwest",
        caseworker="caseworker2",
        legal_name="Thomas Okafor",
        username="exoneree2",
        pronouns="he/him",
        language=Language.ENGLISH,
        phone_suffix="0152",
        address="38 Demo Blvd\nWaukegan, IL 60085",
        contact=ContactPreference.EMAIL,
        contact_notes="Works days; email or call after 6pm.",
        ok_to_leave_message=True,
        born=(41, 11, 23),
        ssn="902345678",
        county=2,
        years_inside=16,
        released_days_ago=300,
        compensation=CompensationStatus.FILED,
        needs=(
            NeedSpec(
                D.INCOME,
                P.HIGH,
                N.IN_PROGRESS,
                "Disability benefits for your back injury, and a bank account.",
                "I want my own bank account and to stop cashing checks at the corner store.",
                290,
                (
                    Ref(
                        "Second-chance checking account",
                        S.COMPLETED,
                        285,
                        270,
                        got_service=True,
                        helped=True,
                        feedback="Account open with a debit card.",
                    ),
                    Ref("SSI and SSDI application help", S.IN_PROGRESS, 200, 30),
                ),
            ),
            NeedSpec(
                D.MEDICAL,
                P.MEDIUM,
                N.IN_PROGRESS,
                "Dental care for the teeth that hurt.",
                "My teeth hurt every day. I'd like to smile in a job interview.",
                120,
                (Ref("Dental clinic", S.ACCEPTED, 25, 8),),
            ),
            NeedSpec(
                D.EMPLOYMENT,
                P.MEDIUM,
                N.OPEN,
                "Steady job with daytime hours.",
                "I'm working day labor. I want something steady with the same hours every day.",
                250,
                (Ref("Job readiness and placement", S.UNRESOLVED, 240, 150),),
            ),
            NeedSpec(
                D.COMMUNITY,
                P.LOW,
                N.MET,
                "Meeting other exonerees.",
                "I want to talk with people who went through the same thing.",
                280,
                (
                    Ref(
                        "Monthly exoneree gatherings",
                        S.COMPLETED,
                        270,
                        200,
                        got_service=True,
                        helped=True,
                        feedback="Goes every month; now helps set up.",
                    ),
                ),
                closed_days_ago=200,
            ),
        ),
        follow_ups=(
            FollowSpec("180-day check-in", -120, 18, outcome="Working day labor; SSDI application started."),
            FollowSpec("Check on the SSDI decision", -1, 18, need=D.INCOME),
            FollowSpec("Dental appointment", 6, 9, need=D.MEDICAL),
            FollowSpec("One-year check-in", 65, 18),
        ),
        notes=(
            (
                STAFF_NOTE,
                "The claim with the Court of Claims was filed; the legal team expects a hearing date "
                "within the year. Told him it could take months.",
                150,
            ),
            (
                SHARED_NOTE,
                "The dental clinic accepted you. Bring your Medicaid card to the appointment in your plan.",
                8,
            ),
        ),
        assessments=(
            (AssessmentKind.INTAKE, 295, "11222 33212 24233 33"),
            (AssessmentKind.INTERIM, 120, "23322 33323 34333 33"),
        ),
    ),
    CaseSpec(
        org="midwest",
        caseworker="caseworker2",
        legal_name="Ray Castillo",
        username="",
        pronouns="he/him",
        language=Language.SPANISH,
        phone_suffix="0153",
        address="7 Placeholder Rd, Unit 1\nRockford, IL 61101",
        contact=ContactPreference.PHONE,
        contact_notes="Call in Spanish; his brother may answer and will pass on a message.",
        ok_to_leave_message=True,
        born=(58, 5, 30),
        ssn="903456789",
        county=0,
        years_inside=19,
        released_days_ago=688,
        compensation=CompensationStatus.NOT_YET_FILED,
        needs=(
            NeedSpec(
                D.LEGAL,
                P.URGENT,
                N.IN_PROGRESS,
                "File your state compensation claim before the deadline.",
                "No quiero perder la compensación por no llenar un papel a tiempo.",
                60,
                (Ref("Wrongful conviction compensation claims", S.ACCEPTED, 55, 20),),
            ),
            NeedSpec(
                D.SUBSTANCE_USE,
                P.HIGH,
                N.IN_PROGRESS,
                "Continuing outpatient treatment.",
                "Quiero seguir limpio. Las reuniones me ayudan.",
                600,
                (Ref("Outpatient substance use treatment", S.IN_PROGRESS, 590, 400),),
            ),
            NeedSpec(
                D.TRANSPORTATION,
                P.LOW,
                N.NO_LONGER_WANTED,
                "Bus fare to appointments.",
                "Ya no necesito el pase de autobús; mi hermano me ayudó a comprar un carro.",
                650,
                (Ref("Reduced-fare transit card", S.CANCELLED, 640, 500),),
                closed_days_ago=500,
            ),
            NeedSpec(
                D.HOUSING,
                P.MEDIUM,
                N.MET,
                "A small apartment of your own.",
                "Necesito un lugar propio, aunque sea pequeño.",
                680,
                (
                    Ref(
                        "Security deposit and first month's rent",
                        S.COMPLETED,
                        670,
                        600,
                        got_service=True,
                        helped=True,
                        feedback="Deposit paid; moved in.",
                    ),
                ),
                closed_days_ago=600,
            ),
        ),
        follow_ups=(
            FollowSpec("One-year check-in", -320, 17, outcome="Housed, in treatment, driving his own car."),
            FollowSpec(
                "Confirm the signed release of information for legal aid",
                -3,
                11,
                need=D.LEGAL,
                shared=False,
            ),
            FollowSpec("Appointment at legal aid for the compensation claim", 4, 10, need=D.LEGAL),
            FollowSpec(
                "Compensation claim must be filed: deadline in two weeks",
                26,
                9,
                details="Filing deadline is two years from exoneration; escalate to the director if not filed.",
                need=D.LEGAL,
                shared=False,
            ),
        ),
        notes=(
            (
                STAFF_NOTE,
                "He had not known the compensation deadline existed. Legal aid accepted the case; "
                "they need the signed release before they can request court records.",
                20,
            ),
            (
                SHARED_NOTE,
                "Su cita con la oficina de ayuda legal es el día que aparece en su plan. Traiga su identificación.",
                19,
            ),
        ),
        assessments=((AssessmentKind.INTAKE, 680, "11123 32212 21323 33"),),
    ),
    CaseSpec(
        org="gulf",
        caseworker="caseworker3",
        legal_name="Anita Brooks",
        username="exoneree3",
        pronouns="she/her",
        language=Language.ENGLISH,
        phone_suffix="0150",
        address="100 Example St, Apt 2\nTampa, FL 33602",
        contact=ContactPreference.TEXT,
        contact_notes="Text first; OK to leave a message.",
        ok_to_leave_message=True,
        born=(44, 1, 9),
        ssn="904412345",
        county=0,
        years_inside=13,
        released_days_ago=200,
        compensation=CompensationStatus.NOT_YET_FILED,
        needs=(
            NeedSpec(
                D.HOUSING,
                P.HIGH,
                N.IN_PROGRESS,
                "Long-term housing near your son's school.",
                "I want a place where my son can stay with me on weekends.",
                195,
                (
                    Ref(
                        "Housing Choice Voucher applications",
                        S.DECLINED,
                        190,
                        170,
                        decline_reason="The voucher waiting list is closed; they will call when it reopens.",
                    ),
                    Ref("Transitional housing (up to 24 months)", S.ACCEPTED, 160, 12),
                ),
            ),
            NeedSpec(
                D.INCOME,
                P.HIGH,
                N.MET,
                "Food assistance while you look for work.",
                "I need groceries now, not in a month.",
                195,
                (
                    Ref(
                        "SNAP and cash assistance enrollment",
                        S.COMPLETED,
                        190,
                        175,
                        got_service=True,
                        helped=True,
                        feedback="SNAP approved in two weeks.",
                    ),
                ),
                closed_days_ago=175,
            ),
            NeedSpec(
                D.HEALTH_COVERAGE,
                P.URGENT,
                N.MET,
                "Medicaid, so your diabetes medication is covered.",
                "I have diabetes and I can't go without my insulin.",
                198,
                (
                    Ref(
                        "Medicaid and Marketplace enrollment",
                        S.COMPLETED,
                        197,
                        185,
                        got_service=True,
                        helped=True,
                        feedback="Coverage active; first primary-care visit done.",
                    ),
                ),
                closed_days_ago=185,
            ),
            NeedSpec(
                D.MENTAL_HEALTH,
                P.MEDIUM,
                N.IN_PROGRESS,
                "Support with anxiety in crowds.",
                "Crowds make my heart race. I want to feel normal at the grocery store.",
                150,
                (Ref("Peer support group for the wrongly convicted", S.IN_PROGRESS, 140, 100),),
            ),
            NeedSpec(
                D.FAMILY,
                P.MEDIUM,
                N.OPEN,
                "A visiting schedule with your son.",
                "I want a real schedule with my son, written down, so nobody can change it.",
                40,
                (Ref("Custody and child support help", S.DRAFT, 3, 3),),
            ),
        ),
        follow_ups=(
            FollowSpec("30-day check-in", -170, 10, outcome="SNAP and Medicaid approved; housing is the worry."),
            FollowSpec("180-day check-in", -20, 10, outcome="Transitional room accepted; moving next month."),
            FollowSpec("Send the custody referral", -1, 15, need=D.FAMILY, shared=False),
            FollowSpec("Peer group meeting", 5, 18, need=D.MENTAL_HEALTH),
            FollowSpec("Move-in day at the transitional house", 12, 9, need=D.HOUSING),
        ),
        notes=(
            (
                STAFF_NOTE,
                "Mentioned panic in crowded places; she finds the peer group helps more than "
                "she expected. No safety concerns raised.",
                60,
            ),
            (
                SHARED_NOTE,
                "Your room at the transitional house is confirmed. Bring your ID and Medicaid card on move-in day.",
                12,
            ),
        ),
        assessments=(
            (AssessmentKind.INTAKE, 198, "11111 22212 23222 22"),
            (AssessmentKind.INTERIM, 25, "23333 22423 34333 33"),
        ),
    ),
    CaseSpec(
        org="gulf",
        caseworker="caseworker3",
        legal_name="Samuel Price",
        username="",
        pronouns="he/him",
        language=Language.ENGLISH,
        phone_suffix="0151",
        address="52 Specimen Ln\nClearwater, FL 33755",
        contact=ContactPreference.PHONE,
        contact_notes="Mornings only.",
        ok_to_leave_message=False,
        born=(63, 6, 17),
        ssn="905321098",
        county=1,
        years_inside=27,
        released_days_ago=900,
        compensation=CompensationStatus.NOT_ELIGIBLE,
        needs=(
            NeedSpec(
                D.EMPLOYMENT,
                P.HIGH,
                N.IN_PROGRESS,
                "Part-time work that fits your age and health.",
                "I'm not ready to just sit. I want a part-time job where I'm useful.",
                90,
                (
                    Ref("Volunteering placements", S.CANCELLED, 85, 80, note="Program ended."),
                    Ref("Job readiness and placement", S.SENT, 14, 13),
                ),
            ),
            NeedSpec(
                D.EDUCATION,
                P.MEDIUM,
                N.IN_PROGRESS,
                "GED.",
                "I promised my mother I'd finish school. I'm going to keep that promise.",
                300,
                (Ref("GED preparation", S.IN_PROGRESS, 290, 100),),
            ),
            NeedSpec(
                D.LEGAL,
                P.MEDIUM,
                N.OPEN,
                "Clear an old record that blocks your job applications.",
                "That old charge keeps showing up on every background check.",
                200,
                (Ref("Record expungement clinic", S.UNRESOLVED, 190, 60),),
            ),
            NeedSpec(
                D.COMMUNITY,
                P.LOW,
                N.MET,
                "Company on Sundays.",
                "Sundays are long when you live alone.",
                800,
                (
                    Ref(
                        "Mentoring and welcome meals",
                        S.COMPLETED,
                        790,
                        700,
                        got_service=True,
                        helped=True,
                        feedback="Goes every week; a volunteer drives him.",
                    ),
                ),
                closed_days_ago=700,
            ),
        ),
        follow_ups=(
            FollowSpec("Two-year check-in", -165, 10, outcome="Doing well; GED classes going; wants part-time work."),
            FollowSpec("Call the workforce center about the referral", -4, 10, need=D.EMPLOYMENT, shared=False),
            FollowSpec("GED practice test", 8, 9, need=D.EDUCATION),
            FollowSpec("Quarterly check-in", 30, 10),
        ),
        notes=(
            (
                STAFF_NOTE,
                "Not eligible for state compensation under the statute's prior-record clause; legal "
                "team confirmed. He took it calmly and wants to focus on work and school.",
                700,
            ),
            (SHARED_NOTE, "Your GED practice test is on the date in your plan. Classes continue Mondays.", 7),
        ),
        assessments=((AssessmentKind.INTAKE, 890, "11213 32122 25213 33"),),
    ),
)

# Which statuses a referral passes through to end in each one (services.lifecycle allows these).
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


DEMO_DEVICE_NAME = "Demo authenticator"


def demo_totp_key(username: str) -> str:
    """The demo account's TOTP key (hex, as django-otp stores it): the same on every machine."""
    return hashlib.sha256(f"reentry-demo-totp:{username}".encode()).hexdigest()[:40]


def demo_totp_secret(username: str) -> str:
    """The same key in base32, the form authenticator apps ask for."""
    return base64.b32encode(bytes.fromhex(demo_totp_key(username))).decode()


def demo_usernames() -> list[str]:
    return [row[0] for row in STAFF] + [case.username for case in CASES if case.username]


# --- the command ------------------------------------------------------------------------------


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
        password = given or secrets.token_urlsafe(12)
        if given:
            try:
                validate_password(given)
            except ValidationError as exc:
                self.stderr.write(self.style.WARNING("Warning: weak demo password: " + " ".join(exc.messages)))

        self.today = timezone.localdate()
        self.now = timezone.now()
        self.created: dict[str, int] = {}
        with transaction.atomic():
            existed = User.objects.filter(username__in=demo_usernames()).exists()
            orgs = {spec.key: self.organization(spec) for spec in ORGANIZATIONS}
            users = self.staff(orgs)
            directors = {users[u].staff.organization_id: users[u] for u, _, role, *_ in STAFF if role == Role.DIRECTOR}
            for spec in ORGANIZATIONS:
                self.directory(spec, orgs[spec.key], directors[orgs[spec.key].pk])
            for case in CASES:
                org = orgs[case.org]
                exoneree_user = self.case(case, org, directors[org.pk], users[case.caseworker])
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
            # The demo writes rows directly, not through tracked actions: count them once.
            for org in orgs.values():
                outcome_counts.recount(org)

        self.report(orgs, users, password=password, given=bool(given), existed=existed)

    # Organizations and staff.

    def organization(self, spec: OrgSpec) -> Organization:
        org, created = Organization.objects.get_or_create(name=spec.name, defaults={"timezone": spec.timezone})
        self.count("organizations", created)
        return org

    def staff(self, orgs: dict[str, Organization]) -> dict[str, Any]:
        users = {}
        for number, (username, org_key, role, first, last) in enumerate(STAFF):
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@{EMAIL_DOMAIN}", "first_name": first, "last_name": last},
            )
            self.count("staff accounts", created)
            org = orgs[org_key]
            spec = next(s for s in ORGANIZATIONS if s.key == org_key)
            StaffMember.objects.get_or_create(
                user=user,
                defaults={
                    "organization": org,
                    "role": role,
                    "title": STAFF_TITLES[role],
                    "phone": f"({spec.area_code}) 555-{160 + number:04d}",
                },
            )
            users[username] = user
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

    def directory(self, spec: OrgSpec, org: Organization, director: Any) -> None:
        existing = set(Resource.objects.filter(organization=org).values_list("provider__name", "name"))
        prefixes: dict[str, str] = {}
        for i, row in enumerate(SERVICES):
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
            city, postal_code = spec.cities[i % len(spec.cities)]
            resource = Resource(
                provider=provider,
                name=row.name,
                description=row.description,
                eligibility=row.eligibility,
                fees=row.fees,
                application_process=row.application,
                languages="English, Spanish" if row.spanish else "English",
                address=f"{100 + 12 * i} {STREETS[i % len(STREETS)]}",
                city=city,
                state=spec.state,
                postal_code=postal_code,
                phone=f"({spec.area_code}) 555-{100 + i:04d}",
                intake_email=intake_email,
                hours=row.hours,
                status=row.status,
            )
            directory_actions.resource_save(by=director, resource=resource, domains=row.domains.split())
            self.count("resources", True)

    # One exoneree and their case history.

    def case(self, case: CaseSpec, org: Organization, director: Any, caseworker: Any) -> Any:
        spec = next(s for s in ORGANIZATIONS if s.key == case.org)
        exoneree = Exoneree.objects.filter(organization=org, legal_name=case.legal_name).first()
        if exoneree is None:
            released = self.today - timedelta(days=case.released_days_ago)
            exonerated = released - timedelta(days=2)
            age, month, day = case.born
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
                date_of_birth=date(self.today.year - age, month, day),
                ssn=case.ssn,
                conviction_state=spec.state,
                conviction_county=spec.counties[case.county],
                conviction_date=released - timedelta(days=round(case.years_inside * 365.25)),
                release_date=released,
                exoneration_date=exonerated,
                compensation_status=case.compensation,
                compensation_deadline=exonerated + timedelta(days=730),
            )
            exoneree.full_clean()
            exoneree.save()
            self.count("exonerees", True)
        if not exoneree.caseworkers.exists():
            people.caseload_assign(by=director, exoneree=exoneree, caseworkers=[caseworker])
        reminders_plan_for_exoneree(exoneree)  # compensation-deadline warnings

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
        if not exoneree.notes.exists():
            for visibility, text, days_ago in case.notes:
                note = CaseNote(text=text, visibility=visibility, created_at=self.now - timedelta(days=days_ago))
                casework.note_save(by=caseworker, exoneree=exoneree, note=note)
                self.count("notes", True)
        if not exoneree.assessments.exists():
            for kind, days_ago, digits in case.assessments:
                values = [int(c) for c in digits if not c.isspace()]
                if len(values) != len(AssessmentDomain.values):
                    raise CommandError(f"{case.legal_name}: an assessment needs {len(AssessmentDomain.values)} scores.")
                assessment = Assessment(kind=kind, taken_on=self.today - timedelta(days=days_ago))
                casework.assessment_save(
                    by=caseworker,
                    exoneree=exoneree,
                    assessment=assessment,
                    scores=dict(zip(AssessmentDomain.values, values, strict=True)),
                )
                self.count("assessments", True)
        return user

    def needs(self, case: CaseSpec, org: Organization, exoneree: Exoneree, caseworker: Any) -> None:
        for spec in case.needs:
            need = Need(
                domain=spec.domain,
                description=spec.description,
                own_words=spec.own_words,
                priority=spec.priority,
                opened_on=self.today - timedelta(days=spec.opened_days_ago),
            )
            needs_actions.need_create(by=caseworker, exoneree=exoneree, need=need)
            self.count("needs", True)
            for ref in spec.referrals:
                self.referral(ref, org, need, caseworker)
            if need.status != spec.status:
                closed = self.today - timedelta(days=spec.closed_days_ago)
                needs_actions.need_set_status(by=caseworker, need=need, status=spec.status, today=closed)

    def referral(self, ref: Ref, org: Organization, need: Need, caseworker: Any) -> None:
        resource = Resource.objects.filter(organization=org, name=ref.service).first()
        if resource is None:
            raise CommandError(f"No demo resource named {ref.service!r} in {org}.")
        referral = referrals_actions.referral_create(by=caseworker, need=need, resource=resource, note=ref.note)
        if REFERRAL_PATHS[ref.status]:
            self.consent(need.exoneree, resource, coverage.referral_categories(referral), ref.days_ago, caseworker)
        for status in REFERRAL_PATHS[ref.status]:
            final = status == ref.status
            referrals_actions.referral_transition(
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
        Referral.objects.filter(pk=referral.pk).update(created_at=start, status_changed_at=events[-1].at)
        # History: its providers were told long ago, not by an email of this run.
        Reminder.objects.filter(referral=referral, kind=ReminderKind.REFERRAL_NOTICE).update(
            status=ReminderStatus.CANCELLED, reason="Demo history: not emailed."
        )
        self.count("referrals", True)

    def consent(self, exoneree: Exoneree, resource: Resource, categories: list[str], days_ago: int, by: Any) -> None:
        """The signed release a sent referral needs: one per provider, naming what it shares."""
        signed = self.today - timedelta(days=days_ago + 1)
        covered = set(
            ConsentCategoryRow.objects.filter(
                consent__exoneree=exoneree, consent__provider=resource.provider
            ).values_list("category", flat=True)
        )
        if set(categories) <= covered:
            return
        consent = Consent(
            provider=resource.provider,
            purpose=f"So that {resource.provider.name} can help with what {exoneree.first_name} asked for.",
            starts_on=signed,
            ends_on=self.today + timedelta(days=365),
            signed_how=ConsentSignedHow.PAPER,
            signed_on=signed,
        )
        consent_actions.consent_create(by=by, exoneree=exoneree, consent=consent, categories=categories)

    def follow_ups(self, case: CaseSpec, spec: OrgSpec, exoneree: Exoneree, caseworker: Any) -> None:
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
                follow_up.done_at = due + timedelta(hours=1)
                follow_up.outcome = item.outcome
            follow_ups_actions.follow_up_save(by=caseworker, exoneree=exoneree, follow_up=follow_up)
            self.count("follow-ups", True)

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
        self, orgs: dict[str, Organization], users: dict[str, Any], *, password: str, given: bool, existed: bool
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
            if existed:
                write("The demo already existed; a new password was generated and set on every demo account.")
            write(self.style.SUCCESS(f"Password for every demo account: {password}"))
        write("")
        write("Staff accounts also need a code from an authenticator app (two-step sign-in). Add")
        write("each secret below to one (Google Authenticator, FreeOTP, ...: 'enter a setup key',")
        write("time-based), or print the current code with `python manage.py demo_code <username>`.")
        write("The secrets are fixed: they stay the same on every run.")
        for username, _, _, _, _ in STAFF:
            write(f"  {username.ljust(12)} {demo_totp_secret(username)}")
