/*
 * test_decode.c - the CLI's decoder on packets built here: IP reassembly
 * (decode/defrag.c) in and out of order, overlaps, duplicates, timeouts and
 * caps, IPv4 and IPv6; and the encapsulations that used to lose a
 * connection without a word (PPPoE with a compressed protocol field,
 * 802.1BR E-Tag, Cisco HDLC, IPv4 source routes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "defrag.h"

enum { LT_EN10MB = 1, LT_RAW = 101, LT_C_HDLC = 104 };
#define SEC 1000000000LL

/* ---- packets ----------------------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t csum(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A TCP SYN from 10.0.0.1:40000 to 10.0.0.2:80 (or the IPv6 pair), seq
 * 1000, carrying datalen bytes of 'a'..: with a right checksum, the pseudo
 * header summed over src/dst (16 or 4 bytes each). */
static uint32_t tcp_syn(uint8_t *t, uint32_t datalen, const uint8_t *src, const uint8_t *dst, uint32_t alen)
{
	memset(t, 0, 20);
	put16(t, 40000);
	put16(t + 2, 80);
	t[4] = 0, t[5] = 0, t[6] = 0x03, t[7] = 0xe8;
	t[12] = 5 << 4;
	t[13] = 0x02;
	put16(t + 14, 64240);
	for (uint32_t i = 0; i < datalen; i++)
		t[20 + i] = (uint8_t)('a' + i % 26);
	uint32_t len = 20 + datalen, sum = 6 + len;
	uint8_t ph[32];
	memcpy(ph, src, alen);
	memcpy(ph + alen, dst, alen);
	for (uint32_t i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	put16(t + 16, csum(sum, t, len));
	return len;
}

static const uint8_t A4[4] = { 10, 0, 0, 1 }, B4[4] = { 10, 0, 0, 2 };
static const uint8_t A6[16] = { 0xfd, 0, [15] = 1 }, B6[16] = { 0xfd, 0, [15] = 2 };

/* A whole IPv4 datagram holding tcp_syn(datalen); its length. */
static uint32_t ip4_syn(uint8_t *p, uint32_t datalen, uint16_t id)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[8] = 64;
	p[9] = 6;
	put16(p + 4, id);
	memcpy(p + 12, A4, 4);
	memcpy(p + 16, B4, 4);
	uint32_t n = 20 + tcp_syn(p + 20, datalen, A4, B4, 4);
	put16(p + 2, n);
	return n;
}

/* Fragment [off, off+len) of the IPv4 datagram d (20-byte header). */
static uint32_t frag4(uint8_t *out, const uint8_t *d, uint32_t off, uint32_t len, int more)
{
	memcpy(out, d, 20);
	memcpy(out + 20, d + 20 + off, len);
	put16(out + 2, 20 + len);
	put16(out + 6, (more ? 0x2000 : 0) | off / 8);
	return 20 + len;
}

/* A whole IPv6 payload (TCP) and its fragments with a fragment header. */
static uint32_t tcp6_syn(uint8_t *t, uint32_t datalen)
{
	return tcp_syn(t, datalen, A6, B6, 16);
}

static uint32_t frag6(uint8_t *out, const uint8_t *tcp, uint32_t off, uint32_t len, int more, uint32_t id)
{
	memset(out, 0, 48);
	out[0] = 0x60;
	put16(out + 4, 8 + len);
	out[6] = 44;
	out[7] = 64;
	memcpy(out + 8, A6, 16);
	memcpy(out + 24, B6, 16);
	out[40] = 6;
	put16(out + 42, off | (more ? 1 : 0));
	out[44] = (uint8_t)(id >> 24), out[45] = (uint8_t)(id >> 16), out[46] = (uint8_t)(id >> 8), out[47] = (uint8_t)id;
	memcpy(out + 48, tcp + off, len);
	return 48 + len;
}

/* ---- a decoder with reassembly ---------------------------------------------- */

struct dec {
	struct tp_defrag *df;
	struct tp_decode_opts o;
	struct tp_decode_stats st;
	struct tp_segment seg;
	const char *why;
};

static int setup_limits(void **state, const struct tp_defrag_limits *lim)
{
	struct dec *d = calloc(1, sizeof *d);
	d->df = tp_defrag_new(lim);
	d->o.defrag = d->df;
	d->o.verify_checksums = 1;
	*state = d;
	return d->df ? 0 : -1;
}

static int setup(void **state)
{
	return setup_limits(state, NULL);
}

static int teardown(void **state)
{
	struct dec *d = *state;
	tp_defrag_free(d->df);
	free(d);
	return 0;
}

static enum tp_dec_result feed(struct dec *d, int lt, const uint8_t *p, uint32_t n, int64_t ts)
{
	d->o.ts_ns = ts;
	d->o.wirelen = n;
	return tp_decode(lt, p, n, &d->o, &d->seg, &d->st, &d->why);
}

static void expect_syn(const struct dec *d, uint32_t datalen)
{
	assert_int_equal(d->seg.sport, 40000);
	assert_int_equal(d->seg.dport, 80);
	assert_int_equal(d->seg.seq, 1000);
	assert_int_equal(d->seg.flags, 0x02);
	assert_int_equal(d->seg.len, datalen);
	assert_int_equal(d->seg.checksum, TP_CSUM_GOOD);
}

/* ---- reassembly ------------------------------------------------------------------ */

static void test_ipv4_in_order(void **state)
{
	struct dec *d = *state;
	uint8_t dg[200], f[200];
	ip4_syn(dg, 44, 7); /* 64 bytes of TCP: 3 fragments of 24, 24, 16 */
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 0, 24, 1), 1), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 24, 24, 1), 2), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 48, 16, 0), 3), TP_DEC_SEGMENT);
	expect_syn(d, 44);
	assert_int_equal(d->seg.ip_len, 84);
	assert_int_equal(d->st.frag.reassembled, 1);
	assert_int_equal(tp_defrag_datagrams(d->df), 0);
	assert_int_equal(tp_defrag_bytes(d->df), 0);
}

static void test_ipv4_out_of_order(void **state)
{
	struct dec *d = *state;
	uint8_t dg[200], f[200];
	ip4_syn(dg, 44, 8);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 48, 16, 0), 1), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 0, 24, 1), 2), TP_DEC_FRAGMENT);
	/* a duplicate is ignored, as Linux ignores it, and costs nothing */
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 0, 24, 1), 2), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 24, 24, 1), 3), TP_DEC_SEGMENT);
	expect_syn(d, 44);
	assert_int_equal(d->st.frag.reassembled, 1);
	assert_int_equal(d->st.frag.overlapping, 0);
}

static void test_ipv4_overlap_drops_datagram(void **state)
{
	struct dec *d = *state;
	uint8_t dg[200], f[200];
	ip4_syn(dg, 44, 9);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 0, 24, 1), 1), TP_DEC_FRAGMENT);
	/* [16, 40) reaches into [0, 24): the whole datagram goes */
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 16, 24, 1), 2), TP_DEC_FRAG_DROPPED);
	assert_non_null(strstr(d->why, "overlapping"));
	assert_int_equal(d->st.frag.overlapping, 1);
	assert_int_equal(tp_defrag_datagrams(d->df), 0);
	/* what follows starts a datagram of its own, which never completes */
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 24, 24, 1), 3), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 48, 16, 0), 4), TP_DEC_FRAGMENT);
	assert_int_equal(d->st.frag.reassembled, 0);
	tp_defrag_finish(d->df, &d->st);
	assert_int_equal(d->st.frag.unfinished, 1);
	assert_int_equal(d->st.by_result[TP_DEC_SEGMENT], 0);
}

/* Overlapping the runs' edge: [0,8) and [16,24) came apart; [8,24) is not
 * inside one run, so it overlaps (not a duplicate), as in Linux. */
static void test_ipv4_overlap_across_runs(void **state)
{
	struct dec *d = *state;
	uint8_t dg[200], f[200];
	ip4_syn(dg, 44, 10);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 16, 8, 1), 1), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 0, 8, 1), 1), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 8, 16, 1), 1), TP_DEC_FRAG_DROPPED);
	assert_int_equal(d->st.frag.overlapping, 1);
}

static void test_inconsistent_end(void **state)
{
	struct dec *d = *state;
	uint8_t dg[200], f[200];
	ip4_syn(dg, 44, 11);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 48, 16, 0), 1), TP_DEC_FRAGMENT);
	/* a second last fragment ending elsewhere */
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 24, 16, 0), 1), TP_DEC_FRAG_DROPPED);
	assert_int_equal(d->st.frag.inconsistent, 1);
	assert_int_equal(tp_defrag_datagrams(d->df), 0);
}

static void test_timeout(void **state)
{
	struct dec *d = *state;
	uint8_t dg[200], f[200];
	ip4_syn(dg, 44, 12);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 0, 24, 1), 100 * SEC), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 24, 24, 1), 129 * SEC), TP_DEC_FRAGMENT);
	/* 30 s after the first fragment (ipfrag_time): too late */
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 48, 16, 0), 130 * SEC), TP_DEC_FRAGMENT);
	assert_int_equal(d->st.frag.timed_out, 1);
	assert_int_equal(d->st.frag.reassembled, 0);
	/* any packet moves the clock: the second datagram times out too */
	uint8_t other[100];
	assert_int_equal(feed(d, LT_RAW, other, ip4_syn(other, 0, 13), 161 * SEC), TP_DEC_SEGMENT);
	assert_int_equal(d->st.frag.timed_out, 2);
	assert_int_equal(tp_defrag_datagrams(d->df), 0);
}

static int setup_small(void **state)
{
	struct tp_defrag_limits lim;
	tp_defrag_default_limits(&lim);
	lim.max_datagrams = 2;
	lim.max_bytes = 1500;
	return setup_limits(state, &lim);
}

static void test_cap_datagrams(void **state)
{
	struct dec *d = *state;
	uint8_t dg[200], f[200];
	for (uint16_t id = 1; id <= 3; id++) {
		ip4_syn(dg, 44, id);
		enum tp_dec_result r = feed(d, LT_RAW, f, frag4(f, dg, 0, 24, 1), id);
		assert_int_equal(r, id <= 2 ? TP_DEC_FRAGMENT : TP_DEC_FRAG_DROPPED);
	}
	assert_int_equal(d->st.frag.over_datagrams, 1);
	assert_non_null(strstr(d->why, "flood"));
	/* the held ones still complete */
	ip4_syn(dg, 44, 2);
	feed(d, LT_RAW, f, frag4(f, dg, 24, 24, 1), 5);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 48, 16, 0), 6), TP_DEC_SEGMENT);
	expect_syn(d, 44);
}

static void test_cap_bytes(void **state)
{
	struct dec *d = *state;
	uint8_t dg[2000], f[2000];
	ip4_syn(dg, 1500, 1); /* 1520 bytes of TCP */
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 0, 800, 1), 1), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag4(f, dg, 800, 720, 0), 2), TP_DEC_FRAG_DROPPED);
	assert_int_equal(d->st.frag.over_bytes, 1);
	assert_true(tp_defrag_bytes(d->df) <= 1500);
}

static void test_ipv6(void **state)
{
	struct dec *d = *state;
	uint8_t tcp[200], f[200];
	tcp6_syn(tcp, 44); /* 64 bytes */
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 32, 32, 0, 77), 1), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 0, 32, 1, 77), 2), TP_DEC_SEGMENT);
	expect_syn(d, 44);
	assert_int_equal(d->seg.src.family, 6);
	assert_int_equal(d->seg.ip_len, 40 + 64);
	/* overlap: dropped (RFC 5722) */
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 0, 32, 1, 78), 3), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 24, 40, 0, 78), 4), TP_DEC_FRAG_DROPPED);
	assert_int_equal(d->st.frag.overlapping, 1);
	/* IPv6 waits 60 s, not 30 */
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 0, 32, 1, 80), 10 * SEC), TP_DEC_FRAGMENT);
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 32, 32, 0, 80), 65 * SEC), TP_DEC_SEGMENT);
	assert_int_equal(d->st.frag.timed_out, 0);
	/* a non-final fragment not a multiple of 8: that fragment only goes;
	 * the datagram it opened stays, empty, as in Linux, until it times out */
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 0, 30, 1, 79), 66 * SEC), TP_DEC_FRAG_DROPPED);
	assert_int_equal(tp_defrag_datagrams(d->df), 1);
	assert_int_equal(feed(d, LT_RAW, f, frag6(f, tcp, 0, 32, 1, 81), 126 * SEC), TP_DEC_FRAGMENT);
	assert_int_equal(d->st.frag.timed_out, 1);
}

/* Without a tp_defrag (the plugin's way): counted and skipped, as before. */
static void test_no_state(void **state)
{
	(void)state;
	uint8_t dg[200], f[200];
	struct tp_decode_stats st = { 0 };
	struct tp_segment seg;
	ip4_syn(dg, 44, 7);
	assert_int_equal(tp_decode(LT_RAW, f, frag4(f, dg, 0, 24, 1), NULL, &seg, &st, NULL), TP_DEC_FRAGMENT);
	assert_int_equal(tp_decode(LT_RAW, f, frag4(f, dg, 24, 40, 0), NULL, &seg, &st, NULL), TP_DEC_FRAGMENT);
}

/* ---- encapsulations ---------------------------------------------------------------- */

/* An Ethernet frame of ethertype type: the tag bytes, then the IPv4 SYN. */
static uint32_t ether(uint8_t *f, uint16_t type, const uint8_t *tag, uint32_t taglen)
{
	memset(f, 0, 12);
	f[0] = 2, f[6] = 4;
	put16(f + 12, type);
	memcpy(f + 14, tag, taglen);
	return 14 + taglen + ip4_syn(f + 14 + taglen, 4, 1);
}

static void decodes_syn(uint8_t lt, const uint8_t *f, uint32_t n)
{
	struct tp_decode_opts o = { .verify_checksums = 1 };
	struct tp_decode_stats st = { 0 };
	struct tp_segment seg;
	const char *why = NULL;
	enum tp_dec_result r = tp_decode(lt, f, n, &o, &seg, &st, &why);
	if (r != TP_DEC_SEGMENT)
		fail_msg("%s", why);
	assert_int_equal(seg.sport, 40000);
	assert_int_equal(seg.flags, 0x02);
	assert_int_equal(seg.len, 4);
	assert_int_equal(seg.checksum, TP_CSUM_GOOD);
}

static void test_pppoe_compressed_protocol(void **state)
{
	(void)state;
	uint8_t f[200];
	/* version/type 0x11, code 0 (session), session id, length, then PPP */
	const uint8_t full[] = { 0x11, 0, 0x12, 0x34, 0, 74, 0x00, 0x21 }, pfc[] = { 0x11, 0, 0x12, 0x34, 0, 73, 0x21 };
	decodes_syn(LT_EN10MB, f, ether(f, 0x8864, full, sizeof full));
	decodes_syn(LT_EN10MB, f, ether(f, 0x8864, pfc, sizeof pfc));
	/* LCP is not IP: not TCP, no segment */
	const uint8_t lcp[] = { 0x11, 0, 0x12, 0x34, 0, 74, 0xc0, 0x21 };
	struct tp_decode_stats st = { 0 };
	struct tp_segment seg;
	assert_int_equal(tp_decode(LT_EN10MB, f, ether(f, 0x8864, lcp, sizeof lcp), NULL, &seg, &st, NULL),
	                 TP_DEC_NOT_TCP);
}

static void test_etag(void **state)
{
	(void)state;
	uint8_t f[200];
	const uint8_t etag[] = { 0x00, 0x00, 0x10, 0x05, 0x00, 0x00, 0x08, 0x00 }; /* E-CID 5, then IPv4 */
	decodes_syn(LT_EN10MB, f, ether(f, 0x893f, etag, sizeof etag));
}

static void test_cisco_hdlc(void **state)
{
	(void)state;
	uint8_t f[200] = { 0x0f, 0x00, 0x08, 0x00 };
	decodes_syn(LT_C_HDLC, f, 4 + ip4_syn(f + 4, 4, 1));
}

/* A source route: the connection is to the route's last address, and the
 * checksum's pseudo-header holds it too. */
static void test_source_route(void **state)
{
	(void)state;
	for (int type = 131; type <= 137; type += 6) {
		uint8_t plain[100], p[100];
		uint32_t n = ip4_syn(plain, 4, 1);
		memcpy(p, plain, 20);
		p[0] = 0x47; /* 28 bytes of header */
		const uint8_t opt[8] = { (uint8_t)type, 7, 4, B4[0], B4[1], B4[2], B4[3], 1 };
		memcpy(p + 20, opt, 8);
		p[19] = 9; /* the next hop, 10.0.0.9, in the header */
		memcpy(p + 28, plain + 20, n - 20);
		put16(p + 2, n + 8);
		struct tp_decode_opts o = { .verify_checksums = 1 };
		struct tp_decode_stats st = { 0 };
		struct tp_segment seg;
		assert_int_equal(tp_decode(LT_RAW, p, n + 8, &o, &seg, &st, NULL), TP_DEC_SEGMENT);
		assert_memory_equal(seg.dst.bytes, B4, 4);
		assert_int_equal(seg.checksum, TP_CSUM_GOOD);
		/* followed to its end: the header holds the destination again,
		 * the route the last hop */
		p[22] = 8;
		memcpy(p + 16, B4, 4);
		p[23] = 7;
		assert_int_equal(tp_decode(LT_RAW, p, n + 8, &o, &seg, &st, NULL), TP_DEC_SEGMENT);
		assert_memory_equal(seg.dst.bytes, B4, 4);
		assert_int_equal(seg.checksum, TP_CSUM_GOOD);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv4_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_overlap_drops_datagram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_overlap_across_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inconsistent_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_datagrams, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_cap_bytes, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test(test_no_state),
		cmocka_unit_test(test_pppoe_compressed_protocol),
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_cisco_hdlc),
		cmocka_unit_test(test_source_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
