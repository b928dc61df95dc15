"""The resource directory's synonyms: the words of a search, each with the other words people
use for the same thing (services/data/resource_synonyms.yaml)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "resource_synonyms.yaml"

# A phrase of the file is matched over at most this many words of a search.
LONGEST_PHRASE = 4


class SynonymsError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    """A word or phrase of a search as typed, and the other terms of its group (none for most)."""

    typed: str
    also: tuple[str, ...] = ()


def key(text: str) -> str:
    """What two spellings share: case, apostrophes and runs of spaces do not count
    ("Driver’s  License" is "drivers license")."""
    return " ".join(re.sub(r"['’]", "", text).casefold().split())


@functools.cache
def groups() -> dict[str, tuple[str, ...]]:
    """Each term's key, with the terms of its group as the file writes them."""
    return load(DATA_FILE)


def load(path: Path) -> dict[str, tuple[str, ...]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list) or not raw:
        raise SynonymsError(f"{path.name}: expected a list of groups")
    found: dict[str, tuple[str, ...]] = {}
    for index, group in enumerate(raw):
        where = f"{path.name}[{index}]"
        if not isinstance(group, list) or len(group) < 2:
            raise SynonymsError(f"{where}: a group is a list of two terms or more")
        if not all(isinstance(term, str) and key(term) for term in group):
            raise SynonymsError(f"{where}: every term must be non-empty text")
        terms = tuple(term.strip() for term in group)
        for term in terms:
            if len(key(term).split()) > LONGEST_PHRASE:
                raise SynonymsError(f"{where}: {term!r} is longer than {LONGEST_PHRASE} words")
            if key(term) in found:
                raise SynonymsError(f"{where}: {term!r} is in two groups, or twice in one")
            found[key(term)] = terms
    return found


def terms(q: str) -> list[Term]:
    """The words of a search, a phrase of the file kept as one term (the longest first), so
    "food stamps near me" is "food stamps", "near", "me"."""
    words = q.split()
    found: list[Term] = []
    start = 0
    while start < len(words):
        for end in range(min(len(words), start + LONGEST_PHRASE), start, -1):
            typed = " ".join(words[start:end])
            if group := groups().get(key(typed)):
                found.append(Term(typed, tuple(term for term in group if key(term) != key(typed))))
                start = end
                break
        else:
            found.append(Term(words[start]))
            start += 1
    return found
