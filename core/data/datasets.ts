/**
 * The embedded default data: files shipped inside the `vega-datasets` npm package, addressed as
 * `vega-datasets:data/flights-3m.parquet` in params.yaml so the default works offline.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

export const BUNDLED_PREFIX = 'vega-datasets:';

export function isBundledDataset(uri: string): boolean {
  return uri.startsWith(BUNDLED_PREFIX);
}

export function bundledDatasetPath(uri: string): string {
  const rel = uri.slice(BUNDLED_PREFIX.length).replace(/^\/+/, '');
  // The package's `exports` hides package.json, so locate the root from its entry point.
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const path = resolve(dir, rel);
  if (!path.startsWith(dir + '/') || !existsSync(path)) {
    throw new Error(`${uri}: no such file in the vega-datasets package (looked at ${path}); run \`npm install\` or pick a file under ${join(dir, 'data')}`);
  }
  return path;
}
