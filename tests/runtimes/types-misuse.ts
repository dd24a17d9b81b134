// Must NOT type-check: `transport` accepts only 'https' | 'mqtt-ws'.
import { provision } from 'azure-iot-wasm';
export const p = provision({ idScope: 's', registrationId: 'r', symmetricKey: 'k', transport: 'amqp' });
