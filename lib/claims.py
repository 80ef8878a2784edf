"""Verdicts on a paper's claims, computed from seed-level numbers, never typed in.

A verdict is `holds`, `fails`, `inconclusive` or `not run` (the experiment could not run here: a
separate verdict, never counted as inconclusive). `VERDICT_RULE` states the one rule, shown once on
the report index. The building block is a paired comparison over
seeds: the 95% Student-t interval of the mean difference decides (holds when it lies entirely on the
claimed side of the margin, fails when entirely on the other side, inconclusive when it straddles
the margin or fewer than two seeds exist). Claims over many conditions combine the per-condition
verdicts with `all_of` ("everywhere") or `most_of`. Proportions (k of n images) use the Wilson
score interval, which stays inside [0, 1] (`wilson`, `proportion_at_most`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy import stats


class Verdict(str, Enum):
    HOLDS = "holds"
    FAILS = "fails"
    INCONCLUSIVE = "inconclusive"
    NOT_RUN = "not run"


VERDICT_RULE = (
    "A claim holds when the 95% interval of the claimed quantity (Student-t over seeds for means; Wilson "
    "score over images for proportions; a one-sided test at α = 0.01 where a p-value is given) lies "
    "entirely on the claimed side of the paper's threshold, fails when it lies entirely on the other "
    "side, and is inconclusive when it straddles the threshold or fewer than two seeds exist. A claim "
    "made of parts holds when every part holds and fails when any part fails (\"everywhere\"); a claim "
    "about what happens typically holds when more than half its parts hold and none fails, and fails "
    "when more than half fail. Not run: the experiment could not run here (data or compute missing); "
    "it is not counted as inconclusive.")


@dataclass(frozen=True)
class Claim:
    """One claim of a paper with its computed verdict and the numbers behind it."""

    id: str
    text: str
    verdict: Verdict
    evidence: str
    parts: tuple[tuple[str, Verdict, str], ...] = ()

    def record(self) -> dict:
        out = {"id": self.id, "text": self.text, "verdict": self.verdict.value, "evidence": self.evidence}
        if self.parts:
            out["parts"] = [{"part": name, "verdict": v.value, "evidence": ev} for name, v, ev in self.parts]
        return out


@dataclass(frozen=True)
class Test:
    """The outcome of one comparison: verdict plus mean difference and its 95% interval."""

    verdict: Verdict
    mean: float
    lo: float
    hi: float
    n: int

    def describe(self, unit: str = "") -> str:
        if self.n < 2:
            return f"{self.mean:+.3g}{unit} (1 seed)"
        return f"{self.mean:+.3g}{unit} [95% CI {self.lo:+.3g}, {self.hi:+.3g}], n={self.n}"


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval of `values` (interval = mean when n < 2)."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def greater(a: Sequence[float], b: Sequence[float], margin: float = 0.0) -> Test:
    """Is `a` greater than `b` by more than `margin`? Paired over seeds (same length)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"greater: paired seed lists must have the same length, got {a.shape} and {b.shape}")
    d = a - b
    m, lo, hi = mean_interval(d)
    if len(d) < 2:
        verdict = Verdict.INCONCLUSIVE
    elif lo > margin:
        verdict = Verdict.HOLDS
    elif hi < margin:
        verdict = Verdict.FAILS
    else:
        verdict = Verdict.INCONCLUSIVE
    return Test(verdict, m, lo, hi, len(d))


def at_most(values: Sequence[float], bound: float) -> Test:
    """Is the mean of `values` at most `bound`? (holds: whole interval ≤ bound; fails: whole > bound)."""
    m, lo, hi = mean_interval(values)
    n = len(values)
    if n < 2:
        verdict = Verdict.INCONCLUSIVE
    elif hi <= bound:
        verdict = Verdict.HOLDS
    elif lo > bound:
        verdict = Verdict.FAILS
    else:
        verdict = Verdict.INCONCLUSIVE
    return Test(verdict, m, lo, hi, n)


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Proportion `successes / n` and its Wilson score interval (always inside [0, 1]).

    Returns (p, lo, hi); (nan, 0, 1) when n == 0.
    """
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return float("nan"), 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, float(centre - half))
    hi = 1.0 if successes == n else min(1.0, float(centre + half))
    return p, lo, hi


@dataclass(frozen=True)
class ProportionTest:
    """A proportion (k of n) against a bound, with its Wilson interval, in percent."""

    verdict: Verdict
    mean: float
    lo: float
    hi: float
    n: int
    k: int

    def describe(self, unit: str = "%") -> str:
        return f"{self.mean:.1f}{unit} [95% Wilson {self.lo:.1f}, {self.hi:.1f}] ({self.k}/{self.n})"


def proportion_at_most(successes: int, n: int, bound_pct: float) -> ProportionTest:
    """Is the proportion `successes / n` at most `bound_pct` percent? Wilson interval decides (same
    rule as `at_most`: holds when the whole interval is ≤ bound, fails when it is wholly above)."""
    p, lo, hi = wilson(successes, n)
    lo, hi, m = 100 * lo, 100 * hi, 100 * p
    if n == 0:
        verdict = Verdict.INCONCLUSIVE
    elif hi <= bound_pct:
        verdict = Verdict.HOLDS
    elif lo > bound_pct:
        verdict = Verdict.FAILS
    else:
        verdict = Verdict.INCONCLUSIVE
    return ProportionTest(verdict, m, lo, hi, n, successes)


def all_of(verdicts: Sequence[Verdict]) -> Verdict:
    """'Everywhere': holds if all hold, fails if any fails, else inconclusive."""
    if any(v is Verdict.FAILS for v in verdicts):
        return Verdict.FAILS
    if verdicts and all(v is Verdict.HOLDS for v in verdicts):
        return Verdict.HOLDS
    return Verdict.INCONCLUSIVE


def most_of(verdicts: Sequence[Verdict], share: float = 0.5) -> Verdict:
    """'Typically': holds if more than `share` hold and none fails; fails if more than `share` fail."""
    n = max(len(verdicts), 1)
    holds = sum(v is Verdict.HOLDS for v in verdicts) / n
    fails = sum(v is Verdict.FAILS for v in verdicts) / n
    if holds > share and fails == 0:
        return Verdict.HOLDS
    if fails > share:
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


def tally(verdicts: Sequence[Verdict]) -> str:
    """'3 hold, 1 fail, 0 inconclusive of 4'."""
    c = {v: sum(x is v for x in verdicts) for v in Verdict}
    not_run = f", {c[Verdict.NOT_RUN]} not run" if c[Verdict.NOT_RUN] else ""
    return (f"{c[Verdict.HOLDS]} hold, {c[Verdict.FAILS]} fail, {c[Verdict.INCONCLUSIVE]} inconclusive"
            f"{not_run} of {len(verdicts)}")


def from_pvalue(p: float, effect_ok: bool, alpha: float = 0.01) -> Verdict:
    """Verdict for a one-sided test: holds if significant and the effect is as claimed, fails if
    the effect clearly is not (p > 0.5 or effect in the wrong direction), else inconclusive."""
    if p < alpha and effect_ok:
        return Verdict.HOLDS
    if p > 0.5 or not effect_ok:
        return Verdict.FAILS
    return Verdict.INCONCLUSIVE


# ---------------------------------------------------------------------------------------------
# Chance level of an overlap of two random k-subsets (e.g. top-25% filter sets of two rankings)


def chance_overlap(n_total: int, k: int) -> float:
    """Expected overlap of two independent uniformly random k-subsets of n_total items.

    The overlap is hypergeometric (population n_total, k successes, k draws), mean k^2 / n:
    the "chance level" of Table 1 (k = 24 of n = 96 filters -> 6.0).
    """
    if not 0 <= k <= n_total:
        raise ValueError(f"need 0 <= k <= n_total, got k={k}, n_total={n_total}")
    return k * k / n_total


def chance_overlap_pvalue(n_total: int, k: int, observed: int) -> float:
    """P[X >= observed] for the overlap X of two random k-subsets of n_total (hypergeometric).

    A small value means the observed agreement (e.g. 18/24 of 96 filters) is far above chance.
    """
    from scipy.stats import hypergeom

    if not 0 <= k <= n_total:
        raise ValueError(f"need 0 <= k <= n_total, got k={k}, n_total={n_total}")
    return float(hypergeom.sf(observed - 1, n_total, k, k))


def pooled_overlap_pvalue(n_total: int, k: int, observed: list[int]) -> float:
    """P[X_1 + … + X_S >= sum(observed)] for S independent chance overlaps (see `chance_overlap_pvalue`).

    Pools repetitions (e.g. seeds that draw disjoint image sets) into one exact test: the null
    distribution of the sum is the S-fold convolution of the hypergeometric pmf.
    """
    from scipy.stats import hypergeom

    if not 0 <= k <= n_total:
        raise ValueError(f"need 0 <= k <= n_total, got k={k}, n_total={n_total}")
    pmf = hypergeom.pmf(np.arange(k + 1), n_total, k, k)
    total = np.array([1.0])
    for _ in observed:
        total = np.convolve(total, pmf)
    return float(min(1.0, total[int(sum(observed)):].sum()))
