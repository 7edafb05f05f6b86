"""Reference values for monitoring's arm comparison (services/monitoring/src/performance).

Pooled two-proportion z-test (as statsmodels' proportions_ztest, written out with
numpy and scipy.stats.norm) and the unpooled 95% Wald interval of the difference.
Run: python3 tools/monitoring-reference/generate.py > services/monitoring/src/performance/arm-comparison.scipy.json
"""
import json

import numpy as np
from scipy import stats

CASES = [
    {"a": [430, 500], "b": [400, 500]},
    {"a": [87, 120], "b": [1702, 2000]},
    {"a": [50, 100], "b": [52, 100]},
    {"a": [9990, 10000], "b": [9950, 10000]},
]

out = []
for c in CASES:
    (xa, na), (xb, nb) = c["a"], c["b"]
    pa, pb = xa / na, xb / nb
    pooled = (xa + xb) / (na + nb)
    se = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    z = (pa - pb) / se
    p = 2 * stats.norm.sf(abs(z))
    q = stats.norm.ppf(0.975)
    se_diff = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    out.append({
        "a": c["a"], "b": c["b"],
        "difference": pa - pb, "z": float(z), "pValue": float(p),
        "interval": [float(pa - pb - q * se_diff), float(pa - pb + q * se_diff)],
    })
print(json.dumps({"generator": "tools/monitoring-reference/generate.py", "scipy": __import__("scipy").__version__, "cases": out}, indent=2))
