"""Tokenising and normalising text for matching, without losing original offsets.

Matching runs on normalised word tokens (NFKC, case-folded), but each token
keeps the character span it came from in the original text, so every passage
we report can be sliced out of the text exactly as it was read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

# A word is a run of letters/digits.  Curly quotes, dashes and other
# punctuation are separators, so "Meta’s" and "Meta's" tokenise the same.
_WORD = re.compile(r"\w+")
_LINE = re.compile(r"[^\n]+")

# Typographic characters folded to plain ASCII when comparing lines.
_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u200b": "",
})
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, typographic quotes/dashes folded, whitespace collapsed, case-folded."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return _SPACES.sub(" ", text).strip().casefold()


def normalize_word(word: str) -> str:
    if word.isascii():
        return word.lower()
    return unicodedata.normalize("NFKC", word).casefold()


@dataclass(frozen=True)
class Tokens:
    """Word tokens of a text: normalised words and their original character spans."""

    words: list[str]
    starts: np.ndarray   # int64, char offset of each token in the original text
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.words)


def tokenize(text: str) -> Tokens:
    """Word tokens with original spans: runs of \\w characters, as ``re`` defines them,
    except that each character of a script written without spaces between words
    (CJK ideographs, kana, Hangul syllables, Thai: ``_CHAR_SCRIPTS``) is a token of
    its own, so word shingles over such text are character n-grams.

    Boundaries are found with numpy over the code points, which is several times
    faster than one regex match object per word; for text without those scripts
    the result equals ``[(m.start(), m.end()) for m in re.finditer(r"\\w+", text)]``."""
    starts, ends = token_spans(text)
    if text.isascii():
        lowered = text.lower()
        words = [lowered[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    else:
        words = [normalize_word(text[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
    return Tokens(words, starts, ends)


def token_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The character spans (int64 starts, ends) of ``tokenize(text)``'s tokens, without the words."""
    starts, ends, _ = _spans(_code_points(text))
    return starts, ends


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _spans(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Token starts and ends in ``codes``, and which code points are word characters beyond
    ASCII (None when there are none)."""
    if not len(codes):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), None
    is_word = _ASCII_WORD[np.minimum(codes, 128)]
    wide = np.flatnonzero(codes >= 128)
    single = wide_word = None
    if len(wide):
        unique, where = np.unique(codes[wide], return_inverse=True)
        word_like = np.array([chr(c).isalnum() or chr(c) == "_" for c in unique.tolist()], dtype=bool)
        is_word[wide] = word_like[where]
        if word_like.any():
            wide_word = np.zeros(len(codes), dtype=bool)
            wide_word[wide] = word_like[where]
        if unique[-1] >= _CHAR_SCRIPT_MIN:
            by_char = (word_like & _in_char_scripts(unique))[where]
            if by_char.any():
                single = np.zeros(len(codes), dtype=bool)
                single[wide] = by_char
    edge = np.empty(len(codes) + 1, dtype=bool)   # edge[i]: a token starts or ends between i - 1 and i
    edge[0], edge[-1] = is_word[0], is_word[-1]
    np.not_equal(is_word[:-1], is_word[1:], out=edge[1:-1])
    if single is not None:   # a one-character token starts and ends at itself and cuts the word next to it
        edge[:-1] |= single
        edge[1:] |= single
    bounds = np.flatnonzero(edge)
    if single is None:       # then edges alternate: start, end, start, end ...
        return bounds[0::2], bounds[1::2], wide_word
    return bounds[:-1][is_word[bounds[:-1]]], bounds[1:][is_word[bounds[1:] - 1]], wide_word


@dataclass(frozen=True)
class WordKeys:
    """The tokens of several texts, concatenated, with their normalised words as UTF-8 bytes.

    Words of ASCII characters (nearly all in English news, typographic quotes and dashes being
    separators) are not made into objects: the word of token i is ``buffer[at[i]:at[i] +
    lengths[i]]``, the batch's text lowered by one byte translation.  The others, normalised
    by ``normalize_word``, are in ``special`` by token index."""

    starts: np.ndarray            # int64 offset of each token in its own text
    ends: np.ndarray
    counts: np.ndarray            # tokens of each text
    buffer: bytes                 # one byte per character of the texts joined by newlines
    at: np.ndarray                # int64 offset of each token in ``buffer``
    special: dict[int, bytes]     # token index -> word, for words with characters beyond ASCII

    @property
    def lengths(self) -> np.ndarray:
        return self.ends - self.starts

    def keys(self, indices: np.ndarray | None = None) -> list[bytes]:
        """The words of tokens ``indices`` (default: all), in that order."""
        index = np.arange(len(self.at)) if indices is None else np.asarray(indices, dtype=np.int64)
        starts = self.at[index]
        buffer, special = self.buffer, self.special
        return [special.get(i) or buffer[s:e]
                for i, s, e in zip(index.tolist(), starts.tolist(), (starts + self.lengths[index]).tolist())]


def word_keys(texts: Sequence[str]) -> WordKeys:
    """``tokenize`` of each text, with the words as UTF-8 bytes (``WordKeys``), in one numpy pass
    over all of them: per-call overhead dominates for news-length texts."""
    joined = "\n".join(texts)   # a separator is no word character, so no token spans two texts
    codes = _code_points(joined)
    starts, ends, wide_word = _spans(codes)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=offsets[1:])
    owner = np.searchsorted(offsets, starts, side="right") - 1
    counts = np.bincount(owner, minlength=len(texts))
    special: dict[int, bytes] = {}
    if wide_word is not None:   # words with characters beyond ASCII are normalised one by one
        for i in np.unique(np.searchsorted(starts, np.flatnonzero(wide_word), side="right") - 1).tolist():
            special[i] = normalize_word(joined[starts[i]:ends[i]]).encode("utf-8")
    buffer = _ascii_bytes(joined, codes).translate(_ASCII_KEY)
    shift = offsets[owner]
    return WordKeys(starts - shift, ends - shift, counts, buffer, starts, special)


def _ascii_bytes(text: str, codes: np.ndarray) -> bytes:
    """``text`` as one byte per character, every character beyond ASCII a space."""
    if text.isascii():
        return text.encode("ascii")
    return np.where(codes < 128, codes, 32).astype(np.uint8).tobytes()


_ASCII_WORD = np.array([chr(c).isalnum() or chr(c) == "_" for c in range(128)] + [False], dtype=bool)
# ASCII word characters lowered, every other byte a space (so no word holds a zero byte).
_ASCII_KEY = bytes(ord(chr(c).lower()) if c < 128 and _ASCII_WORD[c] else ord(" ") for c in range(256))

# Scripts written without spaces between words: one token per character.
_CHAR_SCRIPTS = np.array([
    (0x0E00, 0x0E7F),     # Thai
    (0x1100, 0x11FF),     # Hangul Jamo
    (0x3040, 0x30FF),     # Hiragana, Katakana
    (0x3130, 0x318F),     # Hangul Compatibility Jamo
    (0x31F0, 0x31FF),     # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),     # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),     # CJK Unified Ideographs
    (0xA960, 0xA97F),     # Hangul Jamo Extended-A
    (0xAC00, 0xD7FF),     # Hangul Syllables, Jamo Extended-B
    (0xF900, 0xFAFF),     # CJK Compatibility Ideographs
    (0xFF66, 0xFFDC),     # Halfwidth Katakana and Hangul
    (0x1B000, 0x1B16F),   # Kana Supplement, Extended-A, Small Kana Extension
    (0x20000, 0x3134F),   # CJK Unified Ideographs Extensions B–G, Compatibility Supplement
], dtype=np.uint32)
_CHAR_SCRIPT_MIN = int(_CHAR_SCRIPTS[0, 0])


def _in_char_scripts(codes: np.ndarray) -> np.ndarray:
    """Per code point: does it belong to one of ``_CHAR_SCRIPTS``?"""
    slot = np.searchsorted(_CHAR_SCRIPTS[:, 0], codes, side="right") - 1
    inside = slot >= 0
    slot = np.maximum(slot, 0)
    return inside & (codes <= _CHAR_SCRIPTS[slot, 1])


def lines(text: str) -> list[tuple[int, int]]:
    """Character spans of the non-empty lines of ``text`` (surrounding blanks trimmed)."""
    spans = []
    for match in _LINE.finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            start = match.start() + (len(raw) - len(raw.lstrip()))
            spans.append((start, start + len(stripped)))
    return spans


# A sentence ends at . ! ? (optionally followed by closing quotes/brackets)
# before whitespace, at a line break, or — in Chinese and Japanese, which put no
# space after them — at 。！？ and their fullwidth/halfwidth forms wherever they
# stand.  Abbreviations such as "U.S." or "Mr." may split a sentence early; for
# alignment that costs little.
_CLOSERS = "\"'\u201d\u2019)\\]\u300d\u300f\uff09\u3011\u3015\u3009\u300b\uff63"
_SENTENCE_END = re.compile(
    rf"(?<=[.!?])[{_CLOSERS}]*\s+"
    rf"|[\u3002\uff01\uff1f\uff61]+[!?{_CLOSERS}]*[ \t\u3000]*"
    rf"|(?<=[!?])[{_CLOSERS}]*(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
    r"|\n+")
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|Inc|Corp|Co|Ltd|vs|U\.S|U\.K|No|Gov|Sen|Rep|Gen)\.$")


# Where a sentence end can start: right after . ! ? (the look-behinds above) or at a CJK full stop
# or a line break.  ``_SENTENCE_END`` starts with a look-behind, so its own search tries every
# position of the text; tried only at these, the same matches come in a third of the time.
_END_MARK = re.compile(r"[.!?\u3002\uff01\uff1f\uff61\n]")


def _sentence_ends(text: str) -> Iterator[re.Match]:
    """``_SENTENCE_END.finditer(text)``: the pattern matched where it can start, left to right, each
    try from the end of the last match (an empty match, before CJK text, is followed by none other
    at its place: the alternatives that could be are tried before it)."""
    at = 0
    for mark in _END_MARK.finditer(text):
        start = mark.end() if mark.group() in ".!?" else mark.start()
        if start < at:
            continue
        match = _SENTENCE_END.match(text, start)
        if match:
            yield match
            at = max(match.end(), start + 1)


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, trimmed of surrounding blanks."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _sentence_ends(text):
        if "\n" not in match.group() and _ABBREVIATIONS.search(text[start:match.start()]):
            continue
        _append_trimmed(text, start, match.start() if "\n" in match.group() else match.end(), spans)
        start = match.end()
    _append_trimmed(text, start, len(text), spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        offset = start + (len(piece) - len(piece.lstrip()))
        spans.append((offset, offset + len(stripped)))
