"""The local moderation classifier: logistic regression over hashed character n-grams.

Character n-grams (1–4, within word boundaries) suit Korean, where a word takes particles and endings
('대출', '대출을', '대출해'), and survive the misspellings spammers use. Hashing keeps the model a fixed
size with no vocabulary to store; the fitted weights are saved as a plain .npz (no pickle) under
`<var_dir>/models/moderation/`, named by a digest of the weights, with `current.json` pointing at the
one in use. Trained on the seed set shipped in ai/moderation/data/ plus the platform's own decisions.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

LABELS = ("ok", "spam", "abuse")
N_FEATURES = 2 ** 18
NGRAMS = (1, 4)
MODEL_SUBDIR = "moderation"
ENGINE_ID = "local-charngram-logreg"


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # one of LABELS
    source: str = "seed"  # seed | decision


def vectorizer() -> HashingVectorizer:
    return HashingVectorizer(analyzer="char_wb", ngram_range=NGRAMS, n_features=N_FEATURES, alternate_sign=False,
                             norm="l2", lowercase=True)


@dataclass(frozen=True)
class ModerationModel:
    coef: np.ndarray  # (3, N_FEATURES) float32, rows in LABELS order
    intercept: np.ndarray  # (3,) float32
    training_size: int
    trained_at: str
    metrics: dict[str, float]

    @property
    def version(self) -> str:
        digest = hashlib.sha256(json.dumps({"engine": ENGINE_ID, "ngrams": NGRAMS, "n": N_FEATURES}).encode())
        digest.update(np.ascontiguousarray(self.coef).tobytes())
        digest.update(np.ascontiguousarray(self.intercept).tobytes())
        return digest.hexdigest()[:16]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities of ok, spam, abuse (softmax of the linear scores)."""
        features = vectorizer().transform(list(texts))
        scores = np.asarray(features @ self.coef.T) + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def save(self, models_dir: Path) -> Path:
        folder = models_dir / MODEL_SUBDIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.version}.npz"
        if not path.exists():
            scratch = folder / f".{self.version}.tmp.npz"
            meta = {"training_size": self.training_size, "trained_at": self.trained_at, "metrics": self.metrics}
            np.savez_compressed(scratch, coef=self.coef, intercept=self.intercept, meta=np.array(json.dumps(meta)))
            os.replace(scratch, path)
        pointer = folder / "current.json"
        tmp = folder / ".current.json.tmp"
        tmp.write_text(json.dumps({"engine_id": ENGINE_ID, "version": self.version, "file": path.name,
                                   "training_size": self.training_size, "trained_at": self.trained_at,
                                   "metrics": self.metrics}, indent=2))
        os.replace(tmp, pointer)
        return path

    @classmethod
    def load(cls, path: Path) -> ModerationModel:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(coef=data["coef"], intercept=data["intercept"], **meta)


def _fit(texts: list[str], labels: np.ndarray) -> LogisticRegression:
    # balanced classes: the seed and the decisions hold more ordinary posts than spam or abuse
    # saga: lbfgs takes ~40x longer on 2**18 sparse columns for the same solution
    model = LogisticRegression(C=10.0, class_weight="balanced", solver="saga", max_iter=300, tol=1e-3, random_state=0)
    model.fit(vectorizer().transform(texts), labels)
    return model


def _label_index(examples: Sequence[Example]) -> np.ndarray:
    return np.array([LABELS.index(e.label) for e in examples])


def cross_validate(examples: Sequence[Example], folds: int = 5, seed: int = 0) -> dict[str, float]:
    """Precision and recall of "not ok" (spam or abuse flagged as either), out of fold, plus per label."""
    texts = [e.text for e in examples]
    y = _label_index(examples)
    predicted = np.zeros_like(y)
    splitter = StratifiedKFold(n_splits=min(folds, int(np.bincount(y).min())), shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, y):
        fitted = _fit([texts[i] for i in train], y[train])
        predicted[test] = fitted.predict(vectorizer().transform([texts[i] for i in test]))
    flagged_true, flagged_pred = y != 0, predicted != 0
    true_positive = int((flagged_true & flagged_pred).sum())
    metrics = {"precision": true_positive / max(1, int(flagged_pred.sum())),
               "recall": true_positive / max(1, int(flagged_true.sum())), "folds": float(splitter.n_splits)}
    precision, recall, _, _ = precision_recall_fscore_support(y, predicted, labels=[0, 1, 2], zero_division=0)
    for index, label in enumerate(LABELS):
        metrics[f"precision_{label}"] = float(precision[index])
        metrics[f"recall_{label}"] = float(recall[index])
    return {name: round(value, 4) for name, value in metrics.items()}


def train(examples: Sequence[Example], evaluate: bool = True) -> ModerationModel:
    """Fit on every example (after cross-validating, when asked); deterministic for the same examples."""
    missing = [label for label in LABELS if not any(e.label == label for e in examples)]
    if missing:
        raise ValueError(f"the moderation classifier needs examples of every label; missing: {missing}")
    metrics = cross_validate(examples) if evaluate else {}
    fitted = _fit([e.text for e in examples], _label_index(examples))
    order = [list(fitted.classes_).index(i) for i in range(len(LABELS))]
    coef = np.ascontiguousarray(fitted.coef_[order], dtype=np.float32)
    intercept = np.asarray(fitted.intercept_[order], dtype=np.float32)
    return ModerationModel(coef=coef, intercept=intercept, training_size=len(examples),
                           trained_at=datetime.now(UTC).isoformat(timespec="seconds"), metrics=metrics)


# ---------------------------------------------------------------------------------- the model in use
_CACHE: dict[tuple[str, str], ModerationModel] = {}
_LOCK = threading.Lock()


def current_version(models_dir: Path) -> str | None:
    pointer = models_dir / MODEL_SUBDIR / "current.json"
    return str(json.loads(pointer.read_text())["version"]) if pointer.exists() else None


def load_current(models_dir: Path) -> ModerationModel:
    """The model `current.json` names (cached per version, so a retrained one is picked up by every
    process on its next screen). Without one, a model is trained on the seed set and saved."""
    from ai.moderation.dataset import seed_examples

    version = current_version(models_dir)
    with _LOCK:
        if version is not None and (str(models_dir), version) in _CACHE:
            return _CACHE[(str(models_dir), version)]
        if version is None:
            model = train(seed_examples(), evaluate=False)
            model.save(models_dir)
        else:
            pointer = json.loads((models_dir / MODEL_SUBDIR / "current.json").read_text())
            model = ModerationModel.load(models_dir / MODEL_SUBDIR / pointer["file"])
        _CACHE[(str(models_dir), model.version)] = model
        return model
