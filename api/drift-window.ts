/**
 * Bounded-memory windows of recent inputs and predictions, binned against the reference profile
 * shipped in the bundle. Each slot remembers only its bin index, so the window costs a few bytes
 * per record per feature, and counts are updated incrementally (add the new bin, remove the
 * evicted one) on the request path; statistics are computed elsewhere, periodically.
 */
import type { BundleProfile } from '../core/model/bundle.ts';
import type { FeatureSpec } from '../core/model/features.ts';
import { datetimePart, type DatetimePart } from '../core/model/features.ts';
import {
  histogramBin,
  histogramBinCount,
  profiledSource,
  type CategoricalProfile,
  type NumericProfile,
} from '../core/model/profile.ts';
import type { Table } from '../core/data/table.ts';
import type { FleetDriftTrack } from '../core/drift/fleet.ts';

const MISSING = -1;

interface Track {
  name: string;
  column: string | null; // null: the model's prediction
  /** Multi-class: the class whose probability this prediction track bins (`prediction.<class>`). */
  classIndex?: number;
  part?: DatetimePart;
  kind: 'numeric' | 'categorical';
  /** numeric: histogram edges; categorical: bin of each known category value. */
  edges?: number[];
  bins?: Map<string, number>;
  /** Categories the model knows (vocabulary) — a value outside is "unseen". */
  vocabulary?: Set<string>;
  reference: number[];
  counts: Float64Array;
  /** Served values per bin since the windows began (never evicted): the fleet counters. */
  totals: Float64Array;
  ring: Int32Array;
  missing: number;
  /** Cumulative since start (exported as counters). */
  unseenTotal: number;
  outOfRangeTotal: number;
}

export interface WindowSnapshot {
  name: string;
  kind: 'numeric' | 'categorical';
  labels: string[];
  /** Numeric tracks: the reference histogram edges the counts are binned on. */
  edges?: number[];
  reference: number[];
  current: number[];
  n: number;
  missing: number;
  unseenTotal: number;
  outOfRangeTotal: number;
}

export class DriftWindows {
  private readonly tracks: Track[] = [];
  private next = 0;
  private filled = 0;

  constructor(
    readonly size: number,
    profile: BundleProfile,
    spec: FeatureSpec,
  ) {
    const vocab = new Map(
      spec.features
        .filter((f) => f.kind === 'categorical')
        .map((f) => [f.name, new Set((f as { vocabulary: string[] }).vocabulary.slice(1))]),
    );
    for (const [name, prof] of Object.entries(profile.features)) {
      const { column, part } = profiledSource(name);
      if (prof.kind === 'numeric')
        this.tracks.push({ ...this.numericTrack(name, column, prof), ...(part ? { part } : {}) });
      else this.tracks.push(this.categoricalTrack(name, column, part, prof, vocab.get(column)));
    }
    if (profile.predictions && profile.predictions.histogram.edges.length > 1)
      this.tracks.push(this.numericTrack('prediction', null, profile.predictions));
    // Multi-class: one prediction track per class, on that class's probability.
    (spec.target.classes ?? []).forEach((name, classIndex) => {
      const prof = profile.prediction_classes?.[name];
      if (prof && prof.histogram.edges.length > 1)
        this.tracks.push({ ...this.numericTrack(`prediction.${name}`, null, prof), classIndex });
    });
  }

  private numericTrack(name: string, column: string | null, prof: NumericProfile): Track {
    const k = histogramBinCount(prof.histogram.edges);
    return {
      name,
      column,
      kind: 'numeric',
      edges: prof.histogram.edges,
      reference: prof.histogram.counts,
      counts: new Float64Array(k),
      totals: new Float64Array(k),
      ring: new Int32Array(this.size).fill(MISSING),
      missing: 0,
      unseenTotal: 0,
      outOfRangeTotal: 0,
    };
  }

  private categoricalTrack(
    name: string,
    column: string,
    part: DatetimePart | undefined,
    prof: CategoricalProfile,
    vocabulary?: Set<string>,
  ): Track {
    // Date parts read best in calendar order; other categories by frequency (as profiled).
    const top = part ? [...prof.top].sort((a, b) => Number(a.value) - Number(b.value)) : prof.top;
    const bins = new Map(top.map((t, i) => [t.value, i]));
    // Bins: listed values, then "other" (known but pooled), then "unseen" (outside the vocabulary).
    const reference = [...top.map((t) => t.count), prof.other, 0];
    return {
      name,
      column,
      part,
      kind: 'categorical',
      bins,
      vocabulary,
      reference,
      counts: new Float64Array(reference.length),
      totals: new Float64Array(reference.length),
      ring: new Int32Array(this.size).fill(MISSING),
      missing: 0,
      unseenTotal: 0,
      outOfRangeTotal: 0,
    };
  }

  /** Add the valid rows of a served batch. `valid[i]` false rows (rejected requests) are skipped. */
  add(table: Table, predictions: ArrayLike<number | null>, probabilities?: ArrayLike<number[] | null>): void {
    for (let r = 0; r < table.length; r++) {
      if (predictions[r] === null) continue;
      const slot = this.next;
      this.next = (this.next + 1) % this.size;
      const evicting = this.filled === this.size;
      if (!evicting) this.filled++;
      for (const t of this.tracks) {
        if (evicting) {
          const old = t.ring[slot];
          if (old === MISSING) t.missing--;
          else t.counts[old]--;
        }
        const bin = this.binRow(
          t,
          table,
          r,
          t.classIndex === undefined ? predictions[r]! : (probabilities?.[r]?.[t.classIndex] ?? NaN),
        );
        t.ring[slot] = bin;
        if (bin === MISSING) t.missing++;
        else {
          t.counts[bin]++;
          t.totals[bin]++;
        }
      }
    }
  }

  private binRow(t: Track, table: Table, r: number, prediction: number): number {
    if (t.kind === 'numeric') {
      let v = t.column === null ? prediction : (table.columns[t.column] as { values?: Float64Array }).values?.[r];
      if (v === undefined || !Number.isFinite(v)) return MISSING;
      if (t.part) v = datetimePart(v, t.part);
      const e = t.edges!;
      if (v < e[0] || v > e[e.length - 1]) t.outOfRangeTotal++;
      return histogramBin(e, v);
    }
    const c = table.columns[t.column!];
    let value: string | null;
    if (t.part) {
      const ms = c && c.type !== 'string' ? c.values[r] : NaN;
      value = Number.isFinite(ms) ? String(datetimePart(ms, t.part)) : null;
    } else value = c && c.type === 'string' && c.codes[r] >= 0 ? c.dict[c.codes[r]] : null;
    if (value === null) return MISSING;
    const bin = t.bins!.get(value);
    if (bin !== undefined) return bin;
    if (t.vocabulary && !t.vocabulary.has(value)) {
      t.unseenTotal++;
      return t.reference.length - 1;
    }
    return t.reference.length - 2;
  }

  get length(): number {
    return this.filled;
  }

  /**
   * Every track with its served totals since the windows began, in the shape core/drift/fleet.ts
   * scores: what the API exports as counters and what a harness sums to get the fleet's figure.
   * `served` is the live array (read it, do not keep it past the next add).
   */
  fleetTracks(stds: ReadonlyMap<string, number>): FleetDriftTrack[] {
    return this.tracks.map((t) => ({
      feature: t.name,
      kind: t.kind,
      reference: t.reference,
      served: t.totals,
      ...(t.kind === 'numeric' ? { edges: t.edges, std: stds.get(t.name) ?? 1 } : {}),
    }));
  }

  snapshot(): WindowSnapshot[] {
    return this.tracks.map((t) => ({
      name: t.name,
      kind: t.kind,
      labels:
        t.kind === 'numeric'
          ? t.edges!.slice(0, -1).map((e, i) => `${fmt(e)}–${fmt(t.edges![i + 1])}`)
          : [...t.bins!.keys(), 'other', 'unseen'],
      ...(t.kind === 'numeric' ? { edges: t.edges } : {}),
      reference: t.reference,
      current: Array.from(t.counts),
      n: this.filled - t.missing,
      missing: t.missing,
      unseenTotal: t.unseenTotal,
      outOfRangeTotal: t.outOfRangeTotal,
    }));
  }
}

/** The reference std of every numeric track (and of the prediction, or of each class's probability), what fleetTracks divides widths by. */
export function referenceStds(profile: BundleProfile): Map<string, number> {
  const stds = new Map<string, number>();
  for (const [name, f] of Object.entries(profile.features)) if (f.kind === 'numeric') stds.set(name, f.std);
  if (profile.predictions) stds.set('prediction', profile.predictions.std);
  for (const [name, f] of Object.entries(profile.prediction_classes ?? {})) stds.set(`prediction.${name}`, f.std);
  return stds;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
