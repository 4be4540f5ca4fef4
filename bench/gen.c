/*
 * gen.c - deterministic generator of large, realistic TCP captures for the
 * tcpphase benchmarks.
 *
 *   tp_gen --mixed --seed N -o FILE.pcap [--scale F] [--conns N] [--duration S]
 *                  [--v6-share F] [--snaplen N]
 *   tp_gen --flood --seed N -o FILE.pcap [--scale F] [--syns N] [--answered F]
 *                  [--duration S] [--snaplen N]
 *
 * --mixed: about 2 million packets on 100,000 interleaved connections over
 * about 100 s, seen from a tap near the servers: complete handshakes,
 * request/response data with slow start and delayed ACKs, 4-way closes
 * (either side first), 3-segment closes (FIN, FIN+ACK, ACK), resets from
 * either side, half-open connections whose SYN-ACK is retransmitted, lost
 * final ACKs proven by a FIN retransmission, refused and unanswered
 * attempts, long-lived connections (some still open at the end), and
 * connections already running when the capture started (midstream);
 * 10% IPv6.
 *
 * --flood: 1 million SYNs from random spoofed sources toward one server over
 * about 20 s, 30% of them answered by a SYN-ACK (SYN cookies: no
 * retransmission), over a light background of legitimate connections to the
 * same server, before, during and after the flood.
 *
 * Output: classic pcap (microsecond timestamps, LINKTYPE_ETHERNET), written
 * with stdio. IPv4 header checksums and TCP checksums are correct (unless
 * --snaplen cuts the packets, when the TCP checksum still covers the full
 * segment as sent). The same seed and options always give the same bytes.
 *
 * How: every connection is scripted in full (times, flags, seq/ack) into one
 * array of packet records, the array is sorted by time, then the frames are
 * built and written in that order. A summary of what was generated goes to
 * stderr, in the terms tcpphase reports, for checking the analyzer.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- deterministic randomness: xoshiro256** seeded by splitmix64 ------- */

static uint64_t rs[4];

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rs[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd64(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

static uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 32); }
static double urand(void) { return (double)(rnd64() >> 11) * (1.0 / 9007199254740992.0); }
/* Uniform integer in [lo, hi]. */
static int64_t rrange(int64_t lo, int64_t hi) { return lo + (int64_t)(urand() * (double)(hi - lo + 1)); }
static double expo(double mean) { return -mean * log(1.0 - urand()); }
/* Log-normal with the given median and spread (sigma of the log). */
static double lognorm(double median, double sigma)
{
	double u1 = urand(), u2 = urand();
	double z = sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
	return median * exp(sigma * z);
}

/* ---- time ------------------------------------------------------------- */

#define US 1000LL
#define MS 1000000LL
#define SEC 1000000000LL
#define EPOCH_S 1735689600LL /* 2025-01-01 00:00:00 UTC: start of every capture */

/* ---- TCP -------------------------------------------------------------- */

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };
enum { C = 0, S = 1 }; /* direction: from the client (originator), from the server */

/* What was scripted, by the outcome tcpphase should report. */
enum ctype {
	T_FOUR_WAY_CLI, /* client closes first: FIN, ACK, FIN, ACK */
	T_FOUR_WAY_SRV, /* server closes first */
	T_THREE_SEG,    /* FIN, FIN+ACK, ACK (either side first) */
	T_RST_ORIG,     /* aborted by an RST from the client */
	T_RST_RESP,     /* aborted by an RST from the server */
	T_LOST_FINAL,   /* 4-way; the final ACK is lost after the tap, the FIN is retransmitted */
	T_HALF_OPEN,    /* SYN, SYN-ACK and two retransmissions, no ACK */
	T_REFUSED,      /* SYN answered by RST */
	T_UNANSWERED,   /* SYN and two retransmissions, nothing back */
	T_LONG,         /* keep-alive: many small exchanges; may outlive the capture */
	T_MIDSTREAM,    /* running before the capture started: no handshake */
	T_FLOOD,        /* spoofed SYN, maybe a SYN-ACK (SYN cookies) */
	T_COUNT
};
static const char *const ctype_name[T_COUNT] = {
	"four_way (client first)", "four_way (server first)", "three_segment", "reset_by_orig",
	"reset_by_resp", "lost_final_ack", "half_open", "refused", "unanswered", "long-lived",
	"midstream", "flood SYN",
};
/* Share of each type among the --mixed connections, in percent. */
static const double mixed_share[T_COUNT] = {
	[T_FOUR_WAY_CLI] = 30, [T_FOUR_WAY_SRV] = 15, [T_THREE_SEG] = 20, [T_RST_ORIG] = 6,
	[T_RST_RESP] = 4,      [T_LOST_FINAL] = 4,    [T_HALF_OPEN] = 4,  [T_REFUSED] = 4,
	[T_UNANSWERED] = 3,    [T_LONG] = 8,          [T_MIDSTREAM] = 2,
};

struct conn {
	uint8_t v6, ts_opt, type, flood_opts; /* flood_opts: 0 none, 1 MSS only */
	uint8_t ttl[2], wscale[2];
	uint8_t addr[2][16]; /* [C], [S]; IPv4 in the first 4 bytes */
	uint16_t port[2];
	uint16_t mss, flood_win;
	uint32_t flowlabel;
	uint32_t tsbase[2], last_tsval[2];
	uint16_t ipid[2];
};

struct pkt {
	int64_t t;     /* ns from the capture start */
	uint32_t conn; /* index into conns */
	uint32_t idx;  /* order within the connection, for equal times */
	uint32_t seq, ack;
	uint16_t len;  /* payload bytes */
	uint8_t dir, flags;
};

static struct conn *conns;
static size_t nconns, capconns;
static struct pkt *pkts;
static size_t npkts, cappkts;
static int64_t t_end;          /* packets after this are past the end of the capture: dropped */
static uint64_t by_type[T_COUNT], pkts_by_type[T_COUNT], dropped_late;

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "tp_gen: out of memory\n");
		exit(1);
	}
	return q;
}

static struct conn *new_conn(void)
{
	if (nconns == capconns) {
		capconns = capconns ? capconns * 2 : 65536;
		conns = xrealloc(conns, capconns * sizeof *conns);
	}
	struct conn *c = &conns[nconns++];
	memset(c, 0, sizeof *c);
	return c;
}

/* ---- scripting one connection ----------------------------------------- */

struct bld {
	uint32_t ci;       /* connection index */
	uint32_t idx;      /* next packet index within it */
	uint32_t nxt[2];   /* next sequence number each side sends */
	int64_t rtt;       /* tap -> client -> tap */
	int64_t dsrv;      /* tap -> server kernel -> tap */
	int64_t gap;       /* spacing of back-to-back server segments (bottleneck) */
	int mss_pl;        /* payload bytes per full segment */
	int64_t last;      /* time of the last scripted packet */
};

static void emit(struct bld *b, int64_t t, int dir, int flags, uint32_t seq, uint32_t ack, int len)
{
	if (t > b->last)
		b->last = t;
	if (t > t_end) {
		dropped_late++;
		return;
	}
	if (npkts == cappkts) {
		cappkts = cappkts ? cappkts * 2 : 1 << 20;
		pkts = xrealloc(pkts, cappkts * sizeof *pkts);
	}
	pkts_by_type[conns[b->ci].type]++;
	struct pkt *p = &pkts[npkts++];
	p->t = t;
	p->conn = b->ci;
	p->idx = b->idx++;
	p->seq = seq;
	p->ack = flags & F_ACK ? ack : 0;
	p->len = (uint16_t)len;
	p->dir = (uint8_t)dir;
	p->flags = (uint8_t)flags;
}

/* A data segment that advances the sender's sequence number. */
static void emit_data(struct bld *b, int64_t t, int dir, int flags, int len)
{
	emit(b, t, dir, flags, b->nxt[dir], b->nxt[!dir], len);
	b->nxt[dir] += (uint32_t)len;
}

/* How many segments a response takes: mostly short, a heavy tail. */
static int response_segments(void)
{
	double u = urand();
	if (u < 0.45)
		return 1;
	if (u < 0.75)
		return (int)rrange(2, 4);
	if (u < 0.93)
		return (int)rrange(5, 16);
	return (int)rrange(17, 60);
}

/*
 * One request/response exchange starting at t: the client's request, the
 * server's (maybe delayed) ACK, the response in slow-start bursts, and the
 * client's ACKs (every second segment, and the last of each burst). Returns
 * the time of the client's last ACK.
 */
static int64_t exchange(struct bld *b, int64_t t, int nseg)
{
	int req = (int)rrange(90, 900);
	emit_data(b, t, C, F_PSH | F_ACK, req);
	int64_t app = (int64_t)(lognorm(1.5, 1.2) * MS);
	if (app > 200 * MS)
		app = 200 * MS;
	if (app > 5 * MS) /* the server's kernel ACKs the request before the answer is ready */
		emit(b, t + b->dsrv, S, F_ACK, b->nxt[S], b->nxt[C], 0);
	int last_len = (int)rrange(60, b->mss_pl);
	int64_t ts = t + b->dsrv + app, last_ack = t;
	int sent = 0, cwnd = 10;
	while (sent < nseg) {
		int burst = nseg - sent < cwnd ? nseg - sent : cwnd;
		uint32_t ends[64];
		int nb = 0;
		for (int i = 0; i < burst; i++) {
			int len = sent + i == nseg - 1 ? last_len : b->mss_pl;
			int fl = F_ACK | (i == burst - 1 ? F_PSH : 0);
			emit_data(b, ts + i * b->gap, S, fl, len);
			ends[nb++] = b->nxt[S];
		}
		int64_t first_ack = -1;
		for (int i = 0; i < burst; i++) {
			if (i % 2 == 1 || i == burst - 1) {
				int64_t ta = ts + i * b->gap + b->rtt;
				emit(b, ta, C, F_ACK, b->nxt[C], ends[i], 0);
				if (first_ack < 0)
					first_ack = ta;
				last_ack = ta;
			}
		}
		sent += burst;
		cwnd = cwnd * 2 > 64 ? 64 : cwnd * 2;
		/* The next burst is clocked by the first ACK, but cannot start
		 * before this one has left the bottleneck. */
		ts = first_ack + b->dsrv > ts + burst * b->gap ? first_ack + b->dsrv : ts + burst * b->gap;
	}
	return last_ack;
}

static int64_t think(double median_ms)
{
	return (int64_t)(lognorm(median_ms, 1.0) * MS) + 100 * US;
}

/* Client-first 4-way close from t. Returns the time of the final ACK. */
static int64_t close_4way_cli(struct bld *b, int64_t t, int lose_final)
{
	emit(b, t, C, F_FIN | F_ACK, b->nxt[C], b->nxt[S], 0);
	b->nxt[C]++;
	emit(b, t + b->dsrv, S, F_ACK, b->nxt[S], b->nxt[C], 0);
	int64_t tf = t + b->dsrv + (int64_t)(lognorm(2.0, 1.0) * MS) + 50 * US; /* the server app closes */
	uint32_t sfin = b->nxt[S];
	emit(b, tf, S, F_FIN | F_ACK, sfin, b->nxt[C], 0);
	b->nxt[S]++;
	int64_t ta = tf + b->rtt;
	emit(b, ta, C, F_ACK, b->nxt[C], b->nxt[S], 0);
	if (lose_final) {
		/* The ACK above died past the tap: the server retransmits its FIN
		 * after its RTO (at least 200 ms on Linux), the client ACKs again. */
		int64_t rto = 200 * MS + 2 * b->rtt + rrange(0, 20) * MS;
		emit(b, tf + rto, S, F_FIN | F_ACK, sfin, b->nxt[C], 0);
		ta = tf + rto + b->rtt;
		emit(b, ta, C, F_ACK, b->nxt[C], b->nxt[S], 0);
	}
	return ta;
}

static int64_t close_4way_srv(struct bld *b, int64_t t)
{
	emit(b, t, S, F_FIN | F_ACK, b->nxt[S], b->nxt[C], 0);
	b->nxt[S]++;
	emit(b, t + b->rtt, C, F_ACK, b->nxt[C], b->nxt[S], 0);
	int64_t tf = t + b->rtt + (int64_t)(lognorm(0.5, 1.0) * MS) + 20 * US;
	emit(b, tf, C, F_FIN | F_ACK, b->nxt[C], b->nxt[S], 0);
	b->nxt[C]++;
	emit(b, tf + b->dsrv, S, F_ACK, b->nxt[S], b->nxt[C], 0);
	return tf + b->dsrv;
}

static int64_t close_3seg(struct bld *b, int64_t t, int cli_first)
{
	int a = cli_first ? C : S, p = !a;
	int64_t d_a = a == C ? b->rtt : b->dsrv, d_p = p == C ? b->rtt : b->dsrv;
	emit(b, t, a, F_FIN | F_ACK, b->nxt[a], b->nxt[p], 0);
	b->nxt[a]++;
	emit(b, t + d_p, p, F_FIN | F_ACK, b->nxt[p], b->nxt[a], 0); /* FIN that also ACKs the FIN */
	b->nxt[p]++;
	emit(b, t + d_p + d_a, a, F_ACK, b->nxt[a], b->nxt[p], 0);
	return t + d_p + d_a;
}

/* Addresses: clients from a pool; each client's ports increase like a kernel's. */
#define V4_CLIENTS 20000
#define V6_CLIENTS 2500
#define V4_SERVERS 60
#define V6_SERVERS 12
static uint16_t *client_port; /* next ephemeral port per client (v4 then v6) */

static void v4_addr(uint8_t *a, uint32_t x)
{
	memset(a, 0, 16);
	a[0] = (uint8_t)(x >> 24);
	a[1] = (uint8_t)(x >> 16);
	a[2] = (uint8_t)(x >> 8);
	a[3] = (uint8_t)x;
}

static void v6_addr(uint8_t *a, uint16_t net, uint64_t host)
{
	static const uint8_t pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0 }; /* 2001:db8::/32 documentation */
	memcpy(a, pfx, 6);
	a[4] = (uint8_t)(net >> 8);
	a[5] = (uint8_t)net;
	a[6] = a[7] = 0;
	for (int i = 0; i < 8; i++)
		a[8 + i] = (uint8_t)(host >> (56 - 8 * i));
}

static uint16_t next_port(uint32_t client)
{
	uint16_t p = client_port[client];
	client_port[client] = p >= 60999 ? 32768 : p + 1;
	return p;
}

static uint16_t server_port(void)
{
	double u = urand();
	if (u < 0.60) return 443;
	if (u < 0.80) return 80;
	if (u < 0.85) return 8080;
	if (u < 0.90) return 25;
	if (u < 0.94) return 5432;
	if (u < 0.97) return 3306;
	return 22;
}

/* Fill endpoints and per-connection TCP parameters of a normal connection. */
static void setup_endpoints(struct conn *c, int v6, const uint8_t *fixed_server, uint16_t fixed_port)
{
	c->v6 = (uint8_t)v6;
	if (v6) {
		uint32_t ci = (uint32_t)rrange(0, V6_CLIENTS - 1);
		v6_addr(c->addr[C], 0x100 + (ci & 0xff), 0x1000 + ci * 7919ULL);
		c->port[C] = next_port(V4_CLIENTS + ci);
		v6_addr(c->addr[S], 0x1, 0x80 + (uint64_t)rrange(0, V6_SERVERS - 1));
		c->mss = 1440;
		c->flowlabel = rnd32() & 0xfffff;
	} else {
		uint32_t ci = (uint32_t)rrange(0, V4_CLIENTS - 1);
		/* 10.16.0.0/12, spread */
		v4_addr(c->addr[C], 0x0a100000U + ci * 37U);
		c->port[C] = next_port(ci);
		uint32_t si = (uint32_t)rrange(0, V4_SERVERS - 1);
		v4_addr(c->addr[S], si < 30 ? 0xc0000200U + 10 + si : 0xc6336400U + 10 + si); /* 192.0.2/24, 198.51.100/24 */
		c->mss = 1460;
	}
	c->port[S] = server_port();
	if (fixed_server) {
		memcpy(c->addr[S], fixed_server, 16);
		c->port[S] = fixed_port;
	}
	c->ts_opt = urand() < 0.85;
	c->ttl[C] = (uint8_t)(urand() < 0.7 ? 64 - rrange(1, 12) : 128 - rrange(1, 12));
	c->ttl[S] = 64;
	c->wscale[C] = 7;
	c->wscale[S] = 7;
	c->tsbase[C] = rnd32();
	c->tsbase[S] = rnd32();
	c->ipid[C] = (uint16_t)rnd32();
	c->ipid[S] = (uint16_t)rnd32();
}

/* Path parameters, as seen from a tap next to the servers. */
static void setup_path(struct bld *b, const struct conn *c)
{
	double u = urand();
	if (u < 0.4)
		b->rtt = rrange(200, 2000) * US;    /* same site */
	else if (u < 0.8)
		b->rtt = rrange(5, 40) * MS;        /* same region */
	else
		b->rtt = rrange(60, 250) * MS;      /* far away */
	b->dsrv = rrange(15, 80) * US;
	b->gap = rrange(12, 120) * US;
	b->mss_pl = c->mss - (c->ts_opt ? 12 : 0);
}

/* Script a normal (non-flood) connection of the given type starting at t0. */
static void script_conn(enum ctype type, int64_t t0, int v6, const uint8_t *fixed_server, uint16_t fixed_port)
{
	struct conn *c = new_conn();
	c->type = (uint8_t)type;
	setup_endpoints(c, v6, fixed_server, fixed_port);
	by_type[type]++;
	struct bld b = { .ci = (uint32_t)(nconns - 1) };
	setup_path(&b, c);
	uint32_t isn_c = rnd32(), isn_s = rnd32();
	b.nxt[C] = isn_c;
	b.nxt[S] = isn_s;
	int64_t t = t0;

	if (type == T_MIDSTREAM) {
		/* Already established when the capture started. */
		t = t0;
		int64_t life = (int64_t)(urand() * 150.0 * SEC);
		while (t < t0 + life && t <= t_end) {
			t = exchange(&b, t, (int)rrange(1, 3));
			t += think(4000.0);
		}
		if (t <= t_end)
			close_4way_cli(&b, t, 0);
		return;
	}

	/* Handshake. */
	emit(&b, t, C, F_SYN, isn_c, 0, 0);
	b.nxt[C] = isn_c + 1;
	if (type == T_UNANSWERED) {
		emit(&b, t + 1 * SEC, C, F_SYN, isn_c, 0, 0);
		emit(&b, t + 3 * SEC, C, F_SYN, isn_c, 0, 0);
		return;
	}
	int64_t tsa = t + b.dsrv;
	if (type == T_REFUSED) {
		emit(&b, tsa, S, F_RST | F_ACK, 0, isn_c + 1, 0);
		return;
	}
	emit(&b, tsa, S, F_SYN | F_ACK, isn_s, isn_c + 1, 0);
	b.nxt[S] = isn_s + 1;
	if (type == T_HALF_OPEN) {
		/* Linux's SYN-ACK retransmissions: 1 s, then 2 s later. */
		emit(&b, tsa + 1 * SEC, S, F_SYN | F_ACK, isn_s, isn_c + 1, 0);
		emit(&b, tsa + 3 * SEC, S, F_SYN | F_ACK, isn_s, isn_c + 1, 0);
		return;
	}
	t = tsa + b.rtt;
	emit(&b, t, C, F_ACK, b.nxt[C], b.nxt[S], 0);
	t += rrange(10, 200) * US;

	if (type == T_LONG) {
		int64_t life = (int64_t)(lognorm(40.0, 0.8) * SEC);
		int64_t end = t0 + life;
		while (t < end && t <= t_end) {
			t = exchange(&b, t, (int)rrange(1, 3));
			t += think(3000.0);
		}
		if (t <= t_end)
			close_4way_cli(&b, t, 0);
		return;
	}

	/* Requests on the connection: one, sometimes a few (keep-alive). */
	int rounds = 1;
	while (rounds < 8 && urand() < 0.3)
		rounds++;
	for (int r = 0; r < rounds; r++) {
		t = exchange(&b, t, response_segments());
		t += r + 1 < rounds ? think(40.0) : rrange(50, 3000) * US;
	}

	switch (type) {
	case T_FOUR_WAY_CLI: close_4way_cli(&b, t, 0); break;
	case T_LOST_FINAL: close_4way_cli(&b, t, 1); break;
	case T_FOUR_WAY_SRV: close_4way_srv(&b, t); break;
	case T_THREE_SEG: close_3seg(&b, t, urand() < 0.7); break;
	case T_RST_ORIG: emit(&b, t, C, F_RST | F_ACK, b.nxt[C], b.nxt[S], 0); break;
	case T_RST_RESP: emit(&b, t, S, F_RST | F_ACK, b.nxt[S], b.nxt[C], 0); break;
	default: break;
	}
}

static enum ctype pick_type(void)
{
	double u = urand() * 100.0, acc = 0;
	for (int i = 0; i < T_COUNT; i++) {
		acc += mixed_share[i];
		if (u < acc)
			return (enum ctype)i;
	}
	return T_FOUR_WAY_CLI;
}

static void gen_mixed(uint64_t n, double duration_s, double v6_share)
{
	t_end = (int64_t)(duration_s * SEC);
	/* Connections arrive as a Poisson process over the first 95% of the
	 * capture, so nearly all of them end inside it. */
	double mean_gap = duration_s * 0.95 * SEC / (double)n;
	double t = 0;
	for (uint64_t i = 0; i < n; i++) {
		enum ctype ty = pick_type();
		int v6 = urand() < v6_share;
		if (ty == T_MIDSTREAM) {
			script_conn(ty, (int64_t)(urand() * 2.0 * SEC), v6, NULL, 0);
			continue;
		}
		t += expo(mean_gap);
		script_conn(ty, (int64_t)t, v6, NULL, 0);
	}
}

static void gen_flood(uint64_t nsyn, double answered, double duration_s)
{
	/* Timeline: 2 s of normal traffic, the flood, 3 s of normal traffic. */
	const int64_t pre = 2 * SEC, post = 3 * SEC;
	int64_t flood_len = (int64_t)(duration_s * SEC);
	t_end = pre + flood_len + post;
	uint8_t server[16];
	v4_addr(server, 0xc0000250U); /* 192.0.2.80:80 */
	const uint16_t sport = 80;

	/* Legitimate clients: about one connection per 500 flood SYNs, spread
	 * over the whole capture. */
	uint64_t nlegit = nsyn / 500 + 20;
	for (uint64_t i = 0; i < nlegit; i++) {
		int64_t t0 = (int64_t)(urand() * (double)(t_end - 2 * SEC));
		enum ctype ty = urand() < 0.6 ? T_FOUR_WAY_CLI : T_THREE_SEG;
		script_conn(ty, t0, 0, server, sport);
	}

	double mean_gap = (double)flood_len / (double)nsyn;
	double t = (double)pre;
	for (uint64_t i = 0; i < nsyn; i++) {
		t += expo(mean_gap);
		struct conn *c = new_conn();
		c->type = T_FLOOD;
		by_type[T_FLOOD]++;
		uint32_t src;
		do /* a random unicast address outside 0/8, 10/8, 127/8 and 224/3 */
			src = rnd32();
		while ((src >> 24) == 0 || (src >> 24) == 10 || (src >> 24) == 127 || (src >> 24) >= 224);
		v4_addr(c->addr[C], src);
		memcpy(c->addr[S], server, 16);
		c->port[C] = (uint16_t)rrange(1024, 65535);
		c->port[S] = sport;
		c->ttl[C] = (uint8_t)rrange(40, 250);
		c->ttl[S] = 64;
		c->flood_opts = urand() < 0.5;
		static const uint16_t wins[] = { 512, 1024, 5840, 8192, 29200, 64240, 65535 };
		c->flood_win = wins[rrange(0, 6)];
		c->mss = 1460;
		c->ipid[C] = (uint16_t)rnd32();
		c->ipid[S] = 0;
		struct bld b = { .ci = (uint32_t)(nconns - 1) };
		uint32_t isn = rnd32();
		emit(&b, (int64_t)t, C, F_SYN, isn, 0, 0);
		if (urand() < answered)
			emit(&b, (int64_t)t + rrange(20, 300) * US, S, F_SYN | F_ACK, rnd32(), isn + 1, 0);
	}
}

/* ---- writing ---------------------------------------------------------- */

static int cmp_pkt(const void *x, const void *y)
{
	const struct pkt *a = x, *b = y;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (a->conn != b->conn)
		return a->conn < b->conn ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static uint8_t filler[65536 + 2048];

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static void le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	fwrite(b, 1, 4, f);
}

/* TCP options as the sender's stack would put them; returns their length. */
static int tcp_options(struct conn *c, const struct pkt *p, uint8_t *o)
{
	int n = 0;
	uint32_t tsval = c->tsbase[p->dir] + (uint32_t)(p->t / MS);
	if (c->type == T_FLOOD) {
		if (p->flags & F_SYN && (p->dir == S || c->flood_opts)) {
			o[0] = 2, o[1] = 4, put16(o + 2, 1460);
			n = 4;
		}
		return n;
	}
	if (p->flags & F_RST)
		return 0;
	if (p->flags & F_SYN) {
		o[n++] = 2, o[n++] = 4, put16(o + n, c->mss), n += 2;
		if (c->ts_opt) { /* Linux: MSS, SACK_PERM, TS, NOP, WS */
			o[n++] = 4, o[n++] = 2;
			o[n++] = 8, o[n++] = 10;
			put32(o + n, tsval), n += 4;
			put32(o + n, p->dir == S ? c->last_tsval[C] : 0), n += 4;
			o[n++] = 1;
			o[n++] = 3, o[n++] = 3, o[n++] = c->wscale[p->dir];
		} else { /* MSS, NOP, WS, NOP, NOP, SACK_PERM */
			o[n++] = 1;
			o[n++] = 3, o[n++] = 3, o[n++] = c->wscale[p->dir];
			o[n++] = 1, o[n++] = 1;
			o[n++] = 4, o[n++] = 2;
		}
	} else if (c->ts_opt) {
		o[n++] = 1, o[n++] = 1;
		o[n++] = 8, o[n++] = 10;
		put32(o + n, tsval), n += 4;
		put32(o + n, c->last_tsval[!p->dir]), n += 4;
	}
	if (c->ts_opt)
		c->last_tsval[p->dir] = tsval;
	return n;
}

static uint64_t write_pcap(const char *path, uint32_t snaplen)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "tp_gen: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	static char iobuf[1 << 20];
	setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
	/* Global header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, LINKTYPE_ETHERNET. */
	le32(f, 0xa1b2c3d4U);
	le32(f, 2U | 4U << 16);
	le32(f, 0);
	le32(f, 0);
	le32(f, snaplen ? snaplen : 262144);
	le32(f, 1);

	static const uint8_t mac_srv[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
	static const uint8_t mac_gw[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	uint8_t frame[14 + 40 + 60 + 1500];
	uint64_t bytes = 0;
	for (size_t i = 0; i < npkts; i++) {
		const struct pkt *p = &pkts[i];
		struct conn *c = &conns[p->conn];
		uint8_t *e = frame, *ip = frame + 14;
		memcpy(e, p->dir == C ? mac_srv : mac_gw, 6);
		memcpy(e + 6, p->dir == C ? mac_gw : mac_srv, 6);
		put16(e + 12, c->v6 ? 0x86dd : 0x0800);
		int iphl = c->v6 ? 40 : 20;
		uint8_t *th = ip + iphl;
		int optlen = tcp_options(c, p, th + 20);
		int thl = 20 + optlen;
		int tcplen = thl + p->len;
		const uint8_t *src = c->addr[p->dir], *dst = c->addr[!p->dir];
		uint32_t sum = 0;
		if (c->v6) {
			put32(ip, 0x60000000U | c->flowlabel);
			put16(ip + 4, (uint32_t)tcplen);
			ip[6] = 6;
			ip[7] = c->ttl[p->dir];
			memcpy(ip + 8, src, 16);
			memcpy(ip + 24, dst, 16);
			sum = csum_add(sum, src, 16);
			sum = csum_add(sum, dst, 16);
		} else {
			ip[0] = 0x45;
			ip[1] = 0;
			put16(ip + 2, (uint32_t)(20 + tcplen));
			put16(ip + 4, c->ipid[p->dir]++);
			put16(ip + 6, c->type == T_FLOOD && p->dir == C ? 0 : 0x4000); /* DF, except spoofed SYNs */
			ip[8] = c->ttl[p->dir];
			ip[9] = 6;
			put16(ip + 10, 0);
			memcpy(ip + 12, src, 4);
			memcpy(ip + 16, dst, 4);
			put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
			sum = csum_add(sum, src, 4);
			sum = csum_add(sum, dst, 4);
		}
		sum += 6 + (uint32_t)tcplen; /* pseudo-header: protocol and TCP length */
		put16(th, c->port[p->dir]);
		put16(th + 2, c->port[!p->dir]);
		put32(th + 4, p->seq);
		put32(th + 8, p->ack);
		put16(th + 12, (uint32_t)(thl / 4) << 12 | p->flags);
		uint32_t win;
		if (c->type == T_FLOOD)
			win = p->dir == C ? c->flood_win : 65160;
		else if (p->flags & F_SYN)
			win = p->dir == C ? 64240 : 65160;
		else if (p->flags & F_RST && p->len == 0 && p->seq == 0)
			win = 0;
		else
			win = p->dir == C ? 502 : 509; /* scaled by 2^7 */
		put16(th + 14, win);
		put16(th + 16, 0);
		put16(th + 18, 0);
		/* Payload: printable filler that depends on the sequence number. */
		memcpy(th + thl, filler + (p->seq & 0xffff), p->len);
		sum = csum_add(sum, th, (size_t)tcplen);
		put16(th + 16, csum_fold(sum));

		uint32_t len = (uint32_t)(14 + iphl + tcplen);
		uint32_t incl = snaplen && len > snaplen ? snaplen : len;
		int64_t us = p->t / 1000;
		le32(f, (uint32_t)(EPOCH_S + us / 1000000));
		le32(f, (uint32_t)(us % 1000000));
		le32(f, incl);
		le32(f, len);
		fwrite(frame, 1, incl, f);
		bytes += 16 + incl;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "tp_gen: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return bytes + 24;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tp_gen --mixed|--flood --seed N -o FILE.pcap [options]\n"
	        "  --mixed            ~2M packets, 100,000 interleaved connections over ~100 s\n"
	        "  --flood            1M spoofed SYNs toward one server, 30%% answered, plus background\n"
	        "  --seed N           the same seed gives the same file (default 1)\n"
	        "  --scale F          multiply the connection / SYN count (default 1)\n"
	        "  --conns N          --mixed: connections (default 100000)\n"
	        "  --syns N           --flood: spoofed SYNs (default 1000000)\n"
	        "  --answered F       --flood: share of SYNs answered by a SYN-ACK (default 0.3)\n"
	        "  --duration S       capture length (--mixed 100 s) or flood length (--flood 20 s)\n"
	        "  --v6-share F       --mixed: share of IPv6 connections (default 0.1)\n"
	        "  --snaplen N        cut every packet to N bytes (default: whole packets)\n");
}

int main(int argc, char **argv)
{
	int mode = 0;
	uint64_t seed = 1, nconn = 100000, nsyn = 1000000;
	double scale = 1.0, answered = 0.3, v6 = 0.1, duration = -1;
	uint32_t snaplen = 0;
	const char *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { usage(stderr); return 1; } i++; } while (0)
		if (!strcmp(a, "--mixed")) mode = 1;
		else if (!strcmp(a, "--flood")) mode = 2;
		else if (!strcmp(a, "--seed")) { NEEDV(); seed = strtoull(v, NULL, 0); }
		else if (!strcmp(a, "-o")) { NEEDV(); out = v; }
		else if (!strcmp(a, "--scale")) { NEEDV(); scale = atof(v); }
		else if (!strcmp(a, "--conns")) { NEEDV(); nconn = strtoull(v, NULL, 0); }
		else if (!strcmp(a, "--syns")) { NEEDV(); nsyn = strtoull(v, NULL, 0); }
		else if (!strcmp(a, "--answered")) { NEEDV(); answered = atof(v); }
		else if (!strcmp(a, "--duration")) { NEEDV(); duration = atof(v); }
		else if (!strcmp(a, "--v6-share")) { NEEDV(); v6 = atof(v); }
		else if (!strcmp(a, "--snaplen")) { NEEDV(); snaplen = (uint32_t)strtoul(v, NULL, 0); }
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
		else { fprintf(stderr, "tp_gen: unknown argument '%s'\n", a); usage(stderr); return 1; }
#undef NEEDV
	}
	if (!mode || !out || scale <= 0 || (snaplen && snaplen < 54)) {
		usage(stderr);
		return 1;
	}
	rng_seed(seed);
	for (size_t i = 0; i < sizeof filler; i++)
		filler[i] = (uint8_t)(' ' + (i * 7 + i / 61) % 95);
	client_port = malloc((V4_CLIENTS + V6_CLIENTS) * sizeof *client_port);
	for (int i = 0; i < V4_CLIENTS + V6_CLIENTS; i++)
		client_port[i] = (uint16_t)rrange(32768, 60999);

	if (mode == 1)
		gen_mixed((uint64_t)((double)nconn * scale + 0.5), duration > 0 ? duration : 100.0, v6);
	else
		gen_flood((uint64_t)((double)nsyn * scale + 0.5), answered, duration > 0 ? duration : 20.0);

	qsort(pkts, npkts, sizeof *pkts, cmp_pkt);
	uint64_t bytes = write_pcap(out, snaplen);

	uint64_t v6c = 0;
	for (size_t i = 0; i < nconns; i++)
		v6c += conns[i].v6;
	fprintf(stderr, "tp_gen: %s: %zu packets, %zu connections (%.1f%% IPv6), %.1f s, %" PRIu64
	        " bytes (%.0f per packet)\n",
	        out, npkts, nconns, nconns ? 100.0 * (double)v6c / (double)nconns : 0.0,
	        npkts ? (double)pkts[npkts - 1].t / SEC : 0.0, bytes, npkts ? (double)bytes / (double)npkts : 0.0);
	for (int i = 0; i < T_COUNT; i++)
		if (by_type[i])
			fprintf(stderr, "  %-26s %9" PRIu64 " connections %10" PRIu64 " packets\n", ctype_name[i],
			        by_type[i], pkts_by_type[i]);
	if (dropped_late)
		fprintf(stderr, "  (%" PRIu64 " packets scripted past the end of the capture were left out)\n",
		        dropped_late);
	free(pkts);
	free(conns);
	free(client_port);
	return 0;
}
