"""Fixed vocabularies of the domain (see shared DOMAIN.md)."""

from django.db import models


class Role(models.TextChoices):
    CASEWORKER = "caseworker", "Caseworker"
    DIRECTOR = "director", "Director"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class ContactPreference(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    MAIL = "mail", "Letter"
    IN_PERSON = "in_person", "In person only"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"


class CompensationStatus(models.TextChoices):
    NOT_YET_FILED = "not_filed", "Not yet filed"
    FILED = "filed", "Filed"
    AWARDED = "awarded", "Awarded"
    DENIED = "denied", "Denied"
    NOT_ELIGIBLE = "not_eligible", "Not eligible (no statute or disqualified)"


class NeedDomain(models.TextChoices):
    BASIC = "basic", "Basic needs"
    HOUSING = "housing", "Housing"
    TRANSPORTATION = "transportation", "Transportation"
    IDENTIFICATION = "identification", "Identification documents"
    INCOME = "income", "Income and benefits"
    HEALTH_COVERAGE = "health_coverage", "Health coverage"
    MEDICAL = "medical", "Medical, dental and vision care"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use treatment"
    LEGAL = "legal", "Legal"
    EMPLOYMENT = "employment", "Employment and job training"
    EDUCATION = "education", "Education"
    FAMILY = "family", "Family and relationships"
    COMMUNITY = "community", "Community and peer support"


class Priority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class NeedStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    MET = "met", "Met"
    NO_LONGER_WANTED = "no_longer_wanted", "No longer wanted"


class ResourceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TEMPORARILY_CLOSED = "temporarily_closed", "Temporarily closed"
    INACTIVE = "inactive", "Inactive"


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    UNRESOLVED = "unresolved", "Unresolved"
    CANCELLED = "cancelled", "Cancelled"


class NoteVisibility(models.TextChoices):
    STAFF = "staff", "Staff only"
    SHARED = "shared", "Shared with the person"


class AssessmentKind(models.TextChoices):
    INTAKE = "intake", "Intake"
    INTERIM = "interim", "Interim"
    EXIT = "exit", "Exit"


class AssessmentDomain(models.TextChoices):
    """The Arizona Self-Sufficiency Matrix's 17 domains."""

    INCOME = "income", "Income"
    EMPLOYMENT = "employment", "Employment"
    HOUSING = "housing", "Housing"
    FOOD = "food", "Food"
    CHILDCARE = "childcare", "Childcare"
    CHILDRENS_EDUCATION = "childrens_education", "Children's education"
    ADULT_EDUCATION = "adult_education", "Adult education"
    LEGAL = "legal", "Legal"
    HEALTH_CARE = "health_care", "Health care coverage"
    LIFE_SKILLS = "life_skills", "Life skills"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    FAMILY_RELATIONS = "family_relations", "Family relations"
    MOBILITY = "mobility", "Mobility"
    COMMUNITY = "community", "Community involvement"
    SAFETY = "safety", "Safety"
    PARENTING = "parenting", "Parenting skills"


SCORE_LABELS = {1: "In crisis", 2: "Vulnerable", 3: "Safe", 4: "Building capacity", 5: "Empowered"}


class ReminderChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message (SMS)"


class ReminderKind(models.TextChoices):
    BEFORE = "before", "Follow-up due soon"
    DUE = "due", "Follow-up due now"
    OVERDUE = "overdue", "Follow-up overdue"
    ESCALATION = "escalation", "Overdue follow-up escalated"
    DIGEST = "digest", "Morning digest"
    COMPENSATION_90 = "compensation_90", "Compensation deadline in 90 days"
    COMPENSATION_30 = "compensation_30", "Compensation deadline in 30 days"
    COMPENSATION_7 = "compensation_7", "Compensation deadline in 7 days"
    COMPENSATION_0 = "compensation_0", "Compensation deadline today"
    EXONEREE_APPOINTMENT = "exoneree_appointment", "Appointment reminder to the person"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    CLAIMED = "claimed", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Could not be sent"
    CANCELLED = "cancelled", "Cancelled"


class ConsentCategory(models.TextChoices):
    """What a release of information lets us share. Substance use is 42 CFR Part 2: it is
    shared only under a consent that names it, never under a broader one."""

    CONTACT = "contact", "Contact details"
    HOUSING = "housing", "Housing"
    MEDICAL = "medical", "Medical"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    LEGAL = "legal", "Legal"


# What a referral for a need of each domain carries besides contact details (always carried).
CATEGORY_FOR_DOMAIN: dict[str, str] = {
    NeedDomain.HOUSING: ConsentCategory.HOUSING,
    NeedDomain.MEDICAL: ConsentCategory.MEDICAL,
    NeedDomain.MENTAL_HEALTH: ConsentCategory.MENTAL_HEALTH,
    NeedDomain.SUBSTANCE_USE: ConsentCategory.SUBSTANCE_USE,
    NeedDomain.LEGAL: ConsentCategory.LEGAL,
}


class ConsentSignedHow(models.TextChoices):
    PAPER = "paper", "On paper"
    ELECTRONIC = "electronic", "Electronically"
    VERBAL = "verbal", "Verbally, with a witness"


class ConsentRevokedHow(models.TextChoices):
    STAFF = "staff", "By staff, on the person's word"
    SELF = "self", "By the person, on their plan"


class EmergencyReview(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FLAGGED = "flagged", "Flagged"
