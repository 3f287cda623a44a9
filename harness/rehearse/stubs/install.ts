/** Writes the stand-in executables into the sandbox's bin directory. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { realBinary } from './real.ts';

/** tsx by absolute URL: the stubs run in workspaces without node_modules. */
export const TSX = import.meta.resolve('tsx');

export const STUBBED = ['gcloud', 'docker', 'kubectl', 'terraform', 'gh'] as const;

export async function installStubs(bin: string): Promise<string> {
  await mkdir(bin, { recursive: true });
  const main = join(import.meta.dirname, 'main.ts');
  const dispatcher = join(bin, '.stub');
  await writeFile(dispatcher, `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${main}" "$@"\n`);
  const scripts: Record<string, string> = Object.fromEntries(
    STUBBED.map((t) => [t, `#!/bin/sh\nexec "${dispatcher}" ${t} "$@"\n`]),
  );
  const npm = realBinary('npm');
  const python = realBinary('python3');
  // npm: `npm ci` links the installed node_modules; REHEARSE_NPM_RECORD (an ERE) records matching commands instead of running them.
  scripts.npm = `#!/bin/sh
if [ "$1" = ci ]; then exec "${dispatcher}" npm-ci "$@"; fi
if [ -n "$REHEARSE_NPM_RECORD" ] && printf '%s\\n' "$*" | grep -Eq "^($REHEARSE_NPM_RECORD)"; then
  printf '{"cmd":"npm","args":%s,"cwd":"%s","step":"%s","env":{},"code":0,"recorded":true}\\n' "$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "$@")" "$PWD" "$REHEARSE_STEP" >> "$REHEARSE_CALLS"
  echo "rehearsal: npm $* recorded, not run (REHEARSE_NPM_RECORD)"; exit 0
fi
exec "${npm}" "$@"
`;
  // python3 -m venv: a venv whose pip installs stand-ins (no package index here).
  scripts.python3 = `#!/bin/sh
if [ "$1" = -m ] && [ "$2" = venv ]; then
  "${python}" -m venv --without-pip "$3" || exit $?
  printf '#!/bin/sh\\nREHEARSE_STUB_SELF="$0" exec "${dispatcher}" pip "$@"\\n' > "$3/bin/pip"; chmod +x "$3/bin/pip"
  printf '{"cmd":"python3","args":["-m","venv","%s"],"cwd":"%s","step":"%s","env":{},"code":0}\\n' "$3" "$PWD" "$REHEARSE_STEP" >> "$REHEARSE_CALLS"
  exit 0
fi
exec "${python}" "$@"
`;
  // The hosted runner image has passwordless sudo and apt-get; here packages are recorded, not installed.
  scripts.sudo = `#!/bin/sh\nwhile [ "\${1#-}" != "$1" ]; do shift; done\nexec "$@"\n`;
  scripts['apt-get'] =
    `#!/bin/sh\nprintf '{"cmd":"apt-get","args":%s,"cwd":"%s","step":"%s","env":{},"code":0}\\n' "$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "$@")" "$PWD" "$REHEARSE_STEP" >> "$REHEARSE_CALLS"\necho "rehearsal: apt-get $* recorded (no package download here)"\n`;
  for (const [name, text] of Object.entries(scripts)) await writeFile(join(bin, name), text);
  for (const name of ['.stub', ...Object.keys(scripts)]) await chmod(join(bin, name), 0o755);
  return dispatcher;
}
