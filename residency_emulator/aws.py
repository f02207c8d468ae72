"""moto in server mode, behind a `Front` that adds what moto does not emulate.

moto ignores DynamoDB global-table replicas and has no EFS replication API;
real AWS reports both (DescribeTable `Replicas`, DescribeReplicationConfigurations).
The front serves them from `dynamodb_replicas` / `efs_replications`, so the
real SDK parses real wire responses and the scanner sees what AWS would say.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .aws_fakes import AwsFakes
from .front import Faults, Front, Request, Response

_CRED_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

#: The minute the sample estate's automated RDS snapshots are named after (`AwsEmulator.seed_ids`).
SNAPSHOT_MINUTE = "2026-01-05-03-00"

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


def signed_scope(req: Request) -> tuple[str, str]:
    """(region, service) from the SigV4 Authorization header."""
    m = _CRED_SCOPE.search(req.headers.get("Authorization", ""))
    return (m.group(1), m.group(2)) if m else ("", "")


def operation_of(req: Request) -> tuple[str, str]:
    """(service, operation) of an AWS request, as far as the wire shows it."""
    _, service = signed_scope(req)
    target = req.headers.get("X-Amz-Target", "")
    if target:
        return service, target.rsplit(".", 1)[-1]
    if req.body and b"Action=" in req.body:
        for part in req.body.decode("utf-8", "replace").split("&"):
            if part.startswith("Action="):
                return service, part[7:]
    named = rest_operation(service, req.method, req.path.split("?")[0])
    return service, named or f"{req.method} {req.path.split('?')[0]}"


_REST: dict[str, list[tuple[str, re.Pattern[str], str]]] = {}


def rest_operation(signing_name: str, method: str, path: str) -> str:
    """The operation a REST request calls, from botocore's service models (its method and URI
    pattern), for the services signed with `signing_name`; "" when none matches."""
    if not _REST:
        import botocore.session

        session = botocore.session.get_session()
        for name in (
            "resource-explorer-2",
            "bedrock",
            "opensearch",
            "kafka",
            "eks",
            "efs",
            "lambda",
            "cloudfront",
            "s3control",
        ):
            model = session.get_service_model(name)
            for op in model.operation_names:
                http = model.operation_model(op).http
                uri = str(http.get("requestUri", "/")).split("?")[0]
                rx = re.escape(uri).replace(r"\{", "{").replace(r"\}", "}")
                rx = re.sub(r"\{[^}]+\+\}", ".+", re.sub(r"\{[^}+]+\}", "[^/]+", rx))
                _REST.setdefault(model.signing_name or name, []).append(
                    (str(http.get("method")), re.compile(rx + "/?$"), op)
                )
    hits = [op for m, rx, op in _REST.get(signing_name, []) if m == method and rx.match(path)]
    return min(hits, key=len) if hits else ""


#: status -> (error code, message) per protocol family, as AWS answers them
_FAULT_CODES = {
    "json": {429: "ThrottlingException", 500: "InternalServerError", 503: "ServiceUnavailableException"},
    "query": {429: "Throttling", 500: "InternalFailure", 503: "ServiceUnavailable"},
    "ec2": {429: "RequestLimitExceeded", 500: "InternalError", 503: "Unavailable"},
    "s3": {429: "SlowDown", 500: "InternalError", 503: "SlowDown"},
}


def fault_answer(req: Request, status: int) -> Response:
    """An injected fault in the error format of the API that was called (what botocore parses)."""
    _, service = signed_scope(req)
    headers = {"Retry-After": "0", "x-amzn-RequestId": "fault"}
    if req.headers.get("X-Amz-Target") or service in (
        "lambda",
        "elasticfilesystem",
        "resource-explorer-2",
        "bedrock",
        "es",
        "kafka",
        "eks",
    ):
        code = _FAULT_CODES["json"][status]
        headers.update({"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code})
        return Response(status, headers, json.dumps({"__type": code, "message": "injected fault"}).encode())
    headers["Content-Type"] = "text/xml"
    if service == "ec2":
        code = _FAULT_CODES["ec2"][status]
        body = f"<Response><Errors><Error><Code>{code}</Code><Message>injected fault</Message></Error></Errors>"
        return Response(status, headers, (body + "<RequestID>fault</RequestID></Response>").encode())
    if service == "s3":
        code = _FAULT_CODES["s3"][status]
        body = f"<Error><Code>{code}</Code><Message>injected fault</Message><RequestId>fault</RequestId></Error>"
        return Response(status, headers, body.encode())
    code = _FAULT_CODES["query"][status]
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected fault</Message></Error>"
        "<RequestId>fault</RequestId></ErrorResponse>"
    )
    return Response(status, headers, body.encode())


class AwsEmulator:
    def __init__(self, latency: float = 0.0, faults: Faults | None = None) -> None:
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        self.front = Front(host, port, latency=latency, faults=faults)
        #: the services (and parts of services) moto lacks, served in their wire protocols
        self.fakes = AwsFakes()
        self.front.request_hooks.append(self._efs_replication)
        self.front.request_hooks.append(self.fakes.request)
        self.front.response_hooks.append(self._dynamodb_replicas)
        self.front.response_hooks.append(self.fakes.response)
        self.front.fault_answer = fault_answer
        self.front.start()
        #: (region, table name) -> replica regions, as DescribeTable reports them
        self.dynamodb_replicas: dict[tuple[str, str], list[str]] = {}
        #: region -> [{"SourceFileSystemId": ..., "Destinations": [{"Region": ...}]}]
        self.efs_replications: dict[str, list[dict[str, Any]]] = {}

    @property
    def url(self) -> str:
        return self.front.url

    def env(self) -> dict[str, str]:
        return {**DUMMY_ENV, "AWS_ENDPOINT_URL": self.url}

    def seed_ids(self, seed: int) -> None:
        """Make the ids moto invents (instances, volumes, snapshots, plans, file systems) repeat.

        moto draws every generated id from one random generator, which its server
        reseeds on `POST /moto-api/seed?a=N`; writing the same estate in the same
        order after the same seed then yields the same ids in every process, so two
        demo runs describe the same resources and a report sees no change.
        """
        req = urllib.request.Request(f"{self.moto_url}/moto-api/seed?a={int(seed)}", method="POST")
        urllib.request.urlopen(req, timeout=30).read()
        # moto's FSx and MSK draw their ids from the standard uuid module, not from that generator:
        # point them there too (the server runs in this process), so their ids repeat as well.
        import types

        import moto.fsx.models
        import moto.kafka.models
        from moto.moto_api._internal import mock_random

        moto.fsx.models.uuid4 = mock_random.uuid4  # type: ignore[attr-defined]
        moto.kafka.models.uuid = types.SimpleNamespace(uuid4=mock_random.uuid4)  # type: ignore[assignment,attr-defined]
        # RDS names an instance's automated snapshot after the minute it was made: a fixed minute here
        import moto.rds.models

        def automated_backup(db: Any) -> None:
            db.backend.create_auto_snapshot(
                db.db_instance_identifier, f"rds:{db.db_instance_identifier}-{SNAPSHOT_MINUTE}"
            )

        moto.rds.models.DBInstance.save_automated_backup = automated_backup  # type: ignore[method-assign,assignment]

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.moto_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=30).read()
        self.dynamodb_replicas.clear()
        self.efs_replications.clear()
        self.fakes.reset()
        self.front.clear_log()

    def stop(self) -> None:
        self.front.stop()
        self._moto.stop()

    # ------------------------------------------------------------ extensions

    def _dynamodb_replicas(self, req: Request, resp: Response) -> Response:
        if not req.headers.get("X-Amz-Target", "").endswith(".DescribeTable") or resp.status != 200:
            return resp
        region, _ = signed_scope(req)
        doc = json.loads(resp.body)
        table = doc.get("Table", {})
        replicas = self.dynamodb_replicas.get((region, table.get("TableName", "")))
        if replicas:
            table["Replicas"] = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in replicas]
            body = json.dumps(doc).encode()
            # DynamoDB answers carry a CRC32 of the body, which botocore checks.
            headers = {k: v for k, v in resp.headers.items() if k.lower() != "x-amz-crc32"}
            headers["x-amz-crc32"] = str(zlib.crc32(body))
            return Response(resp.status, headers, body)
        return resp

    def _efs_replication(self, req: Request) -> Response | None:
        if req.method != "GET" or not req.path.startswith("/2015-02-01/file-systems/replication-configurations"):
            return None
        region, _ = signed_scope(req)
        body = json.dumps({"Replications": self.efs_replications.get(region, [])}).encode()
        return Response(200, {"Content-Type": "application/json"}, body)


@contextmanager
def aws_emulator(latency: float = 0.0, faults: Faults | None = None) -> Iterator[AwsEmulator]:
    emu = AwsEmulator(latency=latency, faults=faults)
    try:
        yield emu
    finally:
        emu.stop()
