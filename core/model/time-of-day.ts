/**
 * The minute of the day (UTC wall clock, 0–1439) as a datetime part. With a route it names a
 * scheduled, recurring event (the 14:35 from ATL to ORD), which a whole hour blurs: every flight
 * leaving in that hour shares one value.
 */
export const MINUTES_PER_DAY = 1440;

export function minuteOfDay(d: Date): number {
  return d.getUTCHours() * 60 + d.getUTCMinutes();
}

/** One cycle of the part is a day: distinct minutes seen ÷ 1440 (as distinct hours ÷ 24 for `hour`). */
export const MINUTE_OF_DAY_CYCLE = {
  unit: (t: number) => Math.floor(t / 60_000),
  unitName: 'minutes',
  perCycle: MINUTES_PER_DAY,
};
