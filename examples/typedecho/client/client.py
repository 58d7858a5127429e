#!/usr/bin/env python3
"""A typed echo client in Python, from the same echo.proto as the Go server.

The packet ids come from the C++ ServerCore course's rule, computed here from
the .proto's descriptor: the messages whose names start with C_ or S_ are
numbered from 1000 in declaration order. The framing is servercore's:
[size u16 LE, header included][id u16 LE][protobuf payload].

    protoc -I examples/typedecho/echopb --python_out=/tmp/pb echo.proto
    python3 examples/typedecho/client/client.py --addr 127.0.0.1:7777 --pb /tmp/pb
"""

import argparse
import os
import socket
import struct
import sys


def packet_ids(file_descriptor):
    from google.protobuf import descriptor_pb2

    fdp = descriptor_pb2.FileDescriptorProto()
    file_descriptor.CopyToProto(fdp)
    ids, next_id = {}, 1000
    for m in fdp.message_type:  # declaration order
        if m.name.startswith(("C_", "S_")):
            ids[m.name] = next_id
            next_id += 1
    return ids


def read_exactly(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("server closed the connection after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def send_packet(sock, packet_id, payload):
    sock.sendall(struct.pack("<HH", 4 + len(payload), packet_id) + payload)


def read_packet(sock):
    size, packet_id = struct.unpack("<HH", read_exactly(sock, 4))
    return packet_id, read_exactly(sock, size - 4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True, help="host:port of the typed echo server")
    ap.add_argument("--pb", required=True, help="directory holding echo_pb2.py (protoc --python_out)")
    args = ap.parse_args()

    sys.path.insert(0, args.pb)
    import echo_pb2

    ids = packet_ids(echo_pb2.DESCRIPTOR)
    host, port = args.addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)

    payloads = [b"", b"hello", os.urandom(1000), os.urandom(60000)]
    for want in payloads:
        send_packet(sock, ids["C_Echo"], echo_pb2.C_Echo(payload=want).SerializeToString())
        packet_id, body = read_packet(sock)
        if packet_id != ids["S_Echo"]:
            sys.exit("got packet id %d, want S_Echo's %d" % (packet_id, ids["S_Echo"]))
        reply = echo_pb2.S_Echo()
        reply.ParseFromString(body)
        if reply.payload != want:
            sys.exit("S_Echo carries %d bytes, want the %d sent" % (len(reply.payload), len(want)))

    # A message of the wrong direction ends the session: the server closes.
    send_packet(sock, ids["S_Echo"], b"")
    if sock.recv(1) != b"":
        sys.exit("the server answered an S_Echo sent to it instead of closing")

    print("ok: %d echoes, ids %s, wrong direction closed" % (len(payloads), sorted(ids.items())))


if __name__ == "__main__":
    main()
