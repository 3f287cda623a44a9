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
  if (keys.length !== times.length) throw new Error(`recurringKeys: ${keys.length} keys but ${times.length} times`);
  const lastDay = new Map<number, number>();
  const days = new Map<number, number>();
  const seen = new Map<number, Set<number>>();
  for (let r = 0; r < keys.length; r++) {
    const key = keys[r];
    if (key < 0 || !Number.isFinite(times[r])) continue;
    const day = Math.floor(times[r] / DAY_MS);
    // Rows arrive in time order in this pipeline, so the last day seen answers most rows without a set.
    if (lastDay.get(key) === day) continue;
    lastDay.set(key, day);
    let s = seen.get(key);
    if (!s) seen.set(key, (s = new Set()));
    if (!s.has(day)) {
      s.add(day);
      days.set(key, (days.get(key) ?? 0) + 1);
    }
  }
  const out = new Set<number>();
  for (const [key, n] of days) if (n >= minDays) out.add(key);
  return out;
}
