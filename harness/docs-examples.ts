/**
 * `npm run docs:examples`: the example requests and answers the docs show are real. An example is
 * marked in Markdown (README.md, docs/*.md) by two HTML comments GitHub does not render:
 *
 *   <!-- example-request: NAME -->   then a ```sh block holding one curl command
 *   <!-- example-answer: NAME -->    then a ```json block holding what it answered
 *
 * Against a running API (after `npm start`), `--write` sends every request and puts the real
 * answers in the docs; without it the answers are compared by shape (the same fields, the same
 * types) and by the form of the prediction ids shown, and the command fails on any difference. harness/docs-examples.test.ts runs the same
 * comparison in CI against an API started in the test.
 */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../core/platform/atomic.ts';
import { defineCli, UsageError } from '../core/platform/cli.ts';
import { isMain } from '../core/platform/is-main.ts';
import { PREDICTION_ID_PATTERN } from '../api/prediction-id.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface DocExample {
  file: string;
  name: string;
  method: 'GET' | 'POST';
  /** Path and query of the curl URL (the host is the reader's). */
  path: string;
  body?: unknown;
  /** The answer as shown, parsed (undefined when the block is not JSON); its text is `answerText`. */
  answer: unknown;
  answerText: string;
}

const BLOCK = (kind: 'request' | 'answer', lang: string) =>
  new RegExp(`<!-- example-${kind}: ([\\w-]+) -->\\n\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``, 'g');

/** The Markdown files that may hold examples: the README and the docs pages. */
export async function docFiles(repo = REPO): Promise<string[]> {
  const docs = (await readdir(join(repo, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/** One curl command: its method, path and JSON body (`-d '…'`). */
export function parseCurl(command: string, where: string): Pick<DocExample, 'method' | 'path' | 'body'> {
  const line = command.replace(/\\\n\s*/g, ' ').trim();
  const url = /\bhttps?:\/\/[^\s'"]+/.exec(line);
  if (!/^curl\b/.test(line) || !url) throw new Error(`${where}: the request block must be one curl command with a URL`);
  const data = /\s-d\s+'([^']*)'/.exec(line);
  const path = new URL(url[0]).pathname + new URL(url[0]).search;
  if (!data) return { method: 'GET', path };
  try {
    return { method: 'POST', path, body: JSON.parse(data[1]) };
  } catch {
    throw new Error(`${where}: the -d body is not JSON: ${data[1]}`);
  }
}

/** Every marked example of one Markdown text; a request without its answer (or the reverse) is an error. */
export function parseExamples(file: string, text: string): DocExample[] {
  const requests = new Map([...text.matchAll(BLOCK('request', 'sh'))].map((m) => [m[1], m[2]]));
  const answers = new Map([...text.matchAll(BLOCK('answer', 'json'))].map((m) => [m[1], m[2]]));
  const names = new Set([...requests.keys(), ...answers.keys()]);
  return [...names].map((name) => {
    const where = `${file} example ${name}`;
    const request = requests.get(name);
    const answerText = answers.get(name);
    if (request === undefined || answerText === undefined)
      throw new Error(`${where}: needs both <!-- example-request: ${name} --> and <!-- example-answer: ${name} -->`);
    let answer: unknown;
    try {
      answer = JSON.parse(answerText);
    } catch {
      answer = undefined; // a placeholder until --write fills it; comparing fails on it
    }
    return { file, name, ...parseCurl(request, where), answer, answerText };
  });
}

export async function readExamples(repo = REPO): Promise<DocExample[]> {
  const all: DocExample[] = [];
  for (const file of await docFiles(repo)) all.push(...parseExamples(file, await readFile(join(repo, file), 'utf8')));
  return all;
}

/**
 * The fields and types of a JSON value, values left out: what an example must share with the
 * real answer. Arrays are described by their elements, which must all have one shape.
 */
export function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const shapes = [...new Set(value.map((v) => JSON.stringify(shapeOf(v))))];
    return shapes.length === 0 ? [] : shapes.length === 1 ? [JSON.parse(shapes[0])] : ['mixed', ...shapes];
  }
  if (typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shapeOf((value as Record<string, unknown>)[k])]),
    );
  return typeof value;
}

const PREDICTION_ID = new RegExp(PREDICTION_ID_PATTERN);

/**
 * Values whose form the shape check cannot see: every `prediction_id` (and each of
 * `prediction_ids`) must be a signed id as the API issues it (`<key id>.<base64url>`), not an
 * id of another form a reader would copy. One line per value that is not, naming where it is.
 */
export function formatProblems(value: unknown, at = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => formatProblems(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const where = `${at}.${k}`;
    const ids =
      k === 'prediction_id'
        ? [[where, v]]
        : k === 'prediction_ids' && Array.isArray(v)
          ? v.map((x, i) => [`${where}[${i}]`, x])
          : [];
    const bad = ids
      .filter(([, id]) => id !== null && (typeof id !== 'string' || !PREDICTION_ID.test(id)))
      .map(([w, id]) => `${w} is ${JSON.stringify(id)}, not a signed prediction id (${PREDICTION_ID_PATTERN})`);
    return [...bad, ...formatProblems(v, where)];
  });
}

/** Whether an example asks for predictions (its records follow the model's input columns). */
export const isPrediction = (e: Pick<DocExample, 'path'>) => e.path === '/predict' || e.path.endsWith(':predict');

/**
 * What a run of examples carries from one answer to the next: a feedback example shows
 * `"prediction_id":"…"`, which is sent as the id of the latest prediction answered.
 */
export interface AskSession {
  lastPredictionId?: string;
}

function withPredictionId(body: unknown, session: AskSession): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  if (b.prediction_id !== '…') return body;
  if (!session.lastPredictionId) throw new Error('a feedback example needs a prediction example before it');
  return { ...b, prediction_id: session.lastPredictionId };
}

/** Send one example's request to the API at `base`; its JSON answer. */
export async function ask(
  base: string,
  example: Pick<DocExample, 'file' | 'name' | 'method' | 'path' | 'body'>,
  session: AskSession = {},
  headers: Record<string, string> = {},
): Promise<unknown> {
  const body = withPredictionId(example.body, session);
  const res = await fetch(new URL(example.path, base), {
    method: example.method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${example.file} example ${example.name}: ${res.status} from ${example.path}: ${text}`);
  const answer = JSON.parse(text) as { prediction_id?: unknown; prediction_ids?: unknown };
  const id = Array.isArray(answer.prediction_ids) ? (answer.prediction_ids as unknown[]).at(-1) : answer.prediction_id;
  if (typeof id === 'string') session.lastPredictionId = id;
  return answer;
}

/** Replace one example's answer block in its file's text with `answer` (one line, as curl prints it). */
export function withAnswer(text: string, name: string, answer: unknown): string {
  return text.replace(BLOCK('answer', 'json'), (block, n: string, old: string) =>
    n === name ? block.replace(old, () => JSON.stringify(answer)) : block,
  );
}

const USAGE = `usage: npm run docs:examples -- [--url http://127.0.0.1:8080] [--token T] [--write]
  send every example request marked in README.md and docs/*.md to a running API (npm start) and
  compare its answer with the one shown: same fields, same types, prediction ids of the signed
  form the API issues (exit 1 on a difference)
  --url URL    the API (default http://127.0.0.1:8080)
  --token T    a bearer token, when the API requires one (API_TOKENS)
  --write      put the real answers in the docs instead of comparing
example: npm start, then in another terminal: npm run docs:examples -- --write`;

if (isMain(import.meta.url))
  await defineCli(
    {
      name: 'docs:examples',
      usage: USAGE,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:8080' },
        token: { type: 'string' },
        write: { type: 'boolean', default: false },
      },
    },
    async ({ values }, io) => {
      if (!URL.canParse(values.url)) throw new UsageError(`--url ${values.url} is not a URL`);
      const headers: Record<string, string> = values.token ? { authorization: `Bearer ${values.token}` } : {};
      const examples = await readExamples();
      const session: AskSession = {};
      let differ = 0;
      for (const example of examples) {
        const real = await ask(values.url, example, session, headers);
        const problems = formatProblems(example.answer);
        const sameShape =
          example.answer !== undefined && JSON.stringify(shapeOf(real)) === JSON.stringify(shapeOf(example.answer));
        const same = sameShape && problems.length === 0;
        // The API answering ids the pattern refuses means the pattern is stale, not the docs.
        const apiProblems = formatProblems(real);
        if (apiProblems.length) differ++;
        for (const p of apiProblems)
          io.stderr(`${example.file} ${example.name}: the API answered ${p}; update PREDICTION_ID_PATTERN\n`);
        if (values.write) {
          const path = join(REPO, example.file);
          await writeFileAtomic(path, withAnswer(await readFile(path, 'utf8'), example.name, real));
          io.stdout(`${example.file} ${example.name}: written${same ? '' : ' (its fields or id form changed)'}\n`);
        } else if (!same) {
          differ++;
          if (!sameShape)
            io.stderr(
              `${example.file} ${example.name}: shown ${example.answer === undefined ? 'no JSON' : JSON.stringify(shapeOf(example.answer))}, real ${JSON.stringify(shapeOf(real))}\n`,
            );
          for (const p of problems) io.stderr(`${example.file} ${example.name}: shown ${p}\n`);
        } else io.stdout(`${example.file} ${example.name}: same fields, ids of the signed form\n`);
      }
      if (differ > 0) {
        io.stderr(`${differ} example(s) differ from the API: npm run docs:examples -- --write\n`);
        return 1;
      }
    },
  ).main();
