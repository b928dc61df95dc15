"""The signed-in staff member's notifications (reminders shown in the app)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from services import access, reminders
from services.access import staff_required
from services.actions import notifications
from services.selectors import inbox


@require_GET
@staff_required
def notification_list(request: HttpRequest) -> HttpResponse:
    context = inbox.notifications_page(request.user)
    if access.is_director(request.user):  # whether reminders go out at all: the director's to check
        context["liveness"] = reminders.reminders_liveness(organization_id=access.organization_of(request.user).pk)
    return render(request, "services/notifications.html", context)


@require_POST
@staff_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark it read and go where it points (a page of this site only)."""
    notification = access.get_notification(request.user, pk)
    notifications.notification_mark_read(user=request.user, notification=notification)
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("notification_list")


@require_POST
@staff_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications.notifications_mark_all_read(user=request.user)
    return redirect("notification_list")
