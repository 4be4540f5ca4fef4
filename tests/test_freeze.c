/*
 * test_freeze.c - a lingering connection is packed (core/freeze.c) and
 * unpacked bit for bit, whatever its fields hold.
 *
 * The captures exercise packing with the values real connections have (and
 * debug builds check each packing); this test gives it the values they
 * rarely have: fields not set, fields one below or above the value that
 * predicts them, sequence numbers across the wrap, random bytes in padding.
 * A connection that did not come back exactly would judge a late segment,
 * and write its record, differently from one never packed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value a field might hold: anything, a sentinel, or one near another
 * field's value (where the packing's predictions and swaps are). */
static uint64_t pick(const uint64_t *near, size_t n)
{
	switch (next() % 6) {
	case 0:
		return next();
	case 1:
		return (uint64_t)-1;
	case 2:
		return 0;
	case 3:
		return next() % 70000;
	default:
		return near[next() % n] + (next() % 5) - 2;
	}
}

static void fill(struct tp_conn *c)
{
	uint8_t *body = (uint8_t *)c + TP_CONN_HEAD;
	for (size_t i = 0; i < sizeof *c - TP_CONN_HEAD; i++)
		body[i] = (uint8_t)next();
	uint64_t near[] = { (uint64_t)c->tstamp, (uint64_t)c->start_ns, c->first_frame, c->ep[0].isn, c->ep[1].isn,
	                    (uint64_t)c->syn_ns, c->ep[0].next_seq };
	const size_t nn = sizeof near / sizeof near[0];
	int64_t *t[] = { &c->start_ns, &c->last_ns, &c->syn_ns, &c->synack_ns, &c->hs_ack_ns, &c->first_fin_ns,
	                 &c->time_wait_ns, &c->close_ns, &c->zeek.last_ns, &c->zeek.close_ns, &c->zeek.attempt_ns };
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (next() % 4)
			*t[i] = (int64_t)pick(near, nn);
	if (next() % 2) { /* a capture in microseconds: times packed in µs */
		c->tstamp -= c->tstamp % 1000;
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
			if (*t[i] != -1)
				*t[i] -= *t[i] % 1000;
		if (next() % 8 == 0) /* but for one: -1000 in µs is the unset -1 */
			*t[next() % (sizeof t / sizeof t[0])] = -1000;
	}
	uint64_t *f[] = { &c->syn_frame, &c->synack_frame, &c->hs_ack_frame, &c->final_ack_frame,
	                  &c->ep[0].fin_frame, &c->ep[1].fin_frame, &c->zeek.ep[0].hist_last_fin,
	                  &c->zeek.ep[1].hist_last_fin };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (next() % 4)
			*f[i] = pick(near, nn);
	for (int e = 0; e < 2; e++) {
		uint32_t *s[] = { &c->ep[e].next_seq, &c->ep[e].fin_seq, &c->ep[e].max_ack, &c->zeek.ep[e].start_seq,
		                  &c->zeek.ep[e].last_seq, &c->zeek.ep[e].ack_seq, &c->zeek.ep[e].rxmt_thresh };
		for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
			if (next() % 4)
				*s[i] = (uint32_t)pick(near, nn);
	}
}

/*
 * A store in memory, standing in for the CLI's temporary file: full blocks
 * of lingering connections go there, and come back from there only.
 * fail_every: every n-th write fails (disk full), and what it would have
 * held stays in memory.
 */
struct store {
	uint8_t *bytes;
	size_t len;
	unsigned writes, reads, failed, fail_every;
};

static int store_write(void *user, const void *buf, size_t len, uint64_t off)
{
	struct store *st = user;
	st->writes++;
	if (st->fail_every && st->writes % st->fail_every == 0) {
		st->failed++;
		return -1;
	}
	if (off + len > st->len) {
		st->bytes = test_realloc(st->bytes, off + len);
		memset(st->bytes + st->len, 0, off + len - st->len);
		st->len = off + len;
	}
	memcpy(st->bytes + off, buf, len);
	return 0;
}

static void store_read(void *user, void *buf, size_t len, uint64_t off)
{
	struct store *st = user;
	assert_true(off + len <= st->len);
	memcpy(buf, st->bytes + off, len);
	st->reads++;
}

static struct tp_analyzer *analyzer_with(struct store *st)
{
	struct tp_config cfg;
	tp_config_default(&cfg);
	struct tp_callbacks cb = { .spill_user = st, .spill_write = store_write, .spill_read = store_read };
	struct tp_analyzer *an = tp_analyzer_new(&cfg, st ? &cb : NULL);
	assert_non_null(an);
	return an;
}

static struct tp_analyzer *analyzer(void)
{
	return analyzer_with(NULL);
}

/* A SYN from 0.0.0.1 to 0.0.0.2:dport; the caller sets the source port. */
static struct tp_segment syn_to(uint16_t dport)
{
	struct tp_segment s;
	memset(&s, 0, sizeof s);
	s.src.family = s.dst.family = 4;
	s.src.bytes[3] = 1;
	s.dst.bytes[3] = 2;
	s.dport = dport;
	s.flags = TP_TH_SYN;
	return s;
}

static void test_packing_is_exact(void **state)
{
	(void)state;
	struct tp_analyzer *an = analyzer();
	struct tp_segment s = syn_to(80);
	int in_us = 0;
	for (int i = 0; i < 20000; i++) {
		s.sport = (uint16_t)(1024 + i % 60000);
		uint32_t hash = tp_segment_hash(an, &s);
		struct tp_conn *c = tp_flow_insert(an, &s, hash, 1);
		assert_non_null(c);
		tp_timer_set(an, c, TP_T_CLOSED, (int64_t)next());
		fill(c);
		struct tp_conn want;
		memcpy(&want, c, sizeof want);

		struct tp_conn *f = tp_conn_freeze(an, c);
		assert_true(f->frozen);
		/* random bytes pack to at most the body and its maps: a byte per
		 * word and a bit per word (see freeze.c) */
		const size_t body = sizeof *c - TP_CONN_HEAD;
		assert_true(f->packed_len <= body + body / 8 + (body / 8 + 7) / 8);
		in_us += f->packed_us;
		struct tp_conn *t = tp_conn_thaw(an, f);
		assert_non_null(t);
		assert_false(t->frozen);
		assert_memory_equal(t, &want, sizeof want);
		tp_flow_remove(an, t);
	}
	/* both ways of packing times were tried (cmocka 2 renamed assert_in_range) */
	if (in_us < 4000 || in_us > 10000)
		fail_msg("%d connections packed their times in microseconds, expected 4000 to 10000", in_us);
	tp_analyzer_free(an);
}

/*
 * Many lingering at once, across blocks, leaving in an order unlike the one
 * they froze in: each still comes back as it went in (no two overlap), and
 * under the sanitizers, no block is used after it is given back or leaked.
 */
#define MANY 6000

static void many_lingering(struct store *st)
{
	struct tp_analyzer *an = analyzer_with(st);
	struct tp_conn *want = test_malloc(MANY * sizeof *want);
	uint64_t order[MANY];
	struct tp_segment s = syn_to(443);
	for (int i = 0; i < MANY; i++) {
		s.sport = (uint16_t)(1024 + i);
		struct tp_conn *c = tp_flow_insert(an, &s, tp_segment_hash(an, &s), 1);
		assert_non_null(c);
		tp_timer_set(an, c, TP_T_CLOSED, i);
		fill(c);
		c->port[0] = s.sport; /* the key, to find it again */
		c->port[1] = s.dport;
		c->addr[0] = s.src;
		c->addr[1] = s.dst;
		c->context = 0;
		memcpy(&want[i], c, sizeof *c);
		assert_true(tp_conn_freeze(an, c)->frozen);
		order[i] = (uint64_t)i;
	}
	for (int i = MANY - 1; i > 0; i--) { /* shuffle */
		int j = (int)(next() % (uint64_t)(i + 1));
		uint64_t x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	for (int k = 0; k < MANY; k++) {
		int i = (int)order[k];
		s.sport = (uint16_t)(1024 + i);
		int from_orig;
		struct tp_conn *f = tp_flow_lookup(an, &s, tp_segment_hash(an, &s), &from_orig);
		assert_non_null(f);
		assert_true(f->frozen);
		if (k % 2) { /* a late segment thaws it */
			struct tp_conn *t = tp_conn_thaw(an, f);
			assert_non_null(t);
			want[i].hnext = t->hnext;
			want[i].tprev = t->tprev;
			want[i].tnext = t->tnext;
			assert_memory_equal(t, &want[i], sizeof *t);
			tp_flow_remove(an, t);
		} else { /* its record is written from an unpacked copy */
			struct tp_conn t;
			tp_conn_unpack(f, &t);
			t.frozen = 0;
			want[i].hnext = t.hnext;
			want[i].tprev = t.tprev;
			want[i].tnext = t.tnext;
			assert_memory_equal(&t, &want[i], sizeof t);
			tp_flow_remove(an, f);
		}
	}
	assert_int_equal(tp_stats(an)->conns_active, 0);
	assert_int_equal(tp_stats(an)->spilled, 0); /* all of the store is free again */
	if (st && st->writes > st->failed) {
		assert_true(tp_stats(an)->spilled_peak > 0);
		assert_true(st->reads > 0);
	}
	test_free(want);
	tp_analyzer_free(an);
}

static void test_many_lingering(void **state)
{
	(void)state;
	many_lingering(NULL);
}

/* Full blocks go to the store and come back from it bit for bit (their
 * buffer in memory has taken the next block's by then). */
static void test_many_lingering_spilled(void **state)
{
	(void)state;
	struct store st = { 0 };
	many_lingering(&st);
	assert_true(st.writes >= MANY / 1500); /* a block holds about 1,250 */
	assert_true(st.reads >= MANY / 2);
	test_free(st.bytes);
}

/* A store that takes only some blocks: the others stay in memory. */
static void test_many_lingering_store_full(void **state)
{
	(void)state;
	struct store st = { .fail_every = 2 };
	many_lingering(&st);
	assert_true(st.failed >= 1);
	assert_true(st.writes - st.failed >= 1);
	test_free(st.bytes);
}

/*
 * An established connection idle for TP_COLD_AFTER_NS is packed (on its own)
 * and comes back on its next segment, judged as if it never left; one idle
 * for less is not packed. The sanitizer build packs at every tick
 * (TP_COLD_AFTER_NS 0): there the shorter wait is cold too.
 */
#define T0 1000000000LL
#define CLIENT_ISN 1000
#define SERVER_ISN 90000

static struct tp_verdict feed(struct tp_analyzer *an, uint16_t sport, int from_client, uint16_t flags, uint32_t len,
                              int64_t t)
{
	static uint64_t frame;
	const struct tp_conn *c = NULL;
	struct tp_segment s = syn_to(80);
	s.sport = sport;
	if (!(flags & TP_TH_SYN)) { /* sequence numbers from where the connection is */
		int from_orig;
		c = tp_flow_lookup(an, &s, tp_segment_hash(an, &s), &from_orig);
		assert_non_null(c);
		struct tp_conn u;
		if (c->frozen)
			c = tp_conn_unpack(c, &u);
		s.seq = c->ep[!from_client].next_seq;
		s.ack = c->ep[from_client].next_seq;
	} else {
		s.seq = from_client ? CLIENT_ISN : SERVER_ISN;
		s.ack = from_client ? 0 : CLIENT_ISN + 1;
	}
	if (!from_client) {
		struct tp_addr a = s.src;
		s.src = s.dst;
		s.dst = a;
		s.sport = 80;
		s.dport = sport;
	}
	s.flags = flags;
	s.len = len;
	s.ts_ns = t;
	s.frame = ++frame;
	struct tp_verdict v;
	tp_feed(an, &s, &v);
	return v;
}

static void establish(struct tp_analyzer *an, uint16_t sport, int64_t t)
{
	feed(an, sport, 1, TP_TH_SYN, 0, t);
	feed(an, sport, 0, TP_TH_SYN | TP_TH_ACK, 0, t + 1000);
	feed(an, sport, 1, TP_TH_ACK, 0, t + 2000);
	/* the server speaks: its handshake's ACK can no longer turn out lost */
	feed(an, sport, 0, TP_TH_ACK, 0, t + 3000);
}

static int frozen(struct tp_analyzer *an, uint16_t sport)
{
	struct tp_segment s = syn_to(80);
	s.sport = sport;
	int from_orig;
	const struct tp_conn *c = tp_flow_lookup(an, &s, tp_segment_hash(an, &s), &from_orig);
	assert_non_null(c);
	return c->frozen;
}

static void test_cold_connections(void **state)
{
	(void)state;
	struct tp_analyzer *an = analyzer();
	establish(an, 1001, T0);
	establish(an, 1000, T0 + TP_COLD_AFTER_NS / 2 + 1);
	tp_advance(an, T0 + TP_COLD_AFTER_NS + 3000);
	assert_int_equal(frozen(an, 1001), TP_FROZEN_HEAP);
	assert_int_equal(frozen(an, 1000), TP_COLD_AFTER_NS > 6000 ? TP_FROZEN_NOT : TP_FROZEN_HEAP);

	/* Its next segments find it as it was: data in ESTABLISHED. */
	int64_t t = T0 + 2 * TP_COLD_AFTER_NS + 10000;
	tp_advance(an, t);
	assert_int_equal(frozen(an, 1000), TP_FROZEN_HEAP);
	struct tp_verdict v = feed(an, 1000, 1, TP_TH_ACK | TP_TH_PSH, 100, t);
	assert_int_equal(frozen(an, 1000), TP_FROZEN_NOT);
	assert_int_equal(v.phase, TP_PHASE_DATA);
	assert_int_equal(v.orig_state, TP_ESTABLISHED);
	assert_int_equal(v.resp_state, TP_ESTABLISHED);
	assert_int_equal(v.anomalies, 0);
	v = feed(an, 1000, 0, TP_TH_ACK, 0, t + 1000);
	assert_int_equal(v.anomalies, 0);

	/* Still the newest on its list: cold again after another wait. A FIN takes it off the list, not to be packed cold
	 * any more, and the FIN's ACK is checked against where the client's
	 * sequence numbers were before the waits. */
	tp_advance(an, t + 1000 + TP_COLD_AFTER_NS);
	assert_int_equal(frozen(an, 1000), TP_FROZEN_HEAP);
	t += 2 * TP_COLD_AFTER_NS + 5000;
	v = feed(an, 1000, 1, TP_TH_FIN | TP_TH_ACK, 0, t);
	assert_int_equal(v.orig_state, TP_FIN_WAIT_1);
	assert_int_equal(v.resp_state, TP_CLOSE_WAIT);
	tp_advance(an, t + 2 * TP_COLD_AFTER_NS + 1000);
	assert_int_equal(frozen(an, 1000), TP_FROZEN_NOT);
	v = feed(an, 1000, 0, TP_TH_ACK, 0, t + 2 * TP_COLD_AFTER_NS + 2000);
	assert_true(v.ack_checked);
	assert_int_equal(v.seen_ack, CLIENT_ISN + 1 + 100 + 1);
	assert_int_equal(v.expected_ack, v.seen_ack);
	assert_int_equal(v.orig_state, TP_FIN_WAIT_2);
	assert_int_equal(v.anomalies, 0);
	tp_analyzer_free(an);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packing_is_exact),
		cmocka_unit_test(test_many_lingering),
		cmocka_unit_test(test_many_lingering_spilled),
		cmocka_unit_test(test_many_lingering_store_full),
		cmocka_unit_test(test_cold_connections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
