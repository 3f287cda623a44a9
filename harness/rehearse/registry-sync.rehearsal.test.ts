/**
 * registry-sync.yml from its YAML: a person pushes GTO tags (`gto register`, then `gto assign …
 * --stage staging`) and the registry the API reads follows them, with the tag it followed on the
 * registry's history event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openRegistry } from '../../core/registry/index.ts';
import { registryWithVersions } from '../testing/api/support.ts';
import { rehearse } from './index.ts';
import { BUCKET } from './scenarios.ts';

const REPO = join(import.meta.dirname, '..', '..');

test(
  "registry-sync.yml (a person's gto assign pushed): the registry follows the tag",
  { timeout: 300_000 },
  async () => {
    const seed = await registryWithVersions([1]);
    const lines: string[] = [];
    const r = await rehearse({
      source: REPO,
      workflow: 'registry-sync',
      event: 'push',
      registrySeed: seed.url,
      print: (l) => lines.push(l),
      keep: true,
    });
    assert.deepEqual(r.failures, [], lines.slice(-60).join('\n'));
    const registry = await openRegistry(join(r.sandbox.cloud, 'gcs', BUCKET, 'registry'), {});
    assert.equal((await registry.state('flight-delay')).stages.staging, 1);
    const last = (await registry.history('flight-delay')).at(-1)!;
    assert.equal(last.source, 'git-tags');
    assert.deepEqual(last.tags, ['flight-delay#staging#1']);
    assert.match(last.reason ?? '', /following GTO: flight-delay#staging#1/);
    assert.match(lines.join('\n'), /staging: - → v1 {2}\(following flight-delay#staging#1\)/);
    rmSync(r.sandbox.root, { recursive: true, force: true });
    rmSync(seed.root, { recursive: true, force: true });
  },
);
