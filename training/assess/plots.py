"""Figures written with the Agg backend and closed after saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from pipeline import constants as C  # noqa: E402


def save_figure(figure: plt.Figure, path: Path) -> Path:
    """Save and close a figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_training_curves(summary: pd.DataFrame, path: Path) -> Path:
    """Losses and validation metrics per epoch from a summary.csv frame."""
    figure, (loss_ax, metric_ax) = plt.subplots(1, 2, figsize=(11, 4))
    loss_ax.plot(summary["epoch"], summary["train_loss"], marker="o", label="train")
    loss_ax.plot(summary["epoch"], summary["val_loss"], marker="o", label="validation")
    loss_ax.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    loss_ax.legend()
    for name in ("val_accuracy", "val_f1", "val_auc"):
        metric_ax.plot(summary["epoch"], summary[name], marker="o", label=name.removeprefix("val_"))
    metric_ax.set(title="Validation metrics", xlabel="epoch", ylim=(0, 1.02))
    metric_ax.legend()
    return save_figure(figure, path)


def plot_confusion_matrix(matrix: np.ndarray, title: str, path: Path, names=C.CLASS_NAMES) -> Path:
    """Seaborn heatmap of a confusion matrix with counts (rows true, columns predicted)."""
    figure, ax = plt.subplots(figsize=(4.6, 4))
    sns.heatmap(matrix, annot=True, fmt="d", cmap="Blues", cbar=False, xticklabels=names, yticklabels=names, ax=ax)
    ax.set(title=title, xlabel="predicted", ylabel="true")
    return save_figure(figure, path)


def plot_roc_curve(labels: np.ndarray, prob_fake: np.ndarray, title: str, path: Path) -> Path:
    """ROC curve of the Fake class with its AUC in the legend."""
    figure, ax = plt.subplots(figsize=(4.6, 4))
    if len(np.unique(labels)) == 2:
        fpr, tpr, _ = skm.roc_curve(labels, prob_fake)
        ax.plot(fpr, tpr, label=f"AUC = {skm.auc(fpr, tpr):.4f}")
        ax.legend(loc="lower right")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(title=title, xlabel="false positive rate (real called fake)", ylabel="true positive rate")
    return save_figure(figure, path)
