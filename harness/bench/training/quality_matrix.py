"""The matrix the quality benches hand to scikit-learn (harness/bench/training/quality-data.ts
referenceMatrix): its description, and its columns as the scripts read them. Shared by
quality-dataset.py and quality-parity.py (Python puts the running script's folder on sys.path)."""
import json

import numpy as np


def read_matrix(matrix_path, desc_path):
    """desc, the split codes (0 train, 1 validation, 2 test), the target
    (integers for a classifier), the numeric columns and the categorical codes (-1: missing)."""
    desc = json.load(open(desc_path))
    m = np.load(matrix_path).astype(np.float64)
    col = {name: i for i, name in enumerate(desc["columns"])}
    split = m[:, col["split"]]
    y = m[:, col["target"]]
    if desc["kind"] != "regression":
        y = y.astype(int)
    num = m[:, [col[c] for c in desc["numeric"]]]
    cat = m[:, [col[c] for c in desc["categorical"]]]
    return desc, split, y, num, cat
