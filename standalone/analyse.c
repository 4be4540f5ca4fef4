/*
 * analyse.c - one analysis run (analyse.h): a capture file read on a thread
 * of its own and decoded ahead, or a live interface through libpcap; the
 * core fed; its verdicts, records and alerts written (output.c) or handed
 * to a picture subcommand's hooks.
 */
#define _DEFAULT_SOURCE /* u_char in pcap.h, sigaction */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "analyse.h"
#include "capfile.h"
#include "capset.h"
#include "decode.h"
#include "defrag.h"
#include "handoff.h"
#include "output.h"
#include "spill.h"
#include "subcmd.h"
#include "tcpphase.h"

#define MAX_WARNINGS 20

/* The one piece of process-wide state: set by SIGINT/SIGTERM, read by the
 * loop and by read_file's reading thread (atomic: lock-free, so a signal
 * handler may store it, and no data race between the threads). */
static atomic_int g_stop;
static pcap_t *g_live;

/*
 * --segments: verdicts held until no late verdict can change them. Those
 * of frames below tp_settled_below() are written as the capture goes on
 * (stream); with --conns too, all wait for the end, where they have always
 * followed the connection records.
 */
struct segbuf {
	struct tp_verdict *v;   /* a ring: cap is 0 or a power of two */
	size_t head, n, cap;    /* held: n verdicts from v[head] on, in frame order */
	int stream;
	uint64_t written_below; /* frames below it are written */
	size_t since_check;     /* verdicts held since tp_settled_below was asked */
	size_t backoff;         /* how many times the last questions freed little */
	time_t checked;
};

struct run {
	const char *source; /* the file, the set of files ("3 files: ..."), or the interface */
	int linktype;
	int live_ts_scale; /* nanoseconds per unit of a live packet's tv_usec */
	int write_errno;   /* why writing the records failed first (sub_flush) */
	int64_t stats_every_ns, stats_due_ns; /* live: --stats-every, and the next one (wall clock) */
	struct tp_analyzer *an;
	struct out out;
	struct tp_decode_opts dopts;
	struct tp_decode_stats dstats;
	struct tp_defrag *defrag; /* IP reassembly: the reading thread's, as is the decoding */
	int frag_flood;           /* warned that many incomplete datagrams are held */
	struct segbuf segs;
	uint64_t packets, read_errors;
	uint64_t filtered;      /* packets the -f filter left out */
	int damaged;            /* a damaged record was met (SUB_EXIT_DAMAGED) */
	_Atomic uint64_t warnings; /* counted by both of read_file's threads */
	/* The packet being decoded, as its own file numbers it (the reading
	 * thread's): warnings name it so that a user finds it in that file. */
	const char *cur_file;
	uint64_t cur_packet;
	int seed_given;         /* --seed or --deterministic-uids: not the capture's own */
	int progress;
	struct capset *cs;      /* the files read, or NULL */
	pcap_t *live;           /* the interface captured on, or NULL */
	time_t last_progress;
	const char *filter;
	struct bpf_for { /* the filter, compiled for each link type met */
		int linktype, ok;
		struct bpf_program prog;
	} bpf[8];
	int nbpf;
	int warned_lt[8], nwarned_lt; /* link types already warned unsupported */
	uint32_t shard_k, shard_n;    /* --shard K/N: only these connections */
	uint64_t other_shard;
	const struct sub_hooks *hooks; /* a picture subcommand's, instead of out (sub_analyse) */
};

/* The i-th verdict held. */
static struct tp_verdict *segbuf_at(const struct segbuf *b, size_t i)
{
	return &b->v[(b->head + i) & (b->cap - 1)];
}

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno; /* pcap_breakloop may write to a descriptor */
	g_stop = 1;
	if (g_live)
		pcap_breakloop(g_live);
	errno = saved;
}

static void cb_amend(void *user, const struct tp_amend *a)
{
	struct run *r = user;
	struct segbuf *b = &r->segs;
	if (!r->out.segments)
		return;
	/* The core promised: nothing written is ever amended. */
	assert(a->frame >= b->written_below);
	size_t lo = 0, hi = b->n; /* verdicts are in frame order */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (segbuf_at(b, mid)->frame < a->frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < b->n && segbuf_at(b, lo)->frame == a->frame)
		tp_verdict_amend(segbuf_at(b, lo), a);
}

static void cb_conn(void *user, const struct tp_conn_record *rec)
{
	struct run *r = user;
	if (r->out.conns)
		out_conn(&r->out, rec);
}

static void cb_flood(void *user, const struct tp_flood *f)
{
	out_flood(&((struct run *)user)->out, f);
}

static int segbuf_push(struct segbuf *b, const struct tp_verdict *v)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		struct tp_verdict *nv = realloc(b->v, cap * sizeof *nv);
		if (!nv)
			return -1;
		/* The part that had wrapped around goes after the old end. */
		memcpy(nv + b->cap, nv, b->head * sizeof *nv);
		b->v = nv;
		b->cap = cap;
	}
	*segbuf_at(b, b->n++) = *v;
	return 0;
}

/* Write the verdicts held for frames below below; how many. */
static size_t segbuf_write_below(struct run *r, uint64_t below)
{
	struct segbuf *b = &r->segs;
	size_t written = 0;
	for (; b->n && segbuf_at(b, 0)->frame < below; written++) {
		const struct tp_verdict *v = segbuf_at(b, 0);
		out_segment(&r->out, v);
		b->written_below = v->frame + 1;
		b->head = (b->head + 1) & (b->cap - 1);
		b->n--;
	}
	return written;
}

/* Write the verdicts no amendment can change any more. */
static void segbuf_write_settled(struct run *r)
{
	struct segbuf *b = &r->segs;
	size_t written = segbuf_write_below(r, tp_settled_below(r->an));
	/* Little written (a capture shorter than the TIME-WAIT linger, a flood
	 * of connections in their handshake): ask less often. */
	if (written < b->since_check / 2) {
		if (b->backoff < 8)
			b->backoff++;
	} else {
		b->backoff = 0;
	}
	b->since_check = 0;
	b->checked = time(NULL);
}

/* The fewest verdicts between two questions to the core. The tests' sanitizer
 * build asks after every one (-DTP_SETTLED_EVERY=1), so that each capture's
 * --segments output there is written as it streams, in the smallest steps. */
#ifndef TP_SETTLED_EVERY
#define TP_SETTLED_EVERY 16384
#endif

/* Ask the core now and then: its answer costs a walk over the connections
 * in their handshake or half-closed, so at most about one per segment. On a
 * live capture, also once a second, so that a quiet link still streams. */
static void segbuf_maybe_write(struct run *r, int live)
{
	struct segbuf *b = &r->segs;
	if (!b->stream || !b->n)
		return;
	uint64_t every = tp_stats(r->an)->conns_active;
	if (every < TP_SETTLED_EVERY)
		every = TP_SETTLED_EVERY;
	if (b->since_check >= every << b->backoff || (live && time(NULL) != b->checked))
		segbuf_write_settled(r);
}

static void warn_packet_n(struct run *r, const char *file, uint64_t packet, const char *what)
{
	uint64_t n = ++r->warnings;
	if (n <= MAX_WARNINGS)
		fprintf(stderr, "tcpphase: %s: packet %" PRIu64 ": %s\n", file, packet, what);
	if (n == MAX_WARNINGS)
		fprintf(stderr, "tcpphase: %s: further packet warnings are only counted (see the summary)\n",
		        file);
}

/* About the packet just read. */
static void warn_packet(struct run *r, const char *what)
{
	warn_packet_n(r, r->cur_file, r->cur_packet, what);
}

/* A damaged record (cs_damaged_fn): said, counted, and read past. */
static void on_damaged(void *user, const char *file, const char *what)
{
	struct run *r = user;
	fprintf(stderr, "tcpphase: %s: %s\n", file, what);
	r->read_errors++;
	r->damaged = 1;
}

static void progress(struct run *r)
{
	time_t now = time(NULL);
	if (now == r->last_progress || !r->cs || !cs_size(r->cs))
		return;
	r->last_progress = now;
	fprintf(stderr, "\rtcpphase: %s: %" PRIu64 " packets, %3.0f%%", r->source, r->packets,
	        100.0 * (double)cs_offset(r->cs) / (double)cs_size(r->cs));
}

/* Warn about an unsupported link type once per link type. */
static void warn_unsupported(struct run *r, int linktype, const char *why)
{
	for (int i = 0; i < r->nwarned_lt; i++)
		if (r->warned_lt[i] == linktype)
			return;
	if (r->nwarned_lt < (int)(sizeof r->warned_lt / sizeof r->warned_lt[0]))
		r->warned_lt[r->nwarned_lt++] = linktype;
	char msg[160];
	snprintf(msg, sizeof msg, "%s (link type %d); such packets are counted from now on",
	         why ? why : "unsupported", linktype);
	warn_packet(r, msg);
}

/*
 * Many incomplete datagrams held at once: a fragment flood, or a capture
 * that misses one direction's fragments. Said once when the count reaches
 * FRAG_FLOOD (a quarter of the reassembly's cap, so that it comes before
 * fragments are refused), and again only after it fell below half of that.
 */
#define FRAG_FLOOD 1024

static void watch_fragments(struct run *r)
{
	uint32_t held = tp_defrag_datagrams(r->defrag);
	if (held < FRAG_FLOOD / 2)
		r->frag_flood = 0;
	if (held < FRAG_FLOOD || r->frag_flood)
		return;
	r->frag_flood = 1;
	char msg[160];
	snprintf(msg, sizeof msg, "IP fragments: %u incomplete datagrams held (a fragment flood?)", held);
	warn_packet(r, msg);
}

/* What one packet asks of the analyzer, decoded ahead of being fed. */
struct work {
	enum { W_NONE, W_SEGMENT, W_ADVANCE } kind;
	uint32_t hash; /* with W_SEGMENT: tp_segment_hash's */
	struct tp_segment seg;
};

/* Decode one packet into *w (or warn about it): everything but the feeding,
 * and nothing the feeding changes, so that it may run on a thread of its
 * own (read_file). */
static void decode_packet(struct run *r, int linktype, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen,
                          int64_t ts_ns, struct work *w)
{
	const char *why = NULL;
	w->kind = W_NONE;
	if (r->progress && (r->packets & 0xffff) == 0)
		progress(r);
	r->dopts.wirelen = wirelen;
	r->dopts.ts_ns = ts_ns;
	enum tp_dec_result res = tp_decode(linktype, bytes, caplen, &r->dopts, &w->seg, &r->dstats, &why);
	if (res != TP_DEC_SEGMENT) {
		if (res == TP_DEC_TRUNCATED || res == TP_DEC_MALFORMED || res == TP_DEC_FRAG_DROPPED)
			warn_packet(r, why ? why : tp_dec_result_name(res));
		else if (res == TP_DEC_UNSUPPORTED)
			warn_unsupported(r, linktype, why);
		if (res == TP_DEC_FRAGMENT)
			watch_fragments(r);
		return;
	}
	w->seg.frame = r->packets;
	w->seg.ts_ns = ts_ns;
	if (r->shard_n && tp_shard_of(&w->seg, r->shard_n) != r->shard_k) {
		r->other_shard++;
		w->kind = W_ADVANCE; /* time still passes for this shard's timers */
		return;
	}
	w->kind = W_SEGMENT;
	w->hash = tp_segment_hash(r->an, &w->seg);
}

static void feed_work(struct run *r, const struct work *w)
{
	if (w->kind == W_ADVANCE) {
		tp_advance(r->an, w->seg.ts_ns);
		return;
	}
	if (w->kind != W_SEGMENT)
		return;
	struct tp_verdict v;
	out_first_time(&r->out, w->seg.ts_ns);
	tp_feed_prefetched(r->an, &w->seg, w->hash, &v);
	if (r->out.segments) {
		if (segbuf_push(&r->segs, &v) != 0)
			warn_packet_n(r, r->source, w->seg.frame, "out of memory holding segment verdicts"); /* read ahead */
		r->segs.since_check++;
		segbuf_maybe_write(r, 0);
	}
	if (r->hooks && r->hooks->segment)
		r->hooks->segment(r->hooks->user, r->an, &w->seg, &v);
}

static void process(struct run *r, int linktype, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen,
                    int64_t ts_ns)
{
	struct work w;
	decode_packet(r, linktype, bytes, caplen, wirelen, ts_ns, &w);
	feed_work(r, &w);
}

/* Live capture: libpcap has applied the filter. */
static void handle_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct run *r = (struct run *)user;
	r->cur_packet = ++r->packets;
	/* With nanosecond precision granted, tv_usec holds nanoseconds. */
	int64_t ts_ns = (int64_t)h->ts.tv_sec * 1000000000LL + (int64_t)h->ts.tv_usec * r->live_ts_scale;
	/* No record is written before the first packet: its uid seed is in time. */
	if (r->packets == 1 && !r->seed_given)
		r->out.uid_seed = tp_uid_seed(ts_ns, h->caplen, bytes);
	process(r, r->linktype, bytes, h->caplen, h->len, ts_ns);
}

/* Compile the filter for one link type; NULL with a message if it cannot. */
static struct bpf_for *bpf_for(struct run *r, int linktype, char *err, size_t errlen)
{
	for (int i = 0; i < r->nbpf; i++)
		if (r->bpf[i].linktype == linktype)
			return &r->bpf[i];
	if (r->nbpf == (int)(sizeof r->bpf / sizeof r->bpf[0]))
		return NULL;
	struct bpf_for *b = &r->bpf[r->nbpf++];
	b->linktype = linktype;
	/* Files carry LINKTYPE_ values, libpcap wants DLT_ ones: they differ
	 * only below 104, for raw IP and ATM. */
	int dlt = linktype == 101 ? DLT_RAW : linktype == 100 ? DLT_ATM_RFC1483 : linktype;
	pcap_t *dead = pcap_open_dead(dlt, 262144);
	b->ok = dead && pcap_compile(dead, &b->prog, r->filter, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (!b->ok)
		snprintf(err, errlen, "%s", dead ? pcap_geterr(dead) : "out of memory");
	if (dead)
		pcap_close(dead);
	return b;
}

/* A file's packet passes the filter: compiled for the packet's own link
 * type, since one pcapng can hold several. */
static int filter_match(struct run *r, const struct cf_packet *pk)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct bpf_for *b = bpf_for(r, pk->linktype, err, sizeof err);
	if (!b || !b->ok) {
		char msg[PCAP_ERRBUF_SIZE + 80];
		snprintf(msg, sizeof msg, "the filter cannot apply to link type %d (%s): its packets are skipped",
		         pk->linktype, b ? err : "too many link types");
		if (b && b->ok == 0) {
			b->ok = -1; /* warned */
			warn_packet(r, msg);
		}
		return 0;
	}
	struct pcap_pkthdr h = { .caplen = pk->caplen, .len = pk->origlen };
	return pcap_offline_filter(&b->prog, &h, pk->data) != 0;
}

/*
 * Files are read and decoded on a second thread (handoff.c) while this one
 * feeds the analyzer and writes: on the mixed benchmark the reading (the
 * kernel's copy, the record headers, the decoding and the hashing) is about
 * a third of the work. Packets go over in batches, each a slot of a ring.
 * A pipe (tcpdump -w - | tcpphase -r -) is read here a packet at a time, as
 * before: a batch would hold back what has arrived until more comes.
 */
#define BATCH 1024
#define NBATCH 4

struct batch {
	unsigned n;
	struct work w[BATCH];
};

struct reader {
	struct run *r;
	unsigned batch; /* packets per batch: BATCH, or 1 from a pipe */
	struct batch b[NBATCH];
};

/* Read and decode the next packet into *w; nonzero at the end (or Ctrl-C). */
static int read_packet(struct reader *rd, struct work *w)
{
	struct run *r = rd->r;
	w->kind = W_NONE;
	if (g_stop)
		return 1;
	struct cs_packet cp;
	if (cs_next(r->cs, &cp) != 0) /* damaged records were said and skipped (on_damaged) */
		return 1;
	const struct cf_packet *pk = &cp.p;
	r->packets++;
	r->cur_file = cp.file;
	r->cur_packet = cp.packet;
	if (!r->filter || filter_match(r, pk))
		decode_packet(r, pk->linktype, pk->data, pk->caplen, pk->origlen, pk->ts_ns, w);
	else
		r->filtered++;
	return 0;
}

/* handoff_fill_fn: a batch of packets that ask something of the analyzer. */
static int fill_batch(void *arg, unsigned slot)
{
	struct reader *rd = arg;
	struct batch *b = &rd->b[slot];
	int end = 0;
	for (b->n = 0; b->n < rd->batch && !end;) {
		end = read_packet(rd, &b->w[b->n]);
		if (b->w[b->n].kind != W_NONE)
			b->n++;
	}
	return end;
}

/*
 * Read a file to its end (or Ctrl-C); SUB_EXIT_DAMAGED if a record was damaged.
 * Packets are fed two behind the newest taken, and the analyzer is told
 * what it will look up (tp_prefetch_bucket, then tp_prefetch_conn), so that
 * the memory it needs arrives while it works on the packets before.
 */
#define AHEAD 3 /* ring of decoded packets: fed, next, taken just now */
static int read_file(struct run *r)
{
	struct reader *rd = calloc(1, sizeof *rd);
	struct handoff *h = rd ? handoff_new(NBATCH, fill_batch, rd) : NULL;
	if (!h) {
		free(rd);
		fprintf(stderr, "tcpphase: %s: out of memory\n", r->source);
		return SUB_EXIT_INPUT;
	}
	rd->r = r;
	rd->batch = cs_size(r->cs) ? BATCH : 1;
	if (rd->batch > 1)
		handoff_start(h); /* if no thread can start, the batches are read here */
	struct work w[AHEAD];
	unsigned i = 0;
	for (unsigned k = 0; k < AHEAD; k++)
		w[k].kind = W_NONE;
	for (int slot; (slot = handoff_take(h)) >= 0; handoff_release(h)) {
		const struct batch *b = &rd->b[slot];
		for (unsigned k = 0; k < b->n; k++, i++) {
			struct work *now = &w[(i + 2) % AHEAD], *next = &w[(i + 1) % AHEAD], *fed = &w[i % AHEAD];
			*now = b->w[k];
			if (now->kind == W_SEGMENT)
				tp_prefetch_bucket(r->an, now->hash);
			if (next->kind == W_SEGMENT)
				tp_prefetch_conn(r->an, next->hash);
			feed_work(r, fed);
			fed->kind = W_NONE;
		}
	}
	for (unsigned k = 0; k < AHEAD; k++)
		feed_work(r, &w[(i + k) % AHEAD]);
	handoff_free(h);
	free(rd);
	return r->damaged ? SUB_EXIT_DAMAGED : SUB_EXIT_OK;
}


/* Nothing but the file's name: "-" is standard input. */
static const char *source_name(const char *file)
{
	return strcmp(file, "-") == 0 ? "<stdin>" : file;
}

/* The analyzer, with a store for lingering connections unless --no-spill;
 * -1 after a message. cb must be complete but for the store. */
static int start_analyzer(struct run *r, const struct sub_analysis *an, struct tp_callbacks *cb, struct spill *sp)
{
	spill_init(sp, an, r->source, cb);
	if (!(r->an = tp_analyzer_new(&an->cfg, cb))) {
		fprintf(stderr, "tcpphase: out of memory\n");
		return -1;
	}
	/* Only a big file takes long enough to be worth a progress line. */
	if (r->cs)
		r->progress = isatty(STDERR_FILENO) && cs_size(r->cs) > (uint64_t)64 << 20;
	return 0;
}

/* Reassembly state, for the packets of this run only; -1 after a message. */
static int start_defrag(struct run *r, const struct sub_analysis *an)
{
	struct tp_defrag_limits lim;
	tp_defrag_default_limits(&lim);
	if (an->frag_timeout_ns)
		lim.timeout4_ns = lim.timeout6_ns = an->frag_timeout_ns;
	if (!(r->defrag = tp_defrag_new(&lim))) {
		fprintf(stderr, "tcpphase: out of memory\n");
		return -1;
	}
	r->dopts.defrag = r->defrag;
	return 0;
}

/* After the last packet, interrupted or not: settle every connection, so
 * that nothing seen is lost. */
static void end_input(struct run *r)
{
	if (r->progress)
		fprintf(stderr, "\r%60s\r", "");
	tp_defrag_finish(r->defrag, &r->dstats);
	tp_finish(r->an);
}

/* The warnings past MAX_WARNINGS were only counted: say how many. */
static void warn_total(const struct run *r)
{
	if (r->warnings > MAX_WARNINGS)
		fprintf(stderr, "tcpphase: %s: %" PRIu64 " packet warnings in all\n", r->source, (uint64_t)r->warnings);
}

/* ---- tcpphase -r FILE | -i IFACE: the records written ---------------------- */

static void run_init_cli(struct run *r, const struct cli_run *c)
{
	memset(r, 0, sizeof *r);
	r->source = c->iface; /* a set of files names itself once open */
	r->seed_given = c->an->uid_seed_given;
	r->out.uid_seed = c->an->cfg.uid_seed;
	r->out.f = c->f;
	r->out.fmt = c->fmt;
	r->out.color = c->color;
	r->out.time = c->time;
	r->out.segments = c->segments;
	r->out.conns = c->conns;
	r->out.only = c->only;
	/* With connection records too, the segments wait for the end, where
	 * they have always followed them. */
	r->segs.stream = c->segments && !c->conns;
	r->dopts.verify_checksums = c->an->verify_checksums;
	r->shard_k = c->shard_k;
	r->shard_n = c->shard_n;
	r->stats_every_ns = c->stats_every_ns;
}

/* The interface opened for capture, or NULL with the reason in err and
 * *perm_denied set if it was refused for want of privileges. */
static pcap_t *open_live(const char *iface, char *err, int *perm_denied)
{
	pcap_t *p = pcap_create(iface, err);
	if (!p)
		return NULL;
	/* Before activation these fail only on a handle already active; a
	 * device without nanosecond stamps keeps microseconds, which
	 * handle_packet scales (live_ts_scale). */
	if (pcap_set_snaplen(p, 262144) || pcap_set_promisc(p, 1) || pcap_set_timeout(p, 200)) {
		snprintf(err, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	(void)!pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(err, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
		*perm_denied = rc == PCAP_ERROR_PERM_DENIED || strstr(err, "Operation not permitted") ||
		                   strstr(err, "ermission denied");
		pcap_close(p);
		return NULL;
	}
	/* Non-blocking, waited for with poll() (read_live): with TPACKET_V3 a
	 * blocking read on an idle link waits for the next packet however
	 * long, and the clock could not move. */
	if (pcap_setnonblock(p, 1, err) != 0 || pcap_get_selectable_fd(p) < 0) {
		if (pcap_get_selectable_fd(p) < 0)
			snprintf(err, PCAP_ERRBUF_SIZE, "%s", "cannot wait for packets on this interface");
		pcap_close(p);
		return NULL;
	}
	return p;
}

/* The files as one capture (capset.c), named for messages and the summary. */
static struct capset *open_files(struct run *r, const char *const *files, size_t n, const atomic_int *stop,
                                 char *err, size_t errlen)
{
	struct capset *cs = cs_open(files, n, stop, on_damaged, r, err, errlen);
	if (cs)
		r->source = source_name(cs_name(cs));
	return cs;
}

/* After a capture refused for want of privileges (a user without
 * CAP_NET_RAW: libpcap's "socket: Operation not permitted"), the two ways
 * to be allowed: file capabilities on this binary, or dumpcap, which
 * Debian lets the wireshark group run, piping into -r -. */
static void print_capture_hint(const char *iface)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	const char *bin = "$(command -v tcpphase)";
	if (n > 0) {
		self[n] = '\0';
		/* a path the shell takes as it is, or the command that finds it */
		if (strspn(self, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-") == (size_t)n)
			bin = self;
	}
	fprintf(stderr,
	        "tcpphase: hint: capturing needs CAP_NET_RAW and CAP_NET_ADMIN (root has them): "
	        "sudo setcap cap_net_raw,cap_net_admin+eip %s; or, in the wireshark group: "
	        "dumpcap -i %s -w - | tcpphase -r -\n",
	        bin, iface);
}

/* The file or the interface; SUB_EXIT_INPUT after a message if it cannot
 * be opened. */
static int open_input(struct run *r, const struct cli_run *c)
{
	char err[PCAP_ERRBUF_SIZE + 1024] = "";
	int perm_denied = 0;
	if (c->nfiles) {
		/* Ctrl-C ends a wait for a pipe's writer (g_stop) */
		if (!(r->cs = open_files(r, c->files, c->nfiles, &g_stop, err, sizeof err))) {
			fprintf(stderr, "tcpphase: %s\n", err);
			return SUB_EXIT_INPUT;
		}
	} else if (!(r->live = open_live(c->iface, err, &perm_denied))) {
		fprintf(stderr, "tcpphase: %s: %s\n", r->source, err);
		if (perm_denied)
			print_capture_hint(c->iface);
		return SUB_EXIT_INPUT;
	}
	r->linktype = r->live ? pcap_datalink(r->live) : cs_linktype(r->cs);
	if (r->live)
		r->live_ts_scale = pcap_get_tstamp_precision(r->live) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
	return SUB_EXIT_OK;
}

static int set_live_filter(pcap_t *p, const char *filter)
{
	struct bpf_program prog;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(p, &prog) != 0) {
		fprintf(stderr, "tcpphase: filter '%s': %s\n", filter, pcap_geterr(p));
		return SUB_EXIT_USAGE;
	}
	pcap_freecode(&prog);
	return SUB_EXIT_OK;
}

/* libpcap filters a live capture itself; a file's packets are matched one
 * by one (filter_match). SUB_EXIT_USAGE after a message if the filter does
 * not compile. */
static int set_filter(struct run *r, const char *filter)
{
	if (!filter || !*filter)
		return SUB_EXIT_OK;
	r->filter = filter;
	if (r->live)
		return set_live_filter(r->live, filter);
	/* A file: check the filter now, for its first link type (Ethernet
	 * when a pcapng has not described an interface yet), rather than warn
	 * on its first packet. */
	char err[PCAP_ERRBUF_SIZE] = "";
	struct bpf_for *b = bpf_for(r, r->linktype >= 0 ? r->linktype : DLT_EN10MB, err, sizeof err);
	if (b && !b->ok) {
		fprintf(stderr, "tcpphase: filter '%s': %s\n", filter, err);
		return SUB_EXIT_USAGE;
	}
	return SUB_EXIT_OK;
}

static void catch_signals(pcap_t *live)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* A write to a full pipe goes on after the signal: stdio would
	 * otherwise take the EINTR for an error and drop what it held. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	g_live = live;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * A live capture's clock moves with the wall clock, not only with packets:
 * on an idle link no packet would ever move it, and closed or timed-out
 * connections would wait for the next packet to be written. Packets are
 * stamped by the kernel from the same clock; the margin leaves time for
 * those still in libpcap's buffer (its timeout is 200 ms) to arrive
 * before the analyzer's clock passes them.
 */
#define LIVE_CLOCK_MARGIN_NS 1000000000LL
#define LIVE_WAIT_MS 200

static void live_tick(struct run *r)
{
	int64_t now = wall_ns();
	tp_advance(r->an, now - LIVE_CLOCK_MARGIN_NS);
	if (r->stats_every_ns && now >= r->stats_due_ns) {
		out_progress(&r->out, tp_stats(r->an), r->packets, now);
		r->stats_due_ns = now + r->stats_every_ns;
	}
}

/*
 * After Ctrl-C: what the kernel already holds was captured too. A pending
 * pcap_breakloop makes one call return at once; the others read until
 * nothing is left (the handle does not block), within a bound in case the
 * link is still busy.
 */
static void drain_live(struct run *r)
{
	for (int i = 0; i < 1000; i++) {
		int n = pcap_dispatch(r->live, -1, handle_packet, (u_char *)r);
		if (n == 0 || n == PCAP_ERROR)
			return;
	}
}

/* Capture until Ctrl-C; SUB_EXIT_DAMAGED after a read error, once what was
 * read is analysed. The wait ends at least every LIVE_WAIT_MS, packets or
 * not, so the clock moves on an idle link too. */
static int read_live(struct run *r)
{
	r->stats_due_ns = wall_ns() + r->stats_every_ns;
	struct pollfd pfd = { .fd = pcap_get_selectable_fd(r->live), .events = POLLIN };
	for (;;) {
		poll(&pfd, 1, LIVE_WAIT_MS); /* Ctrl-C ends it: poll is never restarted */
		int n = pcap_dispatch(r->live, -1, handle_packet, (u_char *)r);
		if (n == PCAP_ERROR_BREAK || g_stop) {
			drain_live(r);
			return SUB_EXIT_OK;
		}
		if (n == PCAP_ERROR) {
			fprintf(stderr, "tcpphase: %s: after packet %" PRIu64 ": %s; analysing what was read\n", r->source,
			        r->packets, pcap_geterr(r->live));
			r->read_errors++;
			return SUB_EXIT_DAMAGED;
		}
		live_tick(r);
		segbuf_maybe_write(r, 1);
		/* A quiet link still shows its records as they settle, in a file
		 * (-w) as on a terminal. */
		if (sub_flush(r->out.f, &r->write_errno) != 0)
			return SUB_EXIT_OK; /* nowhere left to write: main says why */
	}
}

/* What end_input settled, and the summary. */
static void report(struct run *r, int summary)
{
	segbuf_write_below(r, UINT64_MAX); /* all settled now */
	struct out_run_info ri = { .source = r->source, .packets = r->packets, .read_errors = r->read_errors,
	                           .dec = &r->dstats, .interrupted = g_stop != 0,
	                           .filter = r->filter, .filtered = r->filtered,
	                           .shard_k = r->shard_k, .shard_n = r->shard_n, .other_shard = r->other_shard };
	if (r->live) {
		struct pcap_stat ps;
		if (pcap_stats(r->live, &ps) == 0)
			ri.pcap_drops = ps.ps_drop;
	}
	if (summary)
		out_summary(&r->out, tp_stats(r->an), &ri);
	warn_total(r);
	sub_flush(r->out.f, &r->write_errno);
}

/*
 * The uids' seed: the user's, else a hash of the capture's first packet
 * (frame 1, after the files are put in time order), which the plugin sees
 * too. A live capture learns it from its first packet (handle_packet).
 */
static uint64_t uid_seed(struct run *r, const struct sub_analysis *an)
{
	struct cs_packet pk;
	if (an->uid_seed_given || !r->cs || cs_peek(r->cs, &pk) != 0)
		return an->cfg.uid_seed;
	return tp_uid_seed(pk.p.ts_ns, pk.p.caplen, pk.p.data);
}

/* The opened input, analysed to its end. */
static int analyse_input(struct run *r, const struct cli_run *c)
{
	struct tp_callbacks cb = { .user = r, .amend = cb_amend, .conn = cb_conn, .flood = cb_flood };
	struct spill sp;
	catch_signals(r->live);
	struct sub_analysis an = *c->an;
	an.cfg.uid_seed = r->out.uid_seed = uid_seed(r, c->an);
	if (start_defrag(r, &an) != 0 || start_analyzer(r, &an, &cb, &sp) != 0)
		return SUB_EXIT_INPUT; /* close_input frees the reassembly state */
	int rc = r->cs ? read_file(r) : read_live(r);
	if (r->damaged) /* also before the first packet (uid_seed's peek) */
		rc = SUB_EXIT_DAMAGED;
	end_input(r);
	report(r, c->summary);
	tp_analyzer_free(r->an);
	spill_close(&sp);
	return rc;
}

static void close_input(struct run *r)
{
	free(r->segs.v);
	tp_defrag_free(r->defrag);
	for (int i = 0; i < r->nbpf; i++)
		if (r->bpf[i].ok == 1)
			pcap_freecode(&r->bpf[i].prog);
	if (r->live)
		pcap_close(r->live);
	cs_close(r->cs);
}

int analyse_cli(const struct cli_run *c, int *write_errno)
{
	struct run r;
	run_init_cli(&r, c);
	int rc = open_input(&r, c);
	if (rc != SUB_EXIT_OK)
		return rc;
	rc = set_filter(&r, c->filter);
	if (rc == SUB_EXIT_OK)
		rc = analyse_input(&r, c);
	close_input(&r);
	*write_errno = r.write_errno;
	return rc;
}

/* ---- the picture subcommands: the hooks instead of the records ------------- */

static void hook_amend(void *user, const struct tp_amend *a)
{
	const struct sub_hooks *h = ((struct run *)user)->hooks;
	if (h->amend)
		h->amend(h->user, a);
}

static void hook_conn(void *user, const struct tp_conn_record *rec)
{
	const struct sub_hooks *h = ((struct run *)user)->hooks;
	if (h->conn)
		h->conn(h->user, rec);
}

static void hook_flood(void *user, const struct tp_flood *f)
{
	const struct sub_hooks *h = ((struct run *)user)->hooks;
	if (h->flood)
		h->flood(h->user, f);
}

int sub_analyse(const char *file, const struct sub_analysis *an, const struct sub_hooks *h)
{
	struct run r;
	memset(&r, 0, sizeof r);
	char err[PCAP_ERRBUF_SIZE + 1024] = "";
	r.source = source_name(file);
	r.hooks = h;
	r.dopts.verify_checksums = an->verify_checksums;
	if (!(r.cs = open_files(&r, &file, 1, NULL, err, sizeof err))) {
		fprintf(stderr, "tcpphase: %s\n", err);
		return SUB_EXIT_INPUT;
	}
	r.linktype = cs_linktype(r.cs);
	struct tp_callbacks cb = { .user = &r, .amend = hook_amend, .conn = hook_conn, .flood = hook_flood };
	struct spill sp;
	struct sub_analysis a = *an;
	a.cfg.uid_seed = uid_seed(&r, an);
	if (h->uid_seed)
		h->uid_seed(h->user, a.cfg.uid_seed);
	if (start_defrag(&r, &a) != 0 || start_analyzer(&r, &a, &cb, &sp) != 0) {
		tp_defrag_free(r.defrag);
		cs_close(r.cs);
		return SUB_EXIT_INPUT;
	}
	int rc = read_file(&r);
	end_input(&r);
	if (h->finish)
		h->finish(h->user, r.an);
	warn_total(&r);
	tp_analyzer_free(r.an);
	tp_defrag_free(r.defrag);
	spill_close(&sp);
	cs_close(r.cs);
	return r.damaged ? SUB_EXIT_DAMAGED : rc;
}
