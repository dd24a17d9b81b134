"""The Azure quickstart flow with the official Python SDK (azure-iot-device 2.x), unchanged:
provision with a symmetric key, connect to the assigned hub, send 10 messages concurrently.
Usage: python_quickstart.py <provisioning_host> <id_scope> <registration_id> <key> <ca_pem_path> <websockets 0|1>
Prints one JSON line: {"assignedHub":…, "deviceId":…, "sent":10}."""
import asyncio
import json
import sys
import uuid

from azure.iot.device import Message
from azure.iot.device.aio import IoTHubDeviceClient, ProvisioningDeviceClient


async def main():
    host, scope, reg_id, key, ca_path, ws = sys.argv[1:7]
    websockets = ws == "1"
    with open(ca_path) as f:
        ca = f.read()
    prov = ProvisioningDeviceClient.create_from_symmetric_key(
        provisioning_host=host, registration_id=reg_id, id_scope=scope, symmetric_key=key,
        server_verification_cert=ca, websockets=websockets,
    )
    result = await prov.register()
    assert result.status == "assigned", result
    state = result.registration_state
    client = IoTHubDeviceClient.create_from_symmetric_key(
        symmetric_key=key, hostname=state.assigned_hub, device_id=state.device_id,
        server_verification_cert=ca, websockets=websockets,
    )
    await client.connect()

    async def send(i):
        msg = Message(json.dumps({"n": i, "temperature": 20 + i}))
        msg.message_id = uuid.uuid4()
        msg.content_type = "application/json"
        msg.content_encoding = "utf-8"
        msg.custom_properties["quickstart"] = "python"
        await client.send_message(msg)

    await asyncio.gather(*[send(i) for i in range(10)])
    await client.shutdown()
    print(json.dumps({"assignedHub": state.assigned_hub, "deviceId": state.device_id, "sent": 10}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
