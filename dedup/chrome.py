"""Chrome stage: find the site furniture in each document.

Share buttons, comment prompts, "Source link", photo credits and newsletter
pitches are repeated by every article of a site; they are not evidence that
two articles share a story.  A line is chrome when

1. it matches one of ``PATTERNS`` (for corpora too small to learn from, such
   as the three seeds) and is short (``pattern_max_words``), or
2. it is short (``repeat_max_words``) and the same line, normalised, occurs in
   at least ``min_docs`` different documents of the corpus.

The length limits keep article paragraphs out of both rules: a syndicated
paragraph that appears in many copies is long and stays evidence; what a
cluster of copies loses to rule 2 is at most its short headings.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

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
    "credits": r"(via )?getty images$|\b(ap|afp|reuters|epa) photo\b|^(photo|image|picture|credit|photograph|illustration)s?( by)?\s*:|/(shutterstock|getty images|afp|reuters|ap)$|\.\s+(ap|afp|reuters|bloomberg)$",
    "newsletter": r"subscribe to (our|the) (\w+ )?(newsletter|channel|podcast|updates)|sign up (for|to) (our|the) (\w+ )?(newsletter|updates|alerts)|\bour (\w+ )?newsletter\b|register here|\brsvp\b|send (us )?(tips|scoops|news tips)|all rights reserved|^copyright\b|^©",
    "byline": r"^by [a-z][\w.'-]*( [a-z][\w.'-]*){0,3}$",
    "contact": r"\S+@\S+\.[a-z]{2,}",
}


# Patterns unambiguous enough to apply to single sentences inside long lines too (articles
# stored as one line often end in an inline share bar).
INLINE_PATTERNS = ("social", "read-full")
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
        self.repeated_: set[str] = set()

    def fit(self, documents: Iterable[Document]) -> "ChromeDetector":
        counts: Counter[str] = Counter()
        for doc in documents:
            counts.update(self.line_keys(doc))
        return self.fit_counts(counts)

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
        found = []
        for start, end in lines(doc.text):
            if len(doc.text[start:end].split()) <= limit:   # normalise only lines that can be chrome
                if self._is_chrome(line_key(doc.text[start:end])):
                    found.append((start, end))
                continue
            lowered = doc.text[start:end].lower()
            if not any(word in lowered for word in _INLINE_TRIGGERS) or not self._inline.search(lowered):
                continue   # nothing inline-chrome-like anywhere in this long line (checked cheaply first)
            for s_start, s_end in sentences(doc.text[start:end]):   # look inside it
                key = line_key(doc.text[start + s_start:start + s_end])
                if len(key.split()) <= self.pattern_max_words and self._inline.search(key):
                    found.append((start + s_start, start + s_end))
        return found

    def why(self, line: str) -> str | None:
        """Name the rule that makes ``line`` chrome, or None (for explaining decisions)."""
        key = line_key(line)
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
            key = line_key(doc.text[start:end])
            if key and len(key.split()) <= max_words:
                yield key, (start, end)


_URL = re.compile(r"\b(?:https?://|www\.)\S+")


def line_key(line: str) -> str:
    """A line as compared across documents: normalised, with links reduced to a placeholder
    (a share bar ends in each article's own permalink)."""
    if "http" in line or "www." in line:
        line = _URL.sub("<link>", line)
    return normalize_text(line)
