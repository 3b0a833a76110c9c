#!/usr/bin/env python3
"""Kafka broker health probe for deploy/local/stack.sh (standard library only).

Speaks the Kafka wire protocol: ApiVersions (v0) to learn the supported
Metadata versions, then a Metadata request for no topics. Healthy means the
broker answered and lists the expected node id among its live (unfenced)
brokers. Prints one JSON line; exit 0 = healthy, 1 = not healthy.

With --warm it then asks for the group and the transaction coordinator
(FindCoordinator) until both answer, and for one producer id (InitProducerId):
on a fresh broker this creates the internal topics __consumer_offsets and
__transaction_state and the first producer-id block, so the first consumer
group / idempotent or transactional producer of a test does not wait for them.

usage: probe.py HOST PORT [EXPECTED_NODE_ID] [--timeout SECONDS] [--warm SECONDS]
"""
import json
import socket
import struct
import sys
import time

API_METADATA = 3
API_VERSIONS = 18
API_FIND_COORDINATOR = 10
API_INIT_PRODUCER_ID = 22
RETRIABLE_COORDINATOR_ERRORS = {14, 15}  # COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE


def send_request(sock, api_key, api_version, corr_id, body):
    client_id = b"metaweave-probe"
    header = struct.pack(">hhih", api_key, api_version, corr_id, len(client_id)) + client_id
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    data = recv_exact(sock, size)
    (got_corr,) = struct.unpack_from(">i", data, 0)
    if got_corr != corr_id:
        raise RuntimeError(f"correlation id mismatch {got_corr} != {corr_id}")
    return data, 4


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("connection closed by broker")
        buf += chunk
    return buf


def read_string(data, off, nullable=False):
    (n,) = struct.unpack_from(">h", data, off)
    off += 2
    if n < 0:
        if not nullable:
            raise RuntimeError("unexpected null string")
        return None, off
    return data[off:off + n].decode("utf-8"), off + n


def find_coordinators(sock, ranges, deadline):
    """FindCoordinator v1/v2 for a group and a transactional id until both answer."""
    vmin, vmax = ranges.get(API_FIND_COORDINATOR, (0, -1))
    version = min(vmax, 2)
    if version < max(vmin, 1):
        raise RuntimeError(f"no usable FindCoordinator version (broker offers {vmin}..{vmax})")
    corr = 100
    found = {}
    for key_type, key in ((0, "metaweave-probe-group"), (1, "metaweave-probe-txn")):
        while True:
            corr += 1
            k = key.encode()
            body = struct.pack(">h", len(k)) + k + struct.pack(">b", key_type)
            data, off = send_request(sock, API_FIND_COORDINATOR, version, corr, body)
            off += 4  # throttle_time_ms
            (err,) = struct.unpack_from(">h", data, off)
            if err == 0:
                found["group" if key_type == 0 else "transaction"] = "ok"
                break
            if err not in RETRIABLE_COORDINATOR_ERRORS:
                raise RuntimeError(f"FindCoordinator({key_type}) error code {err}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"FindCoordinator({key_type}) still failing (error {err})")
            time.sleep(0.2)
    # an idempotent producer's first InitProducerId waits for the broker's first
    # producer-id block from the controller; fetch one now
    vmin, vmax = ranges.get(API_INIT_PRODUCER_ID, (0, -1))
    version = min(vmax, 1)
    if version < vmin:
        raise RuntimeError(f"no usable InitProducerId version (broker offers {vmin}..{vmax})")
    while True:
        corr += 1
        body = struct.pack(">hi", -1, 60000)  # transactional_id = null, timeout
        data, off = send_request(sock, API_INIT_PRODUCER_ID, version, corr, body)
        (err,) = struct.unpack_from(">h", data, off + 4)
        if err == 0:
            found["producer_id"] = "ok"
            break
        if err not in RETRIABLE_COORDINATOR_ERRORS or time.monotonic() > deadline:
            raise RuntimeError(f"InitProducerId error code {err}")
        time.sleep(0.2)
    return found


def main():
    args = [a for a in sys.argv[1:]]
    timeout = 5.0
    warm = None
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if "--warm" in args:
        i = args.index("--warm")
        warm = float(args[i + 1])
        del args[i:i + 2]
    host, port = args[0], int(args[1])
    expected = int(args[2]) if len(args) > 2 else None
    result = {"ok": False, "host": host, "port": port}
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            # ApiVersions v0: empty body; response: error_code, [api_key, min, max]
            data, off = send_request(sock, API_VERSIONS, 0, 1, b"")
            err, count = struct.unpack_from(">hi", data, off)
            off += 6
            if err != 0:
                raise RuntimeError(f"ApiVersions error code {err}")
            ranges = {}
            for _ in range(count):
                key, vmin, vmax = struct.unpack_from(">hhh", data, off)
                off += 6
                ranges[key] = (vmin, vmax)
            if API_METADATA not in ranges:
                raise RuntimeError("broker does not offer Metadata")
            vmin, vmax = ranges[API_METADATA]
            version = min(vmax, 7)
            if version < max(vmin, 4):
                raise RuntimeError(f"no usable Metadata version (broker offers {vmin}..{vmax})")
            # Metadata v4..v7 request: topics = [] (none), allow_auto_topic_creation = false
            body = struct.pack(">ib", 0, 0)
            data, off = send_request(sock, API_METADATA, version, 2, body)
            off += 4  # throttle_time_ms
            (nbrokers,) = struct.unpack_from(">i", data, off)
            off += 4
            brokers = []
            for _ in range(nbrokers):
                (node_id,) = struct.unpack_from(">i", data, off)
                off += 4
                bhost, off = read_string(data, off)
                (bport,) = struct.unpack_from(">i", data, off)
                off += 4
                _rack, off = read_string(data, off, nullable=True)
                brokers.append({"id": node_id, "host": bhost, "port": bport})
            cluster_id, off = read_string(data, off, nullable=True)
            (controller_id,) = struct.unpack_from(">i", data, off)
            result.update(
                brokers=brokers,
                cluster_id=cluster_id,
                controller_id=controller_id,
                metadata_version=version,
            )
            ids = [b["id"] for b in brokers]
            result["ok"] = bool(brokers) and (expected is None or expected in ids)
            if not result["ok"]:
                result["error"] = f"broker {expected} not among live brokers {ids}"
            elif warm is not None:
                result["ok"] = False
                result["coordinators"] = find_coordinators(sock, ranges, time.monotonic() + warm)
                result["ok"] = True
    except (OSError, RuntimeError, struct.error, IndexError, ValueError) as e:
        result["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
