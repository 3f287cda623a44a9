/**
 * The process groups a rehearsal starts (steps and stand-in servers run detached, each in a group of
 * its own, so a timeout can kill a step with everything it started). A rehearsal stopped by Ctrl-C or
 * SIGTERM, or one that exits on an error, must not leave them running: they would hold ports, CPU
 * and the sandbox (a step may be a whole `npm test`). Every group still tracked is SIGKILLed then.
 */
const groups = new Set<number>();
let installed = false;

function killAll(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  groups.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      process.stderr.write(`[rehearse] ${signal}: stopping the steps and servers it started\n`);
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
}

/** Track the group led by `pid` until the returned function is called (when it has ended). */
export function trackGroup(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  install();
  groups.add(pid);
  return () => groups.delete(pid);
}
