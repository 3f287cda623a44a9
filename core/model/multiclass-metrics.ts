/**
 * Multi-class quality: labels are class indices 0..k−1, probabilities a row-major n × k matrix
 * (one row per record, summing to 1). The definitions follow scikit-learn's (accuracy_score,
 * f1_score average='macro', log_loss, roc_auc_score multi_class='ovr' average='macro',
 * precision/recall per class with 0 for a class never predicted), so figures compare with it.
 * Calibration is temperature scaling (softmax(log p / T), one parameter fitted on validation, which
 * keeps every row's ranking and hence the predicted label) and the top-label ECE.
 */
import { rocAuc } from './quality-metrics.ts';

type Numbers = ArrayLike<number>;

/** The index of each row's largest probability (the first on ties). */
export function argmaxRows(p: Numbers, k: number): Int32Array {
  const n = p.length / k;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[r * k + c] > p[r * k + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** counts[actual][predicted]. */
export function confusionMatrix(y: Numbers, predicted: Numbers, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < y.length; i++) m[y[i]][predicted[i]]++;
  return m;
}

export interface ClassQuality {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Precision, recall and F1 of each class against the rest (0 where undefined, as scikit-learn's zero_division). */
export function perClass(m: number[][]): ClassQuality[] {
  const k = m.length;
  return m.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((s, v) => s + v, 0);
    let predicted = 0;
    for (let a = 0; a < k; a++) predicted += m[a][c];
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

export function multiclassAccuracy(y: Numbers, predicted: Numbers): number {
  let hit = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === predicted[i]) hit++;
  return y.length ? hit / y.length : NaN;
}

/** Mean F1 over the classes present in y or predicted (scikit-learn's labels=None). */
export function macroF1(y: Numbers, predicted: Numbers, k: number): number {
  const q = perClass(confusionMatrix(y, predicted, k));
  const present = q.filter((c, i) => c.support > 0 || Array.prototype.includes.call(predicted, i));
  return present.length ? present.reduce((s, c) => s + c.f1, 0) / present.length : NaN;
}

/** Mean −log p(actual class), probabilities clipped to [eps, 1 − eps]. */
export function multiclassLogLoss(y: Numbers, p: Numbers, k: number, eps = 1e-15): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s -= Math.log(Math.min(1 - eps, Math.max(eps, p[i * k + y[i]])));
  return y.length ? s / y.length : NaN;
}

/** Macro one-vs-rest ROC-AUC over the classes with both positives and negatives in y. */
export function macroRocAuc(y: Numbers, p: Numbers, k: number): number {
  const n = y.length;
  const aucs: number[] = [];
  for (let c = 0; c < k; c++) {
    const yc = new Float64Array(n);
    const pc = new Float64Array(n);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      yc[i] = y[i] === c ? 1 : 0;
      pos += yc[i];
      pc[i] = p[i * k + c];
    }
    if (pos > 0 && pos < n) aucs.push(rocAuc(yc, pc));
  }
  return aucs.length ? aucs.reduce((s, v) => s + v, 0) / aucs.length : NaN;
}

/** Top-label expected calibration error: |accuracy − mean confidence| of the predicted class, over equal-width confidence bins. */
export function topLabelEce(y: Numbers, p: Numbers, k: number, bins = 10): number {
  const n = y.length;
  const conf = new Float64Array(bins);
  const hit = new Float64Array(bins);
  const count = new Float64Array(bins);
  const predicted = argmaxRows(p, k);
  for (let i = 0; i < n; i++) {
    const c = p[i * k + predicted[i]];
    const b = Math.min(bins - 1, Math.floor(c * bins));
    conf[b] += c;
    hit[b] += predicted[i] === y[i] ? 1 : 0;
    count[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += Math.abs(hit[b] - conf[b]) / (n || 1);
  return ece;
}

/** softmax(log p / T) per row: temperature scaling applied to probabilities (equal to scaling the logits). */
export function applyTemperature(p: Numbers, k: number, temperature: number): Float32Array {
  const out = new Float32Array(p.length);
  const row = new Float64Array(k);
  for (let r = 0; r < p.length / k; r++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      row[c] = Math.log(Math.max(p[r * k + c], 1e-30)) / temperature;
      if (row[c] > max) max = row[c];
    }
    let sum = 0;
    for (let c = 0; c < k; c++) sum += row[c] = Math.exp(row[c] - max);
    for (let c = 0; c < k; c++) out[r * k + c] = row[c] / sum;
  }
  return out;
}

/** The temperature minimising validation log loss (golden-section search on log T in [−3, 3]; T = 1 is no change). */
export function fitTemperature(y: Numbers, p: Numbers, k: number): number {
  const loss = (logT: number) => multiclassLogLoss(y, applyTemperature(p, k, Math.exp(logT)), k);
  let a = -3,
    b = 3;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a),
    d = a + g * (b - a);
  let fc = loss(c),
    fd = loss(d);
  for (let it = 0; it < 40; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = loss(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = loss(d);
    }
  }
  const t = Math.exp((a + b) / 2);
  return loss(Math.log(t)) <= loss(0) ? t : 1;
}

/** Every multi-class figure of a model: headline metrics (DVC-visible numbers) and per-class quality keyed by class name. */
export function multiclassMetrics(y: Numbers, p: Numbers, classes: readonly string[]) {
  const k = classes.length;
  const predicted = argmaxRows(p, k);
  const q = perClass(confusionMatrix(y, predicted, k));
  return {
    accuracy: multiclassAccuracy(y, predicted),
    macro_f1: macroF1(y, predicted, k),
    log_loss: multiclassLogLoss(y, p, k),
    roc_auc: macroRocAuc(y, p, k),
    ece: topLabelEce(y, p, k),
    per_class: Object.fromEntries(classes.map((name, c) => [name, q[c]])),
  };
}

/** The value of a primary metric (macro_f1, accuracy, log_loss, roc_auc) for multi-class outputs. */
export function multiclassMetricValue(metric: string, y: Numbers, p: Numbers, k: number): number {
  if (metric === 'log_loss') return multiclassLogLoss(y, p, k);
  if (metric === 'roc_auc') return macroRocAuc(y, p, k);
  const predicted = argmaxRows(p, k);
  if (metric === 'accuracy') return multiclassAccuracy(y, predicted);
  if (metric === 'macro_f1') return macroF1(y, predicted, k);
  throw new Error(`${metric} is no multi-class metric; use macro_f1, accuracy, log_loss or roc_auc`);
}

/** Class frequencies of y (the class-prior baseline's probabilities). */
export function classPriors(y: Numbers, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  return counts.map((c) => c / (y.length || 1));
}

/**
 * The baselines every multi-class model must beat, from the training labels: `majority_class`
 * (always the most frequent class: its accuracy and macro-F1) and `class_prior` (the training class
 * frequencies as probabilities for every row: its log loss, ROC-AUC 0.5, ECE).
 */
export function multiclassBaselines(
  yTrain: Numbers | { priors: number[] },
  yTest: Numbers,
  classes: readonly string[],
) {
  const k = classes.length;
  // The priors alone (from counts taken a row group at a time) stand for the training labels.
  const priors = 'priors' in yTrain ? yTrain.priors : classPriors(yTrain, k);
  const majority = priors.indexOf(Math.max(...priors));
  const n = yTest.length;
  const prior = new Float32Array(n * k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) prior[r * k + c] = priors[c];
  const oneHot = new Float32Array(n * k);
  for (let r = 0; r < n; r++) oneHot[r * k + majority] = 1;
  const m = multiclassMetrics(yTest, oneHot, classes);
  const pr = multiclassMetrics(yTest, prior, classes);
  return {
    majority_class: { class: classes[majority], accuracy: m.accuracy, macro_f1: m.macro_f1 },
    class_prior: { log_loss: pr.log_loss, roc_auc: pr.roc_auc, ece: pr.ece },
  };
}
