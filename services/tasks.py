"""Celery tasks: thin, they load by id and call one function."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from services.lib.email import send_templated_email
from services.lib.links import invitation_link

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_invitation(user_id: int, invited_by_id: int) -> None:
    """The set-password email for a new account. It names no case detail: an exoneree's
    invitation does not even name the organization, which would tell anyone reading the
    mailbox that the person was wrongfully convicted."""
    User = get_user_model()
    user = User.objects.select_related("staff__organization").filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        logger.warning("invitation for user %s not sent: no active account with an email", user_id)
        return
    invited_by = User.objects.filter(pk=invited_by_id).first()
    staff = getattr(user, "staff", None)
    send_templated_email(
        to=user.email,
        template="invitation",
        context={
            "user": user,
            "staff": staff is not None,
            "organization": staff.organization.name if staff else "",
            "invited_by": (invited_by.get_full_name() or invited_by.get_username())
            if invited_by
            else "Your caseworker",
            "link": invitation_link(user),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
    )
