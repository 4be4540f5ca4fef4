#!/usr/bin/env python3
"""make-seeds.py - seed corpora for the fuzz targets, from test-captures/.

usage: tests/fuzz/make-seeds.py [CAPTURES_DIR] [OUT_DIR]
       (defaults: test-captures/ next to tests/, build-fuzz/fuzz-seeds)

Writes OUT_DIR/decode/ and OUT_DIR/core/ (emptied first). Python 3 stdlib only.

decode seeds (fuzz_decode.c's format: one selector byte, then the packet):
  - packets of every *.pcap / *.pcapng in CAPTURES_DIR and CAPTURES_DIR/zeek
    (classic pcap in both byte orders, micro- and nanosecond; pcapng with
    SHB/IDB/EPB/SPB/obsolete PB, any byte order), at most MAX_PER_FILE per
    file, duplicates dropped;
  - the captures hold only Ethernet, raw IPv4 and SLL, so one IPv4 and one
    IPv6 TCP packet taken from them are re-wrapped in every link type the
    decoder reads (null, loop, raw, SLL, SLL2, 802.11, radiotap) and in the
    encapsulations behind them (802.1Q, QinQ, MPLS, pseudowire, PPPoE, PBB,
    VN-Tag, IP-in-IP, 6in4, GRE with its options, PPTP, ERSPAN I/II/III,
    Aruba 802.11, VXLAN, Geneve, GTP-U, Teredo, IPv6 extension headers,
    A-MSDU), plus fragments, ICMP errors and truncations.

core seeds (fuzz_core.c's format: 4-byte header, 8-byte records): the TCP
segments of each Linux scenario capture (and demo.pcapng), mapped onto the
target's slots and relative seq/ack modes by replaying its bookkeeping here,
under a few configurations; plus a flood and a max_conns seed.
"""
import hashlib
import os
import shutil
import struct
import sys

MAX_PER_FILE = 40

# fuzz_decode.c's linktypes[] (selector byte = index)
LINKTYPES = [1, 0, 108, 101, 12, 14, 228, 229, 113, 276, 105, 127]
LT_INDEX = {lt: i for i, lt in enumerate(LINKTYPES)}


# ---- reading captures -------------------------------------------------------

def read_pcap(data):
    """Yield (linktype, ts_ns, bytes, wire length) from a classic pcap."""
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        return
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    linktype = struct.unpack(e + 'I', data[20:24])[0] & 0x0fffffff
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
        off += 16
        if incl > len(data) - off:
            break
        yield linktype, sec * 10**9 + (frac if nano else frac * 1000), data[off:off + incl], orig
        off += incl


def read_pcapng(data):
    """Yield (linktype, ts_ns, bytes, wire length) from a pcapng file."""
    off, e, ifaces = 0, '<', []
    while off + 12 <= len(data):
        btype = struct.unpack(e + 'I', data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: its byte order rules the section
            e = '<' if data[off + 8:off + 12] == b'\x4d\x3c\x2b\x1a' else '>'
            ifaces = []
        blen = struct.unpack(e + 'I', data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:  # interface description
            lt, _res, snap = struct.unpack(e + 'HHI', body[:8])
            res = 6  # microseconds unless if_tsresol says otherwise
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + 'HH', body[o:o + 4])
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    res = body[o + 4]
                o += 4 + ((olen + 3) & ~3)
            div = (2 ** (res & 0x7f)) if res & 0x80 else 10 ** res
            ifaces.append((lt, snap, div))
        elif btype in (6, 2) and len(body) >= 20:  # enhanced / obsolete packet
            if btype == 6:
                ifid, hi, lo, cap, orig = struct.unpack(e + 'IIIII', body[:20])
            else:
                ifid, _drops, hi, lo, cap, orig = struct.unpack(e + 'HHIIII', body[:20])
            if ifid < len(ifaces) and cap <= len(body) - 20:
                lt, _snap, div = ifaces[ifid]
                yield lt, ((hi << 32) | lo) * 10**9 // div, body[20:20 + cap], orig
        elif btype == 3 and len(body) >= 4 and ifaces:  # simple packet
            orig = struct.unpack(e + 'I', body[:4])[0]
            lt, snap, _div = ifaces[0]
            cap = min(orig, snap or orig, len(body) - 4)
            yield lt, 0, body[4:4 + cap], orig
        off += blen


def read_capture(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] == b'\x0a\x0d\x0d\x0a':
        return list(read_pcapng(data))
    return list(read_pcap(data))


def captures(root):
    out = []
    for d in (root, os.path.join(root, 'zeek')):
        if os.path.isdir(d):
            out += sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(('.pcap', '.pcapng')))
    return out


# ---- a small decoder, enough for the seeds -----------------------------------

def ip_of(lt, pkt):
    """The IP packet inside an Ethernet (VLAN), SLL or raw frame, or None."""
    if lt == 1:
        if len(pkt) < 14:
            return None
        et, off = struct.unpack('>H', pkt[12:14])[0], 14
        while et in (0x8100, 0x88a8, 0x9100) and len(pkt) >= off + 4:
            et, off = struct.unpack('>H', pkt[off + 2:off + 4])[0], off + 4
        return pkt[off:] if et in (0x0800, 0x86dd) else None
    if lt == 113:
        return pkt[16:] if len(pkt) > 16 and struct.unpack('>H', pkt[14:16])[0] in (0x0800, 0x86dd) else None
    if lt in (101, 228, 229, 12, 14):
        return pkt
    return None


def tcp_of(ip):
    """(src, dst, family, tcp header+payload, payload length) of a plain IP/TCP packet, or None."""
    if len(ip) >= 20 and ip[0] >> 4 == 4 and ip[9] == 6 and not (struct.unpack('>H', ip[6:8])[0] & 0x3fff):
        hl = (ip[0] & 15) * 4
        total = struct.unpack('>H', ip[2:4])[0] or len(ip)
        t = ip[hl:total]
        fam, src, dst = 4, ip[12:16], ip[16:20]
    elif len(ip) >= 40 and ip[0] >> 4 == 6 and ip[6] == 6:
        plen = struct.unpack('>H', ip[4:6])[0]
        t = ip[40:40 + plen]
        fam, src, dst = 6, ip[8:24], ip[24:40]
    else:
        return None
    if len(t) < 20 or (t[12] >> 4) * 4 < 20:
        return None
    return src, dst, fam, t


# ---- decode seeds: builders -------------------------------------------------

def u16(v):
    return struct.pack('>H', v & 0xffff)


def u32(v):
    return struct.pack('>I', v & 0xffffffff)


def ipv4(proto, payload, src=b'\xc0\x00\x02\x01', dst=b'\xc0\x00\x02\x02', frag=0):
    return (b'\x45\x00' + u16(20 + len(payload)) + b'\x12\x34' + u16(frag) + bytes([64, proto]) + b'\x00\x00'
            + src + dst + payload)


def ipv6(nh, payload, src=b'\x20\x01\x0d\xb8' + b'\x00' * 11 + b'\x01', dst=b'\x20\x01\x0d\xb8' + b'\x00' * 11 + b'\x02'):
    return b'\x60\x00\x00\x00' + u16(len(payload)) + bytes([nh, 64]) + src + dst + payload


def udp(sport, dport, payload):
    return u16(sport) + u16(dport) + u16(8 + len(payload)) + b'\x00\x00' + payload


def eth(etype, payload):
    return b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + u16(etype) + payload


def et_of(ip):
    return 0x0800 if ip[0] >> 4 == 4 else 0x86dd


def snap(ip):
    return b'\xaa\xaa\x03\x00\x00\x00' + u16(et_of(ip)) + ip


def wifi(ip, fc0=0x08, fc1=0x01, qos=None, amsdu=False):
    hdr = bytes([fc0, fc1]) + b'\x00\x00' + b'\x02\x00\x00\x00\x00\x0a' * 3 + b'\x00\x00'
    if (fc1 & 3) == 3:
        hdr += b'\x02\x00\x00\x00\x00\x0b'
    if qos is not None:
        hdr += bytes([qos, 0])
        if fc1 & 0x80:
            hdr += b'\x00\x00\x00\x00'
    body = snap(ip)
    if amsdu:
        body = b'\x02\x00\x00\x00\x00\x0c' + b'\x02\x00\x00\x00\x00\x0d' + u16(len(body)) + body
    return hdr + body


def gre(proto, payload, flags=0, opts=b''):
    return u16(flags) + u16(proto) + opts + payload


def decode_synth(ip4, ip6):
    """(linktype, packet, whole) for the link types and encapsulations not in the captures;
    whole is false for the truncated copies (as if cut by a snaplen)."""
    out = []
    for ip in (ip4, ip6):
        v6 = ip[0] >> 4 == 6
        af_le = struct.pack('<I', 30 if v6 else 2)
        out += [
            (0, af_le + ip), (0, struct.pack('<I', 24 if v6 else 2) + ip), (0, struct.pack('<I', 28 if v6 else 2) + ip),
            (0, struct.pack('>I', 10 if v6 else 2) + ip),  # big-endian host
            (108, struct.pack('>I', 24 if v6 else 2) + ip),
            (101, ip), (12, ip), (14, ip), (229 if v6 else 228, ip),
            (113, b'\x00\x00\x00\x01\x00\x06' + b'\x02\x00\x00\x00\x00\x01\x00\x00' + u16(et_of(ip)) + ip),
            (276, u16(et_of(ip)) + b'\x00\x00' + b'\x00\x00\x00\x02' + b'\x00\x01\x00\x06'
             + b'\x02\x00\x00\x00\x00\x01\x00\x00' + ip),
            (105, wifi(ip)), (105, wifi(ip, fc1=0x02)), (105, wifi(ip, fc1=0x03)),
            (105, wifi(ip, fc0=0x88, qos=0)), (105, wifi(ip, fc0=0x88, fc1=0x81, qos=0)),
            (105, wifi(ip, fc0=0x88, qos=0x80, amsdu=True)),
            (127, b'\x00\x00\x08\x00\x00\x00\x00\x00' + wifi(ip)),
            (127, b'\x00\x00\x0c\x00\x02\x00\x00\x00\x10\x00\x00\x00' + wifi(ip, fc0=0x88, qos=0)),
            (1, eth(0x8100, b'\x00\x64' + u16(et_of(ip)) + ip)),
            (1, eth(0x88a8, b'\x00\x0a\x81\x00\x00\x14' + u16(et_of(ip)) + ip)),
            (1, eth(0x9100, b'\x00\x0a' + u16(et_of(ip)) + ip)),
            (1, eth(0x8847, b'\x00\x01\x01\x40' + ip)),                       # one label
            (1, eth(0x8847, b'\x00\x01\x00\x40' + b'\x00\x02\x01\x40' + ip)),  # two labels
            (1, eth(0x8848, b'\x00\x01\x01\x40' + b'\x00\x00\x00\x00' + eth(et_of(ip), ip))),  # pseudowire
            (1, eth(0x8864, b'\x11\x00\x00\x01' + u16(len(ip) + 2) + (b'\x00\x57' if v6 else b'\x00\x21') + ip)),
            (1, eth(0x88e7, b'\x00\x00\x01\x00' + eth(et_of(ip), ip))),
            (1, eth(0x8926, b'\x80\x01\x00\x02' + u16(et_of(ip)) + ip)),
            (1, eth(0x8100, b'\x00\x64\x88\x47' + b'\x00\x01\x01\x40' + ip)),  # MPLS in VLAN
            (228, ipv4(41 if v6 else 4, ip)),                                 # IP-in-IP, 6in4
            (229, ipv6(41 if v6 else 4, ip)),
            (228, ipv4(47, gre(et_of(ip), ip))),
            (228, ipv4(47, gre(et_of(ip), ip, 0xb000, b'\x00\x00\x00\x00' + u32(7) + u32(1)))),  # csum, key, seq
            (228, ipv4(47, gre(0x6558, eth(et_of(ip), ip), 0x2000, u32(42)))),
            (228, ipv4(47, gre(0x880b, b'\xff\x03' + (b'\x00\x57' if v6 else b'\x00\x21') + ip, 0x3081,
                               u16(len(ip) + 4) + u16(1) + u32(1) + u32(0)))),  # PPTP enhanced GRE
            (228, ipv4(47, gre(0x880b, (b'\x57' if v6 else b'\x21') + ip, 0x2001, u16(len(ip) + 1) + u16(1)))),
            (228, ipv4(47, gre(0x88be, b'\x10\x00\x00\x05' + b'\x00' * 4 + eth(et_of(ip), ip), 0x1000, u32(1)))),
            (228, ipv4(47, gre(0x88be, eth(et_of(ip), ip)))),                # ERSPAN type I
            (228, ipv4(47, gre(0x22eb, b'\x20\x00\x00\x05' + b'\x00' * 8 + eth(et_of(ip), ip), 0x1000, u32(1)))),
            (228, ipv4(47, gre(0x22eb, b'\x20\x00\x00\x05' + b'\x00' * 7 + b'\x01' + b'\x00' * 8
                               + eth(et_of(ip), ip), 0x1000, u32(1)))),       # ERSPAN III + platform
            (228, ipv4(47, gre(0x8200, wifi(ip)))),                           # Aruba
            (229, ipv6(47, gre(et_of(ip), ip))),
            (228, ipv4(17, udp(50000, 4789, b'\x08\x00\x00\x00\x00\x00\x64\x00' + eth(et_of(ip), ip)))),
            (228, ipv4(17, udp(50000, 6081, b'\x00\x00\x65\x58\x00\x00\x64\x00' + eth(et_of(ip), ip)))),
            (228, ipv4(17, udp(50000, 6081, b'\x01\x00' + u16(et_of(ip)) + b'\x00\x00\x64\x00'
                               + b'\x01\x02\x03\x04' + ip))),                 # Geneve, one option word
            (228, ipv4(17, udp(2152, 2152, b'\x30\xff' + u16(len(ip)) + u32(99) + ip))),
            (228, ipv4(17, udp(2152, 2152, b'\x32\xff' + u16(len(ip) + 4) + u32(99) + b'\x00\x01\x00\x00' + ip))),
            (228, ipv4(17, udp(2152, 2152, b'\x34\xff' + u16(len(ip) + 8) + u32(99) + b'\x00\x01\x00\x85'
                               + b'\x01\x00\x01\x00' + ip))),                 # one extension header
            (229, ipv6(17, udp(2152, 2152, b'\x30\xff' + u16(len(ip)) + u32(99) + ip))),
        ]
        if v6:
            out += [
                (228, ipv4(17, udp(3544, 40000, ip))),                         # Teredo
                (228, ipv4(17, udp(3544, 40000, b'\x00\x00' + b'\x9c\x40' + b'\x3f\xff\xfd\xfe' + ip))),
                (228, ipv4(17, udp(3544, 40000, b'\x00\x01\x00\x00' + b'\x00' * 9 + ip))),
                (228, ipv4(17, udp(40001, 40000, ip))),                        # Teredo on another port
                (229, ipv6(0, bytes([6, 0]) + b'\x01\x04\x00\x00\x00\x00' + ip[40:], ip[8:24], ip[24:40])),
                (229, ipv6(60, bytes([43, 0]) + b'\x01\x04\x00\x00\x00\x00' + bytes([6, 0, 0, 0]) + b'\x00' * 4
                           + ip[40:], ip[8:24], ip[24:40])),
                (229, ipv6(44, bytes([6, 0, 0, 0]) + u32(1) + ip[40:], ip[8:24], ip[24:40])),   # atomic fragment
                (229, ipv6(44, bytes([6, 0, 0, 1]) + u32(1) + ip[40:], ip[8:24], ip[24:40])),   # real fragment
                (229, ipv6(51, bytes([6, 1, 0, 0]) + u32(1) + u32(1) + ip[40:], ip[8:24], ip[24:40])),  # AH
                (229, ipv6(58, b'\x01\x04\x00\x00\x00\x00\x00\x00' + ip[:48])),  # ICMPv6 error
                (229, ipv6(59, b'')),
            ]
        else:
            hl = (ip[0] & 15) * 4
            opt = bytes([0x46]) + ip[1:2] + u16(len(ip) + 4) + ip[4:20] + b'\x01\x01\x01\x00' + ip[hl:]
            out += [
                (228, opt),                                                     # IPv4 options
                (228, ip[:6] + b'\x20\x00' + ip[8:]),                           # more fragments
                (228, ip[:2] + b'\x00\x00' + ip[4:]),                           # total length 0 (TSO)
                (1, eth(0x0800, ip + b'\x00' * 12)),                            # Ethernet padding
                (228, ipv4(1, b'\x03\x03\x00\x00\x00\x00\x00\x00' + ip[:28])),  # ICMP error
                (1, eth(0x0806, b'\x00\x01\x08\x00\x06\x04\x00\x01' + b'\x00' * 20)),
                (1, eth(0x0800, ipv4(17, udp(53, 53, b'\x00' * 12)))),
            ]
    # truncations of a few of them
    trunc = []
    for lt, p in out[:60:5]:
        for n in (len(p) // 2, len(p) - 1):
            trunc.append((lt, p[:n]))
    return [(lt, p, True) for lt, p in out] + [(lt, p, False) for lt, p in trunc]


# ---- core seeds: replaying fuzz_core.c's bookkeeping ------------------------

SYN, FIN, RST, PSH, ACK, URG, ECE, CWR = 0x2, 0x1, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80
COMMON = [SYN, SYN | ACK, ACK, ACK, FIN | ACK, RST, RST | ACK, FIN, ACK, SYN | FIN, SYN | RST, 0,
          FIN | RST | ACK, SYN | ACK | FIN, FIN | ACK, ACK]
UNIT = [0, 1000, 100000, 10**7, 10**8, 10**9, 10**10, 10**11]
BIG = [1460, 1448, 65495, 65535, 536, 9000, 100000, 1 << 20]
M32 = 0xffffffff


def s32(v):
    v &= M32
    return v - (1 << 32) if v & 0x80000000 else v


class Trk:
    def __init__(self, slot, d):
        isn = (0x10000000 * slot + 12345) & M32 if d else (0xfffffff0 - 1000 * slot) & M32
        self.isn = self.nxt = self.last_seq = isn
        self.last_ack = 0


def enc_flags(f):
    base = f & ~(PSH | ECE | URG) & 0x1ff
    if base in COMMON and not (f & (CWR | 0x100)):
        return COMMON.index(base) | (0x10 if f & PSH else 0) | (0x20 if f & ECE else 0) | (0x40 if f & URG else 0)
    return 0x80 | (f & 0x3f) | (0x40 if f & (ECE | CWR | 0x100) else 0)


def dec_flags(b1):
    if not b1 & 0x80:
        return COMMON[b1 & 15] | (PSH if b1 & 0x10 else 0) | (ECE if b1 & 0x20 else 0) | (URG if b1 & 0x40 else 0)
    return (b1 & 0x3f) | ((CWR | ECE | 0x100) if b1 & 0x40 else 0)


def enc_time(dt):
    if dt <= 0:
        return 0
    for k in range(1, 8):
        n = round(dt / UNIT[k])
        if n <= 31:
            return (k << 5) | max(1, n)
    return (7 << 5) | 31


def tcp_options(t):
    hl = (t[12] >> 4) * 4
    o, i, res = t[20:hl], 0, {}
    while i < len(o):
        k = o[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(o) or o[i + 1] < 2:
            break
        ln = o[i + 1]
        if k == 2 and ln == 4:
            res['mss'] = 1
        elif k == 3 and ln == 3:
            res['ws'] = o[i + 2]
        elif k == 4:
            res['sack'] = 1
        elif k == 8:
            res['ts'] = 1
        i += ln
    return res


def core_records(segs):
    """segs: (ts_ns, src, sport, dst, dport, family, flags, seq, ack, len, window, opts) in order."""
    slots_v4, slots_v6 = [0, 1, 3], [2, 5]
    conns, trk, off, recs = {}, {}, {}, []
    prev_ts = None
    for ts, src, sp, dst, dp, fam, flags, seq, ack, ln, win, opts in segs:
        key = frozenset([(src, sp), (dst, dp)])
        if key not in conns:
            free = slots_v4 if fam == 4 else slots_v6
            if not free:
                continue
            conns[key] = (free.pop(0), (src, sp))
        slot, client = conns[key]
        d = 0 if (src, sp) == client else 1
        for dd in (0, 1):
            trk.setdefault((slot, dd), Trk(slot, dd))
        S, P = trk[(slot, d)], trk[(slot, 1 - d)]
        param = 0
        # seq: the first segment of a side takes the harness's ISN; later ones follow it
        if (slot, d) not in off:
            off[(slot, d)] = (S.nxt - seq) & M32
        want = (seq + off[(slot, d)]) & M32
        if want == S.nxt:
            smode = 0
        elif want == S.last_seq:
            smode = 2
        elif want == S.isn:
            smode = 3
        elif -32768 <= s32(want - S.nxt) < 32768:
            smode, param = 4, s32(want - S.nxt) & 0xffff
        else:
            smode, param = 5, (s32(want - S.nxt) // 4096) & 0xffff
        # ack, in the peer's harness numbering
        amode = 4
        if (slot, 1 - d) in off and flags & ACK:
            wa = (ack + off[(slot, 1 - d)]) & M32
            amode = 0  # unless something closer fits
            if wa == P.nxt:
                amode = 0
            elif wa == P.isn + 1:
                amode = 3
            elif wa == S.last_ack:
                amode = 5
            elif wa == (P.nxt - 1) & M32:
                amode = 6
            elif param == 0 and -32768 <= s32(wa - P.nxt) < 32768:
                amode, param = 2, s32(wa - P.nxt) & 0xffff
        # length
        if ln < 256:
            lmode, b3 = 0, ln
        elif ln % 16 == 0 and ln < 4096:
            lmode, b3 = 1, ln // 16
        elif ln in BIG:
            lmode, b3 = 2, BIG.index(ln)
        elif ln < 65536 and param == 0 and smode not in (4, 5) and amode != 2:
            lmode, b3, param = 3, ln >> 8, ln & 0xff
        else:
            lmode, b3 = 1, min(255, (ln + 8) // 16)
        ws = {0: 1, 7: 2, 14: 3}.get(opts.get('ws', -1), 2 if 'ws' in opts else 0)
        b5 = (1 if win == 0 else 0) | (ws << 1) | (8 if 'ts' in opts else 0) | (0x20 if 'mss' in opts else 0) \
            | (0x40 if 'sack' in opts else 0)
        b4 = enc_time(ts - prev_ts) if prev_ts is not None else 0
        prev_ts = ts
        b1 = enc_flags(flags)
        recs.append(bytes([slot | (d << 3), b1, smode | (amode << 3) | (lmode << 6), b3, b4, b5,
                           param >> 8, param & 0xff]))
        # fuzz_core.c's bookkeeping, on what it will actually build
        f = dec_flags(b1)
        hseq = {0: S.nxt, 2: S.last_seq, 3: S.isn, 4: (S.nxt + s32(param if param < 32768 else param - 65536)) & M32,
                5: (S.nxt + (param if param < 32768 else param - 65536) * 4096) & M32}[smode]
        hack = {0: P.nxt, 2: (P.nxt + (param if param < 32768 else param - 65536)) & M32, 3: (P.isn + 1) & M32,
                4: 0, 5: S.last_ack, 6: (P.nxt - 1) & M32}[amode]
        hlen = [b3, b3 * 16, BIG[b3 & 7], (b3 << 8) | (param & 0xff)][lmode]
        end = (hseq + hlen + (1 if f & SYN else 0) + (1 if f & FIN else 0)) & M32
        if f & SYN:
            S.isn = hseq
        if not f & RST and (f & SYN or s32(end - S.nxt) > 0):
            S.nxt = end
        S.last_seq, S.last_ack = hseq, hack
    return recs


def core_segments(pkts):
    segs = []
    for lt, ts, p, _orig in pkts:
        ip = ip_of(lt, p)
        t = tcp_of(ip) if ip else None
        if not t:
            continue
        src, dst, fam, tcp = t
        hl = (tcp[12] >> 4) * 4
        sp, dp, seq, ack = struct.unpack('>HHII', tcp[:12])
        flags = struct.unpack('>H', tcp[12:14])[0] & 0x1ff
        win = struct.unpack('>H', tcp[14:16])[0]
        segs.append((ts, src, sp, dst, dp, fam, flags, seq, ack, max(0, len(tcp) - hl), win, tcp_options(tcp)))
    return segs


def synth_core():
    """A SYN flood with low thresholds, a cap of one connection, millisecond timeouts, a burst."""
    seeds = {}
    recs = []
    for i in range(24):  # slot 6: a new source per param, toward slot 0's server
        recs.append(bytes([6, 0, 6, 0, (2 << 5) | 3, 0x20, 0x10 + i, i]))
        if i % 3 == 0:  # some answered: a SYN-ACK back, and sometimes the ACK
            recs.append(bytes([6 | 8, 1, 6, 0, (1 << 5) | 5, 0x20, 0x20 + i, i]))
    recs.append(bytes([0x20, 2, 0, 0, (7 << 5) | 31, 0, 0, 0]))  # jump: floods end
    seeds['flood'] = bytes([0, 0x08, 0, 0]) + b''.join(recs)
    hs = [bytes([0, 0, 0x20, 0, 0x21, 0x2a, 0, 0]), bytes([8, 1, 0, 0, 0x21, 0x2a, 0, 0]),
          bytes([0, 2, 0, 0, 0x21, 0, 0, 0])]
    seeds['max-conns-1'] = bytes([1 << 3, 0, 0, 0]) + b''.join(hs) + b''.join(bytes([r[0] | 1]) + r[1:] for r in hs)
    seeds['timeouts-ms'] = bytes([0, 1, 0, 0]) + b''.join(hs) + bytes([0x20, 2, 0, 0, 0, 0, 0, 0])
    # h3 bits 6-7 set: the record with b0 bits 4-5 = 3 is followed by a burst of SYNs (table growth)
    seeds['burst'] = bytes([0, 0x08, 0, 0xc0]) + b''.join(hs) + bytes([0x30, 2, 0, 0, 0x21, 0, 0, 0]) + hs[2]
    return seeds


# ---- main -----------------------------------------------------------------------

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, '..', '..'))
    capdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'test-captures')
    outdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, 'build-fuzz', 'fuzz-seeds')
    ddir, cdir = os.path.join(outdir, 'decode'), os.path.join(outdir, 'core')
    for d in (ddir, cdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    seen, ndec, ip4, ip6 = set(), 0, None, None

    def put_decode(name, lt, pkt, whole=True):
        nonlocal ndec
        if lt not in LT_INDEX:
            return
        # selector bit 7: the whole packet was captured (the decoder's wirelen = caplen)
        data = bytes([LT_INDEX[lt] | (0x80 if whole else 0)]) + pkt
        h = hashlib.sha1(data).hexdigest()
        if h in seen:
            return
        seen.add(h)
        with open(os.path.join(ddir, '%s-%s' % (name, h[:12])), 'wb') as f:
            f.write(data)
        ndec += 1

    ncore = 0
    for path in captures(capdir):
        name = os.path.basename(path).rsplit('.', 1)[0]
        try:
            pkts = read_capture(path)
        except (OSError, struct.error) as e:
            print('make-seeds: %s: %s' % (path, e), file=sys.stderr)
            continue
        for lt, _ts, p, orig in pkts[:MAX_PER_FILE]:
            put_decode(name, lt, p, orig == len(p))
        for lt, _ts, p, _orig in pkts:
            ip = ip_of(lt, p)
            t = tcp_of(ip) if ip else None
            if t and t[2] == 4 and ip4 is None and len(t[3]) > (t[3][12] >> 4) * 4:
                ip4 = ip[:struct.unpack('>H', ip[2:4])[0]]
            if t and t[2] == 6 and ip6 is None and len(t[3]) > (t[3][12] >> 4) * 4:
                ip6 = ip[:40 + struct.unpack('>H', ip[4:6])[0]]
        # core seeds from the Linux scenario captures (not the zeek/ corpus: many connections)
        if os.path.normpath(os.path.dirname(path)) == os.path.normpath(capdir):
            recs = core_records(core_segments(pkts))[:400]
            if not recs:
                continue
            for tag, hdr in (('default', b'\x00\x00\x00\x00'), ('zeek', b'\x01\x00\x00\x00'),
                             ('verify-ms', b'\x04\x01\x00\x00')):
                with open(os.path.join(cdir, '%s-%s' % (name, tag)), 'wb') as f:
                    f.write(hdr + b''.join(recs))
                ncore += 1
    if ip4 and ip6:
        for i, (lt, p, whole) in enumerate(decode_synth(ip4, ip6)):
            put_decode('synth%03d' % i, lt, p, whole)
    for name, data in synth_core().items():
        with open(os.path.join(cdir, 'synth-' + name), 'wb') as f:
            f.write(data)
        ncore += 1
    print('make-seeds: %d decode seeds in %s, %d core seeds in %s' % (ndec, ddir, ncore, cdir))


if __name__ == '__main__':
    main()
