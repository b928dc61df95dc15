"""What a confirmation carries besides its words: written by the views, read by the templates
(templates/_messages.html, through services.templatetags.reentry), in one place.

Django keeps a message's `extra_tags` as one string of words. Ours carry ids only, never a
title or a name, so the message's text stays the one (escaped) thing it says:
- `said-at-<place>`: the id of the element the message is said at (services.lib.said_here);
- `undo follow-up-<pk>`: the "Undo" button of a "Marked done" message;
- `plan-next-<person>-<need or 0>-<referral or 0>`: its "Schedule the next one" link.
Each is read word by word, so that a place named `follow-up-12` is never taken for an Undo.
"""

from __future__ import annotations

import re

from services.lib.links import plan_next_follow_up

PLACE = "said-at-"
UNDO = "undo"
UNDONE = re.compile(r"follow-up-(\d+)")
PLAN_NEXT = re.compile(r"plan-next-(\d+)-(\d+)-(\d+)")


def tags(*parts: str) -> str:
    """Tags joined as Django keeps them (empty parts left out)."""
    return " ".join(part for part in parts if part)


def place_tag(place: str) -> str:
    """The tag of a message said at the element whose id is `place` ('' for the page's top)."""
    return f"{PLACE}{place}" if place else ""


def undo_tag(follow_up_id: int) -> str:
    """The tag of a "Marked done" message whose follow-up can be opened again from it."""
    return f"{UNDO} follow-up-{follow_up_id}"


def plan_next_tag(exoneree_id: int, need_id: int | None, referral_id: int | None) -> str:
    """The tag that carries services.lib.links.plan_next_follow_up's link, by ids."""
    return f"plan-next-{exoneree_id}-{need_id or 0}-{referral_id or 0}"


def _words(message: object) -> list[str]:
    return (getattr(message, "extra_tags", "") or "").split()


def place_of(message: object) -> str:
    """The id of the element a message is said at, or '' for a message of the page's top."""
    return next((word.removeprefix(PLACE) for word in _words(message) if word.startswith(PLACE)), "")


def undo_of(message: object) -> int | None:
    """The follow-up a "Marked done" message can undo (`undo_tag`), or None."""
    words = _words(message)
    if UNDO not in words:
        return None
    return next((int(match.group(1)) for word in words if (match := UNDONE.fullmatch(word))), None)


def plan_next_of(message: object) -> str:
    """The "Schedule the next one" link a message carries (`plan_next_tag`), or ''."""
    for word in _words(message):
        if match := PLAN_NEXT.fullmatch(word):
            exoneree, need, referral = (int(group) for group in match.groups())
            return plan_next_follow_up(exoneree, need or None, referral or None)
    return ""
