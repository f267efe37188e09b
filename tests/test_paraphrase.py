"""The paraphrase stage on real text: story groups, rarity, sentence alignment rules."""

from __future__ import annotations

import numpy as np
import pytest

from dedup import Scanner
from dedup.paraphrase import Facts, ParaphraseFinder, StoryGroups, _monotone_matches, telling_names
from dedup.records import DUPLICATE, EXCERPT, PARAPHRASE
from dedup.settings import ParaphraseSettings
from synth import word_slice

from .conftest import SEED_000, SEED_001, SEED_002, SEEDS, doc, seed_text

# Real sentences from the seeds: 000's memo sentence and 001's retelling of it.
MEMO_000 = ("In a private note shared with colleagues and later leaked to industry insiders, he likened the "
            "company’s internal dysfunction to a “metastatic cancer” — a metaphor not for technological "
            "stagnation, but for the cultural decay spreading through Meta’s AI research ecosystem.")
MEMO_001 = ("An ex-researcher, Tijmen Blankevoort—who played a pivotal role in developing Meta’s open-source "
            "LLaMA models—has publicly shared candid observations about the workplace culture, describing it "
            "as akin to “metastatic cancer.”")
HIRING_001 = ("Despite Meta’s significant hiring initiatives—bringing in talent from renowned organizations like "
              "OpenAI and Apple—many researchers are reportedly unclear about the ultimate direction of their "
              "projects.")


def seed_documents(seeds) -> list:
    return [doc(name, seeds[name]) for name in (SEED_000, SEED_001, SEED_002)]


def pair_relations(report) -> dict[frozenset, str]:
    return {frozenset((p.a, p.b)): p.relation for p in report.pairs}


# -- a reprint must not hide a retelling ----------------------------------------------

@pytest.mark.parametrize("copied", [SEED_000, SEED_001])
def test_a_verbatim_copy_of_either_side_never_removes_the_link_and_inherits_it(seeds, copied):
    other = SEED_001 if copied == SEED_000 else SEED_000
    report = Scanner().scan(seed_documents(seeds) + [doc("copy", seeds[copied])])
    found = pair_relations(report)
    assert found[frozenset((SEED_000, SEED_001))] == PARAPHRASE
    assert found[frozenset((copied, "copy"))] == DUPLICATE
    assert found[frozenset(("copy", other))] == PARAPHRASE
    assert _aligns_the_memo(report.pair("copy", other), {"copy": seeds[copied], other: seeds[other]})


@pytest.mark.parametrize("clipped", [SEED_000, SEED_001])
def test_a_clip_of_either_side_never_removes_the_link(seeds, clipped):
    clip = word_slice(seeds[clipped], 100, 250)
    report = Scanner().scan(seed_documents(seeds) + [doc("clip", clip)])
    found = pair_relations(report)
    assert found[frozenset((clipped, "clip"))] == EXCERPT
    pair = report.pair(SEED_000, SEED_001)
    assert pair.relation == PARAPHRASE
    assert _aligns_the_memo(pair, {SEED_000: seeds[SEED_000], SEED_001: seeds[SEED_001]})


def _aligns_the_memo(pair, texts: dict[str, str]) -> bool:
    """Whether one of the pair's aligned sentences, on both sides, is the "metastatic cancer" one."""
    return any("metastatic cancer" in texts[pair.a][al.a_start:al.a_end].lower()
               and "metastatic cancer" in texts[pair.b][al.b_start:al.b_end].lower() for al in pair.alignments)


def test_copies_of_both_sides_are_linked_to_the_other_story_and_form_one_family(seeds):
    extra = [doc("copy-of-000", seeds[SEED_000]), doc("copy-of-001", seeds[SEED_001]),
             doc("second-copy-of-001", seeds[SEED_001])]
    report = Scanner().scan(seed_documents(seeds) + extra)
    found = pair_relations(report)
    story_000, story_001 = (SEED_000, "copy-of-000"), (SEED_001, "copy-of-001", "second-copy-of-001")
    # Each copy is linked to the other story's representative (not every copy to every copy:
    # that would cost copies x copies alignments for a widely reprinted story).
    for document in story_000 + story_001:
        others = story_001 if document in story_000 else story_000
        assert any(found.get(frozenset((document, other))) == PARAPHRASE for other in others), document
    assert sorted(story_000 + story_001) in report.families


# -- story groups ------------------------------------------------------------------------

def test_story_groups_join_duplicates_and_attach_an_excerpt_to_its_longest_container():
    # 0 and 1 are one text; 2 is an excerpt found in 0 and in 3 (a round-up): it joins only
    # the longer container, so the round-up's other story (3) stays apart from 0.
    groups = StoryGroups.join([500, 500, 120, 900], duplicates=[(0, 1)], excerpts=[(2, 0), (2, 3)])
    assert groups.group == (0, 0, 3, 3)
    assert groups.members() == {0: [0, 1], 3: [3, 2]}
    assert StoryGroups.join([10, 20], [], []).group == (0, 1)


def test_telling_names_leave_out_what_both_articles_are_about(seeds):
    context, (a, b) = Scanner().analyze([doc(SEED_000, seeds[SEED_000]), doc(SEED_001, seeds[SEED_001])])
    finder = ParaphraseFinder()
    finder.prepare([a, b], context)
    shared = finder.facts(a).names & finder.facts(b).names
    telling = telling_names(shared, finder.sentence_data(a), finder.sentence_data(b))
    assert {"meta", "meta ai"} <= shared and not {"meta", "meta ai"} & telling   # the subject of both
    assert {"openai", "superintelligence"} <= telling                         # named once on each side
    # Judged within the pair: copies of 000 elsewhere in a corpus change nothing.
    more = [doc(f"copy-{k}", seeds[SEED_000]) for k in range(3)]
    context, analyses = Scanner().analyze([doc(SEED_000, seeds[SEED_000]), doc(SEED_001, seeds[SEED_001]), *more])
    finder.prepare(analyses, context)
    again = telling_names(shared, finder.sentence_data(analyses[0]), finder.sentence_data(analyses[1]))
    assert again == telling


# -- sentence alignment rules --------------------------------------------------------------

def test_retold_sentence_aligns_only_when_anchored_by_the_shared_quote():
    finder = ParaphraseFinder()
    plain = finder.align_texts(MEMO_000, MEMO_001)
    assert plain.alignments == []   # different words: the sentence model alone says no
    anchored = finder.align_texts(MEMO_000, MEMO_001, anchored=True)
    assert len(anchored.alignments) == 1 and anchored.aligned_a == anchored.aligned_b == 1.0
    # An anchor does not pull in a sentence that shares nothing checkable.
    unrelated = finder.align_texts(MEMO_000, HIRING_001, anchored=True)
    assert unrelated.alignments == []


def test_a_sentence_and_its_light_rewording_align_and_offsets_cut_them_out():
    text_a = MEMO_000 + " " + HIRING_001
    reworded = HIRING_001.replace("significant", "major").replace("reportedly", "said to be")
    text_b = "Unrelated opening words about the weather in the city today. " + reworded
    found = ParaphraseFinder().align_texts(text_a, text_b)
    assert len(found.alignments) == 1
    (al,) = found.alignments
    assert text_a[al.a_start:al.a_end] == HIRING_001
    assert text_b[al.b_start:al.b_end] == reworded


def test_monotone_matches_keep_story_order_and_weight():
    scores = np.array([[0.9, 0.0, 0.0],
                       [0.0, 0.0, 0.8],
                       [0.0, 0.7, 0.0]])
    # (1, 2) and (2, 1) cross: the order-keeping set takes the heavier one.
    assert _monotone_matches(scores) == [(0, 0), (1, 2)]
    assert _monotone_matches(np.zeros((2, 3))) == []


def test_reordered_strong_matches_are_added_weak_ones_are_not():
    finder = ParaphraseFinder()
    scores = np.array([[0.0, 0.9], [0.9, 0.0]])
    assert finder.match(scores, np.zeros_like(scores, dtype=bool)) == [(0, 1), (1, 0)]
    weak = np.array([[0.0, 0.6], [0.6, 0.0]])
    assert len(finder.match(weak, np.zeros_like(weak, dtype=bool))) == 1
    assert finder.match(weak, np.ones_like(weak, dtype=bool)) == [(0, 1), (1, 0)]


def test_facts_keep_distinctive_figures_and_quotes():
    facts = Facts.of("Meta spent $14 billion in 2025 on 3,000 GPUs, a “metastatic cancer” insiders said.")
    assert {"$14 billion", "3,000"} <= facts.distinctive_numbers
    assert "2025" not in facts.distinctive_numbers   # a year proves nothing
    assert "metastatic cancer" in facts.quotes
def test_compare_alone_and_in_a_scan_agree_on_the_seeds(seeds):
    scanned = Scanner().scan(seed_documents(seeds)).pair(SEED_000, SEED_001)
    alone = Scanner().compare(doc(SEED_000, seeds[SEED_000]), doc(SEED_001, seeds[SEED_001]))
    assert alone.relation == scanned.relation == PARAPHRASE
    assert len(alone.alignments) == len(scanned.alignments)


# -- dedup.paraphrase_probability ------------------------------------------------------------

def test_paraphrase_probability_scores_real_sentences():
    import dedup

    reworded = HIRING_001.replace("significant", "major").replace("reportedly", "said to be")
    found = dedup.paraphrase_probability([(HIRING_001, HIRING_001), (HIRING_001, reworded), (MEMO_000, HIRING_001)])
    assert isinstance(found, np.ndarray) and found.shape == (3,)
    assert found[0] > 0.9 and found[1] > 0.5    # the same sentence, then a light rewording
    assert found[2] < 0.2                       # two unrelated sentences of the same story
    assert found[0] >= found[1] > found[2]
    assert dedup.paraphrase_probability([]).shape == (0,)


def test_paraphrase_probability_ranks_each_real_paraphrase_above_its_mismatches():
    """The fixture's paraphrase pairs (written for the tests, not from MSRP): each scores above
    the scan's cut and above its first sentence paired with any other pair's second sentence
    (news sentences of the same register that say something else); its non-paraphrase below."""
    import dedup
    from pathlib import Path

    lines = (Path(__file__).parent / "fixtures" / "paraphrase_pairs.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    positives = [(a, b) for label, a, b in rows if label == "1"]
    negatives = [(a, b) for label, a, b in rows if label == "0"]
    assert len(positives) >= 15 and negatives
    cut = ParaphraseSettings().sentence_probability
    matched = dedup.paraphrase_probability(positives)
    firsts, seconds = [a for a, _ in positives], [b for _, b in positives]
    crossed = dedup.paraphrase_probability([(a, b) for a in firsts for b in seconds]).reshape(len(firsts), -1)
    np.fill_diagonal(crossed, 0.0)
    assert (matched >= cut).all()
    assert (matched > crossed.max(axis=1)).all()
    assert (dedup.paraphrase_probability(negatives) < cut).all()


def test_paraphrase_probability_rejects_what_is_not_a_list_of_sentence_pairs():
    import dedup

    with pytest.raises(ValueError, match="pairs of strings"):
        dedup.paraphrase_probability([("only one sentence",)])
    with pytest.raises(ValueError, match="pairs of strings"):
        dedup.paraphrase_probability([(MEMO_000, None)])


def test_sentence_alignment_scores_are_what_paraphrase_probability_says():
    import dedup

    reworded = HIRING_001.replace("significant", "major").replace("reportedly", "said to be")
    text_a, text_b = MEMO_000 + " " + HIRING_001, reworded + " " + MEMO_001
    (al,) = ParaphraseFinder().align_texts(text_a, text_b).alignments
    (p,) = dedup.paraphrase_probability([(text_a[al.a_start:al.a_end], text_b[al.b_start:al.b_end])])
    assert al.score == pytest.approx(p)


# -- the vectorised pieces agree with their plain definitions, on real sentences -----------

def test_bit_parallel_word_edit_distance_equals_the_textbook_table_on_the_seeds(seeds):
    import re

    from dedup.sentences import _word_edits

    def table(a, b):
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            previous, row[0] = row[0], i
            for j, y in enumerate(b, 1):
                previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
        return row[-1]

    lines = [re.findall(r"\w+", line.lower()) for line in seeds[SEED_000].splitlines() if len(line.split()) > 8]
    for a, b in zip(lines, lines[1:] + lines[:1]):
        assert _word_edits(a, b) == table(a, b)
    assert _word_edits(["x"] * 70, ["x"] * 65) == 5 and _word_edits([], ["a", "b"]) == 2
    # A substitution is one edit (the LCS-based edit rate counts it twice).
    assert _word_edits("meta cut 600 jobs".split(), "meta cut 700 jobs".split()) == 1


def test_longest_common_subsequence_of_words():
    from dedup.sentences import _lcs

    a = "the company laid off 600 workers on wednesday".split()
    b = "on wednesday the company cut 600 jobs".split()
    assert _lcs(a, b) == 3   # "the company ... 600"; "on wednesday" is the shorter way
    assert _lcs(a, a) == len(a) and _lcs(a, []) == 0
    assert _lcs(["x"] * 70, ["x"] * 65) == 65   # longer than a machine word


def test_bit_parallel_lcs_equals_the_textbook_table_on_the_seeds(seeds):
    import re

    from dedup.sentences import _lcs

    def table(a, b):
        best = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                best[i + 1][j + 1] = best[i][j] + 1 if x == y else max(best[i][j + 1], best[i + 1][j])
        return best[-1][-1]

    lines = [re.findall(r"\w+", line.lower()) for line in seeds[SEED_001].splitlines() if len(line.split()) > 8]
    for a, b in zip(lines, lines[1:] + lines[:1]):
        assert _lcs(a, b) == table(a, b)


def test_keep_top_keeps_each_rows_largest_entries():
    import scipy.sparse as sp
    from dedup.paraphrase import _keep_top

    dense = np.array([[0.1, 0.5, 0.0, 0.4], [0.0, 0.0, 0.0, 0.0], [0.3, 0.3, 0.2, 0.9]])
    kept = _keep_top(sp.csr_matrix(dense), 2).toarray()
    assert kept.tolist() == [[0.0, 0.5, 0.0, 0.4], [0.0, 0.0, 0.0, 0.0], [0.3, 0.0, 0.0, 0.9]]


def test_cross_equals_the_plain_product_on_real_sentences():
    from dedup.sentences import SentenceRows, SentenceModel, cross

    rows_a = SentenceRows.of([MEMO_000, HIRING_001], SentenceModel.load().weights)
    rows_b = SentenceRows.of([MEMO_001, HIRING_001, MEMO_000], SentenceModel.load().weights)
    expected = (rows_a.content @ rows_b.content.T).toarray()
    assert np.allclose(cross(rows_a.content, rows_b.content), expected)
    assert expected[1, 1] == pytest.approx(1.0, abs=1e-5) and expected[0, 2] == pytest.approx(1.0, abs=1e-5)


def test_cross_of_row_slices_is_the_cross_of_their_matrices_to_the_bit():
    # A scan crosses documents' rows as slices of a batch (their columns found once per slice);
    # the answer must be the very one the plain matrices give, and none where no column is shared.
    from dedup.sentences import RowSlice, SentenceModel, SentenceRows, cross

    rows = SentenceRows.of([MEMO_000, HIRING_001, MEMO_001, HIRING_001, MEMO_000], SentenceModel.load().weights)
    a, b = RowSlice.of(rows.content, 0, 2), RowSlice.of(rows.content, 2, 5)
    expected = cross(rows.content[:2], rows.content[2:])
    assert np.array_equal(cross(a, b), expected) and np.allclose(cross(b, a), expected.T)
    assert expected[1, 1] > 0.99 and np.array_equal(a.columns, np.unique(rows.content[:2].indices))
    assert not cross(RowSlice.of(rows.content, 0, 0), b).any()


# -- alignment in batches ------------------------------------------------------------------

def test_pairs_aligned_in_one_batch_are_each_pair_aligned_alone(seeds):
    texts = {name: seeds[name] for name in (SEED_000, SEED_001, SEED_002)}
    texts["clip"] = word_slice(seeds[SEED_001], 40, 250)
    context, analyses = Scanner().analyze([doc(name, text) for name, text in sorted(texts.items())])
    finder = ParaphraseFinder()
    finder.prepare(analyses, context)
    pairs = [(a, b) for k, a in enumerate(analyses) for b in analyses[k + 1:]]
    together = finder.compare_many([(a, b, None, None) for a, b in pairs], context)
    alone = [_prepared(context, analyses).compare(a, b, context) for a, b in pairs]
    assert together == alone
    assert sum(len(found.alignments) >= 4 for found in together) >= 2   # 000~001 and 000~clip retold


def _prepared(context, analyses) -> ParaphraseFinder:
    """A fresh paraphrase stage on the same corpus (empty caches: nothing carried over from a batch)."""
    finder = ParaphraseFinder()
    finder.prepare(analyses, context)
    return finder


def test_a_pair_whose_verbatim_overlap_rules_out_a_paraphrase_is_not_aligned(seeds):
    from dedup.core import verify_verbatim

    original = seeds[SEED_000]
    reprint = original + "\n\n" + seeds[SEED_002]        # 000 in full, then another story: 000 is an excerpt of it
    context, (a, b) = Scanner().analyze([doc("a", original), doc("b", reprint)])
    finder = ParaphraseFinder()
    finder.prepare([a, b], context)
    overlap = verify_verbatim(a, b, context)
    assert max(overlap.containment_a_in_b, overlap.containment_b_in_a) >= 0.8   # an excerpt whatever the sentences say
    unknown, known = finder.compare_many([(a, b, None, None), (a, b, None, overlap)], context)
    assert len(unknown.alignments) >= 10            # every sentence of 000 aligns with itself
    assert known.alignments == () and known.similarity == unknown.similarity


def test_an_unanchored_pair_with_too_few_similar_sentences_is_ruled_out_before_its_sentences_are_prepared(seeds):
    # Seed 000 (Meta's AI culture) and the opening of 002 (another story) share no quote or figures:
    # only sentence pairs of similar content words could align, and too few of 002's do.  The pair
    # is settled on those words alone, as the full plan settles it, its sentences never prepared.
    context, (a, b) = Scanner().analyze([doc("a", seeds[SEED_000]), doc("b", word_slice(seeds[SEED_002], 0, 120))])
    finder = ParaphraseFinder()
    finder.prepare([a, b], context)
    assert not finder.facts(a).anchors(finder.facts(b)) and len(b.sentences) >= 4
    (found,) = finder.compare_many([(a, b, None, None)], context)
    assert found.alignments == () and not finder._sentences and set(finder._content) == {"a", "b"}
    assert finder.plan_sentences(finder.sentence_data(a), finder.sentence_data(b), False, frozenset(),
                                 context.settings.relation) is None   # the full plan rules it out too
    assert finder.compare_many([(a, b, None, None)], context) == [found]   # with the sentences prepared
    assert len(finder.align_sentences(finder.sentence_data(a), finder.sentence_data(b)).alignments) < 4
    finder.forget(["a", "b"])
    assert not finder._content and not finder._sentences


def test_a_full_scan_does_not_import_the_scikit_learn_package_yet_hashes_as_it_does():
    # The stage's hashed columns and stop words are scikit-learn's own, loaded as leaf modules:
    # the package import (scipy.stats and more) is over a second of a scan.
    import subprocess
    import sys

    code = ("import sys\nfrom dedup import Scanner\nfrom dedup.load import load_path\n"
            f"report = Scanner().scan(load_path({str(SEEDS)!r}))\n"
            "print(sum(p.relation == 'paraphrase' for p in report.pairs), 'sklearn' in sys.modules)")
    found, package = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout.split()
    assert int(found) >= 1 and package == "False"
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    from sklearn.utils import murmurhash3_32

    from dedup import sklearn_parts
    text = seed_text(SEED_000)
    assert [sklearn_parts.murmurhash3_32(w, positive=True) for w in text.split()] == \
        [murmurhash3_32(w, positive=True) for w in text.split()]
    assert sklearn_parts.ENGLISH_STOP_WORDS == ENGLISH_STOP_WORDS


def test_sentence_rows_are_normalised_to_the_bit_as_scikit_learn_does():
    from sklearn.preprocessing import normalize

    from dedup.sentences import HashedTokens, counts, sublinear_idf
    from dedup.text import sentences

    text = seed_text(SEED_001)
    words = HashedTokens.of([text[s:e] for s, e in sentences(text)] + [""])   # an empty row too
    raw = counts(*words.chars(), words.n_rows)
    idf = np.random.default_rng(1).uniform(1, 12, raw.shape[1]).astype(np.float32)
    ours = sublinear_idf(raw, idf)
    weighted = raw.copy()
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    theirs = normalize(weighted)
    assert ours.dtype == theirs.dtype == np.float32 and ours.nnz > 1000
    assert (ours.indptr == theirs.indptr).all() and (ours.indices == theirs.indices).all()
    assert (ours.data == theirs.data).all()
