/** The machine's own binaries, found on the PATH the rehearsal started with (stubs excluded). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function realBinary(name: string): string {
  for (const dir of (process.env.REHEARSE_HOST_PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not installed on this machine`);
}
