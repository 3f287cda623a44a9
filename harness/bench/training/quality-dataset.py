"""References for `npm run bench:quality -- --dataset <name>`: scikit-learn on the exact rows,
raw features and encoded target the TypeScript side wrote (an .npy matrix plus a JSON description).
Fits on train + validation (or train only: reference_fit), scores test; prints one JSON line per model.

HistGradientBoosting with scikit-learn's defaults (categories native, missing values as they are);
logistic regression (classification) or ridge (regression) with defaults on standardised numbers
(missing → the training mean) and one-hot categories (missing its own category).

Usage: python3 quality-dataset.py <matrix.npy> <description.json>
"""
import json
import sys
import time

try:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_absolute_error, mean_squared_error, roc_auc_score
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from quality_matrix import read_matrix
except ImportError as err:  # the benchmark installs nothing itself
    print(json.dumps({"error": f"scikit-learn is not importable ({err}); install it with: apt-get install python3-sklearn"}))
    sys.exit(3)


def metrics(kind, y, pred, k):
    if kind == "regression":
        return {"rmse": round(float(np.sqrt(mean_squared_error(y, pred))), 4), "mae": round(float(mean_absolute_error(y, pred)), 4)}
    if kind == "binary":
        p = pred[:, 1]
        return {"roc_auc": round(float(roc_auc_score(y, p)), 6), "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 6)}
    labels = list(range(k))
    label = pred.argmax(axis=1)
    out = {
        "macro_f1": round(float(f1_score(y, label, average="macro", labels=labels, zero_division=0)), 6),
        "accuracy": round(float(accuracy_score(y, label)), 6),
        "log_loss": round(float(log_loss(y, np.clip(pred, 1e-15, 1), labels=labels)), 6),
    }
    present = sorted(set(y.astype(int)))
    try:  # one-vs-rest over the classes present in test (a class absent there has no ROC curve)
        out["roc_auc"] = round(float(np.mean([roc_auc_score(y == c, pred[:, c]) for c in present])), 6)
    except ValueError:
        pass
    return out


def full_proba(model, X, k):
    """Probabilities for all k classes, also when a class never occurs in the fitting rows."""
    p = model.predict_proba(X)
    out = np.zeros((X.shape[0], k))
    out[:, model.classes_.astype(int)] = p
    return out


def main(matrix_path, desc_path):
    desc, split, y, num, cat = read_matrix(matrix_path, desc_path)
    kind = desc["kind"]
    k = len(desc["classes"]) if desc["classes"] else 2
    # The references fit train + validation by default (ours fits train, validation picks epochs and the
    # candidate); "train" gives them exactly our fitting rows.
    fit = split == 0 if desc.get("reference_fit") == "train" else split != 2
    test = split == 2

    def emit(name, started, pred, note):
        out = {"model": name, "rows_fit": int(fit.sum()), "rows_test": int(test.sum()), "fit_s": round(time.time() - started, 2)}
        out.update(metrics(kind, y[test], pred, k))
        out["params"] = note
        print(json.dumps(out), flush=True)

    t0 = time.time()
    cat_hgb = np.where(cat < 0, np.nan, cat)  # HistGradientBoosting takes a missing category as NaN
    X = np.hstack([num, cat_hgb])
    mask = [False] * num.shape[1] + [True] * cat.shape[1]
    if kind == "regression":
        hgb = HistGradientBoostingRegressor(categorical_features=mask if any(mask) else None, random_state=0).fit(X[fit], y[fit])
        emit("sklearn HistGradientBoostingRegressor", t0, hgb.predict(X[test]), "defaults, native categories")
    else:
        hgb = HistGradientBoostingClassifier(categorical_features=mask if any(mask) else None, random_state=0).fit(X[fit], y[fit])
        emit("sklearn HistGradientBoostingClassifier", t0, full_proba(hgb, X[test], k), "defaults, native categories")

    t0 = time.time()
    means = np.nanmean(num[fit], axis=0) if num.shape[1] else np.zeros(0)
    filled = np.where(np.isnan(num), means, num)
    parts = [StandardScaler().fit(filled[fit]).transform(filled)] if num.shape[1] else []
    if cat.shape[1]:
        enc = OneHotEncoder(handle_unknown="ignore").fit(cat[fit])
        parts.append(enc.transform(cat).toarray())
    Z = np.hstack(parts)
    if kind == "regression":
        lin = Ridge().fit(Z[fit], y[fit])
        emit("sklearn Ridge", t0, lin.predict(Z[test]), "alpha 1; standardised numbers (missing: mean), one-hot categories")
    else:
        lin = LogisticRegression(max_iter=5000).fit(Z[fit], y[fit])
        emit("sklearn LogisticRegression", t0, full_proba(lin, Z[test], k), "C 1; standardised numbers (missing: mean), one-hot categories")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
