import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { baseImageUrl, commitImageUrl, repoRelativeDir } from './images.ts';

const SHA = 'c0ffee0000000000000000000000000000000001';

test('commit URLs: <server>/<repo>/blob/<sha>/<metrics>/report/<file>?raw=true', () => {
  const url = commitImageUrl(
    { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/gitops-ml' },
    SHA,
    'metrics',
  )!;
  assert.equal(url('report/roc.png'), `https://github.com/acme/gitops-ml/blob/${SHA}/metrics/report/roc.png?raw=true`);
  const ghes = commitImageUrl(
    { GITHUB_SERVER_URL: 'https://git.example.com/', GITHUB_REPOSITORY: 'a/b.c' },
    SHA,
    'sub/metrics',
  )!;
  assert.equal(
    ghes('report/feature-a b.png'),
    `https://git.example.com/a/b.c/blob/${SHA}/sub/metrics/report/feature-a%20b.png?raw=true`,
  );
  assert.match(
    commitImageUrl({ GITHUB_REPOSITORY: 'a/b' }, SHA, 'metrics')!('x.png'),
    /^https:\/\/github\.com\/a\/b\//,
    'github.com by default',
  );
});

test('nothing from outside shapes the URL: repository, sha, server and path are checked', () => {
  const ok = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/gitops-ml' };
  for (const repo of ['acme', 'acme/x/y', 'acme/x)', 'a b/c', 'acme/..', '-a/b', 'acme/x"y'])
    assert.throws(() => commitImageUrl({ ...ok, GITHUB_REPOSITORY: repo }, SHA, 'metrics'), /GITHUB_REPOSITORY/, repo);
  for (const sha of ['', 'abc123', SHA.toUpperCase(), `${SHA})`, 'main'])
    assert.throws(() => commitImageUrl(ok, sha, 'metrics'), /full lowercase hex SHA/, sha);
  for (const server of ['http://github.com', 'https://github.com/x', 'javascript:alert(1)', 'https://a b'])
    assert.throws(
      () => commitImageUrl({ ...ok, GITHUB_SERVER_URL: server }, SHA, 'metrics'),
      /GITHUB_SERVER_URL/,
      server,
    );
  assert.throws(() => commitImageUrl(ok, SHA, '../x'), /bad metrics path/);
});

test('the metrics folder must be a plain folder inside the checkout', () => {
  assert.equal(repoRelativeDir('/w/repo', '/w/repo/metrics'), 'metrics');
  assert.equal(repoRelativeDir('/w/repo', join('/w/repo', 'a', 'metrics')), 'a/metrics');
  assert.throws(() => repoRelativeDir('/w/repo', '/tmp/metrics'), /inside the checkout/);
  assert.throws(() => repoRelativeDir('/w/repo', '/w/repo'), /inside the checkout/);
});

test('REPORT_IMAGE_BASE_URL: an absolute http(s) URL without markup characters', () => {
  assert.equal(
    baseImageUrl('https://img.example.com/acme/abc/metrics/')!('report/roc.png'),
    'https://img.example.com/acme/abc/metrics/report/roc.png',
  );
  assert.throws(() => baseImageUrl('metrics/'), /absolute http\(s\) URL/);
  assert.throws(() => baseImageUrl('file:///etc/'), /must be http/);
  assert.throws(() => baseImageUrl('https://x/a)b'), /parentheses/);
});
