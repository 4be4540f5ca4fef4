/*
 * handoff.c - see handoff.h. A mutex per batch of a thousand packets, and
 * a wake-up only for a thread that sleeps: what handing off costs is far
 * below the reading.
 */
#define _DEFAULT_SOURCE
#include "handoff.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

struct handoff {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned nslots;
	unsigned long filled, taken, released; /* slots so far (threaded); slot = count % nslots */
	int last_filled;                       /* the filler has returned its last */
	int filler_waits, taker_waits;         /* asleep on cv: wake it */
	int threaded;
	pthread_t thread;
	handoff_fill_fn fill;
	void *arg;
};

struct handoff *handoff_new(unsigned nslots, handoff_fill_fn fill, void *arg)
{
	struct handoff *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->nslots = nslots;
	h->fill = fill;
	h->arg = arg;
	return h;
}

static void *filler(void *arg)
{
	struct handoff *h = arg;
	for (int last = 0; !last;) {
		pthread_mutex_lock(&h->mu);
		while (h->filled - h->released == h->nslots) {
			h->filler_waits = 1;
			pthread_cond_wait(&h->cv, &h->mu);
			h->filler_waits = 0;
		}
		unsigned slot = (unsigned)(h->filled % h->nslots);
		pthread_mutex_unlock(&h->mu);

		last = h->fill(h->arg, slot); /* outside the lock: the slot is ours */

		pthread_mutex_lock(&h->mu);
		h->filled++;
		h->last_filled = last;
		if (h->taker_waits)
			pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
	return NULL;
}

int handoff_start(struct handoff *h)
{
	/* Signals go to the thread that feeds the analyzer and writes; the
	 * filler sees the stop flag they set. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(&h->thread, NULL, filler, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	h->threaded = rc == 0;
	return h->threaded ? 0 : -1;
}

int handoff_take(struct handoff *h)
{
	if (!h->threaded) {
		if (h->last_filled)
			return -1;
		h->last_filled = h->fill(h->arg, 0);
		return 0;
	}
	pthread_mutex_lock(&h->mu);
	while (h->taken == h->filled && !h->last_filled) {
		h->taker_waits = 1;
		pthread_cond_wait(&h->cv, &h->mu);
		h->taker_waits = 0;
	}
	int slot = h->taken == h->filled ? -1 : (int)(h->taken++ % h->nslots);
	pthread_mutex_unlock(&h->mu);
	return slot;
}

void handoff_release(struct handoff *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	h->released++;
	if (h->filler_waits)
		pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void handoff_free(struct handoff *h)
{
	if (!h)
		return;
	if (h->threaded)
		pthread_join(h->thread, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
