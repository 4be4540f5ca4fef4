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

static struct tp_analyzer *analyzer(void)
{
	struct tp_config cfg;
	tp_config_default(&cfg);
	struct tp_analyzer *an = tp_analyzer_new(&cfg, NULL);
	assert_non_null(an);
	return an;
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
	for (int i = 0; i < 20000; i++) {
		s.sport = (uint16_t)(1024 + i % 60000);
		uint32_t hash = tp_flow_seg_hash(an, &s);
		struct tp_conn *c = tp_flow_insert(an, &s, hash, 1);
		assert_non_null(c);
		tp_timer_set(an, c, TP_T_CLOSED, (int64_t)next());
		fill(c);
		struct tp_conn want;
		memcpy(&want, c, sizeof want);

		struct tp_conn *f = tp_conn_freeze(an, c);
		assert_true(f->frozen);
		assert_true(f->packed_len < sizeof *c - TP_CONN_HEAD + 80);
		struct tp_conn *t = tp_conn_thaw(an, f);
		assert_non_null(t);
		assert_false(t->frozen);
		assert_memory_equal(t, &want, sizeof want);
		tp_flow_remove(an, t);
	}
	tp_analyzer_free(an);
}

/*
 * Many lingering at once, across blocks, leaving in an order unlike the one
 * they froze in: each still comes back as it went in (no two overlap), and
 * under the sanitizers, no block is used after it is given back or leaked.
 */
#define MANY 6000

static void test_many_lingering(void **state)
{
	(void)state;
	struct tp_analyzer *an = analyzer();
	struct tp_conn *want = test_malloc(MANY * sizeof *want);
	uint64_t order[MANY];
	struct tp_segment s = syn_to(443);
	for (int i = 0; i < MANY; i++) {
		s.sport = (uint16_t)(1024 + i);
		struct tp_conn *c = tp_flow_insert(an, &s, tp_flow_seg_hash(an, &s), 1);
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
		struct tp_conn *f = tp_flow_lookup(an, &s, tp_flow_seg_hash(an, &s), &from_orig);
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
	test_free(want);
	tp_analyzer_free(an);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packing_is_exact),
		cmocka_unit_test(test_many_lingering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
