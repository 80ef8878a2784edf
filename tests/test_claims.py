"""Tests of lib.claims: verdicts from seed-level numbers (paired Student-t intervals)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lib import claims
from lib.claims import Claim, Verdict, all_of, at_most, from_pvalue, greater, mean_interval, most_of, tally

H, F, INC = Verdict.HOLDS, Verdict.FAILS, Verdict.INCONCLUSIVE


@pytest.mark.parametrize("values,level", [([0.61, 0.64, 0.58, 0.66, 0.6], 0.95), ([1.0, 3.0], 0.95),
                                          ([2.0, 2.5, 4.0, 1.0], 0.9), ([5.0, 5.0, 5.0], 0.95)])
def test_mean_interval_matches_scipy(values, level) -> None:
    m, lo, hi = mean_interval(values, level)
    x = np.asarray(values)
    assert m == pytest.approx(x.mean())
    if x.std() == 0:
        assert lo == hi == m
        return
    ref_lo, ref_hi = stats.t.interval(level, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (lo, hi) == pytest.approx((ref_lo, ref_hi), rel=1e-10)


def test_mean_interval_single_value() -> None:
    assert mean_interval([0.3]) == (0.3, 0.3, 0.3)


def test_greater_clear_win() -> None:
    a, b = [0.90, 0.91, 0.92, 0.90], [0.50, 0.52, 0.49, 0.51]
    t = greater(a, b)
    assert t.verdict is H and t.n == 4
    assert t.mean == pytest.approx(np.mean(np.subtract(a, b)))
    assert (t.mean, t.lo, t.hi) == pytest.approx(mean_interval(np.subtract(a, b)))
    assert t.lo > 0


def test_greater_clear_loss() -> None:
    t = greater([0.50, 0.52, 0.49], [0.90, 0.91, 0.92])
    assert t.verdict is F and t.hi < 0


@pytest.mark.parametrize("a,b", [([0.60, 0.40, 0.70], [0.50, 0.50, 0.50]),     # mean +0.067
                                 ([0.40, 0.60, 0.30], [0.50, 0.50, 0.50])])    # mean -0.067
def test_greater_overlapping_is_inconclusive(a, b) -> None:
    t = greater(a, b)
    assert t.verdict is INC and t.lo < 0 < t.hi and abs(t.mean) > 0.05


def test_greater_single_seed_is_inconclusive() -> None:
    t = greater([0.9], [0.1])
    assert t.verdict is INC and t.n == 1 and t.mean == pytest.approx(0.8)
    assert t.describe() == "+0.8 (1 seed)"


def test_greater_is_paired_over_seeds() -> None:
    # large seed-to-seed spread, but a consistent per-seed gain: a paired test sees it
    a, b = [0.10, 0.50, 0.90], [0.05, 0.45, 0.86]
    assert greater(a, b).verdict is H
    # an unpaired comparison of the same numbers would not be significant
    assert stats.ttest_ind(a, b).pvalue > 0.5


def test_greater_margin() -> None:
    a, b = [0.60, 0.61, 0.62, 0.60], [0.55, 0.55, 0.56, 0.55]      # differences ≈ 0.055
    assert greater(a, b, margin=0.01).verdict is H
    assert greater(a, b, margin=0.1).verdict is F
    assert greater(a, b, margin=0.055).verdict is INC


def test_greater_rejects_unpaired_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        greater([0.9], [0.1, 0.2, 0.3])            # numpy would silently broadcast this
    with pytest.raises(ValueError, match="same length"):
        greater([0.9, 0.8], [0.1, 0.2, 0.3])


def test_at_most() -> None:
    values = [0.10, 0.12, 0.11, 0.105]
    assert at_most(values, 0.2).verdict is H
    assert at_most(values, 0.05).verdict is F
    assert at_most(values, float(np.mean(values))).verdict is INC
    assert at_most([0.1], 0.5).verdict is INC
    t = at_most(values, 0.2)
    assert (t.mean, t.lo, t.hi, t.n) == pytest.approx((*mean_interval(values), 4))


def test_all_of() -> None:
    assert all_of([H, H, H]) is H
    assert all_of([H, F, INC]) is F
    assert all_of([H, INC]) is INC
    assert all_of([]) is INC


def test_most_of() -> None:
    assert most_of([H, H, INC]) is H
    assert most_of([H, H, F]) is INC              # a failure blocks 'holds'
    assert most_of([F, F, H]) is F
    assert most_of([H, INC]) is INC                 # exactly half is not more than half
    assert most_of([H, INC], share=0.4) is H
    assert most_of([]) is INC


def test_tally() -> None:
    assert tally([H, H, F, INC]) == "2 hold, 1 fail, 1 inconclusive of 4"
    assert tally([]) == "0 hold, 0 fail, 0 inconclusive of 0"


def test_from_pvalue() -> None:
    assert from_pvalue(0.001, True) is H
    assert from_pvalue(0.001, False) is F
    assert from_pvalue(0.7, True) is F
    assert from_pvalue(0.1, True) is INC
    assert from_pvalue(0.03, True, alpha=0.05) is H


def test_describe_and_record() -> None:
    t = claims.Test(H, 0.0123, 0.01, 0.0146, 3)
    assert t.describe(" pp") == "+0.0123 pp [95% CI +0.01, +0.0146], n=3"
    c = Claim("p.fig.x", "text", F, "evidence")
    assert c.record() == {"id": "p.fig.x", "text": "text", "verdict": "fails", "evidence": "evidence"}
    assert [v.value for v in Verdict] == ["holds", "fails", "inconclusive", "not run"]
    parts = Claim("p.x", "t", F, "e", parts=(("a", H, "1"), ("b", F, "2"))).record()["parts"]
    assert parts == [{"part": "a", "verdict": "holds", "evidence": "1"},
                     {"part": "b", "verdict": "fails", "evidence": "2"}]


def test_wilson_stays_inside_unit_interval() -> None:
    for k, n in [(0, 150), (1, 150), (150, 150), (75, 150), (0, 1), (1, 1)]:
        p, lo, hi = claims.wilson(k, n)
        assert 0.0 <= lo <= p <= hi <= 1.0
    p, lo, hi = claims.wilson(0, 150)
    assert lo == 0.0 and 0.02 < hi < 0.03          # 0 of 150: upper bound ~2.5%, not [0, 0]
    p, lo, hi = claims.wilson(1, 150)               # 0.7%: lower bound stays >= 0
    assert lo >= 0.0 and hi < 0.04
    # textbook value: 81 of 263 -> [0.2553, 0.3662] (Wilson 1927 / Newcombe 1998 style check)
    _, lo, hi = claims.wilson(81, 263)
    assert abs(lo - 0.2553) < 1e-3 and abs(hi - 0.3662) < 1e-3
    assert claims.wilson(0, 0)[1:] == (0.0, 1.0)
    with pytest.raises(ValueError):
        claims.wilson(3, 2)


def test_proportion_at_most() -> None:
    assert claims.proportion_at_most(0, 150, 50).verdict is H
    assert claims.proportion_at_most(140, 150, 50).verdict is F
    assert claims.proportion_at_most(75, 150, 50).verdict is INC
    t = claims.proportion_at_most(1, 150, 50)
    assert t.describe().startswith("0.7% [95% Wilson 0.1, 3.7]") and "(1/150)" in t.describe()
    assert "not run" in tally([H, Verdict.NOT_RUN])
