/*
 * freeze.c - compact storage for connections that only linger.
 *
 * A closed connection stays on TP_T_CLOSED for closed_linger (60 s, TIME-WAIT
 * on Linux) so that a late FIN retransmission, a stray ACK or a reused port
 * is still judged against it and its record is still exact. On a busy
 * capture those are most of the connections tracked (88% on the mixed
 * benchmark), yet they are rarely touched again. Frozen, one keeps its links
 * and packs the rest:
 *
 *   1. fields that are near a base are rewritten as distances from it:
 *      times from the connection's start, frame numbers from its first
 *      frame, sequence numbers from the sender's ISN, so their high bytes
 *      become zero;
 *   2. the bytes are stored without their zeros: a bitmap of the non-zero
 *      8-byte words, then for each of those a bitmap of its non-zero bytes
 *      and the bytes.
 *
 * Both steps are exact inverses, field-blind in step 2, so unpacking gives
 * the struct back bit for bit, padding included (connections are calloc'd).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BODY_LEN (sizeof(struct tp_conn) - TP_CONN_HEAD)
_Static_assert(TP_CONN_HEAD % 8 == 0 && BODY_LEN % 8 == 0, "the body is packed a word at a time");
#define BODY_WORDS ((BODY_LEN + 7) / 8)
#define WORD_MAP_LEN ((BODY_WORDS + 7) / 8)
#define PACKED_MAX (WORD_MAP_LEN + BODY_WORDS * 9)

/* ---- step 1: distances from a base ---------------------------------------- */

/*
 * v - base + 1, except that the field's "not set" value (sentinel) becomes
 * 0 and base - 1, which would have become 0, takes the sentinel's place: a
 * bijection that keeps both the usual values and the unset ones small.
 */
static uint64_t rebase(uint64_t v, uint64_t base, uint64_t sentinel)
{
	if (v == sentinel)
		return 0;
	uint64_t d = v - base + 1;
	return d ? d : sentinel - base + 1;
}

static uint64_t unbase(uint64_t e, uint64_t base, uint64_t sentinel)
{
	if (e == 0)
		return sentinel;
	if (e == sentinel - base + 1)
		return base - 1;
	return e + base - 1;
}

static void times(struct tp_conn *c, int pack)
{
	int64_t *t[] = {
		&c->last_ns, &c->syn_ns, &c->synack_ns, &c->hs_ack_ns, &c->first_fin_ns, &c->close_ns,
		&c->time_wait_ns, &c->zeek.last_ns, &c->zeek.close_ns, &c->zeek.attempt_ns,
	};
	uint64_t base = (uint64_t)c->start_ns, unset = (uint64_t)-1;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		*t[i] = (int64_t)(pack ? rebase((uint64_t)*t[i], base, unset) : unbase((uint64_t)*t[i], base, unset));
}

static void frames(struct tp_conn *c, int pack)
{
	uint64_t *f[] = {
		&c->syn_frame, &c->synack_frame, &c->hs_ack_frame, &c->final_ack_frame, &c->ep[0].fin_frame,
		&c->ep[1].fin_frame,
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		*f[i] = pack ? rebase(*f[i], c->first_frame, 0) : unbase(*f[i], c->first_frame, 0);
}

/* Modulo 2^32 like the sequence space itself: subtracting is exact. */
static void seq(uint32_t *v, uint32_t isn, int pack)
{
	*v = pack ? *v - isn : *v + isn;
}

static void seqs(struct tp_conn *c, int pack)
{
	for (int i = 0; i < 2; i++) {
		uint32_t own = c->ep[i].isn, peer = c->ep[!i].isn;
		seq(&c->ep[i].next_seq, own, pack);
		seq(&c->ep[i].fin_seq, own, pack);
		seq(&c->ep[i].max_ack, peer, pack);
		/* Zeek's endpoint k is A (k == 0) or B; A is ep[0] when a_is_orig. */
		int e = (i == 0) == (c->a_is_orig != 0) ? 0 : 1;
		struct tp_zeek_endpoint *z = &c->zeek.ep[i];
		seq(&z->start_seq, c->ep[e].isn, pack);
		seq(&z->last_seq, c->ep[e].isn, pack);
		seq(&z->ack_seq, c->ep[e].isn, pack); /* what the peer acknowledged of it */
		/* Zeek's thresholds for the scaled history letters start at 1. */
		uint32_t *one[] = { &z->rxmt_thresh, &z->win0_thresh, &z->chk_thresh };
		for (size_t k = 0; k < sizeof one / sizeof one[0]; k++)
			seq(one[k], 1, pack);
	}
}

/*
 * The bases are the ISNs and a_is_orig, which stay as they are, first_frame,
 * and start_ns, itself kept as a distance back from the timer stamp (which
 * is in the head, unpacked). Unpacking undoes the steps in reverse order.
 */
static void rebase_all(struct tp_conn *c, int pack)
{
	if (!pack)
		c->start_ns = (int64_t)((uint64_t)c->tstamp - (uint64_t)c->start_ns);
	times(c, pack);
	frames(c, pack);
	seqs(c, pack);
	if (pack)
		c->start_ns = (int64_t)((uint64_t)c->tstamp - (uint64_t)c->start_ns);
}

/* ---- step 2: bytes without their zeros --------------------------------------- */

/* Bit i set: byte i (in memory order) of word, loaded from memory, is not
 * zero. A byte's high bit after adding 0x7f to its low bits says so. */
static unsigned nonzero_bytes(uint64_t word)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t hi = (((word & low7) + low7) | word) & ~low7;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (unsigned)(((hi >> 7) * 0x0102040810204080ULL) >> 56); /* gather the 8 bits */
#else
	unsigned m = 0;
	for (unsigned i = 0; i < 8; i++) {
		uint8_t b;
		memcpy(&b, (const uint8_t *)&hi + i, 1);
		m |= (unsigned)(b != 0) << i;
	}
	return m;
#endif
}

/* Word by word and without branches on the bytes: this runs for every
 * connection that closes, and again when its record is written. */
static size_t pack_bytes(const uint8_t *body, uint8_t *out)
{
	uint8_t *map = out, *p = out + WORD_MAP_LEN;
	memset(map, 0, WORD_MAP_LEN);
	for (size_t w = 0; w < BODY_WORDS; w++) {
		const uint8_t *b = body + w * 8;
		uint64_t word;
		memcpy(&word, b, 8); /* BODY_LEN is a multiple of 8 (the struct's alignment) */
		if (!word)
			continue;
		unsigned m = nonzero_bytes(word);
		map[w / 8] |= (uint8_t)(1u << (w % 8));
		*p++ = (uint8_t)m;
		for (; m; m &= m - 1)
			*p++ = b[__builtin_ctz(m)];
	}
	return (size_t)(p - out);
}

static void unpack_bytes(const uint8_t *in, uint8_t *body)
{
	const uint8_t *map = in, *p = in + WORD_MAP_LEN;
	memset(body, 0, BODY_LEN);
	for (size_t m8 = 0; m8 < WORD_MAP_LEN; m8++)
		for (unsigned bits = map[m8]; bits; bits &= bits - 1) {
			uint8_t *b = body + (m8 * 8 + (size_t)__builtin_ctz(bits)) * 8;
			for (unsigned m = *p++; m; m &= m - 1)
				b[__builtin_ctz(m)] = *p++;
		}
}

/* ---- in the table -------------------------------------------------------------- */

struct tp_conn *tp_conn_freeze(struct tp_analyzer *an, struct tp_conn *c)
{
	uint8_t buf[PACKED_MAX];
	rebase_all(c, 1); /* in place: c is freed once packed */
	size_t len = pack_bytes((const uint8_t *)c + TP_CONN_HEAD, buf);
	struct tp_conn *f = malloc(TP_CONN_HEAD + len);
	if (!f) {
		rebase_all(c, 0);
		return c;
	}
	memcpy(f, c, TP_CONN_HEAD);
	memcpy((uint8_t *)f + TP_CONN_HEAD, buf, len);
	f->frozen = 1;
	f->packed_len = (uint16_t)len;
	tp_flow_replace(an, c, f);
	free(c);
	return f;
}

struct tp_conn *tp_conn_unpack(const struct tp_conn *c, struct tp_conn *out)
{
	memcpy(out, c, TP_CONN_HEAD);
	unpack_bytes((const uint8_t *)c + TP_CONN_HEAD, (uint8_t *)out + TP_CONN_HEAD);
	rebase_all(out, 0);
	out->frozen = 0;
	out->packed_len = 0;
	return out;
}

struct tp_conn *tp_conn_thaw(struct tp_analyzer *an, struct tp_conn *c)
{
	struct tp_conn *t = malloc(sizeof *t);
	if (!t)
		return NULL;
	tp_conn_unpack(c, t);
	tp_flow_replace(an, c, t);
	free(c);
	return t;
}
