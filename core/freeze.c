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
 *   1. most fields are close to a value the fields before them predict:
 *      a time to the time of the previous step of the connection's life,
 *      Zeek's times to ours, a frame to the previous step's frame, a
 *      sequence number to the sender's ISN or to the edge it acknowledges.
 *      Each is rewritten as its distance from that prediction, zigzagged
 *      so that a small step backwards is small too; their high bytes
 *      become zero;
 *   2. the bytes are stored without their zeros: a bitmap of the non-zero
 *      8-byte words, then for each of those a bitmap of its non-zero bytes
 *      and the bytes.
 *
 * Both steps are exact inverses, field-blind in step 2, so unpacking gives
 * the struct back bit for bit, padding included (connections are calloc'd).
 *
 * Packed lingering connections are stored back to back in blocks, in the
 * order they froze, rather than each in its own allocation: they all linger
 * as long, so a block empties about when it is the oldest and is given back
 * whole, and there is neither an allocator's header per connection nor
 * holes between connections of many sizes in the heap the open ones use.
 * Two kinds linger: closed connections (closed_linger) and handshakes
 * whose late verdict is out (handshake_idle, twice as long by default).
 * Each kind has a chain of blocks of its own, so that a block never waits
 * for the longer linger of the other kind.
 *
 * An established connection that has been idle for a while (cold) is
 * packed too, but into an allocation of its own: it may wake up or time out
 * at any time, and would pin a block for as long as an hour.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define BODY_LEN (sizeof(struct tp_conn) - TP_CONN_HEAD)
_Static_assert(TP_CONN_HEAD % 8 == 0 && BODY_LEN % 8 == 0, "the body is packed a word at a time");
#define BODY_WORDS ((BODY_LEN + 7) / 8)
#define WORD_MAP_LEN ((BODY_WORDS + 7) / 8)
#define PACKED_MAX (WORD_MAP_LEN + BODY_WORDS * 9)

/* ---- step 1: distances from a prediction ---------------------------------- */

static uint64_t zigzag64(uint64_t d)
{
	return (d << 1) ^ (uint64_t)-(int64_t)(d >> 63);
}

static uint64_t unzigzag64(uint64_t z)
{
	return (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
}

static uint32_t zigzag32(uint32_t d)
{
	return (d << 1) ^ (uint32_t)-(int32_t)(d >> 31);
}

static uint32_t unzigzag32(uint32_t z)
{
	return (z >> 1) ^ (uint32_t)-(int32_t)(z & 1);
}

/*
 * A field's "not set" value (unset) would be far from any prediction, so it
 * trades places with pred - 1, a value that is rare and was close: both
 * directions of the swap are the same function, and the whole is a
 * bijection for any pred and unset.
 */
static uint64_t swap_unset(uint64_t v, uint64_t pred, uint64_t unset)
{
	return v == unset ? pred - 1 : v == pred - 1 ? unset : v;
}

static uint64_t to_distance(uint64_t v, uint64_t pred, uint64_t unset)
{
	return zigzag64(swap_unset(v, pred, unset) - pred);
}

static uint64_t from_distance(uint64_t d, uint64_t pred, uint64_t unset)
{
	return swap_unset(pred + unzigzag64(d), pred, unset);
}

/* One field, from or to its distance from pred (which rebase_all's callers
 * read from fields that are original, or already restored). */
static void rebase(uint64_t *v, uint64_t pred, uint64_t unset, int pack)
{
	*v = pack ? to_distance(*v, pred, unset) : from_distance(*v, pred, unset);
}

static void rebase_seq(uint32_t *v, uint32_t pred, int pack)
{
	*v = pack ? zigzag32(*v - pred) : unzigzag32(*v) + pred;
}

/* rebase_seq for a field whose 0 means "not set": that 0 trades places with
 * pred - 1 (swap_unset, in 32 bits: the 64-bit one would miss pred - 1 when
 * pred is 0), before packing and after unpacking. */
static uint32_t swap_unset32(uint32_t v, uint32_t pred)
{
	return v == 0 ? pred - 1 : v == pred - 1 ? 0 : v;
}

static void rebase_seq_set(uint32_t *v, uint32_t pred, int pack)
{
	if (pack)
		*v = swap_unset32(*v, pred);
	rebase_seq(v, pred, pack);
	if (!pack)
		*v = swap_unset32(*v, pred);
}

/* Fields in the order of the connection's life, each predicted by the last
 * one before it that is set (the first by base). */
static void rebase_steps(uint64_t *const *f, size_t n, uint64_t base, uint64_t unset, int pack)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = pack ? *f[i] : from_distance(*f[i], base, unset);
		*f[i] = pack ? to_distance(v, base, unset) : v;
		if (v != unset)
			base = v;
	}
}

#define NS(field) ((uint64_t *)&(field)) /* times are int64_t: same bits */
#define UNSET_NS ((uint64_t)-1)

/* A connection's times, but for the timer stamp (which stays in the head). */
#define N_TIMES 11
static void time_fields(struct tp_conn *c, int64_t *t[N_TIMES])
{
	int64_t *const all[N_TIMES] = {
		&c->start_ns, &c->last_ns, &c->syn_ns, &c->synack_ns, &c->hs_ack_ns, &c->first_fin_ns,
		&c->time_wait_ns, &c->close_ns, &c->zeek.last_ns, &c->zeek.close_ns, &c->zeek.attempt_ns,
	};
	memcpy(t, all, sizeof all);
}

/*
 * pcap files and most live captures tick in microseconds: then every time
 * of a connection is a multiple of 1000 ns, and in microseconds each of
 * its distances packs a byte or two smaller. Exact only if no time, once
 * divided, becomes the unset value.
 */
static int in_us(struct tp_conn *c)
{
	int64_t *t[N_TIMES];
	time_fields(c, t);
	if (c->tstamp % 1000)
		return 0;
	for (size_t i = 0; i < N_TIMES; i++)
		if (*t[i] != -1 && (*t[i] % 1000 || *t[i] == -1000))
			return 0;
	return 1;
}

static void scale_times(struct tp_conn *c, int pack)
{
	int64_t *t[N_TIMES];
	time_fields(c, t);
	for (size_t i = 0; i < N_TIMES; i++)
		if (*t[i] != -1)
			*t[i] = pack ? *t[i] / 1000 : *t[i] * 1000;
}

static void times(struct tp_conn *c, const struct tp_conn *b, int pack)
{
	/* start_ns is the base of the rest: kept as a duration back from the
	 * timer stamp, which stays unpacked in the head. */
	uint64_t stamp = (uint64_t)(c->packed_us ? c->tstamp / 1000 : c->tstamp);
	*NS(c->start_ns) = stamp - *NS(c->start_ns);
	rebase(NS(c->last_ns), stamp, UNSET_NS, pack);
	uint64_t *const life[] = {
		NS(c->syn_ns), NS(c->synack_ns), NS(c->hs_ack_ns), NS(c->first_fin_ns), NS(c->time_wait_ns), NS(c->close_ns),
	};
	rebase_steps(life, sizeof life / sizeof life[0], (uint64_t)b->start_ns, UNSET_NS, pack);
	/* Zeek's clock stops when both ends have closed: at our TIME-WAIT. */
	rebase(NS(c->zeek.last_ns), (uint64_t)b->time_wait_ns, UNSET_NS, pack);
	rebase(NS(c->zeek.close_ns), (uint64_t)b->zeek.last_ns, UNSET_NS, pack);
	rebase(NS(c->zeek.attempt_ns), (uint64_t)b->syn_ns, UNSET_NS, pack);
}

/* What tsecho.c's record of an endpoint's latest tracked segment is about:
 * its FIN or its SYN-ACK, whose first frame and sequence number the
 * connection keeps anyway. */
static uint64_t tx_frame_pred(const struct tp_conn *b, int i)
{
	const struct tp_tx *t = &b->ep[i].tx;
	return t->kind == TP_TX_FIN ? b->ep[i].fin_frame : t->kind == TP_TX_SYNACK ? b->synack_frame : 0;
}

static void frames(struct tp_conn *c, const struct tp_conn *b, int pack)
{
	uint64_t *const life[] = {
		&c->syn_frame, &c->synack_frame, &c->hs_ack_frame, &c->ep[0].fin_frame, &c->ep[1].fin_frame,
		&c->final_ack_frame,
	};
	rebase_steps(life, sizeof life / sizeof life[0], c->first_frame, 0, pack);
	for (int i = 0; i < 2; i++) {
		struct tp_tx *t = &c->ep[i].tx;
		rebase(&t->first_frame, tx_frame_pred(b, i), 0, pack);
		rebase(&t->last_frame, b->ep[i].tx.first_frame, 0, pack); /* sent once: the same */
	}
}

static void seqs(struct tp_conn *c, const struct tp_conn *b, int pack)
{
	for (int i = 0; i < 2; i++)
		rebase_seq(&c->ep[i].next_seq, c->ep[i].isn, pack);
	for (int i = 0; i < 2; i++) {
		rebase_seq(&c->ep[i].fin_seq, b->ep[i].next_seq - 1, pack); /* a FIN is sent last */
		rebase_seq(&c->ep[i].max_ack, b->ep[!i].next_seq, pack);    /* all the peer sent */
	}
	for (int i = 0; i < 2; i++) {
		struct tp_endpoint *e = &c->ep[i];
		const struct tp_endpoint *eb = &b->ep[i];
		rebase_seq(&e->tx.seq, eb->tx.kind == TP_TX_FIN ? eb->fin_seq : eb->tx.kind ? eb->isn : 0, pack);
		rebase_seq_set(&e->rtx_end, eb->next_seq, pack);
		/* TSvals: a FIN or SYN-ACK and a resend are among an endpoint's
		 * latest segments, close to its highest TSval (kept as it is). */
		rebase_seq_set(&e->tx.first_ts, eb->ts_max, pack);
		rebase_seq(&e->tx.last_ts, eb->tx.first_ts, pack);
		rebase_seq_set(&e->rtx_ts, eb->ts_max, pack);
	}
	for (int i = 0; i < 2; i++) {
		/* Zeek's endpoint i is A (i == 0) or B; A is ep[0] when a_is_orig. */
		int e = (i == 0) == (c->a_is_orig != 0) ? 0 : 1;
		struct tp_zeek_endpoint *z = &c->zeek.ep[i];
		const struct tp_zeek_endpoint *zb = &b->zeek.ep[i];
		rebase_seq(&z->start_seq, c->ep[e].isn, pack);
		rebase_seq(&z->last_seq, b->ep[e].next_seq, pack);
		rebase_seq(&z->ack_seq, b->ep[!e].max_ack, pack); /* what the peer acknowledged of it */
		/* The relative sequence number of its FIN's end. */
		rebase(&z->hist_last_fin, (uint64_t)(uint32_t)(zb->last_seq - zb->start_seq), 0, pack);
		/* Zeek's thresholds for the scaled history letters start at 1. */
		uint32_t *one[] = { &z->rxmt_thresh, &z->win0_thresh, &z->chk_thresh };
		for (size_t k = 0; k < sizeof one / sizeof one[0]; k++)
			rebase_seq(one[k], 1, pack);
	}
}

/*
 * The ISNs, a_is_orig and first_frame stay as they are. Unpacking restores
 * the fields in the order written, so that a prediction only reads fields
 * already restored (b is c); packing reads them from a copy of the
 * original (b).
 */
static void rebase_all(struct tp_conn *c, int pack)
{
	struct tp_conn orig;
	if (pack) {
		c->packed_us = (uint16_t)in_us(c);
		if (c->packed_us)
			scale_times(c, 1);
		memcpy(&orig, c, sizeof orig);
	}
	const struct tp_conn *b = pack ? &orig : c;
	times(c, b, pack);
	frames(c, b, pack);
	seqs(c, b, pack);
	if (!pack) {
		if (c->packed_us)
			scale_times(c, 0);
		c->packed_us = 0;
	}
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

/* ---- blocks ------------------------------------------------------------------ */

/*
 * A block is two parts. Its heads (TP_CONN_HEAD bytes each: the links that
 * every lookup and timer walk goes through) fill an allocation aligned to
 * its size, so a head finds its block by masking its address. Its packed
 * bodies lie back to back in a buffer of their own, and only a late segment
 * or the connection's end reads one again. So once a block is full, and the
 * front end gave a store (spill_write, spill_read: a temporary file), the
 * bodies are written there and their buffer takes the next block's: what
 * stays in memory per lingering connection is its head. Without a store, or
 * if a write fails, they stay in memory.
 *
 * A block's heads are cut into slots, each summing up the connections in it
 * for tp_settled_below: the lowest frame their late verdicts may amend,
 * lowered as they come, forgotten when the last leaves. A front end holds a
 * segment's verdict until no slot may amend it, so a slot stops taking
 * connections once it is a second old (capture time) even if not full: on
 * a quiet link, a lingering connection then holds back the output for about
 * its linger, not for as long as a slot takes to fill.
 */
#define HEADS_SIZE ((size_t)64 << 10)
#define BODIES_SIZE ((size_t)256 << 10) /* also the store's unit */
#define SLOTS 32
#define SLOT_AGE_NS 1000000000LL

struct tp_freeze_block {
	struct tp_freeze_block *older, *newer; /* the blocks in use, of its chain */
	struct tp_analyzer *an; /* whose store holds its bodies */
	uint8_t chain;         /* enum tp_freeze_chain */
	uint8_t *bodies;       /* in memory (filling, not spilled, or read back), or NULL */
	uint8_t spilled;       /* its bodies are in the store, */
	uint64_t spilled_at;   /* there */
	uint32_t bodies_used;
	uint32_t heads;        /* heads handed out (or skipped with a slot) */
	uint32_t live;         /* connections in it not yet released */
	uint32_t fill_slot;    /* the slot taking connections (SLOTS: none yet) */
	int64_t fill_since_ns; /* when it took its first */
	struct {
		uint64_t amendable_from; /* only ever too low, never too high */
		uint32_t live;
	} slot[SLOTS];
	uint32_t body_at[]; /* each head's body in bodies; then the heads */
};

#define HEADS_CAP ((HEADS_SIZE - sizeof(struct tp_freeze_block) - 8) / (TP_CONN_HEAD + sizeof(uint32_t)))
#define HEADS_AT ((sizeof(struct tp_freeze_block) + HEADS_CAP * sizeof(uint32_t) + 7) & ~(size_t)7)
_Static_assert(HEADS_AT + HEADS_CAP * TP_CONN_HEAD <= HEADS_SIZE, "the heads fit");
_Static_assert(PACKED_MAX <= BODIES_SIZE, "a body fits in a block");

static struct tp_freeze_block *block_of(const struct tp_conn *f)
{
	return (struct tp_freeze_block *)((uintptr_t)f & ~(uintptr_t)(HEADS_SIZE - 1));
}

static struct tp_conn *head_at(struct tp_freeze_block *b, size_t i)
{
	return (struct tp_conn *)((uint8_t *)b + HEADS_AT + i * TP_CONN_HEAD);
}

static size_t head_index(const struct tp_freeze_block *b, const struct tp_conn *f)
{
	return (size_t)((const uint8_t *)f - (const uint8_t *)b - HEADS_AT) / TP_CONN_HEAD;
}

static size_t slot_of(size_t head)
{
	return head * SLOTS / HEADS_CAP;
}

static size_t slot_start(size_t slot)
{
	return (slot * HEADS_CAP + SLOTS - 1) / SLOTS;
}

static void block_empty(struct tp_freeze_block *b)
{
	b->bodies_used = 0;
	b->heads = 0;
	b->live = 0;
	b->fill_slot = SLOTS;
	for (size_t i = 0; i < SLOTS; i++) {
		b->slot[i].amendable_from = UINT64_MAX;
		b->slot[i].live = 0;
	}
}

/*
 * Heads' allocations are mapped on their own, aligned by mapping twice the
 * size and giving back what is before and after: from the heap, each would
 * leave an alignment's worth of holes between the open connections.
 */
static void *heads_map(void)
{
	uint8_t *p = mmap(NULL, 2 * HEADS_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	size_t lead = (size_t)(-(uintptr_t)p & (HEADS_SIZE - 1));
	if (lead)
		munmap(p, lead);
	munmap(p + lead + HEADS_SIZE, HEADS_SIZE - lead);
	return p + lead;
}

/* A new newest block of a chain, its bodies' buffer not yet taken. */
static struct tp_freeze_block *block_new(struct tp_analyzer *an, enum tp_freeze_chain chain)
{
	struct tp_freeze_block *b = heads_map();
	if (!b)
		return NULL;
	block_empty(b);
	b->an = an;
	b->bodies = NULL;
	b->spilled = 0;
	b->chain = (uint8_t)chain;
	b->older = an->freeze_block[chain];
	b->newer = NULL;
	if (b->older)
		b->older->newer = b;
	an->freeze_block[chain] = b;
	return b;
}

/* A bodies' buffer: the one spilled last, or a new one. */
static uint8_t *bodies_take(struct tp_analyzer *an)
{
	uint8_t *p = an->spare_bodies;
	an->spare_bodies = NULL;
	return p ? p : malloc(BODIES_SIZE);
}

static void bodies_give(struct tp_analyzer *an, uint8_t *p)
{
	if (an->spare_bodies)
		free(p);
	else
		an->spare_bodies = p;
}

/* Room for a block's bodies in the store: one given back, or past the end. */
static uint64_t store_take(struct tp_analyzer *an)
{
	return an->store_nfree ? an->store_free[--an->store_nfree] : (an->store_end += BODIES_SIZE) - BODIES_SIZE;
}

static void store_give(struct tp_analyzer *an, uint64_t at)
{
	if (an->store_nfree == an->store_cap) {
		uint32_t cap = an->store_cap ? 2 * an->store_cap : 64;
		uint64_t *p = realloc(an->store_free, cap * sizeof *p);
		if (!p)
			return; /* that room is not used again: the store grows instead */
		an->store_free = p;
		an->store_cap = cap;
	}
	an->store_free[an->store_nfree++] = at;
}

/* b is full: write its bodies to the store, if there is one and it takes
 * them, and hand their buffer on. */
static void block_spill(struct tp_analyzer *an, struct tp_freeze_block *b)
{
	if (!an->cb.spill_write || !b->bodies)
		return;
	uint64_t at = store_take(an);
	if (an->cb.spill_write(an->cb.spill_user, b->bodies, b->bodies_used, at) != 0) {
		store_give(an, at);
		return;
	}
	bodies_give(an, b->bodies);
	b->bodies = NULL;
	b->spilled = 1;
	b->spilled_at = at;
	an->stats.spilled += b->bodies_used;
	if (an->stats.spilled > an->stats.spilled_peak)
		an->stats.spilled_peak = an->stats.spilled;
}

static void block_free(struct tp_analyzer *an, struct tp_freeze_block *b)
{
	if (b->older)
		b->older->newer = b->newer;
	if (b->newer)
		b->newer->older = b->older;
	else
		an->freeze_block[b->chain] = b->older;
	if (b->bodies)
		bodies_give(an, b->bodies);
	if (b->spilled) {
		store_give(an, b->spilled_at);
		an->stats.spilled -= b->bodies_used;
	}
	munmap(b, HEADS_SIZE);
}

/* Room for a head, and for a body of len bytes at *body, in the newest
 * block or in a new one, for a connection whose late verdicts may amend
 * from frame amendable_from on. */
static struct tp_conn *block_alloc(struct tp_analyzer *an, enum tp_freeze_chain chain, size_t len,
                                   uint64_t amendable_from, uint8_t **body)
{
	struct tp_freeze_block *b = an->freeze_block[chain];
	if (b && b->fill_slot == slot_of(b->heads) && an->now_ns - b->fill_since_ns > SLOT_AGE_NS)
		b->heads = (uint32_t)slot_start(b->fill_slot + 1); /* it is old: on to the next */
	if (!b || b->heads >= HEADS_CAP || b->bodies_used + len > BODIES_SIZE) {
		struct tp_freeze_block *n = block_new(an, chain);
		if (!n)
			return NULL;
		if (b && !b->live)
			block_free(an, b);
		else if (b)
			block_spill(an, b);
		b = n;
	}
	if (!b->bodies && !(b->bodies = bodies_take(an)))
		return NULL;
	size_t s = slot_of(b->heads);
	if (s != b->fill_slot) {
		b->fill_slot = (uint32_t)s;
		b->fill_since_ns = an->now_ns;
	}
	struct tp_conn *f = head_at(b, b->heads);
	b->body_at[b->heads++] = b->bodies_used;
	*body = b->bodies + b->bodies_used;
	b->bodies_used += (uint32_t)len;
	b->live++;
	b->slot[s].live++;
	if (amendable_from < b->slot[s].amendable_from)
		b->slot[s].amendable_from = amendable_from;
	return f;
}

static void block_release(struct tp_analyzer *an, struct tp_conn *f)
{
	struct tp_freeze_block *b = block_of(f);
	size_t s = slot_of(head_index(b, f));
	if (!--b->slot[s].live)
		b->slot[s].amendable_from = UINT64_MAX;
	if (--b->live)
		return;
	if (b == an->freeze_block[b->chain] && b->bodies)
		block_empty(b); /* fill it again from the start */
	else
		block_free(an, b);
}

/*
 * Where f's packed body is: in memory, or read from the store into buf.
 * The oldest block's connections are the next to end, one after the
 * other, each read for its record: its bodies are read back whole, at the
 * first, rather than one read each (a block held twice for a while). A
 * late segment is rarely for the oldest: one read.
 */
static const uint8_t *body_of(const struct tp_conn *f, uint8_t *buf)
{
	if (f->frozen != TP_FROZEN_BLOCK)
		return (const uint8_t *)f + TP_CONN_HEAD;
	struct tp_freeze_block *b = block_of(f);
	uint32_t at = b->body_at[head_index(b, f)];
	if (!b->bodies && !b->older && (b->bodies = bodies_take(b->an)))
		b->an->cb.spill_read(b->an->cb.spill_user, b->bodies, b->bodies_used, b->spilled_at);
	if (b->bodies)
		return b->bodies + at;
	b->an->cb.spill_read(b->an->cb.spill_user, buf, f->packed_len, b->spilled_at + at);
	return buf;
}

void tp_conn_free(struct tp_analyzer *an, struct tp_conn *c)
{
	if (c->frozen == TP_FROZEN_BLOCK)
		block_release(an, c);
	else
		free(c);
}

void tp_freeze_free(struct tp_analyzer *an)
{
	for (size_t k = 0; k < TP_FREEZE_CHAINS; k++)
		while (an->freeze_block[k]) /* every connection is gone: all are empty */
			block_free(an, an->freeze_block[k]);
	free(an->spare_bodies);
	an->spare_bodies = NULL;
	free(an->store_free);
	an->store_free = NULL;
	an->store_nfree = an->store_cap = 0;
}

uint64_t tp_freeze_amendable_from(const struct tp_analyzer *an)
{
	uint64_t lo = an->unpacked_amendable_from;
	for (size_t k = 0; k < TP_FREEZE_CHAINS; k++)
		for (const struct tp_freeze_block *b = an->freeze_block[k]; b; b = b->older)
			for (size_t i = 0; i < SLOTS; i++)
				if (b->slot[i].amendable_from < lo)
					lo = b->slot[i].amendable_from;
	return lo;
}

/* ---- in the table -------------------------------------------------------------- */

/* Room for a packed connection with a body of len bytes, at *body: in a
 * block, or on its own (the body after the head). */
static struct tp_conn *packed_alloc(struct tp_analyzer *an, size_t len, uint8_t how, enum tp_freeze_chain chain,
                                    uint64_t amendable_from, uint8_t **body)
{
	if (how == TP_FROZEN_BLOCK)
		return block_alloc(an, chain, len, amendable_from, body);
	struct tp_conn *f = malloc(TP_CONN_HEAD + len);
	if (f)
		*body = (uint8_t *)f + TP_CONN_HEAD;
	return f;
}

/* Pack c into a new allocation that takes its place; c itself if there is
 * no memory for one. */
static struct tp_conn *freeze(struct tp_analyzer *an, struct tp_conn *c, uint8_t how, uint64_t amendable_from)
{
	enum tp_freeze_chain chain = c->tclass == TP_T_HANDSHAKE ? TP_CHAIN_HANDSHAKE : TP_CHAIN_CLOSED;
	uint8_t buf[PACKED_MAX], *body;
#ifndef NDEBUG
	struct tp_conn before;
	memcpy(&before, c, sizeof before);
#endif
	rebase_all(c, 1); /* in place: c is freed once packed */
	size_t len = pack_bytes((const uint8_t *)c + TP_CONN_HEAD, buf);
	struct tp_conn *f = packed_alloc(an, len, how, chain, amendable_from, &body);
	if (!f) {
		rebase_all(c, 0);
		return c;
	}
	memcpy(f, c, TP_CONN_HEAD);
	memcpy(body, buf, len);
	f->frozen = how;
	f->packed_len = (uint16_t)len;
#ifndef NDEBUG
	/* Debug builds (the sanitizer run of the tests) prove every packing
	 * exact: a connection must judge and report as if never packed. */
	struct tp_conn after;
	tp_conn_unpack(f, &after);
	before.frozen = after.frozen;
	before.packed_len = after.packed_len;
	before.packed_us = after.packed_us;
	assert(memcmp(&before, &after, sizeof before) == 0);
#endif
	tp_flow_replace(an, c, f);
	free(c);
	return f;
}

struct tp_conn *tp_conn_freeze(struct tp_analyzer *an, struct tp_conn *c)
{
	uint64_t amendable_from = tp_conn_amendable_from(c);
	struct tp_conn *f = freeze(an, c, TP_FROZEN_BLOCK, amendable_from);
	if (f == c && amendable_from < an->unpacked_amendable_from)
		an->unpacked_amendable_from = amendable_from;
	return f;
}

struct tp_conn *tp_conn_freeze_cold(struct tp_analyzer *an, struct tp_conn *c)
{
	/* An allocation of its own sums up no slot's bound for
	 * tp_settled_below: only a connection no late verdict can amend goes
	 * there (established, no FIN: all of them, in practice). */
	if (tp_conn_amendable_from(c) != UINT64_MAX)
		return c;
	return freeze(an, c, TP_FROZEN_HEAP, UINT64_MAX);
}

struct tp_conn *tp_conn_unpack(const struct tp_conn *c, struct tp_conn *out)
{
	uint8_t buf[PACKED_MAX];
	memcpy(out, c, TP_CONN_HEAD);
	unpack_bytes(body_of(c, buf), (uint8_t *)out + TP_CONN_HEAD);
	rebase_all(out, 0);
	out->frozen = 0;
	out->packed_len = 0;
	out->packed_us = 0;
	return out;
}

struct tp_conn *tp_conn_thaw(struct tp_analyzer *an, struct tp_conn *c)
{
	struct tp_conn *t = malloc(sizeof *t);
	if (!t)
		return NULL;
	tp_conn_unpack(c, t);
	tp_flow_replace(an, c, t);
	tp_conn_free(an, c);
	return t;
}
