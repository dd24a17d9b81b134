"""The official Python SDK (azure-iot-device 2.x), unchanged, using the emulator's hub beyond
telemetry: twin get and reported patch, a desired-properties update, a C2D message and a direct
method, each caused and checked from the cloud side through the emulator's service API.
Usage: python_hub.py <hub_host> <device_id> <key> <ca_pem_path> <websockets 0|1> <service_url> <service_key>
Prints `STEP <name> ok` per step, then one JSON line with what the device saw."""
import asyncio
import json
import sys
import urllib.request

from azure.iot.device import MethodResponse
from azure.iot.device.aio import IoTHubDeviceClient


def service_call(base, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={
        "authorization": "Bearer " + key, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as res:
        text = res.read().decode()
        return json.loads(text) if text else None


async def main():
    host, device_id, key, ca_path, ws, service_url, service_key = sys.argv[1:8]
    with open(ca_path) as f:
        ca = f.read()

    async def service(method, path, body=None):
        return await asyncio.to_thread(service_call, service_url, service_key, method, path, body)

    async def wait_for(what, check, seconds=20):
        for _ in range(seconds * 10):
            if await check():
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(what)

    async def subscribed(name):
        async def check():
            devices = await service("GET", "/devices")
            return any(d["deviceId"] == device_id and name in (d.get("subscriptions") or []) for d in devices)
        await wait_for("subscription " + name, check)

    def step(name):
        print("STEP " + name + " ok", flush=True)

    loop = asyncio.get_running_loop()
    # The SDK itself also hands the handler the desired section it reads at connect (its
    # "ensure desired properties" step), so patches are queued and the awaited one picked out.
    desired = asyncio.Queue()
    message = loop.create_future()
    client = IoTHubDeviceClient.create_from_symmetric_key(
        symmetric_key=key, hostname=host, device_id=device_id,
        server_verification_cert=ca, websockets=ws == "1",
    )

    async def on_method(req):
        await client.send_method_response(MethodResponse.create_from_method_request(req, 200, {"echo": req.payload, "name": req.name}))

    client.on_twin_desired_properties_patch_received = lambda patch: loop.call_soon_threadsafe(desired.put_nowait, patch)
    client.on_message_received = lambda m: loop.call_soon_threadsafe(lambda: message.done() or message.set_result(m))
    client.on_method_request_received = on_method
    await client.connect()
    step("connect")

    twin = await client.get_twin()
    assert twin == {"desired": {"$version": 1}, "reported": {"$version": 1}}, twin
    step("twin-get")

    await client.patch_twin_reported_properties({"firmware": "py-1.0", "nested": {"a": 1}})
    cloud = await service("GET", "/twins/" + device_id)
    assert cloud["properties"]["reported"] == {"firmware": "py-1.0", "nested": {"a": 1}, "$version": 2}, cloud
    twin = await client.get_twin()
    assert twin["reported"] == cloud["properties"]["reported"], twin
    step("twin-reported")

    await subscribed("desired")
    await service("PATCH", "/twins/" + device_id + "/desired", {"targetTemperature": 21})
    async def patched():
        while True:
            p = await desired.get()
            if "targetTemperature" in p:
                return p
    patch = await asyncio.wait_for(patched(), 20)
    assert patch == {"targetTemperature": 21, "$version": 2}, patch
    step("twin-desired")

    await service("POST", "/devices/" + device_id + "/messages", {"body": "hello python", "properties": {"color": "green"}, "messageId": "py-c2d-1"})
    m = await asyncio.wait_for(message, 20)
    assert m.data == b"hello python", m.data
    assert m.message_id == "py-c2d-1", m.message_id
    assert m.custom_properties == {"color": "green"}, m.custom_properties

    async def completed():
        return [x["state"] for x in await service("GET", "/devices/" + device_id + "/messages")] == ["completed"]
    await wait_for("C2D completed", completed)
    step("c2d")

    await subscribed("methods")
    answer = await service("POST", "/devices/" + device_id + "/methods", {"methodName": "setLed", "payload": {"on": True}, "responseTimeoutInSeconds": 10})
    assert answer == {"status": 200, "payload": {"echo": {"on": True}, "name": "setLed"}}, answer
    step("direct-method")

    await client.shutdown()
    print(json.dumps({"reported": cloud["properties"]["reported"], "desired": patch, "c2d": m.data.decode(), "method": answer}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
