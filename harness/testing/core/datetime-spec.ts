import type { DatetimePart, FeatureSpec } from '../../../core/model/features.ts';

/** A feature spec of one timestamp column `date` broken into `parts`: what a drift test profiles. */
export function datetimeSpec(parts: DatetimePart[]): FeatureSpec {
  return {
    version: 1,
    features: [{ kind: 'datetime', name: 'date', parts }],
    target: { column: 'delay', type: 'classification' },
    time_column: 'date',
  } as unknown as FeatureSpec;
}
