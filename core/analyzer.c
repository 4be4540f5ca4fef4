/*
 * analyzer.c - the public entry points: find or start the connection a
 * segment belongs to, run it through the state machine, fire timers, and
 * hand finished connections to the front end as records.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NS(s) ((int64_t)(s) * 1000000000LL)

void tp_config_default(struct tp_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->half_open_timeout_ns = NS(3);   /* Linux's first SYN-ACK retransmission comes after 1 s */
	cfg->syn_timeout_ns = NS(3);
	cfg->idle_timeout_ns = NS(3600);
	/* Longer than the longest gap of the retransmission trains a handshake
	 * waits through: Linux's default SYN retries back off to 32 s apart
	 * (tcp_syn_retries=6, +31 s to +63 s; 64 s with 7), and Wireshark keeps
	 * the whole train in one tcp.stream (test-captures/syn-retries-long.pcap). */
	cfg->handshake_idle_ns = NS(120);
	cfg->closed_linger_ns = NS(60);      /* 2 MSL on Linux: TIME-WAIT lasts 60 s */
	cfg->half_closed_timeout_ns = NS(60);
	cfg->max_conns = 1000000;
	cfg->max_embryonic = 65536;
	cfg->checksum_verify = 0;
	cfg->flood_window_ns = NS(1);
	cfg->flood_min_half_open = 100;
	cfg->flood_min_syn_rate = 200;
	cfg->flood_min_spread = 0.5;
	cfg->wireshark = TP_WS_4_4; /* the newest Wireshark's rules (4.4 and 4.6 agree) */
}

struct tp_analyzer *tp_analyzer_new(const struct tp_config *cfg, const struct tp_callbacks *cb)
{
	struct tp_analyzer *an = calloc(1, sizeof *an);
	if (!an)
		return NULL;
	if (cfg)
		an->cfg = *cfg;
	else
		tp_config_default(&an->cfg);
	if (cb)
		an->cb = *cb;
	if (!an->cb.spill_write || !an->cb.spill_read) /* both or neither */
		an->cb.spill_write = NULL, an->cb.spill_read = NULL;
	tp_timer_init(an);
	an->nbuckets = 1024;
	an->buckets = calloc(an->nbuckets, sizeof *an->buckets);
	an->floods = tp_flood_new();
	tp_zeek_portmap_init(an->server_ports, an->cfg.zeek_server_ports, an->cfg.zeek_n_server_ports);
	an->now_ns = INT64_MIN;
	an->unpacked_amendable_from = UINT64_MAX;
	if (!an->buckets || !an->floods) {
		tp_analyzer_free(an);
		return NULL;
	}
	return an;
}

/* Settle c's late verdicts and hand its record to the front end. */
static void record_conn(struct tp_analyzer *an, struct tp_conn *c, enum tp_end_reason why)
{
	struct tp_conn_record r;
	tp_conn_settle(an, c, 1);
	tp_flood_half_open_done(an, c);
	tp_conn_record(an, c, why, &r);
	an->stats.by_handshake[r.handshake]++;
	an->stats.by_teardown[r.teardown]++;
	for (tp_anomaly_set m = r.anomalies; m;)
		an->stats.conn_anomalies[tp_anomaly_pop(&m)]++;
	if (an->cb.conn)
		an->cb.conn(an->cb.user, &r);
}

/* A frozen connection ends from an unpacked copy: no need to thaw it. */
static void finish_conn(struct tp_analyzer *an, struct tp_conn *c, enum tp_end_reason why)
{
	struct tp_conn t;
	record_conn(an, c->frozen ? tp_conn_unpack(c, &t) : c, why);
	tp_flow_remove(an, c);
}

static int well_known(const struct tp_analyzer *an, uint16_t port)
{
	return port < 1024 || tp_zeek_likely_server_port(an->server_ports, port);
}

/*
 * Who opened the connection. A SYN's sender did; a SYN-ACK's receiver did.
 * Without either, guess the server from the ports: the well-known one, else
 * the lower one, as a person reading the capture would.
 */
static int sender_is_orig(const struct tp_analyzer *an, const struct tp_segment *s)
{
	uint16_t f = s->flags & (TP_TH_SYN | TP_TH_ACK);
	if (f == TP_TH_SYN)
		return 1;
	if (f == (TP_TH_SYN | TP_TH_ACK))
		return 0;
	int ws = well_known(an, s->sport), wd = well_known(an, s->dport);
	if (ws != wd)
		return wd;
	return s->sport > s->dport || s->sport == s->dport;
}

#define N_EMBRYONIC 3 /* the lists of connections in their handshake */

static uint64_t embryonic(const struct tp_analyzer *an)
{
	return an->tcount[TP_T_HANDSHAKE] + an->tcount[TP_T_SYN] + an->tcount[TP_T_SYNACK];
}

/* End the head of the first non-empty list in order, unless it is keep. */
static int evict_from(struct tp_analyzer *an, const enum tp_timer_class *order, size_t n,
                      const struct tp_conn *keep)
{
	for (size_t i = 0; i < n; i++) {
		struct tp_conn *c = an->thead[order[i]], t;
		if (c && c != keep) {
			struct tp_conn *x = c->frozen ? tp_conn_unpack(c, &t) : c;
			an->stats.evicted++;
			tp_flood_evicted(an, x);
			record_conn(an, x, TP_END_EVICTED);
			tp_flow_remove(an, c);
			return 1;
		}
	}
	return 0;
}

/* The cap is reached: end the connection least likely to matter. Embryonic
 * ones whose late verdict is out go first: their record is final. */
static void evict_one(struct tp_analyzer *an)
{
	static const enum tp_timer_class order[] = {
		TP_T_HANDSHAKE, TP_T_SYN, TP_T_SYNACK, TP_T_CLOSED, TP_T_HALF_CLOSED, TP_T_HS_ACK, TP_T_OPEN,
	};
	evict_from(an, order, sizeof order / sizeof order[0], NULL);
}

/*
 * Too many connections in their handshake: a SYN flood, which would
 * otherwise fill memory with connections that never open. Like a kernel's
 * SYN backlog, keep the newest: first those whose late verdict is out, then
 * the one nearest its deadline. c (just fed) stays, so the connection of
 * the verdict just returned is still there for the front end.
 */
static void trim_embryonic(struct tp_analyzer *an, const struct tp_conn *c)
{
	while (embryonic(an) > an->cfg.max_embryonic) {
		enum tp_timer_class order[N_EMBRYONIC] = { TP_T_HANDSHAKE, TP_T_SYN, TP_T_SYNACK };
		const struct tp_conn *syn = an->thead[TP_T_SYN], *synack = an->thead[TP_T_SYNACK];
		if (syn && synack &&
		    tp_timer_deadline(an, synack) < tp_timer_deadline(an, syn)) {
			order[1] = TP_T_SYNACK;
			order[2] = TP_T_SYN;
		}
		if (!evict_from(an, order, N_EMBRYONIC, c))
			break;
	}
}

static void expire_class(struct tp_analyzer *an, enum tp_timer_class cls, int64_t now)
{
	struct tp_conn *c = an->thead[cls];
	if (!c) /* the common case, checked before any timeout is looked up */
		return;
	int64_t to = tp_timer_timeout(an, cls);
	while ((c = an->thead[cls]) && c->tstamp + to <= now) {
		if (cls == TP_T_SYN || cls == TP_T_SYNACK) {
			/* Late verdict time; the connection stays for a late answer. */
			tp_conn_settle(an, c, 0);
			c->late_done = 1;
			tp_timer_set(an, c, TP_T_HANDSHAKE, now);
			tp_conn_freeze(an, c);
			continue;
		}
		if (cls == TP_T_HS_ACK) {
			/* No SYN-ACK again by now: the handshake's ACK arrived. */
			c->hs_ack_settled = 1;
			tp_timer_set(an, c, tp_conn_timer_class(c), c->last_ns);
			continue;
		}
		if (cls != TP_T_CLOSED) /* a closed connection's linger ending is no expiry */
			an->stats.expired++;
		finish_conn(an, c, cls == TP_T_CLOSED ? TP_END_CLOSED : TP_END_TIMEOUT);
	}
	if (c)
		tp_due_by(an, c->tstamp + to);
}

/*
 * Closed connections, and handshakes whose late verdict is out, only linger:
 * packed until a segment wakes them. The second are many in a flood or a
 * scan, and a client's SYN or a server's SYN-ACK sent again after the
 * verdict wakes one only for that segment.
 */
static int lingers(const struct tp_conn *c)
{
	return c->tclass == TP_T_CLOSED || (c->tclass == TP_T_HANDSHAKE && c->late_done);
}

/* Pack the established connections idle for TP_COLD_AFTER_NS, oldest first. */
static void cool(struct tp_analyzer *an)
{
	struct tp_conn *c;
	while ((c = an->cold_next) && c->tstamp + TP_COLD_AFTER_NS <= an->now_ns) {
		an->cold_next = c->tnext;
		if (!c->frozen)
			tp_conn_freeze_cold(an, c);
	}
	/* Later ones on the list went idle later (or, if the capture's clock
	 * stepped back, will be packed a little late). */
	an->cold_due = c ? c->tstamp + TP_COLD_AFTER_NS : INT64_MAX;
}

void tp_advance(struct tp_analyzer *an, int64_t now_ns)
{
	if (now_ns > an->now_ns)
		an->now_ns = now_ns;
	/* Per segment, this is usually all: nothing is due yet. */
	if (an->now_ns >= an->next_due) {
		an->next_due = INT64_MAX;
		for (int cls = 0; cls < TP_T_COUNT; cls++)
			expire_class(an, (enum tp_timer_class)cls, an->now_ns);
		tp_flood_age_orphans(an, an->now_ns);
	}
	if (an->now_ns >= an->cold_due)
		cool(an);
	tp_flood_advance(an, an->now_ns, 0);
}

static void update_timer(struct tp_analyzer *an, struct tp_conn *c)
{
	enum tp_timer_class cls = tp_conn_timer_class(c);
	if (cls == c->tclass) {
		tp_timer_touch(an, c);
		return;
	}
	int64_t stamp = c->last_ns;
	if (cls == TP_T_SYN)
		stamp = c->syn_ns;
	else if (cls == TP_T_SYNACK)
		stamp = c->synack_ns;
	else if (cls == TP_T_HS_ACK)
		stamp = c->hs_ack_ns;
	tp_timer_set(an, c, cls, stamp);
}

/* Does this segment on a known 4-tuple open a new connection? */
static int new_connection(const struct tp_analyzer *an, const struct tp_conn *c, const struct tp_segment *s,
                          int from_orig)
{
	if (an->cfg.split == TP_SPLIT_ZEEK)
		return tp_zeek_is_reuse(&c->zeek, s, from_orig == (int)c->a_is_orig);
	return tp_conn_is_new_syn(c, s, from_orig, an->cfg.wireshark);
}

void tp_feed(struct tp_analyzer *an, const struct tp_segment *s, struct tp_verdict *out)
{
	tp_feed_prefetched(an, s, tp_segment_hash(an, s), out);
}

void tp_feed_prefetched(struct tp_analyzer *an, const struct tp_segment *s, uint32_t hash, struct tp_verdict *out)
{
	if (s->ts_ns > an->now_ns)
		tp_advance(an, s->ts_ns);

	int from_orig = 1, reuse = 0, resent = 0;
	struct tp_conn *c = tp_flow_lookup(an, s, hash, &from_orig);
	if (c && c->frozen) {
		struct tp_conn *t = tp_conn_thaw(an, c);
		if (!t) { /* no memory to unpack it: end it rather than lose it */
			an->stats.evicted++;
			finish_conn(an, c, TP_END_EVICTED);
		}
		c = t;
	}

	if (c && an->cfg.split == TP_SPLIT_ZEEK) {
		enum tp_zeek_gone gone = tp_zeek_gone(&c->zeek, s->ts_ns);
		if (gone != TP_ZEEK_HELD) {
			finish_conn(an, c, gone == TP_ZEEK_GONE_CLOSED ? TP_END_CLOSED : TP_END_TIMEOUT);
			c = NULL;
		}
	}
	if (c && new_connection(an, c, s, from_orig)) {
		/* Wireshark 4.4 opens a new stream at a SYN after a reset even when
		 * it is the same SYN again (after a stale reset, conn.c): that is a
		 * retransmission, not a reuse of the 4-tuple. */
		const struct tp_endpoint *S = &c->ep[from_orig ? 0 : 1];
		resent = (s->flags & (TP_TH_SYN | TP_TH_ACK)) == TP_TH_SYN && S->syn_seen && s->seq == S->isn;
		/* Not fully closed, or in TIME-WAIT: the 4-tuple is reused early. */
		reuse = !resent && !(c->ep[0].state == TP_CLOSED && c->ep[1].state == TP_CLOSED);
		finish_conn(an, c, TP_END_REUSED);
		c = NULL;
	}
	if (!c) {
		if (an->cfg.max_conns && an->stats.conns_active >= an->cfg.max_conns)
			evict_one(an);
		from_orig = sender_is_orig(an, s);
		c = tp_flow_insert(an, s, hash, from_orig);
		if (!c) {
			memset(out, 0, sizeof *out);
			out->frame = s->frame;
			out->ts_ns = s->ts_ns;
			an->stats.evicted++;
			return;
		}
		tp_conn_start(an, c, s);
	}
	tp_conn_segment(an, c, s, from_orig, out);
	if (reuse || resent) {
		enum tp_anomaly k = reuse ? TP_A_PORT_REUSE : TP_A_SYN_RETRANSMIT;
		out->anomalies |= TP_ABIT(k);
		out->rtx = (uint8_t)resent;
		c->anomalies |= TP_ABIT(k);
		an->stats.anomalies[k]++;
	}
	update_timer(an, c);
	if (an->cfg.max_embryonic && c->tclass <= TP_T_HANDSHAKE)
		trim_embryonic(an, c);
	if (lingers(c))
		tp_conn_freeze(an, c);
}

/*
 * Heapsort by index, in place: qsort's merge sort would ask for a second
 * array as large, at the very moment every connection is still held (the
 * end of a capture is its peak of memory). The index is in a connection's
 * head, unpacked even when the rest is packed; keeping it beside the
 * pointer would cost as much memory again, for no time measured.
 */
static void sift_down(struct tp_conn **a, size_t i, size_t n)
{
	struct tp_conn *x = a[i];
	for (size_t k; (k = 2 * i + 1) < n; i = k) {
		if (k + 1 < n && a[k + 1]->idx > a[k]->idx)
			k++;
		if (a[k]->idx <= x->idx)
			break;
		a[i] = a[k];
	}
	a[i] = x;
}

static void sort_by_idx(struct tp_conn **a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	while (n > 1) {
		struct tp_conn *x = a[0];
		a[0] = a[--n];
		a[n] = x;
		sift_down(a, 0, n);
	}
}

void tp_finish(struct tp_analyzer *an)
{
	uint64_t n = an->stats.conns_active, k = 0;
	struct tp_conn **all = n ? malloc(n * sizeof *all) : NULL;
	if (n && !all) {
		/* No memory to order them: emit in table order rather than lose any. */
		for (uint32_t b = 0; b < an->nbuckets; b++)
			while (an->buckets[b])
				finish_conn(an, an->buckets[b], TP_END_CAPTURE_END);
	} else {
		for (uint32_t b = 0; b < an->nbuckets; b++)
			for (struct tp_conn *c = an->buckets[b]; c; c = c->hnext)
				all[k++] = c;
		sort_by_idx(all, k);
		for (uint64_t i = 0; i < k; i++)
			finish_conn(an, all[i], TP_END_CAPTURE_END);
		free(all);
	}
	tp_flood_advance(an, an->now_ns, 1);
}

uint64_t tp_settled_below(const struct tp_analyzer *an)
{
	/* Open connections (established, no FIN, the handshake's ACK known to
	 * have arrived) have nothing to amend; the lingering ones are summed up
	 * by their blocks. */
	static const enum tp_timer_class lists[] = { TP_T_SYN, TP_T_SYNACK, TP_T_HANDSHAKE, TP_T_HS_ACK,
		                                             TP_T_HALF_CLOSED };
	uint64_t lo = tp_freeze_amendable_from(an);
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (const struct tp_conn *c = an->thead[lists[i]]; c; c = c->tnext) {
			if (c->frozen) /* its block's slot counts it */
				continue;
			uint64_t f = tp_conn_amendable_from(c);
			if (f < lo)
				lo = f;
		}
	return lo;
}

const struct tp_stats *tp_stats(const struct tp_analyzer *an)
{
	return &an->stats;
}

void tp_analyzer_free(struct tp_analyzer *an)
{
	if (!an)
		return;
	if (an->buckets) {
		for (uint32_t b = 0; b < an->nbuckets; b++) {
			struct tp_conn *c = an->buckets[b], *next;
			for (; c; c = next) {
				next = c->hnext;
				tp_conn_free(an, c);
			}
		}
		free(an->buckets);
	}
	tp_freeze_free(an);
	tp_flood_free(an->floods);
	free(an);
}
