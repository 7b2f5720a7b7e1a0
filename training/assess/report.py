"""Markdown report comparing evaluated checkpoints side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

METRIC_COLUMNS = ["accuracy", "precision", "recall", "f1", "auc", "eer"]


def markdown_table(frame: pd.DataFrame, float_format: str = "{:.4f}") -> str:
    """A GitHub-flavoured markdown table (no tabulate dependency)."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        cells = [float_format.format(v) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(table: pd.DataFrame, path: Path, data_dir: Path, split: str, by_source: pd.DataFrame | None = None) -> Path:
    """Write report.md: a metrics table, then each checkpoint's confusion matrix and ROC curve."""
    columns = ["checkpoint", "architecture", "epoch", "image_size", "images", *METRIC_COLUMNS, "size_mb"]
    best = table.sort_values(["auc", "accuracy"], ascending=False).iloc[0]
    parts = [
        f"# Evaluation on {split}",
        "",
        f"Data: `{data_dir}` split `{split}`. Fake is the positive class; thresholds are each checkpoint's own.",
        "",
        markdown_table(table[columns]),
        "",
        f"Highest AUC on {split}: **{best['checkpoint']}** (accuracy {best['accuracy']:.4f}, AUC {best['auc']:.4f}). "
        "For reporting only: choose models on Validation.",
        "",
    ]
    if by_source is not None:
        from .per_source import markdown_table as source_table
        parts += ["## By source", "", "Fake sources: AUC and accuracy against every real image of the split; real "
                  "sources: the share called fake.", "", source_table(by_source), ""]
    for row in table.itertuples(index=False):
        parts += [
            f"## {row.checkpoint}",
            "",
            f"TN {row.tn}, FP {row.fp}, FN {row.fn}, TP {row.tp}.",
            "",
            f"![confusion matrix]({row.checkpoint}_confusion.png) ![ROC]({row.checkpoint}_roc.png)",
            "",
        ]
    path.write_text("\n".join(parts))
    return path
