"""All tunable parameters of a scan, in one place, with the reasons for their defaults.

The defaults come from measurement on the seeds and their generated variants
(see README "Choosing thresholds" and tests/test_thresholds.py).  With
5-word shingles a copy with 10% of its words edited keeps only ~0.9**5 = 59%
of its shingles, a Jaccard of ~0.42, and 20% edits leave ~0.2: a 0.8
resemblance threshold would miss both.  So the LSH thresholds are low (cheap
recall), and every candidate is verified by exact alignment (precision).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Settings:
    # Sketching (the index records these and refuses other values).
    shingle_size: int = 5            # words per shingle
    num_perm: int = 128              # MinHash permutations
    seed: int = 1                    # MinHash permutation seed
    window_words: int = 50           # passage-sized window, overlapping by half
    # Candidate generation.
    window_threshold: float = 0.3    # LSH Jaccard threshold between windows (containment)
    document_threshold: float = 0.5  # LSH Jaccard threshold between whole documents
    engine: str = "numpy"            # LSH engine: "numpy" (vectorised) or "datasketch" (reference)
    # Alignment and classification.
    min_passage_words: int = 10      # shorter shared stretches are stock phrases
    max_gap_words: int = 15          # runs this few words apart (edits) stay one passage
    duplicate_containment: float = 0.8  # both sides covered this much -> duplicate
    excerpt_containment: float = 0.8    # one side covered this much -> excerpt
    # Chrome.
    chrome_min_docs: int = 4         # a short line in this many documents is furniture
    # Paraphrase stage.
    paraphrase: bool = True
    neighbours: int = 10             # TF-IDF nearest neighbours per document
    min_similarity: float = 0.2      # document cosine below which no alignment is tried
    sentence_probability: float = 0.5   # sentence model (MSRP-trained) says: paraphrase
    anchored_threshold: float = 0.15    # evidence-bearing sentence match, when the documents share
                                        # a distinctive quote or figures
    min_aligned_sentences: int = 3
    min_aligned_share: float = 0.2   # share of the shorter document's sentences aligned

    def __post_init__(self) -> None:
        for name in ("shingle_size", "num_perm", "window_words", "min_passage_words", "neighbours"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("window_threshold", "document_threshold", "duplicate_containment",
                     "excerpt_containment", "min_similarity", "sentence_probability", "anchored_threshold", "min_aligned_share"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.min_passage_words < self.shingle_size:
            raise ValueError("min_passage_words must be at least shingle_size")
        if self.engine not in ("numpy", "datasketch"):
            raise ValueError(f"engine must be numpy or datasketch, got {self.engine!r}")
        if self.chrome_min_docs < 2:
            raise ValueError("chrome_min_docs must be at least 2")

    def sketch_parameters(self) -> dict:
        """What a stored sketch depends on: sketches made otherwise do not compare."""
        from datasketch import __version__ as datasketch_version

        from .sketch import SCHEME, SHINGLE_HASH

        return {
            "shingle_size": self.shingle_size,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "window_words": self.window_words,
            "scheme": SCHEME,
            "shingle_hash": SHINGLE_HASH,
            "datasketch_major": datasketch_version.split(".")[0],
        }

    def to_json(self) -> dict:
        return asdict(self)
