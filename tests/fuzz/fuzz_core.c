/*
 * fuzz_core.c - libFuzzer target for the analysis core (core/tcpphase.h).
 *
 * The input is a 4-byte configuration header followed by 8-byte segment
 * records. Records do not carry absolute sequence numbers: they pick one of
 * eight fixed 4-tuples ("slots") and a direction, and say how seq and ack
 * relate to what each side sent before (next in sequence, a retransmission,
 * the ISN, a small delta, ...), so that the mutator easily reaches complete
 * handshakes, teardowns, retransmissions, reuse and floods instead of random
 * 32-bit noise. Timestamps only grow (unless the header allows small steps
 * back), with units from microseconds to 100 s plus explicit jumps past every
 * timeout, so that timers fire.
 *
 * Header (missing bytes read as 0, so the empty input is the default run):
 *   h0 bit 0      split = TP_SPLIT_ZEEK
 *      bit 1      key_context
 *      bit 2      checksum_verify
 *      bits 3-5   max_conns  {1000000, 1, 2, 3, 16, 0 (no cap), 1000000, 1000000}
 *      bits 6-7   zeek_server_ports {default (NULL), none, {80, 40000, 7000}, default}
 *   h1 bits 0-2   timeouts: 0 defaults, 1 milliseconds, 2 all zero, 3 all 1 ns,
 *                 4-7 each picked from {0, 1 ms, 1 s, default} by h2/h3
 *      bits 3-5   flood thresholds (half-open, SYN rate, spread) profile
 *      bit 6      timestamps may step back a little (duration checks off)
 *      bit 7      timestamps start at 0 instead of 2023
 *   h2            2 bits per timeout: half_open, syn, idle, handshake_idle
 *   h3 bits 0-3   2 bits per timeout: closed_linger, half_closed
 *      bits 4-5   flood_window_ns {1 s, 1 ms, 0, 10 ms}
 *      bits 6-7   3: bursts allowed (see the record's b0)
 *
 * Record (8 bytes):
 *   b0 bits 0-2 slot, bit 3 reverse direction (server to client),
 *      bits 4-5 after feeding: 0 nothing, 1 tp_advance(ts), 2 jump the
 *      clock past every timeout and tp_advance there, 3 nothing, or, when
 *      h3 bits 6-7 are both set, the input's one burst of BURST SYNs from
 *      distinct sources toward slot 0's server (more connections than the
 *      table's initial buckets, so it grows; floods; eviction at the cap;
 *      a few ms, hence opt-in); bits 6-7 checksum
 *      {unknown, good, bad, unknown}
 *   b1 flags: bit 7 clear: common[b1 & 15] | PSH (bit 4) | ECE (bit 5) | URG (bit 6);
 *      bit 7 set: raw bits (b1 & 0x3f) plus CWR|ECE|NS when bit 6
 *   b2 bits 0-2 seq mode, bits 3-5 ack mode (see seq_of/ack_of), bits 6-7 len mode
 *   b3 length parameter
 *   b4 time step: (b4 & 31) * unit[b4 >> 5], unit in {0, 1 us, 100 us, 10 ms,
 *      100 ms, 1 s, 10 s, 100 s}; with h1 bit 6, unit 0 steps back (b4 & 31) ms
 *   b5 bit 0 zero window, bits 1-2 window scale {absent, 0, 7, 14}, bit 3
 *      timestamps option, bit 4 ip_len unknown (0), bit 5 MSS, bit 6 SACK
 *      permitted, bit 7 context 1 + (param & 3) instead of 0
 *   b6-b7 param (big endian): deltas, raw numbers, slot 6's source address
 *
 * Invariants checked (abort() on violation), all derived from tcpphase.h:
 *   verdicts: echo the segment; enum fields in range; step agrees with the
 *     flags; rtx only on a step; phase "closed" iff after_close; durations
 *     -1 or >= 0; a verdict never names a connection already reported;
 *     connections numbered 0, 1, 2 ... in order of first segment, first_frame
 *     the frame of that segment; a segment with a verified-bad checksum
 *     (checksum_verify) changes no state; tp_shard_of in range and the same
 *     both ways;
 *   amendments: refer to a frame already fed (strictly earlier than the one
 *     being fed), of the connection they name, before its record;
 *   records: each connection exactly once, none left after tp_finish;
 *     packet/IP-byte counts, first/last times and frame, the originator's
 *     address and the anomaly set agree with the verdicts and amendments;
 *   stats: segments, conns_total/active/peak, the max_conns cap, evicted,
 *     per-anomaly segment counts (a segment once, late anomalies included)
 *     and connection counts, by_handshake, by_teardown,
 *     bad_checksum and floods agree with what the callbacks delivered;
 *   floods: synacks <= syns, completed <= syns, shares in [0, 1];
 *   names: every name function returns a real name for in-range values.
 *
 * The analyzer is created per input and freed at its end: runs are
 * independent and every crash reproduces from its input alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpphase.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_core: invariant violated at %s:%d: %s (frame %llu)\n", \
			        __FILE__, __LINE__, #c, (unsigned long long)g.cur_frame);          \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define NSLOT 8
#define REC 8
#define HDR 4
#define NS_PER_S 1000000000LL
#define BURST 2100   /* > 2 x the core's initial 1024 buckets: the table grows */
#define MAX_BURSTS 1
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)

struct trk { /* the harness's own view of one side of one slot */
	uint32_t isn, nxt, last_seq, last_ack;
};

struct cinfo { /* per connection index, from the verdicts and amendments */
	uint64_t pkts[2], ip_bytes[2];
	uint64_t first_frame;
	int64_t first_ts, last_ts;
	tp_anomaly_set anomalies;
	uint8_t orig_state, resp_state;
	uint8_t recorded;
	struct tp_addr orig_h;
	uint16_t orig_p;
	uint32_t context;
};

static struct {
	struct tp_config cfg;
	int monotone;
	uint64_t cur_frame;  /* being fed, 0 outside tp_feed */
	uint64_t last_frame; /* fed so far */
	uint64_t nconns, nrecords, nfloods, nevicted_recs;
	struct tp_verdict *v; /* by frame, amendments applied */
	struct cinfo *ci;     /* by connection index (at most one per frame) */
	uint64_t verdict_anoms[TP_A_COUNT], amend_anoms[TP_A_COUNT];
	uint64_t rec_anoms[TP_A_COUNT], rec_hs[TP_HS_COUNT], rec_td[TP_TD_COUNT];
	uint64_t bad_csum;
	int dump;
} g;

static const uint16_t custom_ports[] = { 80, 40000, 7000 };

static void check_name(const char *n)
{
	CHECK(n != NULL);
	CHECK(strcmp(n, "?") != 0);
}

/* A duration is -1 (unknown) or, with timestamps that never go back, >= 0. */
#define check_duration(d)                           \
	do {                                        \
		if (g.monotone)                     \
			CHECK((d) == -1 || (d) >= 0); \
	} while (0)

/* ---- callbacks ---------------------------------------------------------- */

static void on_amend(void *user, const struct tp_amend *a)
{
	(void)user;
	CHECK(a->frame >= 1 && a->frame <= g.last_frame);
	if (g.cur_frame)
		CHECK(a->frame < g.cur_frame); /* "a later segment changes what an earlier segment meant" */
	CHECK(a->add != 0 && (a->add >> TP_A_COUNT) == 0);
	CHECK(a->orig_state >= -1 && a->orig_state < TP_STATE_COUNT);
	CHECK(a->resp_state >= -1 && a->resp_state < TP_STATE_COUNT);
	struct tp_verdict *v = &g.v[a->frame];
	CHECK(v->frame == a->frame); /* a verdict was returned for it */
	CHECK(v->conn == a->conn);   /* ... in the connection the amendment names */
	CHECK(a->conn < g.nconns && !g.ci[a->conn].recorded);
	/* stats.anomalies counts segments carrying an anomaly: a bit the
	 * segment already carries adds no segment */
	tp_anomaly_set added = a->add & ~v->anomalies;
	tp_verdict_amend(v, a);
	CHECK(v->orig_state < TP_STATE_COUNT && v->resp_state < TP_STATE_COUNT);
	g.ci[a->conn].anomalies |= a->add;
	for (int i = 0; i < TP_A_COUNT; i++)
		if (added & TP_ABIT(i))
			g.amend_anoms[i]++;
	if (g.dump)
		fprintf(stderr, "  amend frame %llu conn %llu add %#x states %d/%d\n",
		        (unsigned long long)a->frame, (unsigned long long)a->conn, a->add, a->orig_state,
		        a->resp_state);
}

static int addr_eq(const struct tp_addr *x, const struct tp_addr *y)
{
	return x->family == y->family && memcmp(x->bytes, y->bytes, 16) == 0;
}

static void on_conn(void *user, const struct tp_conn_record *r)
{
	(void)user;
	CHECK(r->conn < g.nconns);
	struct cinfo *c = &g.ci[r->conn];
	CHECK(!c->recorded); /* exactly once */
	c->recorded = 1;
	g.nrecords++;
	CHECK(r->orig_pkts == c->pkts[0] && r->resp_pkts == c->pkts[1]);
	CHECK(r->orig_ip_bytes == c->ip_bytes[0] && r->resp_ip_bytes == c->ip_bytes[1]);
	CHECK(r->start_ns == c->first_ts && r->last_ns == c->last_ts);
	CHECK(r->first_frame == c->first_frame);
	CHECK(addr_eq(&r->orig_h, &c->orig_h) && r->orig_p == c->orig_p);
	CHECK(r->context == c->context);
	CHECK(r->anomalies == c->anomalies);
	CHECK(r->handshake < TP_HS_COUNT && r->teardown < TP_TD_COUNT);
	CHECK(r->orig_state < TP_STATE_COUNT && r->resp_state < TP_STATE_COUNT);
	CHECK(r->end_reason <= TP_END_REUSED);
	CHECK(r->dir_inferred <= 1);
	CHECK((r->completeness & ~0x3f) == 0);
	if (g.cur_frame)
		CHECK(r->end_reason != TP_END_CAPTURE_END);
	check_name(tp_handshake_name((enum tp_handshake)r->handshake));
	check_name(tp_teardown_name((enum tp_teardown)r->teardown));
	check_name(tp_end_reason_name((enum tp_end_reason)r->end_reason));
	check_name(tp_state_name((enum tp_state)r->orig_state));
	check_name(tp_state_name((enum tp_state)r->resp_state));
	check_duration(r->syn_to_synack_ns);
	check_duration(r->synack_to_ack_ns);
	check_duration(r->fin_to_close_ns);
	check_duration(r->time_wait_ns);
	CHECK(memchr(r->conn_state, 0, sizeof r->conn_state) != NULL && r->conn_state[0] != 0);
	CHECK(memchr(r->history, 0, sizeof r->history) != NULL);
	char uid[20], buf[64];
	tp_conn_uid(0x5eed, r->first_frame, uid);
	CHECK(strlen(uid) == 18 && uid[0] == 'C');
	CHECK(strlen(tp_addr_str(&r->orig_h, buf, 46)) < 46);
	CHECK(strlen(tp_addr_str(&r->resp_h, buf, 46)) < 46);
	for (int i = 0; i < TP_A_COUNT; i++)
		if (r->anomalies & TP_ABIT(i))
			g.rec_anoms[i]++;
	g.rec_hs[r->handshake]++;
	g.rec_td[r->teardown]++;
	if (r->end_reason == TP_END_EVICTED)
		g.nevicted_recs++;
	if (g.dump)
		fprintf(stderr, "  record conn %llu hs %s td %s end %s states %s/%s anoms %#x zeek %s %s\n",
		        (unsigned long long)r->conn, tp_handshake_name(r->handshake),
		        tp_teardown_name(r->teardown), tp_end_reason_name(r->end_reason),
		        tp_state_name(r->orig_state), tp_state_name(r->resp_state), r->anomalies, r->conn_state,
		        r->history);
}

static void on_flood(void *user, const struct tp_flood *f)
{
	(void)user;
	g.nfloods++;
	CHECK(f->server.family == 4 || f->server.family == 6);
	if (g.monotone)
		CHECK(f->start_ns <= f->end_ns);
	CHECK(f->synacks <= f->syns);   /* "of which answered by a SYN-ACK" */
	CHECK(f->completed <= f->syns); /* handshakes of the flood's SYNs */
	CHECK(f->answered_share >= 0 && f->answered_share <= 1);
	CHECK(f->source_spread >= 0 && f->source_spread <= 1);
}

/* ---- building segments -------------------------------------------------- */

static void set4(struct tp_addr *a, uint8_t x0, uint8_t x1, uint8_t x2, uint8_t x3)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->bytes[0] = x0, a->bytes[1] = x1, a->bytes[2] = x2, a->bytes[3] = x3;
}

static void set6(struct tp_addr *a, uint8_t b0, uint8_t b1, uint8_t b3, uint8_t last)
{
	memset(a, 0, sizeof *a);
	a->family = 6;
	a->bytes[0] = b0, a->bytes[1] = b1, a->bytes[3] = b3, a->bytes[15] = last;
}

/* The client side (a, pa) and server side (b, pb) of each slot. */
static void slot_tuple(int slot, uint16_t param, struct tp_addr *a, uint16_t *pa, struct tp_addr *b, uint16_t *pb)
{
	switch (slot) {
	case 0: set4(a, 10, 0, 0, 1), *pa = 40000, set4(b, 10, 0, 0, 2), *pb = 80; break;
	case 1: set4(a, 10, 0, 0, 1), *pa = 40001, set4(b, 10, 0, 0, 2), *pb = 80; break;
	case 2: set6(a, 0xfd, 0, 0, 1), *pa = 50000, set6(b, 0xfd, 0, 0, 2), *pb = 443; break;
	case 3: set4(a, 10, 0, 0, 3), *pa = 22, set4(b, 10, 0, 0, 4), *pb = 5432; break; /* both "server" ports */
	case 4: set4(a, 10, 0, 0, 5), *pa = 7000, set4(b, 10, 0, 0, 5), *pb = 7000; break; /* self-connect */
	case 5: /* an IPv6 address whose first 4 bytes are slot 0's IPv4 ones */
		set6(a, 10, 0, 1, 0), *pa = 40000, set6(b, 10, 0, 2, 0), *pb = 80;
		break;
	case 6: /* many sources toward slot 0's server: floods */
		set4(a, 10, 1, (uint8_t)(param >> 8), (uint8_t)param), *pa = (uint16_t)(1024 + param % 60000);
		set4(b, 10, 0, 0, 2), *pb = 80;
		break;
	default: set4(a, 10, 0, 0, 2), *pa = 80, set4(b, 10, 0, 0, 1), *pb = 40000; break; /* slot 0 turned round */
	}
}

static uint32_t seq_of(int mode, const struct trk *S, uint16_t param, uint32_t flags_syn)
{
	int16_t d = (int16_t)param;
	(void)flags_syn;
	switch (mode) {
	case 0:
	case 1: return S->nxt;                              /* in sequence */
	case 2: return S->last_seq;                         /* the previous segment's number again */
	case 3: return S->isn;                              /* the ISN (a SYN retransmission) */
	case 4: return S->nxt + (uint32_t)(int32_t)d;       /* a small gap or overlap */
	case 5: return S->nxt + (uint32_t)(int32_t)d * 4096u; /* a large one */
	case 6: return (uint32_t)param * 0x9e3779b1u;       /* a new ISN */
	default: return (uint32_t)param << 16 | param;      /* near the edges of the space */
	}
}

static uint32_t ack_of(int mode, const struct trk *S, const struct trk *P, uint16_t param)
{
	int16_t d = (int16_t)param;
	switch (mode) {
	case 0:
	case 1: return P->nxt;                        /* acknowledges everything */
	case 2: return P->nxt + (uint32_t)(int32_t)d; /* slightly off */
	case 3: return P->isn + 1;                    /* the peer's SYN only */
	case 4: return 0;
	case 5: return S->last_ack;                   /* a duplicate ACK */
	case 6: return P->nxt - 1;                    /* all but the last octet */
	default: return (uint32_t)param * 0x01000193u;
	}
}

static uint32_t len_of(int mode, uint8_t b3, uint16_t param)
{
	static const uint32_t big[8] = { 1460, 1448, 65495, 65535, 536, 9000, 100000, 1u << 20 };
	switch (mode) {
	case 0: return b3;
	case 1: return (uint32_t)b3 * 16;
	case 2: return big[b3 & 7];
	default: return (uint32_t)b3 << 8 | (param & 0xff);
	}
}

static int64_t timeout_pick(int bits, int64_t def)
{
	static const int64_t t[3] = { 0, 1000000, NS_PER_S };
	return bits == 3 ? def : t[bits];
}

static void make_config(const uint8_t *h, struct tp_config *cfg)
{
	static const uint32_t maxc[8] = { 1000000, 1, 2, 3, 16, 0, 1000000, 1000000 };
	tp_config_default(cfg);
	cfg->split = (h[0] & 1) ? TP_SPLIT_ZEEK : TP_SPLIT_WIRESHARK;
	cfg->key_context = (h[0] >> 1) & 1;
	cfg->checksum_verify = (h[0] >> 2) & 1;
	cfg->max_conns = maxc[(h[0] >> 3) & 7];
	switch (h[0] >> 6) {
	case 1: cfg->zeek_server_ports = custom_ports, cfg->zeek_n_server_ports = 0; break;
	case 2: cfg->zeek_server_ports = custom_ports, cfg->zeek_n_server_ports = 3; break;
	default: break;
	}
	int64_t *to[6] = { &cfg->half_open_timeout_ns, &cfg->syn_timeout_ns, &cfg->idle_timeout_ns,
	                   &cfg->handshake_idle_ns, &cfg->closed_linger_ns, &cfg->half_closed_timeout_ns };
	static const int64_t ms[6] = { 3, 3, 50, 20, 30, 40 };
	int prof = h[1] & 7;
	for (int i = 0; i < 6; i++) {
		if (prof == 1)
			*to[i] = ms[i] * 1000000;
		else if (prof == 2)
			*to[i] = 0;
		else if (prof == 3)
			*to[i] = 1;
		else if (prof >= 4)
			*to[i] = timeout_pick(i < 4 ? (h[2] >> (2 * i)) & 3 : (h[3] >> (2 * (i - 4))) & 3, *to[i]);
	}
	switch ((h[1] >> 3) & 7) {
	case 1: cfg->flood_min_half_open = 1, cfg->flood_min_syn_rate = 1, cfg->flood_min_spread = 0; break;
	case 2: cfg->flood_min_half_open = 2, cfg->flood_min_syn_rate = 3, cfg->flood_min_spread = 0.5; break;
	case 3: cfg->flood_min_half_open = 0, cfg->flood_min_syn_rate = 0, cfg->flood_min_spread = 0; break;
	case 4: cfg->flood_min_half_open = 5, cfg->flood_min_syn_rate = 5, cfg->flood_min_spread = 0.9; break;
	case 5: cfg->flood_min_half_open = 1, cfg->flood_min_syn_rate = 2, cfg->flood_min_spread = 1; break;
	default: break;
	}
	static const int64_t win[4] = { NS_PER_S, 1000000, 0, 10000000 };
	cfg->flood_window_ns = win[(h[3] >> 4) & 3];
}

/* ---- checks after each step --------------------------------------------- */

static void check_stats(struct tp_analyzer *an)
{
	const struct tp_stats *st = tp_stats(an);
	CHECK(st->segments == g.last_frame);
	CHECK(st->conns_total == g.nconns);
	CHECK(st->conns_active == g.nconns - g.nrecords);
	CHECK(st->conns_peak >= st->conns_active && st->conns_peak <= st->conns_total);
	if (g.cfg.max_conns)
		CHECK(st->conns_active <= g.cfg.max_conns);
	CHECK(st->evicted == g.nevicted_recs);
	CHECK(st->expired <= g.nrecords);
	CHECK(st->bad_checksum == g.bad_csum);
	CHECK(st->floods == g.nfloods);
	for (int i = 0; i < TP_A_COUNT; i++) {
		CHECK(st->anomalies[i] == g.verdict_anoms[i] + g.amend_anoms[i]);
		CHECK(st->conn_anomalies[i] == g.rec_anoms[i]);
	}
	for (int i = 0; i < TP_HS_COUNT; i++)
		CHECK(st->by_handshake[i] == g.rec_hs[i]);
	for (int i = 0; i < TP_TD_COUNT; i++)
		CHECK(st->by_teardown[i] == g.rec_td[i]);
}

static int step_fits_flags(uint8_t step, uint16_t f)
{
	int syn = !!(f & TP_TH_SYN), ack = !!(f & TP_TH_ACK), fin = !!(f & TP_TH_FIN), rst = !!(f & TP_TH_RST);
	switch (step) {
	case TP_STEP_NONE: return 1;
	case TP_STEP_HS_SYN:
	case TP_STEP_SIM_SYN: return syn && !ack && !rst && !fin;
	case TP_STEP_HS_SYNACK:
	case TP_STEP_SIM_SYNACK: return syn && ack && !rst && !fin;
	case TP_STEP_RST: return rst && !syn;
	case TP_STEP_FIN1:
	case TP_STEP_FIN2:
	case TP_STEP_FIN2_WITH_ACK:
	case TP_STEP_SIM_FIN: return fin && !syn && !rst;
	case TP_STEP_HS_ACK:
	case TP_STEP_FIN1_ACK:
	case TP_STEP_FINAL_ACK:
	case TP_STEP_SIM_FIN_ACK: return ack && !syn && !rst;
	default: return 0;
	}
}

/* tp_shard_of: in range, and the same for both directions */
static void check_shard(const struct tp_segment *s)
{
	struct tp_segment r = *s;
	r.src = s->dst, r.dst = s->src, r.sport = s->dport, r.dport = s->sport;
	uint32_t n = 1 + (uint32_t)(s->frame % 7);
	uint32_t k = tp_shard_of(s, n);
	CHECK(k < n && k == tp_shard_of(&r, n));
	CHECK(tp_shard_of(s, 0) == 0);
}

static void check_verdict(const struct tp_segment *s, const struct tp_verdict *v)
{
	CHECK(v->frame == s->frame && v->ts_ns == s->ts_ns);
	CHECK(v->flags == s->flags && v->len == s->len);
	CHECK(v->conn <= g.nconns); /* known, or the next new one */
	CHECK(v->dir <= 1 && v->dir_inferred <= 1 && v->rtx <= 1 && v->ack_checked <= 1);
	CHECK(v->phase < TP_PHASE_COUNT && v->step < TP_STEP_COUNT);
	CHECK(v->orig_state < TP_STATE_COUNT && v->resp_state < TP_STATE_COUNT);
	CHECK((v->anomalies >> TP_A_COUNT) == 0);
	CHECK(step_fits_flags(v->step, s->flags));
	CHECK(!v->rtx || v->step != TP_STEP_NONE);
	CHECK((v->phase == TP_PHASE_CLOSED) == !!(v->anomalies & TP_ABIT(TP_A_AFTER_CLOSE)));
	check_duration(v->syn_to_synack_ns);
	check_duration(v->synack_to_ack_ns);
	check_name(tp_state_name((enum tp_state)v->orig_state));
	check_name(tp_state_name((enum tp_state)v->resp_state));
	check_name(tp_phase_name((enum tp_phase)v->phase));
	check_name(tp_step_label((enum tp_step)v->step));
	check_name(tp_step_id((enum tp_step)v->step));

	int is_new = v->conn == g.nconns;
	struct cinfo *c = &g.ci[v->conn];
	CHECK(v->first_frame == (is_new ? s->frame : c->first_frame));
	if (is_new) {
		memset(c, 0, sizeof *c);
		c->first_ts = s->ts_ns;
		c->first_frame = s->frame; /* a frame starts at most one connection */
		/* dir 0: the sender is the originator */
		c->orig_h = v->dir == 0 ? s->src : s->dst;
		c->orig_p = v->dir == 0 ? s->sport : s->dport;
		c->context = g.cfg.key_context ? s->context : 0;
		g.nconns++;
	} else {
		CHECK(!c->recorded); /* no segment of a connection after its record */
		/* the endpoints of a connection do not move */
		const struct tp_addr *o = v->dir == 0 ? &s->src : &s->dst;
		CHECK(addr_eq(o, &c->orig_h) && (v->dir == 0 ? s->sport : s->dport) == c->orig_p);
	}
	if (g.cfg.checksum_verify && s->checksum == TP_CSUM_BAD) {
		/* "not analysed": flags nothing else, moves no state */
		CHECK((v->anomalies & ~TP_ABIT(TP_A_PORT_REUSE)) == TP_ABIT(TP_A_BAD_CHECKSUM));
		CHECK(v->step == TP_STEP_NONE && !v->rtx);
		if (!is_new)
			CHECK(v->orig_state == c->orig_state && v->resp_state == c->resp_state);
		else
			CHECK(v->orig_state == TP_CLOSED && v->resp_state == TP_CLOSED);
		g.bad_csum++;
	} else {
		CHECK(!(v->anomalies & TP_ABIT(TP_A_BAD_CHECKSUM)));
	}
	c->pkts[v->dir]++;
	c->ip_bytes[v->dir] += s->ip_len;
	c->last_ts = s->ts_ns;
	c->anomalies |= v->anomalies;
	c->orig_state = v->orig_state;
	c->resp_state = v->resp_state;
	for (int i = 0; i < TP_A_COUNT; i++)
		if (v->anomalies & TP_ABIT(i))
			g.verdict_anoms[i]++;
}

/* ---- the target --------------------------------------------------------- */

/* quiet: a burst segment, not printed, stats checked after the burst */
static void feed_one(struct tp_analyzer *an, struct tp_segment *seg, int quiet)
{
	struct tp_verdict v;
	seg->frame = ++g.last_frame;
	if (g.dump && !quiet)
		fprintf(stderr, "frame %llu flags %#x seq %u ack %u len %u ts %lld csum %d ctx %u\n",
		        (unsigned long long)seg->frame, seg->flags, seg->seq, seg->ack, seg->len,
		        (long long)seg->ts_ns, seg->checksum, seg->context);
	memset(&v, 0xa5, sizeof v);
	check_shard(seg);
	g.cur_frame = seg->frame;
	tp_feed(an, seg, &v);
	g.cur_frame = 0;
	check_verdict(seg, &v);
	g.v[seg->frame] = v;
	if (g.dump && !quiet)
		fprintf(stderr, "  verdict conn %llu dir %d %s %s rtx %d %s/%s anoms %#x\n",
		        (unsigned long long)v.conn, v.dir, tp_phase_name(v.phase), tp_step_id(v.step), v.rtx,
		        tp_state_name(v.orig_state), tp_state_name(v.resp_state), v.anomalies);
	if (!quiet)
		check_stats(an);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	g.dump = getenv("TP_FUZZ_DUMP") != NULL;
	for (int i = 0; i < TP_A_COUNT; i++) {
		CHECK(tp_anomaly_table[i].id == (enum tp_anomaly)i);
		CHECK(tp_anomaly_by_name(tp_anomaly_table[i].name) == i);
		check_name(tp_severity_name(tp_anomaly_table[i].severity));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t h[HDR] = { 0 };
	memcpy(h, data, size < HDR ? size : HDR);
	const uint8_t *rec = data + (size < HDR ? size : HDR);
	size_t nrec = size < HDR ? 0 : (size - HDR) / REC;

	int dump = g.dump;
	memset(&g, 0, sizeof g);
	g.dump = dump;
	make_config(h, &g.cfg);
	g.monotone = !(h[1] & 0x40);
	size_t nbursts = 0;
	for (size_t i = 0; i < nrec && nbursts < MAX_BURSTS && (h[3] >> 6) == 3; i++)
		nbursts += ((rec[i * REC] >> 4) & 3) == 3;
	size_t nseg = nrec + nbursts * BURST; /* frames, and at most one connection each */
	g.v = calloc(nseg + 1, sizeof *g.v);
	g.ci = calloc(nseg + 1, sizeof *g.ci);
	struct tp_callbacks cb = { .user = NULL, .amend = on_amend, .conn = on_conn, .flood = on_flood };
	struct tp_analyzer *an = tp_analyzer_new(&g.cfg, &cb);
	if (!an || !g.v || !g.ci)
		abort();

	struct trk t[NSLOT][2];
	for (int s = 0; s < NSLOT; s++)
		for (int d = 0; d < 2; d++) {
			uint32_t isn = d ? 0x10000000u * (uint32_t)s + 12345u : 0xfffffff0u - 1000u * (uint32_t)s;
			t[s][d] = (struct trk){ isn, isn, isn, 0 };
		}
	static const uint16_t common[16] = {
		TP_TH_SYN, TP_TH_SYN | TP_TH_ACK, TP_TH_ACK, TP_TH_ACK, TP_TH_FIN | TP_TH_ACK, TP_TH_RST,
		TP_TH_RST | TP_TH_ACK, TP_TH_FIN, TP_TH_ACK, TP_TH_SYN | TP_TH_FIN, TP_TH_SYN | TP_TH_RST, 0,
		TP_TH_FIN | TP_TH_RST | TP_TH_ACK, TP_TH_SYN | TP_TH_ACK | TP_TH_FIN, TP_TH_FIN | TP_TH_ACK, TP_TH_ACK,
	};
	static const int64_t unit[8] = { 0, 1000, 100000, 10000000, 100000000, NS_PER_S, 10 * NS_PER_S,
	                                 100 * NS_PER_S };
	int64_t now = (h[1] & 0x80) ? 0 : 1700000000LL * NS_PER_S;

	for (size_t i = 0; i < nrec; i++) {
		const uint8_t *r = rec + i * REC;
		int slot = r[0] & 7, dir = (r[0] >> 3) & 1;
		uint16_t param = (uint16_t)(r[6] << 8 | r[7]);
		struct trk *S = &t[slot][dir], *P = &t[slot][!dir];
		struct tp_segment seg;
		memset(&seg, 0, sizeof seg);

		struct tp_addr a, b;
		uint16_t pa, pb;
		slot_tuple(slot, param, &a, &pa, &b, &pb);
		seg.src = dir ? b : a;
		seg.dst = dir ? a : b;
		seg.sport = dir ? pb : pa;
		seg.dport = dir ? pa : pb;
		seg.context = (r[5] & 0x80) ? 1u + (param & 3) : 0;

		uint8_t b1 = r[1];
		if (!(b1 & 0x80))
			seg.flags = common[b1 & 15] | ((b1 & 0x10) ? TP_TH_PSH : 0) | ((b1 & 0x20) ? TP_TH_ECE : 0) |
			            ((b1 & 0x40) ? TP_TH_URG : 0);
		else
			seg.flags = (uint16_t)((b1 & 0x3f) | ((b1 & 0x40) ? TP_TH_CWR | TP_TH_ECE | TP_TH_NS : 0));
		seg.seq = seq_of(r[2] & 7, S, param, seg.flags & TP_TH_SYN);
		seg.ack = ack_of((r[2] >> 3) & 7, S, P, param);
		seg.len = len_of(r[2] >> 6, r[3], param);
		seg.window = (r[5] & 1) ? 0 : 64240;
		static const int8_t ws[4] = { -1, 0, 7, 14 };
		seg.wscale = ws[(r[5] >> 1) & 3];
		int has_ts = (r[5] & 0x08) != 0; /* only its 12 bytes of header count */
		static const uint8_t csum[4] = { TP_CSUM_UNKNOWN, TP_CSUM_GOOD, TP_CSUM_BAD, TP_CSUM_UNKNOWN };
		seg.checksum = csum[r[0] >> 6];
		if (!(r[5] & 0x10)) {
			uint64_t il = (uint64_t)seg.len + (seg.src.family == 4 ? 40 : 60) + (has_ts ? 12 : 0);
			seg.ip_len = il > UINT32_MAX ? UINT32_MAX : (uint32_t)il;
		}

		int64_t step = (int64_t)(r[4] & 31) * unit[r[4] >> 5];
		if (!g.monotone && (r[4] >> 5) == 0 && now >= 31000000)
			seg.ts_ns = now - (int64_t)(r[4] & 31) * 1000000; /* a little back; the clock stays */
		else
			seg.ts_ns = now += step;
		if (g.dump)
			fprintf(stderr, "slot %d dir %d:\n", slot, dir);
		feed_one(an, &seg, 0);

		/* the harness's own sequence bookkeeping */
		uint32_t end = seg.seq + seg.len + ((seg.flags & TP_TH_SYN) ? 1 : 0) + ((seg.flags & TP_TH_FIN) ? 1 : 0);
		if (seg.flags & TP_TH_SYN)
			S->isn = seg.seq;
		if (!(seg.flags & TP_TH_RST) && ((seg.flags & TP_TH_SYN) || SEQ_GT(end, S->nxt)))
			S->nxt = end;
		S->last_seq = seg.seq;
		S->last_ack = seg.ack;

		switch ((r[0] >> 4) & 3) {
		case 1:
			tp_advance(an, now);
			check_stats(an);
			break;
		case 2: {
			/* past the longest timeout in use, Zeek's 300 s inactivity and the flood window */
			int64_t jump = 301 * NS_PER_S;
			int64_t *tos[7] = { &g.cfg.half_open_timeout_ns, &g.cfg.syn_timeout_ns, &g.cfg.idle_timeout_ns,
			                    &g.cfg.handshake_idle_ns, &g.cfg.closed_linger_ns,
			                    &g.cfg.half_closed_timeout_ns, &g.cfg.flood_window_ns };
			for (int k = 0; k < 7; k++)
				if (*tos[k] * 3 + 1 > jump)
					jump = *tos[k] * 3 + 1;
			now += jump;
			tp_advance(an, now);
			check_stats(an);
			break;
		}
		default:
			if (nbursts == 0)
				break;
			nbursts--;
			if (g.dump)
				fprintf(stderr, "burst of %d SYNs\n", BURST);
			for (uint32_t k = 0; k < BURST; k++) {
				struct tp_segment b;
				memset(&b, 0, sizeof b);
				uint32_t src = k + param;
				set4(&b.src, 10, 2, (uint8_t)(src >> 8), (uint8_t)src);
				set4(&b.dst, 10, 0, 0, 2);
				b.sport = (uint16_t)(1024 + k), b.dport = 80;
				b.flags = TP_TH_SYN;
				b.seq = k * 0x01000193u;
				b.window = 64240, b.wscale = -1, b.ip_len = 40;
				b.ts_ns = now += (int64_t)(r[3] & 15) * 1000;
				feed_one(an, &b, 1);
			}
			check_stats(an);
			break;
		}
	}

	tp_finish(an);
	check_stats(an);
	CHECK(g.nrecords == g.nconns); /* every connection reported by the end */
	CHECK(tp_stats(an)->conns_active == 0);
	for (uint64_t f = 1; f <= g.last_frame; f++)
		CHECK(g.v[f].orig_state < TP_STATE_COUNT && g.v[f].resp_state < TP_STATE_COUNT);
	tp_analyzer_free(an);
	free(g.v);
	free(g.ci);
	return 0;
}
