"""Connected components of a graph too big for one machine: large-star / small-star.

Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014).  The graph is
an RDD of edges; each round is two shuffles, every node's state is its edges, and nothing
is collected to the driver.  Alternating the two operations makes every node point at the
smallest node of its component in O(log^2 n) rounds (a handful in practice):

- large-star: each node links its *larger* neighbours to the smallest node of its
  neighbourhood (itself included);
- small-star: each node links itself and its *smaller* neighbours to the smallest of them.

When a round changes no edge, each edge is (node, smallest node of its component).

The Spark scan finds its families with it (``SparkEngine.family_components``), the edges being
``lineage.family_links`` of the reported pairs.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

MAX_ROUNDS = 100   # far beyond what any real graph needs; reaching it is an error, not a silent answer


def _large_star(node, neighbours):
    around = set(neighbours)
    smallest = min(around | {node})
    return [(v, smallest) for v in around if v > node]


def _small_star(node, neighbours):
    around = set(neighbours) | {node}
    smallest = min(around)
    return [(v, smallest) for v in around if v != smallest]


def _pointing_down(edge):
    u, v = edge
    return (u, v) if v <= u else (v, u)


def connected_components(edges, partitions: int | None = None):
    """(node, component) for every node that has an edge, the component named by its smallest
    node; ``edges`` is an RDD of (u, v) pairs of comparable node ids."""
    current = edges.filter(lambda e: e[0] != e[1]).map(_pointing_down).distinct(partitions)
    current.localCheckpoint()   # in place: cuts the lineage, which grows by two shuffles a round
    for rounds in range(1, MAX_ROUNDS + 1):
        large = (current.flatMap(lambda e: (e, (e[1], e[0]))).groupByKey(partitions)
                 .flatMap(lambda kv: _large_star(*kv)))
        small = (large.map(_pointing_down).groupByKey(partitions)
                 .flatMap(lambda kv: _small_star(*kv)).distinct(partitions))
        small.localCheckpoint()
        changed = small.subtract(current).union(current.subtract(small)).isEmpty() is False
        current = small
        if not changed:
            log.info("connected components: converged after %d rounds", rounds)
            break
    else:
        raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
    roots = current.values().distinct(partitions).map(lambda r: (r, r))
    return current.union(roots).distinct(partitions)
