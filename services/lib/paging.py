"""Paging a list that may be very long, without counting all of it."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# How many pages past the one asked for are counted: enough for the pager's "Next" and for a
# count that reads as one ("Page 2 of 12"), few enough that a page costs what it shows.
AHEAD_PAGES = 10
# No page asked for is read as further than this (a number past it would only make the count
# longer; one past the database's LIMIT range would fail).
LAST_PAGE_ASKED = 100_000


def asked_page(value: Any) -> int:
    """The page number asked for, as Paginator.get_page reads it: 1 when it is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), LAST_PAGE_ASKED)


class LookAheadPaginator(Paginator):
    """Counts the list only as far as AHEAD_PAGES past the page asked for.

    Counting the access log's rows means reading the whole filtered log (where each row begins
    is a window over it): a second a page for a large organization after a year or two. Counted
    this far only, a page costs what the pages before it and the next few cost, however long
    the log: `counted_all` is False when there is more, and the page says "more than".
    """

    def __init__(self, object_list: Any, per_page: int, *, asked: Any) -> None:
        super().__init__(object_list, per_page)
        self.limit = (asked_page(asked) + AHEAD_PAGES) * per_page

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        counted = self.object_list[: self.limit + 1]
        found = counted.count() if isinstance(counted, QuerySet) else len(counted)
        return min(found, self.limit), found <= self.limit

    @property
    def count(self) -> int:
        return self._counted[0]

    @property
    def counted_all(self) -> bool:
        """False when the list goes on past what was counted."""
        return self._counted[1]
