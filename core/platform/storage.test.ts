import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { memoryLogger } from './log.ts';
import { FsObjectStore, GcsObjectStore, openStore, validateKey } from './storage.ts';
import { materializeSource } from '../data/materialize.ts';
import type { GcsClient } from './gcs.ts';
import { FakeGcs } from '../../harness/testing/core/fake-gcs.ts';
import { findCredentials, requireCredentials } from './gcp-credentials.ts';
import { openRegistry } from '../registry/index.ts';
import { serve, tempDir } from '../../harness/testing/lifecycle.ts';

const tmp = () => tempDir('storage-');

test('the real @google-cloud/storage client fits the GcsClient interface', async () => {
  const { Storage } = await import('@google-cloud/storage');
  const client: GcsClient = new Storage({ projectId: 'type-check-only' });
  assert.equal(typeof client.bucket, 'function');
});

test('FsObjectStore: put, get, exists, list, read-only objects, key validation', async () => {
  const dir = await tmp();
  const store = new FsObjectStore(join(dir, 'remote'), { readOnly: true });
  await writeFile(join(dir, 'src'), 'payload');
  assert.equal(await store.exists('files/md5/ab/cd'), false);
  await store.putFile('files/md5/ab/cd', join(dir, 'src'));
  await store.putFile('files/md5/ab/ce', join(dir, 'src'));
  await store.putFile('other/x', join(dir, 'src'));
  assert.equal(await store.exists('files/md5/ab/cd'), true);
  assert.equal((await stat(store.pathOf('files/md5/ab/cd'))).mode & 0o777, 0o444);
  assert.deepEqual(await store.list('files/'), ['files/md5/ab/cd', 'files/md5/ab/ce']);
  assert.deepEqual(await store.list('files/md5/ab/cd'), ['files/md5/ab/cd']);
  assert.deepEqual(await store.list('nothing/'), []);
  await store.getToFile('files/md5/ab/cd', join(dir, 'out', 'copy'));
  assert.equal(await readFile(join(dir, 'out', 'copy'), 'utf8'), 'payload');
  assert.equal((await stat(join(dir, 'out', 'copy'))).mode & 0o200, 0o200);
  assert.deepEqual(await readdir(join(dir, 'out')), ['copy']); // no temp file left behind
  await assert.rejects(store.getToFile('files/md5/zz/zz', join(dir, 'x')), /object 'files\/md5\/zz\/zz' not found in/);
  for (const bad of ['', '/abs', 'a/../b', 'a//b', 'a\\b', './a'])
    assert.throws(() => validateKey(bad), /invalid object key/);
  assert.equal(store.describe(), join(dir, 'remote'));
});

test('GcsObjectStore maps keys under its prefix', async () => {
  const gcs = new FakeGcs();
  const store = new GcsObjectStore('bkt', '/dvc/store/', { storage: gcs });
  const dir = await tmp();
  await writeFile(join(dir, 'src'), 'abc');
  await store.putFile('files/md5/aa/bb', join(dir, 'src'));
  assert.deepEqual([...gcs.objects.keys()], ['bkt/dvc/store/files/md5/aa/bb']);
  assert.equal(await store.exists('files/md5/aa/bb'), true);
  assert.equal(await store.exists('files/md5/aa/cc'), false);
  assert.deepEqual(await store.list('files/md5/'), ['files/md5/aa/bb']);
  await store.getToFile('files/md5/aa/bb', join(dir, 'got'));
  assert.equal(await readFile(join(dir, 'got'), 'utf8'), 'abc');
  await assert.rejects(store.getToFile('files/md5/aa/cc', join(dir, 'nope')), /not found in gs:\/\/bkt\/dvc\/store/);
  await assert.rejects(stat(join(dir, 'nope')));
  assert.equal(store.describe(), 'gs://bkt/dvc/store');
});

test('openStore chooses the backend from the URL', () => {
  assert.ok(openStore('gs://b/p', '/base', { storage: new FakeGcs() }) instanceof GcsObjectStore);
  assert.equal(openStore('gs://b/p', '/base', { storage: new FakeGcs() }).describe(), 'gs://b/p');
  assert.equal(openStore('../remote', '/base/.dvc').describe(), '/base/remote');
  assert.equal(openStore('/abs/remote', '/base').describe(), '/abs/remote');
  assert.equal(openStore('file:///abs/r', '/base').describe(), '/abs/r');
  assert.throws(() => openStore('s3://b/p', '/base'), /scheme 's3' is not supported/);
  assert.throws(() => openStore('gs://', '/base'), /invalid GCS URL/);
});

test('materializeSource: local paths are used in place', async () => {
  const dir = await tmp();
  await writeFile(join(dir, 'trips.csv'), 'a,b\n1,2\n');
  const got = await materializeSource('trips.csv', { cacheDir: join(dir, 'cache'), baseDir: dir });
  assert.equal(got.path, join(dir, 'trips.csv'));
  assert.equal(got.fingerprint.size, 8);
  assert.equal(typeof got.fingerprint.mtimeMs, 'number');
  assert.equal(
    (await materializeSource(`file://${join(dir, 'trips.csv')}`, { cacheDir: dir })).path,
    join(dir, 'trips.csv'),
  );
  await assert.rejects(
    materializeSource('missing.csv', { cacheDir: dir, baseDir: dir }),
    /source 'missing\.csv' not found \(looked at /,
  );
  await assert.rejects(materializeSource('ftp://host/x', { cacheDir: dir }), /unsupported source/);
});

test('materializeSource: http downloads stream to the cache and are reused by ETag', async () => {
  let body = Buffer.from('x,y\n'.repeat(50_000));
  let etag = '"v1"';
  let honorConditional = true;
  const requests: string[] = [];
  const server = await serve((req, res) => {
    requests.push(`${req.url} ${req.headers['if-none-match'] ?? '-'}`);
    if (req.url === '/missing.csv') {
      res.writeHead(404, 'Not Found').end('no');
      return;
    }
    if (honorConditional && req.headers['if-none-match'] === etag) {
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { etag, 'content-length': body.length }).end(body);
  });
  const base = server.url;
  try {
    const dir = await tmp();
    const opts = { cacheDir: join(dir, 'cache'), log: memoryLogger() };
    const first = await materializeSource(`${base}/data/trips.csv?x=1`, opts);
    assert.equal(first.reused, false);
    assert.deepEqual(await readFile(first.path), body);
    assert.equal(first.fingerprint.size, body.length);
    assert.equal(first.fingerprint.etag, '"v1"');
    assert.equal(first.fingerprint.md5, createHash('md5').update(body).digest('hex'));
    assert.match(first.path, /trips\.csv$/);

    const second = await materializeSource(`${base}/data/trips.csv?x=1`, opts);
    assert.equal(second.reused, true);
    assert.equal(requests.at(-1), '/data/trips.csv?x=1 "v1"');

    honorConditional = false; // a server that ignores If-None-Match but sends the same ETag
    assert.equal((await materializeSource(`${base}/data/trips.csv?x=1`, opts)).reused, true);

    body = Buffer.from('changed\n');
    etag = '"v2"';
    const third = await materializeSource(`${base}/data/trips.csv?x=1`, opts);
    assert.equal(third.reused, false);
    assert.equal(await readFile(third.path, 'utf8'), 'changed\n');
    assert.equal(third.path, first.path);
    assert.deepEqual(
      (await readdir(join(dir, 'cache'))).sort(),
      [`${first.path.split('/').at(-1)}`, `${first.path.split('/').at(-1)}.meta.json`].sort(),
    );

    await assert.rejects(
      materializeSource(`${base}/missing.csv`, opts),
      new RegExp(`download of ${base.replace(/[.]/g, '\\.')}/missing\\.csv failed: HTTP 404 Not Found`),
    );
    await assert.rejects(materializeSource('http://example.com/x.csv', opts), /refusing plain http/);
  } finally {
    await server.close();
  }
});

test('materializeSource: an https:// source on a plain-HTTP server, or a closed port, is said in words, not OpenSSL text', async () => {
  const server = await serve((_req, res) => res.end('a,b\n1,2\n'));
  const dir = await tmp();
  try {
    const err = await materializeSource(`https://127.0.0.1:${server.port}/x.csv`, { cacheDir: dir }).catch(
      (e: unknown) => e as Error,
    );
    assert.ok(err instanceof Error);
    assert.match(
      err.message,
      new RegExp(
        `^cannot download https://127\\.0\\.0\\.1:${server.port}/x\\.csv: the server at 127\\.0\\.0\\.1:${server.port} answered in plain HTTP, not HTTPS \\(TLS\\); use http://127\\.0\\.0\\.1:${server.port}/x\\.csv in data\\.source, or check the port$`,
      ),
    );
    assert.doesNotMatch(err.message, /wrong version number|openssl/i);
  } finally {
    await server.close();
  }
  // A port fetch refuses to use (its "bad ports" list), before any connection.
  await assert.rejects(
    materializeSource('https://127.0.0.1:6000/x.csv', { cacheDir: dir }),
    /fetch never connects to port 6000 .*; serve the file on another port/,
  );
  // The port is free now: nothing listens there.
  await assert.rejects(
    materializeSource(`https://127.0.0.1:${server.port}/x.csv`, { cacheDir: dir }),
    new RegExp(`nothing accepts connections at 127\\.0\\.0\\.1:${server.port}; check the host and port`),
  );
});

test('materializeSource: gs:// downloads through the injected client, verifies md5, reuses', async () => {
  const storage = new FakeGcs();
  storage.setObject('raw/trips/2024.csv', 'a,b\n1,2\n');
  const dir = await tmp();
  const first = await materializeSource('gs://raw/trips/2024.csv', { cacheDir: dir, storage });
  assert.equal(await readFile(first.path, 'utf8'), 'a,b\n1,2\n');
  assert.equal(first.fingerprint.md5, createHash('md5').update('a,b\n1,2\n').digest('hex'));
  assert.equal(first.fingerprint.size, 8);
  const again = await materializeSource('gs://raw/trips/2024.csv', { cacheDir: dir, storage });
  assert.equal(again.reused, true);
  assert.equal(storage.calls.filter((c) => c.startsWith('read')).length, 1);
  await assert.rejects(
    materializeSource('gs://raw/nope.csv', { cacheDir: dir, storage }),
    /source gs:\/\/raw\/nope\.csv does not exist/,
  );
  await assert.rejects(materializeSource('gs://raw/', { cacheDir: dir, storage }), /must name an object/);
  // No credentials, or credentials without access: the error says how gs:// is authenticated.
  for (const [error, expected] of [
    [
      new Error('Could not load the default credentials.'),
      /Could not load the default credentials\..*GOOGLE_APPLICATION_CREDENTIALS/,
    ],
    [
      Object.assign(new Error('caller does not have storage.objects.get'), { code: 403 }),
      /no access to gs:\/\/raw\/x\.csv \(HTTP 403\).*roles\/storage\.objectViewer/,
    ],
  ] as const) {
    const failing: GcsClient = {
      bucket: (b: string) => ({
        ...storage.bucket(b),
        file: (n: string) => ({ ...storage.bucket(b).file(n), getMetadata: () => Promise.reject(error) }),
      }),
    };
    await assert.rejects(materializeSource('gs://raw/x.csv', { cacheDir: dir, storage: failing }), expected);
  }

  // Bytes that do not match the object's md5 never reach the cache under the real name.
  const lying: GcsClient = {
    bucket: (b: string) => ({
      ...storage.bucket(b),
      file: (n: string) => ({
        ...storage.bucket(b).file(n),
        createReadStream: () => Readable.from([Buffer.from('a,b\n9,9\n')]),
      }),
    }),
  };
  const other = await tmp();
  await assert.rejects(
    materializeSource('gs://raw/trips/2024.csv', { cacheDir: other, storage: lying }),
    /is corrupted: md5 .* the server says/,
  );
  assert.deepEqual(await readdir(other), []);
});

test('gs:// without any credentials fails at once with how to authenticate; a key file, gcloud login or a metadata server (GKE) count', async () => {
  const home = await tmp();
  let probes = 0;
  const noMetadata = async () => {
    probes++;
    return Promise.resolve(false);
  };
  assert.deepEqual(await findCredentials({ env: { HOME: home }, platform: 'linux', metadata: noMetadata }), {
    found: false,
    looked: [
      'GOOGLE_APPLICATION_CREDENTIALS (not set)',
      join(home, '.config/gcloud/application_default_credentials.json'),
      'a metadata server at 169.254.169.254 (no answer within 1 s)',
    ],
  });
  const missingKey = await findCredentials({
    env: { HOME: home, GOOGLE_APPLICATION_CREDENTIALS: join(home, 'nope.json') },
    metadata: noMetadata,
  });
  assert.equal(missingKey.found, false);
  assert.match(
    (missingKey as { problem: string }).problem,
    /GOOGLE_APPLICATION_CREDENTIALS names .*nope\.json, which does not exist/,
  );
  // The workload identity of a GKE pod is its metadata server.
  assert.deepEqual(await findCredentials({ env: { HOME: home }, metadata: () => Promise.resolve(true) }), {
    found: true,
    via: 'the metadata server at 169.254.169.254',
  });
  probes = 0;
  await findCredentials({ env: { HOME: home, METADATA_SERVER_DETECTION: 'none' }, metadata: noMetadata });
  assert.equal(probes, 0, 'METADATA_SERVER_DETECTION=none: not probed, as the client library does not');
  await mkdir(join(home, '.config/gcloud'), { recursive: true });
  await writeFile(join(home, '.config/gcloud/application_default_credentials.json'), '{}');
  assert.equal((await findCredentials({ env: { HOME: home }, metadata: noMetadata })).found, true);

  // materializeSource: no credentials, and the object is not public (or storage.googleapis.com is unreachable).
  const bare = await tmp();
  const dir = await tmp();
  const credentials = { env: { HOME: bare }, metadata: noMetadata };
  const started = Date.now();
  const requested: string[] = [];
  const status =
    (code: number): typeof fetch =>
    (input) => {
      requested.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return Promise.resolve(new Response('{}', { status: code }));
    };
  await assert.rejects(
    materializeSource('gs://private/x.csv', { cacheDir: dir, credentials, fetchImpl: status(401) }),
    /^Error: cannot read gs:\/\/private\/x\.csv: it is not public \(HTTP 401 without credentials\), and this machine has no Google Cloud credentials \(looked for GOOGLE_APPLICATION_CREDENTIALS \(not set\); .*application_default_credentials\.json; a metadata server .*\); authenticate with `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS=/,
  );
  assert.deepEqual(requested, ['https://storage.googleapis.com/storage/v1/b/private/o/x.csv?fields=size']);
  const offline = () => Promise.reject(new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND') }));
  await assert.rejects(
    materializeSource('gs://private/x.csv', { cacheDir: dir, credentials, fetchImpl: offline }),
    /no Google Cloud credentials .*storage\.googleapis\.com did not answer \(getaddrinfo ENOTFOUND\); authenticate with/,
  );
  await assert.rejects(
    materializeSource('gs://public/gone.csv', { cacheDir: dir, credentials, fetchImpl: status(404) }),
    /source gs:\/\/public\/gone\.csv does not exist/,
  );
  await assert.rejects(
    materializeSource('gs://b/x.csv', {
      cacheDir: dir,
      credentials: { env: { GOOGLE_APPLICATION_CREDENTIALS: join(bare, 'key.json') }, metadata: noMetadata },
    }),
    /cannot read gs:\/\/b\/x\.csv: GOOGLE_APPLICATION_CREDENTIALS names .*key\.json, which does not exist/,
  );
  assert.ok(Date.now() - started < 2000, `failed in ${Date.now() - started} ms, not after the client's retries`);
});

test('a gs:// registry or DVC remote without credentials fails at once, saying how to authenticate; an emulator or a key file pass', async () => {
  const credentials = { env: { HOME: await tmp() }, metadata: () => Promise.resolve(false) };
  const how =
    /this machine has no Google Cloud credentials \(looked for GOOGLE_APPLICATION_CREDENTIALS \(not set\); .*\); authenticate with `gcloud auth application-default login`/;
  const started = Date.now();
  const registry = await openRegistry('gs://models/reg', { credentials, log: memoryLogger() });
  await assert.rejects(registry.listModels(), (err: Error) => {
    assert.match(err.message, /^cannot use the model registry gs:\/\/models\/reg: /);
    assert.match(err.message, how);
    return true;
  });
  const remote = openStore('gs://bkt/dvc', '/base', { credentials });
  await assert.rejects(
    remote.exists('files/md5/ab/cdef'),
    /^Error: cannot use gs:\/\/bkt\/dvc: this machine has no Google Cloud credentials/,
  );
  assert.ok(Date.now() - started < 5000, `failed after ${Date.now() - started} ms, not after the client's retries`);
  // An emulator takes no credentials; a key file that exists counts.
  await requireCredentials('x', { ...credentials, env: { STORAGE_EMULATOR_HOST: 'http://127.0.0.1:1' } });
  const key = join(await tmp(), 'key.json');
  await writeFile(key, '{}');
  await requireCredentials('x', { ...credentials, env: { GOOGLE_APPLICATION_CREDENTIALS: key } });
});
