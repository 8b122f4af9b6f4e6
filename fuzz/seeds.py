#!/usr/bin/env python3
"""seeds.py -- write the hand-made seed corpora of the fuzz targets into fuzz/seeds/<target>/.

Each seed is a small test vector in the input format of its target (see fuzz/src/lib.rs):
  ws_frame_client / ws_frame_server: [limits byte, split byte, frame bytes...]
  ws_close:                          the Close payload
  utf8_split:                        [shape byte, split byte, text payload...]
  ws_handshake_client:               an HTTP response ({accept} = the right accept key)
  ws_handshake_server:               an HTTP upgrade request
  http_response:                     [limits byte, split byte, HTTP response bytes...]
  http_chunked:                      [limits/split byte, chunked body bytes...]
Stdlib only. Idempotent: rewrites the directory each time.
"""
import os
import shutil
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
MASK = b"\x37\xfa\x21\x3d"


def frame(opcode, payload=b"", fin=True, mask=None, rsv=0, length=None):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    m = 0x80 if mask else 0
    if n <= 125:
        head = bytes([b0, m | n])
    elif n <= 0xFFFF:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return head + mask + payload
    return head + payload


def frame_streams(mask):
    """Frame sequences as the peer of a client (mask=None) or of a server (mask) sends them."""
    f = lambda *a, **k: frame(*a, mask=mask, **k)  # noqa: E731
    yield "text", f(1, b"hello")
    yield "binary", f(2, bytes(range(256)))
    yield "text-126", f(1, b"a" * 126)
    yield "binary-300", f(2, b"\x00" * 300)
    yield "fragmented", f(1, b"hel", fin=False) + f(0, b"lo", fin=False) + f(0, b"!")
    yield "fragmented-ping", f(1, b"frag", fin=False) + f(9, b"p") + f(0, b"ment")
    yield "ping-pong", f(9, b"ping") + f(10, b"pong") + f(9, b"")
    yield "ping-flood", f(9, b"x" * 125) * 40
    yield "close-normal", f(8, b"\x03\xe8bye")
    yield "close-empty", f(8, b"") + f(1, b"after close")
    yield "close-bad-code", f(8, b"\x03\xed")
    yield "close-one-byte", f(8, b"\x03")
    yield "close-bad-utf8", f(8, b"\x03\xe8\xff")
    yield "utf8-invalid", f(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")
    yield "utf8-split", f(1, b"\xf0\x9f", fin=False) + f(0, b"\x98\x80")
    yield "rsv", f(1, b"x", rsv=4)
    yield "reserved-opcode", f(3, b"") + f(11, b"")
    yield "continuation-first", f(0, b"x")
    yield "text-in-fragmented", f(1, b"a", fin=False) + f(1, b"b")
    yield "fragmented-control", f(9, b"x", fin=False)
    yield "control-126", f(9, b"x" * 126)
    yield "huge-length", frame(2, b"", mask=mask, length=1 << 63)[:10] + (mask or b"")
    yield "len-2pow32", frame(2, b"", mask=mask, length=1 << 32)[:10] + (mask or b"")
    yield "non-minimal-16", bytes([0x82, (0x80 if mask else 0) | 126, 0, 5]) + (mask or b"") + b"12345"
    yield "wrong-masking", frame(1, b"hi", mask=None if mask else MASK)
    yield "eof-mid-frame", f(2, b"0123456789")[:7]


def frame_seeds(mask):
    for name, stream in frame_streams(mask):
        for limits, split in ((0x07, 0x00), (0x1F, 0x13), (0xE4, 0x7F)):
            yield "%s-%02x%02x" % (name, limits, split), bytes([limits, split]) + stream


def close_seeds():
    yield "empty", b""
    yield "one-byte", b"\x03"
    yield "normal", b"\x03\xe8"
    yield "normal-reason", b"\x03\xe8" + "bye \u00e9".encode()
    yield "code-1005", b"\x03\xed"
    yield "code-1016", b"\x03\xf8"
    yield "code-2999", struct.pack(">H", 2999)
    yield "code-3000", struct.pack(">H", 3000)
    yield "code-4999", struct.pack(">H", 4999)
    yield "code-5000", struct.pack(">H", 5000)
    yield "bad-utf8", b"\x03\xe8\xc0\xaf"
    yield "max-reason", b"\x03\xe8" + b"r" * 123
    yield "too-long", b"\x03\xe8" + b"r" * 124


def utf8_seeds():
    texts = [
        b"",
        b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
        "\u03ba\u1f79\u03c3\u03bc\u03b5".encode(),
        b"\xf0\x9f\x98\x80" * 8,
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",  # surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"\xc0\xaf",  # overlong
        b"\xe0\x80\xaf",
        b"\xf0\x9f\x98",  # truncated at the end
        b"\x80",
        b"\xfe\xff",
        b"a" * 300 + b"\xff",
    ]
    for i, t in enumerate(texts):
        for shape in (0x00, 0x09, 0x3B, 0x3E):
            yield "t%02d-%02x" % (i, shape), bytes([shape, 0x05]) + t


def response_seeds():
    base = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: {accept}\r\n")
    yield "ok", base + b"\r\n"
    yield "ok-frames-after", base + b"\r\n" + frame(1, b"early")
    yield "ok-protocol", base + b"Sec-WebSocket-Protocol: chat\r\n\r\n"
    yield "bad-protocol", base + b"Sec-WebSocket-Protocol: other\r\n\r\n"
    yield "two-protocols", base + b"Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
    yield "extension", base + b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    yield "wrong-accept", base.replace(b"{accept}", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") + b"\r\n"
    yield "mixed-case", base.lower().replace(b"{accept}", b"{accept}") + b"\r\n"
    yield "status-200", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    yield "redirect", b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n"
    yield "http10", base.replace(b"HTTP/1.1", b"HTTP/1.0") + b"\r\n"
    yield "incomplete", base
    yield "many-headers", base + b"X-A: b\r\n" * 40 + b"\r\n"


def request_seeds():
    base = (b"GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n")
    yield "ok", base + b"\r\n"
    yield "ok-frames-after", base + b"\r\n" + frame(1, b"early", mask=MASK)
    yield "protocols", base + b"Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"
    yield "protocol-weird", base + b"Sec-WebSocket-Protocol: a b\r\n\r\n"
    yield "keep-alive", base.replace(b"Connection: Upgrade", b"Connection: keep-alive, Upgrade") + b"\r\n"
    yield "version-8", base.replace(b"Version: 13", b"Version: 8") + b"\r\n"
    yield "post", base.replace(b"GET", b"POST") + b"\r\n"
    yield "no-host", base.replace(b"Host: server.example.com\r\n", b"") + b"\r\n"
    yield "short-key", base.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"c2hvcnQ=") + b"\r\n"
    yield "http10", base.replace(b"HTTP/1.1", b"HTTP/1.0") + b"\r\n"
    yield "incomplete", base
    yield "many-headers", base + b"X-A: b\r\n" * 40 + b"\r\n"
    yield "huge-header", base + b"Cookie: " + b"c" * 5000 + b"\r\n\r\n"


def http_response_seeds():
    """[limits byte, split byte, response bytes]: limits byte 0x3e = 16 KiB head, 64
    headers, 1 MiB body, GET; 0x7e the same with HEAD; 0x00 the smallest limits."""
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    for limits in (0x3e, 0x7e, 0x00, 0x11):
        for split in (0, 7):
            tag = "%02x-%d" % (limits, split)
            yield "ok-" + tag, bytes([limits, split]) + ok
            yield "chunked-" + tag, bytes([limits, split]) + chunked
    yield "close-delimited", b"\x3e\x01HTTP/1.0 200 OK\r\n\r\nuntil the end"
    yield "interim-100", b"\x3e\x02HTTP/1.1 100 Continue\r\n\r\n" + ok
    yield "no-content", b"\x3e\x03HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
    yield "not-modified", b"\x3e\x03HTTP/1.1 304 Not Modified\r\n\r\n"
    yield "keep-alive-10", b"\x3e\x04HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
    yield "conn-close", b"\x3e\x05HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy"
    yield "two-lengths", b"\x3e\x06HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"
    yield "length-and-chunked", b"\x3e\x06HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    yield "bad-status", b"\x3e\x00HTTP/1.1 2x0 OK\r\n\r\n"
    yield "huge-length", b"\x3e\x00HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"
    yield "bad-chunk", b"\x3e\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    yield "truncated", b"\x3e\x00HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"
    yield "stray-bytes", b"\x3e\x00" + ok + b"HTTP/1.1 200 OK\r\n"
    yield "upgrade-101", b"\x3e\x00HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    yield "many-headers", b"\x3e\x00HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 80 + b"Content-Length: 0\r\n\r\n"
    yield "bare-lf", b"\x3e\x00HTTP/1.1 200 OK\nContent-Length: 2\n\nok"


def http_chunked_seeds():
    """[limits/split byte, chunked body]."""
    bodies = {
        "simple": b"5\r\nhello\r\n0\r\n\r\n",
        "two": b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
        "ext": b"5;name=value;x\r\nhello\r\n0\r\n\r\n",
        "trailers": b"2\r\nok\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n",
        "upper-hex": b"A\r\n0123456789\r\n0\r\n\r\n",
        "size-space": b"5 \r\nhello\r\n0\r\n\r\n",
        "huge-size": b"ffffffffffffffffff\r\n",
        "bad-size": b"g\r\n",
        "missing-crlf": b"5\r\nhelloXX0\r\n\r\n",
        "truncated": b"5\r\nhel",
        "no-last": b"5\r\nhello\r\n",
        "long-ext": b"1;" + b"e" * 5000 + b"\r\nx\r\n0\r\n\r\n",
        "after-done": b"0\r\n\r\ngarbage",
    }
    for name, body in bodies.items():
        for b in (0x03, 0x02, 0x41, 0x80):
            yield "%s-%02x" % (name, b), bytes([b]) + body


def main():
    targets = {
        "ws_frame_client": frame_seeds(None),
        "ws_frame_server": frame_seeds(MASK),
        "ws_close": close_seeds(),
        "utf8_split": utf8_seeds(),
        "ws_handshake_client": response_seeds(),
        "ws_handshake_server": request_seeds(),
        "http_response": http_response_seeds(),
        "http_chunked": http_chunked_seeds(),
    }
    for target, seeds in targets.items():
        d = os.path.join(OUT, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        n = 0
        for name, data in seeds:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            n += 1
        print("%-20s %3d seeds" % (target, n), file=sys.stderr)


if __name__ == "__main__":
    main()
