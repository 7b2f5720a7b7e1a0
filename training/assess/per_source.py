"""Metrics by source: AUC and accuracy of each fake source against all reals, false-fake rate of each real source,
and the share of each source the server's three-way verdict calls fake and uncertain."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pipeline import constants as C
from pipeline.scoring import verdict_of

PER_SOURCE_COLUMNS = ["source", "class", "images", "auc", "accuracy", "false_fake_rate", "mean_probability_fake",
                      "called_fake", "called_uncertain"]


def per_source_metrics(sources, labels, prob_fake, threshold: float = C.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """One row per source: fakes get AUC/accuracy against every real, reals get their false-fake rate; every row
    gets the shares its verdicts call fake (at or over the threshold) and uncertain (pipeline.scoring.verdict_of)."""
    sources, labels, prob_fake = np.asarray(sources), np.asarray(labels), np.asarray(prob_fake, dtype=np.float64)
    real = labels == C.REAL_INDEX
    rows = []
    for source in sorted(set(sources.tolist())):
        mine = sources == source
        for label in sorted(set(labels[mine].tolist())):
            chosen = mine & (labels == label)
            row = {"source": source, "class": C.CLASS_NAMES[label], "images": int(chosen.sum()), "auc": math.nan,
                   "accuracy": math.nan, "false_fake_rate": math.nan,
                   "mean_probability_fake": float(prob_fake[chosen].mean()),
                   **verdict_shares(prob_fake[chosen], threshold)}
            if label == C.FAKE_INDEX and real.any():
                pool = chosen | real
                row["auc"] = float(roc_auc_score(labels[pool], prob_fake[pool]))
                row["accuracy"] = float(((prob_fake[pool] >= threshold) == (labels[pool] == C.FAKE_INDEX)).mean())
            elif label == C.REAL_INDEX:
                row["false_fake_rate"] = float((prob_fake[chosen] >= threshold).mean())
            rows.append(row)
    return pd.DataFrame(rows, columns=PER_SOURCE_COLUMNS)


def verdict_shares(prob_fake: np.ndarray, threshold: float) -> dict[str, float]:
    """The shares of probabilities whose verdict is fake and uncertain at `threshold`."""
    verdicts = [verdict_of(float(p), threshold) for p in prob_fake]
    return {"called_fake": verdicts.count("fake") / len(verdicts),
            "called_uncertain": verdicts.count("uncertain") / len(verdicts)}


def worst_source_auc(table: pd.DataFrame) -> float:
    """The lowest per-fake-source AUC: the cross-source criterion that picks models (NaN without fakes)."""
    aucs = table.loc[table["class"] == C.CLASS_NAMES[C.FAKE_INDEX], "auc"].dropna()
    return float(aucs.min()) if len(aucs) else math.nan


def markdown_table(table: pd.DataFrame) -> str:
    """A per-source table as Markdown (blank where a metric does not apply)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for row in table.itertuples(index=False):
        cells = ["" if isinstance(v, float) and math.isnan(v) else f"{v:.4f}" if isinstance(v, float) else str(v)
                 for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def generalization_matrix(by_source: pd.DataFrame, checkpoints: list[str]) -> pd.DataFrame:
    """Rows: checkpoints; columns: `<fake source> AUC` and `<real source> FFR` (false-fake rate)."""
    rows = []
    for name in checkpoints:
        mine = by_source[by_source["checkpoint"] == name]
        row = {"model": name.replace("_", " ")}
        for item in mine.to_dict("records"):
            fake = item["class"] == C.CLASS_NAMES[C.FAKE_INDEX]
            row[f"{item['source']} {'AUC' if fake else 'FFR'}"] = item["auc"] if fake else item["false_fake_rate"]
        rows.append(row)
    return pd.DataFrame(rows)
