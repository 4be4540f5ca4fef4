/*
 * fuzz_decode.c - libFuzzer target for the decoder chain (decode/)
 * from raw link-layer bytes to a core segment, and on into the core.
 *
 * Input: one selector byte, then the captured packet (caplen = the rest).
 *   bits 0-3  link type: 0..11 index the link types link.c decodes (see
 *             linktypes[] below); 12..15 pick ones it does not
 *   bit 4     analyzer: key_context
 *   bit 5     analyzer: checksum_verify
 *   bit 6     analyzer: split = zeek
 *   bit 7     decoder: wirelen = caplen (the whole packet was captured);
 *             clear: wirelen 0 (unknown) for an even caplen, caplen + 1 (cut
 *             by the snaplen) for an odd one
 * The packet is copied into a buffer of exactly caplen bytes, so any read
 * past the captured bytes is an AddressSanitizer report.
 *
 * Logic checks (abort() on violation), beyond ASan/UBSan:
 *   - the result is a valid enum, its counter went up by exactly one, and
 *     any result other than a segment comes with a reason string;
 *   - decoding with and without checksum verification agrees on everything
 *     but the checksum field (which stays "unknown" without verification),
 *     and bad_checksum / tunnelled count what they say;
 *   - with the whole packet captured, the segment's IP packet lies inside it
 *     (ip_len <= caplen) and, with verification, its checksum was checked;
 *   - a segment is sane: family 4 or 6 on both addresses (IPv4 zero-padded),
 *     TCP flags in 9 bits, window scale -1..14, option flags 0/1, frame and
 *     time left 0 for the caller; its IP and TCP headers fit in caplen; the
 *     payload fits the IP length (ip_len >= len + 40, or + 60 for IPv6);
 *   - for raw IPv4 / IPv6 link types (228, 229) without a tunnel, the segment
 *     is compared field by field with an independent reading of the headers,
 *     including the TCP checksum when the segment was captured whole.
 * Each decoding has a reassembly state of its own (decode/defrag.c), so a
 * fragment goes through the reassembly's checks and is held, refused or
 * dropped; the state is finished and freed after each input (a leak is an
 * ASan report).
 * A segment is then fed to an analyzer (see fuzz_core.c for the core's own
 * target), twice (a retransmission), and tp_finish must report it.
 *
 * The analyzer is created per input and freed at its end, so runs are
 * independent and every crash reproduces from its input alone; it is small
 * (a few kB), so this costs microseconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "defrag.h"
#include "tcpphase.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_decode: invariant violated at %s:%d: %s\n", __FILE__, \
			        __LINE__, #c);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Every link type link.c's tp_decode() switch handles. */
static const int linktypes[12] = {
	1,   /* Ethernet (and 802.1Q, QinQ, MPLS, PPPoE, PBB, VN-Tag behind it) */
	0,   /* BSD null */
	108, /* OpenBSD loop */
	101, /* raw IP */
	12,  /* raw IP (old value) */
	14,  /* raw IP (old value) */
	228, /* raw IPv4 */
	229, /* raw IPv6 */
	113, /* Linux cooked SLL */
	276, /* Linux cooked SLL2 */
	105, /* IEEE 802.11 */
	127, /* radiotap + 802.11 */
};
/* And some it does not: PPP, PPP-HDLC, USER0, an out-of-range one. */
static const int unsupported[4] = { 9, 50, 147, 65535 };

static int nrecords;

static void on_conn(void *u, const struct tp_conn_record *r)
{
	(void)u;
	CHECK(r->orig_pkts + r->resp_pkts >= 1);
	CHECK(r->handshake < TP_HS_COUNT && r->teardown < TP_TD_COUNT && r->end_reason <= TP_END_REUSED);
	nrecords++;
}

static void on_amend(void *u, const struct tp_amend *a)
{
	(void)u;
	CHECK(a->frame >= 1 && a->frame <= 2);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071, written again here so that the decoder's is checked, not trusted. */
static uint16_t ref_csum(const uint8_t *pseudo, size_t plen, const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	for (size_t i = 0; i + 1 < plen; i += 2)
		s += rd16(pseudo + i);
	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * An independent reading of raw IPv4 (IHL, total length, no fragment) or
 * raw IPv6 (TCP right after the fixed header) followed by TCP. Returns 0
 * when the packet is not that simple shape; the decoder is then only held
 * to the generic checks.
 */
static int reference(int lt, const uint8_t *p, uint32_t caplen, int verify, struct tp_segment *r)
{
	memset(r, 0, sizeof *r);
	uint32_t hl, seglen;
	uint8_t pseudo[40];
	size_t plen;
	if (lt == 228) {
		if (caplen < 20 || p[0] >> 4 != 4 || p[9] != 6 || (rd16(p + 6) & 0x3fff))
			return 0;
		hl = (p[0] & 15) * 4u;
		uint32_t total = rd16(p + 2) ? rd16(p + 2) : caplen;
		if (hl < 20 || total < hl + 20 || caplen < hl + 20)
			return 0;
		r->src.family = r->dst.family = 4;
		memcpy(r->src.bytes, p + 12, 4);
		memcpy(r->dst.bytes, p + 16, 4);
		r->ip_len = total;
		seglen = total - hl;
		memcpy(pseudo, p + 12, 8);
		pseudo[8] = 0, pseudo[9] = 6, pseudo[10] = (uint8_t)(seglen >> 8), pseudo[11] = (uint8_t)seglen;
		plen = 12;
	} else if (lt == 229) {
		if (caplen < 60 || p[0] >> 4 != 6 || p[6] != 6)
			return 0;
		hl = 40;
		seglen = rd16(p + 4);
		if (seglen < 20)
			return 0;
		r->src.family = r->dst.family = 6;
		memcpy(r->src.bytes, p + 8, 16);
		memcpy(r->dst.bytes, p + 24, 16);
		r->ip_len = seglen + 40;
		memcpy(pseudo, p + 8, 32);
		pseudo[32] = pseudo[33] = 0, pseudo[34] = (uint8_t)(seglen >> 8), pseudo[35] = (uint8_t)seglen;
		pseudo[36] = pseudo[37] = pseudo[38] = 0, pseudo[39] = 6;
		plen = 40;
	} else {
		return 0;
	}
	const uint8_t *t = p + hl;
	uint32_t thl = (t[12] >> 4) * 4u;
	if (thl < 20 || thl > seglen)
		return 0;
	r->sport = rd16(t);
	r->dport = rd16(t + 2);
	r->seq = rd32(t + 4);
	r->ack = rd32(t + 8);
	r->flags = rd16(t + 12) & 0x1ff;
	r->window = rd16(t + 14);
	r->len = seglen - thl;
	uint32_t tcpcap = caplen - hl; /* captured bytes from the TCP header on (IPv4: Ethernet padding aside) */
	if (lt == 228 && tcpcap > seglen)
		tcpcap = seglen;
	if (lt == 229 && tcpcap > seglen)
		tcpcap = seglen;
	r->checksum = TP_CSUM_UNKNOWN;
	if (verify && tcpcap >= seglen)
		r->checksum = ref_csum(pseudo, plen, t, seglen) == 0xffff ? TP_CSUM_GOOD : TP_CSUM_BAD;
	return 1;
}

static void check_segment(int lt, const uint8_t *pkt, uint32_t caplen, int verify, int whole,
                          const struct tp_segment *s, const struct tp_decode_stats *st)
{
	if (whole) {
		CHECK(s->ip_len <= caplen);
		if (verify)
			CHECK(s->checksum != TP_CSUM_UNKNOWN);
	}
	CHECK(s->src.family == 4 || s->src.family == 6);
	CHECK(s->dst.family == s->src.family);
	if (s->src.family == 4)
		for (int i = 4; i < 16; i++)
			CHECK(s->src.bytes[i] == 0 && s->dst.bytes[i] == 0);
	CHECK(s->frame == 0 && s->ts_ns == 0);
	CHECK((s->flags & ~0x1ff) == 0);
	CHECK(s->wscale >= -1 && s->wscale <= 14);
	CHECK(s->checksum <= TP_CSUM_BAD);
	if (!verify)
		CHECK(s->checksum == TP_CSUM_UNKNOWN);
	/* the IP header and the fixed TCP header were captured */
	CHECK(caplen >= (s->src.family == 4 ? 40u : 60u));
	/* the payload is inside the IP packet */
	uint32_t min_hdrs = s->src.family == 4 ? 40 : 60;
	CHECK(s->ip_len >= min_hdrs && s->len <= s->ip_len - min_hdrs);
	if (s->src.family == 6)
		CHECK(s->ip_len <= 65535 + 40);
	else
		CHECK(s->ip_len <= 65535 || s->ip_len <= caplen);

	struct tp_segment r;
	if (st->tunnelled == 0 && (lt == 228 || lt == 229))
		CHECK(s->src.family == (lt == 228 ? 4 : 6));
	if (st->tunnelled == 0 && reference(lt, pkt, caplen, verify, &r)) {
		CHECK(memcmp(&r.src, &s->src, sizeof r.src) == 0 && memcmp(&r.dst, &s->dst, sizeof r.dst) == 0);
		CHECK(r.sport == s->sport && r.dport == s->dport);
		CHECK(r.seq == s->seq && r.ack == s->ack && r.flags == s->flags && r.window == s->window);
		CHECK(r.len == s->len && r.ip_len == s->ip_len);
		CHECK(r.checksum == s->checksum);
		CHECK(s->context == 0); /* no VLAN, no tunnel */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	int lt = (sel & 15) < 12 ? linktypes[sel & 15] : unsupported[(sel & 15) - 12];
	uint32_t caplen = (uint32_t)(size - 1);
	int whole = sel >> 7;
	uint32_t wirelen = whole ? caplen : (caplen & 1) ? caplen + 1 : 0;
	/* exactly caplen bytes, so ASan sees any over-read (malloc(0) may return NULL: keep 1) */
	uint8_t *pkt = malloc(caplen ? caplen : 1);
	if (!pkt)
		abort();
	memcpy(pkt, data + 1, caplen);

	struct tp_segment seg[2];
	struct tp_decode_stats st[2];
	const char *why[2];
	enum tp_dec_result res[2];
	for (int verify = 0; verify < 2; verify++) {
		struct tp_defrag *df = tp_defrag_new(NULL);
		if (!df)
			abort();
		struct tp_decode_opts o = { .verify_checksums = verify, .wirelen = wirelen, .defrag = df };
		memset(&st[verify], 0, sizeof st[verify]);
		memset(&seg[verify], 0xa5, sizeof seg[verify]); /* the decoder must fill it */
		why[verify] = (const char *)&why; /* must be reset */
		res[verify] = tp_decode(lt, pkt, caplen, &o, &seg[verify], &st[verify], &why[verify]);
		enum tp_dec_result r = res[verify];
		/* one packet completes nothing it did not hold whole: at most one
		 * datagram is held, and the end lets it go */
		CHECK(tp_defrag_datagrams(df) <= 1);
		tp_defrag_finish(df, &st[verify]);
		CHECK(tp_defrag_datagrams(df) == 0 && tp_defrag_bytes(df) == 0);
		tp_defrag_free(df);
		CHECK((unsigned)r < TP_DEC_COUNT);
		uint64_t total = 0;
		for (int i = 0; i < TP_DEC_COUNT; i++)
			total += st[verify].by_result[i];
		CHECK(total == 1 && st[verify].by_result[r] == 1);
		if (r == TP_DEC_SEGMENT) {
			CHECK(why[verify] == NULL);
			check_segment(lt, pkt, caplen, verify, whole, &seg[verify], &st[verify]);
			CHECK(st[verify].bad_checksum == (seg[verify].checksum == TP_CSUM_BAD));
			CHECK(st[verify].tunnelled <= 1);
		} else {
			CHECK(why[verify] != NULL && strlen(why[verify]) > 0);
			CHECK(st[verify].tunnelled == 0 && st[verify].bad_checksum == 0);
		}
		if ((sel & 15) >= 12)
			CHECK(r == TP_DEC_UNSUPPORTED);
		/* tp_dec_result_name is total */
		CHECK(tp_dec_result_name(r) != NULL && strcmp(tp_dec_result_name(r), "?") != 0);
	}
	/* verification changes the checksum field and nothing else */
	CHECK(res[0] == res[1]);
	CHECK(st[0].tunnelled == st[1].tunnelled);
	if (res[0] == TP_DEC_SEGMENT) {
		struct tp_segment a = seg[0], b = seg[1];
		a.checksum = b.checksum = 0;
		CHECK(memcmp(&a, &b, sizeof a) == 0);
	} else {
		CHECK(strcmp(why[0], why[1]) == 0);
	}

	if (res[1] == TP_DEC_SEGMENT) {
		struct tp_config cfg;
		tp_config_default(&cfg);
		cfg.key_context = (sel >> 4) & 1;
		cfg.checksum_verify = (sel >> 5) & 1;
		cfg.split = (sel >> 6) & 1 ? TP_SPLIT_ZEEK : TP_SPLIT_WIRESHARK;
		struct tp_callbacks cb = { .amend = on_amend, .conn = on_conn };
		struct tp_analyzer *an = tp_analyzer_new(&cfg, &cb);
		if (!an)
			abort();
		nrecords = 0;
		struct tp_verdict v;
		for (int i = 0; i < 2; i++) {
			struct tp_segment s = seg[1];
			s.frame = (uint64_t)i + 1;
			s.ts_ns = 1700000000LL * 1000000000LL + i * 1000000LL;
			tp_feed(an, &s, &v);
			CHECK(v.frame == s.frame && v.conn <= (uint64_t)i && v.flags == s.flags && v.len == s.len);
			CHECK(v.phase < TP_PHASE_COUNT && v.step < TP_STEP_COUNT);
			CHECK(v.orig_state < TP_STATE_COUNT && v.resp_state < TP_STATE_COUNT);
		}
		tp_finish(an);
		/* the same segment twice is one connection, unless the second SYN reuses the tuple (zeek split) */
		CHECK(nrecords >= 1 && nrecords <= 2);
		CHECK(tp_stats(an)->segments == 2 && tp_stats(an)->conns_active == 0);
		tp_analyzer_free(an);
	}
	free(pkt);
	return 0;
}
