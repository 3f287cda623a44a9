import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { chromium, type Page } from 'playwright-core';
import { renderIndexHtml, normalizeBasePath, UI_CONTENT_SECURITY_POLICY, UI_SCRIPT } from './page.ts';
import { UI_STYLE } from './style.ts';
import { MONITORING_CSP, renderMonitoringHtml } from './monitoring.ts';
import { readBody, serve } from '../../harness/testing/lifecycle.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/ui-screenshot.png';

const CATEGORIES = ['ABE', 'ALB', 'ATL', 'BOS', 'DEN', 'JFK', 'LAX', 'ORD', 'SEA', 'SFO'];
const modelInfo = (version: number) => ({
  name: 'flight-delay',
  version,
  stage: 'production',
  ready: true,
  loaded_at: '2026-11-22T01:00:00.000Z',
  backend: 'wasm',
  task: 'classification',
  threshold: 0.366,
  git_commit: 'abc1234def5678',
  data_md5: 'd41d8cd98f00b204e9800998ecf8427e',
  created_at: '2026-11-21T23:00:00.000Z',
  label_text: { '0': 'likely on time', '1': 'likely late (> 15 min)' },
  inputs: [
    {
      name: 'date',
      type: 'timestamp',
      required: true,
      min: '2000-01-01',
      max: '2030-12-31',
      default: '2001-01-09T14:35:00.000Z',
    },
    { name: 'distance', type: 'number', required: true, min: 1, max: 6000, default: 733 },
    {
      name: 'origin',
      type: 'category',
      required: true,
      pattern: '^[A-Z0-9]{3}$',
      default: 'ATL',
      categories: CATEGORIES,
    },
    {
      name: 'destination',
      type: 'category',
      required: true,
      pattern: '^[A-Z0-9]{3}$',
      default: 'ORD',
      categories: CATEGORIES,
    },
  ],
});

/** A `/drift` answer: one drifted categorical feature with history, one numeric feature still waiting. */
const DRIFT = {
  model_version: 3,
  window: 800,
  window_size: 5000,
  dataset: { drift_share: 0.5, drifted: true },
  history: [{ scores: { 'date.month': 0.2 } }, { scores: { 'date.month': 0.65 } }],
  features: [
    {
      name: 'date.month',
      drifted: true,
      result: { method: 'jensen_shannon', score: 0.65, threshold: 0.1 },
      labels: ['1', '5'],
      reference: [90, 10],
      current: [5, 95],
      n: 800,
      missing: 0,
      unseen_total: 0,
      out_of_range_total: 0,
    },
    {
      name: 'distance',
      drifted: false,
      result: null,
      labels: ['1–300', '300–900', '900–6000'],
      reference: [30, 40, 30],
      current: [0, 0, 0],
      n: 0,
      missing: 2,
      unseen_total: 0,
      out_of_range_total: 1,
    },
  ],
};

/** What the stand-in rejects, in the API's error format, so the page's error display is exercised. */
function invalidFields(record: Record<string, unknown>) {
  const details: { field: string; message: string }[] = [];
  if (typeof record.date !== 'string' || !/Z$/.test(record.date) || Number.isNaN(Date.parse(record.date)))
    details.push({ field: 'date', message: `must be an ISO timestamp in UTC, got ${JSON.stringify(record.date)}` });
  const d = record.distance;
  if (typeof d !== 'number' || !Number.isFinite(d))
    details.push({ field: 'distance', message: `must be a finite number, got ${JSON.stringify(d)}` });
  else if (d < 1 || d > 6000) details.push({ field: 'distance', message: `must be between 1 and 6000, got ${d}` });
  for (const field of ['origin', 'destination']) {
    if (typeof record[field] !== 'string' || !/^[A-Z0-9]{3}$/.test(record[field]))
      details.push({ field, message: `must match ^[A-Z0-9]{3}$, got ${JSON.stringify(record[field])}` });
  }
  return details;
}

async function startStandIn() {
  const seen = {
    version: 3,
    bodies: [] as unknown[],
    auth: [] as (string | undefined)[],
    /** When set, the monitoring reads answer 401 without this bearer token (API_TOKENS). */
    readerToken: undefined as string | undefined,
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': UI_CONTENT_SECURITY_POLICY,
      });
      return res.end(renderIndexHtml({ modelName: 'flight-delay' }));
    }
    if (req.method === 'GET' && req.url === '/v1/models/flight-delay') return send(res, 200, modelInfo(seen.version));
    if (req.method === 'GET' && req.url?.startsWith('/page/')) {
      return res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(renderIndexHtml({ modelName: decodeURIComponent(req.url.slice(6)) }));
    }
    if (req.method === 'GET' && req.url === '/v1/models/warming')
      return send(res, 503, { name: 'warming', version: null, ready: false, reason: 'loading' });
    if (req.method === 'POST' && req.url === '/predict') {
      const record = JSON.parse(await readBody(req)) as Record<string, unknown>;
      seen.bodies.push(record);
      seen.auth.push(req.headers.authorization);
      const details = invalidFields(record);
      if (details.length)
        return send(res, 400, {
          error: { code: 'invalid_request', message: `${details.length} field(s) are invalid`, details },
        });
      const probability = Math.min(1, (record.distance as number) / 6000);
      return send(res, 200, {
        model_name: 'flight-delay',
        model_version: seen.version,
        prediction_id: `p-${seen.bodies.length}`,
        prediction: { probability, label: probability >= 0.366 ? 1 : 0, threshold: 0.366 },
      });
    }
    if (req.method === 'GET' && req.url === '/monitoring') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': MONITORING_CSP });
      return res.end(renderMonitoringHtml({ modelName: 'flight-delay' }));
    }
    if (
      seen.readerToken &&
      (req.url === '/drift' || req.url === '/feedback') &&
      req.headers.authorization !== `Bearer ${seen.readerToken}`
    )
      return send(res, req.headers.authorization ? 403 : 401, { error: { code: 'unauthorized', message: 'token' } });
    if (req.method === 'GET' && req.url === '/drift') return send(res, 200, DRIFT);
    if (req.method === 'GET' && req.url === '/feedback')
      return send(res, 200, { live: { n: 600, roc_auc: 0.6, accuracy: 0.7 } });
    send(res, 404, { error: { code: 'not_found', message: `no route ${req.method} ${req.url}` } });
  };
  const server = await serve((req, res) => void handle(req, res));
  return { url: `${server.url}/`, seen, close: server.close };
}

test('renderIndexHtml: escapes the model name, embeds config safely, CSP hashes match the inline code', () => {
  const html = renderIndexHtml({ modelName: '</script><b>x"&', basePath: 'api/' });
  assert.ok(!html.includes('<b>x'), 'model name reaches the HTML escaped');
  assert.match(html, /<title>&lt;\/script&gt;&lt;b&gt;x&quot;&amp; · predictions<\/title>/);
  assert.match(html, /"modelName":"\\u003c\/script\\u003e\\u003cb\\u003ex\\"\\u0026"/);
  assert.match(html, /href="\/api\/metrics"/);
  assert.equal(normalizeBasePath(undefined), '');
  assert.equal(normalizeBasePath('/'), '');
  assert.equal(normalizeBasePath('https://h.example/x/'), 'https://h.example/x');
  assert.ok(!/<\/script/i.test(UI_SCRIPT), 'the inline script cannot end its own element');
  assert.doesNotThrow(() => new Script(UI_SCRIPT), 'the browser script parses');
  const hash = (s: string) => createHash('sha256').update(s).digest('base64');
  assert.ok(html.includes(`<script>${UI_SCRIPT}</script>`) && UI_CONTENT_SECURITY_POLICY.includes(hash(UI_SCRIPT)));
  assert.ok(html.includes(`<style>${UI_STYLE}</style>`) && UI_CONTENT_SECURITY_POLICY.includes(hash(UI_STYLE)));
});

const hasChromium = existsSync(CHROMIUM);
const browserTestName = hasChromium
  ? 'web UI in headless Chromium: defaults, predict, field errors, network error, model swap, history'
  : `web UI in headless Chromium — SKIPPED: ${CHROMIUM} not found (apt-get install chromium)`;

test(browserTestName, { skip: hasChromium ? false : `${CHROMIUM} not found` }, async (t) => {
  const standIn = await startStandIn();
  // Playwright gives every launch a fresh temporary --user-data-dir; the flags keep Chromium off the network.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(async () => {
    await browser.close();
    await standIn.close();
  });
  const page: Page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(msg.text());
  });
  const text = async (selector: string) => (await page.locator(selector).textContent())?.trim();
  const field = (name: string) => page.locator(`input[name="${name}"]`);
  const shows = (selector: string, wanted: string) =>
    page.locator(selector, { hasText: new RegExp(`^${wanted.replace(/[.*+?^$()|[\]\\]/g, '\\$&')}$`) }).waitFor();

  await t.test('loads the model description and pre-fills the defaults', async () => {
    await page.goto(standIn.url);
    await field('distance').waitFor();
    assert.equal(await field('date').inputValue(), '2001-01-09T14:35');
    assert.equal(await field('date').getAttribute('type'), 'datetime-local');
    assert.equal(await field('distance').inputValue(), '733');
    assert.equal(await field('origin').inputValue(), 'ATL');
    assert.equal(await field('destination').inputValue(), 'ORD');
    assert.equal(await page.locator('#f-origin-list option').count(), CATEGORIES.length);
    assert.equal(await page.getByLabel('Distance').getAttribute('max'), '6000', 'inputs are labelled');
    assert.equal(await text('#model-version'), 'v3');
    assert.equal(await text('#model-stage'), 'production');
    assert.match((await text('#model-meta')) ?? '', /backend wasm · loaded 2026-11-22 01:00 UTC/);
    assert.equal(await page.locator('a[href="/metrics"]').count(), 1);
    assert.equal(await page.locator('a[href="/openapi.json"]').count(), 1);
  });

  await t.test('submits with Enter, sends ISO UTC times and the token, shows who answered', async () => {
    await field('distance').fill('3000');
    await field('destination').fill('sfo');
    assert.equal(await field('destination').inputValue(), 'SFO', 'category codes are upper-cased while typing');
    await page.click('#token-box summary');
    await page.fill('#token', 'secret');
    await field('distance').press('Enter');
    await page.locator('#answered').waitFor();
    assert.equal(await text('#answered'), 'answered by flight-delay v3');
    assert.equal(await text('#probability'), '50.0%');
    assert.equal(await text('#verdict'), 'likely late (> 15 min)');
    assert.deepEqual(standIn.seen.bodies.at(-1), {
      date: '2001-01-09T14:35:00.000Z',
      distance: 3000,
      origin: 'ATL',
      destination: 'SFO',
    });
    assert.equal(standIn.seen.auth.at(-1), 'Bearer secret');
    assert.equal(await page.getAttribute('#result', 'aria-live'), 'polite');
  });

  await t.test('a 400 marks the offending field with the server message', async () => {
    await field('distance').fill('99999');
    await page.click('#predict');
    await page.locator('#error').waitFor();
    assert.equal(await text('#error p'), '1 field(s) are invalid');
    assert.equal(await field('distance').getAttribute('aria-invalid'), 'true');
    assert.equal(await text('#f-distance-err'), 'must be between 1 and 6000, got 99999');
    assert.equal(await field('origin').getAttribute('aria-invalid'), null);
    assert.equal(await page.locator('input[name="distance"]:focus').count(), 1, 'focus moves to the bad field');
    await page.screenshot({ path: '/tmp/ui-screenshot-error.png', fullPage: true });
    await field('distance').fill('500');
    assert.equal(await field('distance').getAttribute('aria-invalid'), null, 'editing clears the mark');
  });

  await t.test('a network failure says so', async () => {
    await page.route('**/predict', (route) => route.abort('connectionrefused'));
    try {
      await page.click('#predict');
      await page.locator('#error p', { hasText: /^Could not reach the server/ }).waitFor();
    } finally {
      await page.unroute('**/predict');
    }
  });

  await t.test(
    'a hot swap shows the answering version and refreshes the header; history keeps the last 5',
    async () => {
      standIn.seen.version = 4;
      await page.click('#predict');
      await shows('#model-version', 'v4');
      assert.equal(await text('#answered'), 'answered by flight-delay v4');
      assert.match((await text('.note')) ?? '', /v3 → v4/);
      assert.equal(await text('#verdict'), 'likely on time');
      for (const distance of ['1200', '2500', '4000', '5200']) {
        await field('distance').fill(distance);
        await page.click('#predict');
        await shows('#probability', `${((+distance / 6000) * 100).toFixed(1)}%`);
      }
      assert.equal(await page.locator('#history li').count(), 5);
      assert.match((await text('#history li:first-child')) ?? '', /86\.7% · likely late.*v4/);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: '/tmp/ui-screenshot-mobile.png', fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.setViewportSize({ width: 1200, height: 860 });
      await page.screenshot({ path: '/tmp/ui-screenshot-dark.png', fullPage: true });
    },
  );

  await t.test('a model that is still loading says so', async () => {
    await page.goto(new URL('/page/warming', standIn.url).href);
    await page.locator('#fields [role="alert"] p', { hasText: 'The model is not ready yet (loading)' }).waitFor();
  });

  await t.test('a model the server does not know shows its error and a retry button', async () => {
    await page.goto(new URL('/page/no%20such%2Fmodel', standIn.url).href);
    await page.locator('#fields [role="alert"] p', { hasText: 'no route GET /v1/models/no%20such%2Fmodel' }).waitFor();
    assert.equal(await page.locator('#fields button', { hasText: 'Retry' }).count(), 1);
    assert.ok(await page.locator('#predict').isDisabled(), 'nothing to submit without a model description');
  });

  await t.test(
    'the monitoring page draws each feature from /drift and live quality from /feedback under its CSP',
    async () => {
      await page.goto(new URL('/monitoring', standIn.url).href);
      await page.locator('main .card').nth(1).waitFor();
      assert.equal(await text('#version'), 'v3');
      assert.equal(await text('#share'), '50% of features drifted — DATASET DRIFT');
      assert.equal(await text('#live'), 'roc_auc 0.600 · accuracy 0.700 (n=600)');
      assert.deepEqual(await page.locator('main .card h2 .badge').allTextContents(), [
        'jensen_shannon 0.650 drift',
        'waiting for data',
      ]);
      assert.equal(
        await page.locator('main .card').first().locator('svg rect').count(),
        4,
        'reference and current bar per bin',
      );
      assert.equal(
        await page.locator('main .card').first().locator('svg polyline').count(),
        1,
        'drift score over time',
      );
      assert.match((await text('main .card:nth-child(2) .muted')) ?? '', /missing 2 .* out of range 1/);
    },
  );

  await t.test('with API_TOKENS the monitoring page asks for a token, then reads with it', async () => {
    standIn.seen.readerToken = 'reader-secret';
    try {
      await page.goto(new URL('/monitoring', standIn.url).href);
      await page.locator('#share', { hasText: 'cannot load /drift: it needs a token' }).waitFor();
      assert.equal(await page.locator('#token-box[open]').count(), 1, 'the token box opens');
      await page.fill('#token', 'wrong-secret');
      await page.press('#token', 'Enter');
      await page.locator('#share', { hasText: 'this token may not read monitoring' }).waitFor();
      await page.fill('#token', 'reader-secret');
      await page.press('#token', 'Enter');
      await page.locator('#share', { hasText: '50% of features drifted' }).waitFor();
      assert.equal(await text('#version'), 'v3');
    } finally {
      standIn.seen.readerToken = undefined;
    }
  });

  assert.deepEqual(problems, [], 'no script errors or CSP violations in the page');
});
