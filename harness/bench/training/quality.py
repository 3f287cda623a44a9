"""References for `npm run bench:quality`: scikit-learn models on the exact rows and features the
TypeScript side wrote (an .npy matrix plus a JSON description). Prints one JSON line per model.

Three references: HistGradientBoosting with scikit-learn's defaults on the integer hour (and the
parts the TypeScript side chose); the same model tuned (TUNED below, early stopping on a random
held-out part of the fitting rows) on the best raw encoding of the same inputs: the hour with its
minutes, day of week, distance, airports as native categoricals, no month (a month never seen in
training cannot be extrapolated); and logistic / ridge regression on one-hot airports.

Usage: python3 quality.py <matrix.npy> <columns.json>
"""
import json
import sys
import time

try:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error, roc_auc_score
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from scipy import sparse
except ImportError as err:  # the benchmark installs nothing itself
    print(json.dumps({"error": f"scikit-learn is not importable ({err}); install it with: apt-get install python3-sklearn"}))
    sys.exit(3)


TUNED = dict(max_iter=1000, max_leaf_nodes=63, min_samples_leaf=100, l2_regularization=1.0,
             early_stopping=True, validation_fraction=0.1, n_iter_no_change=20, random_state=0)
TUNED_NOTE = ("max_iter 1000, max_leaf_nodes 63, min_samples_leaf 100, l2 1.0, early stopping on a random 10 % of the "
              "fitting rows (20 rounds); hour with minutes, day of week, distance, native categorical airports; no month")


def main(matrix_path: str, columns_path: str) -> None:
    desc = json.load(open(columns_path))
    m = np.load(matrix_path)
    col = {name: i for i, name in enumerate(desc["columns"])}
    split = m[:, col["split"]]
    test = split == 2
    fit_rows = split != 2  # references fit on everything before the test period (train + validation)
    numeric = [c for c in desc["numeric"]]
    categorical = [c for c in desc["categorical"]]
    task = desc["task"]
    y = m[:, col["target"]]
    X = m[:, [col[c] for c in numeric + categorical]]
    cat_mask = [False] * len(numeric) + [True] * len(categorical)

    def emit(name, started, pred, extra):
        out = {"model": name, "rows_fit": int(fit_rows.sum()), "rows_test": int(test.sum()), "fit_s": round(time.time() - started, 1)}
        if task == "classification":
            out.update(roc_auc=round(float(roc_auc_score(y[test], pred)), 6), log_loss=round(float(log_loss(y[test], np.clip(pred, 1e-15, 1 - 1e-15))), 6))
        else:
            out.update(mae=round(float(mean_absolute_error(y[test], pred)), 4), rmse=round(float(np.sqrt(mean_squared_error(y[test], pred))), 4))
        out.update(extra)
        print(json.dumps(out), flush=True)

    t0 = time.time()
    if task == "classification":
        hgb = HistGradientBoostingClassifier(categorical_features=cat_mask, random_state=0)
        hgb.fit(X[fit_rows], y[fit_rows])
        emit("sklearn HistGradientBoostingClassifier", t0, hgb.predict_proba(X[test])[:, 1], {"params": "defaults, native categorical airports"})
    else:
        hgb = HistGradientBoostingRegressor(categorical_features=cat_mask, random_state=0)
        hgb.fit(X[fit_rows], y[fit_rows])
        emit("sklearn HistGradientBoostingRegressor", t0, hgb.predict(X[test]), {"params": "defaults, native categorical airports"})

    tuned_cols = desc["tuned_numeric"] + categorical
    Xt = m[:, [col[c] for c in tuned_cols]]
    tuned_mask = [False] * len(desc["tuned_numeric"]) + [True] * len(categorical)
    t0 = time.time()
    if task == "classification":
        tuned = HistGradientBoostingClassifier(categorical_features=tuned_mask, **TUNED)
        tuned.fit(Xt[fit_rows], y[fit_rows])
        emit("sklearn HistGradientBoostingClassifier tuned", t0, tuned.predict_proba(Xt[test])[:, 1], {"params": TUNED_NOTE, "iterations": int(tuned.n_iter_)})
    else:
        tuned = HistGradientBoostingRegressor(categorical_features=tuned_mask, **TUNED)
        tuned.fit(Xt[fit_rows], y[fit_rows])
        emit("sklearn HistGradientBoostingRegressor tuned", t0, tuned.predict(Xt[test]), {"params": TUNED_NOTE, "iterations": int(tuned.n_iter_)})

    t0 = time.time()
    scaler = StandardScaler().fit(X[fit_rows][:, : len(numeric)])
    onehot = OneHotEncoder(handle_unknown="ignore").fit(X[fit_rows][:, len(numeric):])
    design = lambda rows: sparse.hstack([sparse.csr_matrix(scaler.transform(X[rows][:, : len(numeric)])), onehot.transform(X[rows][:, len(numeric):])]).tocsr()
    if task == "classification":
        lr = LogisticRegression(max_iter=200)
        lr.fit(design(fit_rows), y[fit_rows])
        emit("sklearn LogisticRegression", t0, lr.predict_proba(design(test))[:, 1], {"params": "one-hot airports, standardised numeric"})
    else:
        ridge = Ridge(alpha=1.0)
        ridge.fit(design(fit_rows), y[fit_rows])
        emit("sklearn Ridge", t0, ridge.predict(design(test)), {"params": "one-hot airports, standardised numeric"})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
