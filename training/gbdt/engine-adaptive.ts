/**
 * The gbdt engine's choice, per kind of pass (their costs per row differ), between sharing a big
 * pass with the worker threads and running it on the calling thread. On a machine busy with other
 * work a woken worker can wait milliseconds for a core, and sharing then costs more than it saves:
 * big passes alternate between probes (PROBE shared, PROBE on the calling thread, timed per row)
 * and a run of KEEP passes the faster way. The trees are the same either way.
 */

/** Big passes timed each way before choosing, and passes run the chosen way before probing again. */
export const PROBE = 8;
export const KEEP = 200;

/** One kind of pass's probes: where in its cycle it is, and ms and rows timed each way. */
interface Probe {
  phase: number;
  inPhase: number;
  ms: [number, number];
  rows: [number, number];
  useParallel: boolean;
}

export class AdaptiveSharing {
  private readonly probes = new Map<number, Probe>();

  /** Whether the next big pass of `kind` is shared: while probing that way, or when sharing was the faster. */
  shares(kind: number): boolean {
    const p = this.probe(kind);
    return p.phase === 0 || (p.phase === 2 && p.useParallel);
  }

  /** The time of a big pass of `kind`, run the way shares() said. */
  record(kind: number, ms: number, rows: number): void {
    const p = this.probe(kind);
    if (p.phase < 2) {
      p.ms[p.phase] += ms;
      p.rows[p.phase] += rows;
    }
    if (++p.inPhase < (p.phase === 2 ? KEEP : PROBE)) return;
    p.inPhase = 0;
    if (p.phase === 1) {
      p.useParallel = p.ms[0] / Math.max(1, p.rows[0]) < p.ms[1] / Math.max(1, p.rows[1]);
      p.ms = [0, 0];
      p.rows = [0, 0];
    }
    p.phase = (p.phase + 1) % 3;
  }

  private probe(kind: number): Probe {
    let p = this.probes.get(kind);
    if (!p) this.probes.set(kind, (p = { phase: 0, inPhase: 0, ms: [0, 0], rows: [0, 0], useParallel: true }));
    return p;
  }
}
