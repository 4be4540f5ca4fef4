/*
 * timeline.c - `tcpphase timeline`: one server over time, as SVG. Top: how
 * many connections toward it are half-open; bottom: SYNs toward it per
 * flood window; the SYN floods the core detected are shaded and the
 * detection thresholds drawn, so a reader sees why an alert fired (or not).
 *
 * Nothing is detected or counted here: after each segment the core's SYN
 * flood detector says how many connections toward the server it holds
 * half-open and how many opening SYNs it has counted (tp_server_load), so
 * the picture shows exactly what the detector saw, evicted connections
 * included. Floods are the core's alerts, with their start, end and peak.
 */
#define _DEFAULT_SOURCE /* gmtime_r, isatty */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyse.h"
#include "subcmd.h"
#include "svg.h"

/* The series are kept in NBINS time bins whose width doubles whenever the
 * capture outgrows them: bounded memory for a capture of any length, and
 * still about one bin per pixel. A bin keeps the highest count in it, so no
 * peak is lost. */
#define NBINS 1024

struct bin {
	uint32_t max, last; /* highest and last half-open count set in the bin */
	uint32_t syns;      /* connection-opening SYNs toward the server */
	uint8_t touched;    /* any of the above set in it */
};

struct timeline {
	struct tp_addr addr;
	uint16_t port;
	int64_t t0;          /* the capture's first TCP segment: time zero */
	int have_t0;
	int64_t now;         /* the latest verdict's time */
	int64_t first_ns, last_ns; /* the server's first and last segment */
	int seen;
	uint32_t half_open;  /* the detector's count after the last segment */
	uint64_t syn_total;  /* and its count of opening SYNs */
	uint64_t syns;       /* opening SYNs toward the server in the picture */
	int64_t b0, bw;      /* bins start at b0, bw ns wide */
	size_t nb;           /* bins in use */
	int have_b0;
	struct bin bin[NBINS];
	struct tp_flood *flood;
	size_t nflood, capflood;
	uint64_t other_floods;
	int oom;
};

/* ---- the series ------------------------------------------------------------ */

static void coarsen(struct timeline *T)
{
	for (size_t i = 0; i < NBINS / 2; i++) {
		struct bin a = T->bin[2 * i], b = T->bin[2 * i + 1], m = { 0 };
		m.touched = a.touched | b.touched;
		m.max = a.touched && b.touched ? (a.max > b.max ? a.max : b.max) : a.touched ? a.max : b.max;
		m.last = b.touched ? b.last : a.last;
		m.syns = a.syns + b.syns;
		T->bin[i] = m;
	}
	memset(&T->bin[NBINS / 2], 0, sizeof T->bin[0] * (NBINS / 2));
	T->bw *= 2;
	T->nb = (T->nb + 1) / 2;
}

/* The bin of time t, the bins grown to cover it. */
static struct bin *bin_at(struct timeline *T, int64_t t)
{
	if (!T->have_b0) {
		T->have_b0 = 1;
		T->b0 = t;
		T->bw = 1000; /* 1 us to begin with */
	}
	if (t < T->b0)
		t = T->b0; /* a timestamp slightly back in time */
	while ((t - T->b0) / T->bw >= NBINS)
		coarsen(T);
	size_t i = (size_t)((t - T->b0) / T->bw);
	if (i + 1 > T->nb)
		T->nb = i + 1;
	return &T->bin[i];
}

static void set_count(struct timeline *T, int64_t t, uint32_t value, uint32_t syns)
{
	struct bin *b = bin_at(T, t);
	if (!b->touched || value > b->max)
		b->max = value;
	b->touched = 1;
	b->last = value;
	b->syns += syns;
}

/* ---- following the core's verdicts ---------------------------------------- */

static int is_server(const struct timeline *T, const struct tp_addr *a, uint16_t port)
{
	return port == T->port && sub_addr_eq(a, &T->addr);
}

/* What the detector counts toward the server, after this segment (and the
 * timers that ran before it): a change is a point on the curve. */
static void sample(struct timeline *T, const struct tp_analyzer *an, int64_t t)
{
	struct tp_server_load load;
	if (tp_server_load(an, &T->addr, T->port, &load) != 0)
		load.half_open = 0, load.syns = 0; /* not tracked (yet, or any more) */
	/* A forgotten server starts counting again from 0. */
	uint64_t syns = load.syns >= T->syn_total ? load.syns - T->syn_total : load.syns;
	T->syn_total = load.syns;
	if (load.half_open == T->half_open && !syns)
		return;
	T->half_open = load.half_open;
	T->syns += syns;
	set_count(T, t, load.half_open, (uint32_t)syns);
}

static void on_segment(void *user, const struct tp_analyzer *an, const struct tp_segment *s,
                       const struct tp_verdict *v)
{
	struct timeline *T = user;
	if (!T->have_t0) {
		T->have_t0 = 1;
		T->t0 = v->ts_ns;
	}
	if (v->ts_ns > T->now)
		T->now = v->ts_ns;
	if (is_server(T, &s->dst, s->dport) || is_server(T, &s->src, s->sport)) {
		if (!T->seen)
			T->first_ns = v->ts_ns;
		T->seen = 1;
		T->last_ns = v->ts_ns;
		bin_at(T, v->ts_ns); /* the server's activity spans the picture */
	}
	sample(T, an, T->now);
}

/* The end of the capture settles every connection still half-open. */
static void on_finish(void *user, const struct tp_analyzer *an)
{
	struct timeline *T = user;
	sample(T, an, T->now);
}

static void on_flood(void *user, const struct tp_flood *f)
{
	struct timeline *T = user;
	if (!is_server(T, &f->server, f->port)) {
		T->other_floods++;
		return;
	}
	if (T->nflood == T->capflood) {
		size_t cap = T->capflood ? T->capflood * 2 : 4;
		struct tp_flood *nf = realloc(T->flood, cap * sizeof *nf);
		if (!nf) {
			T->oom = 1;
			return;
		}
		T->flood = nf;
		T->capflood = cap;
	}
	T->flood[T->nflood++] = *f;
}

/* ---- drawing ------------------------------------------------------------- */

#define W_PX 980.0
#define H_PX 640.0
#define XL 80.0   /* plot area, left and right */
#define XR 900.0
#define A_TOP 96.0 /* half-open panel */
#define A_BOT 316.0
#define B_TOP 372.0 /* SYN rate panel */
#define B_BOT 540.0
#define THRESH_COL "#b35c00"
#define FLOOD_COL "#e4572e"

struct plot {
	FILE *f;
	const struct timeline *T;
	const struct tp_config *cfg;
	double t_lo, t_hi; /* seconds since t0 */
	double ho_max, rate_max;
	double *rate;      /* per bin */
};

static double rel_s(const struct timeline *T, int64_t ns)
{
	return (double)(ns - T->t0) / 1e9;
}

static double x_of(const struct plot *p, double t)
{
	return XL + (t - p->t_lo) / (p->t_hi - p->t_lo) * (XR - XL);
}

static double y_of(double v, double vmax, double top, double bot)
{
	return bot - v / vmax * (bot - top);
}

/* SYNs in the flood window ending at each bin's end. */
static void syn_rates(const struct timeline *T, int64_t window, double *rate)
{
	if (T->bw >= window) { /* a bin is longer than the window: its average */
		for (size_t i = 0; i < T->nb; i++)
			rate[i] = T->bin[i].syns * (double)window / (double)T->bw;
		return;
	}
	size_t k = (size_t)((double)window / (double)T->bw + 0.5);
	double scale = (double)window / ((double)k * (double)T->bw), sum = 0;
	for (size_t i = 0; i < T->nb; i++) {
		sum += T->bin[i].syns;
		if (i >= k)
			sum -= T->bin[i - k].syns;
		rate[i] = sum * scale;
	}
}

/* The half-open count's highest value in each bin, carrying the count
 * across bins where it did not change. */
static void bin_tops(const struct timeline *T, uint32_t *top)
{
	uint32_t cur = 0;
	for (size_t i = 0; i < T->nb; i++) {
		const struct bin *b = &T->bin[i];
		top[i] = b->touched && b->max > cur ? b->max : cur;
		if (b->touched)
			cur = b->last;
	}
}

static double bin_start_s(const struct timeline *T, size_t i)
{
	return rel_s(T, T->b0 + (int64_t)i * T->bw);
}

static double round_up(double v, int ticks)
{
	double step = svg_nice_step(v, ticks);
	return ceil(v / step) * step;
}

static void x_axis(struct plot *p)
{
	char num[32], line[200], when[40];
	double step = svg_nice_step(p->t_hi - p->t_lo, 8);
	for (double t = ceil(p->t_lo / step) * step; t <= p->t_hi + step * 1e-9; t += step) {
		double x = x_of(p, t);
		svg_num(t, num, sizeof num);
		svg_line(p->f, x, B_BOT, x, B_BOT + 5, "class=\"xtick\" stroke=\"" SVG_GREY "\"");
		svg_line(p->f, x, A_TOP, x, A_BOT, "class=\"grid\" stroke=\"#eeeeee\"");
		svg_line(p->f, x, B_TOP, x, B_BOT, "class=\"grid\" stroke=\"#eeeeee\"");
		svg_text(p->f, x, B_BOT + 18, "class=\"xtick\" text-anchor=\"middle\"", num);
	}
	time_t sec = (time_t)(p->T->t0 / 1000000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(line, sizeof line, "seconds since the capture's first TCP segment (%s)", when);
	svg_text(p->f, (XL + XR) / 2, B_BOT + 38, "class=\"axis-title\" text-anchor=\"middle\" fill=\"" SVG_GREY "\"",
	         line);
}

static void y_axis(struct plot *p, double vmax, double top, double bot, const char *cls)
{
	char num[32], attrs[120];
	double step = svg_nice_step(vmax, 5);
	snprintf(attrs, sizeof attrs, "class=\"%s\" text-anchor=\"end\"", cls);
	for (double v = 0; v <= vmax + step * 1e-9; v += step) {
		double y = y_of(v, vmax, top, bot);
		svg_num(v, num, sizeof num);
		svg_line(p->f, XL - 5, y, XL, y, "class=\"ytick\" stroke=\"" SVG_GREY "\"");
		svg_line(p->f, XL, y, XR, y, "class=\"grid\" stroke=\"#eeeeee\"");
		svg_text(p->f, XL - 8, y + 4, attrs, num);
	}
	svg_line(p->f, XL, top, XL, bot, "class=\"axis\" stroke=\"" SVG_GREY "\"");
	svg_line(p->f, XL, bot, XR, bot, "class=\"axis\" stroke=\"" SVG_GREY "\"");
}

static void threshold(struct plot *p, double v, double vmax, double top, double bot, const char *cls,
                      const char *label)
{
	char attrs[160];
	double y = y_of(v, vmax, top, bot);
	snprintf(attrs, sizeof attrs, "class=\"threshold %s\" stroke=\"" THRESH_COL "\" stroke-width=\"1.5\" "
	         "stroke-dasharray=\"8,5\"", cls);
	svg_line(p->f, XL, y, XR, y, attrs);
	snprintf(attrs, sizeof attrs, "class=\"threshold-label %s\" text-anchor=\"end\" fill=\"" THRESH_COL "\" "
	         "font-size=\"11\"", cls);
	svg_text(p->f, XR - 4, y - 5, attrs, label);
}

static void flood_shading(struct plot *p)
{
	const struct timeline *T = p->T;
	for (size_t i = 0; i < T->nflood; i++) {
		const struct tp_flood *f = &T->flood[i];
		double x0 = x_of(p, rel_s(T, f->start_ns)), x1 = x_of(p, rel_s(T, f->end_ns));
		fprintf(p->f, "<rect class=\"flood\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"" FLOOD_COL
		        "\" fill-opacity=\"0.16\" stroke=\"" FLOOD_COL "\" stroke-opacity=\"0.5\"/>\n",
		        x0, A_TOP, x1 - x0, B_BOT - A_TOP);
	}
}

/* The alert's numbers, by the shading; the peak marked on the curve. */
static void flood_labels(struct plot *p, const uint32_t *top)
{
	const struct timeline *T = p->T;
	char line[240], a[40], b[40];
	for (size_t i = 0; i < T->nflood; i++) {
		const struct tp_flood *f = &T->flood[i];
		double s0 = rel_s(T, f->start_ns), s1 = rel_s(T, f->end_ns);
		double x0 = x_of(p, s0), x1 = x_of(p, s1);
		int right = x0 < (XL + XR) / 2;
		snprintf(a, sizeof a, "%.3f", s0);
		snprintf(b, sizeof b, "%.3f", s1);
		snprintf(line, sizeof line, "SYN flood %s\xe2\x80\x93%s s: %" PRIu64 " SYNs, ~%u sources, peak %u half-open, "
		         "%.0f%% answered", a, b, f->syns, f->distinct_sources, f->peak_half_open, f->answered_share * 100);
		svg_text(p->f, right ? x0 + 6 : x1 - 6, A_TOP + 16 + 16 * (double)(i % 3),
		         right ? "class=\"flood-label\" fill=\"" SVG_RED "\" font-weight=\"bold\""
		               : "class=\"flood-label\" fill=\"" SVG_RED "\" font-weight=\"bold\" text-anchor=\"end\"",
		         line);
		/* where the curve is highest during the flood */
		size_t best = SIZE_MAX;
		for (size_t k = 0; k < T->nb; k++) {
			double t = bin_start_s(T, k), t1 = bin_start_s(T, k + 1);
			if (t1 >= s0 && t <= s1 && (best == SIZE_MAX || top[k] > top[best]))
				best = k;
		}
		double px = best == SIZE_MAX ? x0 : x_of(p, (bin_start_s(T, best) + bin_start_s(T, best + 1)) / 2);
		double py = y_of(f->peak_half_open, p->ho_max, A_TOP, A_BOT);
		fprintf(p->f, "<circle class=\"peak\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"" SVG_RED "\"/>\n", px, py);
		snprintf(line, sizeof line, "peak %u", f->peak_half_open);
		svg_text(p->f, px + 7, py - 6, "class=\"peak-label\" fill=\"" SVG_RED "\" font-weight=\"bold\"", line);
	}
}

static void half_open_series(struct plot *p, const uint32_t *top)
{
	const struct timeline *T = p->T;
	double base = A_BOT;
	fprintf(p->f, "<path class=\"series half-open\" fill=\"#4a78c2\" fill-opacity=\"0.25\" stroke=\"#2f5ea8\" "
	        "stroke-width=\"1.5\" d=\"M%.2f,%.2f", x_of(p, bin_start_s(T, 0)), base);
	for (size_t i = 0; i < T->nb; i++) {
		double y = y_of(top[i], p->ho_max, A_TOP, A_BOT);
		fprintf(p->f, " L%.2f,%.2f L%.2f,%.2f", x_of(p, bin_start_s(T, i)), y, x_of(p, bin_start_s(T, i + 1)), y);
	}
	fprintf(p->f, " L%.2f,%.2f Z\"/>\n", x_of(p, bin_start_s(T, T->nb)), base);
}

static void rate_series(struct plot *p)
{
	const struct timeline *T = p->T;
	fprintf(p->f, "<polyline class=\"series syn-rate\" fill=\"none\" stroke=\"#2f5ea8\" stroke-width=\"1.5\" "
	        "points=\"%.2f,%.2f", x_of(p, bin_start_s(T, 0)), B_BOT);
	for (size_t i = 0; i < T->nb; i++)
		fprintf(p->f, " %.2f,%.2f", x_of(p, bin_start_s(T, i + 1)), y_of(p->rate[i], p->rate_max, B_TOP, B_BOT));
	fprintf(p->f, "\"/>\n");
}

static void titles(struct plot *p, const char *file)
{
	const struct timeline *T = p->T;
	char srv[64], line[400], win[32];
	sub_endpoint_str(&T->addr, T->port, srv, sizeof srv);
	snprintf(line, sizeof line, "%s: half-open connections and SYN rate", srv);
	svg_text(p->f, XL - 60, 30, "class=\"title\" font-size=\"17\" font-weight=\"bold\"", line);
	snprintf(line, sizeof line, "%s \xc2\xb7 %" PRIu64 " connection-opening SYN%s toward it \xc2\xb7 %zu SYN flood%s "
	         "detected%s", sub_basename(file), T->syns, T->syns == 1 ? "" : "s", T->nflood, T->nflood == 1 ? "" : "s",
	         T->other_floods ? " (and floods toward other servers: see tcpphase -r)" : "");
	svg_text(p->f, XL - 60, 50, "class=\"subtitle\" fill=\"" SVG_GREY "\"", line);
	svg_text(p->f, XL, A_TOP - 10, "class=\"panel-title\" font-weight=\"bold\"",
	         "half-open connections (SYN seen; handshake not completed, reset or timed out yet)");
	svg_num((double)p->cfg->flood_window_ns / 1e9, win, sizeof win);
	snprintf(line, sizeof line, "connection-opening SYNs in the last %s s (the flood window)", win);
	svg_text(p->f, XL, B_TOP - 10, "class=\"panel-title\" font-weight=\"bold\"", line);
	char spread[32];
	svg_num(p->cfg->flood_min_spread, spread, sizeof spread);
	snprintf(line, sizeof line, "Shaded: a SYN flood the core detected, from its alert's start to its end. Dashed: "
	         "the detection thresholds; a flood also needs %s distinct sources per SYN.", spread);
	svg_text(p->f, XL - 60, H_PX - 36, "class=\"legend\" fill=\"" SVG_GREY "\" font-size=\"11\"", line);
	svg_text(p->f, XL - 60, H_PX - 20, "class=\"legend\" fill=\"" SVG_GREY "\" font-size=\"11\"",
	         "A connection counts as half-open until its late verdict (half_open, syn_unanswered), which the core "
	         "gives at the first segment after the timeout, or at the capture's end.");
}

static void write_svg(FILE *f, const struct timeline *T, const struct tp_config *cfg, const char *file)
{
	struct plot p = { .f = f, .T = T, .cfg = cfg };
	uint32_t *top = malloc((T->nb + 1) * sizeof *top);
	p.rate = malloc((T->nb + 1) * sizeof *p.rate);
	if (!top || !p.rate) {
		free(top);
		free(p.rate);
		return;
	}
	bin_tops(T, top);
	syn_rates(T, cfg->flood_window_ns > 0 ? cfg->flood_window_ns : 1, p.rate);
	double hmax = cfg->flood_min_half_open, rmax = cfg->flood_min_syn_rate;
	for (size_t i = 0; i < T->nb; i++) {
		hmax = top[i] > hmax ? top[i] : hmax;
		rmax = p.rate[i] > rmax ? p.rate[i] : rmax;
	}
	for (size_t i = 0; i < T->nflood; i++)
		hmax = T->flood[i].peak_half_open > hmax ? T->flood[i].peak_half_open : hmax;
	/* headroom above the curves for the flood's label */
	p.ho_max = round_up(hmax * 1.3 + 1, 5);
	p.rate_max = round_up(rmax * 1.15 + 1, 5);
	p.t_lo = bin_start_s(T, 0);
	p.t_hi = bin_start_s(T, T->nb);
	double pad = (p.t_hi - p.t_lo) * 0.02;
	p.t_lo -= pad;
	p.t_hi += pad;
	char title[200], srv[64], lab[160], win[32];
	sub_endpoint_str(&T->addr, T->port, srv, sizeof srv);
	snprintf(title, sizeof title, "tcpphase timeline: %s (%s)", srv, sub_basename(file));
	svg_begin(f, W_PX, H_PX, title);
	titles(&p, file);
	y_axis(&p, p.ho_max, A_TOP, A_BOT, "ytick half-open");
	y_axis(&p, p.rate_max, B_TOP, B_BOT, "ytick syn-rate");
	x_axis(&p);
	flood_shading(&p);
	half_open_series(&p, top);
	rate_series(&p);
	snprintf(lab, sizeof lab, "flood threshold: %" PRIu32 " half-open (--flood-min-half-open)", cfg->flood_min_half_open);
	threshold(&p, cfg->flood_min_half_open, p.ho_max, A_TOP, A_BOT, "half-open", lab);
	svg_num((double)cfg->flood_window_ns / 1e9, win, sizeof win);
	snprintf(lab, sizeof lab, "flood threshold: %" PRIu32 " SYNs per %s s (--flood-min-rate)", cfg->flood_min_syn_rate,
	         win);
	threshold(&p, cfg->flood_min_syn_rate, p.rate_max, B_TOP, B_BOT, "syn-rate", lab);
	flood_labels(&p, top);
	if (!T->nflood)
		svg_text(f, (XL + XR) / 2, A_TOP + 20, "class=\"flood-label none\" text-anchor=\"middle\" fill=\"" SVG_GREY "\"",
		         "no SYN flood detected toward this server");
	svg_end(f);
	free(top);
	free(p.rate);
}

/* ---- the command ---------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tcpphase timeline -r FILE --server IP:PORT [-o OUT.svg] [options]\n"
	        "\n"
	        "One server over the capture, as SVG: how many connections toward it are\n"
	        "half-open, and the SYN rate toward it, with the SYN floods tcpphase detected\n"
	        "shaded and the detection thresholds (--flood-min-half-open, --flood-min-rate)\n"
	        "drawn.\n"
	        "\n"
	        "  -r FILE                 a pcap or pcapng file ('-' for standard input)\n"
	        "      --server IP:PORT    the server, IPv6 in brackets: [fd00::2]:443\n"
	        "  -o OUT.svg              write the SVG to OUT.svg ('-' or no -o: standard\n"
	        "                          output, unless it is a terminal)\n"
	        "  -h, --help              this text\n");
	sub_usage_analysis(f);
}

static int parse_args(int argc, char **argv, struct timeline *T, struct sub_analysis *an, const char **file,
                      const char **out)
{
	static const struct sub_args spec = { .name = "tcpphase timeline", .key_opt = "server", .key_arg = "IP:PORT",
	                                       .usage = usage };
	const char *server = NULL;
	if (sub_parse_args(argc, argv, &spec, an, file, out, &server) != 0)
		return -1;
	if (sub_parse_endpoint(server, NULL, &T->addr, &T->port, NULL) != 0) {
		fprintf(stderr, "tcpphase timeline: --server '%s' is not IP:PORT (IPv6: [ADDR]:PORT)\n", server);
		return -1;
	}
	return 0;
}

int timeline_main(int argc, char **argv)
{
	struct sub_analysis an;
	const char *file = NULL, *out = NULL;
	struct timeline *T = calloc(1, sizeof *T);
	if (!T)
		return SUB_EXIT_INPUT;
	sub_analysis_default(&an);
	int rc = parse_args(argc, argv, T, &an, &file, &out) != 0 ? SUB_EXIT_USAGE : SUB_EXIT_OK;
	if (rc == SUB_EXIT_OK && !out && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "tcpphase timeline: the timeline is an SVG picture: give -o OUT.svg, or redirect it\n");
		rc = SUB_EXIT_USAGE;
	}
	if (rc == SUB_EXIT_OK) {
		struct sub_hooks h = { .user = T, .segment = on_segment, .flood = on_flood, .finish = on_finish };
		rc = sub_analyse(file, &an, &h);
	}
	if (rc == SUB_EXIT_OK || rc == SUB_EXIT_DAMAGED) {
		char srv[64];
		FILE *f = NULL;
		if (T->oom)
			fprintf(stderr, "tcpphase timeline: out of memory\n");
		else if (!T->seen)
			fprintf(stderr, "tcpphase timeline: no TCP segment to or from %s in %s\n",
			        sub_endpoint_str(&T->addr, T->port, srv, sizeof srv), sub_basename(file));
		else
			f = sub_open_out("tcpphase timeline", out);
		if (!f) {
			rc = T->oom ? SUB_EXIT_INPUT : T->seen ? SUB_EXIT_OUTPUT : SUB_EXIT_USAGE;
		} else {
			write_svg(f, T, &an.cfg, file);
			int wr = sub_close_out("tcpphase timeline", f, out, 0);
			if (wr != SUB_EXIT_OK)
				rc = wr;
		}
	}
	free(T->flood);
	free(T);
	return rc;
}
