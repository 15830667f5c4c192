import { readFileSync, readlinkSync } from 'node:fs';

/**
 * What identifies a running process beyond its PID, which the system reuses. Linux only (from
 * /proc); elsewhere the fields are absent and callers fall back to weaker evidence.
 */
export interface ProcessIdentity {
  readonly pid: number;
  /** This boot of the kernel: PIDs and start times mean nothing across boots. */
  readonly boot?: string;
  /** The PID namespace: a container sees other PIDs than its host and its neighbours. */
  readonly pidNamespace?: string;
  /** Start time in clock ticks since boot: a reused PID belongs to a process that started later. */
  readonly start?: string;
}

let self: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  if (!self) {
    const boot = readQuietly(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    const pidNamespace = readQuietly(() => readlinkSync('/proc/self/ns/pid'));
    const start = startTimeOf(process.pid);
    self = boot && pidNamespace && start ? { pid: process.pid, boot, pidNamespace, start } : { pid: process.pid };
  }
  return self;
}

/**
 * Whether `pid` names a running process — the same one that started at `start`, when given (a
 * value from startTimeOf, comparable only within one boot and PID namespace).
 */
export function isRunning(pid: number, start?: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (start !== undefined) return startTimeOf(pid) === start;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat; the name in field 2 may hold spaces and parentheses, so count from its end. */
function startTimeOf(pid: number): string | undefined {
  const stat = readQuietly(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function readQuietly(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
