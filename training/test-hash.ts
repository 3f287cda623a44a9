import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export async function md5OfFile(path: string): Promise<string> {
  return createHash('md5').update(await readFile(path)).digest('hex');
}
