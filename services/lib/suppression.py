"""Small cells: which counts of a published row are hidden, so that no small group of people
can be singled out from it (the Network's figures, services/outcomes/network.py).

A count from 1 to `minimum - 1` is hidden ("fewer than 11"); zero is shown (nobody is there to
single out). Hiding one part of a row that also shows its total is not enough: the total less
the parts shown gives it back. So when exactly one part is hidden, the next smallest part is
hidden too ("secondary suppression"); two hidden parts give away only their sum. With no other
part to hide, the total is hidden instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class Hidden(StrEnum):
    NO = ""
    SMALL = "small"  # 1 … minimum - 1
    PROTECTS = "protects"  # hidden so that a small one cannot be worked out by subtraction


def is_small(count: int, minimum: int) -> bool:
    return 0 < count < minimum


def suppressed(total: int, parts: Sequence[int], minimum: int) -> tuple[Hidden, list[Hidden]]:
    """What to hide of one row: its total and each of its parts (which add up to the total)."""
    total_hidden = Hidden.SMALL if is_small(total, minimum) else Hidden.NO
    hidden = [Hidden.SMALL if is_small(part, minimum) else Hidden.NO for part in parts]
    if total_hidden is Hidden.NO and hidden.count(Hidden.SMALL) == 1:
        shown = [i for i, state in enumerate(hidden) if state is Hidden.NO]
        if shown:
            # The smallest part that is not zero (a hidden zero protects nothing), then by position.
            hidden[min(shown, key=lambda i: (parts[i] == 0, parts[i], i))] = Hidden.PROTECTS
        else:
            total_hidden = Hidden.PROTECTS
    return total_hidden, hidden
