"""Lineage stage: who took from whom, and which articles form one story family.

Each reported pair gets a direction from weighted votes, every vote recorded
as a sentence of evidence:

- publication dates (the later one derives from the earlier): strongest,
  because it is the only signal that is about time itself;
- attribution ("the FT reported", "according to the New York Post"): a
  document that credits the outlet of the other derives from it;
- containment asymmetry: the piece that lies wholly inside the other is the copy;
- republication markers ("Source link", "read the full article"): weak.

Attributions to outlets that are not in the corpus become absent ``Source``
nodes; two documents of a pair that credit the same absent source, with no
other evidence between them, are siblings of it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import partial
from datetime import datetime, timezone
from typing import Iterable, Sequence
from urllib.parse import urlparse

from .classify import with_direction
from .fanout import map_shared
from .records import (A_FROM_B, B_FROM_A, DUPLICATE, EXCERPT, OVERLAP, PARAPHRASE, SIBLINGS, UNKNOWN, Direction, Document, Edge,
                      Pair, Source)
from .settings import LineageSettings

# Known outlets: canonical name -> (aliases, web domains).  Short all-caps
# aliases are matched case-sensitively ("FT", "AP"), names case-insensitively.
OUTLETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Financial Times": (("Financial Times", "FT"), ("ft.com",)),
    "Wall Street Journal": (("Wall Street Journal", "WSJ"), ("wsj.com",)),
    "New York Times": (("New York Times", "NYT", "NY Times"), ("nytimes.com",)),
    "New York Post": (("New York Post", "NY Post"), ("nypost.com",)),
    "Washington Post": (("Washington Post",), ("washingtonpost.com",)),
    "Associated Press": (("Associated Press", "AP"), ("apnews.com", "ap.org")),
    "Reuters": (("Reuters",), ("reuters.com",)),
    "Agence France-Presse": (("Agence France-Presse", "Agence France Presse", "AFP"), ("afp.com",)),
    "Bloomberg": (("Bloomberg",), ("bloomberg.com",)),
    "BBC": (("BBC", "BBC News"), ("bbc.com", "bbc.co.uk")),
    "CNN": (("CNN",), ("cnn.com",)),
    "CNBC": (("CNBC",), ("cnbc.com",)),
    "ABC News": (("ABC News",), ("abcnews.go.com", "abc.net.au")),
    "CBS News": (("CBS News",), ("cbsnews.com",)),
    "NBC News": (("NBC News",), ("nbcnews.com",)),
    "Fox News": (("Fox News",), ("foxnews.com",)),
    "NPR": (("NPR",), ("npr.org",)),
    "HuffPost": (("HuffPost", "Huffington Post"), ("huffingtonpost.com", "huffpost.com")),
    "Al Jazeera": (("Al Jazeera",), ("aljazeera.com",)),
    "Deutsche Welle": (("Deutsche Welle", "DW"), ("dw.com",)),
    "RTE": (("RTE", "RTÉ", "RTE News"), ("rte.ie",)),
    "TASS": (("TASS",), ("tass.com", "tass.ru")),
    "China Daily": (("China Daily",), ("chinadaily.com.cn",)),
    "The Guardian": (("The Guardian", "Guardian"), ("theguardian.com",)),
    "The Information": (("The Information",), ("theinformation.com",)),
    "Axios": (("Axios",), ("axios.com",)),
    "Business Insider": (("Business Insider",), ("businessinsider.com",)),
    "The Verge": (("The Verge",), ("theverge.com",)),
    "TechCrunch": (("TechCrunch",), ("techcrunch.com",)),
    "Politico": (("Politico",), ("politico.com",)),
}
# News agencies whose stories other outlets reprint under the agency's dateline or byline.
WIRES = ("Associated Press", "Reuters", "Agence France-Presse")
_WIRE_NAMES = ("AP", "Associated Press", "Reuters", "AFP", "Agence France-Presse")
_WIRE_MARK = rf"(?P<wire>{'|'.join(_WIRE_NAMES)})"
# "WASHINGTON (AP) —", "(Reuters) -": the dateline of a wire story.
_DATELINE = re.compile(rf"(?:^|\n)[ \t]*(?P<city>[A-Z][A-Za-z .,'-]{{0,40}}?)?\s*\({_WIRE_MARK}\)\s*[—–-]")
# "By Jane Doe, Associated Press" / "By Jane Doe, The Associated Press" on a line of its own.
_BYLINE = re.compile(rf"(?:^|\n)[ \t]*By [A-Z][\w.'-]*(?: [A-Z][\w.'-]*){{0,3}},? (?:The )?{_WIRE_MARK}[ \t]*(?=\n|$)")
# "The Associated Press contributed to this report."  Each pattern here that is searched in every
# document opens with a lookahead on its possible first characters: the same matches, found without
# trying every alternative at every position (lineage reads every document of a scan).
_CONTRIBUTED = re.compile(rf"(?=[TAR])(?:The )?{_WIRE_MARK} contributed (?:to )?this (?:report|story|article)")
# Photo credits and captions ("(Jane Doe/Agency via AP)", "(Photo: Reuters)") credit a picture, not a story.
_PHOTO_CREDIT = re.compile(r"(?=[(pic])(?:\([^()\n]*(?:/|\bvia\b|\bphoto\b|\bimages?\b)[^()\n]*\)|"
                           r"\b(?:photo|image|picture|credit)s?(?: by)?\s*:\s*[^\n.]*)", re.I)
# A capitalised name ending in a newspaper word is an outlet even if unlisted ...
_MEDIA_WORDS = (r"News|Times|Post|Journal|Herald|Tribune|Daily|Press|Magazine|Gazette|Telegraph|Guardian|Wire|"
                r"Reporter|Observer|Chronicle|Economist|Standard|Mail|Express|Independent|Examiner|Register|"
                r"Ledger|Courier|Sentinel|Dispatch")
_MEDIA_NAME = rf"(?:[A-Z][\w&'-]+ ){{1,3}}(?:{_MEDIA_WORDS})\b"
# ... when its words look like a name: not a sentence fragment ("And Putin About Press", "As The Post").
_NOT_NAME_WORDS = {"a", "an", "and", "as", "about", "after", "at", "before", "but", "by", "for", "from", "he", "her",
                   "his", "if", "in", "into", "is", "it", "its", "of", "on", "or", "our", "she", "so", "than", "that",
                   "their", "them", "then", "they", "this", "to", "told", "was", "we", "when", "while", "with", "said",
                   "says", "also", "according", "via", "per", "citing", "reported", "like", "unlike", "both", "all"}
# Words near an outlet's name that make the mention an attribution.
_CUE_BEFORE = re.compile(r"(according to|reported by|first reported|as reported|cited by|citing|told|via|source:|"
                         r"(?:first )?carried by|originally appeared (?:on|in)|first appeared (?:on|in)|"
                         r"per|report (?:in|by|from)|story (?:in|by)|wrote in|published (?:in|by)|"
                         r"interview with|said to)\W+(?:\w+\W+){0,3}$", re.I)
_CUE_AFTER = re.compile(r"^\W{0,3}(?:'s\s+|’s\s+)?(?:\w+\s+){0,2}?(reported|reports|report|revealed|wrote|"
                        r"first reported|said|story|article|investigation|previously reported)\b", re.I)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n")
# Lower-case words one of which each case-insensitive pattern needs (``_may_contain``): most documents
# have none, and an ``in`` test skips the regex, which costs a step at every character of the text.
_REPUBLISHED_WORDS = ("source", "read the full", "originally published", "this article", "continue reading")
_PHOTO_WORDS = ("photo", "image", "picture", "credit")
# The characters other than ASCII that re.IGNORECASE matches to an ASCII letter ("ſ" to "s", the Kelvin
# sign to "k") while str.lower() leaves them: a text with one of them always goes to the regex.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")
_REPUBLISHED = re.compile(r"^\s*(source link|source|read the full article|read the full story|originally "
                          r"published|this article (first )?appeared|continue reading)\b", re.I | re.M)


WIRE_COPY = "wire copy"   # edge relation: the article runs a wire service's story under its dateline or byline


@dataclass
class Citation:
    outlet: str          # canonical name
    snippet: str         # the words around it, for evidence
    wire: bool = False   # a wire dateline, byline or credit line: the article is that wire's story


@dataclass(frozen=True)
class Reading:
    """What the lineage stage reads in one document, once (not once per pair the document is in):
    its wire mark, the outlets it credits, whether it carries a republication marker, and when it
    appeared (``document_time``; its crawl time too, for two dates on one day)."""

    wire: Citation | None
    citations: list[Citation]
    republished: bool
    time: tuple[datetime | None, str | None, bool]
    crawled: tuple[datetime | None, str | None, bool]

    @classmethod
    def of(cls, matcher: "OutletMatcher", doc: Document, blanked: str) -> "Reading":
        """The wire mark is read from the full text (a byline line may be chrome), the credits
        from the text with chrome blanked (a photo credit "AP" is not an attribution)."""
        return cls(matcher.wire_credit(doc.text), matcher.citations(blanked), republished(doc.text),
                   document_time(doc), _crawl_time(doc))


@dataclass(frozen=True)
class OutletFacts:
    """The corpus-wide facts lineage reads each document against, one entry per outlet or host
    (not per document: small enough for the Spark engine to broadcast)."""

    named: dict[str, str]     # url host -> the outlet name documents on it give in their source field
    present: frozenset[str]   # the outlets of the corpus's documents (a credit to one is not to an absent source)
    spelled: dict[str, str]   # squashed name a domain spells ("albanygazette") -> the outlet known by that domain


@dataclass(frozen=True)
class Credited:
    """One document as lineage's per-pair and per-document steps use it (``LineageBuilder.credit``):
    its ``Reading`` and what it credits, named as the corpus knows the outlets."""

    document: Document
    outlet: str | None
    reading: Reading
    wire: Citation | None                 # the wire whose story it runs (never its own outlet)
    cites: dict[str, list[Citation]]      # outlet -> the credits to it
    absent: dict[str, list[Citation]]     # the same, for outlets not in the corpus


@dataclass(frozen=True)
class Lineage:
    """The lineage stage's answer: each pair with its direction, the derivation edges, the
    absent sources and the story families (the one definition every output renders)."""

    pairs: tuple[Pair, ...] = ()
    families: tuple[tuple[str, ...], ...] = ()
    sources: tuple[Source, ...] = ()
    edges: tuple[Edge, ...] = ()
    outlets: dict[str, str | None] = field(default_factory=dict)   # document -> its outlet
    wires: dict[str, str] = field(default_factory=dict)            # document -> the wire whose story it runs
    origins: tuple["Origin", ...] = ()                             # per document: original, reprint, ...


# How much is original: what each document is, by the first rule that holds (``origins_of``).
ORIGINAL, WIRE_REPRINT, REPRINT, EXCERPT_OF, RETELLING = "original", "wire reprint", "reprint", "excerpt", "retelling"
ORIGIN_KINDS = (ORIGINAL, WIRE_REPRINT, REPRINT, EXCERPT_OF, RETELLING)
ORIGIN_RULES = {
    REPRINT: "derives from another article of the corpus as a duplicate (its strongest parent)",
    EXCERPT_OF: "derives from another article as an excerpt, or reuses a real share of it (an overlap joining "
                "a family)",
    RETELLING: "derives from another article as a paraphrase, or tells a story it credits to an absent source "
               "and is a sibling of other articles through that source, deriving from none of them",
    WIRE_REPRINT: "runs a wire service's story under its dateline, wire byline or credit line, and derives "
                  "from no article of the corpus",
    ORIGINAL: "none of the above: no parent in the corpus, no wire mark, no retold absent source "
              "(sharing only a widely quoted passage leaves an article original)",
}
# Which parent is strongest: the more verbatim the relation, then the surer the direction.
_RELATION_RANK = {DUPLICATE: 0, EXCERPT: 1, OVERLAP: 2, PARAPHRASE: 3}


@dataclass(frozen=True)
class Origin:
    """What one document is (``ORIGIN_KINDS``) and its strongest parent (a document or absent
    source id; None for an original): the derivation tree keeps only this edge per document."""

    document: str
    outlet: str | None
    kind: str
    parent: str | None = None
    relation: str | None = None   # of the edge to the parent

    def to_json(self) -> dict:
        return {"document": self.document, "outlet": self.outlet, "kind": self.kind, "parent": self.parent,
                "relation": self.relation}


class OutletMatcher:
    """Finds attributions to outlets in text and names the outlet of a document."""

    def __init__(self, outlets: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None) -> None:
        self.outlets = dict(OUTLETS if outlets is None else outlets)
        self._alias = {}
        patterns = []
        for name, (aliases, _) in self.outlets.items():
            for alias in (name, *aliases):
                self._alias[alias.lower()] = name
                body = re.escape(alias)
                patterns.append((alias, body if alias.isupper() and len(alias) <= 4 else f"(?i:{body})"))
        patterns.sort(key=lambda p: len(p[1]), reverse=True)
        self._pattern = re.compile(_outlet_pattern(patterns))
        self._domains = {d: name for name, (_, domains) in self.outlets.items() for d in domains}

    def canonical(self, name: str) -> str:
        cleaned = re.sub(r"^the\s+", "", name.strip(), flags=re.I)
        return self._alias.get(name.strip().lower()) or self._alias.get(cleaned.lower()) or cleaned

    def known(self, name: str) -> bool:
        return name.strip().lower() in self._alias or self.canonical(name) in self.outlets

    def outlet_of(self, doc: Document) -> str | None:
        """The document's outlet: its ``source`` field, else the outlet its url's domain belongs
        to, else the url's host itself (an outlet we have no name for)."""
        if doc.source and doc.source.strip():
            return self.canonical(doc.source)
        host = _host(doc.url)
        if not host:
            return None
        for domain, name in self._domains.items():
            if host == domain or host.endswith("." + domain):
                return name
        return host

    def is_own(self, name: str, doc: Document) -> bool:
        """Whether ``name`` is the document's own outlet (by source, known domain, or a name the url's
        domain spells: "The Albany Gazette" on albanygazette.com): an article never credits itself."""
        canonical = self.canonical(name)
        if canonical == self.outlet_of(doc) or (doc.source and _squash(canonical) == _squash(doc.source)):
            return True
        host = _host(doc.url)
        if not host:
            return False
        key = _squash(canonical)
        labels = [_squash(label) for label in host.split(".")[:-1] if label not in _GENERIC_HOST_LABELS]
        return any(len(label) >= 3 and (key.startswith(label) or label.startswith(key)) for label in labels if key)

    def plausible(self, name: str) -> bool:
        """An outlet name must look like one: a known outlet, or capitalised words ending in a newspaper
        word with no sentence words among them ("As The Post", "And Putin About Press" are not names),
        and more than the bare newspaper word ("Times")."""
        if self.known(name):
            return True
        words = re.sub(r"^the\s+", "", name.strip(), flags=re.I).split()
        return len(words) >= 2 and not any(w.lower() in _NOT_NAME_WORDS for w in words) \
            and all(w[:1].isupper() for w in words)

    def citations(self, text: str) -> list[Citation]:
        # A photo credit in parentheses needs a "/" or "via" too ("(Jane Doe/Agency via AP)").
        if _may_contain(text, _PHOTO_WORDS + (("/", "via") if "(" in text else ())):
            text = _PHOTO_CREDIT.sub(lambda m: " " * len(m.group()), text)   # same length: offsets stay valid
        found = []
        for match in self._pattern.finditer(text):
            if not self.plausible(match.group()):
                continue
            # The cue must be in the same sentence as the name.
            before = _SENTENCE_BREAK.split(text[max(0, match.start() - 60):match.start()])[-1]
            after = _SENTENCE_BREAK.split(text[match.end():match.end() + 40])[0]
            if _CUE_BEFORE.search(before) or _CUE_AFTER.search(after):
                snippet = " ".join((before[-40:] + match.group() + after[:30]).split())
                found.append(Citation(self.canonical(match.group()), snippet))
        return found

    def wire_credit(self, text: str) -> Citation | None:
        """The wire service whose story this is, from its dateline ("WASHINGTON (AP) —"), a wire
        byline ("By Jane Doe, Associated Press") or "Reuters contributed to this report"."""
        if not any(name in text for name in _WIRE_NAMES):   # each mark names the wire (the test is quick)
            return None
        for pattern, what in ((_DATELINE, "dateline"), (_BYLINE, "byline"), (_CONTRIBUTED, "credit line")):
            match = pattern.search(text)
            if match:
                return Citation(self.canonical(match.group("wire")), f"{what} '{' '.join(match.group().split())}'",
                                wire=True)
        return None


def _outlet_pattern(patterns: list[tuple[str, str]]) -> str:
    """A whole outlet name: one of ``patterns`` ((alias, its regex), in the order they are tried),
    else capitalised words ending in a newspaper word (``_MEDIA_NAME``).  The names are grouped by
    first letter, each group behind a lookahead on its letter, all behind a lookahead on the first
    letters and capitals: the same first match as one flat alternation (names with different first
    letters never match at one position; the order within a letter is kept), without trying every
    name at every word."""
    groups: dict[str, list[str]] = {}
    for alias, pattern in patterns:
        group = groups.setdefault(alias[0].lower(), [])
        if pattern not in group:
            group.append(pattern)
    names = "|".join(f"(?=(?i:{re.escape(first)}))(?:{'|'.join(group)})" for first, group in groups.items())
    return rf"\b(?=(?i:[{re.escape(''.join(groups))}])|[A-Z])(?:{names}|{_MEDIA_NAME})\b"


class LineageBuilder:
    """Directions, absent sources and families (parameters: ``LineageSettings``)."""

    CHUNK = 1000   # documents read at a time by each process

    def __init__(self, settings: LineageSettings | None = None, matcher: OutletMatcher | None = None,
                 jobs: int = 1) -> None:
        s = settings or LineageSettings()
        self.settings = s
        self.matcher = matcher or OutletMatcher()
        self.jobs = jobs   # processes reading the documents' credits (0: every core; see ``fanout``)

    def build(self, documents: Sequence[Document], pairs: Sequence[Pair],
              texts: Sequence[str] | None = None) -> Lineage:
        """Decide each pair's direction and return the lineage graph: the pairs with their
        directions, edges, absent sources, story families.  ``texts`` are the documents' texts
        with chrome blanked (a photo credit "AP" is not an attribution); wire datelines and
        bylines are read from the full text (a byline line may be chrome).

        Built from per-document and per-pair pieces (``outlet_facts``, ``credit``, ``directed``,
        ``sibling_check``, ``pair_edge``, ``source_edges``, ``origin_of``) so that the Spark
        engine runs the very same steps as joins on its executors."""
        texts = [d.text for d in documents] if texts is None else texts
        facts = self.outlet_facts(documents)
        credited = {d.id: self.credit(d, r, facts) for d, r in zip(documents, self.read(documents, texts))}
        directed = [self.directed(pair, credited[pair.a], credited[pair.b]) for pair in pairs]
        directed = _siblings_of_common_parent(directed)
        sources = self._sources({doc_id: c.absent for doc_id, c in credited.items()})
        edges = [e for e in map(pair_edge, directed) if e is not None]
        edges += [e for c in credited.values() for e in source_edges(c)]
        share = self.settings.family_min_share
        edges = sorted(edges, key=lambda e: (e.child, e.parent))
        outlet = {doc_id: c.outlet for doc_id, c in credited.items()}
        origins = origins_of(documents, directed, edges, outlet, sources, share)
        return Lineage(tuple(directed), families_of(directed, sources, share), tuple(sources), tuple(edges),
                       outlets=outlet, wires={doc_id: c.wire.outlet for doc_id, c in credited.items() if c.wire},
                       origins=origins)

    # -- per document and per pair: the pieces ``build`` joins (the Spark engine joins them on executors)

    def outlet_facts(self, documents: Sequence[Document]) -> "OutletFacts":
        """The corpus-wide facts about outlets: which name each url host goes by (the first
        document, in ``documents``' order, naming it), the outlets present, the names domains
        spell (the last document's)."""
        named: dict[str, str] = {}
        for doc in documents:
            found = self.host_name(doc)
            if found:
                named.setdefault(*found)
        outlets = [self.outlet(doc, named) for doc in documents]
        spelled = {}
        for doc, name in zip(documents, outlets):
            label = spelled_label(doc, name)
            if label:
                spelled[label] = name
        return OutletFacts(named, frozenset(name for name in outlets if name), spelled)

    def host_name(self, doc: Document) -> tuple[str, str] | None:
        """(url host, the outlet name the document gives in its source field), when it has both."""
        host = _host(doc.url)
        return (host, self.matcher.canonical(doc.source)) if host and doc.source and doc.source.strip() else None

    def outlet(self, doc: Document, named: dict[str, str]) -> str | None:
        """The document's outlet; a url host that other documents name in their ``source`` field
        (``named``) takes that name, so one outlet is one outlet whether or not a page says its name."""
        return named.get(_host(doc.url) or "") or self.matcher.outlet_of(doc)

    def credit(self, doc: Document, reading: Reading, facts: "OutletFacts") -> "Credited":
        """What lineage knows of one document against the corpus's ``facts``: its outlet, the wire
        whose story it runs, the outlets it credits and which of them are absent."""
        wire = reading.wire if reading.wire and not self.matcher.is_own(reading.wire.outlet, doc) else None
        cites = self._cited(reading.citations, doc, wire, facts.spelled)
        absent = {name: c for name, c in cites.items() if name not in facts.present}
        return Credited(doc, self.outlet(doc, facts.named), reading, wire, cites, absent)

    def directed(self, pair: Pair, a: "Credited", b: "Credited") -> Pair:
        """The pair with its direction, from its two documents' ``Credited`` alone."""
        both = (a, b)
        return with_direction(pair, self.direct(
            pair, a.document, b.document, {c.document.id: c.outlet for c in both},
            {c.document.id: c.cites for c in both}, {c.document.id: c.absent for c in both},
            {c.document.id: c.wire for c in both if c.wire}, {c.document.id: c.reading for c in both}))

    def read(self, documents: Sequence[Document], texts: Sequence[str]) -> list[Reading]:
        """Each document's ``Reading`` (``texts``: the documents' texts with chrome blanked), on
        ``jobs`` processes: where they fork, the workers inherit the documents, only indexes travel."""
        read = partial(_read_chunk, self.matcher)
        return [r for chunk in map_shared(read, (documents, texts), range(len(documents)), self.CHUNK, self.jobs)
                for r in chunk]

    def _cited(self, citations: list[Citation], doc: Document, wire: Citation | None,
               present: dict[str, str]) -> dict[str, list[Citation]]:
        """Outlets the document credits (never its own) among its ``citations``, each named as the
        corpus knows it: a name that a present outlet's domain spells ("The Albany Gazette",
        albanygazette.com) is that outlet."""
        cited: dict[str, list[Citation]] = defaultdict(list)
        if wire is not None:
            cited[wire.outlet].append(wire)
        for c in citations:
            if not self.matcher.is_own(c.outlet, doc):
                cited[_spelled_by(c.outlet, present)].append(c)
        return dict(cited)

    def direct(self, pair: Pair, a: Document, b: Document, outlet, cites, absent, wires=None,
               readings: dict[str, Reading] | None = None) -> Direction:
        """Who took from whom, from weighted votes (each recorded as a sentence of evidence).

        Two reprints of one wire story (both carry its dateline or byline, and the wire is not in
        the corpus) are siblings of the absent wire whatever their times say, unless one credits
        the other's outlet.  ``readings``: each document's ``Reading`` (read here when not given)."""
        wires = wires or {}
        ra, rb = (readings[a.id], readings[b.id]) if readings else (self._reading(a), self._reading(b))
        credits = self._credits(a, b, outlet, cites)
        wire = _common_wire(a.id, b.id, wires, absent)
        if wire and not credits:
            return Direction(SIBLINGS, 0.8, (f"both take one {wire} story, which is not in the corpus: "
                                             f"{_wire_phrase(a.id, wire, wires, absent)}; "
                                             f"{_wire_phrase(b.id, wire, wires, absent)}",))
        votes: list[tuple[float, str]] = list(credits)   # positive: a derives from b
        vote = self._time_vote(a, b, ra, rb)
        if vote:
            votes.append(vote)
        if pair.relation in (DUPLICATE, EXCERPT, OVERLAP):
            gap = pair.containment_a_in_b - pair.containment_b_in_a
            if abs(gap) >= 0.25:
                inner, outer = (a, b) if gap > 0 else (b, a)
                share = max(pair.containment_a_in_b, pair.containment_b_in_a)
                votes.append((self.settings.containment_weight if gap > 0 else -self.settings.containment_weight,
                              f"{share:.0%} of {inner.id} lies inside {outer.id}, only "
                              f"{min(pair.containment_a_in_b, pair.containment_b_in_a):.0%} the other way"))
        if ra.republished != rb.republished:
            marked = a if ra.republished else b
            votes.append((self.settings.republished_weight if ra.republished else -self.settings.republished_weight,
                          f"{marked.id} carries a republication marker (e.g. 'Source link')"))
        score = sum(w for w, _ in votes)
        evidence = tuple(text for _, text in votes)
        if abs(score) >= self.settings.min_confidence:
            return Direction(A_FROM_B if score > 0 else B_FROM_A, min(0.99, abs(score)), evidence)
        common = sorted(set(absent[a.id]) & set(absent[b.id]))
        if common:
            return Direction(SIBLINGS, 0.5, evidence + (f"both credit {', '.join(common)}, which is not in the corpus",))
        return Direction(UNKNOWN, 0.0, evidence + (("the evidence on direction cancels out",) if votes else ()))

    def _credits(self, a: Document, b: Document, outlet, cites) -> list[tuple[float, str]]:
        votes = []
        for child, parent, sign in ((a, b, 1), (b, a, -1)):
            name = outlet[parent.id]
            if name and name in cites[child.id] and not self.matcher.is_own(name, child):
                snippet = cites[child.id][name][0].snippet
                votes.append((sign * self.settings.attribution_weight,
                              f'{child.id} credits {name}, the outlet of {parent.id}: "…{snippet}…"'))
        return votes

    def _reading(self, doc: Document) -> Reading:
        return Reading.of(self.matcher, doc, doc.text)

    def _time_vote(self, a: Document, b: Document, ra: Reading, rb: Reading) -> tuple[float, str] | None:
        """The later document derives from the earlier: publication dates vote with ``date_weight``,
        crawl times (when either has no publication date, or both dates fall on one day without a
        time of day) with ``crawl_weight``; a gap under ``min_time_gap_hours`` is no evidence."""
        ta, tb = ra.time, rb.time
        vote = self._compare(a, b, ta, tb)
        if vote is None and ta[1] == tb[1] == PUBLISHED and not (ta[2] and tb[2]):
            vote = self._compare(a, b, ra.crawled, rb.crawled)   # same day: who was fetched first
        return vote

    def _compare(self, a: Document, b: Document, ta, tb) -> tuple[float, str] | None:
        (when_a, kind_a, exact_a), (when_b, kind_b, exact_b) = ta, tb
        if when_a is None or when_b is None:
            return None
        if not (exact_a and exact_b):   # a date without a time of day only orders different days
            when_a, when_b = (t.replace(hour=0, minute=0, second=0, microsecond=0) for t in (when_a, when_b))
        if abs((when_a - when_b).total_seconds()) / 3600 < max(self.settings.min_time_gap_hours, 1e-9):
            return None
        crawled = CRAWLED in (kind_a, kind_b)
        weight = self.settings.crawl_weight if crawled else self.settings.date_weight
        (later, kind_later), (earlier, kind_earlier) = ((a, kind_a), (b, kind_b)) if when_a > when_b \
            else ((b, kind_b), (a, kind_a))
        if crawled:
            text = (f"{later.id} was {_when_phrase(later, kind_later)}, after {earlier.id} "
                    f"({_when_phrase(earlier, kind_earlier)}); crawl times weigh less than publication dates")
        else:
            text = f"{later.id} is dated {later.date}, after {earlier.id} ({earlier.date})"
        return (weight if when_a > when_b else -weight, text)

    @staticmethod
    def _sources(absent: dict[str, dict[str, list[Citation]]]) -> list[Source]:
        cited_by: dict[str, list[str]] = defaultdict(list)
        for doc_id, cited in absent.items():
            for name in cited:
                cited_by[name].append(doc_id)
        return [cited_source(name, ids) for name, ids in sorted(cited_by.items())]


def cited_source(name: str, cited_by: Iterable[str]) -> Source:
    """The absent source ``name`` with the documents crediting it, in id order."""
    return Source(id=source_id(name), name=name, cited_by=tuple(sorted(cited_by)))


def republished(text: str) -> bool:
    """Whether the text carries a republication marker ("Source link", "Read the full article")."""
    return _may_contain(text, _REPUBLISHED_WORDS) and bool(_REPUBLISHED.search(text))


def _may_contain(text: str, words: tuple[str, ...]) -> bool:
    """Whether ``text`` may hold one of ``words`` (lower case) as a case-insensitive regex reads it:
    False only where no pattern that needs one of them can match."""
    if any(c in text for c in _FOLDS_TO_ASCII):
        return True
    low = text.lower()
    return any(w in low for w in words)


def _read_chunk(matcher: OutletMatcher, corpus: tuple[Sequence[Document], Sequence[str]],
                indexes: Sequence[int]) -> list[Reading]:
    """The ``Reading`` of each document at ``indexes`` of ``corpus`` (documents, blanked texts)."""
    documents, blanked = corpus
    return [Reading.of(matcher, documents[k], blanked[k]) for k in indexes]


def _siblings_of_common_parent(pairs: list[Pair]) -> list[Pair]:
    """Two documents that both derive from a third, with no credit between them, are siblings (two
    copies of one original), not a chain decided by a few hours between them (``sibling_check``)."""
    parents: dict[str, dict[str, float]] = defaultdict(dict)
    for child, parent, confidence in parent_links(pairs):
        parents[child][parent] = confidence
    return [sibling_check(p, parents.get(p.a, {}), parents.get(p.b, {})) for p in pairs]


def parent_links(pairs: Iterable[Pair]) -> Iterable[tuple[str, str, float]]:
    """(child, parent, confidence) of each directed pair."""
    for p in pairs:
        if p.direction in (A_FROM_B, B_FROM_A):
            yield (p.a, p.b, p.confidence) if p.direction == A_FROM_B else (p.b, p.a, p.confidence)


def sibling_check(p: Pair, parents_a: dict[str, float], parents_b: dict[str, float]) -> Pair:
    """The pair as siblings when both its documents derive from a third (``parents_*``: parent ->
    confidence, from ``parent_links``).  Only a parent both derive from more surely than this
    pair's own direction counts: a weak guess (containment of an overlap) never overrides
    publication dates."""
    if p.direction in (A_FROM_B, B_FROM_A) and not any(" credits " in e for e in p.evidence):
        common = sorted(c for c in set(parents_a) & set(parents_b)
                        if c not in (p.a, p.b) and min(parents_a[c], parents_b[c]) > p.confidence)
        if common:
            p = replace(p, direction=SIBLINGS, confidence=0.6,
                        evidence=p.evidence + (f"both derive from {common[0]}: siblings, not one from the other",))
    return p


def pair_edge(pair: Pair) -> Edge | None:
    """The derivation edge of a directed pair (None for siblings and unknown directions)."""
    if pair.direction not in (A_FROM_B, B_FROM_A):
        return None
    child, parent = (pair.a, pair.b) if pair.direction == A_FROM_B else (pair.b, pair.a)
    return Edge(child, parent, pair.relation, pair.confidence, tuple(pair.evidence))


def source_edges(credited: Credited) -> list[Edge]:
    """The document's edges to the absent sources it credits (a wire copy when it runs the wire's story)."""
    edges = []
    for name, found in credited.absent.items():
        wire = [c for c in found if c.wire]
        edges.append(Edge(credited.document.id, source_id(name), WIRE_COPY if wire else "cites", 0.9,
                          tuple(f"carries the {name} {c.snippet}" for c in wire[:1])
                          + tuple(f'credits {name}: "…{c.snippet}…"' for c in found if not c.wire)[:3]))
    return edges


def spelled_label(doc: Document, outlet: str | None) -> str | None:
    """The squashed name ("albanygazette") of a document's outlet known only by its domain."""
    host = _host(doc.url)
    if outlet and host and outlet == host:
        label = _squash(next((x for x in host.split(".") if x not in _GENERIC_HOST_LABELS), ""))
        if len(label) >= 3:
            return label
    return None


def _common_wire(a: str, b: str, wires: dict, absent: dict) -> str | None:
    """The absent wire service both documents take their story from: one runs it under the wire's
    dateline or byline, the other does too or credits that wire."""
    for one, other in ((a, b), (b, a)):
        wire = wires.get(one)
        if wire and wire.outlet in absent[one] and wire.outlet in absent[other]:
            return wire.outlet
    return None


def _wire_phrase(doc: str, wire: str, wires: dict, absent: dict) -> str:
    mark = wires.get(doc)
    if mark and mark.outlet == wire:
        return f"{doc} carries its {mark.snippet}"
    return f'{doc} credits it: "…{absent[doc][wire][0].snippet}…"'


# Host labels that name no outlet ("news.com.au" is not the outlet "Newsweek").
_GENERIC_HOST_LABELS = {"www", "co", "com", "org", "net", "news", "online", "web", "m", "mobile", "amp", "edition",
                        "en", "english", "go", "europe", "us", "uk"}


def _spelled_by(name: str, spelled: dict[str, str]) -> str:
    """The outlet whose domain spells ``name`` (the domain may add a suffix: "albanygazette-online"),
    else the name itself."""
    key = _squash(name)
    if len(key) >= 3:
        for label, outlet in spelled.items():
            if label == key or (len(key) >= 6 and label.startswith(key)):
                return outlet
    return name


def _host(url: str | None) -> str | None:
    host = (urlparse(url).hostname or "").lower() if url else ""
    return host.removeprefix("www.") or None


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", re.sub(r"^the\s+", "", name.strip().lower()))


def _when_phrase(doc: Document, kind: str) -> str:
    return f"dated {doc.date}" if kind == PUBLISHED else f"crawled at {doc.crawled_at}"


def _crawl_time(doc: Document) -> tuple[datetime | None, str | None, bool]:
    parsed = _parse_time(getattr(doc, "crawled_at", None))
    return (parsed[0], CRAWLED, parsed[1]) if parsed else (None, None, False)


def source_id(name: str) -> str:
    return "source:" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


PUBLISHED, CRAWLED = "published", "crawled"


def parse_date(value: str | None) -> datetime | None:
    """A date or time in any common format (ISO 8601 with or without zone, RFC 2822 as in RSS,
    "March 7, 2024") as naive UTC, or None if absent or unparseable."""
    parsed = _parse_time(value)
    return parsed[0] if parsed else None


def _parse_time(value: str | None) -> tuple[datetime, bool] | None:
    """(naive UTC time, whether a time of day was given)."""
    if not value or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from dateutil import parser as dateparser
        try:
            parsed = dateparser.parse(text, default=_NO_TIME)
        except (ValueError, OverflowError, TypeError):
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    has_time = bool(re.search(r"\d:\d\d", text))
    return parsed, has_time


_NO_TIME = datetime(1900, 1, 1)


def document_time(doc: Document) -> tuple[datetime | None, str | None, bool]:
    """When the document appeared: (time, ``PUBLISHED`` or ``CRAWLED``, whether a time of day is
    known).  A publication date wins; a crawl time only says the page existed by then."""
    for value, kind in ((doc.date, PUBLISHED), (getattr(doc, "crawled_at", None), CRAWLED)):
        parsed = _parse_time(value)
        if parsed:
            return parsed[0], kind, parsed[1]
    return None, None, False


def connected_components(links: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Groups of nodes joined by ``links`` (union-find), each sorted, in a stable order."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        groups[find(node)].append(node)
    return sorted(sorted(members) for members in groups.values())


def origins_of(documents: Sequence[Document], pairs: Sequence[Pair], edges: Sequence[Edge],
               outlet: dict[str, str | None], sources: Sequence[Source], min_share: float) -> tuple[Origin, ...]:
    """Each document's kind and strongest parent, by the first rule of ``ORIGIN_RULES`` that holds."""
    names = {s.id: s.name for s in sources}
    by_pair = {frozenset((p.a, p.b)): p for p in pairs}
    parent_edges: dict[str, list[Edge]] = defaultdict(list)
    to_sources: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        if e.parent.startswith("source:"):
            to_sources[e.child].append(e)
        elif substantive(by_pair[frozenset((e.child, e.parent))], min_share):
            parent_edges[e.child].append(e)
    siblings_by: dict[str, str] = {}   # document -> evidence of the siblings pairs it is in
    for p in pairs:
        if substantive(p, min_share) and p.direction == SIBLINGS:
            for doc in (p.a, p.b):
                siblings_by[doc] = siblings_by.get(doc, "") + " ".join(p.evidence)
    return tuple(origin_of(doc.id, outlet.get(doc.id), parent_edges[doc.id], to_sources[doc.id],
                           siblings_by.get(doc.id, ""), names) for doc in documents)


def origin_of(doc_id: str, outlet: str | None, parent_edges: Sequence[Edge], to_sources: Sequence[Edge],
              siblings: str, names: dict[str, str]) -> Origin:
    """One document's kind and strongest parent from its own edges: to documents by substantive
    pairs, to absent sources; ``siblings``: the evidence of the substantive siblings pairs it is
    in (in pair order); ``names``: source id -> name."""
    if parent_edges:
        best = min(parent_edges, key=lambda e: (_RELATION_RANK.get(e.relation, 9), -e.confidence, e.parent))
        kind = {DUPLICATE: REPRINT, PARAPHRASE: RETELLING}.get(best.relation, EXCERPT_OF)
        return Origin(doc_id, outlet, kind, best.parent, best.relation)
    wire = [e for e in to_sources if e.relation == WIRE_COPY]
    cites = [e for e in to_sources if e.relation != WIRE_COPY]
    if wire:
        return Origin(doc_id, outlet, WIRE_REPRINT, wire[0].parent, WIRE_COPY)
    if retold := [e for e in cites if names.get(e.parent, e.parent) in siblings]:
        return Origin(doc_id, outlet, RETELLING, retold[0].parent, "cites")
    return Origin(doc_id, outlet, ORIGINAL)


def originality(origins: Sequence[Origin]) -> dict:
    """How much is original: articles of each kind, in total and per outlet, with each count's rule."""
    total = {kind: 0 for kind in ORIGIN_KINDS}
    per_outlet: dict[str, dict[str, int]] = defaultdict(lambda: {kind: 0 for kind in ORIGIN_KINDS})
    for o in origins:
        total[o.kind] += 1
        per_outlet[o.outlet or "(unknown outlet)"][o.kind] += 1
    outlets = sorted(per_outlet.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return {"articles": len(origins), "total": total,
            "per_outlet": [{"outlet": name, "articles": sum(counts.values()), **counts} for name, counts in outlets],
            "rules": dict(ORIGIN_RULES)}


def substantive(pair: Pair, min_share: float) -> bool:
    """Whether a pair is a real link between two stories: a duplicate, an excerpt, a paraphrase,
    or an overlap covering at least ``min_share`` of the smaller article (a shared sentence or two
    does not make two stories one)."""
    if pair.relation != OVERLAP:
        return True
    return max(pair.containment_a_in_b, pair.containment_b_in_a) >= min_share


def families_of(pairs: Sequence[Pair], sources: Sequence[Source],
                min_share: float = 0.2) -> tuple[tuple[str, ...], ...]:
    """Story families: documents joined by substantive pairs (``substantive``; connected
    components).  Each absent source a member credits is listed with its family (it does not
    join families: two stories that both credit AP are not one story); an article that only
    credits an absent source forms a family with it, so its derivation is shown too.  Biggest
    family first."""
    return assemble_families(connected_components(family_links(pairs, min_share)), sources)


def family_links(pairs: Iterable[Pair], min_share: float) -> Iterable[tuple[str, str]]:
    """The links that make a family: each substantive pair's two documents (the Spark engine feeds
    these to its distributed connected components)."""
    return ((p.a, p.b) for p in pairs if substantive(p, min_share))


def assemble_families(components: list[list[str]], sources: Sequence[Source]) -> tuple[tuple[str, ...], ...]:
    """Families from the components of ``family_links`` (each sorted), however they were found."""
    in_family = {doc for members in components for doc in members}
    credited = {doc for s in sources for doc in s.cited_by}
    components = list(components) + [[doc] for doc in sorted(credited - in_family)]
    credits_of: dict[str, list[int]] = defaultdict(list)   # document -> the sources it credits (their order)
    for k, s in enumerate(sources):
        for doc in s.cited_by:
            credits_of[doc].append(k)
    families = []
    for members in components:
        shared = sorted({k for doc in members for k in credits_of.get(doc, ())})
        families.append(tuple(members + [sources[k].id for k in shared]))
    return tuple(sorted(families, key=lambda f: (-len(f), f)))
