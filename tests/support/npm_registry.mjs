// Test support: a minimal npm registry on 127.0.0.1 that serves one packed tarball, so that a
// client which only speaks to registries (Deno's `npm:` specifiers) installs the package as a
// user would. Contract: serveRegistry({ tarball, name, version }) → { url, requests, close() };
// `url` ends with `/` (give it as NPM_CONFIG_REGISTRY); `requests` lists the paths asked for.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export async function serveRegistry({ tarball, name, version }) {
  const bytes = readFileSync(tarball);
  const file = basename(tarball);
  const requests = [];
  let url;
  const packument = () => ({
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        name,
        version,
        dependencies: {},
        dist: {
          tarball: `${url}${name}/-/${file}`,
          shasum: createHash('sha1').update(bytes).digest('hex'),
          integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
        },
      },
    },
  });
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://registry').pathname);
    requests.push(path);
    if (req.method === 'GET' && path === `/${name}`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(packument()));
    } else if (req.method === 'GET' && path === `/${name}/-/${file}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Not found"}');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  url = `http://127.0.0.1:${server.address().port}/`;
  return {
    url,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
