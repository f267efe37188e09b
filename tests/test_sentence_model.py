"""The sentence model's learned word knowledge (``dedup/term_weights.py``, fitted by
``benchmarks/term_kld.py``): the shipped tables load and move probabilities the expected way on
real sentence pairs, and the cross-validation never lets a pair's label into its own features."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import dedup
from dedup.sentences import FEATURES, SentenceFeatures, SentenceModel, WordWeights, word_hash
from dedup.term_weights import TERMS_PATH, LearnedTerms

FIXTURE = Path(__file__).parent / "fixtures" / "paraphrase_pairs.tsv"


def fixture_paraphrases() -> list[tuple[str, str]]:
    """The hand-written paraphrase pairs of tests/fixtures/paraphrase_pairs.tsv (not from MSRP)."""
    rows = [line.split("\t") for line in FIXTURE.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return [(a, b) for label, a, b in rows if label == "1"]


def probabilities(pairs: list[tuple[str, str]], weights: WordWeights) -> np.ndarray:
    """The shipped model's probabilities with its word knowledge replaced by ``weights``."""
    model = SentenceModel.load()
    features = SentenceFeatures(weights).transform([a for a, _ in pairs], [b for _, b in pairs], paired=True)
    return model.probability(features)


def test_the_shipped_learned_terms_load_with_the_model_and_are_small():
    learned = SentenceModel.load().weights.learned
    assert learned is not None and len(learned.columns) > 1000 and len(learned.substitutes) > 1000
    assert TERMS_PATH.stat().st_size < 200 * 1024                       # shipped in the wheel: kept small


def test_learned_substitutes_raise_real_paraphrases_and_only_where_one_is_used():
    weights = SentenceModel.load().weights
    learned = weights.learned
    # Stems are the first five letters; substitutes learned from MSRP's news, in both orders.
    found = [(word_hash(u), word_hash(v)) for u, v in (("said", "told"), ("compa", "firm"), ("acqui", "buy"),
                                                       ("jumpe", "rose"))]
    u, v = np.array(found).T
    assert learned.are_substitutes(u, v).all() and learned.are_substitutes(v, u).all()   # either order
    pairs = fixture_paraphrases()
    without = WordWeights(weights.idf, weights.default, replace(learned, substitutes=LearnedTerms.empty(
        learned.width).substitutes))
    shipped, plain = probabilities(pairs, weights), probabilities(pairs, without)
    features = SentenceFeatures(weights).transform([a for a, _ in pairs], [b for _, b in pairs], paired=True)
    used = features[:, FEATURES.index("substituted_share")] > 0
    assert used.sum() >= 4
    assert (shipped[used] > plain[used]).all()
    assert np.allclose(shipped[~used], plain[~used])


def test_learned_term_weights_rank_a_negation_above_words_every_sentence_shares():
    """A negation on one side only tells a paraphrase from a contradiction; "said" and "the" do not."""
    weights = SentenceModel.load().weights.learned.column_weights
    assert weights[word_hash("not")] > 10 * max(weights[word_hash("said")], weights[word_hash("the")])
    statement = "The prime minister said the government would not raise the retirement age this year."
    reworded = "The government would not raise the retirement age this year, the prime minister said."
    negated = statement.replace(" not", "")
    found = dedup.paraphrase_probability([(statement, reworded), (negated, reworded)])
    assert found[0] > found[1]


def test_paraphrase_probability_reads_the_model_the_scan_uses(seeds):
    """The seeds' memo sentence against itself, against a light rewording and against a sentence
    about something else: probability in that order, the first two over the scan's cut."""
    from dedup.settings import ParaphraseSettings

    from .test_paraphrase import HIRING_001, MEMO_000

    reworded = MEMO_000.replace("private note", "internal memo").replace("likened", "compared")
    found = dedup.paraphrase_probability([(MEMO_000, MEMO_000), (MEMO_000, reworded), (MEMO_000, HIRING_001)])
    cut = ParaphraseSettings().sentence_probability
    assert found[0] >= found[1] >= cut > found[2]



def test_a_pair_scores_the_same_to_the_bit_alone_and_anywhere_in_a_batch(news_pairs):
    """``dedup compare A B`` scores a pair alone; a scan scores it in a batch of thousands: both
    must give the very same probability, or a pair at the cut could be aligned in one and not the
    other. Real fixture pairs, tiled into a batch big enough for a BLAS kernel to block it."""
    a, b, _ = labelled_pairs(news_pairs)
    model = SentenceModel.load()
    features = SentenceFeatures(model.weights).transform(a, b, paired=True)
    batch = np.tile(features, (max(1, 600 // len(features)), 1))
    together = model.probability(batch)
    alone = np.array([model.probability(row[None, :])[0] for row in batch])
    assert np.array_equal(together, alone)
    assert np.array_equal(model.probability(batch[7:]), together[7:])

def test_rows_gathered_from_separate_batches_give_each_pair_the_same_features_to_the_bit(news_pairs):
    """A scan scores the sentence pairs of documents prepared in different batches in one call, on
    their rows gathered (``SentenceRows.concat``): every feature must be the one the pair has in
    its own batches, and every row copied whole (real fixture pairs, ranges of three batches)."""
    from dedup.sentences import SentenceRows, pair_features

    a, b, _ = labelled_pairs(news_pairs)
    weights = SentenceModel.load().weights
    first, second, third = SentenceRows.of(a[:9], weights), SentenceRows.of(b, weights), SentenceRows.of(a[9:], weights)
    gathered = SentenceRows.concat([(second, 2, len(b)), (first, 0, 9), (third, 0, len(a) - 9), (second, 0, 2)])
    assert len(gathered) == len(a) + len(b) and gathered.tokens[-2:] == second.tokens[:2]
    assert (gathered.stacked[0] != second.stacked[2]).nnz == 0 and gathered.stacked[0].nnz > 0
    in_a = len(b) - 2 + np.arange(len(a))                                 # a's sentences in the gathered rows
    in_b = np.r_[len(a) + len(b) - 2 + np.arange(2), np.arange(len(b) - 2)]   # b's
    expected = np.vstack([pair_features(first, np.arange(9), second, np.arange(9)),
                          pair_features(third, np.arange(len(a) - 9), second, np.arange(9, len(b)))])
    assert np.array_equal(pair_features(gathered, in_a, gathered, in_b), expected)
    assert expected[:, FEATURES.index("word_cosine")].max() > 0.5   # real pairs, not empty rows


def test_word_sequences_compared_all_at_once_match_the_pair_by_pair_functions(news_pairs):
    """LCS and word edit distance of many sentence pairs in numpy lanes (``_sequence_scores``) are
    the pair-by-pair bit-parallel functions' to the unit, on real sentences both ways round, with
    pairs of every length class: empty sides, 64 words (a full lane) and over 64 (done one by one)."""
    from dedup.sentences import SentenceRows, _lcs, _sequence_scores, _word_edits

    a, b, _ = labelled_pairs(news_pairs)
    tokens = SentenceRows.of(a + b, SentenceModel.load().weights).tokens
    first, second = list(tokens[:len(a)]), list(tokens[len(a):])
    joined = tuple(x for t in first[:6] for x in t)
    assert len(joined) > 64
    first += [second[0], (), joined[:64], joined, joined[:64], first[0]]
    second += [first[0], second[1], joined[10:70], joined[::-1], (), joined[:64]]
    lcs, edits = _sequence_scores(first, second)
    assert lcs.tolist() == [_lcs(x, y) for x, y in zip(first, second)]
    assert edits.tolist() == [_word_edits(x, y) for x, y in zip(first, second)]
    assert lcs[:len(a) // 2].min() > 0 and edits[:len(a)].max() > 3   # real retellings: some words kept, some changed


# -- fitting (benchmarks/term_kld.py), on the fixture's real sentences -----------------------

def labelled_pairs(news_pairs) -> tuple[list[str], list[str], np.ndarray]:
    """The fixture's paraphrases, and as non-paraphrases each first sentence with the next pair's second."""
    first = [a for label, a, _ in news_pairs if label == "1"]
    second = [b for label, _, b in news_pairs if label == "1"]
    mismatched = second[1:] + second[:1]
    return first + first, second + mismatched, np.array([1] * len(first) + [0] * len(first))


def test_learned_term_features_never_see_the_label_of_the_pair_they_score(news_pairs):
    from term_kld import PairSets, learned_features

    a, b, labels = labelled_pairs(news_pairs)
    sets = PairSets.of_texts(a, b)
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = np.sort(order[: len(order) * 2 // 3]), np.sort(order[len(order) * 2 // 3:])
    before = learned_features(sets, labels, train, test)
    flipped_test = labels.copy()
    flipped_test[test] = 1 - flipped_test[test]
    after = learned_features(sets, flipped_test, train, test)
    flipped_train = labels.copy()
    flipped_train[train[0]] = 1 - flipped_train[train[0]]
    moved = learned_features(sets, flipped_train, train, test)
    assert np.array_equal(before, after)                     # held-out labels are never read
    assert np.array_equal(before[train[0]], moved[train[0]])  # a training pair is scored out of fold
    assert not np.array_equal(before[test], moved[test])      # training labels are used


def test_learned_features_of_a_sentence_with_itself_share_everything(news_pairs):
    from term_kld import PairSets, features, fit

    a, b, labels = labelled_pairs(news_pairs)
    learned = fit(PairSets.of_texts(a, b), np.arange(len(labels)), labels)
    same = features(PairSets.of_texts(a, a), learned)
    names = list(FEATURES[-same.shape[1]:])
    assert np.allclose(same[:, names.index("kld_cosine")], 1.0)
    assert np.allclose(same[:, names.index("kld_unmatched_max")], 0.0, atol=1e-6)   # float32 weights
    assert np.allclose(same[:, names.index("unsubstituted_max")], 0.0)
    retold = features(PairSets.of_texts(a, b), learned)
    assert (retold[:, names.index("kld_shared_min")] <= same[:, names.index("kld_shared_min")] + 1e-9).all()


def test_the_features_fitting_uses_are_the_ones_the_scan_computes(news_pairs):
    """term_kld scores pairs through dedup's own code: its features of a table equal the model's
    last columns for the same pairs."""
    from term_kld import PairSets, features, fit

    a, b, labels = labelled_pairs(news_pairs)
    learned = fit(PairSets.of_texts(a, b), np.arange(len(labels)), labels)
    scanned = SentenceFeatures(WordWeights({}, 1.0, learned)).transform(a, b, paired=True)
    assert np.allclose(features(PairSets.of_texts(a, b), learned), scanned[:, -8:])


def test_learned_terms_round_trip_through_their_file(tmp_path, news_pairs):
    from term_kld import PairSets, fit

    a, b, labels = labelled_pairs(news_pairs)
    learned = fit(PairSets.of_texts(a, b), np.arange(len(labels)), labels, tolerance=0.0)
    learned.save(tmp_path / "terms.npz")
    loaded = LearnedTerms.load(tmp_path / "terms.npz")
    assert np.allclose(loaded.column_weights, learned.column_weights, rtol=1e-3, atol=1e-4)   # float16
    assert np.array_equal(loaded.substitutes, learned.substitutes) and len(loaded.substitutes)


def test_a_damaged_learned_terms_file_is_one_clear_error(tmp_path):
    broken = tmp_path / "terms.npz"
    broken.write_bytes(b"not a numpy archive")
    with pytest.raises(ValueError, match="terms.npz: cannot read the learned term weights"):
        LearnedTerms.load(broken)


def test_substitutes_are_counted_as_the_plain_definition_says_on_real_pairs(news_pairs):
    """``_substituted`` (all combinations of all pairs as flat arrays) against a loop over each
    pair's unmatched stems, with the shipped table, on the fixture's pairs and mismatched ones."""
    from dedup.sentences import SentenceRows
    from dedup.term_weights import _substituted

    a, b, _ = labelled_pairs(news_pairs)
    learned = SentenceModel.load().weights.learned
    weights = WordWeights({}, 1.0, learned)
    rows_a, rows_b = SentenceRows.of(a, weights).learned, SentenceRows.of(b, weights).learned
    both = rows_a.stems.multiply(rows_b.stems)
    only_a, only_b = (rows_a.stems - both).tocsr(), (rows_b.stems - both).tocsr()
    only_a.eliminate_zeros()
    only_b.eliminate_zeros()
    found_a, found_b = _substituted(only_a, only_b, learned)
    for k in range(len(a)):
        x = only_a.indices[only_a.indptr[k]:only_a.indptr[k + 1]].tolist()
        y = only_b.indices[only_b.indptr[k]:only_b.indptr[k + 1]].tolist()
        plain_a = sum(any(learned.are_substitutes(np.array([u]), np.array([v]))[0] for v in y) for u in x)
        plain_b = sum(any(learned.are_substitutes(np.array([u]), np.array([v]))[0] for u in x) for v in y)
        assert (found_a[k], found_b[k]) == (plain_a, plain_b), k
    assert found_a.sum() > 0


def test_the_scans_cut_is_the_one_chosen_on_all_training_pairs():
    """``--train-model`` records the F1 cut on all MSRP pairs; the scan's ``sentence_probability``
    must be that cut (rounded), or a retrained model would be used at a stale cut."""
    import json

    from dedup.sentences import MODEL_PATH
    from dedup.settings import ParaphraseSettings

    chosen = json.loads(MODEL_PATH.read_text(encoding="utf-8"))["f1_cut_on_all_pairs"]
    assert ParaphraseSettings().sentence_probability == pytest.approx(chosen, abs=0.01)
