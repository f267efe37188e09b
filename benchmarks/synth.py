"""Generated variants of real articles with known truth, for tests and benchmarks.

Every function takes real text and a ``random.Random`` so results are
reproducible; nothing here writes text of its own except site chrome.
"""

from __future__ import annotations

import random
import re

_WORD = re.compile(r"\w+")

# Furniture of an imaginary site, used to wrap copies in "other site chrome".
OTHER_SITE_HEADER = [
    "Skip to content",
    "Share this article",
    "Follow us on Twitter and LinkedIn",
]
OTHER_SITE_FOOTER = [
    "Read more",
    "Related Articles",
    "Subscribe to our daily newsletter for the latest headlines",
    "Leave a comment",
    "Your email address will not be published. Required fields are marked *",
    "Copyright 2025 Example Media. All rights reserved.",
]


def edit_words(text: str, rate: float, rng: random.Random, pool: list[str] | None = None) -> str:
    """Replace about ``rate`` of the words of ``text`` with words drawn from ``pool``
    (by default the words of ``text`` itself), keeping punctuation and layout."""
    matches = list(_WORD.finditer(text))
    if not matches:
        return text
    pool = pool or [m.group() for m in matches]
    chosen = set(rng.sample(range(len(matches)), round(rate * len(matches))))
    out, last = [], 0
    for i, m in enumerate(matches):
        out.append(text[last:m.start()])
        word = m.group()
        if i in chosen:
            pick = rng.randrange(len(pool))
            replacement = pool[pick]
            if replacement.lower() == word.lower():
                replacement = pool[(pick + 1) % len(pool)]
            word = replacement if replacement.lower() != word.lower() else word + "s"
        out.append(word)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def word_slice(text: str, start_word: int, n_words: int) -> str:
    """The verbatim stretch of ``text`` from its ``start_word``-th word, ``n_words`` long."""
    matches = list(_WORD.finditer(text))
    end_word = min(len(matches), start_word + n_words) - 1
    return text[matches[start_word].start():matches[end_word].end()]


def embed(host: str, piece: str, fraction: float = 0.5) -> str:
    """Insert ``piece`` as its own paragraph at the paragraph break nearest ``fraction`` of ``host``."""
    target = int(len(host) * fraction)
    breaks = [m.end() for m in re.finditer(r"\n\s*\n|\n", host)] or [len(host)]
    at = min(breaks, key=lambda b: abs(b - target))
    return host[:at].rstrip("\n") + "\n\n" + piece + "\n\n" + host[at:].lstrip("\n")


def wrap_chrome(body: str, header: list[str] = OTHER_SITE_HEADER, footer: list[str] = OTHER_SITE_FOOTER) -> str:
    return "\n".join(header) + "\n\n" + body.strip() + "\n\n" + "\n".join(footer) + "\n"


def shuffle_sentences(text: str, rng: random.Random) -> str:
    """The sentences of ``text`` in another order, one per line (lines stay lines)."""
    parts = [p for line in text.splitlines() for p in re.split(r"(?<=[.!?])\s+", line) if p.strip()]
    rng.shuffle(parts)
    return "\n".join(parts)


def news_corpus(n: int, sentences: list[str], rng: random.Random, *, sentences_per_article: tuple[int, int] = (15, 35),
                rewrite: float = 0.3, related_share: float = 0.15) -> tuple[list[tuple[str, str]], dict[tuple[str, str], str]]:
    """``n`` articles built from real news ``sentences``, plus known relations between some of them.

    Each base article strings together randomly chosen sentences with ``rewrite`` of their
    words swapped for other words of the pool, so two base articles never share a verbatim
    run by chance.  A ``related_share`` of the articles are instead derived from an earlier
    one: exact copies, copies in other chrome, 10%-edited copies, 40% excerpts, or
    paraphrases (35% of words replaced).  Returns ``[(id, text)]`` and the truth
    ``{(derived_id, source_id): relation}``.
    """
    pool = [w for s in rng.sample(sentences, min(len(sentences), 2000)) for w in _WORD.findall(s)]
    articles: list[tuple[str, str]] = []
    truth: dict[tuple[str, str], str] = {}
    kinds = ("duplicate", "chrome", "edited", "excerpt", "paraphrase")
    for i in range(n):
        doc_id = f"art{i:06d}"
        if articles and rng.random() < related_share:
            source_id, source = articles[rng.randrange(len(articles))]
            kind = kinds[i % len(kinds)]
            text, relation = _derive(source, kind, rng, pool)
            truth[(doc_id, source_id)] = relation
        else:
            count = rng.randint(*sentences_per_article)
            picked = [edit_words(rng.choice(sentences), rewrite, rng, pool) for _ in range(count)]
            text = "\n\n".join(" ".join(picked[k:k + 3]) for k in range(0, len(picked), 3))
        articles.append((doc_id, text))
    return articles, truth


def _derive(source: str, kind: str, rng: random.Random, pool: list[str]) -> tuple[str, str]:
    if kind == "duplicate":
        return source, "duplicate"
    if kind == "chrome":
        return wrap_chrome(source), "duplicate"
    if kind == "edited":
        return edit_words(source, 0.10, rng, pool), "duplicate"
    if kind == "excerpt":
        words = len(_WORD.findall(source))
        return word_slice(source, rng.randrange(max(1, words // 2)), max(60, int(0.4 * words))), "excerpt"
    return edit_words(source, 0.35, rng, pool), "paraphrase"
