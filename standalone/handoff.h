/*
 * handoff.h - batches passed from one thread that fills them to one that
 * empties them, in order, through a fixed number of slots.
 *
 * The slots' storage is the caller's: a handoff only says which slot is
 * whose. Without a second thread (handoff_new(n, fill, arg) and no
 * handoff_start), handoff_take calls fill itself, so a caller has one code
 * path either way.
 */
#ifndef TP_HANDOFF_H
#define TP_HANDOFF_H

struct handoff;

/* Fill slot i; nonzero when it was the last (it may be empty). */
typedef int (*handoff_fill_fn)(void *arg, unsigned slot);

struct handoff *handoff_new(unsigned nslots, handoff_fill_fn fill, void *arg);
/* Run fill on a thread of its own, SIGINT and SIGTERM blocked there; 0 if
 * started, -1 if not (handoff_take then fills on the caller's thread). */
int handoff_start(struct handoff *h);
/* The next filled slot, -1 after the last one. */
int handoff_take(struct handoff *h);
/* The slot handoff_take returned is empty again. */
void handoff_release(struct handoff *h);
/* Wait for the filling thread (after handoff_take returned -1) and free. */
void handoff_free(struct handoff *h);

#endif /* TP_HANDOFF_H */
