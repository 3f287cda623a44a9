"""`bench:quality --parity`: scikit-learn's HistGradientBoosting with the settings the TypeScript side
used for our engine (harness/bench/training/quality-parity.ts), on the same rows and raw features, and
the metrics of both: ours from the outputs it wrote (every row, fitting rows first), so one piece of
code measures both. Prints three JSON lines: the reference, ours, and the two compared on test.

Usage: python3 quality-parity.py <matrix.npy> <description.json> <ours.npy>
"""
import json
import sys
import time

try:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import f1_score, log_loss, mean_squared_error, roc_auc_score

    from quality_matrix import read_matrix
except ImportError as err:
    print(json.dumps({"error": f"scikit-learn is not importable ({err}); install it with: apt-get install python3-sklearn"}))
    sys.exit(3)

HEADLINE = {"regression": ("rmse", False), "binary": ("roc_auc", True), "multiclass": ("macro_f1", True)}


def metrics(kind, y, pred, k):
    if kind == "regression":
        return {"rmse": float(np.sqrt(mean_squared_error(y, pred)))}
    if kind == "binary":
        p = np.clip(pred, 1e-15, 1 - 1e-15)
        return {"roc_auc": float(roc_auc_score(y, p)), "log_loss": float(log_loss(y, p, labels=[0, 1]))}
    labels = list(range(k))
    return {
        "macro_f1": float(f1_score(y, pred.argmax(axis=1), average="macro", labels=labels, zero_division=0)),
        "log_loss": float(log_loss(y, np.clip(pred, 1e-15, 1), labels=labels)),
    }


def rounded(d):
    return {key: round(v, 6) for key, v in d.items()}


def main(matrix_path, desc_path, ours_path):
    desc, split, y, num, cat = read_matrix(matrix_path, desc_path)
    ours_all = np.load(ours_path).astype(np.float64)
    kind = desc["kind"]
    k = len(desc["classes"]) if desc["classes"] else 2
    fit = split != 2
    test = split == 2
    X = np.hstack([num, np.where(cat < 0, np.nan, cat)])
    mask = [False] * num.shape[1] + [True] * cat.shape[1]
    s = desc["settings"]
    common = dict(
        learning_rate=s["learning_rate"],
        max_iter=s["max_iter"],
        max_leaf_nodes=s["max_leaf_nodes"],
        max_depth=s["max_depth"],
        min_samples_leaf=s["min_samples_leaf"],
        l2_regularization=s["l2_regularization"],
        max_bins=s["max_bins"],
        early_stopping=False,
        categorical_features=mask if any(mask) else None,
        random_state=0,
    )
    t0 = time.time()
    if kind == "regression":
        hgb = HistGradientBoostingRegressor(**common).fit(X[fit], y[fit])
        pred = hgb.predict(X)
    else:
        hgb = HistGradientBoostingClassifier(**common).fit(X[fit], y[fit])
        p = hgb.predict_proba(X)
        pred = np.zeros((X.shape[0], k))
        pred[:, hgb.classes_.astype(int)] = p
        if kind == "binary":
            pred = pred[:, 1]
    fit_s = time.time() - t0
    ours = ours_all[:, 0] if kind != "multiclass" else ours_all
    label = desc.get("label", {})
    metric, higher = HEADLINE[kind]
    out = {}
    for name, p, extra in (
        ("sklearn HistGradientBoosting", pred, {"fit_s": round(fit_s, 2), "iterations": int(hgb.n_iter_)}),
        ("ours (training/gbdt)", ours, desc.get("ours", {})),
    ):
        out[name] = {"fit": metrics(kind, y[fit], p[fit], k), "test": metrics(kind, y[test], p[test], k)}
        line = {"parity": name, **label, "rows_fit": int(fit.sum()), "rows_test": int(test.sum()), **extra}
        line["fit_rows"] = rounded(out[name]["fit"])
        line["test"] = rounded(out[name]["test"])
        print(json.dumps(line), flush=True)
    a = out["ours (training/gbdt)"]["test"][metric]
    b = out["sklearn HistGradientBoosting"]["test"][metric]
    relative = (a - b) / b if higher else (b - a) / b
    same = {"mean_abs_diff": float(np.mean(np.abs(ours[test] - pred[test])))}
    if kind == "multiclass":
        same["same_label"] = float(np.mean(ours[test].argmax(axis=1) == pred[test].argmax(axis=1)))
    print(
        json.dumps(
            {
                "parity_compare": label.get("table", "?"),
                **label,
                "metric": metric,
                "ours": round(a, 6),
                "hgb": round(b, 6),
                "relative": round(relative, 6),
                **rounded(same),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
