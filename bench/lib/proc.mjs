// Readings from Linux's /proc for the benchmarks: a child process found by its name, its resident
// memory (VmRSS, and VmHWM, the peak) and CPU time (utime + stime), and the current load.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** The pid of this process's child whose command name is `comm`, or null. */
export function childPid(comm, parent = process.pid) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (name === comm && ppid === parent) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** { rssMB, peakMB } of a process (its VmRSS and VmHWM). */
export function memoryOf(pid = 'self') {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

/** CPU seconds (user + system) a process has used. */
export function cpuSecondsOf(pid = 'self') {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** The 1-, 5- and 15-minute load averages. */
export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}
