/**
 * The recurrence rule of a feature cross (`min_days` in params.yaml): a combination is kept only
 * when it occurs on at least that many distinct days of the time column. A cross with a fine time
 * part (route × minute of day) otherwise admits combinations that happened on one date only (a
 * diverted or rescheduled flight, repeated rows of one day): the model would learn that date, not
 * a recurring event, and carry it into the future.
 */
const DAY_MS = 86_400_000;

/**
 * Which keys occur on at least `minDays` distinct UTC days. `keys[r]` < 0 is no key; rows with a
 * missing time count for no day.
 */
export function recurringKeys(keys: ArrayLike<number>, times: ArrayLike<number>, minDays: number): Set<number> {
  return new RecurringKeys(minDays).add(keys, times).result();
}

/**
 * recurringKeys over rows that arrive a chunk at a time. A key's set of days is dropped once it
 * reaches `minDays`, so what it holds is bounded by keys × minDays, not by the days the data spans.
 */
export class RecurringKeys {
  private readonly lastDay = new Map<number, number>();
  private readonly seen = new Map<number, Set<number>>();
  private readonly done = new Set<number>();

  constructor(readonly minDays: number) {}

  add(keys: ArrayLike<number>, times: ArrayLike<number>): this {
    if (keys.length !== times.length) throw new Error(`recurringKeys: ${keys.length} keys but ${times.length} times`);
    for (let r = 0; r < keys.length; r++) {
      const key = keys[r];
      if (key < 0 || !Number.isFinite(times[r])) continue;
      const day = Math.floor(times[r] / DAY_MS);
      // Rows arrive in time order in this pipeline, so the last day seen answers most rows without a set.
      if (this.lastDay.get(key) === day) continue;
      this.lastDay.set(key, day);
      if (this.done.has(key)) continue;
      let s = this.seen.get(key);
      if (!s) this.seen.set(key, (s = new Set()));
      s.add(day);
      if (s.size >= this.minDays) {
        this.done.add(key);
        this.seen.delete(key);
      }
    }
    return this;
  }

  result(): Set<number> {
    return new Set(this.done);
  }
}
