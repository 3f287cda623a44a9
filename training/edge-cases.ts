/**
 * Synthetic hostile inputs (seed 002: missing values, extreme values, unknown categories, wrong
 * types) run through a bundle's predictor. Each case must end in a finite prediction or a clear
 * rejection, as expected for it; anything else (NaN/Infinity out, a crash, a silently accepted wrong
 * type) is a failure and blocks promotion.
 */
import type { InputSchema } from '../core/data/records.ts';
import type { FieldError } from '../core/data/records.ts';

export type Expectation = 'predict' | 'reject' | 'either';
export interface EdgeCase {
  name: string;
  record: unknown;
  expect: Expectation;
}
export interface EdgeCaseOutcome {
  case: string;
  outcome: 'prediction' | 'rejected' | 'failed';
  detail: string;
}

export function edgeCases(base: Record<string, unknown>, schema: InputSchema): EdgeCase[] {
  const cases: EdgeCase[] = [];
  const withField = (field: string, value: unknown) => ({ ...base, [field]: value });
  for (const [field, rule] of Object.entries(schema)) {
    const { [field]: _omitted, ...without } = base;
    cases.push({ name: `${field}: missing`, record: without, expect: rule.required ? 'reject' : 'predict' });
    cases.push({
      name: `${field}: null`,
      record: withField(field, null),
      expect: rule.required ? 'reject' : 'predict',
    });
    cases.push({ name: `${field}: object`, record: withField(field, { value: 1 }), expect: 'reject' });
    cases.push({ name: `${field}: array`, record: withField(field, [1, 2]), expect: 'reject' });
    cases.push({ name: `${field}: boolean`, record: withField(field, true), expect: 'reject' });
    if (rule.type === 'number' || rule.type === 'integer') {
      cases.push({ name: `${field}: text "abc"`, record: withField(field, 'abc'), expect: 'reject' });
      cases.push({ name: `${field}: numeric text "12"`, record: withField(field, '12'), expect: 'reject' });
      for (const [label, v] of [
        ['NaN', NaN],
        ['Infinity', Infinity],
        ['-Infinity', -Infinity],
      ] as const)
        cases.push({ name: `${field}: ${label}`, record: withField(field, v), expect: 'reject' });
      const min = rule.min === undefined ? undefined : Number(rule.min);
      const max = rule.max === undefined ? undefined : Number(rule.max);
      if (min !== undefined) {
        cases.push({ name: `${field}: minimum ${min}`, record: withField(field, min), expect: 'predict' });
        cases.push({ name: `${field}: below minimum`, record: withField(field, min - 1), expect: 'reject' });
      }
      if (max !== undefined) {
        cases.push({ name: `${field}: maximum ${max}`, record: withField(field, max), expect: 'predict' });
        cases.push({ name: `${field}: above maximum`, record: withField(field, max + 1), expect: 'reject' });
      }
      cases.push({
        name: `${field}: 1e12`,
        record: withField(field, 1e12),
        expect: max === undefined ? 'predict' : 'reject',
      });
      cases.push({
        name: `${field}: -1e12`,
        record: withField(field, -1e12),
        expect: min === undefined ? 'predict' : 'reject',
      });
      if (rule.type === 'integer')
        cases.push({ name: `${field}: fraction 1.5`, record: withField(field, 1.5), expect: 'reject' });
    } else if (rule.type === 'timestamp') {
      cases.push({ name: `${field}: not a date`, record: withField(field, 'not a date'), expect: 'reject' });
      cases.push({
        name: `${field}: impossible date 2001-02-30`,
        record: withField(field, '2001-02-30'),
        expect: 'reject',
      });
      cases.push({
        name: `${field}: far future 2999-01-01`,
        record: withField(field, '2999-01-01'),
        expect: rule.max === undefined ? 'predict' : 'reject',
      });
      cases.push({
        name: `${field}: epoch milliseconds`,
        record: withField(field, Date.UTC(2001, 5, 15, 18, 30)),
        expect: 'predict',
      });
      cases.push({
        name: `${field}: with time zone`,
        record: withField(field, '2001-03-04T05:06:07-08:00'),
        expect: 'predict',
      });
    } else {
      cases.push({ name: `${field}: number 123`, record: withField(field, 123), expect: 'reject' });
      const unseen = rule.pattern ? sampleMatching(rule.pattern) : 'UNSEEN-CATEGORY';
      if (unseen && !rule.allowed)
        cases.push({
          name: `${field}: unseen category "${unseen}"`,
          record: withField(field, unseen),
          expect: 'predict',
        });
      cases.push({
        name: `${field}: 10,000-character text`,
        record: withField(field, 'x'.repeat(10_000)),
        expect: rule.pattern || rule.allowed ? 'reject' : 'predict',
      });
      cases.push({
        name: `${field}: control characters`,
        record: withField(field, '\u0000\u0007\n'),
        expect: rule.pattern || rule.allowed ? 'reject' : 'predict',
      });
    }
  }
  cases.push({
    name: 'empty object',
    record: {},
    expect: Object.values(schema).some((r) => r.required) ? 'reject' : 'predict',
  });
  cases.push({ name: 'extra field', record: { ...base, surprise: 1 }, expect: 'reject' });
  for (const [label, v] of [
    ['null record', null],
    ['number record', 42],
    ['string record', 'ATL'],
    ['array record', [base]],
  ] as const)
    cases.push({ name: label, record: v, expect: 'reject' });
  return cases;
}

/** A string for the common fixed-width patterns (e.g. ^[A-Z0-9]{3}$) that no vocabulary holds. */
function sampleMatching(pattern: string): string | null {
  const re = new RegExp(pattern);
  for (const candidate of ['QQQ', 'ZZ9', 'Q9Q', 'ZZZZ', 'qqq', 'Q']) if (re.test(candidate)) return candidate;
  return null;
}

export function runEdgeCases(
  cases: EdgeCase[],
  predictRecords: (records: unknown[]) => { predictions: (number | null)[]; errors: FieldError[][] },
) {
  const outcomes: EdgeCaseOutcome[] = cases.map((c) => {
    try {
      const { predictions, errors } = predictRecords([c.record]);
      const p = predictions[0];
      if (errors[0].length) {
        const detail = errors[0].map((e) => `${e.field}: ${e.message}`).join('; ');
        return c.expect === 'predict'
          ? { case: c.name, outcome: 'failed' as const, detail: `expected a prediction, got a rejection: ${detail}` }
          : { case: c.name, outcome: 'rejected' as const, detail };
      }
      if (p === null || !Number.isFinite(p))
        return { case: c.name, outcome: 'failed' as const, detail: `non-finite prediction ${p}` };
      return c.expect === 'reject'
        ? {
            case: c.name,
            outcome: 'failed' as const,
            detail: `accepted input that should be rejected (prediction ${p})`,
          }
        : { case: c.name, outcome: 'prediction' as const, detail: `prediction ${p.toFixed(4)}` };
    } catch (err) {
      return { case: c.name, outcome: 'failed' as const, detail: `threw: ${(err as Error).message}` };
    }
  });
  const count = (o: EdgeCaseOutcome['outcome']) => outcomes.filter((x) => x.outcome === o).length;
  return {
    total: outcomes.length,
    predicted: count('prediction'),
    rejected: count('rejected'),
    failed: count('failed'),
    examples: outcomes,
  };
}
