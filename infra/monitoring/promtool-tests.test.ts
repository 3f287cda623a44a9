import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandTemplate, expectedAnnotations, humanizeDuration, ruleTestFiles } from './promtool-tests.ts';
import { ruleGroups, type AlertingRule } from './rules.ts';

test('humanizeDuration matches Prometheus’s template function', () => {
  assert.equal(humanizeDuration(2_593_400), '30d 0h 23m 20s');
  assert.equal(humanizeDuration(3_661), '1h 1m 1s');
  assert.equal(humanizeDuration(61.9), '1m 1s');
  assert.equal(humanizeDuration(1.5), '1.5s');
  assert.equal(humanizeDuration(-90), '-1m 30s');
  assert.equal(humanizeDuration(0), '0s');
  assert.equal(humanizeDuration(0.0123), '12.3ms');
  assert.throws(() => humanizeDuration(Number.NaN), /not finite/);
});

test('expandTemplate: $labels, $value, printf and humanizeDuration; anything else is refused', () => {
  assert.equal(
    expandTemplate('{{ $labels.job }} at {{ $value | printf "%.3f" }} ({{$value}})', { job: 'api' }, 0.55, 'x'),
    'api at 0.550 (0.55)',
  );
  assert.equal(expandTemplate('age {{ $value | humanizeDuration }}', {}, 90, 'x'), 'age 1m 30s');
  assert.equal(expandTemplate('{{ $labels.missing }}|', {}, undefined, 'x'), '|');
  assert.throws(
    () => expandTemplate('{{ $value }}', {}, undefined, 'here'),
    /here: the annotation prints \$value; give the expected alert a `value`/,
  );
  assert.throws(() => expandTemplate('{{ $value | humanizePercentage }}', {}, 1, 'here'), /not supported/);
  assert.throws(() => expandTemplate('{{ range $labels }}', {}, 1, 'here'), /not supported/);
});

test('$labels are the firing sample’s labels: the rule’s own labels are not among them', () => {
  const rule = ruleGroups()
    .flatMap((g) => g.rules)
    .find((r) => 'alert' in r && r.alert === 'ModelStale') as AlertingRule;
  const a = expectedAnnotations(
    { ...rule, annotations: { s: '{{ $labels.severity }}/{{ $labels.model }}' } },
    { exp_labels: { model: 'm', severity: 'ticket' } },
    'x',
  );
  assert.deepEqual(a, { s: '/m' });
});

test('every expected alert in the generated files carries the rule’s annotations', () => {
  const files = ruleTestFiles();
  assert.deepEqual(Object.keys(files).sort(), [
    'prometheus/tests/availability.yml',
    'prometheus/tests/feedback-dedupe.yml',
    'prometheus/tests/fleet.yml',
    'prometheus/tests/latency.yml',
    'prometheus/tests/model.yml',
    'prometheus/tests/non-finite.yml',
  ]);
  const all = Object.values(files).join('\n');
  assert.equal((all.match(/exp_labels:/g) ?? []).length, (all.match(/exp_annotations:/g) ?? []).length);
  assert.match(
    all,
    /description: The served flight-delay model|summary: The served flight-delay model is older than 30 days/,
  );
  assert.match(all, /model_age_seconds is 30d 0h 23m 20s/);
  assert.match(all, /rule_files:\n {2}- \.\.\/rules\.yml/);
});
