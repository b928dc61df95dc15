"""The append-only access log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models.base import BaseModel
from services.models.organizations import Organization
from services.models.people import Exoneree


class AuditLogIsAppendOnly(Exception):
    """An attempt to change or delete an audit entry."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")


class AuditEvent(BaseModel):
    """One entry of the access log: who did what to whose record, when, from where.

    Append-only and hash-chained: written by services.audit only (see there).
    """

    class Action(models.TextChoices):
        RECORD_VIEWED = "record_viewed", _("Opened a record")
        SSN_REVEALED = "ssn_revealed", _("Showed the full SSN")
        DUPLICATE_WARNING = "duplicate_warning", _("Was told at intake that this record may be the same person")
        RECORD_CREATED = "record_created", _("Created a record")
        RECORD_CHANGED = "record_changed", _("Changed a record")
        CASELOAD_REASSIGNED = "caseload_reassigned", _("Changed who carries a caseload")
        PERMISSION_CHANGED = "permission_changed", _("Changed an account or an access right")
        EXPORTED = "exported", _("Exported")
        # The password of an account that owes a one-time code: not yet a sign-in. "Signed in"
        # follows once the code has passed (services.signin), so a stolen password stopped at
        # the code never reads as one.
        PASSWORD_ACCEPTED = "password_accepted", _("Password accepted, one-time code still to come")
        SIGNED_IN = "signed_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Failed to sign in")
        SIGNED_OUT = "signed_out", _("Signed out")
        EMERGENCY_ACCESS = "emergency_access", _("Opened a record with emergency access")
        EMERGENCY_SEARCH = "emergency_search", _("Searched for a record to open with emergency access")
        EMERGENCY_REVIEWED = "emergency_reviewed", _("Reviewed an emergency access")
        CONSENT_REVOKED = "consent_revoked", _("Revoked a consent to share information")
        # A provider, through the link of a referral (no account: `username` is its name).
        PROVIDER_OPENED = "provider_opened", _("A provider opened a referral")
        PROVIDER_UPDATED = "provider_updated", _("A provider answered a referral")
        DOCUMENT_DOWNLOADED = "document_downloaded", _("Downloaded a document")
        # Two records of one person (issue 23): the entry names both ids, on each record.
        RECORDS_MERGED = "records_merged", _("Merged two records of the same person")
        MERGE_UNDONE = "merge_undone", _("Undid a merge of two records")
        # A record handed to another organization (issue 23): in both organizations' logs.
        TRANSFER_PROPOSED = "transfer_proposed", _("Proposed a transfer to another organization")
        TRANSFER_ACCEPTED = "transfer_accepted", _("Accepted a transfer from another organization")
        TRANSFER_DECLINED = "transfer_declined", _("Declined a transfer from another organization")
        # Retention (issue 23): the director's review, and what a purge or de-identification did.
        RETENTION_REVIEWED = "retention_reviewed", _("Confirmed or held a record's end of retention")
        RECORD_PURGED = "record_purged", _("Purged a record under retention")
        RECORD_DEIDENTIFIED = "record_deidentified", _("De-identified a record under retention")
        # The Network's analyst opened the Network's figures (counts only; the period is kept).
        NETWORK_FIGURES_VIEWED = "network_viewed", _("Opened the Network's figures")

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The actor's username then, or the one typed at a failed sign-in.
    username = models.CharField(max_length=150, blank=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices)
    # The person by number, not by a constraint: a person purged under retention (issue 23)
    # leaves their entries as they were (the chain hashes this number), so the log neither
    # blocks the purge nor loses an entry. A purged person's entries name no one any more.
    exoneree = models.ForeignKey(
        Exoneree, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    target = models.CharField("record", max_length=200, blank=True)
    # For a change: {field: [old, new]}, or {field: "changed"} for an encrypted field.
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        # Related-object access and deletion collection use the base manager: make it the
        # one that refuses updates and deletes too.
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["organization", "at"]),
            models.Index(fields=["exoneree", "at"]),
            # The access log's pages list newest first by id (director's log, a person's log).
            models.Index(fields=["organization", "id"], name="audit_org_newest"),
            models.Index(fields=["exoneree", "id"], name="audit_person_newest"),
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["action", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.username or 'unknown'} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or self.pk is not None:
            raise AuditLogIsAppendOnly("Audit entries cannot be changed.")
        kwargs["force_insert"] = True  # never an UPDATE, whatever the caller asked
        super().save(*args, **kwargs)

    def _do_update(self, *args: Any, **kwargs: Any) -> bool:
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")


class AuditCheckpoint(BaseModel):
    """The access log's count and head at a moment, sealed with a keyed hash (services.audit_anchor).

    Kept outside the log's table (and in the log output), so that removing the newest entries,
    or all of them, shows: the chain itself cannot tell its end was cut. Append-only too.
    """

    at = models.DateTimeField()
    count = models.BigIntegerField()  # entries up to and including `last_id`
    last_id = models.BigIntegerField()  # 0: the log was empty
    head = models.CharField(max_length=64)  # the hash of entry `last_id`
    mac = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        base_manager_name = "objects"

    def __str__(self) -> str:
        return f"{self.count} entries up to {self.last_id} at {self.at:%Y-%m-%d %H:%M}"
