// Fleet child: the official Node SDK. Per device: the key derived with node:crypto (the SDK has
// no helper), ProvisioningDeviceClient over HTTP (azure-iot-provisioning-device-http) with
// SymmetricKeySecurityClient, then azure-iot-device's Client over MqttWs, sendEvent, close.
import { createRequire } from 'node:module';
import { deriveKey } from '../lib/credentials.mjs';
import { config, runFleetChild } from './run-devices.mjs';

const require = createRequire(import.meta.url);
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Http } = require('azure-iot-provisioning-device-http');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { Client, Message } = require('azure-iot-device');
const { MqttWs } = require('azure-iot-device-mqtt');

await runFleetChild({
  async provision(registrationId) {
    const key = deriveKey(config.groupKey, registrationId);
    const security = new SymmetricKeySecurityClient(registrationId, key);
    const r = await ProvisioningDeviceClient.create(config.host, config.idScope, new Http(), security).register();
    return { ...r, key };
  },
  async connect(r) {
    const client = Client.fromConnectionString(`HostName=${r.assignedHub};DeviceId=${r.deviceId};SharedAccessKey=${r.key}`, MqttWs);
    await client.open();
    return client;
  },
  send: (client) => client.sendEvent(new Message('fleet hello')),
  close: (client) => client.close(),
});
