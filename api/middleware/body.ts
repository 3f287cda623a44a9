/**
 * Bounded JSON bodies: the declared length is checked before reading and the running total while
 * reading, so an oversized body costs at most `limit` bytes of memory. Malformed JSON is a 400 that
 * says where it broke; a non-JSON content type is a 415.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.ts';

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
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      req.resume();
      throw new HttpError(
        413,
        'payload_too_large',
        `request body exceeds the ${limit}-byte limit; send fewer instances per request`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}
