"""The no-regression rule: a candidate default against the current one, group by group (every source, family and
tag of a split), with paired bootstrap confidence intervals. A candidate that is worse than the current default on
any family or source (or tag of at least C.COMPARE_MIN_TAG_IMAGES images) by more than the interval does not ship.

Fake groups compare AUC against every real image of the split (threshold-free), real groups the share called fake
at each model's own threshold. The caught share of each fake group is reported beside, for reading, not for the rule.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from pipeline import constants as C

COMPARE_COLUMNS = ["by", "group", "class", "images", "metric", "candidate", "baseline", "difference", "ci_low", "ci_high",
                   "verdict", "decides", "candidate_caught", "baseline_caught"]
GROUPINGS = ("family", "source", "tag")


def rank_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC of positive vs negative scores (Mann-Whitney U, ties counted half); fast enough to bootstrap."""
    if len(positive) == 0 or len(negative) == 0:
        return math.nan
    ranks = rankdata(np.concatenate([positive, negative]))
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def bootstrap_interval(statistic, sizes: tuple[int, ...], rng: np.random.Generator,
                       samples: int = C.COMPARE_BOOTSTRAP_SAMPLES) -> tuple[float, float]:
    """Percentile interval (C.COMPARE_CONFIDENCE) of statistic(*resampled index arrays), one array per size."""
    values = [statistic(*(rng.integers(0, n, n) for n in sizes)) for _ in range(samples)]
    values = np.asarray([v for v in values if not math.isnan(v)])
    if len(values) == 0:
        return math.nan, math.nan
    tail = (1 - C.COMPARE_CONFIDENCE) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def verdict(difference_low: float, difference_high: float, higher_is_better: bool) -> str:
    """'worse' or 'better' when the whole interval lies on one side of zero, else 'same'."""
    if math.isnan(difference_low):
        return "same"
    if higher_is_better:
        return "worse" if difference_high < 0 else "better" if difference_low > 0 else "same"
    return "worse" if difference_low > 0 else "better" if difference_high < 0 else "same"


def compare_fake_group(candidate: np.ndarray, baseline: np.ndarray, real: np.ndarray, fake: np.ndarray,
                       rng: np.random.Generator) -> dict:
    """AUC of one fake group against all reals, candidate minus baseline, with its interval."""
    def difference(fake_pick=None, real_pick=None) -> float:
        f = fake if fake_pick is None else fake[fake_pick]
        r = real if real_pick is None else real[real_pick]
        return rank_auc(candidate[f], candidate[r]) - rank_auc(baseline[f], baseline[r])

    low, high = bootstrap_interval(difference, (len(fake), len(real)), rng)
    return {"metric": "auc", "candidate": rank_auc(candidate[fake], candidate[real]),
            "baseline": rank_auc(baseline[fake], baseline[real]), "difference": difference(), "ci_low": low,
            "ci_high": high, "verdict": verdict(low, high, higher_is_better=True)}


def compare_real_group(candidate_called: np.ndarray, baseline_called: np.ndarray, real: np.ndarray,
                       rng: np.random.Generator) -> dict:
    """Share of one real group called fake, candidate minus baseline, with its interval."""
    def difference(pick=None) -> float:
        r = real if pick is None else real[pick]
        return float(candidate_called[r].mean() - baseline_called[r].mean())

    low, high = bootstrap_interval(difference, (len(real),), rng)
    return {"metric": "false_fake_rate", "candidate": float(candidate_called[real].mean()),
            "baseline": float(baseline_called[real].mean()), "difference": difference(), "ci_low": low, "ci_high": high,
            "verdict": verdict(low, high, higher_is_better=False)}


def compare_predictions(candidate: pd.DataFrame, baseline: pd.DataFrame, candidate_threshold: float,
                        baseline_threshold: float, seed: int = 0) -> pd.DataFrame:
    """One row per (grouping, group, class): the candidate against the baseline on the same images in the same order.
    Both frames hold `label` (class name), `probability_fake` and the grouping columns present."""
    if candidate["file"].tolist() != baseline["file"].tolist():
        raise ValueError("candidate and baseline must be scored on the same images in the same order")
    rng = np.random.default_rng(seed)
    fake_name = C.CLASS_NAMES[C.FAKE_INDEX]
    is_fake = (candidate["label"] == fake_name).to_numpy()
    real = np.flatnonzero(~is_fake)
    cand_p, base_p = candidate["probability_fake"].to_numpy(float), baseline["probability_fake"].to_numpy(float)
    cand_called, base_called = cand_p >= candidate_threshold, base_p >= baseline_threshold
    rows = []
    for by in (g for g in GROUPINGS if g in candidate):
        for (group, fake), members in candidate.groupby([by, is_fake]).groups.items():
            chosen = candidate.index.get_indexer(members)
            row = {"by": by, "group": group, "class": fake_name if fake else C.CLASS_NAMES[C.REAL_INDEX],
                   "images": len(chosen), "decides": by != "tag" or len(chosen) >= C.COMPARE_MIN_TAG_IMAGES}
            if fake:
                row |= compare_fake_group(cand_p, base_p, real, chosen, rng)
                row |= {"candidate_caught": float(cand_called[chosen].mean()), "baseline_caught": float(base_called[chosen].mean())}
            else:
                row |= compare_real_group(cand_called, base_called, chosen, rng)
            rows.append(row)
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def ships(table: pd.DataFrame) -> bool:
    """True when the candidate is worse than the baseline on no deciding group (every family and source, and every
    tag with enough images for its interval to mean something)."""
    return not ((table["verdict"] == "worse") & table["decides"]).any()


def comparison_markdown(table: pd.DataFrame, candidate: str, baseline: str, split: str) -> str:
    """The comparison as Markdown, with the shipping verdict first."""
    worse = table[(table["verdict"] == "worse") & table["decides"]]
    head = (f"**{candidate}** vs **{baseline}** on {split}: "
            + ("no group is worse beyond the 95% interval: **ships**." if worse.empty else
               f"worse on {len(worse)} group(s) ({', '.join(f'{by} {group}' for by, group in zip(worse['by'], worse['group']))}): "
               "**does not ship**.")
            + f" Tags under {C.COMPARE_MIN_TAG_IMAGES} images are shown but do not decide (marked *).")
    lines = [head, "", "| by | group | class | images | metric | candidate | baseline | difference (95% CI) | caught (candidate / baseline) | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        caught = "" if math.isnan(r["candidate_caught"]) else f"{r['candidate_caught']:.3f} / {r['baseline_caught']:.3f}"
        lines.append(f"| {r['by']} | {r['group']} | {r['class']} | {r['images']} | {r['metric']} | {r['candidate']:.4f} | "
                     f"{r['baseline']:.4f} | {r['difference']:+.4f} ({r['ci_low']:+.4f}, {r['ci_high']:+.4f}) | {caught} | "
                     f"{r['verdict']}{'' if r['decides'] else ' *'} |")
    return "\n".join(lines) + "\n"
