import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareGtoSemver,
  gtoArtifactState,
  gtoTagMessage,
  nextGtoCounter,
  parseGtoTagName,
  registryVersionOf,
  resolveGtoState,
  type GitTagRef,
} from './gto-state.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

/** An annotated tag at `commit`, made `time` seconds into the test (GTO orders by whole seconds). */
const tag = (name: string, commit: string, time: number, tagger = 'GTO Tester'): GitTagRef => ({
  name,
  target: commit,
  annotated: true,
  time,
  tagger,
  taggerEmail: 'gtotester@example.com',
  message: name,
});
const stagesOf = (tags: GitTagRef[], name: string, sort?: 'timestamp' | 'semver') =>
  Object.fromEntries(Object.entries(gtoArtifactState(tags, name, { sort }).stages).map(([s, h]) => [s, h.version]));

// GTO's tests/test_tag.py test_parse_name.
test('parseGtoTagName reads every GTO tag form as GTO parse_name does', () => {
  const pick = (t: string) => {
    const p = parseGtoTagName(t);
    return p && { ...p, tag: undefined };
  };
  assert.deepEqual(pick('path@v1.2.3'), { tag: undefined, artifact: 'path', action: 'register', version: 'v1.2.3' });
  assert.deepEqual(pick('path@v1.2.3#5'), {
    tag: undefined,
    artifact: 'path',
    action: 'register',
    version: 'v1.2.3',
    counter: 5,
  });
  assert.deepEqual(pick('path@v1.2.3!'), { tag: undefined, artifact: 'path', action: 'deregister', version: 'v1.2.3' });
  assert.deepEqual(pick('path@v1.2.3!#2'), {
    tag: undefined,
    artifact: 'path',
    action: 'deregister',
    version: 'v1.2.3',
    counter: 2,
  });
  assert.deepEqual(pick('path#stage'), { tag: undefined, artifact: 'path', action: 'assign', stage: 'stage' });
  assert.deepEqual(pick('path#stage#1'), {
    tag: undefined,
    artifact: 'path',
    action: 'assign',
    stage: 'stage',
    counter: 1,
  });
  assert.deepEqual(pick('path#stage!#2'), {
    tag: undefined,
    artifact: 'path',
    action: 'unassign',
    stage: 'stage',
    counter: 2,
  });
  // gto/registry.py deprecate: `<name>@deprecated`, with a counter when forced.
  assert.deepEqual(pick('model@deprecated'), { tag: undefined, artifact: 'model', action: 'deprecate' });
  assert.equal(parseGtoTagName('model@deprecated#3')?.counter, 3);
  assert.equal(parseGtoTagName('model@created')?.action, 'create');
  // tests/test_api.py test_assign: `folder:artifact` is written `folder=artifact` in tags.
  assert.equal(parseGtoTagName('some/folder=some/artifact#staging#1')?.artifact, 'some/folder:some/artifact');
  assert.equal(parseGtoTagName('nn@v1.0.0-alpha.beta')?.version, 'v1.0.0-alpha.beta');
});

// tests/test_tag.py test_parse_wrong_names and test_parse_correct_names.
test('parseGtoTagName: null for the names GTO rejects, a parse for the ones it accepts', () => {
  for (const bad of [
    '',
    '###',
    '@@@',
    'model@v1',
    'nn#prod#-1',
    'model@v111',
    'model-prod',
    'model@0.0.1',
    'model-prod-v1',
    'model#prod#-1',
    'model#prod#1-2',
    'model#prod?#1-2',
    'model#prod@v1.2.3',
    'model@v1.2.3#prod',
    'model-prod-v1-stage',
    'model@prod@v1@stage-1',
    'namespace/model@0.0.1',
    '@namespace/model@0.0.1',
    'model#prod#v1#stage#1-',
    'model#prod-v1-stage@1-2',
    'model#prod-v1-stage@1-2#@',
  ])
    assert.equal(parseGtoTagName(bad), null, bad);
  for (const good of [
    'nn#prod',
    'nn#prod!',
    'nn#prod#1',
    'nn@v1.0.0',
    'nn#prod!#2',
    'nn@v1.0.0!',
    'nn@v1.0.0#1',
    'nn@v1.0.0!#1',
    'nn@v1.0.0-rc.2',
    'nn@v1.0.0-alpha',
    'nn@v1.0.0-alpha.1',
    'nn@v1.0.0-alpha.beta',
    'new-artifact@v1.0.1!',
  ])
    assert.ok(parseGtoTagName(good), good);
});

// tests/test_tag.py test_name_tag (empty repository: 1); tests/test_api.py
// test_check_ref_catch_the_bug (staging, prod, dev at one commit: #1, #2, #3) and
// test_if_unassign_with_auto_push_then_invoke_git_push_tag (assign #1, then unassign #2).
test("nextGtoCounter: the artifact's highest counter on any tag + 1, lightweight tags included", () => {
  assert.equal(nextGtoCounter([], 'myartifact'), 1);
  assert.equal(nextGtoCounter(['artifact@v0.0.1', 'artifact#staging#1', 'artifact#prod#2'], 'artifact'), 3);
  assert.equal(nextGtoCounter(['model@v0.0.1', 'model#dev#1'], 'model'), 2);
  // Per artifact: nn#staging#1 and rf#production#1 both exist in GTO's showcase (tests/conftest.py).
  assert.equal(nextGtoCounter(['rf#production#4', 'nn#staging#1', 'rf@v1.2.3#9', 'other#prod#12'], 'rf'), 10);
  assert.equal(nextGtoCounter(['m@deprecated#7', 'm#prod!#3', 'not-a-gto-tag#7'], 'm'), 8);
  assert.equal(nextGtoCounter(['dir=m#prod#4', 'm#prod#2'], 'dir:m'), 5);
  const state = gtoArtifactState(
    [tag('m@v1.0.0', A, 1), tag('m#prod#1', A, 2), { name: 'm#prod#6', target: A, annotated: false, time: 0 }],
    'm',
  );
  assert.equal(state.nextCounter, 7, 'a lightweight tag counts');
  assert.equal(state.stages.prod.assignment.tag, 'm#prod#1', 'but is not an event');
});

/**
 * GTO's showcase (tests/conftest.py `showcase`; the state tests/test_registry.py expects): rf
 * v1.2.3 and nn v0.0.1 at the first commit, rf v1.2.4 at the second; nn#staging#1,
 * rf#production#1 (v1.2.3), a second later rf#staging#2 (v1.2.4), then rf#production#3 (v1.2.4),
 * then rf#production#4 (v1.2.3 again, forced).
 */
const showcase = [
  tag('rf@v1.2.3', A, 0),
  tag('nn@v0.0.1', A, 0),
  tag('rf@v1.2.4', B, 1),
  tag('nn#staging#1', A, 1),
  tag('rf#production#1', A, 1),
  tag('rf#staging#2', B, 2),
  tag('rf#production#3', B, 3),
  tag('rf#production#4', A, 4),
];

test("GTO's showcase: versions, the stage of each, latest and counters", () => {
  const state = resolveGtoState(showcase);
  assert.deepEqual([...state.keys()], ['nn', 'rf']);
  const rf = state.get('rf')!;
  assert.deepEqual(
    rf.versions.map((v) => [v.version, v.commit, v.registered, v.active, v.stages]),
    [
      ['v1.2.4', B, true, true, ['staging']],
      ['v1.2.3', A, true, true, ['production']],
    ],
  );
  // tests/test_registry.py: v1.2.3 has production #1 and #4, v1.2.4 staging #2 and production #3.
  assert.deepEqual(
    rf.versions.map((v) => v.events.filter((e) => e.stage).map((e) => e.tag)),
    [
      ['rf#staging#2', 'rf#production#3'],
      ['rf#production#1', 'rf#production#4'],
    ],
  );
  assert.equal(rf.stages.production.version, 'v1.2.3');
  assert.equal(rf.stages.production.assignment.tag, 'rf#production#4');
  assert.equal(rf.stages.staging.version, 'v1.2.4');
  assert.equal(rf.latest, 'v1.2.4');
  assert.equal(rf.nextCounter, 5);
  assert.equal(rf.deprecated, false);
  const nn = state.get('nn')!;
  assert.deepEqual(stagesOf(showcase, 'nn'), { staging: 'v0.0.1' });
  assert.equal(nn.latest, 'v0.0.1');
  assert.equal(nn.nextCounter, 2);
  // `--sort semver` (and gto.api.find_versions_in_stage) takes the highest version in a stage.
  assert.deepEqual(stagesOf(showcase, 'rf', 'semver'), { production: 'v1.2.4', staging: 'v1.2.4' });
});

// tests/resources/sample_remote_repo_expected_history_churn.json and
// sample_remote_repo_expected_registry.json (GTO's tests/test_api.py, example-gto-frozen):
// churn shows latest v3.1.0, prod v3.0.0, staging v3.1.0; its next unassign tag is churn#staging!#3.
test("GTO's frozen example repository: churn", () => {
  const t = (iso: string) => Date.parse(iso) / 1000;
  const churn = [
    tag('churn@v3.0.0', 'e19353d623660452e97a351ab0ba56a92126bd70', t('2022-05-20T04:09:52+03:00')),
    tag('churn@v3.1.0', '299e82a7b3244899a84e715a39b786a4451c25cd', t('2022-05-24T19:16:32+03:00')),
    tag('churn#staging#1', '299e82a7b3244899a84e715a39b786a4451c25cd', t('2022-05-25T23:03:12+03:00')),
    tag('churn#prod#2', 'e19353d623660452e97a351ab0ba56a92126bd70', t('2022-05-27T02:49:52+03:00')),
  ];
  const state = gtoArtifactState(churn, 'churn');
  assert.equal(state.latest, 'v3.1.0');
  assert.deepEqual(stagesOf(churn, 'churn'), { prod: 'v3.0.0', staging: 'v3.1.0' });
  assert.equal(state.nextCounter, 3);
  assert.deepEqual(
    state.events.map((e) => [e.action, e.tag, e.version]),
    [
      ['register', 'churn@v3.0.0', 'v3.0.0'],
      ['register', 'churn@v3.1.0', 'v3.1.0'],
      ['assign', 'churn#staging#1', 'v3.1.0'],
      ['assign', 'churn#prod#2', 'v3.0.0'],
    ],
  );
});

// tests/test_api.py test_unassign: after model#dev!#2 no version is in dev.
test('an unassignment removes the version from the stage; an earlier assignment shows again', () => {
  const tags = [tag('model@v0.0.1', A, 1), tag('model#dev#1', A, 2), tag('model#dev!#2', A, 3)];
  assert.deepEqual(stagesOf(tags, 'model'), {});
  assert.deepEqual(gtoArtifactState(tags, 'model').stagesTagged, ['dev']);
  // v1 then v2 in prod, v2 unassigned: GTO shows v1 in prod again (it never unassigned v1).
  const two = [
    tag('m@v1.0.0', A, 1),
    tag('m@v2.0.0', B, 2),
    tag('m#prod#1', A, 3),
    tag('m#prod#2', B, 4),
    tag('m#prod!#3', B, 5),
  ];
  assert.deepEqual(stagesOf(two, 'm'), { prod: 'v1.0.0' });
  assert.deepEqual(gtoArtifactState(two.slice(0, 4), 'm').inStage, { prod: ['v2.0.0', 'v1.0.0'] });
  assert.deepEqual(gtoArtifactState(two, 'm').inStage, { prod: ['v1.0.0'] });
  assert.deepEqual(stagesOf([...two, tag('m#prod#4', B, 6)], 'm'), { prod: 'v2.0.0' });
  // Same second: the unassignment wins (GTO sorts assignments before unassignments, then reverses).
  assert.deepEqual(stagesOf([tag('m@v1.0.0', A, 1), tag('m#prod#1', A, 2), tag('m#prod!#2', A, 2)], 'm'), {});
});

// tests/test_api.py test_register_deregister: v1.0.0, v1.0.1, deregister v1.0.1 → latest v1.0.0,
// one active version, two in all.
test('a deregistered version leaves latest and its stages', () => {
  const tags = [tag('new-artifact@v1.0.0', A, 1), tag('new-artifact@v1.0.1', B, 2), tag('new-artifact#prod#1', B, 3)];
  assert.equal(gtoArtifactState(tags, 'new-artifact').latest, 'v1.0.1');
  const after = gtoArtifactState([...tags, tag('new-artifact@v1.0.1!', B, 4)], 'new-artifact');
  assert.equal(after.latest, 'v1.0.0');
  assert.deepEqual(
    after.versions.map((v) => [v.version, v.active, v.deregistered]),
    [
      ['v1.0.1', false, true],
      ['v1.0.0', true, false],
    ],
  );
  assert.deepEqual(after.stages, {});
  // Registered again later: active again, its stage with it.
  const again = gtoArtifactState(
    [...tags, tag('new-artifact@v1.0.1!', B, 4), tag('new-artifact@v1.0.1#2', B, 5)],
    'new-artifact',
  );
  assert.equal(again.latest, 'v1.0.1');
  assert.equal(again.stages.prod?.version, 'v1.0.1');
});

// tests/test_api.py test_deprecate: after model@deprecated, show(deprecated=False) lists nothing.
test('deprecation hides the artifact until a later event', () => {
  const tags = [tag('model@v0.0.1', A, 1), tag('model@deprecated', A, 2)];
  assert.equal(gtoArtifactState(tags, 'model').deprecated, true);
  assert.equal(gtoArtifactState([tag('model@v0.0.1', A, 1)], 'model').deprecated, false);
  assert.equal(gtoArtifactState([...tags, tag('model#prod#1', A, 3)], 'model').deprecated, false);
  assert.equal(gtoArtifactState([...tags, tag('model@deprecated#2', A, 4)], 'model').deprecated, true);
});

// tests/test_api.py test_assign_skip_registration: an assignment at a commit without a registered
// version gives a version named by the commit (not semver).
test('an assignment at an unregistered commit is a version named by its commit', () => {
  const tags = [tag('m@v1.0.0', A, 1), tag('m#prod#1', A, 2), tag('m#prod#2', C, 3)];
  const state = gtoArtifactState(tags, 'm');
  assert.equal(state.stages.prod.version, C);
  assert.equal(state.stages.prod.registryVersion, null);
  assert.deepEqual(
    state.versions.map((v) => [v.version, v.registered]),
    [
      ['v1.0.0', true],
      [C, false],
    ],
  );
  assert.equal(state.latest, 'v1.0.0', 'latest counts registered versions only');
});

test('lightweight tags are not events; tags GTO cannot resolve are reported', () => {
  // tests/test_tag.py test_lightweight_tag: a lightweight `lightweight-tag@v0.0.1` is not found.
  assert.deepEqual(resolveGtoState([{ name: 'lightweight-tag@v0.0.1', target: A, annotated: false, time: 0 }]).size, 0);
  const two = gtoArtifactState([tag('m@v1.0.0', A, 1), tag('m@v1.0.1', A, 1), tag('m#prod#1', A, 2)], 'm');
  assert.match(two.problems[0], /^m#prod#1: its commit a{12} holds versions v1\.0\.0, v1\.0\.1; GTO cannot tell/);
  assert.match(gtoArtifactState([tag('m@created', A, 1)], 'm').problems[0], /GTO 1\.10 fails on `@created` tags/);
});

test('stages follow the latest assignment by tagger time, not by counter or name', () => {
  // A person's `gto assign` (by time) beats a higher counter made earlier.
  const tags = [
    tag('flight-delay@v1.0.0', A, 10),
    tag('flight-delay@v2.0.0', B, 20),
    tag('flight-delay#staging#9', B, 30, 'pipeline'),
    tag('flight-delay#staging#2', A, 40, 'Alice'),
  ];
  const s = gtoArtifactState(tags, 'flight-delay');
  assert.equal(s.stages.staging.version, 'v1.0.0');
  assert.equal(s.stages.staging.registryVersion, 1);
  assert.equal(s.stages.staging.assignment.by, 'Alice');
  assert.equal(s.nextCounter, 10);
  // Input order does not matter: GTO lists tags by name before sorting by time.
  assert.deepEqual(gtoArtifactState([...tags].reverse(), 'flight-delay'), s);
  // Two versions assigned in the same second: GTO's sorts leave the earlier-registered one first.
  const tie = [tag('m@v1.0.0', A, 1), tag('m@v2.0.0', B, 2), tag('m#prod#1', A, 3), tag('m#prod#2', B, 3)];
  assert.equal(gtoArtifactState(tie, 'm').stages.prod.version, 'v1.0.0');
});

test('semver precedence, registry versions and GTO messages', () => {
  const sorted = [
    'v1.0.0',
    'v1.0.0-rc.1',
    'v1.0.0-alpha',
    'v1.0.0-alpha.1',
    'v10.0.0',
    'v2.0.1',
    'v1.0.0-alpha.beta',
  ].sort(compareGtoSemver);
  assert.deepEqual(sorted, [
    'v1.0.0-alpha',
    'v1.0.0-alpha.1',
    'v1.0.0-alpha.beta',
    'v1.0.0-rc.1',
    'v1.0.0',
    'v2.0.1',
    'v10.0.0',
  ]);
  assert.equal(compareGtoSemver('v1.0.0+build.1', 'v1.0.0'), 0);
  assert.equal(registryVersionOf('v3.0.0'), 3);
  for (const v of ['v2.0.1', 'v0.0.0', 'v3.0.0-rc.1', 'v3.0.0+b', 'v03.0.0'])
    assert.equal(registryVersionOf(v), null, v);
  assert.equal(gtoTagMessage('register', 'rf', { version: 'v1.2.3' }), 'Registering artifact rf version v1.2.3');
  assert.equal(
    gtoTagMessage('assign', 'rf', { stage: 'production', version: 'v1.2.3' }),
    'Assigning stage production to artifact rf version v1.2.3',
  );
  assert.equal(
    gtoTagMessage('unassign', 'rf', { stage: 'dev', version: 'v1.2.3' }),
    "Unassigning stage 'dev' to artifact 'rf' version 'v1.2.3'",
  );
  assert.equal(gtoTagMessage('deprecate', 'rf'), "Deprecating artifact 'rf'");
});
