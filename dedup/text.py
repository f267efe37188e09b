"""Tokenising and normalising text for matching, without losing original offsets.

Matching runs on normalised word tokens (NFKC, case-folded), but each token
keeps the character span it came from in the original text, so every passage
we report can be sliced out of the text exactly as it was read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
    if not text:
        return Tokens([], np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    is_word = _ASCII_WORD[np.minimum(codes, 128)]
    wide = codes >= 128
    single = None
    if wide.any():
        unique = np.unique(codes[wide])
        word_like = np.array([chr(c).isalnum() or chr(c) == "_" for c in unique.tolist()], dtype=bool)
        is_word[wide] = word_like[np.searchsorted(unique, codes[wide])]
        if unique[-1] >= _CHAR_SCRIPT_MIN:
            single = is_word & _in_char_scripts(codes)
            if not single.any():
                single = None
    before = np.r_[False, is_word[:-1]]
    after = np.r_[is_word[1:], False]
    if single is None:
        starts = np.flatnonzero(is_word & ~before)
        ends = np.flatnonzero(is_word & ~after) + 1
    else:   # a one-character token starts and ends at itself and cuts the word next to it
        single_before = np.r_[False, single[:-1]]
        single_after = np.r_[single[1:], False]
        starts = np.flatnonzero(is_word & (~before | single | single_before))
        ends = np.flatnonzero(is_word & (~after | single | single_after)) + 1
    if text.isascii():
        lowered = text.lower()
        words = [lowered[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    else:
        words = [normalize_word(text[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
    return Tokens(words, starts.astype(np.int64), ends.astype(np.int64))


_ASCII_WORD = np.array([chr(c).isalnum() or chr(c) == "_" for c in range(128)] + [False], dtype=bool)

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


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, trimmed of surrounding blanks."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
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
