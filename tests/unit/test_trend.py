"""Return correlations of one series against many, against np.corrcoef pair by pair."""

import numpy as np

from axiom.analytics.trend import return_correlations


def one(a: np.ndarray, b: np.ndarray, sessions: int) -> float:
    """The plain definition: returns of the last sessions, pairwise complete, np.corrcoef."""
    if len(a) <= sessions:
        return np.nan
    ra, rb = np.diff(a[-sessions - 1 :]) / a[-sessions - 1 : -1], np.diff(b[-sessions - 1 :]) / b[-sessions - 1 : -1]
    ok = np.isfinite(ra) & np.isfinite(rb)
    if ok.sum() < 0.8 * sessions or ra[ok].std() == 0 or rb[ok].std() == 0:
        return np.nan
    return float(np.corrcoef(ra[ok], rb[ok])[0, 1])


def test_return_correlations_equal_corrcoef_per_pair():
    rng = np.random.default_rng(11)
    n, k = 130, 9
    common = rng.normal(0, 0.01, n)
    closes = 50 * np.exp(np.cumsum(common[:, None] * rng.uniform(-1, 2, k) + rng.normal(0, 0.01, (n, k)), axis=0))
    own = 80 * np.exp(np.cumsum(common + rng.normal(0, 0.005, n)))
    own[100] = np.nan  # a missing session of the subject
    closes[95:105, 1] = np.nan  # a gap: still 80% of the sessions
    closes[80:, 2] = np.nan  # too few sessions in the window
    closes[:, 3] = 7.0  # flat
    closes[-61:, 4] = np.linspace(10, 20, 61)  # returns nearly flat but not zero
    got = return_correlations(own, closes, 60)
    want = np.array([one(own, closes[:, j], 60) for j in range(k)])
    assert np.isnan(got[2]) and np.isnan(got[3]) and np.isnan(want[2]) and np.isnan(want[3])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.isfinite(got[[0, 1, 4, 5, 6, 7, 8]]).all()
    assert np.isnan(return_correlations(own[:50], closes[:50], 60)).all()  # too short a history
