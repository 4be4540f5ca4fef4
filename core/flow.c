/*
 * flow.c - the connection table and its timer lists.
 *
 * Connections are found by a direction-independent hash of the 4-tuple (and
 * of the VLAN/tunnel context when cfg.key_context asks for it), so both
 * directions of a connection land in one entry, as Suricata's flow-hash and
 * Zeek's ConnKey do.
 *
 * Timeouts: every timer class has one timeout, and a connection joins the
 * tail of its class's list with the time the timeout runs from. Each list is
 * therefore ordered by deadline and expiry only ever looks at list heads:
 * O(1) per segment, whatever the number of connections.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

/* Little-endian whatever the host, so that --shard splits alike everywhere;
 * compilers make it one load on little-endian machines. */
static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A word at a time: this runs for every segment. */
static uint32_t addr_hash(const struct tp_addr *a, uint16_t port)
{
	uint32_t h = mix32(le32(a->bytes) ^ ((uint32_t)port << 16 | a->family));
	if (a->family == 6)
		h = mix32(h ^ le32(a->bytes + 4)) + mix32(le32(a->bytes + 8) ^ 0x9e3779b9U) +
		    mix32(le32(a->bytes + 12) ^ 0x85ebca6bU);
	return mix32(h);
}

/* Symmetric: the sum of the two endpoint hashes does not depend on order. */
uint32_t tp_flow_hash(const struct tp_addr *a, uint16_t pa, const struct tp_addr *b, uint16_t pb, uint32_t ctx)
{
	return mix32(addr_hash(a, pa) + addr_hash(b, pb) + ctx * 0x9e3779b9U);
}

uint32_t tp_shard_of(const struct tp_segment *s, uint32_t n)
{
	/* The same function of addresses and ports on every machine and run
	 * (nothing seeded), so N processes split a capture with no coordination;
	 * the high bits, as the table uses the low ones. */
	uint32_t h = tp_flow_hash(&s->src, s->sport, &s->dst, s->dport, 0);
	return n ? (uint32_t)(((uint64_t)h * n) >> 32) : 0;
}

static int addr_eq(const struct tp_addr *x, const struct tp_addr *y)
{
	if (x->family != y->family)
		return 0;
	/* constant sizes: the compiler inlines both compares */
	return x->family == 6 ? memcmp(x->bytes, y->bytes, 16) == 0 : memcmp(x->bytes, y->bytes, 4) == 0;
}

/* The VLAN/tunnel context, if it is part of the key. */
static uint32_t flow_context(const struct tp_analyzer *an, const struct tp_segment *s)
{
	return an->cfg.key_context ? s->context : 0;
}

/* Is c the connection of s? *from_orig says which way s goes. */
static int key_match(const struct tp_conn *c, const struct tp_segment *s, uint32_t ctx, int *from_orig)
{
	if (c->context != ctx)
		return 0;
	if (c->port[0] == s->sport && c->port[1] == s->dport && addr_eq(&c->addr[0], &s->src) &&
	    addr_eq(&c->addr[1], &s->dst)) {
		*from_orig = 1;
		return 1;
	}
	if (c->port[0] == s->dport && c->port[1] == s->sport && addr_eq(&c->addr[0], &s->dst) &&
	    addr_eq(&c->addr[1], &s->src)) {
		*from_orig = 0;
		return 1;
	}
	return 0;
}

struct tp_conn *tp_flow_lookup(struct tp_analyzer *an, const struct tp_segment *s, uint32_t hash, int *from_orig)
{
	uint32_t ctx = flow_context(an, s);
	for (struct tp_conn *c = an->buckets[hash & (an->nbuckets - 1)]; c; c = c->hnext) {
		if (c->hash != hash)
			continue;
		/* A frozen one packs its key too: the hash matched, so it is
		 * almost surely the one, and unpacking it is worth it. */
		struct tp_conn t;
		if (key_match(c->frozen ? tp_conn_unpack(c, &t) : c, s, ctx, from_orig))
			return c;
	}
	return NULL;
}

uint32_t tp_segment_hash(const struct tp_analyzer *an, const struct tp_segment *s)
{
	return tp_flow_hash(&s->src, s->sport, &s->dst, s->dport, flow_context(an, s));
}

/* A lookup's cache misses (its bucket, then the connection's first lines)
 * were a sixth of the CLI's time; a reader that decodes ahead hides them. */
void tp_prefetch_bucket(struct tp_analyzer *an, uint32_t hash)
{
	__builtin_prefetch(&an->buckets[hash & (an->nbuckets - 1)]);
}

void tp_prefetch_conn(struct tp_analyzer *an, uint32_t hash)
{
	const struct tp_conn *c = an->buckets[hash & (an->nbuckets - 1)];
	if (!c)
		return;
	/* A prefetch past the end of a smaller (frozen) allocation, or of one
	 * freed meanwhile, is harmless: prefetches never fault. */
	for (size_t off = 0; off < sizeof *c; off += 64)
		__builtin_prefetch((const char *)c + off);
}

static void grow(struct tp_analyzer *an)
{
	uint32_t n = an->nbuckets * 2;
	struct tp_conn **b = calloc(n, sizeof *b);
	if (!b)
		return; /* keep the longer chains; still correct */
	for (uint32_t i = 0; i < an->nbuckets; i++) {
		struct tp_conn *c = an->buckets[i], *next;
		for (; c; c = next) {
			next = c->hnext;
			c->hnext = b[c->hash & (n - 1)];
			b[c->hash & (n - 1)] = c;
		}
	}
	free(an->buckets);
	an->buckets = b;
	an->nbuckets = n;
}

struct tp_conn *tp_flow_insert(struct tp_analyzer *an, const struct tp_segment *s, uint32_t hash, int sender_is_orig)
{
	struct tp_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	int o = sender_is_orig ? 0 : 1;
	c->addr[o] = s->src;
	c->port[o] = s->sport;
	c->addr[!o] = s->dst;
	c->port[!o] = s->dport;
	c->context = flow_context(an, s);
	c->hash = hash;
	c->tclass = TP_T_COUNT; /* on no list yet */
	uint32_t b = hash & (an->nbuckets - 1);
	c->hnext = an->buckets[b];
	an->buckets[b] = c;
	an->stats.conns_active++;
	if (an->stats.conns_active > an->stats.conns_peak)
		an->stats.conns_peak = an->stats.conns_active;
	/* At most one connection per bucket on average: a lookup costs a cache
	 * miss per connection it walks past, and the table is cheap. */
	if (an->stats.conns_active > (uint64_t)an->nbuckets)
		grow(an);
	return c;
}

static void timer_unlink(struct tp_analyzer *an, struct tp_conn *c)
{
	if (c->tclass >= TP_T_COUNT)
		return;
	if (c == an->cold_next)
		an->cold_next = c->tnext;
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		an->thead[c->tclass] = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	else
		an->ttail[c->tclass] = c->tprev;
	c->tprev = c->tnext = NULL;
	an->tcount[c->tclass]--;
	c->tclass = TP_T_COUNT;
}

/* The link that points at c in its bucket's chain (NULL if not there). */
static struct tp_conn **bucket_link(struct tp_analyzer *an, const struct tp_conn *c)
{
	struct tp_conn **pp = &an->buckets[c->hash & (an->nbuckets - 1)];
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	return *pp ? pp : NULL;
}

void tp_flow_remove(struct tp_analyzer *an, struct tp_conn *c)
{
	timer_unlink(an, c);
	struct tp_conn **pp = bucket_link(an, c);
	if (pp)
		*pp = c->hnext;
	an->stats.conns_active--;
	tp_conn_free(an, c);
}

void tp_flow_replace(struct tp_analyzer *an, const struct tp_conn *o, struct tp_conn *n)
{
	struct tp_conn **pp = bucket_link(an, o);
	if (pp)
		*pp = n;
	if (o->tclass >= TP_T_COUNT)
		return;
	if (o == an->cold_next)
		an->cold_next = n;
	if (o->tprev)
		o->tprev->tnext = n;
	else
		an->thead[o->tclass] = n;
	if (o->tnext)
		o->tnext->tprev = n;
	else
		an->ttail[o->tclass] = n;
}

/* c is the newest on its list: once it is the oldest not looked at on
 * TP_T_OPEN, it is the next that may go cold. */
static void cold_watch(struct tp_analyzer *an, struct tp_conn *c)
{
	if (c->tclass != TP_T_OPEN || an->cold_next)
		return;
	an->cold_next = c;
	if (c->tstamp + TP_COLD_AFTER_NS < an->cold_due)
		an->cold_due = c->tstamp + TP_COLD_AFTER_NS;
}

void tp_timer_set(struct tp_analyzer *an, struct tp_conn *c, enum tp_timer_class cls, int64_t stamp)
{
	timer_unlink(an, c);
	c->tclass = (uint8_t)cls;
	c->tstamp = stamp;
	an->tcount[cls]++;
	tp_due_by(an, tp_timer_deadline(an, c));
	c->tnext = NULL;
	c->tprev = an->ttail[cls];
	if (an->ttail[cls])
		an->ttail[cls]->tnext = c;
	else
		an->thead[cls] = c;
	an->ttail[cls] = c;
	cold_watch(an, c);
}

/* Idle lists run from the last segment: move to the tail. Deadline lists
 * (SYN, SYN-ACK) run from when the connection entered them: stay put. */
void tp_timer_touch(struct tp_analyzer *an, struct tp_conn *c)
{
	if (c->tclass == TP_T_SYN || c->tclass == TP_T_SYNACK || c->tclass == TP_T_HS_ACK || c->tclass >= TP_T_COUNT)
		return;
	if (an->ttail[c->tclass] == c) {
		c->tstamp = c->last_ns;
		tp_due_by(an, tp_timer_deadline(an, c));
		cold_watch(an, c); /* it may have been looked at already */
		return;
	}
	tp_timer_set(an, c, (enum tp_timer_class)c->tclass, c->last_ns);
}

void tp_timer_init(struct tp_analyzer *an)
{
	const struct tp_config *cfg = &an->cfg;
	an->timeout[TP_T_SYN] = cfg->syn_timeout_ns;
	an->timeout[TP_T_SYNACK] = cfg->half_open_timeout_ns;
	an->timeout[TP_T_HANDSHAKE] = cfg->handshake_idle_ns;
	an->timeout[TP_T_HS_ACK] = cfg->half_open_timeout_ns;
	an->timeout[TP_T_OPEN] = cfg->idle_timeout_ns;
	an->timeout[TP_T_HALF_CLOSED] = cfg->half_closed_timeout_ns;
	an->timeout[TP_T_CLOSED] = cfg->closed_linger_ns;
	an->next_due = INT64_MAX;
	an->cold_due = INT64_MAX;
}
