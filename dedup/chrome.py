"""Chrome stage: find the site furniture in each document.

Share buttons, comment prompts, "Source link", photo credits and newsletter
pitches are repeated by every article of a site; they are not evidence that
two articles share a story.  A line is chrome when

1. it matches one of ``PATTERNS`` (for corpora too small to learn from, such
   as the three seeds) and is short (``pattern_max_words``), or
2. it is short (``repeat_max_words``) and the same line, normalised, occurs in
   at least ``min_docs`` different documents of the corpus.

3. it follows a list heading ("Related stories", "Read more", "More from …")
   in the same block of short lines (up to the next blank line): a list of other
   articles' headlines, whatever those headlines say, or
4. it is that outlet's furniture: the same line, of any length, found in at least
   ``outlet_min_docs`` documents of one outlet (the url's host, else the
   ``source`` field) with as many different titles, most of them sharing under half
   their lines (different stories, not one story run twice), and found at no other
   outlet (text several outlets print, a quoted statement, is left to the widely
   shared passages of ``passages.py``, which report it).  A subscription promo, a
   newsletter pitch or a "related stories" block is long, so rule 2 misses it,
   but an outlet repeats it under every story it runs; a story is not repeated
   under different titles by one outlet.

The length limits keep article paragraphs out of rules 1 and 2: a syndicated
paragraph that appears in many copies is long and stays evidence; what a
cluster of copies loses to rule 2 is at most its short headings.  Rule 4 keeps
them out by staying inside one outlet: copies of one story by different outlets
never make a line furniture.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlparse

import numpy as np

from .records import Document
from .settings import ChromeSettings
from .text import lines, normalize_text, sentences

# Each pattern is matched against a normalised (case-folded, quotes folded)
# line.  Grouped by the kind of furniture they catch.
PATTERNS: dict[str, str] = {
    "social": r"^(follow|like|join|find) us\b|^share (this|on|via|the)\b|^(facebook|twitter|x|whatsapp|telegram|linkedin|pinterest|reddit|email|print|copy link)( comments)?$|((facebook|twitter|google\+?|whatsapp|tumblr|linkedin|pinterest|reddit|digg|stumble\w*|telegram|newsvine|permalink|email|print)\W+){4,}",
    "comments": r"^(leave a (reply|comment)|post (a )?comment|\d+ comments?|comments?|add comment|cancel reply)$|your email address will not be published|required fields are marked|^facebook comments$",
    "navigation": r"^(source link|source|related (posts|articles|stories|content)|read more|read next|recommended|back to top( button)?|advertisement|sponsored( content)?|skip to (main )?content|more from [\w ]+|trending now|you may also like|tags?:.*|filed under:?.*)$",
    "read-full": r"read the full (article|story|report)|click here to read|continue reading",
    "credits": r"(via )?getty images\)?$|\([^()]*([a-z] ?/ ?[a-z]|\bvia )[^()]*\)$|\b(ap|afp|reuters|epa) photo\b|^(photo|image|picture|credit|photograph|illustration)s?( by)?\s*:|/(shutterstock|getty images|afp|reuters|ap)$|\.\s+(ap|afp|reuters|bloomberg)$",
    "newsletter": r"subscribe to (our|the) (\w+ )?(newsletter|channel|podcast|updates)|sign up (for|to) (our|the) (\w+ )?(newsletter|updates|alerts)|\bour (\w+ )?newsletter\b|register here|\brsvp\b|send (us )?(tips|scoops|news tips)|all rights reserved|^copyright\b|^©",
    "byline": r"^by [a-z][\w.'-]*( [a-z][\w.'-]*){0,3}$",
    "contact": r"\S+@\S+\.[a-z]{2,}",
}


# Patterns unambiguous enough to apply to single sentences inside long lines too (articles
# stored as one line often end in an inline share bar).
INLINE_PATTERNS = ("social", "read-full")
# Headings that open a list of other articles' headlines (rule 3).
LIST_HEADING = re.compile(r"^(related (posts|articles|stories|content|coverage|links)|read (more|next|also)|more (stories|news|from [\w ]+)|"
                          r"recommended( for you| stories)?|you may also like|most (read|popular|viewed)|trending( now)?|"
                          r"top stories|latest (news|stories))\W*$")
_HEADING_WORDS = 8   # a list heading is at most this long
_INLINE_TRIGGERS = ("facebook", "twitter", "whatsapp", "linkedin", "permalink", "pinterest", "reddit", "read the full",
                    "click here to read", "continue reading")


class ChromeDetector:
    """Marks chrome lines; ``fit`` learns which short lines repeat across the corpus."""

    def __init__(self, settings: ChromeSettings | None = None, *, patterns: dict[str, str] | None = None) -> None:
        s = settings or ChromeSettings()
        self.min_docs = s.chrome_min_docs
        self.repeat_max_words = s.repeat_max_words
        self.pattern_max_words = s.pattern_max_words
        self.patterns = dict(PATTERNS if patterns is None else patterns)
        self._compiled = re.compile("|".join(f"(?:{p})" for p in self.patterns.values()) or "(?!)")
        self._inline = re.compile("|".join(f"(?:{p})" for n, p in self.patterns.items() if n in INLINE_PATTERNS)
                                  or "(?!)")
        self.outlet_min_docs = s.outlet_min_docs
        self.repeated_: set[str] = set()
        self.furniture_: dict[str, set[int]] = {}   # outlet -> hashes of its repeated lines (rule 4)

    def fit(self, documents: Iterable[Document]) -> "ChromeDetector":
        counts: Counter[str] = Counter()
        pages = []
        for doc in documents:
            counts.update(self.line_keys(doc))
            page = self.page(doc)
            if page is not None:
                pages.append(page)
        self.furniture_ = self.furniture(pages)
        return self.fit_counts(counts)

    def page(self, doc: Document) -> "OutletPage | None":
        """A document's lines as stable 64-bit hashes (a corpus's paragraphs would not fit in memory),
        each also xor-ed with its outlet's hash so that one number names "this line at this outlet";
        None when the document names no outlet."""
        outlet = outlet_key(doc)
        if not outlet:
            return None
        texts = {line_key(doc.text[s:e]) for s, e in lines(doc.text)} - {""}
        salt = line_hash(outlet)
        plain = {k: line_hash(k) for k in texts}
        return OutletPage(outlet, salt, doc.title.strip().lower() or doc.id,
                          np.fromiter((h ^ salt for h in plain.values()), dtype=np.uint64, count=len(plain)),
                          frozenset(h for k, h in plain.items() if len(k.split()) > self.repeat_max_words))

    def furniture(self, pages: list["OutletPage"]) -> dict[str, set[int]]:
        """Rule 4: per outlet, the lines repeated under ``outlet_min_docs`` of its different stories
        and found at no other outlet, from all the pages in document order (in one process; the
        Spark engine calls ``line_counts``' pieces, ``is_candidate`` and ``is_furniture`` itself)."""
        if not pages:
            return {}
        in_outlet, everywhere = line_counts(pages)
        carriers: dict[int, list[OutletPage]] = defaultdict(list)   # candidate line at outlet -> its pages
        for page in pages:
            for h in page.lines.tolist():
                if is_candidate(in_outlet[h], everywhere[h ^ page.salt]):
                    carriers[h].append(page)
        furniture: dict[str, set[int]] = defaultdict(set)
        for h, carrying in carriers.items():
            page = carrying[-1]
            if self.is_furniture(h ^ page.salt, [(p.title, p.body) for p in carrying]):
                furniture[page.outlet].add(h ^ page.salt)
        return dict(furniture)

    def is_furniture(self, line: int, carriers: Iterable[tuple[str, frozenset[int]]]) -> bool:
        """Whether a candidate ``line`` (see ``is_candidate``) is its outlet's furniture, given the
        (title, body) of each page carrying it in document order: the first page of each title
        stands for it; under ``outlet_min_docs`` titles or more, of mostly different stories."""
        titled: dict[str, frozenset[int]] = {}
        for title, body in carriers:
            titled.setdefault(title, body)
        return len(titled) >= self.outlet_min_docs and _different_stories([body - {line} for body in titled.values()])

    def fit_counts(self, counts: dict[str, int]) -> "ChromeDetector":
        """Learn from counts of documents per short line (an index keeps them as it grows)."""
        self.repeated_ = {key for key, n in counts.items() if n >= self.min_docs}
        return self

    def line_keys(self, doc: Document) -> set[str]:
        """The distinct short lines of ``doc`` as compared across documents (what ``fit`` counts)."""
        return {key for key, _ in self._short_lines(doc, self.repeat_max_words)}

    def spans(self, doc: Document) -> list[tuple[int, int]]:
        """Character spans of ``doc.text`` that are chrome, in order."""
        limit = max(self.pattern_max_words, self.repeat_max_words)
        furniture = self.furniture_.get(outlet_key(doc) or "", set())
        found = []
        in_list, previous_end = False, 0
        # Inline chrome needs one of the triggers in its line, so only those found in the whole text
        # are looked for line by line (the lower case of a line is part of the lower case of the text).
        lowered_text, count_to = doc.text.lower(), max(limit, _HEADING_WORDS)
        triggers = [word for word in _INLINE_TRIGGERS if word in lowered_text]
        for start, end in lines(doc.text):
            # Every test below is "at most so many words", none above ``count_to``: count no further.
            words = len(doc.text[start:end].split(None, count_to))
            in_list = in_list and words <= self.repeat_max_words and not _BLANK_LINE.search(doc.text, previous_end, start)
            previous_end = end
            if words <= limit or furniture:   # normalise only lines that can be chrome
                key = line_key(doc.text[start:end])
                heading = words <= _HEADING_WORDS and LIST_HEADING.search(key) is not None
                if heading or in_list or (furniture and line_hash(key) in furniture) \
                        or (words <= limit and self._is_chrome(key)):
                    found.append((start, end))
                    in_list = in_list or heading
                    continue
                if words <= limit:
                    continue
            if not triggers:
                continue
            lowered = doc.text[start:end].lower()
            if not any(word in lowered for word in triggers) or not self._inline.search(lowered):
                continue   # nothing inline-chrome-like anywhere in this long line (checked cheaply first)
            for s_start, s_end in sentences(doc.text[start:end]):   # look inside it
                key = line_key(doc.text[start + s_start:start + s_end])
                if len(key.split()) <= self.pattern_max_words and self._inline.search(key):
                    found.append((start + s_start, start + s_end))
        return found

    def why(self, line: str) -> str | None:
        """Name the rule that makes ``line`` chrome, or None (for explaining decisions)."""
        key = line_key(line)
        if any(line_hash(key) in lines_ for lines_ in self.furniture_.values()):
            return f"an outlet's furniture: repeated under at least {self.outlet_min_docs} of its stories"
        if key in self.repeated_ and len(key.split()) <= self.repeat_max_words:
            return f"repeated in at least {self.min_docs} documents"
        if len(key.split()) <= self.pattern_max_words:
            for name, pattern in self.patterns.items():
                if re.search(pattern, key):
                    return f"pattern '{name}'"
        return None

    def _is_chrome(self, key: str) -> bool:
        words = len(key.split())
        if words <= self.repeat_max_words and key in self.repeated_:
            return True
        return words <= self.pattern_max_words and self._compiled.search(key) is not None

    @staticmethod
    def _short_lines(doc: Document, max_words: int):
        for start, end in lines(doc.text):
            line = doc.text[start:end]
            # An ASCII line's key has as many words as the line (normalising only folds case and
            # spaces, a link stays one word): a paragraph is passed over without normalising it.
            if line.isascii() and len(line.split(None, max_words)) > max_words:
                continue
            key = line_key(line)
            if key and len(key.split()) <= max_words:
                yield key, (start, end)


_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")


def line_key(line: str) -> str:
    """A line as compared across documents: normalised, with links reduced to a placeholder
    (a share bar ends in each article's own permalink)."""
    if "http" in line or "www." in line:
        line = _URL.sub("<link>", line)
    return normalize_text(line)


def _different_stories(pages: list[frozenset[str]], limit: int = 12) -> bool:
    """Whether pages that share a line are mostly different stories (most pairs share under half of
    their other long lines, the paragraphs): then the line is the outlet's furniture, not part of a
    story the outlet ran twice."""
    pages = pages[:limit]
    pairs = [(x, y) for n, x in enumerate(pages) for y in pages[n + 1:]]
    different = sum(len(x & y) < 0.5 * max(1, min(len(x), len(y))) for x, y in pairs)
    return different * 2 >= len(pairs)


@dataclass(frozen=True)
class OutletPage:
    """One outlet-named document as rule 4 sees it (``ChromeDetector.page``)."""
    outlet: str
    salt: int               # the outlet's hash
    title: str
    lines: np.ndarray       # hash of each distinct line, xor the outlet's hash
    body: frozenset[int]    # plain hashes of its long lines (paragraphs), to tell stories apart

    def plain_lines(self) -> np.ndarray:
        """The hash of each distinct line, whatever the outlet (the line at every outlet)."""
        return self.lines ^ np.uint64(self.salt)


def line_counts(pages: list[OutletPage]) -> tuple[dict[int, int], dict[int, int]]:
    """Rule 4's counts: the pages carrying each line at its outlet (``OutletPage.lines``) and the
    pages carrying each plain line at any outlet (``plain_lines``); both are sums of ones per
    page, as a cluster reduces them by key."""
    def counted(arrays) -> dict[int, int]:
        keys, n = np.unique(np.concatenate(arrays), return_counts=True)
        return dict(zip(keys.tolist(), n.tolist()))
    return counted([p.lines for p in pages]), counted([p.plain_lines() for p in pages])


FURNITURE_MIN_PAGES = 2   # a line on fewer of an outlet's pages is not repeated there


def is_candidate(in_outlet: int, everywhere: int) -> bool:
    """Whether a line at an outlet, on ``in_outlet`` of its pages and ``everywhere`` pages of any
    outlet, may be furniture: repeated there and printed by no other outlet.  (Counts under
    ``FURNITURE_MIN_PAGES``, at the outlet or anywhere, can never qualify: a cluster drops them
    before joining.)"""
    return in_outlet >= FURNITURE_MIN_PAGES and everywhere == in_outlet


def line_hash(key: str) -> int:
    """A stable 64-bit hash of a line key (the same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def outlet_key(doc: Document) -> str | None:
    """Which outlet's pages ``doc`` is, for learning that outlet's furniture: the url's host
    (without "www."), else the ``source`` field as written, else None."""
    if doc.url:
        host = (urlparse(doc.url).hostname or "").lower()
        if host:
            return host.removeprefix("www.")
    return doc.source.strip().lower() if doc.source and doc.source.strip() else None
