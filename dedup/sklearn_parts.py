"""The two pieces of scikit-learn a scan's paraphrase stage needs, loaded without scikit-learn.

The stage hashes words with scikit-learn's ``murmurhash3_32`` (the shipped sentence model was
trained on those hashed columns) and leaves out its English stop words.  Both live in leaf
modules that import nothing of scikit-learn's, but importing them the ordinary way first runs the
package's ``__init__``, which loads ``sklearn.base`` and, through it, scipy.stats and more: over a
second of a scan (the largest single step of the stage on 1,200 articles).  So each leaf is
imported with its parent packages standing in as bare namespaces for that moment; a later
ordinary ``import sklearn`` (``SentenceModel.fit``) initialises the package as usual and finds
the leaf already loaded.  Where that fails (another layout), the ordinary import is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from types import ModuleType


def leaf_module(name: str) -> ModuleType:
    """The module ``name`` of scikit-learn, imported without running its packages' ``__init__``."""
    if name in sys.modules or "sklearn" in sys.modules:
        return importlib.import_module(name)
    package = importlib.util.find_spec("sklearn")
    if package is None or not package.submodule_search_locations:
        return importlib.import_module(name)   # raises the usual ImportError
    root = package.submodule_search_locations[0]
    parts = name.split(".")[:-1]
    stand_ins = {}
    for depth in range(1, len(parts) + 1):
        package_name = ".".join(parts[:depth])
        stand_in = types.ModuleType(package_name)
        stand_in.__path__ = ["/".join([root, *parts[1:depth]])]
        stand_ins[package_name] = sys.modules[package_name] = stand_in
    try:
        return importlib.import_module(name)
    except ImportError:
        for package_name in stand_ins:
            sys.modules.pop(package_name, None)
        return importlib.import_module(name)
    finally:
        for package_name, stand_in in stand_ins.items():
            if sys.modules.get(package_name) is stand_in:
                del sys.modules[package_name]


murmurhash3_32 = leaf_module("sklearn.utils.murmurhash").murmurhash3_32
ENGLISH_STOP_WORDS = leaf_module("sklearn.feature_extraction._stop_words").ENGLISH_STOP_WORDS
