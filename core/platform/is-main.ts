/** True when the module with this `import.meta.url` is the script node was started with. */
import { pathToFileURL } from 'node:url';

export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}
