"""Fixed vocabularies of the domain (see shared DOMAIN.md)."""

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    DIRECTOR = "director", _("Director")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Español")


class ContactPreference(models.TextChoices):
    PHONE = "phone", _("Phone call")
    TEXT = "text", _("Text message")
    EMAIL = "email", _("Email")
    MAIL = "mail", _("Letter")
    IN_PERSON = "in_person", _("In person only")
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")


class NeedDomain(models.TextChoices):
    BASIC = "basic", _("Basic needs")
    HOUSING = "housing", _("Housing")
    TRANSPORTATION = "transportation", _("Transportation")
    IDENTIFICATION = "identification", _("Identification documents")
    INCOME = "income", _("Income and benefits")
    HEALTH_COVERAGE = "health_coverage", _("Health coverage")
    MEDICAL = "medical", _("Medical, dental and vision care")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    SUBSTANCE_USE = "substance_use", _("Substance use treatment")
    LEGAL = "legal", _("Legal")
    EMPLOYMENT = "employment", _("Employment and job training")
    EDUCATION = "education", _("Education")
    FAMILY = "family", _("Family and relationships")
    COMMUNITY = "community", _("Community and peer support")
    # What the person asked for without choosing an area (issue 19): the caseworker may
    # move it to one when they take it on.
    OTHER = "other", _("Something else")


# Each area in the person's own words (in the order they pick from when they ask): what their
# plan, their requests, their messages and their copy say, where staff read NeedDomain's words.
PLAIN_DOMAINS = {
    NeedDomain.BASIC: _("Food, clothes or a phone"),
    NeedDomain.HOUSING: _("A place to live"),
    NeedDomain.TRANSPORTATION: _("Getting around"),
    NeedDomain.IDENTIFICATION: _("ID papers"),
    NeedDomain.INCOME: _("Money and benefits"),
    NeedDomain.HEALTH_COVERAGE: _("Health insurance"),
    NeedDomain.MEDICAL: _("A doctor, dentist or eye doctor"),
    NeedDomain.MENTAL_HEALTH: _("Stress, sleep or feelings"),
    NeedDomain.SUBSTANCE_USE: _("Drugs or alcohol"),
    NeedDomain.LEGAL: _("Legal papers or a lawyer"),
    NeedDomain.EMPLOYMENT: _("A job"),
    NeedDomain.EDUCATION: _("School or learning"),
    NeedDomain.FAMILY: _("Family"),
    NeedDomain.COMMUNITY: _("Meeting people"),
}


def plain_domain(domain: str) -> str:
    """A need's area as the person reads it ("Food, clothes or a phone", not "Basic needs")."""
    return str(PLAIN_DOMAINS.get(domain) or NeedDomain(domain).label)


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class AskState(models.TextChoices):
    """What became of a need the person asked for themselves on their plan (blank: a need
    staff recorded)."""

    WAITING = "waiting", _("Waiting for the caseworker")
    TAKEN_ON = "taken_on", _("Taken on")
    ANSWERED = "answered", _("Answered")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    MET = "met", _("Met")
    NO_LONGER_WANTED = "no_longer_wanted", _("No longer wanted")


class ResourceStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TEMPORARILY_CLOSED = "temporarily_closed", _("Temporarily closed")
    INACTIVE = "inactive", _("Inactive")


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    UNRESOLVED = "unresolved", _("Unresolved")
    CANCELLED = "cancelled", _("Cancelled")


class NoteVisibility(models.TextChoices):
    STAFF = "staff", _("Staff only")
    SHARED = "shared", _("Shared with the person")


class AssessmentKind(models.TextChoices):
    INTAKE = "intake", _("Intake")
    INTERIM = "interim", _("Interim")
    EXIT = "exit", _("Exit")


class AssessmentDomain(models.TextChoices):
    """The Arizona Self-Sufficiency Matrix's 17 domains."""

    INCOME = "income", _("Income")
    EMPLOYMENT = "employment", _("Employment")
    HOUSING = "housing", _("Housing")
    FOOD = "food", _("Food")
    CHILDCARE = "childcare", _("Childcare")
    CHILDRENS_EDUCATION = "childrens_education", _("Children's education")
    ADULT_EDUCATION = "adult_education", _("Adult education")
    LEGAL = "legal", _("Legal")
    HEALTH_CARE = "health_care", _("Health care coverage")
    LIFE_SKILLS = "life_skills", _("Life skills")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    FAMILY_RELATIONS = "family_relations", _("Family relations")
    MOBILITY = "mobility", _("Mobility")
    COMMUNITY = "community", _("Community involvement")
    SAFETY = "safety", _("Safety")
    PARENTING = "parenting", _("Parenting skills")


SCORE_LABELS = {
    1: _("In crisis"),
    2: _("Vulnerable"),
    3: _("Safe"),
    4: _("Building capacity"),
    5: _("Empowered"),
}


class ReminderChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")


class ReminderKind(models.TextChoices):
    BEFORE = "before", _("Follow-up due soon")
    DUE = "due", _("Follow-up due now")
    OVERDUE = "overdue", _("Follow-up overdue")
    ESCALATION = "escalation", _("Overdue follow-up escalated")
    DIGEST = "digest", _("Morning digest")
    COMPENSATION_90 = "compensation_90", _("Compensation deadline in 90 days")
    COMPENSATION_30 = "compensation_30", _("Compensation deadline in 30 days")
    COMPENSATION_7 = "compensation_7", _("Compensation deadline in 7 days")
    COMPENSATION_0 = "compensation_0", _("Compensation deadline today")
    EXONEREE_APPOINTMENT = "exoneree_appointment", _("Appointment reminder to the person")
    RECORD_RECHECK = "record_recheck", _("Check a cleared record again")
    # The referral loop (services/referral_reminders.py): rows with a referral.
    REFERRAL_NOTICE = "referral_notice", _("Referral sent to the provider")
    PROVIDER_NUDGE = "provider_nudge", _("Unanswered referral: nudge to the provider")
    PROVIDER_REPLY = "provider_reply", _("The provider's question answered: word to the provider")
    REFERRAL_UNANSWERED = "referral_unanswered", _("Referral not answered by the provider")
    REFERRAL_NOT_COMPLETED = "referral_not_completed", _("Accepted referral not completed")
    REFERRAL_ESCALATION = "referral_escalation", _("Stalled referral escalated")
    # An ID about to expire (services/document_reminders.py): rows with a document.
    DOCUMENT_EXPIRY = "document_expiry", _("ID expires in 60 days")
    DOCUMENT_EXPIRY_PERSON = "document_expiry_person", _("ID expiry reminder to the person")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    CLAIMED = "claimed", _("Queued")
    SENDING = "sending", _("Sending")
    # A reminder (el recordatorio) is masculine in Spanish, a referral (la remisión) feminine.
    SENT = "sent", pgettext_lazy("a reminder", "Sent")
    FAILED = "failed", _("Could not be sent")
    CANCELLED = "cancelled", pgettext_lazy("a reminder", "Cancelled")


class ConsentCategory(models.TextChoices):
    """What a release of information lets us share. Substance use is 42 CFR Part 2: it is
    shared only under a consent that names it, never under a broader one."""

    CONTACT = "contact", _("Contact details")
    HOUSING = "housing", _("Housing")
    MEDICAL = "medical", _("Medical")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    LEGAL = "legal", _("Legal")
    # A transfer of the record to another member organization (issue 23): the consent names
    # it, and names staff case notes too if those may go with it.
    TRANSFER = "transfer", _("Transfer of the record")
    STAFF_NOTES = "staff_notes", _("Staff case notes")

    @classmethod
    def in_order(cls, values: Iterable[str]) -> list[str]:
        """The given categories in the fixed order of this list (how pages and logs show them)."""
        wanted = set(values)
        return [value for value in cls.values if value in wanted]


# What a referral can carry to a provider: not the record's transfer nor staff notes (those
# are a transfer's to another organization, services/actions/transfers.py).
REFERRAL_CATEGORIES = [
    (value, label)
    for value, label in ConsentCategory.choices
    if value not in (ConsentCategory.TRANSFER, ConsentCategory.STAFF_NOTES)
]

# What a referral for a need of each domain carries besides contact details (always carried).
CATEGORY_FOR_DOMAIN: dict[str, str] = {
    NeedDomain.HOUSING: ConsentCategory.HOUSING,
    NeedDomain.MEDICAL: ConsentCategory.MEDICAL,
    NeedDomain.MENTAL_HEALTH: ConsentCategory.MENTAL_HEALTH,
    NeedDomain.SUBSTANCE_USE: ConsentCategory.SUBSTANCE_USE,
    NeedDomain.LEGAL: ConsentCategory.LEGAL,
}


class ConsentSignedHow(models.TextChoices):
    PAPER = "paper", _("On paper")
    ELECTRONIC = "electronic", _("Electronically")
    VERBAL = "verbal", _("Verbally, with a witness")


class ConsentRevokedHow(models.TextChoices):
    STAFF = "staff", _("By staff, on the person's word")
    SELF = "self", _("By the person, on their plan")


class EmergencyReview(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    FLAGGED = "flagged", _("Flagged")


class ProviderLinkEnd(models.TextChoices):
    """Why a provider's link stopped working before it expired."""

    REPLACED = "replaced", _("A newer link replaced it")
    STAFF = "staff", _("Revoked by staff")


class DeclineReason(models.TextChoices):
    """The provider's short list of reasons to decline a referral."""

    NO_CAPACITY = "no_capacity", _("No space or capacity right now")
    NOT_ELIGIBLE = "not_eligible", _("The person is not eligible")
    NOT_OFFERED = "not_offered", _("We do not offer this service")
    UNREACHABLE = "unreachable", _("We could not reach the person")
    OTHER = "other", _("Another reason")


# The reasons a provider gives for a referral it accepted and then could not do (it ends
# "unresolved"): the ones of DeclineReason that can come after accepting.
UNRESOLVED_REASONS = (DeclineReason.UNREACHABLE, DeclineReason.NOT_ELIGIBLE, DeclineReason.OTHER)


class PersonAnswer(models.TextChoices):
    """The exoneree's own word on a referral: did they get help?"""

    YES = "yes", _("Yes")
    NOT_YET = "not_yet", _("Not yet")
    NO = "no", _("No")


# --- legal remedies (services/models/legal.py) ------------------------------------------------


class TriggerEvent(models.TextChoices):
    """What starts a compensation statute's filing window (services/data/compensation_rules.yaml)."""

    VACATUR_DISMISSAL = "vacatur_dismissal", _("Conviction vacated and charges dismissed")
    ACQUITTAL_RETRIAL = "acquittal_retrial", _("Acquitted on retrial")
    PARDON = "pardon", _("Pardon")
    CERTIFICATE_OF_INNOCENCE = "certificate_of_innocence", _("Certificate or finding of innocence")
    RELEASE = "release", _("Release from prison")


class ClaimStage(models.TextChoices):
    ASSESSING = "assessing", _("Assessing eligibility")
    ATTORNEY_ENGAGED = "attorney_engaged", _("Attorney engaged")
    FILED = "filed", _("Filed")
    HEARING = "hearing", _("Hearing")
    AWARDED = "awarded", _("Awarded")
    DENIED = "denied", _("Denied")
    APPEAL = "appeal", _("On appeal")
    PAID = "paid", _("Paid")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible (no statute or disqualified)")
    CLOSED = "closed", _("Closed without filing")


class CertificateStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    GRANTED = "granted", _("Granted")
    DENIED = "denied", _("Denied")


class RecordHolder(models.TextChoices):
    """Who holds a copy of the conviction that a background check can find."""

    COURT = "court", _("Court of conviction")
    STATE_REPOSITORY = "state_repository", _("State criminal records repository")
    FBI = "fbi", _("FBI (national criminal history)")
    DMV = "dmv", _("Motor vehicles department (DMV)")
    REGISTRY = "registry", _("Registry (such as the sex-offender registry)")
    CORRECTIONS = "corrections", _("Department of corrections")


class ClearanceStatus(models.TextChoices):
    NOT_REQUESTED = "not_requested", _("Not requested yet")
    REQUESTED = "requested", _("Requested")
    CONFIRMED_CLEAR = "confirmed_clear", _("Confirmed clear")
    STILL_SHOWING = "still_showing", _("Still showing")


class LegalItemKind(models.TextChoices):
    CIVIL_RIGHTS_SUIT = "civil_rights_suit", _("Civil-rights suit")
    TAX_RELIEF = "tax_relief", _("Tax relief (IRC § 139F exclusion, refunds)")
    ACKNOWLEDGMENT = "acknowledgment", _("Official acknowledgment or apology")


class LegalItemStatus(models.TextChoices):
    CONSIDERING = "considering", _("Being considered")
    IN_PROGRESS = "in_progress", _("Under way")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Not pursued")


class AppointmentAnswer(models.TextChoices):
    """The person's word on an appointment of their plan (issue 19)."""

    COMING = "coming", _("I'll be there")
    ANOTHER_TIME = "another_time", _("I need another time")


class ExitReason(models.TextChoices):
    """Why a case closed (the reason beside HUD HMIS's exit fields)."""

    GOALS_MET = "goals_met", _("Their goals are met")
    DECLINED = "declined", _("They no longer want our help")
    MOVED_AWAY = "moved_away", _("Moved away")
    TRANSFERRED = "transferred", _("Transferred to another organization")
    LOST_CONTACT = "lost_contact", _("We lost contact")
    DIED = "died", _("Died")
    # The duplicate's open enrolment when two records of one person are merged (the kept
    # record's enrolment goes on): the only reason a director never chooses.
    MERGED = "merged", _("Merged into another record of the same person")
    OTHER = "other", _("Other")


class ExitDestination(models.TextChoices):
    """Where the person went on exit, grouped as HUD HMIS's destination field (3.12) groups them."""

    PERMANENT_OWN = "permanent_own", _("Permanent: own home or rental")
    PERMANENT_FAMILY = "permanent_family", _("Permanent: with family or friends")
    TEMPORARY = "temporary", _("Temporary: family, friends, hotel or transitional housing")
    INSTITUTIONAL = "institutional", _("Institution: hospital, treatment, jail or prison")
    HOMELESS = "homeless", _("Homeless: shelter or a place not meant for living")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("They don't know or would not say")
    NOT_COLLECTED = "not_collected", _("Not asked")


class HousingAtExit(models.TextChoices):
    """Their housing on the day the case closed."""

    STABLE = "stable", _("Stably housed")
    AT_RISK = "at_risk", _("Housed, at risk of losing it")
    HOMELESS = "homeless", _("Homeless")
    UNKNOWN = "unknown", _("Not known")


class RetentionMode(models.TextChoices):
    """What happens to a closed case once the organization's retention period is over."""

    PURGE = "purge", _("Delete the record")
    DEIDENTIFY = "deidentify", _("Keep the counts, remove who they are")


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the receiving director")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class TransferPart(models.TextChoices):
    """What of a record a transfer copies to the receiving organization (the profile always goes)."""

    NEEDS = "needs", _("Needs")
    REFERRALS = "referrals", _("Referral history")
    LEGAL = "legal", _("Legal remedies")
    DOCUMENTS = "documents", _("Documents")
    STAFF_NOTES = "staff_notes", _("Staff case notes")
