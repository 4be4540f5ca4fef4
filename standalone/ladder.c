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
#include <errno.h>
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

/* "SYN-ACK", "FIN-PSH-ACK", as people name segments; ACK last. */
static void flag_names(uint16_t f, char *buf, size_t len)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} fl[] = { { TP_TH_SYN, "SYN" }, { TP_TH_FIN, "FIN" }, { TP_TH_RST, "RST" }, { TP_TH_PSH, "PSH" },
		   { TP_TH_URG, "URG" }, { TP_TH_ECE, "ECE" }, { TP_TH_CWR, "CWR" }, { TP_TH_NS, "NS" },
		   { TP_TH_ACK, "ACK" } };
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof fl / sizeof fl[0] && n < len; i++)
		if (f & fl[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "-" : "", fl[i].name);
	if (!n)
		snprintf(buf, len, "no flags");
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
	flag_names(g->s.flags, fl, sizeof fl);
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

/* ---- the vertical layout: time, compressed where it is long ---------------- */

#define ROW_PX 46.0     /* least distance between two arrows: a label above ... */
#define ANOM_PX 16.0    /* ... and more when anomalies are written below */
#define PX_PER_S 200.0  /* a gap adds its duration at this scale ... */
#define GAP_MAX_PX 110.0 /* ... up to this much; a longer gap is cut to this and marked */
#define SLANT_PX 14.0   /* an arrow falls this much from sender to receiver: it takes time */

/* A gap (ns) too long to draw to scale. */
static int gap_compressed(int64_t dt)
{
	return (double)dt / 1e9 * PX_PER_S > GAP_MAX_PX;
}

/* y of each arrow's start; returns the y of the last. */
static double layout_rows(const struct ladder *L, double top, double *y)
{
	for (size_t i = 0; i < L->n; i++) {
		if (i == 0) {
			y[i] = top;
			continue;
		}
		int64_t dt = L->seg[i].v.ts_ns - L->seg[i - 1].v.ts_ns;
		double extra = dt <= 0 ? 0 : gap_compressed(dt) ? GAP_MAX_PX : (double)dt / 1e9 * PX_PER_S;
		y[i] = y[i - 1] + ROW_PX + extra + (L->seg[i - 1].v.anomalies ? ANOM_PX : 0);
	}
	return L->n ? y[L->n - 1] : top;
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

/* A vertical line from y0 to y1, interrupted by the marks of compressed gaps. */
static void broken_line(struct pic *p, double x, double y0, double y1, const double *y, const char *attrs)
{
	const struct ladder *L = p->L;
	double from = y0;
	for (size_t i = 1; i < L->n; i++) {
		if (!gap_compressed(L->seg[i].v.ts_ns - L->seg[i - 1].v.ts_ns))
			continue;
		double mid = (y[i - 1] + SLANT_PX + y[i]) / 2;
		svg_line(p->f, x, from, x, mid - 7, attrs);
		/* the usual "axis break": two short parallel strokes */
		svg_line(p->f, x - 7, mid - 4, x + 7, mid - 9, "class=\"break\" stroke=\"" SVG_GREY "\" stroke-width=\"1.5\"");
		svg_line(p->f, x - 7, mid + 6, x + 7, mid + 1, "class=\"break\" stroke=\"" SVG_GREY "\" stroke-width=\"1.5\"");
		from = mid + 7;
	}
	svg_line(p->f, x, from, x, y1, attrs);
}

static void svg_gaps(struct pic *p, const double *y)
{
	const struct ladder *L = p->L;
	for (size_t i = 1; i < L->n; i++) {
		int64_t dt = L->seg[i].v.ts_ns - L->seg[i - 1].v.ts_ns;
		if (!gap_compressed(dt))
			continue;
		char t[32], line[96];
		time_str(dt, t, sizeof t);
		snprintf(line, sizeof line, "\xe2\x89\x88 %s s later (gap compressed)", t);
		double mid = (y[i - 1] + SLANT_PX + y[i]) / 2;
		svg_text(p->f, (X_ORIG + X_RESP) / 2, mid + 4,
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

static void svg_row(struct pic *p, size_t i, const double *y, uint8_t prev_orig, uint8_t prev_resp)
{
	const struct lseg *g = &p->L->seg[i];
	char t[32], fr[32];
	time_str(g->v.ts_ns - p->L->seg[0].v.ts_ns, t, sizeof t);
	snprintf(fr, sizeof fr, "#%" PRIu64, g->v.frame);
	svg_line(p->f, X_AXIS - 4, y[i], X_AXIS + 4, y[i], "class=\"tick\" stroke=\"" SVG_GREY "\"");
	svg_text(p->f, X_AXIS - 8, y[i] + 4, "class=\"time\" text-anchor=\"end\" font-size=\"11\"", t);
	svg_text(p->f, X_FRAME, y[i] + 4, "class=\"frame\" font-size=\"11\" fill=\"" SVG_GREY "\"", fr);
	svg_arrow(p, g, y[i]);
	/* The sender's state changes as it sends, the receiver's on arrival. */
	int fwd = g->v.dir == TP_DIR_ORIG;
	if (i == 0 || g->v.orig_state != prev_orig)
		svg_state(p, TP_DIR_ORIG, fwd ? y[i] : y[i] + SLANT_PX, g->v.orig_state);
	if (i == 0 || g->v.resp_state != prev_resp)
		svg_state(p, TP_DIR_RESP, fwd ? y[i] + SLANT_PX : y[i], g->v.resp_state);
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
}

static void write_svg(FILE *f, const struct ladder *L, const char *file)
{
	struct pic p = { .f = f, .L = L, .file = file };
	find_bases(L, p.b);
	double *y = malloc(L->n * sizeof *y);
	if (!y)
		return;
	double last = layout_rows(L, TOP_PX, y), bottom = last + SLANT_PX + 24, h = bottom + 70;
	char title[200], uid[20];
	tp_conn_uid(L->seed, L->seg[0].v.first_frame, uid);
	snprintf(title, sizeof title, "tcpphase ladder: %s (%s)", uid, sub_basename(file));
	svg_begin(f, W_PX, h, title);
	svg_header(&p);
	broken_line(&p, X_AXIS, TOP_PX - 16, bottom, y, "class=\"axis\" stroke=\"" SVG_GREY "\"");
	broken_line(&p, X_ORIG, TOP_PX - 20, bottom, y, "class=\"lifeline orig\" stroke=\"#444444\" stroke-width=\"2\"");
	broken_line(&p, X_RESP, TOP_PX - 20, bottom, y, "class=\"lifeline resp\" stroke=\"#444444\" stroke-width=\"2\"");
	svg_gaps(&p, y);
	for (size_t i = 0; i < L->n; i++)
		svg_row(&p, i, y, i ? L->seg[i - 1].v.orig_state : 0, i ? L->seg[i - 1].v.resp_state : 0);
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

static void write_text(FILE *f, const struct ladder *L, const char *file, int color)
{
	struct seqbase b[2];
	find_bases(L, b);
	struct label l;
	size_t span = 40;
	for (size_t i = 0; i < L->n; i++) { /* wide enough for every label */
		label_of(&L->seg[i], b, &l);
		size_t w = strlen(l.step) + strlen(l.body) + 14; /* room for dashes either side */
		if (w > span)
			span = w;
	}
	const struct tp_segment *s0 = &L->seg[0].s;
	int fwd0 = L->seg[0].v.dir == TP_DIR_ORIG;
	char o[64], r[64], uid[20], arrow[256], t[32], text[200];
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
	for (size_t i = 0; i < L->n; i++) {
		const struct lseg *g = &L->seg[i];
		int64_t dt = i ? g->v.ts_ns - L->seg[i - 1].v.ts_ns : 0;
		if (i && gap_compressed(dt)) {
			time_str(dt, t, sizeof t);
			snprintf(text, sizeof text, "~ %s s later ~", t);
			fprintf(f, "%7s %10s  %-12s :%*s%*s:\n", "", "", "", (int)(span + strlen(text)) / 2, text,
			        (int)(span - (span + strlen(text)) / 2), "");
		}
		label_of(g, b, &l);
		snprintf(text, sizeof text, "%s%s%s", l.step, l.step[0] ? ": " : "", l.body);
		text_arrow(arrow, span, text, g->v.dir == TP_DIR_ORIG, g->v.rtx);
		int os = i == 0 || g->v.orig_state != L->seg[i - 1].v.orig_state;
		int rs = i == 0 || g->v.resp_state != L->seg[i - 1].v.resp_state;
		time_str(g->v.ts_ns - L->seg[0].v.ts_ns, t, sizeof t);
		fprintf(f, "%7" PRIu64 " %10s  %-12s |%s|", g->v.frame, t, os ? tp_state_name(g->v.orig_state) : "", arrow);
		if (l.anoms[0])
			fprintf(f, "  %-12s %s!! %s%s", rs ? tp_state_name(g->v.resp_state) : "", color ? RED : "", l.anoms,
			        color ? OFF : "");
		else if (rs)
			fprintf(f, "  %s", tp_state_name(g->v.resp_state));
		fputc('\n', f);
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
	        "  -h, --help              this text\n");
	sub_usage_analysis(f);
}

/* Parse the command line into L, an and the file names; -1 after a message. */
static int parse_args(int argc, char **argv, struct ladder *L, struct sub_analysis *an, const char **file,
                      const char **out)
{
	static const struct sub_args spec = { "tcpphase ladder", "conn", "UID|FRAME|TUPLE", usage };
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
	size_t ol = out ? strlen(out) : 0;
	int text = out ? ol > 4 && strcmp(out + ol - 4, ".txt") == 0 : isatty(STDOUT_FILENO);
	FILE *f = sub_open_out("tcpphase ladder", out);
	if (!f)
		return SUB_EXIT_OUTPUT;
	if (text)
		write_text(f, L, file, f == stdout && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	else
		write_svg(f, L, file);
	return sub_close_out("tcpphase ladder", f, out, 0);
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
	int wrc = write_out(&L, name, out);
	free(L.seg);
	return wrc != SUB_EXIT_OK ? wrc : rc;
}
