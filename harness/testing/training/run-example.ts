/** Runs the stages of a docs/examples params file in a temp repository (a scratch tool for sessions, not a test). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadParams } from '../../../core/schemas/params.ts';
import { createLogger } from '../../../core/platform/log.ts';
import { ingest } from '../../../training/stages/ingest.ts';
import { validate } from '../../../training/stages/validate.ts';
import { prepare } from '../../../training/stages/prepare.ts';
import { train } from '../../../training/stages/train.ts';
import { evaluate } from '../../../training/stages/evaluate.ts';
import { noTrack, tempRepo } from './fixtures.ts';

const [file, epochs] = process.argv.slice(2);
const example = await loadParams(file);
const params = { ...example, train: { ...example.train!, max_epochs: Number(epochs ?? example.train!.max_epochs) } };
const repo = process.env.REPO ?? (await tempRepo());
await writeFile(join(repo, 'params.yaml'), stringify(params));
const log = createLogger();
await ingest({ repoRoot: repo, params, log, track: noTrack });
await validate({ repoRoot: repo, params, log });
await prepare({ repoRoot: repo, params, log });
await train({ repoRoot: repo, params, log });
const ev = await evaluate({ repoRoot: repo, params, log });
console.log(JSON.stringify({ repo, test: ev.test, baseline: ev.baseline }, null, 1));
