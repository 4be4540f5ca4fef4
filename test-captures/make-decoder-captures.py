#!/usr/bin/env python3
"""Re-encapsulate a real kernel capture in the link layers and IP options
the CLI's decoder must see through, so that the TCP inside is the kernel's.

usage: make-decoder-captures.py SOURCE.pcap OUTDIR [SOURCE6.pcap]

SOURCE is an Ethernet capture of IPv4 TCP (close-client-first.pcap); each
output holds the same packets, the same times, differently wrapped:

  pppoe-pfc.pcap    PPPoE session, PPP protocol field compressed to 0x21
  pppoe.pcap        PPPoE session, the protocol field whole (0x0021)
  etag.pcap         802.1BR E-Tag (ethertype 0x893f, 6-byte tag)
  chdlc.pcap        Cisco HDLC (link type 104), no Ethernet
  lsrr.pcap         IPv4 loose source route: the header names a router
                    (10.99.0.254), the route's last address the real peer
  ssrr.pcap         the same with a strict source route
  lsrr-done.pcap    a loose source route followed to its end (pointer past
                    it): the header names the real peer, the route the router
  ipfrag.pcap       every SYN and every segment with data in IPv4 fragments
                    of 16 bytes, those of every other one in reverse order
  ipfrag-overlap.pcap  the SYN's second fragment overlaps its first: the
                    receiving Linux stack drops that SYN, so must the CLI

SOURCE6 (ipv6.pcap), an Ethernet capture of IPv6 TCP, gives:

  pppoe-pfc6.pcap   PPPoE, PPP protocol field compressed to 0x57
  ipfrag6.pcap      as ipfrag.pcap, in IPv6 fragments (a fragment header)

Plain struct, no scapy: run by the tests with any python3.
"""
import os
import struct
import sys

ROUTER = bytes([10, 99, 0, 254])


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    head = data[:24]
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, not Ethernet")
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        recs.append((sec, frac, orig - incl, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return end, head, recs


def write_pcap(path, end, head, linktype, recs):
    out = bytearray(head[:20] + struct.pack(end + "I", linktype))
    for sec, frac, cut, pkt in recs:
        out += struct.pack(end + "IIII", sec, frac, len(pkt), len(pkt) + cut) + pkt
    open(path, "wb").write(out)


def ip_checksum(h):
    s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip_of(frame):
    """The IP packet of an Ethernet frame, without Ethernet's padding."""
    ip = frame[14:]
    if struct.unpack("!H", frame[12:14])[0] == 0x86dd:
        return ip[:40 + struct.unpack("!H", ip[4:6])[0]]
    assert struct.unpack("!H", frame[12:14])[0] == 0x0800, "not IP"
    return ip[:struct.unpack("!H", ip[2:4])[0]]


def pppoe(ip, compressed):
    v6 = ip[0] >> 4 == 6
    proto = (b"\x57" if v6 else b"\x21") if compressed else (b"\x00\x57" if v6 else b"\x00\x21")
    ppp = proto + ip
    return struct.pack("!BBHH", 0x11, 0, 0x2a, len(ppp)) + ppp


def source_routed(ip, opt_type, done=False):
    """Not done: the header's destination becomes the router; the real one
    is the route's last (and only) address, not yet reached (pointer 4).
    Done: the router wrote itself over that entry (pointer 8, past it)."""
    hl = (ip[0] & 15) * 4
    assert hl == 20, "the source already has options"
    route = ROUTER if done else ip[16:20]
    opt = bytes([opt_type, 7, 8 if done else 4]) + route + b"\x01"  # and a NOP to 8 bytes
    h = bytearray(ip[:20] + opt)
    h[0] = 0x47
    h[2:4] = struct.pack("!H", len(ip) + len(opt))
    if not done:
        h[16:20] = ROUTER
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", ip_checksum(bytes(h)))
    return bytes(h) + ip[20:]


def fragments(frame, size, reverse=False, overlap=0):
    """The IPv4 packet of frame cut into fragments of size payload bytes
    (a multiple of 8), each an Ethernet frame; the second starts overlap
    bytes early."""
    ip = ip_of(frame)
    hl = (ip[0] & 15) * 4
    body = ip[hl:]
    cuts = list(range(0, len(body), size))
    out = []
    for n, off in enumerate(cuts):
        start = off - overlap if n == 1 else off
        piece = body[start:off + size]
        more = off + size < len(body)
        h = bytearray(ip[:hl])
        h[2:4] = struct.pack("!H", hl + len(piece))
        h[6:8] = struct.pack("!H", (0x2000 if more else 0) | start // 8)
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", ip_checksum(bytes(h)))
        out.append(frame[:14] + bytes(h) + piece)
    return out[::-1] if reverse else out


def fragments6(frame, size, ident, reverse=False):
    """The IPv6 packet of frame (no extension headers) in fragments of size
    payload bytes, each behind a fragment header (RFC 8200 4.5)."""
    ip = ip_of(frame)
    assert ip[6] == 6, "extension headers in the source"
    body = ip[40:]
    out = []
    for off in range(0, len(body), size):
        piece = body[off:off + size]
        more = off + size < len(body)
        h = bytearray(ip[:40])
        h[4:6] = struct.pack("!H", 8 + len(piece))
        h[6] = 44
        fh = struct.pack("!BBHI", 6, 0, off | (1 if more else 0), ident)
        out.append(frame[:14] + bytes(h) + fh + piece)
    return out[::-1] if reverse else out


def fragmented(recs, overlap=False):
    """Every SYN and every segment carrying data, in fragments."""
    out = []
    for i, (sec, frac, _, p) in enumerate(recs):
        ip = ip_of(p)
        v6 = ip[0] >> 4 == 6
        tcp = ip[40:] if v6 else ip[(ip[0] & 15) * 4:]
        has_data = len(tcp) > (tcp[12] >> 4) * 4
        if tcp[13] & 0x02 or has_data:
            if v6:
                pieces = fragments6(p, 16, 0x1000 + i, reverse=i % 2 == 1)
            else:
                pieces = fragments(p, 16, reverse=i % 2 == 1, overlap=8 if overlap and i == 0 else 0)
            out += [(sec, frac, 0, f) for f in pieces]
        else:
            out.append((sec, frac, 0, p))
    return out


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    end, head, recs = read_pcap(src)
    eth = lambda f, et, body: f[:12] + struct.pack("!H", et) + body
    variants = {
        "pppoe-pfc": (1, lambda f: eth(f, 0x8864, pppoe(ip_of(f), True))),
        "pppoe": (1, lambda f: eth(f, 0x8864, pppoe(ip_of(f), False))),
        "etag": (1, lambda f: eth(f, 0x893f, struct.pack("!HIH", 0x0000, 0x1005 << 16, 0x0800) + ip_of(f))),
        "chdlc": (104, lambda f: b"\x0f\x00\x08\x00" + ip_of(f)),
        "lsrr": (1, lambda f: eth(f, 0x0800, source_routed(ip_of(f), 131))),
        "ssrr": (1, lambda f: eth(f, 0x0800, source_routed(ip_of(f), 137))),
        "lsrr-done": (1, lambda f: eth(f, 0x0800, source_routed(ip_of(f), 131, done=True))),
    }
    os.makedirs(outdir, exist_ok=True)
    for name, (lt, wrap) in variants.items():
        write_pcap(os.path.join(outdir, name + ".pcap"), end, head, lt,
                   [(s, f, 0, wrap(p)) for s, f, _, p in recs])
    write_pcap(os.path.join(outdir, "ipfrag.pcap"), end, head, 1, fragmented(recs))
    write_pcap(os.path.join(outdir, "ipfrag-overlap.pcap"), end, head, 1, fragmented(recs, overlap=True))
    names = list(variants) + ["ipfrag", "ipfrag-overlap"]
    if len(sys.argv) > 3:
        end6, head6, recs6 = read_pcap(sys.argv[3])
        write_pcap(os.path.join(outdir, "pppoe-pfc6.pcap"), end6, head6, 1,
                   [(s, f, 0, eth(p, 0x8864, pppoe(ip_of(p), True))) for s, f, _, p in recs6])
        write_pcap(os.path.join(outdir, "ipfrag6.pcap"), end6, head6, 1, fragmented(recs6))
        names += ["pppoe-pfc6", "ipfrag6"]
    print(f"wrote {', '.join(n + '.pcap' for n in names)} to {outdir}")


if __name__ == "__main__":
    main()
