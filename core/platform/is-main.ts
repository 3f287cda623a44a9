/**
 * True when the module with this `import.meta.url` is the script node was started with, or the
 * script a host is loading as if it were (`asMain`: the pipeline runs stage scripts in-process).
 */
import { pathToFileURL } from 'node:url';

let hosted: string | undefined;

export function isMain(importMetaUrl: string): boolean {
  if (importMetaUrl === hosted) return true;
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}

/** Run `load` (an import of `url`) with `url` counting as the main script; one at a time. */
export async function asMain<T>(url: string, load: () => Promise<T>): Promise<T> {
  if (hosted !== undefined) throw new Error(`asMain: ${hosted} is being loaded as the main script already`);
  hosted = url;
  try {
    return await load();
  } finally {
    hosted = undefined;
  }
}
