/*
 * defrag.c - IPv4 and IPv6 reassembly (defrag.h), the receiving Linux
 * stack's way: what the host made of the fragments is what we analyse.
 *
 * Datagrams are keyed as Linux keys them (addresses, identification, and
 * for IPv4 the protocol) plus the decoder's VLAN/tunnel context, so that
 * two hosts behind different VLANs never share a datagram. The fragments
 * of one datagram are kept in offset order, and beside them the "runs"
 * Linux keeps (fragments that arrived back to back at the tail): the runs
 * decide between a duplicate and an overlap exactly as
 * inet_frag_queue_insert() does.
 */
#include <stdlib.h>

#include "defrag.h"
#include "layers.h"

#define NBUCKET 1024     /* a power of two */
#define IP_MAXLEN 65535  /* neither an IPv4 datagram nor an IPv6 payload is longer */

struct frag {
	uint32_t off, end;
	uint8_t *data;
};

struct run {
	uint32_t start, end;
};

struct dgram {
	struct dgram *hnext;         /* the bucket's chain */
	struct dgram *older, *newer; /* by arrival of the first fragment: expiry starts at the oldest */
	uint32_t hash;
	uint8_t v6, proto;
	uint32_t context, id;
	uint8_t src[16], dst[16];
	int64_t deadline_ns;
	uint8_t ip[60];  /* the header of the fragment at offset 0, once it came */
	uint32_t hlen;
	uint8_t nh;      /* IPv6: the next header that fragment named */
	int first_in, last_in;
	uint32_t len;    /* payload bytes: exact once the last fragment came, else the highest end */
	uint32_t meat;   /* payload bytes held */
	struct frag *frags; /* in offset order, never overlapping */
	uint32_t nfrags, capfrags;
	struct run *runs;   /* in offset order, disjoint */
	uint32_t nruns, capruns;
	uint64_t mem;    /* what it counts against max_bytes */
};

struct tp_defrag {
	struct tp_defrag_limits lim;
	struct dgram *bucket[NBUCKET];
	struct dgram *oldest, *newest;
	uint32_t ndgrams;
	uint64_t bytes;
};

void tp_defrag_default_limits(struct tp_defrag_limits *lim)
{
	lim->max_bytes = 4u << 20;
	lim->max_datagrams = 4096;
	lim->timeout4_ns = 30 * 1000000000LL;
	lim->timeout6_ns = 60 * 1000000000LL;
}

struct tp_defrag *tp_defrag_new(const struct tp_defrag_limits *lim)
{
	struct tp_defrag *df = calloc(1, sizeof *df);
	if (!df)
		return NULL;
	if (lim)
		df->lim = *lim;
	else
		tp_defrag_default_limits(&df->lim);
	return df;
}

uint32_t tp_defrag_datagrams(const struct tp_defrag *df)
{
	return df->ndgrams;
}

uint64_t tp_defrag_bytes(const struct tp_defrag *df)
{
	return df->bytes;
}

/* FNV-1a over the key: attacker-chosen, but a long chain costs only time,
 * and the count cap bounds it. */
static uint32_t key_hash(const struct frag_in *f, uint32_t context)
{
	uint32_t h = 2166136261u;
	uint8_t k[2 + 8 + 32];
	k[0] = (uint8_t)f->v6;
	k[1] = f->v6 ? 0 : f->proto;
	memcpy(k + 2, &context, 4);
	memcpy(k + 6, &f->id, 4);
	uint32_t alen = f->v6 ? 16 : 4;
	memcpy(k + 10, f->ip + (f->v6 ? 8 : 12), alen);
	memcpy(k + 10 + alen, f->ip + (f->v6 ? 24 : 16), alen);
	for (uint32_t i = 0; i < 10 + 2 * alen; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static int key_match(const struct dgram *g, const struct frag_in *f, uint32_t context, uint32_t hash)
{
	uint32_t alen = f->v6 ? 16 : 4;
	return g->hash == hash && g->v6 == f->v6 && g->id == f->id && g->context == context &&
	       (f->v6 || g->proto == f->proto) && memcmp(g->src, f->ip + (f->v6 ? 8 : 12), alen) == 0 &&
	       memcmp(g->dst, f->ip + (f->v6 ? 24 : 16), alen) == 0;
}

static void unlink_dgram(struct tp_defrag *df, struct dgram *g)
{
	struct dgram **pp = &df->bucket[g->hash & (NBUCKET - 1)];
	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	if (g->older)
		g->older->newer = g->newer;
	else
		df->oldest = g->newer;
	if (g->newer)
		g->newer->older = g->older;
	else
		df->newest = g->older;
	df->ndgrams--;
	df->bytes -= g->mem;
}

static void free_dgram(struct dgram *g)
{
	for (uint32_t i = 0; i < g->nfrags; i++)
		free(g->frags[i].data);
	free(g->frags);
	free(g->runs);
	free(g);
}

/* Let a datagram go; *counter says why (NULL: it was completed). */
static void drop_dgram(struct tp_defrag *df, struct dgram *g, uint64_t *counter)
{
	unlink_dgram(df, g);
	free_dgram(g);
	if (counter)
		(*counter)++;
}

void tp_defrag_expire(struct tp_defrag *df, int64_t now_ns, struct tp_decode_stats *st)
{
	/* IPv4 and IPv6 time out after different delays, so the oldest is not
	 * always the first due: a later one waits here a little longer, but
	 * lookup() never lets a fragment join a datagram past its deadline. */
	while (df->oldest && df->oldest->deadline_ns <= now_ns)
		drop_dgram(df, df->oldest, &st->frag.timed_out);
}

void tp_defrag_finish(struct tp_defrag *df, struct tp_decode_stats *st)
{
	while (df && df->oldest)
		drop_dgram(df, df->oldest, &st->frag.unfinished);
}

void tp_defrag_free(struct tp_defrag *df)
{
	if (!df)
		return;
	while (df->oldest) {
		struct dgram *g = df->oldest;
		unlink_dgram(df, g);
		free_dgram(g);
	}
	free(df);
}

/* The datagram f belongs to, or a new one; NULL with *why set if the caps
 * refuse it (Linux refuses new fragments once its memory is over
 * ipfrag_high_thresh; it evicts nothing). */
static struct dgram *lookup(struct dctx *d, struct tp_defrag *df, const struct frag_in *f, const char **why)
{
	uint32_t hash = key_hash(f, d->context);
	struct dgram *g = df->bucket[hash & (NBUCKET - 1)];
	while (g && !key_match(g, f, d->context, hash))
		g = g->hnext;
	if (g && g->deadline_ns <= d->opts->ts_ns) {
		drop_dgram(df, g, &d->st->frag.timed_out);
		g = NULL;
	}
	if (g)
		return g;
	if (df->ndgrams >= df->lim.max_datagrams) {
		d->st->frag.over_datagrams++;
		*why = "IP fragments: too many incomplete datagrams held (a fragment flood?): fragment refused";
		return NULL;
	}
	if (df->bytes + sizeof *g > df->lim.max_bytes) {
		d->st->frag.over_bytes++;
		*why = "IP fragments: reassembly memory full (a fragment flood?): fragment refused";
		return NULL;
	}
	if (!(g = calloc(1, sizeof *g))) {
		*why = "IP fragments: out of memory: fragment refused";
		return NULL;
	}
	g->hash = hash;
	g->v6 = (uint8_t)f->v6;
	g->proto = f->v6 ? 0 : f->proto;
	g->context = d->context;
	g->id = f->id;
	uint32_t alen = f->v6 ? 16 : 4;
	memcpy(g->src, f->ip + (f->v6 ? 8 : 12), alen);
	memcpy(g->dst, f->ip + (f->v6 ? 24 : 16), alen);
	g->deadline_ns = d->opts->ts_ns + (f->v6 ? df->lim.timeout6_ns : df->lim.timeout4_ns);
	g->mem = sizeof *g;
	g->hnext = df->bucket[hash & (NBUCKET - 1)];
	df->bucket[hash & (NBUCKET - 1)] = g;
	g->older = df->newest;
	if (df->newest)
		df->newest->newer = g;
	else
		df->oldest = g;
	df->newest = g;
	df->ndgrams++;
	df->bytes += g->mem;
	return g;
}

/* Make room for one more element of an array of size bytes each. */
static int grow(void **arr, uint32_t *cap, uint32_t n, size_t size)
{
	if (n < *cap)
		return 0;
	uint32_t nc = *cap ? *cap * 2 : 4;
	void *na = realloc(*arr, (size_t)nc * size);
	if (!na)
		return -1;
	*arr = na;
	*cap = nc;
	return 0;
}

enum insert { INS_OK, INS_DUP, INS_OVERLAP, INS_NOMEM };

/*
 * Where [off, end) goes among the runs, as inet_frag_queue_insert() decides
 * (Linux 4.19 on): past the tail, it extends the last run if it starts where
 * that one ends, starts a run of its own if later, and overlaps if earlier;
 * elsewhere, inside one run it is a duplicate (ignored), across the edge of
 * one it overlaps, and in a gap it is a run of its own.
 */
static enum insert place_run(struct dgram *g, uint32_t off, uint32_t end)
{
	uint32_t i = g->nruns;
	if (g->nruns && end > g->runs[g->nruns - 1].end) {
		struct run *last = &g->runs[g->nruns - 1];
		if (off < last->end)
			return INS_OVERLAP;
		if (off == last->end) {
			last->end = end;
			return INS_OK;
		}
	} else if (g->nruns) {
		for (i = 0; i < g->nruns && g->runs[i].end <= off; i++)
			;
		/* i exists: end <= the last run's end and off < end */
		if (end > g->runs[i].start)
			return off >= g->runs[i].start && end <= g->runs[i].end ? INS_DUP : INS_OVERLAP;
	}
	if (grow((void **)&g->runs, &g->capruns, g->nruns, sizeof *g->runs) != 0)
		return INS_NOMEM;
	memmove(g->runs + i + 1, g->runs + i, (g->nruns - i) * sizeof *g->runs);
	g->runs[i] = (struct run){ off, end };
	g->nruns++;
	return INS_OK;
}

/* Keep a copy of the fragment's bytes, in offset order. */
static int store_frag(struct dgram *g, uint32_t off, uint32_t end, const uint8_t *data)
{
	if (grow((void **)&g->frags, &g->capfrags, g->nfrags, sizeof *g->frags) != 0)
		return -1;
	uint8_t *copy = malloc(end - off);
	if (!copy)
		return -1;
	memcpy(copy, data, end - off);
	uint32_t i = g->nfrags;
	while (i > 0 && g->frags[i - 1].off > off)
		i--;
	memmove(g->frags + i + 1, g->frags + i, (g->nfrags - i) * sizeof *g->frags);
	g->frags[i] = (struct frag){ off, end, copy };
	g->nfrags++;
	return 0;
}

/*
 * Where this fragment says the datagram ends, checked as ip_frag_queue()
 * and ip6_frag_queue() check it. 0, or -1 when the datagram must go (a
 * second last fragment that disagrees, bytes past the known end, an empty
 * fragment), or -2 when only this fragment must (IPv6's not a multiple of 8).
 */
static int check_end(struct dgram *g, const struct frag_in *f, uint32_t *end)
{
	if (!f->more) {
		if (*end < g->len || (g->last_in && *end != g->len))
			return -1;
		g->last_in = 1;
		g->len = *end;
	} else {
		if (*end & 7) {
			if (f->v6) /* RFC 8200 4.5: a parameter problem; the datagram stays */
				return -2;
			*end &= ~7u; /* IPv4: Linux trims it to a multiple of 8 */
		}
		if (*end > g->len) {
			if (g->last_in)
				return -1;
			g->len = *end;
		}
	}
	return *end == f->off ? -1 : 0;
}

/* The whole datagram, decoded as if it had come in one packet. */
static enum tp_dec_result reassemble(struct dctx *d, struct tp_defrag *df, struct dgram *g)
{
	uint32_t hlen = g->v6 ? 40 : g->hlen, total = hlen + g->len;
	if ((g->v6 ? g->len : total) > IP_MAXLEN) {
		drop_dgram(df, g, &d->st->frag.inconsistent);
		return dec_fail(d, TP_DEC_FRAG_DROPPED, "IP fragments: reassembled datagram over 65535 bytes: dropped");
	}
	uint8_t *buf = malloc(total);
	if (!buf) {
		drop_dgram(df, g, &d->st->frag.inconsistent);
		return dec_fail(d, TP_DEC_FRAG_DROPPED, "IP fragments: out of memory reassembling: dropped");
	}
	memcpy(buf, g->ip, hlen);
	for (uint32_t i = 0; i < g->nfrags; i++)
		memcpy(buf + hlen + g->frags[i].off, g->frags[i].data, g->frags[i].end - g->frags[i].off);
	/* The first fragment's header, made whole: its extension headers
	 * before the fragment header (IPv6) are left out; nothing after the
	 * IP layer depends on them. */
	if (g->v6) {
		buf[4] = (uint8_t)(g->len >> 8);
		buf[5] = (uint8_t)g->len;
		buf[6] = g->nh;
	} else {
		buf[2] = (uint8_t)(total >> 8);
		buf[3] = (uint8_t)total;
		buf[6] = buf[7] = 0;
	}
	int v6 = g->v6;
	d->st->frag.reassembled++;
	drop_dgram(df, g, NULL);
	d->complete = 1;
	enum tp_dec_result r = v6 ? tp_dec_ipv6(d, buf, total) : tp_dec_ipv4(d, buf, total);
	free(buf);
	return r;
}

/* The fragment's bytes kept in the datagram, where the runs say; 0, or the
 * result for a fragment that is not kept (and maybe its datagram with it). */
static enum tp_dec_result keep(struct dctx *d, struct tp_defrag *df, struct dgram *g, const struct frag_in *f,
                               uint32_t end, uint64_t cost)
{
	switch (place_run(g, f->off, end)) {
	case INS_DUP: return dec_fail(d, TP_DEC_FRAGMENT, "IP fragments: duplicate fragment: ignored");
	case INS_OVERLAP:
		/* RFC 5722 (IPv6), and Linux for IPv4 too since 4.19: an overlap
		 * may be an attempt to make the host and a monitor read different
		 * bytes, so the whole datagram is dropped, as the host drops it. */
		drop_dgram(df, g, &d->st->frag.overlapping);
		return dec_fail(d, TP_DEC_FRAG_DROPPED,
		                "IP fragments: overlapping fragments: datagram dropped (as Linux does)");
	case INS_NOMEM: break;
	case INS_OK:
		if (store_frag(g, f->off, end, f->data) == 0) {
			g->mem += cost;
			df->bytes += cost;
			g->meat += end - f->off;
			return TP_DEC_SEGMENT;
		}
		break;
	}
	/* check_end already moved the datagram's end: it cannot be trusted */
	drop_dgram(df, g, &d->st->frag.inconsistent);
	return dec_fail(d, TP_DEC_FRAG_DROPPED, "IP fragments: out of memory: datagram dropped");
}

enum tp_dec_result tp_defrag_add(struct dctx *d, const struct frag_in *f)
{
	struct tp_defrag *df = d->opts->defrag;
	const char *why = NULL;
	struct dgram *g = lookup(d, df, f, &why);
	if (!g)
		return dec_fail(d, TP_DEC_FRAG_DROPPED, why);
	/* before check_end, which moves the datagram's end: a refused
	 * fragment leaves no trace */
	uint64_t cost = f->len + sizeof(struct frag) + sizeof(struct run);
	if (df->bytes + cost > df->lim.max_bytes) {
		d->st->frag.over_bytes++;
		return dec_fail(d, TP_DEC_FRAG_DROPPED,
		                "IP fragments: reassembly memory full (a fragment flood?): fragment refused");
	}
	uint32_t end = f->off + f->len;
	int bad = check_end(g, f, &end);
	if (bad == -2)
		return dec_fail(d, TP_DEC_FRAG_DROPPED, "IPv6: fragment not a multiple of 8 bytes: dropped");
	if (bad) {
		drop_dgram(df, g, &d->st->frag.inconsistent);
		return dec_fail(d, TP_DEC_FRAG_DROPPED, "IP fragments: ends disagree or empty fragment: datagram dropped");
	}
	enum tp_dec_result r = keep(d, df, g, f, end, cost);
	if (r != TP_DEC_SEGMENT)
		return r;
	if (f->off == 0) { /* the header the whole datagram will have */
		g->first_in = 1;
		memcpy(g->ip, f->ip, f->hlen);
		g->hlen = f->hlen;
		g->nh = f->proto;
	}
	if (g->first_in && g->last_in && g->meat == g->len)
		return reassemble(d, df, g);
	return dec_fail(d, TP_DEC_FRAGMENT, "IP fragments: fragment held for reassembly");
}
