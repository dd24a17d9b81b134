// Test support: run a child process to its end and collect its output, killed after a bound.
// Contract: runProcess(cmd, args, { cwd, env, timeoutMs }) → { code, stdout, stderr } (code is
// null when it was killed).
import { spawn } from 'node:child_process';

export function runProcess(cmd, args, { cwd, env, timeoutMs = 90_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, stdout, stderr: `${stderr}\n${e.message}` }); });
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
