"""A director merges two records of one person, and may undo it within 30 days (issue 23)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import director_required
from services.actions import merges
from services.forms.merges import MergeForm
from services.selectors import duplicates, records
from services.views.common import CHOSEN_BEFORE, action_refused, apply_errors, posted, restore_kept


@require_GET
@director_required
def merge_candidates(request: HttpRequest, pk: int) -> HttpResponse:
    """The records the duplicate check finds for this person, to merge into it; and the
    merges into it that can still be undone."""
    exoneree = access.get_exoneree(request.user, pk)
    context = {
        "exoneree": exoneree,
        "candidates": duplicates.possible_duplicates(request.user, exoneree).visible,
        "merges": records.merges_into(exoneree),
    }
    return render(request, "services/merge_candidates.html", context)


@require_http_methods(["GET", "POST"])
@director_required
def merge_people(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """`other` merged into `pk`: the differing fields side by side, then confirm."""
    kept = access.get_exoneree(request.user, pk)
    duplicate = access.get_exoneree(request.user, other)
    form = MergeForm(posted(request), kept=kept, duplicate=duplicate)
    restore_kept(request, form, said=CHOSEN_BEFORE)
    plan, refused = None, []
    try:
        plan = merges.merge_plan(kept=kept, duplicate=duplicate)
    except ValidationError as error:
        # Said on the page whether it was opened or sent (an unchecked form takes no error).
        refused = error.messages
    if plan is not None and form.is_valid():
        try:
            merges.merge_people(by=request.user, kept=kept, duplicate=duplicate, from_duplicate=form.from_duplicate())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The two records are one now. You can undo this for 30 days."))
            return redirect(kept)
    context = {"kept": kept, "duplicate": duplicate, "form": form, "plan": plan, "refused": refused}
    return render(request, "services/merge_form.html", context, status=400 if form.is_bound else 200)


@require_POST
@director_required
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = access.get_merge(request.user, pk)
    try:
        merges.merge_undo(by=request.user, merge=merge)
    except ValidationError as error:
        return action_refused(request, " ".join(error.messages), back=merge.kept, status=400)
    messages.success(request, _("The merge is undone: the two records are apart again."))
    return redirect("merge_candidates", merge.kept_id)
