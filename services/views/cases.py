"""Staff pages for exonerees and everything recorded for them."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import caseworker_required, staff_required
from services.actions import casework, follow_ups, needs, people, release_checks, staff
from services.choices import NeedDomain, Role
from services.forms.casework import (
    AssessmentForm,
    CaseNoteForm,
    FollowUpDoneAlreadyForm,
    FollowUpDoneForm,
    FollowUpFilterForm,
    FollowUpForm,
)
from services.forms.people import ExonereeForm, ExonereeSearchForm, IntakeForm, InviteForm
from services.forms.referrals import NeedForm, NeedStatusForm
from services.lib import links, message_tags
from services.lib.said_here import said_where_it_lands
from services.lifecycle import NEED_CLOSED, TransitionNotAllowed
from services.models.casework import Assessment, CaseNote
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors import dashboards, duplicates, history, records
from services.selectors import documents as document_selectors
from services.views.common import action_refused, back_to, came_from, form_page, posted

PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 100


@require_GET
@caseworker_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "services/dashboard.html", dashboards.caseworker_dashboard(request.user))


@require_GET
@staff_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """Open follow-ups, overdue, due this week, or every open one: a caseworker's own (the
    dashboard shows the first few); a director's, of one caseworker (the overview's overdue
    counts link here) or of everyone, to read: marking one done is its caseworker's."""
    staff = access.staff_of(request.user)
    director = staff is not None and staff.role == Role.DIRECTOR
    caseworkers = access.caseworker_accounts(staff.organization_id) if director else None
    form = FollowUpFilterForm(request.GET, caseworkers=caseworkers)
    # A bad value is said beside its field and left out (a bad caseworker: everyone's are
    # listed; a bad due: every open one); the other filter still applies.
    valid = form.is_valid()
    due = form.cleaned_data.get("due", "")
    assigned_to = form.cleaned_data.get("caseworker") if director else request.user
    follow_ups = dashboards.open_follow_ups(request.user, assigned_to=assigned_to, due=due)
    page = Paginator(follow_ups, PAGE_SIZE).get_page(request.GET.get("page"))
    caseworker = assigned_to if director else None  # the director's choice
    context = {
        "page": page,
        "due": due,
        "form": form,
        "director": director,
        "caseworker": caseworker,
        "chosen": f"caseworker={caseworker.pk}&" if caseworker else "",  # the due links keep it
    }
    return render(request, "services/follow_up_list.html", context, status=200 if valid else 400)


@require_GET
@caseworker_required
def need_list(request: HttpRequest) -> HttpResponse:
    """All the open needs of the caseworker's people, the most urgent first."""
    page = Paginator(dashboards.open_needs(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "services/need_list.html", {"page": page})


@require_GET
@staff_required
def exoneree_list(request: HttpRequest) -> HttpResponse:
    staff = access.staff_of(request.user)
    director = staff is not None and staff.role == Role.DIRECTOR
    caseworkers = access.caseworker_accounts(staff.organization_id) if director else None
    form = ExonereeSearchForm(request.GET, caseworkers=caseworkers)
    # A bad value is said beside its field and left out; the other filters still apply.
    valid = form.is_valid()
    q, case = form.cleaned_data.get("q", ""), form.cleaned_data.get("case", "open")
    caseworker = form.cleaned_data.get("caseworker")
    people = records.exoneree_list(request.user, q=q, case=case, caseworker=caseworker)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "services/_exoneree_rows.html" if request.htmx else "services/exoneree_list.html"
    context = {"form": form, "page": page, "q": q, "case": case}
    response = render(request, template, context, status=200 if valid else 400)
    patch_vary_headers(response, ["HX-Request"])  # the partial and the page share a URL
    return response


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("ssn", "date_of_birth")
@caseworker_required
def exoneree_create(request: HttpRequest) -> HttpResponse:
    form = IntakeForm(posted(request))
    if form.is_valid() and not form.confirmed_new:
        if found := duplicates.possible_duplicates(request.user, form.instance, same_name=True):
            people.intake_duplicate_warned(by=request.user, hidden=found.hidden)
            form.warn_possible_duplicate(found.message)
    return form_page(
        request,
        form,
        lambda: people.exoneree_create(
            by=request.user, exoneree=form.instance, release_checks=form.cleaned_data["release_checks"]
        ),
        success=lambda exoneree: (
            f"{exoneree.display_name} was added to your caseload."
            + checks_planned(exoneree, asked=form.cleaned_data["release_checks"])
        ),
        then=lambda exoneree: exoneree,
        title=_("New person (intake)"),
        back="exoneree_list",
    )


def checks_planned(exoneree: Exoneree, *, asked: bool) -> str:
    """What the success message adds when the check-ins after release were asked for."""
    if not asked or exoneree.release_date is None:
        return ""
    if not (planned := release_checks.open_release_checks(exoneree)):
        return " No check-in after release is still ahead: the year after release has passed."
    day = date_format(timezone.localtime(planned[0].due_at, exoneree.organization.zone()), "DATE_FORMAT")
    some = "1 check-in" if len(planned) == 1 else f"{len(planned)} check-ins"
    return f" {some} after release planned on their follow-ups, the next on {day}."


@require_GET
@staff_required
def exoneree_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, annotate=records.person_page_annotations())
    can_change = access.can_change_exoneree(request.user, exoneree)
    is_director = access.is_director(request.user)
    detail = records.exoneree_detail(exoneree)
    context = {
        "exoneree": exoneree,
        "can_change": can_change,
        "is_director": is_director,
        "today": timezone.localdate(),
        # A caseworker reading someone outside their caseload is here by an emergency grant.
        "emergency_grant": None
        if can_change or is_director
        else access.active_emergency_grants(request.user).filter(exoneree=exoneree).first(),
        **detail,
        **document_selectors.documents_page(exoneree, needs=detail["needs"]),
    }
    return render(request, "services/exoneree_detail.html", context)


@require_GET
@staff_required
def exoneree_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything that happened on the case, newest first, a page at a time."""
    exoneree = access.get_exoneree(request.user, pk, annotate=history.history_annotations())
    page = Paginator(history.exoneree_history(exoneree), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "services/exoneree_history.html", {"exoneree": exoneree, "page": page})


@require_GET
@staff_required
def exoneree_done_follow_ups(request: HttpRequest, pk: int) -> HttpResponse:
    """Every done follow-up, latest first (the person page shows the latest few)."""
    exoneree = access.get_exoneree(request.user, pk)
    page = Paginator(records.done_follow_ups(exoneree), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"exoneree": exoneree, "page": page, "can_change": access.can_change_exoneree(request.user, exoneree)}
    return render(request, "services/done_follow_ups.html", context)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("ssn", "date_of_birth")
@caseworker_required
def exoneree_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    form = ExonereeForm(posted(request), instance=exoneree)
    return form_page(
        request,
        form,
        lambda: people.exoneree_update(
            by=request.user, exoneree=form.instance, release_checks=form.cleaned_data.get("release_checks", False)
        ),
        success=lambda exoneree: _("Saved.") + checks_planned(exoneree, asked=form.cleaned_data.get("release_checks")),
        then=exoneree,
        title=_("Edit %(display_name)s") % {"display_name": exoneree.display_name},
        **back_to(exoneree),
    )


@require_POST
@staff_required
def exoneree_ssn_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full SSN, only on this explicit request, recorded; never cached by the browser."""
    exoneree = access.get_exoneree(request.user, pk)
    if not (access.can_change_exoneree(request.user, exoneree) or access.is_director(request.user)):
        # Only an emergency grant lets a caseworker read a record they cannot change: it is
        # there to help in a crisis, which never needs the full number.
        raise PermissionDenied
    if not exoneree.ssn:
        raise Http404("No SSN on file.")
    ssn = people.exoneree_reveal_ssn(by=request.user, exoneree=exoneree)
    template = "services/_ssn_revealed.html" if request.htmx else "services/ssn_revealed.html"
    return render(request, template, {"exoneree": exoneree, "ssn": ssn})


@require_http_methods(["GET", "POST"])
@caseworker_required
def exoneree_invite(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    if exoneree.user_id:
        error = ""
        if request.method == "POST":
            try:
                people.exoneree_invite_resend(by=request.user, exoneree=exoneree)
            except ValidationError as exc:
                error = exc.messages[0]
            else:
                messages.success(
                    request,
                    _("A new link to choose a password is on its way to %(display_name)s.")
                    % {"display_name": exoneree.display_name},
                )
                return redirect(exoneree)
        context = {"exoneree": exoneree, "error": error}
        return render(request, "services/invite_resend.html", context, status=400 if error else 200)
    suggestion = staff.username_suggestion(exoneree.organization, *exoneree.display_name.partition(" ")[::2])
    form = InviteForm(
        posted(request), organization=exoneree.organization, initial={"username": suggestion, "email": exoneree.email}
    )
    return form_page(
        request,
        form,
        lambda: people.exoneree_invite(by=request.user, exoneree=exoneree, **form.cleaned_data),
        success=f"{exoneree.display_name} was emailed a link to choose a password.",
        then=exoneree,
        title=_("Give %(display_name)s a login") % {"display_name": exoneree.display_name},
        **back_to(exoneree),
        intro=_("They will get an email with a link to choose a password. The link works once and expires."),
        submit=_("Send the invitation"),
    )


# Needs


def _at_need(need: Need) -> str:
    """The person page, scrolled to the need just saved (it may have moved in the order)."""
    return f"{need.exoneree.get_absolute_url()}#need-{need.pk}"


@require_http_methods(["GET", "POST"])
@caseworker_required
def need_create(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    # From a directory entry's "Refer someone here" for someone with no need of its kind yet:
    # the kind chosen, and the referral form next, with the resource chosen.
    domain = request.GET.get("domain", "")
    form = NeedForm(posted(request), initial={"domain": domain} if domain in NeedDomain.values else {})
    resource = request.GET.get("resource", "")
    resource = resource if resource.isdigit() else ""

    def then(need: Need) -> str:
        if resource:
            return f"{reverse('referral_create', args=[need.pk])}?{urlencode({'resource': resource})}"
        return _at_need(need)

    return form_page(
        request,
        form,
        lambda: needs.need_create(by=request.user, exoneree=exoneree, need=form.instance),
        success=_("Need recorded. Now the referral:") if resource else _("Need recorded."),
        then=then,
        title=_("New need for %(display_name)s") % {"display_name": exoneree.display_name},
        **back_to(exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def need_edit(request: HttpRequest, pk: int) -> HttpResponse:
    need = access.get_need(request.user, pk, change=True)
    form = NeedForm(posted(request), instance=need)
    return form_page(
        request,
        form,
        lambda: needs.need_update(by=request.user, need=form.instance),
        success=_("Need saved."),
        then=_at_need,
        title=_("Edit need"),
        **back_to(need.exoneree),
    )


@require_POST
@caseworker_required
def need_status(request: HttpRequest, pk: int) -> HttpResponse:
    need = access.get_need(request.user, pk, change=True)
    form = NeedStatusForm(request.POST)
    if not form.is_valid():
        return action_refused(request, _("Choose a new status for the need."), back=need.exoneree, status=400)
    try:
        needs.need_set_status(by=request.user, need=need, status=form.cleaned_data["status"])
    except TransitionNotAllowed as error:
        return action_refused(request, str(error), back=need.exoneree, status=409)
    back = said_where_it_lands(
        request, _at_need(need), _("Need marked %(status)s.") % {"status": need.get_status_display().lower()}
    )
    if need.status in NEED_CLOSED and (still_open := records.open_referrals_of(need)):
        said_where_it_lands(request, back, _still_open_words(still_open), level=messages.WARNING)
    return redirect(back)


def _still_open_words(still_open: list[Referral]) -> str:
    """A closed need's referrals that are still open, by name and status, and what to do."""
    names = ", ".join(
        _("%(name)s (%(status)s)") % {"name": r.resource.name, "status": r.get_status_display().lower()}
        for r in still_open
    )
    return ngettext(
        "Its referral to %(names)s is still open: record how it ended, or cancel it.",
        "Its %(count)d referrals are still open: %(names)s. Record how each ended, or cancel it.",
        len(still_open),
    ) % {"names": names, "count": len(still_open)}


# Follow-ups


@require_http_methods(["GET", "POST"])
@caseworker_required
def follow_up_create(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    initial = {"assigned_to": request.user.pk, "need": request.GET.get("need"), "referral": request.GET.get("referral")}
    form = FollowUpForm(posted(request), exoneree=exoneree, initial=initial)
    return _save_follow_up(
        request, form, exoneree, title=_("New follow-up for %(display_name)s") % {"display_name": exoneree.display_name}
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def follow_up_record_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Record something already done for the person (a drive to an office, a form filled in):
    a follow-up of theirs, done when it happened, so it never reads overdue."""
    exoneree = access.get_exoneree(request.user, pk, change=True)
    initial = {"need": request.GET.get("need"), "referral": request.GET.get("referral")}
    form = FollowUpDoneAlreadyForm(posted(request), exoneree=exoneree, initial=initial)
    return form_page(
        request,
        form,
        lambda: follow_ups.follow_up_record_done(by=request.user, exoneree=exoneree, follow_up=form.instance),
        success=lambda follow_up: _("Recorded as done: %(title)s.") % {"title": follow_up.title},
        then=exoneree,
        title=_("Something already done for %(display_name)s") % {"display_name": exoneree.display_name},
        **back_to(exoneree),
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def follow_up_edit(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = access.get_follow_up(request.user, pk, change=True)
    form = FollowUpForm(posted(request), instance=follow_up, exoneree=follow_up.exoneree)
    return _save_follow_up(request, form, follow_up.exoneree, title=_("Edit follow-up"))


def _save_follow_up(request: HttpRequest, form: FollowUpForm, exoneree: Exoneree, *, title: str) -> HttpResponse:
    return form_page(
        request,
        form,
        lambda: follow_ups.follow_up_save(by=request.user, exoneree=exoneree, follow_up=form.instance),
        success=_follow_up_saved_words,
        then=lambda follow_up: f"{exoneree.get_absolute_url()}#follow-up-{follow_up.pk}",
        title=title,
        **back_to(exoneree),
    )


def _follow_up_saved_words(follow_up: FollowUp) -> str:
    """What was saved and for when, as its row says it; a time already past is said to be, since
    a day picked wrong in the calendar (last month for next) otherwise reads as "saved"."""
    words = {"title": follow_up.title, "due": date_format(timezone.localtime(follow_up.due_at), "D M j, Y g:i a")}
    if follow_up.is_overdue:
        return _("Follow-up saved: “%(title)s”, due %(due)s, which has already passed.") % words
    return _("Follow-up saved: “%(title)s”, due %(due)s") % words  # the time ends "a.m." or "p.m."


@require_POST
@caseworker_required
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = access.get_follow_up(request.user, pk, change=True)
    form = FollowUpDoneForm(request.POST)
    if not form.is_valid():
        return action_refused(request, form.errors["outcome"][0], back=follow_up.exoneree, status=400)
    was_done = follow_up.is_done
    follow_ups.follow_up_complete(by=request.user, follow_up=follow_up, outcome=form.cleaned_data["outcome"])
    if request.htmx:
        return _follow_up_row(request, follow_up, just_done=not was_done)
    if was_done:
        messages.info(request, f"“{follow_up.title}” was already marked done.")
    else:
        # The message carries an Undo button and a "Schedule the next one" link, as the row does on
        # the person page (services.lib.message_tags: ids only, the title stays escaped text).
        plan_next = message_tags.plan_next_tag(follow_up.exoneree_id, follow_up.need_id, follow_up.referral_id)
        messages.success(
            request,
            _("Marked done: %(title)s.") % {"title": follow_up.title},
            extra_tags=message_tags.tags(message_tags.undo_tag(pk), plan_next),
        )
    return redirect(_back_to_list(request) or follow_up.exoneree)


def _follow_up_row(request: HttpRequest, follow_up: FollowUp, *, just_done: bool = False) -> HttpResponse:
    """The row, swapped in place. On the person page, what it shows elsewhere about open
    follow-ups ("What needs doing", the count beside "Follow-ups") comes with it, out of band,
    so that neither is stale until a reload; other pages (all done follow-ups) have neither."""
    context = {
        "follow_up": follow_up,
        "can_change": True,
        "just_done": just_done,
        "plan_next": links.plan_next_follow_up(follow_up.exoneree_id, follow_up.need_id, follow_up.referral_id)
        if just_done
        else "",
    }
    exoneree = follow_up.exoneree
    if urlsplit(request.htmx.current_url or "").path != exoneree.get_absolute_url():
        return render(request, "services/_follow_up_row.html", context)
    context |= {"exoneree": exoneree, **records.person_page_to_do(exoneree)}
    return render(request, "services/_follow_up_row_swap.html", context)


def _back_to_list(request: HttpRequest) -> str:
    """The dashboard or the follow-up list (with its filter and page) the button was on, or ''."""
    # "Undo" in the banner sends the page's path; the dashboard's own buttons, its name.
    if request.POST.get("next", "") in {"dashboard", reverse("dashboard")}:
        return reverse("dashboard")
    return came_from(request, reverse("follow_up_list"))


@require_POST
@caseworker_required
def follow_up_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a done follow-up again: "Reopen" on the person page, "Undo" just after "Mark done"."""
    follow_up = access.get_follow_up(request.user, pk, change=True)
    recorded = follow_up.is_recorded_service
    follow_ups.follow_up_reopen(by=request.user, follow_up=follow_up)
    if request.htmx:
        return _follow_up_row(request, follow_up)
    # A service recorded as done is due again today (follow_ups.follow_up_reopen): say so.
    if recorded:
        said = _("Reopened: %(title)s. It is due again today; edit it to set another time.")
    else:
        said = _("Reopened: %(title)s.")
    messages.success(request, said % {"title": follow_up.title})
    return redirect(_back_to_list(request) or follow_up.exoneree)


# Notes


@require_http_methods(["GET", "POST"])
@caseworker_required
def note_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new note; when a check-in after release is due, the form asks whether this contact was
    it, and saving marks it done too (release_checks.release_checks_done_by_note)."""
    exoneree = access.get_exoneree(request.user, pk, change=True)
    title = _("New note about %(display_name)s") % {"display_name": exoneree.display_name}
    return _note_page(request, exoneree, CaseNote(), title=title)


@require_http_methods(["GET", "POST"])
@caseworker_required
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """An edit asks the new note's question too, about the check-ins that were in reach when the
    note was written: a caseworker who forgot the box comes back to the note to tick it."""
    note: CaseNote = access.get_note(request.user, pk, change=True)
    return _note_page(request, note.exoneree, note, title=_("Edit note"))


def _note_page(request: HttpRequest, exoneree: Exoneree, note: CaseNote, *, title: str) -> HttpResponse:
    # In reach of the day the note was written (today for a new one), by the same rule: a note
    # of a contact months ago is not this week's check-in.
    in_reach = release_checks.release_checks_in_reach(exoneree, now=note.created_at if note.pk else None)
    form = CaseNoteForm(
        posted(request), instance=note, check_ins=in_reach, offered=[c for c in in_reach if not c.is_done]
    )
    chosen: list[FollowUp] = []

    def save() -> list[FollowUp]:
        chosen.extend(form.cleaned_data.get("check_ins", []))
        return release_checks.release_checks_done_by_note(
            by=request.user, exoneree=exoneree, note=form.instance, check_ins=chosen
        )

    def said(done: list[FollowUp]) -> str:
        lines = [_("Note saved.")]
        for check_in in chosen:
            marked = _("Marked done: %(title)s.") if check_in in done else _("“%(title)s” was already marked done.")
            lines.append(marked % {"title": check_in.title})
        return " ".join(lines)

    return form_page(
        request,
        form,
        save,
        success=said,
        then=f"{exoneree.get_absolute_url()}#notes",
        title=title,
        **back_to(exoneree),
    )


# Assessments


@require_http_methods(["GET", "POST"])
@caseworker_required
def assessment_create(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    kind = "intake" if not exoneree.assessments.exists() else "interim"
    form = AssessmentForm(posted(request), initial={"kind": kind})
    return _save_assessment(
        request, form, exoneree, title=_("Assessment of %(display_name)s") % {"display_name": exoneree.display_name}
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def assessment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    assessment: Assessment = access.get_assessment(request.user, pk, change=True)
    form = AssessmentForm(posted(request), instance=assessment)
    return _save_assessment(request, form, assessment.exoneree, title=_("Edit assessment"))


def _save_assessment(request: HttpRequest, form: AssessmentForm, exoneree: Exoneree, *, title: str) -> HttpResponse:
    return form_page(
        request,
        form,
        lambda: casework.assessment_save(
            by=request.user, exoneree=exoneree, assessment=form.instance, scores=form.scores()
        ),
        success=_("Assessment saved."),
        then=f"{exoneree.get_absolute_url()}#assessments",
        title=title,
        **back_to(exoneree),
        intro=_("Score each domain from 1 (in crisis) to 5 (empowered). Leave a domain empty if it was not discussed."),
    )


@require_GET
@staff_required
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = access.get_assessment(request.user, pk)
    context = {
        "assessment": assessment,
        "exoneree": assessment.exoneree,
        "scores": assessment.scores.all(),
        "can_change": access.can_change_exoneree(request.user, assessment.exoneree),
    }
    return render(request, "services/assessment_detail.html", context)
