/**
 * A registry writer for the crash tests, run as its own process so the test can SIGKILL it.
 * argv[2] is JSON: { registry, model, bundle, op: 'register' | 'promote' | 'loop' | 'batch',
 * pauseAt?: FaultPoint, version?, stage?, count? }. At `pauseAt` it prints `PAUSED <point>` and
 * waits to be killed; `loop` registers and promotes until killed, printing each step.
 */
import { memoryLogger } from '../../platform/log.ts';
import { openRegistry } from '../registry.ts';
import type { FaultPoint } from '../backend.ts';

interface Args {
  registry: string;
  model: string;
  bundle: string;
  op: 'register' | 'promote' | 'loop' | 'batch';
  pauseAt?: FaultPoint;
  version?: number;
  stage?: string;
  count?: number;
}

const args = JSON.parse(process.argv[2]) as Args;
const say = (line: string) => process.stdout.write(line + '\n');

const registry = await openRegistry(args.registry, {
  log: memoryLogger(),
  env: { USER: `child-${process.pid}` },
  faultHook: (point) => {
    if (point !== args.pauseAt) return;
    say(`PAUSED ${point}`);
    setInterval(() => undefined, 60_000); // stay alive until the test kills us
    return new Promise<void>(() => undefined);
  },
});
const who = { source: 'crash-test', reason: `pid ${process.pid}` };

switch (args.op) {
  case 'register':
    say(`REGISTERED ${(await registry.register(args.model, args.bundle, {}, who)).version}`);
    break;
  case 'promote':
    await registry.setStage(args.model, args.stage ?? 'production', args.version ?? 1, who);
    say('PROMOTED');
    break;
  case 'batch':
  case 'loop':
    for (let i = 0; args.op === 'loop' || i < (args.count ?? 1); i++) {
      const v = await registry.register(args.model, args.bundle, { extra: { pid: process.pid, i } }, who);
      say(`REGISTERED ${v.version}`);
      await registry.setStage(args.model, i % 2 ? 'staging' : 'production', v.version, who);
      say(`PROMOTED ${v.version}`);
    }
    break;
}
say('DONE');
