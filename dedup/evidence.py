"""Evidence a person can check: quotes, numbers and names two texts both carry."""

from __future__ import annotations

import re
from functools import lru_cache

from .text import normalize_text

# The patterns below start with one character class, so that the regex engine skips ahead to
# the next character that can start a match instead of trying every position (the text is read
# two to three times faster, the same matches): what follows the first character is told apart
# by a look-behind at it.  As first written: ``[\u201c"](...)[\u201d"]|\u2018(...)\u2019`` (quotes),
# ``(?:[$€£¥]\s?)?\d[\d,.]*...`` (numbers), ``\b(?:[A-Z]\w*[a-z0-9]\w*|[A-Z]{2,})...`` (names).
_QUOTE = re.compile(r"[\u201c\"\u2018](?:(?<=[\u201c\"])([^\u201c\u201d\"\n]{3,200})[\u201d\"]"
                    r"|(?<=\u2018)([^\u2018\u2019\n]{3,120})\u2019)")
_NUMBER = re.compile(r"[$€£¥\d](?:(?<=\d)|(?<!\d)\s?\d)[\d,.]*"
                     r"(?:\s?(?:%|(?:percent|per cent|billion|million|trillion|bn)\b))?", re.I)
_NAME = re.compile(r"[A-Z](?<!\w\w)(?:[\w'’-]*[a-z0-9][\w'’-]*|[A-Z]+)(?:\s+(?:[A-Z][\w'’-]+|of|de|van|von)){0,4}")
_NAME_TRIM = re.compile(r"(?:\s+(?:of|de|van|von))+$")
_LOWER_WORD = re.compile(r"\b[a-z][\w'’-]*")
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_STOP_NAMES = {"the", "a", "an", "but", "and", "or", "in", "on", "at", "for", "to", "it", "this", "that",
               "he", "she", "they", "we", "i", "if", "as", "by", "with", "from", "after", "while",
               "despite", "even", "one", "other", "meanwhile", "however", "inside", "rather", "all"}


# Words that carry no content of their own in a quote; text caught between a closing and the
# next opening straight quote (", he said. ") is made of them.
_QUOTE_FILLER = {"he", "she", "they", "it", "we", "i", "you", "said", "says", "say", "told", "added", "asked",
                 "the", "a", "an", "and", "but", "or", "of", "to", "in", "on", "that", "this", "is", "was"}


def quotes(text: str) -> set[str]:
    """Quoted phrases, normalised (trailing punctuation dropped); fillers like "he said" left out."""
    found = set()
    for match in _QUOTE.finditer(text):
        phrase = _quote(match.group(1) or match.group(2))
        if phrase:
            found.add(phrase)
    return found


# The three extractors run on every sentence of every document the paraphrase stage aligns; the
# same matched strings (a name, a figure, a quote) recur across sentences and copies, so what is
# made of one match, a function of its text alone, is made once per process.
_MATCHES = 100_000


@lru_cache(maxsize=_MATCHES)
def _quote(matched: str) -> str:
    """A matched quote as ``quotes`` keeps it ("" when it is only filler)."""
    phrase = normalize_text(matched).strip(" .,;:!?'\"-")
    return phrase if phrase and any(w not in _QUOTE_FILLER for w in _WORD.findall(phrase)) else ""


def numbers(text: str) -> set[str]:
    """Numbers with their units/currency ("$14 billion", "49%"), normalised."""
    found: set[str] = set()
    if not _DIGIT.search(text):   # every number has a digit; the search is a fraction of the full pattern's
        return found
    for match in _NUMBER.finditer(text):
        value = _number(match.group())
        if value:
            found.add(value)
    return found


@lru_cache(maxsize=_MATCHES)
def _number(matched: str) -> str:
    """A matched number as ``numbers`` keeps it ("" when it is a lone digit or no figure)."""
    value = normalize_text(matched).rstrip(".,")
    if any(ch.isdigit() for ch in value) and (len(value) > 1 or not value.isdigit()):
        return value.replace("per cent", "%").replace("percent", "%").replace(" %", "%")
    return ""


def distinctive_numbers(text: str) -> set[str]:
    """Figures worth noticing: with a unit or currency, or 3+ digits that are not a year."""
    return distinctive(numbers(text))


def distinctive(found: set[str] | frozenset[str]) -> set[str]:
    """The figures of ``found`` (from ``numbers``) worth noticing."""
    return {n for n in found if _distinctive(n)}


@lru_cache(maxsize=_MATCHES)
def _distinctive(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    if number.replace(",", "") != digits:   # "3,000" is a plain figure; "$3", "3%" carry a unit
        return any(ch in number for ch in "$€£¥%") or any(u in number for u in ("billion", "million", "trillion"))
    return len(digits) >= 3 and not re.fullmatch(r"(19|20)\d\d", digits)


_SEARCHED_TEXT = 1000   # characters (``names``: sentences 35% faster with the search, documents 50% without)


def names(text: str) -> set[str]:
    """Capitalised names ("Alexandr Wang", "Scale AI").  A single capitalised word that
    also occurs in lower case ("How", "Despite") is an ordinary word, not a name."""
    found = set()
    lower_words = None   # the text's lower-case words, found when a single word needs them
    # In a short text (a sentence) one substring search rules most single words out before the
    # words are gathered; a long one (a document) would be searched through once per word.
    search = len(text) <= _SEARCHED_TEXT
    for match in _NAME.finditer(text):
        words, name = _name(match.group())
        if len(words) == 1 and (not search or words[0].lower() in text):   # else no lower-case word is it
            if lower_words is None:
                lower_words = set(_LOWER_WORD.findall(text))
            if words[0].lower() in lower_words:
                continue
        if name:
            found.add(name)
    return found


@lru_cache(maxsize=_MATCHES)
def _name(matched: str) -> tuple[tuple[str, ...], str]:
    """A matched name's words (trailing particles and leading stop words dropped) and the name
    ``names`` keeps ("" when too short)."""
    words = _NAME_TRIM.sub("", matched).split()
    while words and words[0].lower() in _STOP_NAMES:
        words = words[1:]
    if words and (len(words) > 1 or len(words[0]) > 2):
        return tuple(words), normalize_text(" ".join(words)).replace("'s", "").replace("’s", "")
    return tuple(words), ""


def shared_quotes(a: str, b: str) -> list[str]:
    """Quotes both texts carry, one containing the other counted; longest first."""
    return matching_quotes(quotes(a), quotes(b))


def matching_quotes(qa: set[str], qb: set[str]) -> list[str]:
    """``shared_quotes`` for quotes already extracted."""
    shared = {min(x, y, key=len) for x in qa for y in qb if _quote_in(x, y)}
    # Drop a quote contained in a longer shared one ("metastatic" inside "metastatic cancer").
    return sorted((q for q in shared if not any(q != o and q in o for o in shared)), key=lambda q: (-len(q), q))


def quotes_match(qa: set[str] | frozenset[str], qb: set[str] | frozenset[str]) -> bool:
    """Whether ``matching_quotes(qa, qb)`` finds any, without gathering them (the longest match
    always stays, so one matching pair is enough).  A quote both carry as it is needs no search."""
    return not qa.isdisjoint(qb) or any(_quote_in(x, y) for x in qa for y in qb)


def _quote_in(x: str, y: str) -> bool:
    """Whether the shorter of two quotes is the other or stands in it as whole words."""
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    return short == long_ or (short in long_ and _as_words(short).search(long_) is not None)


@lru_cache(maxsize=4096)   # patterns of a few kilobytes; a quote is tried only where it is in the other
def _as_words(quote: str) -> re.Pattern[str]:
    """``quote`` as whole words, compiled once per process (a pair's quoted sentences are tried
    against each other's, and ``re``'s own cache of 512 patterns is soon cycled through)."""
    return re.compile(rf"\b{re.escape(quote)}\b")


def shared_items(a: set[str], b: set[str], limit: int = 8) -> list[str]:
    return sorted(a & b, key=lambda x: (-len(x), x))[:limit]


def describe_shared(a: str, b: str) -> list[str]:
    """Evidence strings for content both texts carry."""
    return describe(quotes(a), quotes(b), numbers(a), numbers(b), names(a), names(b))


def describe(quotes_a: set[str], quotes_b: set[str], numbers_a: set[str], numbers_b: set[str],
             names_a: set[str], names_b: set[str]) -> list[str]:
    """``describe_shared`` for quotes, numbers and names already extracted."""
    out = []
    q = matching_quotes(quotes_a, quotes_b)
    if q:
        out.append("shared quotes: " + "; ".join(f'"{x}"' for x in q[:6]))
    n = shared_items(numbers_a, numbers_b)
    if n:
        out.append("shared numbers: " + ", ".join(n))
    m = shared_items(names_a, names_b)
    if m:
        out.append("shared names: " + ", ".join(m))
    return out
