/**
 * The configuration files the cluster run writes: the load balancer's (HAProxy or nginx) in front
 * of the replicas, and Prometheus' scraping each replica with the project's rules. Pure: text from
 * ports and paths, so the tests check them without starting anything.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SCRAPE_JOB } from './contract.ts';

export type Balancer = 'haproxy' | 'nginx';
export const BALANCERS: readonly Balancer[] = ['haproxy', 'nginx'];
export const BALANCER_BINARIES: Record<Balancer, string> = { haproxy: '/usr/sbin/haproxy', nginx: '/usr/sbin/nginx' };
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** How each balancer keeps a killed replica from failing requests (the harness itself never retries). */
export const BALANCER_RETRIES: Record<Balancer, string> = {
  haproxy:
    'HAProxy retries a request that could not reach a replica on another one (retry-on conn-failure empty-response response-timeout, redispatch); /readyz checks every 500 ms',
  nginx:
    'nginx retries on the next replica after a connection error, timeout or 502 (proxy_next_upstream … non_idempotent, 3 tries); passive checks only',
};

/** The response header naming the replica that answered (HAProxy: its server name; nginx: its address). */
export const REPLICA_HEADER = 'x-cluster-replica';

export interface Replica {
  name: string;
  port: number;
}

export const replicaName = (i: number) => `replica-${i + 1}`;

/**
 * HAProxy: round robin, active health checks on /readyz every 500 ms (down after 2 failures), and
 * a request that could not reach a replica (refused, reset, no answer) retried on another one
 * (`retry-on` + `redispatch`; the body is buffered so a POST can be replayed).
 */
export function haproxyConfig(o: { port: number; replicas: Replica[] }): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 10s',
    '  retries 3',
    '  option redispatch 1',
    '  option http-buffer-request',
    '  retry-on conn-failure empty-response response-timeout',
    'frontend api',
    `  bind 127.0.0.1:${o.port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 500ms fall 2 rise 1',
    `  http-response set-header ${REPLICA_HEADER} %s`,
    ...o.replicas.map((r) => `  server ${r.name} 127.0.0.1:${r.port} check`),
    '',
  ].join('\n');
}

/**
 * nginx (open source): round robin with passive health checks only (active checks on /readyz are
 * an NGINX Plus feature): a replica that refuses a connection is skipped for 5 s, and the request
 * goes to the next one (`proxy_next_upstream`, POSTs included, up to 3 tries). Every path nginx
 * writes is under `dir`, so it runs without touching /var.
 */
export function nginxConfig(o: { port: number; replicas: Replica[]; dir: string; asRoot: boolean }): string {
  const tmp = (name: string) => join(o.dir, 'tmp', name);
  return [
    ...(o.asRoot ? ['user root root;'] : []),
    'worker_processes 1;',
    'daemon off;',
    'master_process on;',
    `pid ${join(o.dir, 'nginx.pid')};`,
    `error_log ${join(o.dir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    // nginx closes a client connection after 1,000 requests by default; a request the client
    // sends on it at that moment fails without reaching a replica (a POST is not retried).
    '  keepalive_requests 1000000;',
    `  client_body_temp_path ${tmp('body')};`,
    `  proxy_temp_path ${tmp('proxy')};`,
    `  fastcgi_temp_path ${tmp('fastcgi')};`,
    `  uwsgi_temp_path ${tmp('uwsgi')};`,
    `  scgi_temp_path ${tmp('scgi')};`,
    '  upstream replicas {',
    ...o.replicas.map((r) => `    server 127.0.0.1:${r.port} max_fails=1 fail_timeout=5s;`),
    '    keepalive 16;',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${o.port};`,
    '    location / {',
    '      proxy_pass http://replicas;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_connect_timeout 2s;',
    '      proxy_next_upstream error timeout http_502 non_idempotent;',
    '      proxy_next_upstream_tries 3;',
    `      add_header ${REPLICA_HEADER} $upstream_addr always;`,
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The replica that answered, from the header: HAProxy's server name, or nginx's last upstream address. */
export function replicaFromHeader(value: string | null, replicas: Replica[]): string | null {
  if (!value) return null;
  const last = value.split(',').pop()!.trim();
  const byName = replicas.find((r) => r.name === last);
  if (byName) return byName.name;
  return replicas.find((r) => last === `127.0.0.1:${r.port}`)?.name ?? null;
}

/** Prometheus: every replica a target of the API's job, named by an `instance` label; 1 s scrape and rules. */
export function prometheusConfig(o: { replicas: Replica[]; rulesFile: string; intervalSeconds?: number }): string {
  const every = `${o.intervalSeconds ?? 1}s`;
  return stringify(
    {
      global: { scrape_interval: every, evaluation_interval: every, external_labels: { service: 'gitops-ml' } },
      rule_files: [o.rulesFile],
      scrape_configs: [
        {
          job_name: SCRAPE_JOB,
          metrics_path: '/metrics',
          static_configs: o.replicas.map((r) => ({
            targets: [`127.0.0.1:${r.port}`],
            labels: { instance: r.name, app: 'gitops-ml-api' },
          })),
        },
      ],
    },
    { lineWidth: 0 },
  );
}

/** argv of the balancer, in the foreground, with its config at `configPath`. */
export function balancerCommand(lb: Balancer, configPath: string, dir: string): string[] {
  return lb === 'haproxy'
    ? [BALANCER_BINARIES.haproxy, '-db', '-f', configPath]
    : [BALANCER_BINARIES.nginx, '-p', dir, '-e', join(dir, 'error.log'), '-c', configPath];
}
