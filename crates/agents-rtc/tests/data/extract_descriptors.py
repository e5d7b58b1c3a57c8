#!/usr/bin/env python3
"""Writes livekit-ffi-1.2.1.fds: the FileDescriptorSet of liblivekit_ffi's protocol, as the
pinned wheel (PyPI `livekit` 1.2.1) ships it in livekit/rtc/_proto/*_pb2.py.

Each *_pb2.py holds its file's serialized FileDescriptorProto as a bytes literal passed to
AddSerializedFile; a FileDescriptorSet is those, each as field 1 (length-delimited). Needs
only Python and pip (no protobuf package):

    python3 -m pip download --no-deps --only-binary=:all: livekit==1.2.1 \
        --platform manylinux_2_28_x86_64 --python-version 3.12 -d /tmp/wheel
    python3 extract_descriptors.py /tmp/wheel/livekit-1.2.1-py3-none-manylinux_2_28_x86_64.whl
"""

import ast
import hashlib
import os
import sys
import zipfile

WHEEL_SHA256 = "c9a0269cc23a889e20f716405a59fbae375a0248ea3d2d043da103cfb0b71711"


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def serialized_file(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "AddSerializedFile"
            and node.args
        ):
            return ast.literal_eval(node.args[0])
    raise SystemExit("no AddSerializedFile call")


def main(wheel):
    digest = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
    out = bytearray()
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(
            n for n in archive.namelist()
            if n.startswith("livekit/rtc/_proto/") and n.endswith("_pb2.py")
        )
        for name in names:
            proto = serialized_file(archive.read(name).decode("utf-8"))
            out += b"\x0a" + varint(len(proto)) + proto
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "livekit-ffi-1.2.1.fds")
    with open(target, "wb") as f:
        f.write(out)
    print(f"{target}: {len(names)} files, {len(out)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
