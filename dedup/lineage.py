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
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence
from urllib.parse import urlparse

from .classify import with_direction
from .records import (A_FROM_B, B_FROM_A, DUPLICATE, EXCERPT, OVERLAP, SIBLINGS, UNKNOWN, Direction, Document, Edge,
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
    "Associated Press": (("Associated Press", "AP"), ("apnews.com",)),
    "Reuters": (("Reuters",), ("reuters.com",)),
    "Bloomberg": (("Bloomberg",), ("bloomberg.com",)),
    "BBC": (("BBC", "BBC News"), ("bbc.com", "bbc.co.uk")),
    "CNN": (("CNN",), ("cnn.com",)),
    "CNBC": (("CNBC",), ("cnbc.com",)),
    "The Guardian": (("The Guardian", "Guardian"), ("theguardian.com",)),
    "The Information": (("The Information",), ("theinformation.com",)),
    "Axios": (("Axios",), ("axios.com",)),
    "Business Insider": (("Business Insider",), ("businessinsider.com",)),
    "The Verge": (("The Verge",), ("theverge.com",)),
    "TechCrunch": (("TechCrunch",), ("techcrunch.com",)),
    "Politico": (("Politico",), ("politico.com",)),
    "Agence France-Presse": (("Agence France-Presse", "AFP"), ("afp.com",)),
}
# A capitalised name ending in a newspaper word is an outlet even if unlisted.
_MEDIA_NAME = (r"(?:[A-Z][\w&'-]+ ){1,3}(?:News|Times|Post|Journal|Herald|Tribune|Daily|Press|Magazine|"
               r"Gazette|Telegraph|Guardian|Wire|Reporter|Observer|Chronicle|Economist|Standard|Mail|Express|Independent)\b")
# Words near an outlet's name that make the mention an attribution.
_CUE_BEFORE = re.compile(r"(according to|reported by|first reported|as reported|cited by|citing|told|via|source:|"
                         r"per|report (?:in|by|from)|story (?:in|by)|wrote in|published (?:in|by)|"
                         r"interview with|said to)\W+(?:\w+\W+){0,3}$", re.I)
_CUE_AFTER = re.compile(r"^\W{0,3}(?:'s\s+|’s\s+)?(?:\w+\s+){0,2}?(reported|reports|report|revealed|wrote|"
                        r"first reported|said|story|article|investigation|previously reported)\b", re.I)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n")
_REPUBLISHED = re.compile(r"^\s*(source link|source|read the full article|read the full story|originally "
                          r"published|this article (first )?appeared|continue reading)\b", re.I | re.M)


@dataclass
class Citation:
    outlet: str          # canonical name
    snippet: str         # the words around it, for evidence


@dataclass(frozen=True)
class Lineage:
    """The lineage stage's answer: each pair with its direction, the derivation edges, the
    absent sources and the story families (the one definition every output renders)."""

    pairs: tuple[Pair, ...] = ()
    families: tuple[tuple[str, ...], ...] = ()
    sources: tuple[Source, ...] = ()
    edges: tuple[Edge, ...] = ()


class OutletMatcher:
    """Finds attributions to outlets in text and names the outlet of a document."""

    def __init__(self, outlets: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None) -> None:
        self.outlets = dict(OUTLETS if outlets is None else outlets)
        self._alias = {}
        patterns = []
        for name, (aliases, _) in self.outlets.items():
            for alias in aliases:
                self._alias[alias.lower()] = name
                body = re.escape(alias)
                patterns.append(body if alias.isupper() and len(alias) <= 4 else f"(?i:{body})")
        patterns.sort(key=len, reverse=True)
        self._pattern = re.compile(rf"\b(?:{'|'.join(patterns)}|{_MEDIA_NAME})\b")
        self._domains = {d: name for name, (_, domains) in self.outlets.items() for d in domains}

    def canonical(self, name: str) -> str:
        cleaned = re.sub(r"^the\s+", "", name.strip(), flags=re.I)
        return self._alias.get(name.strip().lower()) or self._alias.get(cleaned.lower()) or cleaned

    def outlet_of(self, doc: Document) -> str | None:
        if doc.source:
            return self.canonical(doc.source)
        if doc.url:
            host = urlparse(doc.url).hostname or ""
            for domain, name in self._domains.items():
                if host == domain or host.endswith("." + domain):
                    return name
        return None

    def citations(self, text: str) -> list[Citation]:
        found = []
        for match in self._pattern.finditer(text):
            # The cue must be in the same sentence as the name.
            before = _SENTENCE_BREAK.split(text[max(0, match.start() - 60):match.start()])[-1]
            after = _SENTENCE_BREAK.split(text[match.end():match.end() + 40])[0]
            if _CUE_BEFORE.search(before) or _CUE_AFTER.search(after):
                snippet = " ".join((before[-40:] + match.group() + after[:30]).split())
                found.append(Citation(self.canonical(match.group()), snippet))
        return found


class LineageBuilder:
    """Directions, absent sources and families (parameters: ``LineageSettings``)."""

    def __init__(self, settings: LineageSettings | None = None, matcher: OutletMatcher | None = None) -> None:
        s = settings or LineageSettings()
        self.date_weight = s.date_weight
        self.attribution_weight = s.attribution_weight
        self.containment_weight = s.containment_weight
        self.republished_weight = s.republished_weight
        self.min_confidence = s.min_confidence
        self.matcher = matcher or OutletMatcher()

    def build(self, documents: Sequence[Document], pairs: Sequence[Pair],
              texts: Sequence[str] | None = None) -> Lineage:
        """Decide each pair's direction and return the lineage graph: the pairs with their
        directions, edges, absent sources, story families.  ``texts`` are the documents' texts
        with chrome blanked (a photo credit "AP" is not an attribution)."""
        texts = [d.text for d in documents] if texts is None else texts
        by_id = {d.id: d for d in documents}
        outlet = {d.id: self.matcher.outlet_of(d) for d in documents}
        present = {name for name in outlet.values() if name}
        cites = {d.id: self._cited(text, outlet[d.id]) for d, text in zip(documents, texts)}
        absent = {d: {name: c for name, c in cited.items() if name not in present} for d, cited in cites.items()}
        directed = [with_direction(pair, self.direct(pair, by_id[pair.a], by_id[pair.b], outlet, cites, absent))
                    for pair in pairs]
        edges = []
        for pair in directed:
            if pair.direction in (A_FROM_B, B_FROM_A):
                child, parent = (pair.a, pair.b) if pair.direction == A_FROM_B else (pair.b, pair.a)
                edges.append(Edge(child, parent, pair.relation, pair.confidence, tuple(pair.evidence)))
        sources = self._sources(absent)
        for source in sources:
            for doc_id in source.cited_by:
                snippets = [c.snippet for c in absent[doc_id][source.name]]
                edges.append(Edge(doc_id, source.id, "cites", 0.9,
                                  tuple(f'credits {source.name}: "…{s}…"' for s in snippets[:3])))
        return Lineage(tuple(directed), families_of(directed, sources), tuple(sources),
                       tuple(sorted(edges, key=lambda e: (e.child, e.parent))))

    def _cited(self, text: str, own: str | None) -> dict[str, list[Citation]]:
        cited: dict[str, list[Citation]] = defaultdict(list)
        for c in self.matcher.citations(text):
            if c.outlet != own:
                cited[c.outlet].append(c)
        return dict(cited)

    def direct(self, pair: Pair, a: Document, b: Document, outlet, cites, absent) -> Direction:
        """Who took from whom, from weighted votes (each recorded as a sentence of evidence)."""
        votes: list[tuple[float, str]] = []   # positive: a derives from b
        da, db = parse_date(a.date), parse_date(b.date)
        if da and db and da != db:
            later, earlier = (a, b) if da > db else (b, a)
            votes.append((self.date_weight if da > db else -self.date_weight,
                          f"{later.id} is dated {later.date}, after {earlier.id} ({earlier.date})"))
        for child, parent, sign in ((a, b, 1), (b, a, -1)):
            if outlet[parent.id] and outlet[parent.id] in cites[child.id]:
                snippet = cites[child.id][outlet[parent.id]][0].snippet
                votes.append((sign * self.attribution_weight,
                              f'{child.id} credits {outlet[parent.id]}, the outlet of {parent.id}: "…{snippet}…"'))
        if pair.relation in (DUPLICATE, EXCERPT, OVERLAP):
            gap = pair.containment_a_in_b - pair.containment_b_in_a
            if abs(gap) >= 0.25:
                inner, outer = (a, b) if gap > 0 else (b, a)
                share = max(pair.containment_a_in_b, pair.containment_b_in_a)
                votes.append((self.containment_weight if gap > 0 else -self.containment_weight,
                              f"{share:.0%} of {inner.id} lies inside {outer.id}, only "
                              f"{min(pair.containment_a_in_b, pair.containment_b_in_a):.0%} the other way"))
        ra, rb = bool(_REPUBLISHED.search(a.text)), bool(_REPUBLISHED.search(b.text))
        if ra != rb:
            marked = a if ra else b
            votes.append((self.republished_weight if ra else -self.republished_weight,
                          f"{marked.id} carries a republication marker (e.g. 'Source link')"))
        score = sum(w for w, _ in votes)
        evidence = tuple(text for _, text in votes)
        if abs(score) >= self.min_confidence:
            return Direction(A_FROM_B if score > 0 else B_FROM_A, min(0.99, abs(score)), evidence)
        common = sorted(set(absent[a.id]) & set(absent[b.id]))
        if common:
            return Direction(SIBLINGS, 0.5, evidence + (f"both credit {', '.join(common)}, which is not in the corpus",))
        return Direction(UNKNOWN, 0.0, evidence + (("the evidence on direction cancels out",) if votes else ()))

    @staticmethod
    def _sources(absent: dict[str, dict[str, list[Citation]]]) -> list[Source]:
        cited_by: dict[str, list[str]] = defaultdict(list)
        for doc_id, cited in absent.items():
            for name in cited:
                cited_by[name].append(doc_id)
        return [Source(id=source_id(name), name=name, cited_by=tuple(sorted(ids)))
                for name, ids in sorted(cited_by.items())]


def source_id(name: str) -> str:
    return "source:" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def parse_date(value: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as naive UTC, or None if absent or unparseable."""
    if not value:
        return None
    text = value.strip()
    for candidate in (text, text[:10]):
        try:
            parsed = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
        except ValueError:
            continue
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    return None


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


def families_of(pairs: Sequence[Pair], sources: Sequence[Source]) -> tuple[tuple[str, ...], ...]:
    """Story families: documents joined by reported pairs (connected components).  Each absent
    source a member credits is listed with its family (it does not join families: two stories
    that both credit AP are not one story); an article that only credits an absent source forms
    a family with it, so its derivation is shown too.  Biggest family first."""
    components = connected_components((p.a, p.b) for p in pairs)
    in_family = {doc for members in components for doc in members}
    credited = {doc for s in sources for doc in s.cited_by}
    components += [[doc] for doc in sorted(credited - in_family)]
    families = []
    for members in components:
        member_set = set(members)
        shared = [s.id for s in sources if member_set & set(s.cited_by)]
        families.append(tuple(members + shared))
    return tuple(sorted(families, key=lambda f: (-len(f), f)))
