/**
 * Request bodies under a Content-Encoding, tokens that are set but empty, and answers that name
 * no server path.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { RECORD, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { loadConfig } from './config.ts';
import { registryForClients, withoutAbsolutePaths } from './model-manager.ts';

const setup = (async () => {
  const reg = await registryWithVersions([1]);
  const srv = await startTestServer(reg.url, reg.root, { BODY_LIMIT_BYTES: '4096' });
  return { reg, srv };
})();
after(async () => (await setup).srv.close());

async function send(body: Uint8Array | string, headers: Record<string, string>) {
  const { srv } = await setup;
  const res = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body,
  });
  return {
    status: res.status,
    json: (await res.json()) as { error?: { code?: string; message?: string }; probability?: number },
  };
}

test('gzip, deflate and br bodies are decoded and answered like the plain body', async () => {
  const plain = await send(JSON.stringify(RECORD), {});
  assert.equal(plain.status, 200);
  const text = Buffer.from(JSON.stringify(RECORD));
  for (const [encoding, body] of [
    ['gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['br', brotliCompressSync(text)],
    ['GZip', gzipSync(text)],
  ] as const) {
    const r = await send(body, { 'content-encoding': encoding });
    assert.equal(r.status, 200, `${encoding}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.probability, plain.json.probability, encoding);
  }
  assert.equal((await send(text, { 'content-encoding': 'identity' })).status, 200);
});

test('a plain body labelled gzip is a 400 naming the encoding; an unknown encoding a 415; a gzip bomb a 413', async () => {
  const mislabelled = await send(JSON.stringify(RECORD), { 'content-encoding': 'gzip' });
  assert.equal(mislabelled.status, 400);
  assert.equal(mislabelled.json.error?.code, 'invalid_encoding');
  assert.match(mislabelled.json.error?.message ?? '', /not valid gzip data/);
  const zstd = await send(gzipSync(JSON.stringify(RECORD)), { 'content-encoding': 'zstd' });
  assert.equal(zstd.status, 415);
  assert.match(zstd.json.error?.message ?? '', /Content-Encoding "zstd" is not supported/);
  assert.equal((await send(gzipSync(gzipSync('{}')), { 'content-encoding': 'gzip, gzip' })).status, 415);
  // 1 MB of spaces compresses to about 1 KB: under the 4 KB limit on the wire, over it decoded.
  const bomb = gzipSync(Buffer.concat([Buffer.from(JSON.stringify(RECORD)), Buffer.alloc(1 << 20, 0x20)]));
  assert.ok(bomb.length < 4096, `the bomb is ${bomb.length} bytes on the wire`);
  const r = await send(bomb, { 'content-encoding': 'gzip' });
  assert.equal(r.status, 413);
  assert.match(r.json.error?.message ?? '', /exceeds the 4096-byte limit once decoded/);
  // The server is still fine afterwards.
  assert.equal((await send(JSON.stringify(RECORD), {})).status, 200);
});

test('API_TOKENS set but holding no token refuses to start unless PUBLIC_API=on', () => {
  for (const value of ['', ',', ' , ,'])
    assert.throws(() => loadConfig({ API_TOKENS: value }), /API_TOKENS is set but holds no token.*PUBLIC_API=on/);
  assert.deepEqual(loadConfig({ API_TOKENS: ',', PUBLIC_API: 'on' }).apiTokens, []);
  assert.deepEqual(loadConfig({}).apiTokens, [], 'unset: an open API (with a warning at start)');
  assert.throws(() => loadConfig({ PUBLIC_API: 'maybe' }), /PUBLIC_API=maybe must be on or off/);
});

test('an open API warns at start; answers never show the server’s absolute paths', async (t) => {
  const { srv } = await setup;
  assert.ok(
    srv.log.lines.some((l) => /serving without authentication/.test(JSON.stringify(l))),
    'a warning names the open API',
  );
  assert.equal(registryForClients('gs://bucket/registry'), 'gs://bucket/registry');
  assert.equal(registryForClients('/srv/app/registry', '/srv/app'), 'registry');
  assert.equal(registryForClients('/var/lib/models/registry', '/srv/app'), '<local registry registry>');
  assert.equal(
    withoutAbsolutePaths("ENOENT: no such file or directory, open '/srv/app/registry/m/state.json'"),
    "ENOENT: no such file or directory, open '…/state.json'",
  );
  assert.equal(
    withoutAbsolutePaths('read gs://bucket/registry/m/state.json'),
    'read gs://bucket/registry/m/state.json',
  );
  const emptyRoot = await mkdtemp(join(tmpdir(), 'api-empty-'));
  t.after(() => rm(emptyRoot, { recursive: true, force: true }));
  const empty = { root: emptyRoot, url: join(emptyRoot, 'registry') };
  const none = await startTestServer(empty.url, emptyRoot, {});
  try {
    const ready = await fetch(`${none.url}/readyz`);
    const text = await ready.text();
    assert.equal(ready.status, 503);
    assert.ok(!text.includes(empty.root), `readyz names the registry's absolute path: ${text}`);
  } finally {
    await none.close();
  }
});
