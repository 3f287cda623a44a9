/**
 * Whether a served model's outputs stay finite on real traffic. The golden examples cannot tell
 * (one airport's NaN embedding row passes them), so every served row's outcome goes into a window
 * of the last WINDOW_ROWS rows, and the model is judged unfit when at least MIN_FAILED of them —
 * and at least MAX_FAILED_SHARE of the window — had no finite output.
 *
 * Why a share over a window and not N consecutive failures: consecutive failures miss an input
 * that is a few percent of traffic interleaved with good rows (the airport case never fails twice
 * in a row), yet one client can produce them in one burst. The share is what users feel, and
 * 0.5 % is five times the 0.1 % the 99.9 % availability SLO allows (infra/monitoring/slo.ts), so
 * a model past it spends the error budget on its own. MIN_FAILED keeps a single odd record (and a
 * client's couple of retries of it) from taking a pod out of service, and a pod that has served
 * few rows from judging on them alone. The window counts rows, not seconds: an unready pod gets no
 * traffic, so a time window would forget the failures and flap; recovery is a reload instead (the
 * manager replays the failing inputs kept here against the fresh copy).
 */

export const WINDOW_ROWS = 10_000;
export const MIN_FAILED = 5;
export const MAX_FAILED_SHARE = 0.005;
/** Failing inputs kept to replay against a reloaded copy (a few: they may be large records). */
export const KEPT_FAILURES = 8;

export class OutputHealth {
  private readonly ring = new Uint8Array(WINDOW_ROWS);
  private next = 0;
  private filled = 0;
  /** Failed rows in the window. */
  failed = 0;
  /** The latest inputs that failed, newest last. */
  readonly failures: unknown[] = [];

  /** Record a served batch of `rows` rows whose inputs `failedRecords` (a subset) had no finite output. */
  record(rows: number, failedRecords: readonly unknown[]): void {
    let bad = failedRecords.length;
    // Failed rows are spread over the batch's slots; their order inside one batch does not matter.
    for (let i = 0; i < rows; i++) {
      const v = bad > 0 ? 1 : 0;
      if (v) bad--;
      if (this.filled === WINDOW_ROWS) this.failed -= this.ring[this.next];
      else this.filled++;
      this.ring[this.next] = v;
      this.failed += v;
      this.next = (this.next + 1) % WINDOW_ROWS;
    }
    for (const r of failedRecords.slice(-KEPT_FAILURES)) this.failures.push(r);
    if (this.failures.length > KEPT_FAILURES) this.failures.splice(0, this.failures.length - KEPT_FAILURES);
  }

  /** Rows in the window. */
  get rows(): number {
    return this.filled;
  }

  /** Why the model is unfit to serve, or null. */
  verdict(): string | null {
    if (this.failed < MIN_FAILED || this.failed < MAX_FAILED_SHARE * this.filled) return null;
    return `${this.failed} of the last ${this.filled} served rows had no finite output (NaN or ±Infinity; the bound is ${MIN_FAILED} rows and ${MAX_FAILED_SHARE * 100} % of the last ${WINDOW_ROWS})`;
  }
}
