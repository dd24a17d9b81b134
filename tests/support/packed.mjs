// The package as a user gets it: `npm pack` of this repository, installed into a blank project in
// a temp directory. Runtime tests (Node, Deno, workerd, Vite) import it from there by name.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Packs the repository and installs the tarball into a new project; returns its directory. */
export function installPacked({ files = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'azure-iot-wasm-user-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8' });
  const tarball = join(dir, JSON.parse(out)[0].filename);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'blank-user-project', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], { cwd: dir, stdio: 'inherit' });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
