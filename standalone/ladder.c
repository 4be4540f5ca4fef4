/*
 * ladder.c - `tcpphase ladder`: one connection as a ladder diagram, the
 * picture of RFC 9293's figures. Client and server are two vertical lines;
 * each segment is an arrow from its sender to its receiver, labelled with
 * its step, flags, relative seq/ack and payload length; both endpoints'
 * states are written where they change. Written as SVG, or as plain text
 * on a terminal.
 *
 * Everything drawn comes from the core as the CLI's --segments gets it (the
 * verdicts, with their late amendments) and from the segment the front end
 * decoded (seq, ack, flags, length); only the selected connection is kept.
 */
#define _DEFAULT_SOURCE /* isatty, fileno, unlink */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyse.h"
#include "subcmd.h"
#include "svg.h"

/* ---- choosing the connection --------------------------------------------- */

enum sel_kind {
	SEL_UID,   /* the uid of its records */
	SEL_FRAME, /* a frame of one of its segments: found in a first pass */
	SEL_FIRST, /* the frame of its first segment (what a uid stands for) */
	SEL_TUPLE, /* its addresses and ports, either way round: the first such connection */
};

struct lseg {
	struct tp_segment s; /* as decoded: seq, ack, flags, length */
	struct tp_verdict v; /* the core's verdict, amended */
};

struct ladder {
	enum sel_kind how;
	char uid[20];
	uint64_t frame;
	struct tp_addr a, b;
	uint16_t pa, pb;
	int found;
	uint64_t conn;      /* the core's index of the connection, once found */
	uint64_t first;     /* SEL_FRAME's first pass: the first frame of the frame's connection */
	uint64_t others;    /* SEL_TUPLE: later connections on the same tuple */
	char other_uid[20]; /* the first of them */
	struct lseg *seg;   /* its segments, in frame order */
	size_t n, cap;
	int oom;
	struct tp_conn_record rec;
	int have_rec;
	int all;           /* --all: every segment an arrow, no run folded */
	int range;         /* --frames given: only these frames drawn */
	uint64_t from, to; /* its bounds, inclusive */
	uint64_t seed; /* the capture's uid seed */
};

static int tuple_match(const struct ladder *L, const struct tp_segment *s)
{
	return (sub_addr_eq(&s->src, &L->a) && s->sport == L->pa && sub_addr_eq(&s->dst, &L->b) && s->dport == L->pb) ||
	       (sub_addr_eq(&s->src, &L->b) && s->sport == L->pb && sub_addr_eq(&s->dst, &L->a) && s->dport == L->pa);
}

/* Is this segment, the first of its connection, the start of the one asked for? */
static int is_selected(const struct ladder *L, const struct tp_segment *s, const struct tp_verdict *v)
{
	char uid[20];
	switch (L->how) {
	case SEL_UID:
		tp_conn_uid(L->seed, v->first_frame, uid);
		return strcmp(uid, L->uid) == 0;
	case SEL_FIRST: return v->first_frame == L->frame;
	case SEL_TUPLE: return tuple_match(L, s);
	case SEL_FRAME: break;
	}
	return 0;
}

static void keep(struct ladder *L, const struct tp_segment *s, const struct tp_verdict *v)
{
	if (L->n == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 64;
		struct lseg *ns = realloc(L->seg, cap * sizeof *ns);
		if (!ns) {
			L->oom = 1;
			return;
		}
		L->seg = ns;
		L->cap = cap;
	}
	L->seg[L->n].s = *s;
	L->seg[L->n].v = *v;
	L->n++;
}

static void on_segment(void *user, const struct tp_analyzer *an, const struct tp_segment *s,
                       const struct tp_verdict *v)
{
	(void)an;
	struct ladder *L = user;
	if (v->frame == v->first_frame && is_selected(L, s, v)) {
		if (!L->found) {
			L->found = 1;
			L->conn = v->conn;
		} else if (L->others++ == 0) {
			tp_conn_uid(L->seed, v->first_frame, L->other_uid);
		}
	}
	if (L->found && v->conn == L->conn)
		keep(L, s, v);
}

static void on_seed(void *user, uint64_t seed)
{
	((struct ladder *)user)->seed = seed;
}

/* Late verdicts change what the segments already kept meant. */
static void on_amend(void *user, const struct tp_amend *a)
{
	struct ladder *L = user;
	if (!L->found || a->conn != L->conn)
		return;
	size_t lo = 0, hi = L->n; /* kept in frame order */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (L->seg[mid].v.frame < a->frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < L->n && L->seg[lo].v.frame == a->frame)
		tp_verdict_amend(&L->seg[lo].v, a);
}

static void on_conn(void *user, const struct tp_conn_record *r)
{
	struct ladder *L = user;
	if (L->found && r->conn == L->conn && !L->have_rec) {
		L->rec = *r;
		L->have_rec = 1;
	}
}

/* First pass for --conn FRAME: which connection that frame belongs to. */
static void find_frame(void *user, const struct tp_analyzer *an, const struct tp_segment *s,
                       const struct tp_verdict *v)
{
	(void)an;
	struct ladder *L = user;
	(void)s;
	if (!L->found && v->frame == L->frame) {
		L->found = 1;
		L->first = v->first_frame;
	}
}

/* "SRC:PORT-DST:PORT" (or "->", as the connection records print it). */
static int parse_tuple(const char *arg, struct ladder *L)
{
	char buf[160];
	size_t n = 0;
	for (const char *p = arg; *p && n + 1 < sizeof buf; p++)
		if (!isspace((unsigned char)*p))
			buf[n++] = *p;
	buf[n] = '\0';
	int depth = 0;
	char *dash = NULL;
	for (char *p = buf; *p && !dash; p++) {
		depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
		if (*p == '-' && depth == 0)
			dash = p;
	}
	if (!dash)
		return -1;
	const char *second = dash[1] == '>' ? dash + 2 : dash + 1;
	return sub_parse_endpoint(buf, dash, &L->a, &L->pa, NULL) == 0 &&
	                       sub_parse_endpoint(second, NULL, &L->b, &L->pb, NULL) == 0
	               ? 0
	               : -1;
}

static int parse_conn(const char *arg, struct ladder *L)
{
	size_t len = strlen(arg), digits = strspn(arg, "0123456789");
	if (len && digits == len) {
		L->how = SEL_FRAME;
		L->frame = strtoull(arg, NULL, 10);
		return L->frame ? 0 : -1;
	}
	if (len == 18 && arg[0] == 'C') {
		for (size_t i = 1; i < len; i++)
			if (!isalnum((unsigned char)arg[i]))
				return -1;
		L->how = SEL_UID;
		memcpy(L->uid, arg, len + 1);
		return 0;
	}
	L->how = SEL_TUPLE;
	return parse_tuple(arg, L);
}

/* ---- what each arrow says ------------------------------------------------ */

/* Sequence numbers are shown relative to each side's ISN, J for the
 * client and K for the server, as RFC 9293's figures write them. */
struct seqbase {
	int known, from_syn;
	uint32_t isn;
};
static const char *const side_sym[2] = { "J", "K" };
static const char *const side_name[2] = { "client", "server" };

static void find_bases(const struct ladder *L, struct seqbase b[2])
{
	memset(b, 0, 2 * sizeof *b);
	for (size_t i = 0; i < L->n; i++) {
		const struct lseg *g = &L->seg[i];
		struct seqbase *sb = &b[g->v.dir];
		int syn = (g->s.flags & TP_TH_SYN) != 0;
		/* an RST's seq says nothing of a side that never sent anything else
		 * (a refusal's is often 0): such a side keeps absolute numbers */
		if (sb->from_syn || (sb->known && !syn) || (g->s.flags & TP_TH_RST))
			continue;
		sb->known = 1;
		sb->from_syn = syn;
		sb->isn = g->s.seq;
	}
}

static void rel_str(uint32_t value, const struct seqbase *b, const char *sym, char *buf, size_t len)
{
	if (!b->known) {
		snprintf(buf, len, "%" PRIu32, value);
		return;
	}
	int32_t d = (int32_t)(value - b->isn);
	if (d == 0)
		snprintf(buf, len, "%s", sym);
	else
		snprintf(buf, len, "%s%c%" PRId64, sym, d > 0 ? '+' : '-', d > 0 ? (int64_t)d : -(int64_t)d);
}

struct label {
	char step[32];   /* "FIN 3/4 rtx", "" for a segment with no step */
	char body[160];  /* "FIN-ACK seq=K+301 ack=J+22 len=5" */
	char anoms[400]; /* "lost_final_ack, fin_retransmit" */
};

static void label_of(const struct lseg *g, const struct seqbase b[2], struct label *l)
{
	const struct tp_verdict *v = &g->v;
	int me = v->dir, peer = !v->dir;
	char fl[48], seq[32], ack[32] = "", len[24] = "";
	snprintf(l->step, sizeof l->step, "%s%s", tp_step_label(v->step), v->rtx ? " rtx" : "");
	tp_flag_names(g->s.flags, fl, sizeof fl);
	rel_str(g->s.seq, &b[me], side_sym[me], seq, sizeof seq);
	if (g->s.flags & TP_TH_ACK) {
		char a[24];
		rel_str(g->s.ack, &b[peer], side_sym[peer], a, sizeof a);
		snprintf(ack, sizeof ack, " ack=%s", a);
	}
	if (g->s.len)
		snprintf(len, sizeof len, " len=%" PRIu32, g->s.len);
	snprintf(l->body, sizeof l->body, "%s seq=%s%s%s", fl, seq, ack, len);
	size_t n = 0;
	l->anoms[0] = '\0';
	for (int i = 0; i < TP_A_COUNT && n < sizeof l->anoms; i++)
		if (v->anomalies & TP_ABIT(i))
			n += (size_t)snprintf(l->anoms + n, sizeof l->anoms - n, "%s%s", n ? ", " : "",
			                      tp_anomaly_table[i].name);
}

/* Relative time since the connection's first segment, in seconds. */
static void time_str(int64_t ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	snprintf(buf, len, "%" PRId64 ".%06" PRId64, ns / 1000000000, (ns % 1000000000) / 1000);
}

/* ---- which segments get a row of their own -------------------------------- */

/*
 * A run of at least FOLD_MIN plain data segments is drawn as one row. Eight:
 * a request/response exchange (the scenario captures' request, ACK,
 * response, ACK is a run of 4) and short dialogues of twice that stay drawn
 * whole, and with the handshake and the teardown they still fit a window
 * (8 rows are 368 px); a longer run is a transfer whose arrows say nothing
 * that its count, frames, duration and bytes each way do not.
 */
#define FOLD_MIN 8

enum row_kind {
	ROW_SEG,    /* one segment: an arrow */
	ROW_FOLD,   /* a run of plain data segments */
	ROW_HIDDEN, /* the segments before or after --frames' range */
};

struct row {
	enum row_kind kind;
	size_t a, b; /* its segments: L->seg[a..b] */
};

struct plan {
	struct row *row;
	size_t n;
	size_t lo, hi; /* the segments in --frames' range: all of them without it */
	int folds;     /* a ROW_FOLD is drawn: the legend explains it */
};

/* Its arrow would only repeat the ones around it with new seq, ack and
 * length: no step, no retransmission, no anomaly, no state changed. */
static int is_plain(const struct ladder *L, size_t i)
{
	if (i == 0)
		return 0;
	const struct tp_verdict *v = &L->seg[i].v, *prev = &L->seg[i - 1].v;
	return v->phase == TP_PHASE_DATA && v->step == TP_STEP_NONE && !v->rtx && !v->anomalies &&
	       v->orig_state == prev->orig_state && v->resp_state == prev->resp_state;
}

/* How many plain segments from i on, up to hi. */
static size_t plain_run(const struct ladder *L, size_t i, size_t hi)
{
	size_t n = 0;
	while (i + n <= hi && is_plain(L, i + n))
		n++;
	return n;
}

/* The segments with frames in --frames' range: lo..hi (kept in frame
 * order); -1 if there is none. */
static int frame_range(const struct ladder *L, size_t *lo, size_t *hi)
{
	size_t a = 0, b = L->n;
	while (a < L->n && L->seg[a].v.frame < L->from)
		a++;
	while (b > a && L->seg[b - 1].v.frame > L->to)
		b--;
	if (a == b)
		return -1;
	*lo = a;
	*hi = b - 1;
	return 0;
}

static void add_row(struct plan *p, enum row_kind kind, size_t a, size_t b)
{
	p->row[p->n++] = (struct row){ kind, a, b };
	p->folds |= kind == ROW_FOLD;
}

/* The rows to draw; -1 if out of memory. --frames' range must hold a
 * segment (frame_range). */
static int plan_rows(const struct ladder *L, struct plan *p)
{
	memset(p, 0, sizeof *p);
	p->hi = L->n - 1;
	if (L->range)
		frame_range(L, &p->lo, &p->hi);
	p->row = malloc((L->n + 2) * sizeof *p->row);
	if (!p->row)
		return -1;
	if (p->lo > 0)
		add_row(p, ROW_HIDDEN, 0, p->lo - 1);
	for (size_t i = p->lo; i <= p->hi;) {
		/* --frames asks to see its segments: folding them would hide them again */
		size_t run = L->all || L->range ? 0 : plain_run(L, i, p->hi);
		if (run >= FOLD_MIN) {
			add_row(p, ROW_FOLD, i, i + run - 1);
			i += run;
		} else {
			add_row(p, ROW_SEG, i, i);
			i++;
		}
	}
	if (p->hi + 1 < L->n)
		add_row(p, ROW_HIDDEN, p->hi + 1, L->n - 1);
	return 0;
}

/* The silence before row k, from the last segment of the row above: time
 * inside a fold is not drawn. */
static int64_t gap_before(const struct ladder *L, const struct plan *p, size_t k)
{
	return L->seg[p->row[k].a].v.ts_ns - L->seg[p->row[k - 1].b].v.ts_ns;
}

/* Are a segment's states news? Not if the row above ended in the same
 * ones; always after segments not shown. */
static int state_fresh(const struct plan *p, size_t k)
{
	return k == 0 || p->row[k - 1].kind == ROW_HIDDEN;
}

/* 1234567 as "1,234,567": counts a reader compares at a glance. */
static void group_digits(uint64_t v, char *buf, size_t len)
{
	char d[24];
	int n = snprintf(d, sizeof d, "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = '\0';
}

/* What a fold or hidden row says: what it stands for, and a fold's bytes
 * each way ("" for a hidden row). utf8: the SVG's dash and arrows; plain
 * ASCII for the terminal, whose columns are counted in bytes. */
struct fold_label {
	char what[192]; /* "8,314 data segments, frames #4–#8317, 600.931043 s" */
	char bytes[128]; /* "41,420 bytes client→server, 159,830 server→client" */
};

static void fold_label_of(const struct ladder *L, const struct row *r, int utf8, struct fold_label *l)
{
	size_t n = r->b - r->a + 1;
	char count[32], frames[64], t[32], b[2][32];
	group_digits(n, count, sizeof count);
	if (n == 1)
		snprintf(frames, sizeof frames, "frame #%" PRIu64, L->seg[r->a].v.frame);
	else
		snprintf(frames, sizeof frames, "frames #%" PRIu64 "%s#%" PRIu64, L->seg[r->a].v.frame,
		         utf8 ? "\xe2\x80\x93" : "-", L->seg[r->b].v.frame);
	l->bytes[0] = '\0';
	if (r->kind == ROW_HIDDEN) {
		snprintf(l->what, sizeof l->what, "%s not shown (%s segment%s)", frames, count, n == 1 ? "" : "s");
		return;
	}
	uint64_t bytes[2] = { 0, 0 };
	for (size_t i = r->a; i <= r->b; i++)
		bytes[L->seg[i].v.dir == TP_DIR_ORIG ? 0 : 1] += L->seg[i].s.len;
	group_digits(bytes[0], b[0], sizeof b[0]);
	group_digits(bytes[1], b[1], sizeof b[1]);
	time_str(L->seg[r->b].v.ts_ns - L->seg[r->a].v.ts_ns, t, sizeof t);
	snprintf(l->what, sizeof l->what, "%s data segments, %s, %s s", count, frames, t);
	if (utf8)
		snprintf(l->bytes, sizeof l->bytes, "%s bytes client\xe2\x86\x92server, %s server\xe2\x86\x92" "client", b[0],
		         b[1]);
	else
		snprintf(l->bytes, sizeof l->bytes, "%s bytes ->, %s <-", b[0], b[1]);
}

/* Past these, pictures fail where people look at them: librsvg (and so
 * rsvg-convert and the viewers built on it) renders no image over 32767
 * px either way (tried: 32767 renders, 32768 is refused, librsvg 2.54);
 * a text ladder of thousands of rows is no longer read. */
#define SVG_MAX_PX 32767
#define TEXT_MAX_ROWS 2000

static void warn_too_big(const struct ladder *L, const char *what)
{
	fprintf(stderr, "tcpphase ladder: warning: %s; --frames A-B draws a part of the connection (its frames run from "
	        "#%" PRIu64 " to #%" PRIu64 ")%s\n", what, L->seg[0].v.frame, L->seg[L->n - 1].v.frame,
	        L->all ? ", and without --all runs of data segments are folded" : "");
}

/* ---- the vertical layout: time, compressed where it is long ---------------- */

#define ROW_PX 46.0     /* least distance between two arrows: a label above ... */
#define ANOM_PX 16.0    /* ... and more when anomalies are written below */
#define PX_PER_S 200.0  /* a gap adds its duration at this scale ... */
#define GAP_MAX_PX 110.0 /* ... up to this much; a longer gap is cut to this and marked */
#define SLANT_PX 14.0   /* an arrow falls this much from sender to receiver: it takes time */
#define FOLD_TOP_PX 13.0    /* a fold's band reaches this far above its row's y ... */
#define FOLD_BOTTOM_PX 22.0 /* ... and this far below it: two lines of text */
#define FOLD_PX 10.0        /* the room that takes beyond an arrow's */

/* A gap (ns) too long to draw to scale. */
static int gap_compressed(int64_t dt)
{
	return (double)dt / 1e9 * PX_PER_S > GAP_MAX_PX;
}

/* Room a row takes beyond the usual: its anomalies' line, a fold's band. */
static double row_extra(const struct ladder *L, const struct row *r)
{
	if (r->kind != ROW_SEG)
		return FOLD_PX;
	return L->seg[r->a].v.anomalies ? ANOM_PX : 0;
}

/* Where a row's drawing ends: an arrow's head, a fold's band. */
static double row_bottom(const struct row *r, double y)
{
	return y + (r->kind == ROW_SEG ? SLANT_PX : FOLD_BOTTOM_PX);
}

/* y of each row; returns the y of the last. */
static double layout_rows(const struct ladder *L, const struct plan *p, double top, double *y)
{
	for (size_t k = 0; k < p->n; k++) {
		if (k == 0) {
			y[k] = top;
			continue;
		}
		int64_t dt = gap_before(L, p, k);
		double extra = dt <= 0 ? 0 : gap_compressed(dt) ? GAP_MAX_PX : (double)dt / 1e9 * PX_PER_S;
		y[k] = y[k - 1] + ROW_PX + extra + row_extra(L, &p->row[k - 1]);
	}
	return p->n ? y[p->n - 1] : top;
}

/* Halfway through the silence before row k: where its mark goes. */
static double gap_mid(const struct plan *p, const double *y, size_t k)
{
	return (row_bottom(&p->row[k - 1], y[k - 1]) + y[k]) / 2;
}

/* ---- SVG ------------------------------------------------------------------ */

#define W_PX 920.0
#define X_FRAME 16.0  /* frame numbers */
#define X_AXIS 118.0  /* the time axis; times to its left */
#define X_ORIG 300.0  /* the client's line; its states to its left */
#define X_RESP 740.0  /* the server's line; its states to its right */
#define TOP_PX 150.0  /* the first arrow */

struct pic {
	FILE *f;
	const struct ladder *L;
	const struct plan *plan;
	struct seqbase b[2];
	const char *file;
};

static void svg_header(struct pic *p)
{
	const struct ladder *L = p->L;
	const struct lseg *g0 = &L->seg[0];
	const struct tp_segment *s0 = &g0->s;
	/* orig is the sender of a segment of dir ORIG */
	const struct tp_addr *oa = g0->v.dir == TP_DIR_ORIG ? &s0->src : &s0->dst;
	const struct tp_addr *ra = g0->v.dir == TP_DIR_ORIG ? &s0->dst : &s0->src;
	uint16_t op = g0->v.dir == TP_DIR_ORIG ? s0->sport : s0->dport;
	uint16_t rp = g0->v.dir == TP_DIR_ORIG ? s0->dport : s0->sport;
	char o[64], r[64], uid[20], t[32], line[400];
	sub_endpoint_str(oa, op, o, sizeof o);
	sub_endpoint_str(ra, rp, r, sizeof r);
	tp_conn_uid(L->seed, g0->v.first_frame, uid);
	time_str(L->seg[L->n - 1].v.ts_ns - g0->v.ts_ns, t, sizeof t);
	snprintf(line, sizeof line, "%s \xe2\x86\x92 %s", o, r);
	svg_text(p->f, X_FRAME, 30, "class=\"title\" font-size=\"17\" font-weight=\"bold\"", line);
	snprintf(line, sizeof line, "uid %s \xc2\xb7 %s \xc2\xb7 %zu segments in %s s%s", uid, sub_basename(p->file), L->n,
	         t, g0->v.dir_inferred ? " \xc2\xb7 originator guessed (no SYN seen)" : "");
	svg_text(p->f, X_FRAME, 50, "class=\"subtitle\" fill=\"" SVG_GREY "\"", line);
	size_t n = (size_t)snprintf(line, sizeof line, "seq and ack relative to each side's ISN:");
	for (int d = 0; d < 2; d++) {
		const struct seqbase *sb = &p->b[d];
		if (sb->known)
			n += (size_t)snprintf(line + n, sizeof line - n, "%s %s = %" PRIu32 " (%s%s)", d ? "," : "",
			                      side_sym[d], sb->isn, side_name[d],
			                      sb->from_syn ? "'s ISN" : "'s first seq seen: no SYN captured");
	}
	svg_text(p->f, X_FRAME, 68, "class=\"isn\"", line);
	svg_text(p->f, X_ORIG, TOP_PX - 46, "class=\"endpoint orig\" text-anchor=\"middle\" font-weight=\"bold\"",
	         "client (originator)");
	svg_text(p->f, X_ORIG, TOP_PX - 30, "class=\"endpoint orig\" text-anchor=\"middle\"", o);
	svg_text(p->f, X_RESP, TOP_PX - 46, "class=\"endpoint resp\" text-anchor=\"middle\" font-weight=\"bold\"",
	         "server (responder)");
	svg_text(p->f, X_RESP, TOP_PX - 30, "class=\"endpoint resp\" text-anchor=\"middle\"", r);
	svg_text(p->f, X_AXIS - 6, TOP_PX - 30, "class=\"axis-title\" text-anchor=\"end\" fill=\"" SVG_GREY "\"",
	         "time (s)");
	svg_text(p->f, X_FRAME, TOP_PX - 30, "class=\"axis-title\" fill=\"" SVG_GREY "\"", "frame");
}

/* A vertical line from y0 to y1, interrupted by the marks of compressed
 * gaps and dotted across the rows that stand for segments not drawn. */
static void broken_line(struct pic *p, double x, double y0, double y1, const double *y, const char *attrs)
{
	const struct plan *pl = p->plan;
	char dotted[240];
	snprintf(dotted, sizeof dotted, "%s stroke-dasharray=\"2,4\"", attrs);
	double from = y0;
	for (size_t k = 0; k < pl->n; k++) {
		if (k && gap_compressed(gap_before(p->L, pl, k))) {
			double mid = gap_mid(pl, y, k);
			svg_line(p->f, x, from, x, mid - 7, attrs);
			/* the usual "axis break": two short parallel strokes */
			svg_line(p->f, x - 7, mid - 4, x + 7, mid - 9,
			         "class=\"break\" stroke=\"" SVG_GREY "\" stroke-width=\"1.5\"");
			svg_line(p->f, x - 7, mid + 6, x + 7, mid + 1,
			         "class=\"break\" stroke=\"" SVG_GREY "\" stroke-width=\"1.5\"");
			from = mid + 7;
		}
		if (pl->row[k].kind != ROW_SEG) {
			svg_line(p->f, x, from, x, y[k] - FOLD_TOP_PX, attrs);
			svg_line(p->f, x, y[k] - FOLD_TOP_PX, x, y[k] + FOLD_BOTTOM_PX, dotted);
			from = y[k] + FOLD_BOTTOM_PX;
		}
	}
	svg_line(p->f, x, from, x, y1, attrs);
}

static void svg_gaps(struct pic *p, const double *y)
{
	const struct plan *pl = p->plan;
	for (size_t k = 1; k < pl->n; k++) {
		int64_t dt = gap_before(p->L, pl, k);
		if (!gap_compressed(dt))
			continue;
		char t[32], line[96];
		time_str(dt, t, sizeof t);
		snprintf(line, sizeof line, "\xe2\x89\x88 %s s later (gap compressed)", t);
		svg_text(p->f, (X_ORIG + X_RESP) / 2, gap_mid(pl, y, k) + 4,
		         "class=\"gap\" text-anchor=\"middle\" font-style=\"italic\" fill=\"" SVG_GREY "\"", line);
	}
}

/* A state written beside its endpoint's line, in a box. */
static void svg_state(struct pic *p, int side, double y, uint8_t state)
{
	const char *name = tp_state_name(state);
	double w = svg_text_width(name, 11) + 10, x = side == TP_DIR_ORIG ? X_ORIG - 6 - w : X_RESP + 6;
	fprintf(p->f, "<rect class=\"state-box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"17\" rx=\"3\" "
	        "fill=\"#eef3fb\" stroke=\"#7d9cc9\"/>\n", x, y - 8.5, w);
	fprintf(p->f, "<text class=\"state %s\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n",
	        side == TP_DIR_ORIG ? "orig" : "resp", x + w / 2, y + 4, name);
}

/* The arrow from the sender's line to the receiver's, its head and labels. */
static void svg_arrow(struct pic *p, const struct lseg *g, double y)
{
	struct label l;
	label_of(g, p->b, &l);
	int fwd = g->v.dir == TP_DIR_ORIG, red = l.anoms[0] != '\0';
	const char *col = red ? SVG_RED : SVG_INK;
	double x1 = fwd ? X_ORIG : X_RESP, x2 = fwd ? X_RESP : X_ORIG, y2 = y + SLANT_PX;
	double ux = (x2 - x1) / (X_RESP - X_ORIG), hx = x2 - ux * 11; /* arrowhead base */
	fprintf(p->f, "<g class=\"segment\" data-frame=\"%" PRIu64 "\">\n", g->v.frame);
	fprintf(p->f, "<line class=\"arrow\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
	        "stroke-width=\"1.6\"%s/>\n", x1, y, hx, y2 - SLANT_PX * 11 / (X_RESP - X_ORIG), col,
	        g->v.rtx ? " stroke-dasharray=\"7,4\"" : "");
	fprintf(p->f, "<polygon class=\"arrowhead\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", x2, y2,
	        hx, y2 - 5, hx, y2 + 4, col);
	double mx = (X_ORIG + X_RESP) / 2, my = y + SLANT_PX / 2;
	fprintf(p->f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\" stroke=\"#ffffff\" "
	        "stroke-width=\"4\" stroke-linejoin=\"round\" paint-order=\"stroke\">", mx, my - 8, col);
	if (l.step[0]) {
		fprintf(p->f, "<tspan class=\"step\" font-weight=\"bold\">");
		svg_puts(p->f, l.step);
		fprintf(p->f, "</tspan>  ");
	}
	svg_puts(p->f, l.body);
	fprintf(p->f, "</text>\n");
	if (red) {
		fprintf(p->f, "<text class=\"anomalies\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\" "
		        "font-weight=\"bold\">\xe2\x9a\xa0 ", mx, my + 19, SVG_RED);
		svg_puts(p->f, l.anoms);
		fprintf(p->f, "</text>\n");
	}
	fprintf(p->f, "</g>\n");
}

/* A row's time on the axis, relative to the connection's first segment. */
static void svg_time(struct pic *p, double y, int64_t ts_ns)
{
	char t[32];
	time_str(ts_ns - p->L->seg[0].v.ts_ns, t, sizeof t);
	svg_line(p->f, X_AXIS - 4, y, X_AXIS + 4, y, "class=\"tick\" stroke=\"" SVG_GREY "\"");
	svg_text(p->f, X_AXIS - 8, y + 4, "class=\"time\" text-anchor=\"end\" font-size=\"11\"", t);
}

/* Segment i's row: time, frame, arrow, and the states it changed (all of
 * them if fresh: nothing above says what they were). */
static void svg_row(struct pic *p, size_t i, double y, int fresh)
{
	const struct lseg *g = &p->L->seg[i], *prev = i ? g - 1 : g;
	char fr[32];
	snprintf(fr, sizeof fr, "#%" PRIu64, g->v.frame);
	svg_time(p, y, g->v.ts_ns);
	svg_text(p->f, X_FRAME, y + 4, "class=\"frame\" font-size=\"11\" fill=\"" SVG_GREY "\"", fr);
	svg_arrow(p, g, y);
	/* The sender's state changes as it sends, the receiver's on arrival. */
	int fwd = g->v.dir == TP_DIR_ORIG;
	if (fresh || g->v.orig_state != prev->v.orig_state)
		svg_state(p, TP_DIR_ORIG, fwd ? y : y + SLANT_PX, g->v.orig_state);
	if (fresh || g->v.resp_state != prev->v.resp_state)
		svg_state(p, TP_DIR_RESP, fwd ? y + SLANT_PX : y, g->v.resp_state);
}

/* A fold or the segments outside --frames: a dotted band between the
 * lines, saying what it stands for. */
static void svg_fold(struct pic *p, const struct row *r, double y)
{
	const struct ladder *L = p->L;
	struct fold_label l;
	char line[200];
	fold_label_of(L, r, 1, &l);
	svg_time(p, y, L->seg[r->a].v.ts_ns);
	fprintf(p->f, "<g class=\"fold%s\" data-first-frame=\"%" PRIu64 "\" data-last-frame=\"%" PRIu64 "\" "
	        "data-segments=\"%zu\">\n", r->kind == ROW_HIDDEN ? " hidden" : "", L->seg[r->a].v.frame,
	        L->seg[r->b].v.frame, r->b - r->a + 1);
	svg_rect(p->f, X_ORIG + 10, y - FOLD_TOP_PX, X_RESP - X_ORIG - 20, FOLD_TOP_PX + FOLD_BOTTOM_PX,
	         "class=\"fold-band\" fill=\"#f4f4f4\" stroke=\"" SVG_GREY "\" stroke-dasharray=\"2,3\"");
	snprintf(line, sizeof line, "\xe2\x8b\xae %s", l.what);
	double mx = (X_ORIG + X_RESP) / 2;
	svg_text(p->f, mx, l.bytes[0] ? y + 1 : y + 8, "class=\"fold-label\" text-anchor=\"middle\"", line);
	if (l.bytes[0])
		svg_text(p->f, mx, y + 16, "class=\"fold-bytes\" text-anchor=\"middle\" font-size=\"11\" fill=\"" SVG_GREY
		         "\"", l.bytes);
	fprintf(p->f, "</g>\n");
}

static void svg_footer(struct pic *p, double y)
{
	const struct ladder *L = p->L;
	char line[600];
	if (L->have_rec) {
		const struct tp_conn_record *r = &L->rec;
		snprintf(line, sizeof line,
		         "connection: handshake %s \xc2\xb7 teardown %s \xc2\xb7 Zeek %s %s \xc2\xb7 final states %s / %s "
		         "\xc2\xb7 record written: %s",
		         tp_handshake_name(r->handshake), tp_teardown_name(r->teardown), r->conn_state,
		         r->history[0] ? r->history : "-", tp_state_name(r->orig_state), tp_state_name(r->resp_state),
		         tp_end_reason_name(r->end_reason));
		svg_text(p->f, X_FRAME, y, "class=\"summary\"", line);
		y += 18;
	}
	svg_text(p->f, X_FRAME, y, "class=\"legend\" fill=\"" SVG_GREY "\"",
	         "States are each endpoint's RFC 9293 state after the segment, as tcpphase infers them. Dashed: a "
	         "retransmission (the step was seen before).");
	svg_text(p->f, X_FRAME, y + 16, "class=\"legend\" fill=\"" SVG_GREY "\"",
	         "Red: an anomaly, named under its arrow. Time runs down, to scale for short gaps; a gap over "
	         "0.55 s is cut short and marked \xe2\x89\x88.");
	if (p->plan->folds)
		svg_text(p->f, X_FRAME, y + 32, "class=\"legend\" fill=\"" SVG_GREY "\"",
		         "Dotted: a run of 8 or more data segments without step, retransmission, anomaly or state change, "
		         "in one row (--all draws them).");
}

static void write_svg(FILE *f, const struct ladder *L, const struct plan *pl, const char *file)
{
	struct pic p = { .f = f, .L = L, .plan = pl, .file = file };
	find_bases(L, p.b);
	double *y = malloc(pl->n * sizeof *y);
	if (!y)
		return;
	double last = layout_rows(L, pl, TOP_PX, y), bottom = row_bottom(&pl->row[pl->n - 1], last) + 24;
	double h = bottom + 70 + (pl->folds ? 16 : 0);
	if (h >= SVG_MAX_PX + 0.5) { /* as svg_begin rounds it */
		char px[32], what[128];
		group_digits((uint64_t)(h + 0.5), px, sizeof px);
		snprintf(what, sizeof what, "the SVG is %s px tall, and librsvg (rsvg-convert) renders none over 32,767",
		         px);
		warn_too_big(L, what);
	}
	char title[200], uid[20];
	tp_conn_uid(L->seed, L->seg[0].v.first_frame, uid);
	snprintf(title, sizeof title, "tcpphase ladder: %s (%s)", uid, sub_basename(file));
	svg_begin(f, W_PX, h, title);
	svg_header(&p);
	broken_line(&p, X_AXIS, TOP_PX - 16, bottom, y, "class=\"axis\" stroke=\"" SVG_GREY "\"");
	broken_line(&p, X_ORIG, TOP_PX - 20, bottom, y, "class=\"lifeline orig\" stroke=\"#444444\" stroke-width=\"2\"");
	broken_line(&p, X_RESP, TOP_PX - 20, bottom, y, "class=\"lifeline resp\" stroke=\"#444444\" stroke-width=\"2\"");
	svg_gaps(&p, y);
	for (size_t k = 0; k < pl->n; k++) {
		if (pl->row[k].kind == ROW_SEG)
			svg_row(&p, pl->row[k].a, y[k], state_fresh(pl, k));
		else
			svg_fold(&p, &pl->row[k], y[k]);
	}
	svg_footer(&p, bottom + 28);
	svg_end(f);
	free(y);
}

/* ---- plain text ----------------------------------------------------------- */

#define RED "\033[31m"
#define OFF "\033[0m"

/* "|--- label --->|" or "|<-- label ---|", span characters between the bars;
 * a retransmission is drawn "- - -". */
static void text_arrow(char *buf, size_t span, const char *label, int fwd, int dashed)
{
	size_t ll = strlen(label), left = (span - ll) / 2;
	for (size_t i = 0; i < span; i++) /* dashes counted from the arrowhead: "<- - -", "- - ->" */
		buf[i] = dashed && (fwd ? span - 1 - i : i) % 2 == 0 ? ' ' : '-';
	memcpy(buf + left, label, ll);
	buf[left - 1] = buf[left + ll] = ' ';
	buf[fwd ? span - 1 : 0] = fwd ? '>' : '<';
	buf[span] = '\0';
}

/* A fold's one line of text: "8,314 data segments, frames #4-#8317, ...". */
static void text_fold(const struct ladder *L, const struct row *r, char *buf, size_t len)
{
	struct fold_label l;
	fold_label_of(L, r, 0, &l);
	snprintf(buf, len, "... %s%s%s ...", l.what, l.bytes[0] ? ": " : "", l.bytes);
}

/* Characters between the bars: wide enough for every label. */
static size_t text_span(const struct ladder *L, const struct plan *p, const struct seqbase b[2])
{
	struct label l;
	char text[400];
	size_t span = 40;
	for (size_t k = 0; k < p->n; k++) {
		size_t w;
		if (p->row[k].kind == ROW_SEG) {
			label_of(&L->seg[p->row[k].a], b, &l);
			w = strlen(l.step) + strlen(l.body) + 14; /* room for dashes either side */
		} else {
			text_fold(L, &p->row[k], text, sizeof text);
			w = strlen(text) + 4;
		}
		if (w > span)
			span = w;
	}
	return span;
}

/* A line between the bars drawn dotted (':'), text centred: a gap, a fold. */
static void text_dotted(FILE *f, const char *time, const char *text, size_t span)
{
	fprintf(f, "%7s %10s  %-12s :%*s%*s:\n", "", time, "", (int)(span + strlen(text)) / 2, text,
	        (int)(span - (span + strlen(text)) / 2), "");
}

static void text_seg(FILE *f, const struct ladder *L, size_t i, int fresh, const struct seqbase b[2], size_t span,
                     int color)
{
	const struct lseg *g = &L->seg[i], *prev = i ? g - 1 : g;
	struct label l;
	char arrow[420], t[32], text[200];
	label_of(g, b, &l);
	snprintf(text, sizeof text, "%s%s%s", l.step, l.step[0] ? ": " : "", l.body);
	text_arrow(arrow, span, text, g->v.dir == TP_DIR_ORIG, g->v.rtx);
	int os = fresh || g->v.orig_state != prev->v.orig_state;
	int rs = fresh || g->v.resp_state != prev->v.resp_state;
	time_str(g->v.ts_ns - L->seg[0].v.ts_ns, t, sizeof t);
	fprintf(f, "%7" PRIu64 " %10s  %-12s |%s|", g->v.frame, t, os ? tp_state_name(g->v.orig_state) : "", arrow);
	if (l.anoms[0])
		fprintf(f, "  %-12s %s!! %s%s", rs ? tp_state_name(g->v.resp_state) : "", color ? RED : "", l.anoms,
		        color ? OFF : "");
	else if (rs)
		fprintf(f, "  %s", tp_state_name(g->v.resp_state));
	fputc('\n', f);
}

/* The ladder's rows: one a row, and one a compressed gap. */
static size_t text_rows(const struct ladder *L, const struct plan *p)
{
	size_t n = p->n;
	for (size_t k = 1; k < p->n; k++)
		n += gap_compressed(gap_before(L, p, k));
	return n;
}

static void write_text(FILE *f, const struct ladder *L, const struct plan *p, const char *file, int color)
{
	size_t rows = text_rows(L, p);
	if (rows > TEXT_MAX_ROWS) {
		char n[32], what[96];
		group_digits(rows, n, sizeof n);
		snprintf(what, sizeof what, "the text ladder has %s rows", n);
		warn_too_big(L, what);
	}
	struct seqbase b[2];
	find_bases(L, b);
	size_t span = text_span(L, p, b);
	const struct tp_segment *s0 = &L->seg[0].s;
	int fwd0 = L->seg[0].v.dir == TP_DIR_ORIG;
	char o[64], r[64], uid[20], t[32], text[400];
	sub_endpoint_str(fwd0 ? &s0->src : &s0->dst, fwd0 ? s0->sport : s0->dport, o, sizeof o);
	sub_endpoint_str(fwd0 ? &s0->dst : &s0->src, fwd0 ? s0->dport : s0->sport, r, sizeof r);
	tp_conn_uid(L->seed, L->seg[0].v.first_frame, uid);
	fprintf(f, "%s -> %s  uid %s  (%s)\n", o, r, uid, sub_basename(file));
	for (int d = 0; d < 2; d++)
		if (b[d].known)
			fprintf(f, "%s = %" PRIu32 " (%s%s)\n", side_sym[d], b[d].isn, side_name[d],
			        b[d].from_syn ? "'s ISN" : "'s first seq seen: no SYN captured");
	fprintf(f, "\n%7s %10s  %-12s %-*s%*s  %s\n", "frame", "time", "client", (int)(span + 2) / 2, o,
	        (int)(span + 2 - (span + 2) / 2), r, "server");
	for (size_t k = 0; k < p->n; k++) {
		const struct row *row = &p->row[k];
		int64_t dt = k ? gap_before(L, p, k) : 0;
		if (k && gap_compressed(dt)) {
			time_str(dt, t, sizeof t);
			snprintf(text, sizeof text, "~ %s s later ~", t);
			text_dotted(f, "", text, span);
		}
		if (row->kind == ROW_SEG) {
			text_seg(f, L, row->a, state_fresh(p, k), b, span, color);
			continue;
		}
		time_str(L->seg[row->a].v.ts_ns - L->seg[0].v.ts_ns, t, sizeof t);
		text_fold(L, row, text, sizeof text);
		text_dotted(f, t, text, span);
	}
	if (L->have_rec)
		fprintf(f, "\nconnection: handshake %s, teardown %s, Zeek %s %s, final states %s / %s\n",
		        tp_handshake_name(L->rec.handshake), tp_teardown_name(L->rec.teardown), L->rec.conn_state,
		        L->rec.history[0] ? L->rec.history : "-", tp_state_name(L->rec.orig_state),
		        tp_state_name(L->rec.resp_state));
}

/* ---- the command ---------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tcpphase ladder -r FILE --conn UID|FRAME|TUPLE [-o OUT.svg] [options]\n"
	        "\n"
	        "One TCP connection as a ladder diagram: client and server as two vertical\n"
	        "lines, each segment an arrow labelled with its step, flags, seq/ack relative\n"
	        "to the ISNs and payload length, both endpoints' RFC 9293 states where they\n"
	        "change, retransmissions dashed, anomalies in red.\n"
	        "\n"
	        "  -r FILE                 a pcap or pcapng file ('-' for standard input)\n"
	        "      --conn UID          the connection with this uid (as in the records)\n"
	        "      --conn FRAME        the connection of this frame number\n"
	        "      --conn TUPLE        SRC:PORT-DST:PORT, IPv6 in brackets ([fd00::1]:80):\n"
	        "                          the first connection between them, either way round\n"
	        "  -o OUT                  write the SVG to OUT (OUT ending in .txt: the text\n"
	        "                          ladder; '-': SVG on standard output). Without -o:\n"
	        "                          text on a terminal, else SVG on standard output\n"
	        "      --frames A-B        draw only the segments of frames A to B (A-: from A,\n"
	        "                          -B: up to B), every one; those before and after are\n"
	        "                          one row each\n"
	        "      --all               draw every segment: a run of 8 or more data segments\n"
	        "                          with no step, retransmission, anomaly or state change\n"
	        "                          is otherwise one row (its frames, time and bytes)\n"
	        "  -h, --help              this text\n");
	sub_usage_analysis(f);
}

/* A frame number of --frames, all digits; 0 if it is not one. */
static uint64_t frame_number(const char *s, size_t len)
{
	if (len == 0 || len > 19 || strspn(s, "0123456789") < len)
		return 0;
	return strtoull(s, NULL, 10);
}

/* "A-B", "A-" or "-B" into L->from and L->to; -1 if it is none of them. */
static int parse_frames(const char *arg, struct ladder *L)
{
	const char *dash = strchr(arg, '-');
	if (!dash || dash[1 + strcspn(dash + 1, "-")] != '\0' || (dash == arg && !dash[1]))
		return -1;
	size_t la = (size_t)(dash - arg), lb = strlen(dash + 1);
	L->from = la ? frame_number(arg, la) : 1;
	L->to = lb ? frame_number(dash + 1, lb) : UINT64_MAX;
	L->range = 1;
	return L->from && L->to && L->from <= L->to ? 0 : -1;
}

enum { OPT_ALL = 'a', OPT_FRAMES = 'f' };

static int ladder_opt(int opt, const char *arg, void *user)
{
	struct ladder *L = user;
	if (opt == OPT_ALL) {
		L->all = 1;
		return 0;
	}
	if (parse_frames(arg, L) == 0)
		return 0;
	fprintf(stderr, "tcpphase ladder: --frames '%s' is not A-B, A- or -B (frame numbers from 1, A <= B)\n", arg);
	return -1;
}

/* Parse the command line into L, an and the file names; -1 after a message. */
static int parse_args(int argc, char **argv, struct ladder *L, struct sub_analysis *an, const char **file,
                      const char **out)
{
	static const struct option own[] = { { "all", no_argument, 0, OPT_ALL },
		                             { "frames", required_argument, 0, OPT_FRAMES },
		                             { 0, 0, 0, 0 } };
	const struct sub_args spec = { .name = "tcpphase ladder", .key_opt = "conn", .key_arg = "UID|FRAME|TUPLE",
		                       .usage = usage, .own = own, .own_opt = ladder_opt, .user = L };
	const char *conn = NULL;
	if (sub_parse_args(argc, argv, &spec, an, file, out, &conn) != 0)
		return -1;
	if (parse_conn(conn, L) != 0) {
		fprintf(stderr, "tcpphase ladder: --conn '%s' is not a uid (C + 17 letters and digits), a frame "
		        "number or SRC:PORT-DST:PORT\n", conn);
		return -1;
	}
	return 0;
}

/* The second pass over a file meets the damaged records and packets the
 * first one already warned about: it runs with stderr on /dev/null. */
static int quiet_stderr(void)
{
	fflush(stderr);
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

static void restore_stderr(int saved)
{
	if (saved < 0)
		return;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* --conn FRAME: a first pass finds the connection's first frame. */
static int resolve_frame(const char *file, const char *name, const struct sub_analysis *an, struct ladder *L)
{
	struct ladder probe = { .how = SEL_FRAME, .frame = L->frame };
	struct sub_hooks h = { .user = &probe, .segment = find_frame };
	int rc = sub_analyse(file, an, &h);
	if (rc == SUB_EXIT_INPUT)
		return rc;
	if (!probe.found) {
		fprintf(stderr, "tcpphase ladder: frame %" PRIu64 " of %s is not a TCP segment\n", L->frame,
		        sub_basename(name));
		return SUB_EXIT_USAGE;
	}
	L->how = SEL_FIRST;
	L->frame = probe.first;
	return SUB_EXIT_OK;
}

static int write_out(const struct ladder *L, const char *file, const char *out)
{
	struct plan p;
	if (plan_rows(L, &p) != 0) {
		fprintf(stderr, "tcpphase ladder: out of memory laying out the ladder\n");
		return SUB_EXIT_INPUT;
	}
	size_t ol = out ? strlen(out) : 0;
	int text = out ? ol > 4 && strcmp(out + ol - 4, ".txt") == 0 : isatty(STDOUT_FILENO);
	FILE *f = sub_open_out("tcpphase ladder", out);
	int rc = SUB_EXIT_OUTPUT;
	if (f) {
		if (text)
			write_text(f, L, &p, file, f == stdout && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
		else
			write_svg(f, L, &p, file);
		rc = sub_close_out("tcpphase ladder", f, out, 0);
	}
	free(p.row);
	return rc;
}

/* --frames must name some of the connection's frames: an empty ladder
 * would look like a connection without segments. */
static int check_range(const struct ladder *L)
{
	size_t lo, hi;
	if (!L->range || frame_range(L, &lo, &hi) == 0)
		return 0;
	char to[24] = "";
	if (L->to != UINT64_MAX)
		snprintf(to, sizeof to, "%" PRIu64, L->to);
	fprintf(stderr, "tcpphase ladder: --frames %" PRIu64 "-%s holds none of the connection's frames, which run "
	        "from #%" PRIu64 " to #%" PRIu64 "\n", L->from, to, L->seg[0].v.frame, L->seg[L->n - 1].v.frame);
	return -1;
}

int ladder_main(int argc, char **argv)
{
	struct ladder L;
	struct sub_analysis an;
	const char *file = NULL, *out = NULL;
	memset(&L, 0, sizeof L);
	sub_analysis_default(&an);
	if (parse_args(argc, argv, &L, &an, &file, &out) != 0)
		return SUB_EXIT_USAGE;
	char spool[256] = "";
	const char *name = file; /* for messages and the title */
	if (L.how == SEL_FRAME && strcmp(file, "-") == 0) { /* two passes over standard input */
		if (sub_spool_stdin(spool, sizeof spool) != 0) {
			fprintf(stderr, "tcpphase ladder: cannot keep standard input in a temporary file\n");
			return SUB_EXIT_INPUT;
		}
		file = spool;
	}
	int two_passes = L.how == SEL_FRAME;
	int rc = two_passes ? resolve_frame(file, name, &an, &L) : SUB_EXIT_OK;
	if (rc == SUB_EXIT_OK || rc == SUB_EXIT_DAMAGED) {
		struct sub_hooks h = { .user = &L, .segment = on_segment, .amend = on_amend, .conn = on_conn,
		                       .uid_seed = on_seed };
		int saved = two_passes ? quiet_stderr() : -1;
		rc = sub_analyse(file, &an, &h);
		restore_stderr(saved);
	}
	if (spool[0])
		unlink(spool);
	if (rc == SUB_EXIT_INPUT || rc == SUB_EXIT_USAGE)
		return rc;
	if (L.oom) {
		fprintf(stderr, "tcpphase ladder: out of memory holding the connection's segments\n");
		return SUB_EXIT_INPUT;
	}
	if (!L.found || !L.n) {
		fprintf(stderr, "tcpphase ladder: no such connection in %s\n", sub_basename(name));
		return SUB_EXIT_USAGE;
	}
	if (L.others) {
		char uid[20];
		tp_conn_uid(L.seed, L.seg[0].v.first_frame, uid);
		fprintf(stderr, "tcpphase ladder: %" PRIu64 " later connection%s on these endpoints (next: uid %s); "
		        "drawn: the first, uid %s (--conn UID picks another)\n", L.others, L.others > 1 ? "s" : "",
		        L.other_uid, uid);
	}
	if (check_range(&L) != 0) {
		free(L.seg);
		return SUB_EXIT_USAGE;
	}
	int wrc = write_out(&L, name, out);
	free(L.seg);
	return wrc != SUB_EXIT_OK ? wrc : rc;
}
