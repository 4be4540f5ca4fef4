/*
 * test_handoff.c - the CLI's reading thread hands batches of packets to the
 * analysing one through standalone/handoff.c. What must hold, with a thread
 * and without: every batch arrives once, in order, whole, and a slot is not
 * refilled while the taker still reads it. (ThreadSanitizer runs this too.)
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../standalone/handoff.h"

#define NSLOTS 4
#define MAXN 64

struct feed {
	uint64_t next;     /* the next value to send */
	unsigned batches;  /* batches filled */
	unsigned total;    /* batches to fill */
	struct {
		unsigned n;
		uint64_t v[MAXN];
	} slot[NSLOTS];
};

/* Batch i holds i % (MAXN + 1) values (some empty, the last too when
 * total - 1 is a multiple of MAXN + 1), each the one after the last sent. */
static int fill(void *arg, unsigned slot)
{
	struct feed *f = arg;
	unsigned n = f->batches % (MAXN + 1);
	f->slot[slot].n = n;
	for (unsigned k = 0; k < n; k++)
		f->slot[slot].v[k] = f->next++;
	return ++f->batches == f->total;
}

/* Take every batch, check each value is the next, read each batch twice
 * (yielding between) to catch a refill under the taker; the values taken. */
static uint64_t drain(struct handoff *h, struct feed *f)
{
	uint64_t want = 0;
	unsigned taken = 0;
	for (int s; (s = handoff_take(h)) >= 0; handoff_release(h)) {
		assert_true(s < NSLOTS);
		uint64_t first = want;
		for (unsigned k = 0; k < f->slot[s].n; k++)
			assert_int_equal(f->slot[s].v[k], want++);
		if (taken++ % 7 == 0)
			sched_yield();
		for (unsigned k = 0; k < f->slot[s].n; k++)
			assert_int_equal(f->slot[s].v[k], first + k);
	}
	assert_int_equal(taken, f->total);
	return want;
}

static uint64_t sent_by(unsigned total)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < total; i++)
		n += i % (MAXN + 1);
	return n;
}

static void run(unsigned total, int threaded)
{
	static struct feed f;
	memset(&f, 0, sizeof f);
	f.total = total;
	struct handoff *h = handoff_new(NSLOTS, fill, &f);
	assert_non_null(h);
	if (threaded)
		assert_int_equal(handoff_start(h), 0);
	assert_int_equal(drain(h, &f), sent_by(total));
	handoff_free(h);
}

static void test_threaded(void **state)
{
	(void)state;
	run(20000, 1);
	run(1, 1);  /* the first batch is the last, and empty */
	run(66, 1); /* the last is empty */
	run(NSLOTS, 1);
}

static void test_same_thread(void **state)
{
	(void)state;
	run(2000, 0);
	run(1, 0);
	run(66, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threaded),
		cmocka_unit_test(test_same_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
