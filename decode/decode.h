/*
 * decode.h - from raw link-layer bytes to a core segment.
 *
 * One layer per file: link.c (Ethernet, 802.1Q/QinQ, MPLS, PPPoE, PBB,
 * VN-Tag, 802.1BR E-Tag, Linux cooked SLL/SLL2, Cisco HDLC, BSD null/loop,
 * raw IP), ipv4.c, ipv6.c, defrag.c (IP reassembly, for a caller that
 * keeps a struct tp_defrag), tunnel.c (IP-in-IP, GRE and ERSPAN, VXLAN,
 * Geneve, GTP-U, Teredo) and tcp.c. Each layer checks its own lengths
 * against the captured bytes and hands the rest to the next; nothing reads
 * past caplen.
 */
#ifndef TP_DECODE_H
#define TP_DECODE_H

#include <stdint.h>
#include "tcpphase.h"

enum tp_dec_result {
	TP_DEC_SEGMENT = 0, /* *seg filled */
	TP_DEC_NOT_TCP,     /* a valid packet that carries no TCP segment (ARP, UDP, ...) */
	TP_DEC_FRAGMENT,    /* an IP fragment: held for reassembly (or, without a tp_defrag, skipped) */
	TP_DEC_ICMP_QUOTE,  /* an ICMP error quoting a TCP header: not a segment */
	TP_DEC_TRUNCATED,   /* headers cut by the snaplen */
	TP_DEC_MALFORMED,   /* impossible header values */
	TP_DEC_UNSUPPORTED, /* link type or encapsulation we do not decode */
	/* An IP fragment dropped, and with it (but for a refused one) the
	 * datagram it belonged to: overlapping, inconsistent, or over the
	 * reassembly limits. Last, so that the older values keep theirs. */
	TP_DEC_FRAG_DROPPED,
	TP_DEC_COUNT
};

struct tp_decode_stats {
	uint64_t by_result[TP_DEC_COUNT];
	uint64_t tunnelled;     /* segments found inside a tunnel */
	uint64_t bad_checksum;  /* segments whose TCP checksum was verified bad */
	struct tp_defrag_stats {
		uint64_t reassembled;    /* datagrams made whole again */
		uint64_t overlapping;    /* datagrams dropped: fragments overlapped */
		uint64_t inconsistent;   /* datagrams dropped: ends disagree, empty fragment, over 65535 bytes */
		uint64_t timed_out;      /* datagrams dropped incomplete after the timeout */
		uint64_t unfinished;     /* datagrams still incomplete at the end of the capture */
		uint64_t over_bytes;     /* fragments refused: the cap on bytes held was reached */
		uint64_t over_datagrams; /* fragments refused: the cap on datagrams held was reached */
	} frag;
};

struct tp_defrag; /* defrag.h: IP reassembly state, owned by the caller */

struct tp_decode_opts {
	int verify_checksums;   /* compute the TCP checksum when the whole segment was captured */
	/* The packet's length on the wire, set per packet (0: unknown). When
	 * the capture holds all of it, an IP length beyond the captured bytes
	 * is a lie, not a snaplen cut. */
	uint32_t wirelen;
	/* IP reassembly (defrag.h): NULL counts fragments and skips them (the
	 * plugin's case: Wireshark reassembles). ts_ns is the packet's capture
	 * time, set per packet: the reassembly timeout runs on it. */
	struct tp_defrag *defrag;
	int64_t ts_ns;
};

/*
 * Decode one captured packet of DLT/LINKTYPE linktype. On TP_DEC_SEGMENT
 * fills *seg (all fields but frame and ts_ns, which the caller sets; a
 * segment reassembled from fragments comes out of the packet whose fragment
 * completed it, and takes that packet's frame and time). On any
 * other result sets *why to a static, human-readable reason ("IPv4 header
 * length 12 < 20", "unsupported link type 147", ...). Stats are updated.
 */
enum tp_dec_result tp_decode(int linktype, const uint8_t *pkt, uint32_t caplen,
                             const struct tp_decode_opts *opts, struct tp_segment *seg,
                             struct tp_decode_stats *st, const char **why);

const char *tp_dec_result_name(enum tp_dec_result r);

/*
 * Decode a TCP header that another dissector has already found (the
 * Wireshark plugin: Wireshark located it, this reads it as the CLI would).
 * p points at the header, caplen bytes of it were captured and the segment,
 * header and payload, is seglen bytes long. Fills the TCP fields of *seg
 * (ports, numbers, flags, window, len, window scale, timestamps; checksum
 * unknown).
 */
enum tp_dec_result tp_decode_tcp_header(const uint8_t *p, uint32_t caplen, uint32_t seglen,
                                        struct tp_segment *seg, const char **why);

/*
 * For an outer IPv4 or IPv6 header found elsewhere (p at its first byte,
 * caplen bytes captured from there on, version what the other dissector
 * found): *pair, the value both directions of its address pair share, which
 * the decoder folds into the VLAN/tunnel context. -1 if the fixed header
 * was not captured whole or is of another version.
 */
int tp_decode_ip_pair(const uint8_t *p, uint32_t caplen, int version, uint32_t *pair);

#endif /* TP_DECODE_H */
