#!/usr/bin/env python3
"""Reference values for libs/ml/src/drift, computed with numpy and scipy.

    python3 tools/drift-reference/generate.py   # rewrites tools/drift-reference/fixtures.json

Deterministic (numpy's PCG64 with fixed seeds). Evidently is not installed here, so its
wrappers around scipy are re-implemented below in a few lines each, named after the
Evidently function they mirror (evidently/legacy/calculations/stattests/*.py and
evidently/legacy/calculations/data_drift.py `_get_default_stattest`). pandas is not
needed: a pandas Series' value_counts/nunique/dropna are done with numpy/Counter.

Non-finite floats are written as the strings "inf", "-inf" and "nan" (JSON has no literal).
"""
import json
import math
import os
import platform
import sys
from collections import Counter

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures.json')


# ---------------------------------------------------------------- Evidently wrappers

def keys_of(ref, cur):
    """get_unique_not_nan_values_list_from_series"""
    return list(set(ref) | set(cur))


def chi_stat_test(ref, cur):
    """chisquare_stattest._chi_stat_test (returns statistic too)"""
    keys = keys_of(ref, cur)
    rc, cc = Counter(ref), Counter(cur)
    k_norm = len(cur) / len(ref)
    f_exp = [rc.get(k, 0) * k_norm for k in keys]
    f_obs = [cc.get(k, 0) for k in keys]
    with np.errstate(divide='ignore', invalid='ignore'):
        res = stats.chisquare(f_obs, f_exp)
    return float(res.statistic), float(res.pvalue)


def z_stat_test(ref, cur):
    """z_stattest._z_stat_test with proportions_diff_z_stat_ind / proportions_diff_z_test"""
    if len(set(ref)) == 1 and len(set(cur)) == 1 and ref[0] == cur[0]:
        return 0.0, 1.0
    keys = sorted(keys_of(ref, cur))
    r = np.array([0 if x == keys[0] else 1 for x in ref])
    c = np.array([0 if x == keys[0] else 1 for x in cur])
    n1, n2 = len(r), len(c)
    p1 = float(sum(r)) / n1
    p2 = float(sum(c)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - stats.norm.cdf(np.abs(z))))


def wasserstein_distance_norm(ref, cur):
    """wasserstein_distance_norm._wasserstein_distance_norm (np.std of a Series is ddof=0)"""
    norm = max(np.std(ref), 0.001)
    return float(stats.wasserstein_distance(ref, cur) / norm)


def get_binned_data(ref, cur, numerical, feel_zeroes=True):
    """utils.get_binned_data (n is unused there: bins='sturges')"""
    ref = np.asarray(ref)
    cur = np.asarray(cur)
    if numerical and len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins='sturges')
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = keys_of(ref.tolist(), cur.tolist())
        rc, cc = Counter(ref.tolist()), Counter(cur.tolist())
        rp = np.array([rc.get(k, 0) / len(ref) for k in keys])
        cp = np.array([cc.get(k, 0) / len(cur) for k in keys])
    if feel_zeroes:
        for a in (rp, cp):
            m = min(a[a != 0])
            np.place(a, a == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return rp, cp


def psi(ref, cur, numerical):
    """psi._psi"""
    rp, cp = get_binned_data(ref, cur, numerical)
    return float(np.sum((rp - cp) * np.log(rp / cp)))


def kl_div(ref, cur, numerical):
    """kl_div._kl_div"""
    rp, cp = get_binned_data(ref, cur, numerical)
    return float(stats.entropy(rp, cp))


def jensenshannon(ref, cur, numerical):
    """jensenshannon._jensenshannon"""
    rp, cp = get_binned_data(ref, cur, numerical, False)
    return float(distance.jensenshannon(rp, cp))


def hellinger(ref, cur, numerical):
    """hellinger_distance._hellinger_distance"""
    keys = keys_of(list(ref), list(cur))
    if not numerical:
        rc, cc = Counter(ref), Counter(cur)
        h = 0.0
        for k in keys:
            h += math.sqrt(rc.get(k, 0) / len(ref) * cc.get(k, 0) / len(cur))
        return math.sqrt(1 - float(np.clip(h, 0, 1)))
    bins = np.histogram_bin_edges(keys, bins='sturges')
    h1 = np.histogram(np.asarray(ref), bins=bins, density=True)[0]
    h2 = np.histogram(np.asarray(cur), bins=bins, density=True)[0]
    bin_width = (max(bins) - min(bins)) / (len(bins) - 1)
    h = 0.0
    for i in range(len(h1)):
        h += math.sqrt(h1[i] * h2[i]) * bin_width
    return math.sqrt(1 - float(np.clip(h, 0, 1)))


def anderson(ref, cur):
    """anderson_darling_stattest._anderson_darling (midrank, the capped p-value)"""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        r = stats.anderson_ksamp([np.asarray(ref), np.asarray(cur)])
    return float(r.statistic), float(r.pvalue)


def default_stattest(ref, cur, numerical):
    """data_drift / registry._get_default_stattest"""
    n_values = len(set(ref) | set(cur))
    if len(ref) <= 1000:
        if numerical:
            if n_values <= 5:
                return 'chisquare' if n_values > 2 else 'ztest'
            return 'ks'
        return 'chisquare' if n_values > 2 else 'ztest'
    if numerical:
        return 'jensenshannon' if n_values <= 5 else 'wasserstein'
    return 'jensenshannon'


DEFAULT_THRESHOLDS = {'ks': 0.05, 'chisquare': 0.05, 'ztest': 0.05, 'anderson': 0.1, 'wasserstein': 0.1,
                      'jensenshannon': 0.1, 'psi': 0.1, 'kl': 0.1, 'hellinger': 0.1}


def drifted(method, statistic, pvalue, threshold):
    if method == 'ks':
        return pvalue <= threshold
    if method in ('chisquare', 'ztest', 'anderson'):
        return pvalue < threshold
    return statistic >= threshold


# ---------------------------------------------------------------- helpers

def enc(x):
    if isinstance(x, (list, tuple)):
        return [enc(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return 'nan'
        if math.isinf(x):
            return 'inf' if x > 0 else '-inf'
        return x
    return x


def all_methods(ref, cur, numerical):
    out = {}
    if numerical:
        r = stats.ks_2samp(ref, cur)
        out['ks'] = {'statistic': float(r.statistic), 'pValue': float(r.pvalue),
                     'exact': max(len(ref), len(cur)) <= 10000}
        s, p = anderson(ref, cur)
        out['anderson'] = {'statistic': s, 'pValue': p}
        out['wasserstein'] = {'statistic': wasserstein_distance_norm(np.asarray(ref), np.asarray(cur)), 'pValue': None}
    if not numerical or len(set(ref) | set(cur)) <= 30:
        s, p = chi_stat_test(list(ref), list(cur))
        out['chisquare'] = {'statistic': s, 'pValue': p}
        s, p = z_stat_test(list(ref), list(cur))
        out['ztest'] = {'statistic': s, 'pValue': p}
    out['jensenshannon'] = {'statistic': jensenshannon(ref, cur, numerical), 'pValue': None}
    out['psi'] = {'statistic': psi(ref, cur, numerical), 'pValue': None}
    out['kl'] = {'statistic': kl_div(ref, cur, numerical), 'pValue': None}
    out['hellinger'] = {'statistic': hellinger(ref, cur, numerical), 'pValue': None}
    return {k: {kk: enc(vv) for kk, vv in v.items()} for k, v in out.items()}


SAMPLES = {}


def shared(values):
    """Long samples are stored once under `samples` and referenced by name."""
    if len(values) < 5000:
        return enc(values)
    for name, v in SAMPLES.items():
        if v is values:
            return name
    name = f's{len(SAMPLES)}'
    SAMPLES[name] = values
    return name


def case(cid, ref, cur, numerical, note, stored=None):
    ref_in, cur_in = ref, cur
    ref = list(ref)
    cur = list(cur)
    methods = all_methods(ref, cur, numerical)
    d = default_stattest(ref, cur, numerical)
    exp = methods[d]
    thr = DEFAULT_THRESHOLDS[d]
    return {
        'id': cid, 'note': note, 'kind': 'numeric' if numerical else 'categorical',
        'reference': stored[0] if stored else shared(ref_in), 'current': stored[1] if stored else shared(cur_in),
        'methods': methods,
        'default': {'method': d, 'threshold': thr,
                    'drifted': bool(drifted(d, exp['statistic'], exp['pValue'], thr))},
    }


def weyl_normal(n, s1, s2, mean=0.0, sd=1.0, lognormal=False):
    """Normal (or lognormal) values by Box-Muller on two Weyl sequences: a formula, so the
    spec rebuilds the same values from these parameters instead of storing 150 000 numbers."""
    a1 = (math.sqrt(5.0) - 1.0) / 2.0
    a2 = math.sqrt(2.0) - 1.0
    out = []
    for i in range(n):
        u = max(((i + 0.5) * a1 + s1) % 1.0, 2.0 ** -53)
        v = ((i + 0.5) * a2 + s2) % 1.0
        x = mean + sd * (math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v))
        out.append(math.exp(x) if lognormal else x)
    return out


def generated_case(cid, ref_spec, cur_spec, note):
    """A numeric case whose samples are weyl_normal(**spec), stored as their parameters."""
    return case(cid, weyl_normal(**ref_spec), weyl_normal(**cur_spec), True, note, ({'weyl': ref_spec}, {'weyl': cur_spec}))


def r4(a):
    return [round(float(x), 4) for x in a]


def main():
    rng = np.random.default_rng(20240615)
    cases = []
    # --- KS exact: tiny samples, equal and unequal sizes, ties
    cases.append(case('ks-tiny-equal', [0.1, 0.5, 0.9, 1.3, 2.2], [0.4, 1.1, 1.9, 2.5, 3.0], True, 'n1 = n2 = 5, exact (square)'))
    cases.append(case('ks-tiny-unequal', [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [3.5, 6.5, 8.0], True, '7 vs 3, exact (inside method)'))
    cases.append(case('ks-separated', list(range(1, 9)), list(range(20, 26)), True, 'no overlap: D = 1'))
    cases.append(case('ks-identical', [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], True, 'D = 0, p = 1'))
    cases.append(case('ks-ties', r4(rng.integers(0, 8, 40)), r4(rng.integers(1, 9, 33)), True, 'integer ties, 40 vs 33'))
    cases.append(case('ks-small-normal', r4(rng.normal(0, 1, 60)), r4(rng.normal(0.3, 1.2, 45)), True, '60 vs 45 normals'))
    cases.append(case('ks-equal-300', r4(rng.normal(0, 1, 300)), r4(rng.normal(0.1, 1, 300)), True, '300 vs 300: square method'))
    cases.append(case('ks-coprime', r4(rng.normal(0, 1, 997)), r4(rng.normal(0.05, 1, 1009)), True, 'coprime sizes 997 vs 1009: lcm ~1e6'))
    cases.append(case('ks-shifted', r4(rng.normal(0, 1, 800)), r4(rng.normal(0.6, 1, 650)), True, 'strong shift: tiny exact p'))
    cases.append(case('ks-float-ref', rng.normal(5, 2, 200).tolist(), rng.normal(5, 2, 150).tolist(), True, 'full-precision floats'))
    # --- KS asymptotic: max(n1, n2) > 10000 (kstwo.sf branches by round(n1 n2 / (n1 + n2)))
    big = [round(float(x), 3) for x in rng.normal(0, 1, 12000)]
    cases.append(case('ks-asymp-small-vs-big', r4(rng.normal(0.2, 1, 60)), big, True, '60 vs 12000: kstwo n = 60 (n <= 140 branches)'))
    cases.append(case('ks-asymp-medium', r4(rng.normal(0.05, 1, 900)), big, True, '900 vs 12000: kstwo n = 837'))
    cases.append(case('ks-asymp-shift', r4(rng.normal(0.5, 1, 900)), big, True, '900 vs 12000 shifted: smirnov branch'))
    cases.append(case('ks-asymp-both-big', [round(float(x), 3) for x in rng.normal(0.01, 1, 10500)], big, True, '10500 vs 12000, reference > 1000'))
    # --- numeric with few unique values (chi-squared / Z by default)
    cases.append(case('num-3-values', rng.integers(0, 3, 200).astype(float).tolist(), rng.integers(0, 3, 150).astype(float).tolist(), True, '3 unique: chi-squared'))
    cases.append(case('num-binary', rng.integers(0, 2, 300).astype(float).tolist(), (rng.random(250) < 0.62).astype(float).tolist(), True, 'binary: Z-test'))
    cases.append(case('num-5-values-shift', rng.integers(0, 5, 400).astype(float).tolist(), rng.integers(1, 6, 300).astype(float).tolist(), True, '6 unique together: KS'))
    cases.append(case('num-15-values-big', rng.integers(0, 15, 3000).astype(float).tolist(), rng.integers(0, 16, 2500).astype(float).tolist(), True, '> 1000 rows, 16 unique: Wasserstein; binned by value counts (<= 20 unique)'))
    cases.append(case('num-4-values-big', rng.integers(0, 4, 2000).astype(float).tolist(), rng.integers(0, 4, 1500).astype(float).tolist(), True, '> 1000 rows, 4 unique: Jensen-Shannon'))
    # --- numeric, large reference (Wasserstein by default; histogram binning for JS/PSI/KL)
    cases.append(case('num-large-same', r4(rng.normal(10, 3, 3000)), r4(rng.normal(10, 3, 2000)), True, 'no drift, 3000 vs 2000'))
    cases.append(case('num-large-shift', r4(rng.normal(10, 3, 3000)), r4(rng.normal(11, 3.5, 2000)), True, 'drift, 3000 vs 2000'))
    cases.append(case('num-large-skew', r4(rng.lognormal(0, 1, 2500)), r4(rng.lognormal(0.1, 1.1, 1800)), True, 'skewed, empty histogram bins'))
    cases.append(case('num-constant-ref', [3.0] * 1200, r4(rng.normal(3, 0.5, 900)), True, 'constant reference: std floor 0.001'))
    # --- windows above 100 000 values: Wasserstein from the grid (within its stated bound), the rest exact
    cases.append(generated_case('window-150k', {'n': 5000, 's1': 0.1, 's2': 0.7, 'mean': 10.0, 'sd': 2.0},
                                {'n': 150000, 's1': 0.35, 's2': 0.2, 'mean': 10.1, 'sd': 2.1}, '5000 vs 150 000 normals'))
    cases.append(generated_case('window-150k-lognormal', {'n': 4000, 's1': 0.6, 's2': 0.3, 'lognormal': True},
                                {'n': 150000, 's1': 0.05, 's2': 0.9, 'mean': 0.03, 'lognormal': True}, '4000 vs 150 000 lognormals'))
    # --- categorical
    cats = ['a', 'b', 'c', 'd']
    cases.append(case('cat-small', rng.choice(cats, 300, p=[0.4, 0.3, 0.2, 0.1]).tolist(), rng.choice(cats, 200, p=[0.35, 0.3, 0.2, 0.15]).tolist(), False, 'chi-squared'))
    cases.append(case('cat-small-drift', rng.choice(cats, 300, p=[0.4, 0.3, 0.2, 0.1]).tolist(), rng.choice(cats, 200, p=[0.1, 0.2, 0.3, 0.4]).tolist(), False, 'chi-squared, drift'))
    cases.append(case('cat-unseen', rng.choice(cats, 300).tolist(), rng.choice(cats + ['e'], 250).tolist(), False, "unseen category 'e' in current: chi2 = inf, p = 0"))
    cases.append(case('cat-missing-in-current', rng.choice(cats, 300).tolist(), rng.choice(cats[:3], 250).tolist(), False, "'d' absent from current"))
    cases.append(case('cat-binary', rng.choice(['no', 'yes'], 500, p=[0.7, 0.3]).tolist(), rng.choice(['no', 'yes'], 400, p=[0.6, 0.4]).tolist(), False, 'binary: Z-test'))
    cases.append(case('cat-one-value', ['x'] * 50, ['x'] * 40, False, 'one value in both: Z p = 1'))
    many = [f'c{i:02d}' for i in range(40)]
    cases.append(case('cat-large', rng.choice(many, 5000).tolist(), rng.choice(many, 3000, p=np.linspace(1, 2, 40) / np.linspace(1, 2, 40).sum()).tolist(), False, '> 1000 rows: Jensen-Shannon'))
    cases.append(case('cat-large-unseen', rng.choice(many[:30], 2000).tolist(), rng.choice(many, 1500).tolist(), False, '> 1000 rows with unseen values'))

    # --- special functions directly
    kstwo = []
    for n, x in [(5, 0.15), (5, 0.35), (5, 0.7), (10, 0.08), (10, 0.3), (37, 0.06), (37, 0.11), (37, 0.2), (37, 0.4), (60, 0.1), (60, 0.15),
                 (60, 0.3), (60, 0.55), (140, 0.05), (140, 0.12), (141, 0.05), (141, 0.2), (500, 0.01), (500, 0.03), (500, 0.05),
                 (500, 0.1), (837, 0.02), (837, 0.04), (5000, 0.005), (5000, 0.012), (5000, 0.03), (20000, 0.004), (20000, 0.015),
                 (150000, 0.002), (150000, 0.004), (600000, 0.001), (600000, 0.0025), (3, 0.9), (200, 0.996)]:
        kstwo.append({'n': n, 'x': x, 'sf': enc(stats.kstwo.sf(x, n))})
    chi2 = []
    for x, k in [(0.5, 1), (3.84, 1), (10.0, 1), (1.0, 2), (7.8, 3), (30.0, 3), (0.2, 4), (80.0, 4), (45.0, 39), (60.0, 39),
                 (150.0, 39), (1000.0, 29), (0.01, 10), (250.0, 200), (320.0, 200), (12000.0, 10000), (9000.0, 10000),
                 # statistic > 2000: stdlib's large-x branch, and special.ts's fallback past 100 df
                 (2500.0, 100), (2100.0, 300), (2081.5, 2000), (2500.0, 2000), (4999.3, 5000), (5500.0, 5000), (30500.0, 30000)]:
        chi2.append({'x': x, 'k': k, 'sf': enc(stats.chi2.sf(x, k))})
    ndtr = [{'x': x, 'cdf': enc(stats.norm.cdf(x))} for x in [-40.0, -9.0, -5.5, -2.0, -0.7, -0.1, 0.0, 0.3, 0.9, 1.2, 1.96, 3.5, 6.0, 8.2]]
    smirnov = [{'n': n, 'x': x, 'sf': enc(scipy.special.smirnov(n, x))} for n, x in [(10, 0.3), (60, 0.55), (200, 0.2), (837, 0.1), (5000, 0.03), (20000, 0.02)]]

    out = {
        'generator': 'tools/drift-reference/generate.py',
        'versions': {'python': platform.python_version(), 'numpy': np.__version__, 'scipy': scipy.__version__},
        'samples': {k: enc(list(v)) for k, v in SAMPLES.items()},
        'cases': cases,
        'kstwo': kstwo,
        'chi2': chi2,
        'ndtr': ndtr,
        'smirnov': smirnov,
    }
    with open(OUT, 'w') as f:
        json.dump(out, f, separators=(',', ':'), allow_nan=False)
        f.write('\n')
    print(f'wrote {OUT}: {len(cases)} cases, {os.path.getsize(OUT)} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
