// A tiny static file server over a directory, for the demo (`npm start`) and browser tests: correct MIME types
// (application/wasm matters for streaming instantiation), no directory listing, no path escape.
// `virtual` maps extra URL paths to generated content; `mounts` maps URL prefixes to other
// directories (e.g. `{ '/pkg/': pkgDir }`). Requests for any other host name than the one it
// listens on, `localhost` or the loopback addresses get 421: a DNS-rebinding page would otherwise
// read what it serves, such as the demo's config with the emulator's service key.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ts': 'text/plain; charset=utf-8',
};

export async function serveStatic(dirIn, { host = '127.0.0.1', port = 0, virtual = new Map(), mounts = {}, onRequest } = {}) {
  const dir = resolve(dirIn);
  const names = new Set([host, 'localhost', '127.0.0.1', '[::1]']);
  const server = createServer(async (req, res) => {
    let path;
    let asked;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      asked = new URL(`http://${req.headers.host}`);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!names.has(asked.hostname) || Number(asked.port || 80) !== server.address().port) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request');
      return;
    }
    if (onRequest && (await onRequest(req, res, path))) return;
    if (virtual.has(path)) {
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'text/plain', 'cache-control': 'no-store' });
      res.end(virtual.get(path));
      return;
    }
    const mount = Object.keys(mounts).find((m) => path.startsWith(m));
    const base = mount ? resolve(mounts[mount]) : dir;
    const rel = mount ? path.slice(mount.length - 1) : path;
    const file = normalize(join(base, rel.endsWith('/') ? `${rel}index.html` : rel));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((resolve, reject) => server.listen(port, host, resolve).once('error', reject));
  const { port: bound } = server.address();
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
