"""The plan on paper (PDF, WeasyPrint) and its coming dates for a phone's calendar (.ics)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from services import access
from services.access import exoneree_required, staff_required
from services.actions import exports
from services.models.people import Exoneree
from services.selectors import plans

# How long a calendar entry lasts: the plan records when an appointment starts, not its end.
APPOINTMENT_LENGTH = timedelta(hours=1)


@require_GET
@exoneree_required
def my_plan_pdf(request: HttpRequest) -> HttpResponse:
    return _plan_pdf(request, access.own_exoneree(request.user))


@require_GET
@staff_required
def exoneree_plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's own plan (what they see, in their language) for a caseworker to print and
    hand over; recorded as an export."""
    exoneree = access.get_exoneree(request.user, pk)
    exports.plan_export(by=request.user, exoneree=exoneree)
    with translation.override(exoneree.preferred_language):
        return _plan_pdf(request, exoneree)


def _plan_pdf(request: HttpRequest, exoneree: Exoneree) -> HttpResponse:
    context = {"exoneree": exoneree, "printed_at": timezone.now(), **plans.plan_for(exoneree)}
    # A fixed file name: the person's name would end up in download folders and logs.
    return pdf_response(request, "services/plan_pdf.html", context, "plan.pdf")


def pdf_response(request: HttpRequest, template: str, context: dict[str, Any], filename: str) -> HttpResponse:
    """A template printed to PDF with the plan's stylesheet, as a download named `filename`."""
    try:
        # Imported here: WeasyPrint loads the system's Pango when imported, and a machine
        # without it should still serve every other page.
        from weasyprint import CSS, HTML
    except (ImportError, OSError):
        return HttpResponse(
            _("The printable plan is not available right now: the PDF library is not installed on the server."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    html = render_to_string(template, context, request=request)
    stylesheet = CSS(filename=finders.find("services/print.css"))
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(stylesheets=[stylesheet])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@exoneree_required
def my_plan_ics(request: HttpRequest) -> HttpResponse:
    """The coming appointments shown on the plan, as calendar events: the same title and
    place name as the page, nothing else about the person."""
    from icalendar import Calendar, Event

    exoneree = access.own_exoneree(request.user)
    calendar = Calendar()
    calendar.add("prodid", "-//Reentry//My plan//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("My plan"))
    host = request.get_host().split(":")[0]
    stamp = timezone.now()
    for item in plans.plan_for(exoneree)["upcoming"]:
        event = Event()
        event.add("uid", f"follow-up-{item.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_at)
        event.add("dtend", item.due_at + APPOINTMENT_LENGTH)
        event.add("summary", f"{item.title} — {item.provider_name}" if item.provider_name else item.title)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-plan.ics"'
    return response
