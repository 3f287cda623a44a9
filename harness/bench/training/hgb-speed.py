"""Speed reference for `npm run bench:train -- --sklearn`: scikit-learn's HistGradientBoosting fit
on the exact rows the TypeScript trees were boosted on (their bin codes, bin 0 as missing; the
airports as native categories), with the candidate's settings and its iteration count, early
stopping off. Prints one JSON line: fit seconds, CPU seconds (all threads), ms per iteration.

Usage: python3 hgb-speed.py <matrix.npy> <description.json>   (OMP_NUM_THREADS sets its threads)
"""
import json
import sys
import time

try:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
except ImportError as err:  # the benchmark installs nothing itself
    print(json.dumps({"error": f"scikit-learn is not importable ({err}); install it with: apt-get install python3-sklearn"}))
    sys.exit(3)


def main(matrix_path, desc_path):
    desc = json.load(open(desc_path))
    m = np.load(matrix_path).astype(np.float64)
    X, y = m[:, :-1], m[:, -1]
    X[X == 0] = np.nan
    settings = dict(
        max_iter=desc["iterations"],
        learning_rate=desc["learning_rate"],
        max_leaf_nodes=desc["max_leaf_nodes"],
        max_depth=desc["max_depth"] or None,
        min_samples_leaf=desc["min_samples_leaf"],
        l2_regularization=desc["l2_regularization"],
        categorical_features=desc["categorical"],
        early_stopping=False,
        random_state=0,
    )
    model = HistGradientBoostingRegressor(**settings) if desc["task"] == "regression" else HistGradientBoostingClassifier(**settings)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model.fit(X, y)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    it = int(model.n_iter_)
    print(json.dumps({
        "model": type(model).__name__,
        "rows": int(X.shape[0]),
        "iterations": it,
        "fit_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "ms_per_iteration": round(1000 * wall / it, 1),
        "rows_per_s": round(X.shape[0] * it / wall),
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
