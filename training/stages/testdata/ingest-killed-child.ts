/**
 * Ingest run as its own process for the crash test: argv[2] is a JSON file holding
 * { repo, params }. Its tracker SIGKILLs the process, so it dies exactly after the batches and
 * the manifest are written and before data.dvc is updated.
 */
import { readFile } from 'node:fs/promises';
import { memoryLogger } from '../../../core/platform/log.ts';
import { ingest } from '../ingest.ts';

const { repo, params } = JSON.parse(await readFile(process.argv[2], 'utf8'));
await ingest({ repoRoot: repo, params, log: memoryLogger(), track: async () => void process.kill(process.pid, 'SIGKILL') });
process.stdout.write('not killed\n');
