"""The KPI library: load the bundled KPI definitions, tabulate, filter, and suggest KPIs for a text by similarity."""

from __future__ import annotations

__all__ = [
    "CACHE_APP", "FIELDS", "Filter", "SUGGESTION_COLUMNS", "SYNONYMS", "TEXT_FIELDS", "Vectors", "library_frame",
    "load_library", "prepare_suggestions", "rank_kpis", "ranked_table", "search_library", "suggest_kpis",
]

import contextlib
import hashlib
import itertools
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir
from pydantic import TypeAdapter, ValidationError

from kpi_workbook.analysis.families import FAMILIES
from kpi_workbook.core.atomic_files import staged_path
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import Category, KpiDefinition, Polarity
from kpi_workbook.core.paths import LIBRARY_FILE
from kpi_workbook.workspace.files import validation_problems
from kpi_workbook.workspace.yaml_io import read_yaml

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import FeatureUnion

FIELDS = tuple(KpiDefinition.model_fields)
CACHE_APP = "kpi-workbook"  # the user cache folder (platformdirs) holds the library's suggestion vectors
TEXT_FIELDS = ("id", "name", "description", "formula")
_ALIASES = {"behavior": "behaviour", "support": "customer_support", "human_resources": "hr", "engineering": "it"}

Filter = str | Iterable[str] | None


def load_library(path: str | Path = LIBRARY_FILE) -> list[KpiDefinition]:
    """Read a KPI library file ``{kpis: [...]}``; every problem (schema, duplicate id) is raised in one InputError."""
    path = Path(path)
    name = str(path)
    data = read_yaml(path, name)
    if not isinstance(data, dict) or set(data) != {"kpis"} or not isinstance(data["kpis"], list):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        message = f"expected a mapping with the single key 'kpis' holding a list, found {found}"
        raise InputError(Problem(file=name, field="kpis", message=message))
    entries = data["kpis"]
    try:
        defs = TypeAdapter(list[KpiDefinition]).validate_python(entries)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, name, entries, "kpi", list_key="kpis")) from None
    first: dict[str, int] = {}
    problems = []
    for index, kpi in enumerate(defs, start=1):
        if kpi.id in first:
            problems.append(Problem(file=name, entry=f"kpi '{kpi.id}' (#{index})", field="id",
                                    message=f"duplicate id (first defined in entry #{first[kpi.id]})"))
        first.setdefault(kpi.id, index)
    if problems:
        raise InputError(problems)
    return defs


@cache
def _default_frame() -> pd.DataFrame:
    return _frame(load_library())


def _frame(defs: Iterable[KpiDefinition]) -> pd.DataFrame:
    import pandas as pd

    rows = [kpi.model_dump(mode="json") for kpi in defs]
    return pd.DataFrame(rows, columns=list(FIELDS)).fillna("").astype(str)


def library_frame(defs: Iterable[KpiDefinition] | None = None) -> pd.DataFrame:
    """One row per KPI definition, every field a text column (the bundled library by default)."""
    return _default_frame().copy() if defs is None else _frame(defs)


def _normalize(value: str) -> str:
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key, key)


def _wanted(values: Filter, valid: Iterable[str], field: str) -> list[str]:
    """The filter values normalized; an unknown value raises InputError listing the valid ones."""
    if values is None:
        return []
    raw = [v for v in ([values] if isinstance(values, str) else values) if v.strip()]
    valid = list(dict.fromkeys(valid))
    chosen = [_normalize(v) for v in raw]
    unknown = [v for v, n in zip(raw, chosen, strict=True) if n not in valid]
    if unknown:
        raise InputError(f"unknown {field} {', '.join(repr(v) for v in unknown)}. Valid values: {', '.join(valid)}")
    return chosen


def _enum_values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def search_library(
    family: Filter = None,
    category: Filter = None,
    polarity: Filter = None,
    text: str | None = None,
    frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """KPIs matching every given filter.

    family, category, polarity: one value or several (any of them matches); unknown values raise InputError
    listing the valid ones. text: keywords that must all occur (case-insensitive) in the id, name, description
    or formula. frame: the table to search (default: the bundled library).
    """
    import pandas as pd

    frame = library_frame() if frame is None else frame
    mask = pd.Series(True, index=frame.index)
    filters = {
        "family": _wanted(family, [*FAMILIES, *sorted(set(frame["family"]) - set(FAMILIES))], "family"),
        "category": _wanted(category, _enum_values(Category), "category"),
        "polarity": _wanted(polarity, _enum_values(Polarity), "polarity"),
    }
    for column, values in filters.items():
        if values:
            mask &= frame[column].isin(values)
    if text:
        haystack = frame[list(TEXT_FIELDS)].agg(" ".join, axis=1).str.lower()
        for word in text.lower().split():
            mask &= haystack.str.contains(word, regex=False)
    return frame[mask].reset_index(drop=True)


# Domain synonyms: a text mentioning a key (as a word prefix) also gets the expansion, in the KPI texts and in the
# query alike, so that e.g. "recruit" meets "hire" and "outage" meets "restore".
SYNONYMS = {
    "recruit": "hire hiring",
    "talent acquisition": "hire hiring",
    "onboard": "new hire",
    "attrition": "turnover leavers",
    "resign": "turnover leavers",
    "uptime": "availability",
    "outage": "incident restore availability",
    "downtime": "availability incident",
    "bug": "defect",
    "vendor": "supplier",
    "client": "customer",
    "prospect": "leads opportunities pipeline",
    "upsell": "expansion",
    "cross-sell": "expansion",
    "renewal": "retention",
    "receivable": "collect payment",
    "collections": "collect payment",
    "seo": "organic search",
    "upskill": "training learning",
    "coach": "mentoring",
    "teamwork": "collaboration",
    "on-call": "incident restore",
    "buyer": "purchasing procurement",
    "comply": "compliance",
    "complies": "compliance",
}
_SYNONYM_PATTERNS = [(re.compile(rf"\b{re.escape(key)}", re.IGNORECASE), words) for key, words in SYNONYMS.items()]
_FAMILY_WORDS = {"hr": "human resources people", "it": "information technology software engineering",
                 "customer_support": "customer support service", "product": "product management",
                 "finance": "finance accounting", "procurement": "procurement purchasing",
                 "data_analytics": "data analytics business intelligence", "general": ""}
SUGGESTION_COLUMNS = ["kpi_id", "name", "family", "category", "indicator", "similarity"]


def _expand(text: str) -> str:
    """The text plus the synonyms of the domain terms it contains."""
    extra = [words for pattern, words in _SYNONYM_PATTERNS if pattern.search(text)]
    return " ".join([text, *extra])


def _documents(frame: pd.DataFrame) -> list[str]:
    """The text a KPI is matched on: name (twice, it is the most telling), description, formula and family."""
    family = frame["family"].map(lambda f: _FAMILY_WORDS.get(f, f.replace("_", " ")))
    text = frame["name"] + ". " + frame["name"] + ". " + frame["description"] + " " + frame["formula"] + " " + family
    return [_expand(t) for t in text]


def _vectorizer() -> FeatureUnion:
    """Word unigrams and bigrams (English stop words removed) plus character n-grams, which match word forms
    ("hire", "hiring", "hires") that plain word matching misses; both TF-IDF weighted with sublinear tf.

    scikit-learn is imported here, not at the top: it takes seconds to import and is needed only to fit the vectors,
    once per library version (see `_default_model`); suggesting reads the fitted arrays (`Vectors`).
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    def without_stop_words(text: str) -> str:
        return _without_stop_words(text, ENGLISH_STOP_WORDS)

    words = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2), strip_accents="unicode")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, strip_accents="unicode",
                            preprocessor=without_stop_words)
    return FeatureUnion([("words", words), ("chars", chars)])


def _without_stop_words(text: str, stop_words: Collection[str]) -> str:
    """The lower-case words of `text` that are not stop words, joined by spaces (what the character n-grams see)."""
    return " ".join(w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in stop_words)


_WORD = re.compile(r"(?u)\b\w\w+\b")


def _word_terms(text: str, stop_words: Collection[str]) -> list[str]:
    """The word unigrams and bigrams of `text` as `_vectorizer`'s word part makes them: lower case, accents
    stripped, stop words removed."""
    text = text.lower()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    tokens = [w for w in _WORD.findall(text) if w not in stop_words]
    return [*tokens, *(f"{a} {b}" for a, b in itertools.pairwise(tokens))]


def _char_terms(text: str, stop_words: Collection[str]) -> list[str]:
    """The character 3- to 5-grams of each word of `text` padded with a space on both sides, as `_vectorizer`'s
    character part makes them (a word shorter than n gives one n-gram: itself)."""
    grams = []
    for word in _without_stop_words(text, stop_words).split():
        padded = f" {word} "
        for n in range(3, 6):
            grams += [padded[start:start + n] for start in range(max(len(padded) - n + 1, 1))]
            if len(padded) <= n:
                break
    return grams


class Vectors:
    """The fitted suggestion vectors as plain arrays: the vocabularies and idf weights of `_vectorizer`'s two parts,
    the English stop words, and the library's KPIs as unit-length vectors (the columns of `library`). `transform`
    gives what the fitted vectorizer would for new texts, without importing scikit-learn."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        import numpy as np

        self.stop_words = frozenset(arrays["stop_words"].tolist())
        self.parts: list[tuple[Callable[[str, Collection[str]], list[str]], dict[str, int], int, np.ndarray]] = []
        offset = 0
        for name, terms_of in _PARTS.items():
            index = {term: position for position, term in enumerate(arrays[f"{name}_terms"].tolist())}
            self.parts.append((terms_of, index, offset, np.asarray(arrays[f"{name}_idf"], dtype=float)))
            offset += len(index)
        self.width = offset
        rows, (width, shape) = len(arrays["indptr"]) - 1, (offset, arrays["shape"].tolist())
        if shape != [rows, width]:
            raise ValueError(f"library vectors of shape {shape}, expected {[rows, width]}")
        self.library = np.zeros((width, rows))  # one column per KPI: a text's terms pick their rows
        self.library[arrays["indices"], np.repeat(np.arange(rows), np.diff(arrays["indptr"]))] = arrays["data"]

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text (zeros for a text with no known term): sublinear tf times idf, each part
        unit length, then the whole row."""
        import numpy as np

        matrix = np.zeros((len(texts), self.width))
        for row, text in enumerate(texts):
            for terms_of, index, offset, idf in self.parts:
                counts = Counter(index[t] for t in terms_of(text, self.stop_words) if t in index)
                if not counts:
                    continue
                columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
                weights = (np.log(np.fromiter(counts.values(), dtype=float, count=len(counts))) + 1) * idf[columns]
                matrix[row, columns + offset] = weights / np.linalg.norm(weights)
        return _unit_rows(matrix)

    def similarity(self, texts: Sequence[str], kpis: np.ndarray) -> np.ndarray:
        """The cosine of each text with each KPI (`kpis`: one unit-length vector per column, as `library`): one row
        per text. A text's few terms pick their rows of `kpis` (no matrix product: it would wait on the BLAS threads
        of a busy machine)."""
        import numpy as np

        found = np.zeros((len(texts), kpis.shape[1]))
        for row, vector in enumerate(self.transform(texts)):
            terms = np.flatnonzero(vector)
            found[row] = vector[terms] @ kpis[terms] if len(terms) else 0
        return found


_PARTS = {"words": _word_terms, "chars": _char_terms}


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """`matrix` with each non-zero row scaled to unit length."""
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _model_file() -> Path:
    """Where the bundled library's fitted vectors are cached: named by a digest of the library file, of this module
    (its synonyms and text recipe) and of scikit-learn's version, so any change to one of them fits anew."""
    from importlib.metadata import version

    digest = hashlib.sha256(LIBRARY_FILE.read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(version("scikit-learn").encode())
    return Path(user_cache_dir(CACHE_APP)) / "suggestions" / f"{digest.hexdigest()[:32]}.npz"


def _fitted() -> dict[str, np.ndarray]:
    """Fit `_vectorizer` on the bundled library (scikit-learn): the arrays `Vectors` is made of."""
    import numpy as np
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    from sklearn.preprocessing import normalize

    vectorizer = _vectorizer()
    matrix = normalize(vectorizer.fit_transform(_documents(_default_frame()))).tocsr()
    arrays = {"data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr, "shape": np.array(matrix.shape),
              "stop_words": np.array(sorted(ENGLISH_STOP_WORDS))}
    for name, part in vectorizer.transformer_list:
        arrays[f"{name}_terms"], arrays[f"{name}_idf"] = part.get_feature_names_out().astype(str), part.idf_
    return arrays


def _save_model(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Cache the fitted vocabularies, idf weights, stop words and library vectors as plain arrays (no pickle),
    atomically."""
    import numpy as np

    with staged_path(path) as staged, staged.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]


def _load_model(path: Path) -> Vectors:
    """The vectors of a cache file written by `_save_model`."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        return Vectors({name: data[name] for name in data.files})


@cache
def _default_model() -> Vectors:
    """The vectors fitted on the bundled library, with the library's KPIs as unit-length TF-IDF rows.

    Fitted once per library version and cached on disk in the user cache folder; every later process (each batch
    kernel, each step notebook) reads the arrays instead of fitting, and never imports scikit-learn. An unreadable
    cache file is fitted and written anew.
    """
    path = _model_file()
    with contextlib.suppress(OSError, ValueError, KeyError, zipfile.BadZipFile):  # not cached yet, or cut short
        return _load_model(path)
    arrays = _fitted()
    with contextlib.suppress(OSError):  # a read-only cache folder only costs the next process a fit
        _save_model(path, arrays)
    return Vectors(arrays)


def prepare_suggestions() -> None:
    """Load the suggestion vectors now (reading the cache, or fitting and caching them), e.g. while a batch kernel
    waits for its first notebook."""
    _default_model()


def ranked_table(
    texts: Sequence[str],
    candidates: pd.DataFrame | Iterable[KpiDefinition] | None = None,
    top: int = 5,
) -> pd.DataFrame:
    """`suggest_kpis` for several texts at once, as one table with a `text` column (the position of the text in
    `texts`) before the suggestion columns, each text's suggestions best first: the library and the candidates are
    turned into vectors once for all of them."""
    import numpy as np
    import pandas as pd

    model = _default_model()
    matrix: np.ndarray | None = model.library
    if candidates is None:
        frame = _default_frame()
    else:
        frame = candidates if isinstance(candidates, pd.DataFrame) else library_frame(candidates)
        matrix = np.ascontiguousarray(model.transform(_documents(frame)).T) if len(frame) else None
    if not texts or matrix is None:
        return pd.DataFrame(columns=["text", *SUGGESTION_COLUMNS])
    similarity = model.similarity([_expand(text) for text in texts], matrix)
    orders = np.argsort(-similarity, axis=1, kind="stable")[:, :top]
    scores = np.take_along_axis(similarity, orders, axis=1)
    kept = (scores > 0) & np.array([[bool(text.strip())] for text in texts])
    rows, columns = np.nonzero(kept)
    table = frame.rename(columns={"id": "kpi_id"})[SUGGESTION_COLUMNS[:-1]]
    found = table.iloc[orders[rows, columns]].assign(similarity=scores[rows, columns]).reset_index(drop=True)
    found.insert(0, "text", rows)
    return found


def rank_kpis(
    texts: Sequence[str],
    candidates: pd.DataFrame | Iterable[KpiDefinition] | None = None,
    top: int = 5,
) -> list[pd.DataFrame]:
    """`suggest_kpis` for several texts at once (one table per text, in order): the library and the candidates
    are turned into vectors once for all of them."""
    found = ranked_table(texts, candidates, top)
    starts = found["text"].searchsorted(range(len(texts) + 1))
    return [found.iloc[start:end, 1:].reset_index(drop=True) for start, end in itertools.pairwise(starts)]


def suggest_kpis(
    text: str,
    candidates: pd.DataFrame | Iterable[KpiDefinition] | None = None,
    top: int = 5,
) -> pd.DataFrame:
    """Rank KPIs by how well their text matches `text` (e.g. a responsibility and its expected outcome).

    candidates: the KPIs to rank, as a library-style frame or KPI definitions (default: the whole library).
    Similarity is the cosine between TF-IDF vectors fitted on the library (scikit-learn); KPIs with no similarity
    are left out. Returns at most `top` rows with columns kpi_id, name, family, category, indicator,
    similarity.
    """
    return rank_kpis([text], candidates, top)[0]
