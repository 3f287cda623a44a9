/**
 * CPU time a server process (and its children: cluster workers) has used, from /proc on Linux.
 * Read before and after each load slice, it gives server CPU per request, which a shared host's
 * neighbours disturb far less than requests per second (they take cores away, not work added).
 * Null where /proc is not there (macOS): the document then leaves the CPU figures out.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU times in 1/100 s on every mainstream architecture. */
const TICKS_PER_SECOND = 100;

interface Stat {
  ppid: number;
  ticks: number;
}

function statOf(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ")".
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of `pid` and its children; null when /proc cannot tell. */
export function processTreeCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const own = statOf(pid);
  if (!own) return null;
  let ticks = own.ticks;
  for (const entry of readdirSync('/proc')) {
    const child = /^\d+$/.test(entry) ? statOf(Number(entry)) : null;
    if (child?.ppid === pid) ticks += child.ticks;
  }
  return ticks / TICKS_PER_SECOND;
}
