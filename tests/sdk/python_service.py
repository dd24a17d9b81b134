"""The official Python service SDK (azure-iot-hub 2.x), unchanged, against the emulator with its
printed connection string: the registry (create, get, list, delete), a twin read and a desired
patch under its ETag (412 on a stale one), a direct method answered by a device the calling test
runs with this library, and the 404 of an offline device. It trusts the emulator's CA through
REQUESTS_CA_BUNDLE (requests reads it). Usage: python_service.py <connection string> <device id>
Prints `STEP <name> ok` per step, then one JSON line with what the back end saw."""
import json
import sys
import time

from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import CloudToDeviceMethod, Twin, TwinProperties
from msrest.exceptions import HttpOperationError


def status_of(call):
    try:
        call()
    except HttpOperationError as e:
        return e.response.status_code, e.response.headers.get("iothub-errorcode")
    raise AssertionError("the call succeeded")


def main():
    connection_string, device_id = sys.argv[1:3]
    rm = IoTHubRegistryManager.from_connection_string(connection_string)

    twin = rm.get_twin(device_id)
    assert twin.device_id == device_id, twin.device_id
    before = dict(twin.properties.desired)
    patched = rm.update_twin(device_id, Twin(properties=TwinProperties(desired={"fromPython": 1})), twin.etag)
    assert patched.properties.desired["fromPython"] == 1
    assert patched.etag != twin.etag
    stale = status_of(lambda: rm.update_twin(device_id, Twin(properties=TwinProperties(desired={"x": 1})), twin.etag))
    assert stale == (412, "PreconditionFailed"), stale
    print("STEP twin ok", flush=True)

    result = rm.invoke_device_method(device_id, CloudToDeviceMethod(method_name="setLed", payload={"on": False}, response_timeout_in_seconds=10))
    print("STEP method ok", flush=True)

    other = "python-service-offline"
    made = rm.create_device_with_sas(other, "", "", "enabled")
    assert made.authentication.symmetric_key.primary_key, "keys are generated"
    assert any(d.device_id == other for d in rm.get_devices())
    offline = status_of(lambda: rm.invoke_device_method(other, CloudToDeviceMethod(method_name="setLed", payload={}, response_timeout_in_seconds=5)))
    assert offline == (404, "DeviceNotOnline"), offline
    got = rm.get_device(other)
    updated = rm.update_device_with_sas(other, got.etag, made.authentication.symmetric_key.primary_key, made.authentication.symmetric_key.secondary_key, "disabled")
    assert updated.status == "disabled", updated.status
    rm.delete_device(other)
    missing = status_of(lambda: rm.get_device(other))
    assert missing == (404, "DeviceNotFound"), missing
    print("STEP registry ok", flush=True)

    print(json.dumps({"desiredBefore": before, "desiredAfter": patched.properties.desired, "method": {"status": result.status, "payload": result.payload}}))


if __name__ == "__main__":
    start = time.monotonic()
    main()
    sys.stderr.write(f"python_service: {time.monotonic() - start:.1f} s\n")
