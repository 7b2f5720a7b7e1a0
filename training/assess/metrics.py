"""Classification metrics and probability calibration (temperature scaling)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn import metrics as skm

from pipeline import constants as C
from pipeline.scoring import fake_probability  # noqa: F401 (re-exported: one calibration for every caller)


def equal_error_rate(labels: np.ndarray, scores: np.ndarray) -> float:
    """Error rate where false-positive and false-negative rates are equal (from the ROC curve)."""
    fpr, tpr, _ = skm.roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.nanargmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2)


def compute_metrics(labels: np.ndarray, prob_fake: np.ndarray, threshold: float = C.DEFAULT_THRESHOLD) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (Fake is positive), AUC and EER; AUC/EER are NaN with one class."""
    labels = np.asarray(labels).astype(int)
    prob_fake = np.asarray(prob_fake, dtype=float)
    predicted = (prob_fake >= threshold).astype(int)
    both_classes = len(np.unique(labels)) == 2
    return {
        "accuracy": float(skm.accuracy_score(labels, predicted)),
        "precision": float(skm.precision_score(labels, predicted, zero_division=0)),
        "recall": float(skm.recall_score(labels, predicted, zero_division=0)),
        "f1": float(skm.f1_score(labels, predicted, zero_division=0)),
        "auc": float(skm.roc_auc_score(labels, prob_fake)) if both_classes else float("nan"),
        "eer": equal_error_rate(labels, prob_fake) if both_classes else float("nan"),
    }


def confusion(labels: np.ndarray, prob_fake: np.ndarray, threshold: float = C.DEFAULT_THRESHOLD) -> np.ndarray:
    """2x2 confusion matrix, rows = true class, columns = predicted class, in CLASS_NAMES order."""
    predicted = (np.asarray(prob_fake) >= threshold).astype(int)
    return skm.confusion_matrix(np.asarray(labels).astype(int), predicted, labels=list(range(len(C.CLASS_NAMES))))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, max_iter: int = 100,
                    bounds: tuple[float, float] = (C.MIN_TEMPERATURE, C.MAX_TEMPERATURE)) -> float:
    """Fit the softmax temperature that minimises NLL on held-out logits (Guo et al., 2017), within bounds.

    The lower bound of 1 keeps calibration from ever sharpening the model: on a validation set the model
    separates perfectly, NLL keeps falling as T goes to 0, which would claim a certainty no unseen data supports.
    """
    logits, labels = logits.detach().float().clone(), labels.detach().long().clone()
    if len(labels) == 0:
        return 1.0
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter)
    loss_fn = torch.nn.CrossEntropyLoss()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_fn(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    temperature = float(log_t.detach().exp().clamp(*bounds))
    return temperature if np.isfinite(temperature) else 1.0
