/*
 * flood.c - SYN flood detection per server (address and port).
 *
 * A flood is many embryonic connections toward one server from many
 * sources. Per server we keep, over a sliding window of cfg.flood_window_ns
 * (two buckets, the older one weighted by how much of it still overlaps):
 * the SYN count, a 512-bit linear-counting sketch of the sources (how spread
 * they are), and the current number of half-open connections. All three
 * must cross their thresholds to start a flood; it ends when the SYN rate
 * falls below half the threshold. Over a flood, a 256-register HyperLogLog
 * estimates the distinct sources: spoofed floods have millions, and exact
 * sets would defeat the point of bounded memory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SKETCH_BITS 512
#define HLL_REGS 256

struct tp_server {
	struct tp_server *next;
	struct tp_addr addr;
	uint16_t port;
	uint8_t in_flood;
	int64_t win_start, last_syn_ns;
	uint32_t syn_cur, syn_prev;
	uint64_t syn_total;
	uint32_t half_open, peak_half_open;
	/* Half-open connections evicted from the connection table, still in
	 * half_open until their deadline (tp_flood_table.orphans) */
	uint32_t orphans;
	uint8_t sk_cur[SKETCH_BITS / 8], sk_prev[SKETCH_BITS / 8];
	struct tp_flood f;  /* the flood under way */
	uint32_t gen;       /* its number in the table (tp_flood_table.gen) */
	uint8_t *hll;       /* HLL_REGS registers while in a flood */
};

/*
 * Evicted half-open connections, in order of the deadline at which the
 * connection table would have given their late verdict and stopped counting
 * them. One queue per deadline list (SYN, SYN-ACK): eviction takes list
 * heads, so each queue is in deadline order and aging looks at its head.
 * Only those before their deadline are held: a flood's last few seconds.
 */
struct tp_orphan {
	int64_t deadline;
	struct tp_server *server; /* not freed while it has orphans */
	uint32_t source;          /* hash of its source, for a flood that starts later */
};
struct tp_orphan_queue {
	struct tp_orphan *q;
	size_t head, len, cap; /* ring */
};

struct tp_flood_table {
	struct tp_server **b;
	uint32_t n, count;
	uint32_t gen; /* floods started so far, on any server */
	int64_t last_sweep;
	struct tp_orphan_queue orphans[2]; /* [0] from the SYN list, [1] the SYN-ACK list */
};

struct tp_flood_table *tp_flood_new(void)
{
	struct tp_flood_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n = 256;
	t->b = calloc(t->n, sizeof *t->b);
	if (!t->b) {
		free(t);
		return NULL;
	}
	return t;
}

void tp_flood_free(struct tp_flood_table *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n; i++) {
		struct tp_server *s = t->b[i], *next;
		for (; s; s = next) {
			next = s->next;
			free(s->hll);
			free(s);
		}
	}
	free(t->b);
	free(t->orphans[0].q);
	free(t->orphans[1].q);
	free(t);
}

static uint32_t hash_addr(const struct tp_addr *a, uint32_t seed)
{
	uint32_t h = 2166136261U ^ seed;
	for (int i = 0; i < (a->family == 6 ? 16 : 4); i++)
		h = (h ^ a->bytes[i]) * 16777619U;
	h ^= h >> 15;
	h *= 0x2c1b3c6dU;
	h ^= h >> 12;
	return h;
}

static uint32_t server_hash(const struct tp_addr *a, uint16_t port)
{
	return hash_addr(a, port);
}

static struct tp_server *server_find(struct tp_flood_table *t, const struct tp_addr *a, uint16_t port, int create)
{
	uint32_t h = server_hash(a, port) & (t->n - 1);
	for (struct tp_server *s = t->b[h]; s; s = s->next)
		if (s->port == port && s->addr.family == a->family && memcmp(s->addr.bytes, a->bytes, 16) == 0)
			return s;
	if (!create)
		return NULL;
	struct tp_server *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->addr = *a;
	s->port = port;
	s->win_start = INT64_MIN;
	s->next = t->b[h];
	t->b[h] = s;
	t->count++;
	return s;
}

static void roll_window(struct tp_server *s, int64_t now, int64_t w)
{
	if (s->win_start == INT64_MIN) {
		s->win_start = now;
		return;
	}
	if (now - s->win_start < w)
		return;
	if (now - s->win_start < 2 * w) {
		s->syn_prev = s->syn_cur;
		memcpy(s->sk_prev, s->sk_cur, sizeof s->sk_cur);
		s->win_start += w;
	} else {
		s->syn_prev = 0;
		memset(s->sk_prev, 0, sizeof s->sk_prev);
		s->win_start = now;
	}
	s->syn_cur = 0;
	memset(s->sk_cur, 0, sizeof s->sk_cur);
}

/* SYNs in the last window: the older bucket weighted by its overlap. */
static double syn_rate(const struct tp_server *s, int64_t now, int64_t w)
{
	double over = 1.0 - (double)(now - s->win_start) / (double)w;
	if (over < 0)
		over = 0;
	return s->syn_cur + s->syn_prev * over;
}

/* Set bits in a byte. __builtin_popcount is a libgcc call on baseline
 * x86-64 (no POPCNT), and this runs for every SYN. */
static int bits8(uint8_t b)
{
	b = (uint8_t)(b - ((b >> 1) & 0x55));
	b = (uint8_t)((b & 0x33) + ((b >> 2) & 0x33));
	return (b + (b >> 4)) & 0x0f;
}

/* Linear counting over the union of both buckets. */
static double distinct_in_window(const struct tp_server *s)
{
	int zero = 0;
	for (int i = 0; i < SKETCH_BITS / 8; i++)
		zero += 8 - bits8((uint8_t)(s->sk_cur[i] | s->sk_prev[i]));
	if (zero == 0)
		return SKETCH_BITS * log(SKETCH_BITS);
	return -SKETCH_BITS * log((double)zero / SKETCH_BITS);
}

static double hll_estimate(const uint8_t *r)
{
	double sum = 0;
	int zeros = 0;
	for (int i = 0; i < HLL_REGS; i++) {
		sum += ldexp(1.0, -r[i]);
		zeros += r[i] == 0;
	}
	double m = HLL_REGS, e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros); /* small range correction */
	return e;
}

static void hll_add(uint8_t *r, uint32_t h)
{
	uint32_t idx = h >> 24, w = (h << 8) | 0x80;
	uint8_t rank = (uint8_t)(__builtin_clz(w) + 1);
	if (rank > r[idx])
		r[idx] = rank;
}

static void flood_end(struct tp_analyzer *an, struct tp_server *s)
{
	s->in_flood = 0;
	s->f.end_ns = s->last_syn_ns;
	s->f.distinct_sources = s->hll ? (uint32_t)(hll_estimate(s->hll) + 0.5) : 0;
	/* The sketch may overshoot by a few percent; there are never more
	 * sources than SYNs. */
	if (s->f.distinct_sources > s->f.syns)
		s->f.distinct_sources = (uint32_t)s->f.syns;
	s->f.answered_share = s->f.syns ? (double)s->f.synacks / (double)s->f.syns : 0;
	s->f.source_spread = s->f.syns ? (double)s->f.distinct_sources / (double)s->f.syns : 0;
	free(s->hll);
	s->hll = NULL;
	an->stats.floods++;
	if (an->cb.flood)
		an->cb.flood(an->cb.user, &s->f);
}

/* Detection comes a little late: mark the SYNs of the connections that
 * built the flood, which are still embryonic toward this server. The
 * connection whose SYN tipped it (cur) is counted by tp_flood_syn() and gets
 * the anomaly in its own verdict: it is skipped here even when it already
 * sits on a timer list (its first segment drove no transition, e.g. a
 * SYN+RST, which leaves it on the handshake list), or its SYN would be
 * counted twice and amended while it is still being fed. */
static void mark_earlier(struct tp_analyzer *an, struct tp_server *s, const struct tp_conn *cur)
{
	static const enum tp_timer_class lists[] = { TP_T_SYN, TP_T_SYNACK, TP_T_HANDSHAKE };
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (struct tp_conn *c = an->thead[lists[i]], *next; c; c = next) {
			next = c->tnext;
			struct tp_conn t;
			const struct tp_conn *x = c->frozen ? tp_conn_unpack(c, &t) : c;
			if (c == cur || x->flood || !x->counted_half_open || x->port[1] != s->port ||
			    memcmp(&x->addr[1], &s->addr, sizeof s->addr) != 0)
				continue;
			/* A packed one (its late verdict out) is marked unpacked;
			 * with no memory for that, it stays out of the flood. */
			if (c->frozen && !(c = tp_conn_thaw(an, c)))
				continue;
			c->flood = 1;
			c->flood_gen = s->gen;
			s->f.syns++;
			if (c->synack_frame) {
				s->f.synacks++;
				c->flood_answered = 1;
			}
			hll_add(s->hll, hash_addr(&c->addr[0], 0x5bd1e995U));
			tp_conn_amend(an, c, c->syn_frame, TP_ABIT(TP_A_SYN_FLOOD), -1, -1);
		}
}

static void mark_orphans(struct tp_flood_table *t, struct tp_server *s);

static void flood_start(struct tp_analyzer *an, struct tp_server *s, int64_t now, const struct tp_conn *cur)
{
	memset(&s->f, 0, sizeof s->f);
	s->hll = calloc(HLL_REGS, 1);
	if (!s->hll)
		return;
	s->in_flood = 1;
	s->gen = ++an->floods->gen;
	s->f.server = s->addr;
	s->f.port = s->port;
	s->f.start_ns = now;
	s->f.peak_half_open = s->half_open;
	mark_earlier(an, s, cur);
	mark_orphans(an->floods, s);
}

int tp_flood_syn(struct tp_analyzer *an, const struct tp_segment *seg, struct tp_conn *c)
{
	const struct tp_config *cfg = &an->cfg;
	struct tp_server *s = server_find(an->floods, &seg->dst, seg->dport, 1);
	if (!s)
		return 0;
	roll_window(s, seg->ts_ns, cfg->flood_window_ns);
	s->syn_cur++;
	s->syn_total++;
	s->last_syn_ns = seg->ts_ns;
	uint32_t h = hash_addr(&seg->src, 0x5bd1e995U);
	s->sk_cur[(h % SKETCH_BITS) / 8] |= (uint8_t)(1u << (h % 8));
	s->half_open++;
	c->counted_half_open = 1;
	if (s->half_open > s->peak_half_open)
		s->peak_half_open = s->half_open;

	if (!s->in_flood) {
		double rate = syn_rate(s, seg->ts_ns, cfg->flood_window_ns);
		double spread = distinct_in_window(s) / (rate > 0 ? rate : 1);
		if (s->half_open >= cfg->flood_min_half_open && rate >= cfg->flood_min_syn_rate &&
		    spread >= cfg->flood_min_spread)
			flood_start(an, s, seg->ts_ns, c);
		if (!s->in_flood)
			return 0;
		/* the SYN that tipped it: counted here, mark_earlier() skipped it */
	}
	c->flood = 1;
	c->flood_gen = s->gen;
	s->f.syns++;
	hll_add(s->hll, h);
	if (s->half_open > s->f.peak_half_open)
		s->f.peak_half_open = s->half_open;
	return 1;
}

/*
 * synacks and completed count connections of the flood's own SYNs (so
 * synacks <= syns, as "of which answered" says): a connection's SYN-ACK
 * counts once however many it sends (a new ISN is a new SYN-ACK to on_synack),
 * and a connection counted by an earlier flood of the server, still
 * embryonic when the next starts (mark_earlier skips it: c->flood), counts
 * in neither flood's answers or completions.
 */
static int of_this_flood(const struct tp_server *s, const struct tp_conn *c)
{
	return s && s->in_flood && c->flood && c->flood_gen == s->gen;
}

void tp_flood_synack(struct tp_analyzer *an, struct tp_conn *c)
{
	if (!c->flood || c->flood_answered)
		return;
	struct tp_server *s = server_find(an->floods, &c->addr[1], c->port[1], 0);
	if (of_this_flood(s, c)) {
		s->f.synacks++;
		c->flood_answered = 1;
	}
}

void tp_flood_half_open_done(struct tp_analyzer *an, struct tp_conn *c)
{
	if (!c->counted_half_open)
		return;
	c->counted_half_open = 0;
	struct tp_server *s = server_find(an->floods, &c->addr[1], c->port[1], 0);
	if (!s)
		return;
	if (s->half_open)
		s->half_open--;
	if (of_this_flood(s, c) && c->established)
		s->f.completed++;
}

static int orphan_push(struct tp_orphan_queue *oq, int64_t deadline, struct tp_server *s, uint32_t source)
{
	if (oq->len == oq->cap) {
		size_t cap = oq->cap ? oq->cap * 2 : 1024;
		struct tp_orphan *q = malloc(cap * sizeof *q);
		if (!q)
			return -1;
		for (size_t i = 0; i < oq->len; i++)
			q[i] = oq->q[(oq->head + i) % oq->cap];
		free(oq->q);
		oq->q = q;
		oq->head = 0;
		oq->cap = cap;
	}
	oq->q[(oq->head + oq->len++) % oq->cap] = (struct tp_orphan){ deadline, s, source };
	return 0;
}

/* Half-open connections already evicted when the flood starts are among
 * those that built it: count them as mark_earlier() counts tracked ones
 * (their records are out, so their SYNs cannot be marked). */
static void mark_orphans(struct tp_flood_table *t, struct tp_server *s)
{
	for (int i = 0; i < 2; i++) {
		const struct tp_orphan_queue *oq = &t->orphans[i];
		for (size_t k = 0; k < oq->len; k++) {
			const struct tp_orphan *o = &oq->q[(oq->head + k) % oq->cap];
			if (o->server != s)
				continue;
			s->f.syns++;
			s->f.synacks += i == 1;
			hll_add(s->hll, o->source);
		}
	}
}

static void orphan_done(struct tp_server *s)
{
	s->orphans--;
	if (s->half_open)
		s->half_open--;
}

void tp_flood_evicted(struct tp_analyzer *an, struct tp_conn *c)
{
	/* Only the deadline lists hold connections counted as half-open; off
	 * them, or with no memory to queue it, it stops counting now. */
	if (!c->counted_half_open || (c->tclass != TP_T_SYN && c->tclass != TP_T_SYNACK)) {
		tp_flood_half_open_done(an, c);
		return;
	}
	c->counted_half_open = 0; /* finish_conn must not count it done */
	struct tp_server *s = server_find(an->floods, &c->addr[1], c->port[1], 0);
	if (!s)
		return;
	int64_t deadline = tp_timer_deadline(an, c);
	uint32_t source = hash_addr(&c->addr[0], 0x5bd1e995U);
	s->orphans++;
	if (orphan_push(&an->floods->orphans[c->tclass == TP_T_SYNACK], deadline, s, source) < 0)
		orphan_done(s);
	else
		tp_due_by(an, deadline);
}

void tp_flood_age_orphans(struct tp_analyzer *an, int64_t now)
{
	for (int i = 0; i < 2; i++) {
		struct tp_orphan_queue *oq = &an->floods->orphans[i];
		while (oq->len && oq->q[oq->head].deadline <= now) {
			orphan_done(oq->q[oq->head].server);
			oq->head = (oq->head + 1) % oq->cap;
			oq->len--;
		}
		if (oq->len)
			tp_due_by(an, oq->q[oq->head].deadline);
	}
}

int tp_server_load(const struct tp_analyzer *an, const struct tp_addr *server, uint16_t port,
                   struct tp_server_load *out)
{
	struct tp_server *s = server_find(an->floods, server, port, 0);
	if (!s)
		return -1;
	out->half_open = s->half_open;
	out->syns = s->syn_total;
	return 0;
}

/* Once per window of capture time: end quiet floods, drop idle servers. */
void tp_flood_advance(struct tp_analyzer *an, int64_t now, int at_end)
{
	struct tp_flood_table *t = an->floods;
	int64_t w = an->cfg.flood_window_ns;
	if (!at_end && now - t->last_sweep < w)
		return;
	t->last_sweep = now;
	for (uint32_t i = 0; i < t->n; i++) {
		struct tp_server **pp = &t->b[i];
		while (*pp) {
			struct tp_server *s = *pp;
			roll_window(s, now, w);
			if (s->in_flood && (at_end || syn_rate(s, now, w) < an->cfg.flood_min_syn_rate / 2.0))
				flood_end(an, s);
			if (!s->in_flood && s->half_open == 0 && s->orphans == 0 && now - s->last_syn_ns > 2 * w) {
				*pp = s->next;
				t->count--;
				free(s);
				continue;
			}
			pp = &s->next;
		}
	}
}
