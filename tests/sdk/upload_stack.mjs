// Test support for the official SDKs' file upload: an SDK-compatible emulator (443/8883 on a
// loopback address of its own) whose file uploads go to an HTTPS Azurite serving the emulator's
// own certificate, so that a child trusting the emulator's CA (NODE_EXTRA_CA_CERTS, Python's
// server_verification_cert, an ssl context) reaches both. Contract:
//   startUploadStack(t) → { emu, az, blobEndpoint }, everything stopped and removed by t.after.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, sdkArgs, uniqueLoopbackHost } from '../../scripts/lib/emulator.mjs';
import { startAzurite, fileUploadArgs, DEVSTORE_ACCOUNT, DEVSTORE_KEY, DEFAULT_CONTAINER } from '../../scripts/lib/azurite.mjs';

// Azurite listens on the emulator's own address at a port fixed in advance. The emulator must
// know the blob endpoint when it starts, and Azurite needs the certificate the emulator writes
// when it starts: an address of the test's own with a known port breaks that cycle without any
// runtime reconfiguration, and the emulator's certificate already names the address.
const AZURITE_PORT = 10000;

export async function startUploadStack(t) {
  const host = uniqueLoopbackHost();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'emu-upload-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'server.pem');
  const key = path.join(dir, 'server-key.pem');
  const blobEndpoint = `https://${host}:${AZURITE_PORT}/${DEVSTORE_ACCOUNT}`;
  const storage = { blobEndpoint, accountName: DEVSTORE_ACCOUNT, accountKey: DEVSTORE_KEY, container: DEFAULT_CONTAINER };
  const emu = await startEmulator({ args: [...sdkArgs(host), '--server-cert-out', cert, '--server-key-out', key, ...fileUploadArgs(storage)] });
  t.after(() => emu.stop());
  const az = await startAzurite({ host, port: AZURITE_PORT, https: { cert, key, ca: emu.caPath } });
  t.after(() => az.stop());
  if (az.blobEndpoint !== blobEndpoint) throw new Error(`azurite at ${az.blobEndpoint}, expected ${blobEndpoint}`);
  return { emu, az, blobEndpoint };
}
