/**
 * Bounded JSON bodies: the declared length is checked before reading and the running total while
 * reading, so an oversized body costs at most `limit` bytes of memory. A compressed body
 * (`Content-Encoding: gzip`, `deflate` or `br`) is decoded as it streams and the limit applies to
 * the decoded bytes too (a small gzip bomb is a 413, not an out-of-memory); bytes that are not what
 * their label says are a 400, an encoding this service does not speak a 415. Malformed JSON is a
 * 400 that says where it broke; a non-JSON content type is a 415.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  type Gunzip,
  type Inflate,
  type BrotliDecompress,
} from 'node:zlib';
import { HttpError } from '../errors.ts';

const DECODERS: Record<string, () => Gunzip | Inflate | BrotliDecompress> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The request's body stream, decoded when it carries a Content-Encoding this service speaks. */
function decodedBody(req: IncomingMessage): { stream: Readable; encoding: string | null } {
  const raw = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  const encodings = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e !== 'identity');
  if (encodings.length === 0) return { stream: req, encoding: null };
  const unknown = encodings.find((e) => !DECODERS[e]);
  if (unknown !== undefined || encodings.length > 1) {
    req.resume();
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Content-Encoding "${raw}" is not supported; send the body as is, or with one of gzip, deflate, br`,
    );
  }
  const decoder = DECODERS[encodings[0]]();
  req.on('error', (err) => decoder.destroy(err));
  return { stream: req.pipe(decoder), encoding: encodings[0] };
}

const tooLarge = (limit: number, encoding: string | null) =>
  new HttpError(
    413,
    'payload_too_large',
    `request body exceeds the ${limit}-byte limit${encoding ? ' once decoded' : ''}; send fewer instances per request`,
  );

/**
 * The body's chunks, at most `limit` bytes. Plain 'data'/'end' listeners rather than `for await`:
 * an async iterator costs a few objects and promise turns per request, which at tens of thousands
 * of small requests a second was a visible share of the CPU. The listeners are anonymous on
 * purpose: tsx keeps function names, and a named closure per request costs a defineProperty call.
 * They are never removed: the first settle wins and the stream dies with its request.
 */
function collect(req: IncomingMessage, stream: Readable, limit: number, encoding: string | null): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    stream.on('data', function (chunk: Buffer) {
      if (settled) return;
      total += chunk.length;
      if (total <= limit) return void chunks.push(chunk);
      settled = true;
      req.resume();
      stream.destroy();
      reject(tooLarge(limit, encoding));
    });
    stream.once('end', function () {
      if (!settled) resolve(chunks);
      settled = true;
    });
    stream.once('error', function (err: Error) {
      if (!settled) reject(encoding ? invalidEncoding(req, encoding, err) : err);
      settled = true;
    });
    // Closed before 'end' (the client hung up): the error for-await gave, so observe counts a 499.
    stream.once('close', function () {
      if (!settled)
        reject(
          Object.assign(new Error('the request body ended before it was complete'), {
            code: 'ERR_STREAM_PREMATURE_CLOSE',
          }),
        );
      settled = true;
    });
  });
}

function invalidEncoding(req: IncomingMessage, encoding: string, err: Error): HttpError {
  req.resume();
  return new HttpError(
    400,
    'invalid_encoding',
    `the request body is not valid ${encoding} data (Content-Encoding: ${encoding}): ${err.message}`,
  );
}

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `send the body as JSON with "Content-Type: application/json" (got ${type ? `"${type}"` : 'no content type'})`,
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(
      413,
      'payload_too_large',
      `request body of ${declared} bytes exceeds the ${limit}-byte limit; send fewer instances per request`,
    );
  }
  const { stream, encoding } = decodedBody(req);
  const chunks = await collect(req, stream, limit, encoding);
  const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}
