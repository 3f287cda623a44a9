import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  balancerCommand,
  haproxyConfig,
  nginxConfig,
  prometheusConfig,
  REPLICA_HEADER,
  replicaFromHeader,
  replicaName,
} from './config.ts';
import { SCRAPE_JOB } from './contract.ts';

const replicas = [0, 1, 2].map((i) => ({ name: replicaName(i), port: 41000 + i }));

test('HAProxy: loopback only, round robin, /readyz checks, a retry on another replica, the answering replica named', () => {
  const cfg = haproxyConfig({ port: 40999, replicas });
  assert.match(cfg, /^\s*bind 127\.0\.0\.1:40999$/m);
  assert.doesNotMatch(cfg, /bind (\*|0\.0\.0\.0|:)/);
  assert.match(cfg, /balance roundrobin/);
  assert.match(cfg, /option httpchk GET \/readyz/);
  assert.match(cfg, /retry-on conn-failure/);
  assert.match(cfg, /option redispatch/);
  assert.match(cfg, new RegExp(`http-response set-header ${REPLICA_HEADER} %s`));
  for (const r of replicas) assert.match(cfg, new RegExp(`server ${r.name} 127\\.0\\.0\\.1:${r.port} check$`, 'm'));
});

test('nginx: loopback only, every path under its directory, POSTs retried on the next replica', () => {
  const cfg = nginxConfig({ port: 40999, replicas, dir: '/tmp/x/nginx', asRoot: false });
  assert.match(cfg, /listen 127\.0\.0\.1:40999;/);
  assert.match(cfg, /proxy_next_upstream error timeout http_502 non_idempotent;/);
  assert.doesNotMatch(cfg, /^user /m, 'no user directive when not root');
  assert.match(
    cfg,
    /keepalive_requests 1000000;/,
    'clients keep their connections (the default closes one every 1,000 requests)',
  );
  const paths = [...cfg.matchAll(/^\s*(?:\w+_temp_path|pid|error_log) (\/[^\s;]+)/gm)].map((m) => m[1]);
  assert.equal(paths.length, 7, 'five temp paths, the pid file and the error log');
  for (const path of paths) assert.ok(path.startsWith('/tmp/x/nginx/'), `${path} is under the run's directory`);
  for (const r of replicas) assert.match(cfg, new RegExp(`server 127\\.0\\.0\\.1:${r.port} `));
  assert.match(nginxConfig({ port: 1, replicas, dir: '/d', asRoot: true }), /^user root root;$/m);
});

test('the answering replica: HAProxy names it, nginx gives its address (the last one after a retry)', () => {
  assert.equal(replicaFromHeader('replica-2', replicas), 'replica-2');
  assert.equal(replicaFromHeader('127.0.0.1:41000, 127.0.0.1:41002', replicas), 'replica-3');
  assert.equal(replicaFromHeader('127.0.0.1:9', replicas), null);
  assert.equal(replicaFromHeader(null, replicas), null);
});

test('Prometheus: the API job, one target per replica named by its instance label, 1 s scrape and rules', () => {
  const cfg = parse(prometheusConfig({ replicas, rulesFile: '/r/rules.yml' }));
  assert.equal(cfg.global.scrape_interval, '1s');
  assert.equal(cfg.global.evaluation_interval, '1s');
  assert.deepEqual(cfg.rule_files, ['/r/rules.yml']);
  assert.equal(cfg.scrape_configs.length, 1);
  assert.equal(cfg.scrape_configs[0].job_name, SCRAPE_JOB);
  assert.deepEqual(
    cfg.scrape_configs[0].static_configs.map((s: { targets: string[]; labels: { instance: string } }) => [
      s.targets,
      s.labels.instance,
    ]),
    replicas.map((r) => [[`127.0.0.1:${r.port}`], r.name]),
  );
});

test('the balancers run in the foreground with the written config', () => {
  assert.deepEqual(balancerCommand('haproxy', '/d/h.cfg', '/d'), ['/usr/sbin/haproxy', '-db', '-f', '/d/h.cfg']);
  const nginx = balancerCommand('nginx', '/d/n.cfg', '/d');
  assert.equal(nginx[0], '/usr/sbin/nginx');
  assert.deepEqual(nginx.slice(-2), ['-c', '/d/n.cfg']);
});
