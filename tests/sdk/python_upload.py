"""The official Python SDK (azure-iot-device 2.x), unchanged, uploading a file through the
emulator's IoT Hub file upload: get_storage_info_for_blob, one Put Blob to the storage with the
SAS URL it returns (the SDK leaves the storage call to the application, as its samples do with
azure-storage-blob; here urllib does that one request), then notify_blob_upload_status, and the
failure path. Usage: python_upload.py <hub_host> <device_id> <key> <ca_pem_path>
Prints `STEP <name> ok` per step, then one JSON line with the uploaded blob's name and bytes."""
import hashlib
import json
import ssl
import sys
import urllib.parse
import urllib.request

from azure.iot.device import IoTHubDeviceClient
from azure.iot.device.exceptions import ClientError, ServiceError


def step(name):
    print("STEP " + name + " ok", flush=True)


def main():
    host, device_id, key, ca_path = sys.argv[1:5]
    with open(ca_path) as f:
        ca = f.read()
    client = IoTHubDeviceClient.create_from_connection_string(
        "HostName={};DeviceId={};SharedAccessKey={}".format(host, device_id, key), server_verification_cert=ca)

    info = client.get_storage_info_for_blob("py/report.txt")
    assert info["blobName"] == device_id + "/py/report.txt", info
    assert info["sasToken"].startswith("?sv=2018-03-28&sr=b&sig="), info
    step("storage-info")

    data = b"uploaded by the official Python SDK\n"
    path = "/".join(urllib.parse.quote(s, safe="") for s in info["blobName"].split("/"))
    url = "https://{}/{}/{}{}".format(info["hostName"], info["containerName"], path, info["sasToken"])
    req = urllib.request.Request(url, data=data, method="PUT", headers={"x-ms-blob-type": "BlockBlob", "content-type": "text/plain"})
    with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca_path), timeout=30) as res:
        status = res.status
    assert status == 201, status
    client.notify_blob_upload_status(info["correlationId"], True, status, "OK: report.txt")
    step("upload-and-notify")

    spare = client.get_storage_info_for_blob("py/never.txt")
    client.notify_blob_upload_status(spare["correlationId"], False, 403, "not uploaded")
    try:
        client.notify_blob_upload_status(spare["correlationId"], False, 403, "again")
        raise AssertionError("a spent correlation id was accepted")
    except ClientError as e:
        # The sync client wraps the pipeline's ServiceError("HTTP operation returned: 400 …").
        assert isinstance(e.__cause__, ServiceError) and "400" in str(e.__cause__), repr(e)
    step("failure-and-spent-id")

    client.shutdown()
    print(json.dumps({"blobName": info["blobName"], "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}), flush=True)


main()
