// Starts Azurite's Blob service (the local Azure Storage the emulator's file upload points at,
// docs/file-upload.md) for the tests, the demo and the main job, and readies it: the upload
// container exists and browsers on the given origins may PUT to it. Contract:
//   startAzurite({ host?, port?, https?: { cert, key, ca? }, cors?: [origins], container? })
//     → { blobEndpoint, accountName, accountKey, container, host, port, stop() }
//   fileUploadArgs(az) → the emulator flags that send its file uploads there.
// Each start has a temporary --location of its own, removed by stop().
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'azurite-blob.cmd' : 'azurite-blob');

/** Azurite's one account and its key: Microsoft publishes both for local development. */
export const DEVSTORE_ACCOUNT = 'devstoreaccount1';
export const DEVSTORE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const DEFAULT_CONTAINER = 'fileuploads';

/**
 * `https: { cert, key }` are PEM files (the emulator writes its own with `--server-cert-out` /
 * `--server-key-out`). The Node SDK hard-codes `https://` for the blob, and the child that runs
 * it trusts the emulator's CA through NODE_EXTRA_CA_CERTS, so serving the emulator's own
 * certificate is what lets it upload unchanged. This process needs that trust too, to create the
 * container: `ca` (the emulator's CA file) is added to the default https agent's roots, which
 * @azure/storage-blob uses when keep-alive is off (`blobService`); it takes no agent of its own.
 */
export async function startAzurite({ host = '127.0.0.1', port = 0, https: tlsFiles, cors = [], container = DEFAULT_CONTAINER, timeoutMs = 30_000 } = {}) {
  const location = mkdtempSync(path.join(os.tmpdir(), 'azurite-'));
  // --disableTelemetry: Azurite otherwise reports usage over the internet. --disableProductStyleUrl:
  // the account is always the first path segment (path style), whatever the Host. --loose:
  // @azure/storage-blob 12.8 (the Node SDK's) sends `x-ms-encryption-algorithm: AES256` on Get
  // Blob Properties, which strict Azurite answers 500 FeatureNotSupported.
  const args = ['--blobHost', host, '--blobPort', String(port), '--location', location, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry', '--disableProductStyleUrl'];
  if (tlsFiles) args.push('--cert', tlsFiles.cert, '--key', tlsFiles.key);
  const child = spawn(binary, args, { cwd: location, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  child.stderr.on('data', (d) => output.push(d.toString()));
  const cleanup = () => rmSync(location, { recursive: true, force: true });
  const listening = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`azurite not listening in ${timeoutMs} ms\n${output.join('')}`)), timeoutMs);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(`${line}\n`);
      // "Azurite Blob service successfully listens on http://127.0.0.1:41213"
      const m = /listens on (https?):\/\/(\S+):(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ scheme: m[1], port: Number(m[3]) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite exited with ${code}\n${output.join('')}`));
    });
  }).catch((e) => {
    child.kill('SIGKILL');
    cleanup();
    throw e;
  });
  child.removeAllListeners('exit');
  const stop = () =>
    new Promise((resolve) => {
      const done = () => { cleanup(); resolve(); };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => { clearTimeout(kill); done(); });
      child.kill('SIGTERM');
    });
  const authority = host.includes(':') ? `[${host}]:${listening.port}` : `${host}:${listening.port}`;
  const az = {
    blobEndpoint: `${listening.scheme}://${authority}/${DEVSTORE_ACCOUNT}`,
    accountName: DEVSTORE_ACCOUNT,
    accountKey: DEVSTORE_KEY,
    container,
    host,
    port: listening.port,
    stop,
  };
  try {
    if (tlsFiles?.ca) trustForThisProcess(tlsFiles.ca);
    await prepare(az, cors);
  } catch (e) {
    await stop();
    throw e;
  }
  return az;
}

/** The emulator flags for file uploads to `az`. */
export function fileUploadArgs(az) {
  return ['--blob-endpoint', az.blobEndpoint, '--blob-account', az.accountName, '--blob-key', az.accountKey, '--blob-container', az.container];
}

/** A `BlobServiceClient` of `az` with its account key (reading back what a device uploaded).
 * Without keep-alive, as the Node SDK's own uploader: its requests then go through the default
 * https agent, the one `startAzurite`'s `https.ca` extends, and leave no socket open behind them. */
export function blobService(az) {
  const { BlobServiceClient, StorageSharedKeyCredential } = require('@azure/storage-blob');
  return new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey), { keepAliveOptions: { enable: false } });
}

// The container, and CORS for pages on `origins` (a browser's PUT with x-ms-* headers is
// preflighted; the page reads etag and x-ms-* back). Set Blob Service Properties replaces every
// rule, so one rule names all the origins.
async function prepare(az, origins) {
  const service = blobService(az);
  await service.getContainerClient(az.container).createIfNotExists();
  if (origins.length === 0) return;
  await service.setProperties({
    cors: [{ allowedOrigins: origins.join(','), allowedMethods: 'PUT,GET,OPTIONS,HEAD', allowedHeaders: '*', exposedHeaders: '*', maxAgeInSeconds: 600 }],
  });
}

const trusted = new Set();
function trustForThisProcess(caFile) {
  if (trusted.has(caFile)) return;
  trusted.add(caFile);
  const pem = readFileSync(caFile, 'utf8');
  const current = https.globalAgent.options.ca;
  https.globalAgent.options.ca = [...(current ? [current].flat() : tls.rootCertificates), pem];
}
