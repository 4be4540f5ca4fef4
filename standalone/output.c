/*
 * output.c - the CLI's writers. JSON keys use Zeek's names for what Zeek
 * has (ts, uid, id.orig_h, ...), so JSON Lines from tcpphase and Zeek's own
 * JSON logs join on the same columns.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "output.h"

#define RED "\033[31m"
#define YEL "\033[33m"
#define DIM "\033[2m"
#define OFF "\033[0m"

int out_parse_time(const char *s, enum out_time *t)
{
	static const char *const names[] = { "relative", "absolute", "epoch" };
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*t = (enum out_time)i;
			return 0;
		}
	return -1;
}

int out_parse_format(const char *s, enum out_format *fmt)
{
	static const struct {
		const char *name;
		enum out_format f;
	} m[] = { { "text", OUT_TEXT }, { "json", OUT_JSON }, { "jsonl", OUT_JSON }, { "csv", OUT_CSV },
		  { "zeek", OUT_ZEEK }, { "tsv", OUT_ZEEK } };
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (strcmp(s, m[i].name) == 0) {
			*fmt = m[i].f;
			return 0;
		}
	return -1;
}

static void ts_str(int64_t ns, char *buf, size_t len)
{
	int64_t s = ns / 1000000000, us = (ns % 1000000000) / 1000;
	if (us < 0) {
		s--;
		us += 1000000;
	}
	snprintf(buf, len, "%" PRId64 ".%06" PRId64, s, us);
}

static void dur_str(int64_t ns, char *buf, size_t len, const char *unset)
{
	if (ns < 0)
		snprintf(buf, len, "%s", unset);
	else
		snprintf(buf, len, "%" PRId64 ".%06" PRId64, ns / 1000000000, (ns % 1000000000) / 1000);
}

static void flags_str(uint16_t f, char *buf)
{
	static const struct {
		uint16_t bit;
		char c;
	} fl[] = { { TP_TH_SYN, 'S' }, { TP_TH_FIN, 'F' }, { TP_TH_RST, 'R' }, { TP_TH_PSH, 'P' },
		   { TP_TH_ACK, '.' }, { TP_TH_URG, 'U' }, { TP_TH_ECE, 'E' }, { TP_TH_CWR, 'W' } };
	int n = 0;
	for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
		if (f & fl[i].bit)
			buf[n++] = fl[i].c;
	if (!n)
		buf[n++] = '-';
	buf[n] = '\0';
}

/* Anomaly names joined by sep. */
static void anomalies_str(tp_anomaly_set set, const char *sep, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < TP_A_COUNT && n < len; i++)
		if (set & TP_ABIT(i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? sep : "", tp_anomaly_table[i].name);
}

/* The colour text output shows a set of anomalies in: its worst's. */
static const char *anomaly_colour(const struct out *o, tp_anomaly_set set)
{
	if (!o->color || !set)
		return "";
	int worst = -1;
	for (tp_anomaly_set m = set; m;) {
		int i = tp_anomaly_pop(&m);
		if ((int)tp_anomaly_table[i].severity > worst)
			worst = (int)tp_anomaly_table[i].severity;
	}
	return worst >= TP_SEV_WARN ? RED : YEL;
}

/* The uid of a connection, from the cache of recent ones. */
static const char *uid_of(struct out *o, uint64_t first_frame)
{
	size_t i = (size_t)(first_frame * 0x9e3779b97f4a7c15ULL >> 54) & (OUT_UID_CACHE - 1);
	if (!o->uids[i].valid || o->uids[i].frame != first_frame) {
		char u[20];
		tp_conn_uid(o->uid_seed, first_frame, u);
		memcpy(o->uids[i].uid, u, sizeof o->uids[i].uid);
		o->uids[i].frame = first_frame;
		o->uids[i].valid = 1;
	}
	return o->uids[i].uid;
}

static const char *dir_name(uint8_t d)
{
	return d == TP_DIR_ORIG ? "orig" : "resp";
}

/* ---- segments ----------------------------------------------------------- */

/* A line built by hand: --segments writes one per packet, and printf's
 * format parsing was most of the time spent writing them. */
struct line {
	char b[2048]; /* the longest: a JSON connection record with every anomaly */
	size_t n;
};

static void put_n(struct line *l, const char *s, size_t k)
{
	if (k > sizeof l->b - l->n)
		k = sizeof l->b - l->n;
	memcpy(l->b + l->n, s, k);
	l->n += k;
}

static void put(struct line *l, const char *s)
{
	put_n(l, s, strlen(s));
}

/* v in decimal at the end of t; returns where it starts. */
static size_t u64_digits(uint64_t v, char t[24])
{
	static const char d2[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	                         "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	                         "8081828384858687888990919293949596979899";
	size_t k = 24;
	while (v >= 100) { /* two digits per division */
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		t[--k] = d2[2 * r + 1];
		t[--k] = d2[2 * r];
	}
	if (v >= 10) {
		t[--k] = d2[2 * v + 1];
		t[--k] = d2[2 * v];
	} else {
		t[--k] = (char)('0' + v);
	}
	return k;
}

/* v right-aligned in a column of width w (as "%wu"); w 0: no padding. */
static void put_u64_right(struct line *l, uint64_t v, size_t w)
{
	char t[24];
	size_t k = u64_digits(v, t);
	for (; w > 24 - k && l->n < sizeof l->b; w--)
		l->b[l->n++] = ' ';
	put_n(l, t + k, 24 - k);
}

static void put_u64(struct line *l, uint64_t v)
{
	char t[24];
	size_t k = u64_digits(v, t);
	put_n(l, t + k, 24 - k);
}

/* seconds.microseconds, as ts_str() and dur_str() print them */
static void put_secs(struct line *l, int64_t ns)
{
	int64_t s = ns / 1000000000, us = (ns % 1000000000) / 1000;
	if (us < 0) {
		s--;
		us += 1000000;
	}
	if (s < 0) {
		put(l, "-");
		s = -s;
	}
	put_u64(l, (uint64_t)s);
	char t[8];
	t[0] = '.';
	for (int i = 6; i >= 1; i--, us /= 10)
		t[i] = (char)('0' + us % 10);
	t[7] = '\0';
	put(l, t);
}

/* 2026-12-03T07:02:51.123456Z */
static void put_iso(struct line *l, int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000);
	int64_t us = (ns % 1000000000) / 1000;
	if (us < 0) {
		s--;
		us += 1000000;
	}
	struct tm tm;
	char t[40];
	if (!gmtime_r(&s, &tm) || !strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm)) {
		put_secs(l, ns);
		return;
	}
	put(l, t);
	snprintf(t, sizeof t, ".%06dZ", (int)us);
	put(l, t);
}

/* A moment in text, in the style --time chose. */
static void put_time(struct line *l, const struct out *o, int64_t ns)
{
	switch (o->time) {
	case OUT_TIME_RELATIVE: put_secs(l, ns - o->first_ts); break;
	case OUT_TIME_ABSOLUTE: put_iso(l, ns); break;
	case OUT_TIME_EPOCH: put_secs(l, ns); break;
	}
}

/* A moment as text shows it, into buf (for printf's %s). */
static void time_text(const struct out *o, int64_t ns, char *buf, size_t len)
{
	struct line l;
	l.n = 0;
	put_time(&l, o, ns);
	snprintf(buf, len, "%.*s", (int)l.n, l.b);
}

/* The width of a time column: relative times of a day, epoch seconds,
 * ISO 8601 with microseconds. */
static int time_width(const struct out *o)
{
	return o->time == OUT_TIME_ABSOLUTE ? 27 : o->time == OUT_TIME_EPOCH ? 17 : 12;
}

/* A duration, or unset if there is none (negative). */
static void put_dur(struct line *l, int64_t ns, const char *unset)
{
	if (ns < 0)
		put(l, unset);
	else
		put_secs(l, ns);
}

/* What was put since start, right-aligned in a column of width w (as "%ws"). */
static void align_right(struct line *l, size_t start, size_t w)
{
	size_t k = l->n - start;
	if (k >= w || l->n + (w - k) > sizeof l->b)
		return;
	memmove(l->b + start + (w - k), l->b + start, k);
	memset(l->b + start, ' ', w - k);
	l->n += w - k;
}

/* What was put since start, left-aligned in a column of width w, and a space. */
static void align_left(struct line *l, size_t start, size_t w)
{
	for (size_t k = l->n - start; k < w && l->n < sizeof l->b; k++)
		l->b[l->n++] = ' ';
	if (l->n < sizeof l->b)
		l->b[l->n++] = ' ';
}

/* s left-aligned in a column of width w (at least one space after, as "%-ws "). */
static void put_col(struct line *l, const char *s, size_t w)
{
	size_t start = l->n;
	put(l, s);
	align_left(l, start, w);
}

/* Anomaly names joined by sep, quoted or not. */
static void put_anomalies(struct line *l, tp_anomaly_set set, const char *sep, int quoted)
{
	for (tp_anomaly_set m = set; m;) {
		if (m != set)
			put(l, sep);
		int i = tp_anomaly_pop(&m);
		if (quoted)
			put(l, "\"");
		put(l, tp_anomaly_table[i].name);
		if (quoted)
			put(l, "\"");
	}
}

/* The text formats' last column: the names, in the colour of the worst. */
static void put_anomalies_text(const struct out *o, struct line *l, tp_anomaly_set set)
{
	const char *col = anomaly_colour(o, set);
	put(l, col);
	put_anomalies(l, set, ",", 0);
	if (*col)
		put(l, OFF);
}

/* After the anomalies, which transmission an ACK's timestamp echoes:
 * "echo first #9" (the frame whose TSval it is), "echo tie", ... */
static void put_echo_text(struct line *l, const struct tp_verdict *v)
{
	if (v->echo == TP_ECHO_NONE)
		return;
	put(l, v->anomalies ? " echo " : "echo ");
	put(l, tp_echo_name((enum tp_echo)v->echo));
	if (v->echoed_frame) {
		put(l, " #");
		put_u64(l, v->echoed_frame);
	}
}

static void segment_text(struct out *o, const struct tp_verdict *v)
{
	if (!o->header_done) {
		fprintf(o->f, "%7s %*s %-18s %-4s %-6s %-9s %-17s %-12s %-12s %s\n", "frame", time_width(o), "time", "uid", "dir",
		        "flags", "phase", "step", "orig_state", "resp_state", "anomalies");
		o->header_done = 1;
	}
	char fl[12];
	struct line l;
	l.n = 0;
	put_u64_right(&l, v->frame, 7);
	put(&l, " ");
	size_t start = l.n;
	put_time(&l, o, v->ts_ns);
	align_right(&l, start, (size_t)time_width(o));
	put(&l, " ");
	put_col(&l, uid_of(o, v->first_frame), 18);
	put_col(&l, v->dir == TP_DIR_ORIG ? "->" : "<-", 4);
	flags_str(v->flags, fl);
	put_col(&l, fl, 6);
	put_col(&l, tp_phase_name(v->phase), 9);
	start = l.n;
	put(&l, tp_step_label(v->step));
	if (v->rtx)
		put(&l, " (rtx)");
	align_left(&l, start, 17);
	put_col(&l, tp_state_name(v->orig_state), 12);
	put_col(&l, tp_state_name(v->resp_state), 12);
	put_anomalies_text(o, &l, v->anomalies);
	put_echo_text(&l, v);
	put(&l, "\n");
	fwrite(l.b, 1, l.n, o->f);
}

/* "name" and its value, after a comma: a string (quoted) or a number. */
static void put_str_field(struct line *l, const char *name, const char *v)
{
	put(l, ",\"");
	put(l, name);
	put(l, "\":\"");
	put(l, v);
	put(l, "\"");
}

static void put_u64_field(struct line *l, const char *name, uint64_t v)
{
	put(l, ",\"");
	put(l, name);
	put(l, "\":");
	put_u64(l, v);
}

static void put_dur_field(struct line *l, const char *name, int64_t ns)
{
	put(l, ",\"");
	put(l, name);
	put(l, "\":");
	put_dur(l, ns, "null");
}

/* Keys and their punctuation are put whole, not field by field as in
 * conn_json: this runs for every segment, and the pieces cost 14%. */
static void segment_json(struct out *o, const struct tp_verdict *v)
{
	char fl[12];
	struct line l;
	l.n = 0;
	flags_str(v->flags, fl);
	put(&l, "{\"type\":\"segment\",\"frame\":");
	put_u64(&l, v->frame);
	put(&l, ",\"ts\":");
	put_secs(&l, v->ts_ns);
	put(&l, ",\"uid\":\"");
	put(&l, uid_of(o, v->first_frame));
	put(&l, "\",\"dir\":\"");
	put(&l, dir_name(v->dir));
	put(&l, "\",\"flags\":\"");
	put(&l, fl);
	put(&l, "\",\"len\":");
	put_u64(&l, v->len);
	put(&l, ",\"phase\":\"");
	put(&l, tp_phase_name(v->phase));
	put(&l, "\",\"step\":\"");
	put(&l, tp_step_label(v->step));
	put(&l, v->rtx ? "\",\"rtx\":true,\"orig_state\":\"" : "\",\"rtx\":false,\"orig_state\":\"");
	put(&l, tp_state_name(v->orig_state));
	put(&l, "\",\"resp_state\":\"");
	put(&l, tp_state_name(v->resp_state));
	put(&l, "\"");
	if (v->ack_checked) {
		put(&l, ",\"expected_ack\":");
		put_u64(&l, v->expected_ack);
		put(&l, ",\"seen_ack\":");
		put_u64(&l, v->seen_ack);
	}
	if (v->syn_to_synack_ns >= 0) {
		put(&l, ",\"syn_to_synack\":");
		put_secs(&l, v->syn_to_synack_ns);
	}
	if (v->synack_to_ack_ns >= 0) {
		put(&l, ",\"synack_to_ack\":");
		put_secs(&l, v->synack_to_ack_ns);
	}
	if (v->echo != TP_ECHO_NONE) {
		put(&l, ",\"echo\":\"");
		put(&l, tp_echo_name((enum tp_echo)v->echo));
		put(&l, "\"");
	}
	if (v->echoed_frame) {
		put(&l, ",\"echoed_frame\":");
		put_u64(&l, v->echoed_frame);
	}
	put(&l, ",\"anomalies\":[");
	put_anomalies(&l, v->anomalies, ",", 1);
	put(&l, "]}\n");
	fwrite(l.b, 1, l.n, o->f);
}

static void segment_csv(struct out *o, const struct tp_verdict *v)
{
	if (!o->header_done) {
		fprintf(o->f, "type,frame,ts,uid,dir,flags,len,phase,step,rtx,orig_state,resp_state,expected_ack,"
		              "seen_ack,anomalies,echo,echoed_frame\n");
		o->header_done = 1;
	}
	char fl[12];
	struct line l;
	l.n = 0;
	put(&l, "segment,");
	put_u64(&l, v->frame);
	put(&l, ",");
	put_secs(&l, v->ts_ns);
	put(&l, ",");
	put(&l, uid_of(o, v->first_frame));
	put(&l, ",");
	put(&l, dir_name(v->dir));
	put(&l, ",");
	flags_str(v->flags, fl);
	put(&l, fl);
	put(&l, ",");
	put_u64(&l, v->len);
	put(&l, ",");
	put(&l, tp_phase_name(v->phase));
	put(&l, ",");
	put(&l, tp_step_label(v->step));
	put(&l, ",");
	put_u64(&l, v->rtx);
	put(&l, ",");
	put(&l, tp_state_name(v->orig_state));
	put(&l, ",");
	put(&l, tp_state_name(v->resp_state));
	put(&l, ",");
	if (v->ack_checked) {
		put_u64(&l, v->expected_ack);
		put(&l, ",");
		put_u64(&l, v->seen_ack);
	} else {
		put(&l, ",");
	}
	put(&l, ",");
	put_anomalies(&l, v->anomalies, ";", 0);
	put(&l, ",");
	put(&l, tp_echo_name((enum tp_echo)v->echo));
	put(&l, ",");
	if (v->echoed_frame)
		put_u64(&l, v->echoed_frame);
	put(&l, "\n");
	fwrite(l.b, 1, l.n, o->f);
}

void out_first_time(struct out *o, int64_t ts_ns)
{
	if (!o->first_ts_set) {
		o->first_ts = ts_ns;
		o->first_ts_set = 1;
	}
}

void out_segment(struct out *o, const struct tp_verdict *v)
{
	if (o->only && !(v->anomalies & o->only))
		return;
	switch (o->fmt) {
	case OUT_TEXT: segment_text(o, v); break;
	case OUT_JSON: segment_json(o, v); break;
	case OUT_CSV: segment_csv(o, v); break;
	case OUT_ZEEK: break; /* conn.log has no segments; main refuses the combination */
	}
}

/* ---- connections -------------------------------------------------------- */

static void put_endpoint(struct line *l, const struct tp_addr *h, uint16_t port)
{
	char a[48];
	tp_addr_str(h, a, sizeof a);
	if (h->family == 6)
		put(l, "[");
	put(l, a);
	put(l, h->family == 6 ? "]:" : ":");
	put_u64(l, port);
}

/* By hand, as segment_json: one line per connection, and printf's padding
 * was a tenth of a run that writes connection records. */
/*
 * The fixed-width columns first and the endpoints after them, so that the
 * columns stay aligned whatever the addresses (an IPv6 pair is up to 98
 * characters); the anomalies, of any length, come last.
 */
static void conn_text(struct out *o, const struct tp_conn_record *r)
{
	if (!o->header_done && !o->segments) {
		fprintf(o->f, "%-18s %-6s %-12s %-12s %-13s %-12s %-12s %*s %10s %6s %10s %10s %-45s %s\n", "uid",
		        "state", "history", "handshake", "teardown", "orig_state", "resp_state", time_width(o), "start",
		        "duration", "pkts",
		        "orig_bytes", "resp_bytes", "orig -> resp", "anomalies");
		o->header_done = 1;
	}
	struct line l;
	l.n = 0;
	put_col(&l, uid_of(o, r->first_frame), 18);
	put_col(&l, r->conn_state, 6);
	put_col(&l, r->history[0] ? r->history : "-", 12);
	put_col(&l, tp_handshake_name(r->handshake), 12);
	put_col(&l, tp_teardown_name(r->teardown), 13);
	put_col(&l, tp_state_name(r->orig_state), 12);
	put_col(&l, tp_state_name(r->resp_state), 12);
	size_t start = l.n;
	put_time(&l, o, r->start_ns);
	align_right(&l, start, (size_t)time_width(o));
	put(&l, " ");
	start = l.n;
	put_dur(&l, r->last_ns - r->start_ns, "-");
	align_right(&l, start, 10);
	put(&l, " ");
	put_u64_right(&l, r->orig_pkts + r->resp_pkts, 6);
	put(&l, " ");
	put_u64_right(&l, r->orig_bytes, 10);
	put(&l, " ");
	put_u64_right(&l, r->resp_bytes, 10);
	put(&l, " ");
	start = l.n;
	put_endpoint(&l, &r->orig_h, r->orig_p);
	put(&l, " -> ");
	put_endpoint(&l, &r->resp_h, r->resp_p);
	align_left(&l, start, 45);
	put_anomalies_text(o, &l, r->anomalies);
	put(&l, "\n");
	fwrite(l.b, 1, l.n, o->f);
}

/* Built by hand like the segments: a flood writes a million of them. */
static void conn_json(struct out *o, const struct tp_conn_record *r)
{
	char a[48];
	struct line l;
	l.n = 0;
	put(&l, "{\"type\":\"conn\",\"ts\":");
	put_secs(&l, r->start_ns);
	put_str_field(&l, "uid", uid_of(o, r->first_frame));
	tp_addr_str(&r->orig_h, a, sizeof a);
	put_str_field(&l, "id.orig_h", a);
	put_u64_field(&l, "id.orig_p", r->orig_p);
	tp_addr_str(&r->resp_h, a, sizeof a);
	put_str_field(&l, "id.resp_h", a);
	put_u64_field(&l, "id.resp_p", r->resp_p);
	put_str_field(&l, "proto", "tcp");
	put_dur_field(&l, "duration", r->last_ns - r->start_ns);
	put_u64_field(&l, "orig_bytes", r->orig_bytes);
	put_u64_field(&l, "resp_bytes", r->resp_bytes);
	put_str_field(&l, "conn_state", r->conn_state);
	put_str_field(&l, "history", r->history);
	put_u64_field(&l, "orig_pkts", r->orig_pkts);
	put_u64_field(&l, "orig_ip_bytes", r->orig_ip_bytes);
	put_u64_field(&l, "resp_pkts", r->resp_pkts);
	put_u64_field(&l, "resp_ip_bytes", r->resp_ip_bytes);
	put_str_field(&l, "orig_state", tp_state_name(r->orig_state));
	put_str_field(&l, "resp_state", tp_state_name(r->resp_state));
	put_str_field(&l, "handshake", tp_handshake_name(r->handshake));
	put_str_field(&l, "teardown", tp_teardown_name(r->teardown));
	put_u64_field(&l, "completeness", r->completeness);
	put(&l, r->dir_inferred ? ",\"dir_inferred\":true" : ",\"dir_inferred\":false");
	put_str_field(&l, "end", tp_end_reason_name(r->end_reason));
	put_dur_field(&l, "syn_to_synack", r->syn_to_synack_ns);
	put_dur_field(&l, "synack_to_ack", r->synack_to_ack_ns);
	put_dur_field(&l, "fin_to_close", r->fin_to_close_ns);
	put_dur_field(&l, "time_wait", r->time_wait_ns);
	put(&l, ",\"anomalies\":[");
	put_anomalies(&l, r->anomalies, ",", 1);
	put(&l, "]}\n");
	fwrite(l.b, 1, l.n, o->f);
}

static void conn_csv(struct out *o, const struct tp_conn_record *r)
{
	char a[48], b[48], ts[32], dur[32], an[512];
	if (!o->header_done) {
		fprintf(o->f, "type,ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,duration,orig_bytes,resp_bytes,"
		              "conn_state,history,orig_pkts,resp_pkts,orig_state,resp_state,handshake,teardown,"
		              "completeness,anomalies\n");
		o->header_done = 1;
	}
	const char *uid = uid_of(o, r->first_frame);
	tp_addr_str(&r->orig_h, a, sizeof a);
	tp_addr_str(&r->resp_h, b, sizeof b);
	ts_str(r->start_ns, ts, sizeof ts);
	dur_str(r->last_ns - r->start_ns, dur, sizeof dur, "");
	anomalies_str(r->anomalies, ";", an, sizeof an);
	fprintf(o->f,
	        "conn,%s,%s,%s,%u,%s,%u,%s,%" PRIu64 ",%" PRIu64 ",%s,%s,%" PRIu64 ",%" PRIu64 ",%s,%s,%s,%s,%u,%s\n",
	        ts, uid, a, r->orig_p, b, r->resp_p, dur, r->orig_bytes, r->resp_bytes, r->conn_state, r->history,
	        r->orig_pkts, r->resp_pkts, tp_state_name(r->orig_state), tp_state_name(r->resp_state),
	        tp_handshake_name(r->handshake), tp_teardown_name(r->teardown), r->completeness, an);
}

/* Zeek's ASCII log: the header zeek-cut needs, then one TSV row per connection. */
static void conn_zeek(struct out *o, const struct tp_conn_record *r)
{
	char a[48], b[48], ts[32], dur[32], an[512];
	if (!o->header_done) {
		fprintf(o->f, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
		              "#path\tconn\n");
		fprintf(o->f, "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\t"
		              "orig_bytes\tresp_bytes\tconn_state\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\t"
		              "resp_ip_bytes\torig_state\tresp_state\thandshake\tteardown\tcompleteness\tanomalies\n");
		fprintf(o->f, "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount\tcount\tstring\t"
		              "string\tcount\tcount\tcount\tcount\tstring\tstring\tstring\tstring\tcount\tset[string]\n");
		o->header_done = 1;
	}
	const char *uid = uid_of(o, r->first_frame);
	tp_addr_str(&r->orig_h, a, sizeof a);
	tp_addr_str(&r->resp_h, b, sizeof b);
	ts_str(r->start_ns, ts, sizeof ts);
	dur_str(r->last_ns - r->start_ns, dur, sizeof dur, "-");
	anomalies_str(r->anomalies, ",", an, sizeof an);
	fprintf(o->f,
	        "%s\t%s\t%s\t%u\t%s\t%u\ttcp\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
	        "\t%" PRIu64 "\t%s\t%s\t%s\t%s\t%u\t%s\n",
	        ts, uid, a, r->orig_p, b, r->resp_p, dur, r->orig_bytes, r->resp_bytes, r->conn_state,
	        r->history[0] ? r->history : "-", r->orig_pkts, r->orig_ip_bytes, r->resp_pkts, r->resp_ip_bytes,
	        tp_state_name(r->orig_state), tp_state_name(r->resp_state), tp_handshake_name(r->handshake),
	        tp_teardown_name(r->teardown), r->completeness, an[0] ? an : "(empty)");
}

void out_conn(struct out *o, const struct tp_conn_record *r)
{
	if (o->only && !(r->anomalies & o->only))
		return;
	switch (o->fmt) {
	case OUT_TEXT: conn_text(o, r); break;
	case OUT_JSON: conn_json(o, r); break;
	case OUT_CSV: conn_csv(o, r); break;
	case OUT_ZEEK: conn_zeek(o, r); break;
	}
}

/* ---- alerts and summary ------------------------------------------------- */

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

void out_flood(struct out *o, const struct tp_flood *fl)
{
	char a[48], t0[32], t1[32];
	tp_addr_str(&fl->server, a, sizeof a);
	if (o->fmt == OUT_JSON) {
		ts_str(fl->start_ns, t0, sizeof t0);
		ts_str(fl->end_ns, t1, sizeof t1);
		fprintf(o->f,
		        "{\"type\":\"alert\",\"alert\":\"syn_flood\",\"server\":\"%s\",\"port\":%u,\"start\":%s,"
		        "\"end\":%s,\"syns\":%" PRIu64 ",\"synacks\":%" PRIu64 ",\"completed\":%" PRIu64
		        ",\"peak_half_open\":%u,\"distinct_sources\":%u,\"answered_share\":%.3f,"
		        "\"source_spread\":%.3f}\n",
		        a, fl->port, t0, t1, fl->syns, fl->synacks, fl->completed, fl->peak_half_open,
		        fl->distinct_sources, fl->answered_share, fl->source_spread);
		return;
	}
	/* Text, and for CSV/Zeek on stderr, so the table stays one kind of row;
	 * times in the style of the text's own. */
	FILE *f = o->fmt == OUT_TEXT ? o->f : stderr;
	time_text(o, fl->start_ns, t0, sizeof t0);
	time_text(o, fl->end_ns, t1, sizeof t1);
	fprintf(f,
	        "%sALERT syn_flood%s toward %s%s%s:%u from %s to %s: %" PRIu64 " SYN%s, ~%u source%s (spread %.2f), "
	        "peak %u half-open, %.0f%% answered by SYN-ACK, %" PRIu64 " handshake%s completed\n",
	        o->color ? RED : "", o->color ? OFF : "", fl->server.family == 6 ? "[" : "", a,
	        fl->server.family == 6 ? "]" : "", fl->port, t0, t1, fl->syns, plural(fl->syns), fl->distinct_sources,
	        plural(fl->distinct_sources), fl->source_spread, fl->peak_half_open, fl->answered_share * 100.0,
	        fl->completed, plural(fl->completed));
}

static uint64_t anomaly_segments(const struct tp_stats *st)
{
	uint64_t n = 0;
	for (int i = 0; i < TP_A_COUNT; i++)
		n += st->anomalies[i];
	return n;
}

void out_progress(struct out *o, const struct tp_stats *st, uint64_t packets, int64_t now_ns)
{
	char t[32];
	if (o->fmt == OUT_JSON) {
		ts_str(now_ns, t, sizeof t);
		fprintf(o->f,
		        "{\"type\":\"stats\",\"ts\":%s,\"packets\":%" PRIu64 ",\"segments\":%" PRIu64
		        ",\"connections\":%" PRIu64 ",\"open\":%" PRIu64 ",\"anomalies\":%" PRIu64 ",\"floods\":%" PRIu64 "}\n",
		        t, packets, st->segments, st->conns_total, st->conns_active, anomaly_segments(st), st->floods);
		return;
	}
	time_text(o, now_ns, t, sizeof t);
	fprintf(stderr,
	        "tcpphase: stats at %s: packets %" PRIu64 ", TCP segments %" PRIu64 ", connections %" PRIu64
	        " (%" PRIu64 " tracked now), anomalies %" PRIu64 " segments, SYN floods %" PRIu64 "\n",
	        t, packets, st->segments, st->conns_total, st->conns_active, anomaly_segments(st), st->floods);
}

static void summary_json(struct out *o, const struct tp_stats *st, const struct out_run_info *ri)
{
	FILE *f = o->f;
	fprintf(f, "{\"type\":\"summary\",\"packets\":%" PRIu64 ",\"segments\":%" PRIu64 ",\"connections\":%" PRIu64
	        ",\"peak_tracked\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"expired\":%" PRIu64 ",\"floods\":%" PRIu64
	        ",\"read_errors\":%" PRIu64 ",\"interrupted\":%s",
	        ri->packets, st->segments, st->conns_total, st->conns_peak, st->evicted, st->expired, st->floods,
	        ri->read_errors, ri->interrupted ? "true" : "false");
	fprintf(f, ",\"handshake\":{");
	for (int i = 0; i < TP_HS_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", tp_handshake_name(i), st->by_handshake[i]);
	fprintf(f, "},\"teardown\":{");
	for (int i = 0; i < TP_TD_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", tp_teardown_name(i), st->by_teardown[i]);
	fprintf(f, "},\"anomalies\":{");
	for (int i = 0, n = 0; i < TP_A_COUNT; i++)
		if (st->anomalies[i])
			fprintf(f, "%s\"%s\":{\"segments\":%" PRIu64 ",\"connections\":%" PRIu64 "}", n++ ? "," : "",
			        tp_anomaly_table[i].name, st->anomalies[i], st->conn_anomalies[i]);
	fprintf(f, "},\"decode\":{");
	for (int i = 0; i < TP_DEC_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", tp_dec_result_name(i), ri->dec->by_result[i]);
	const struct tp_defrag_stats *fr = &ri->dec->frag;
	fprintf(f, ",\"tunnelled\":%" PRIu64 ",\"bad_checksum\":%" PRIu64, ri->dec->tunnelled, ri->dec->bad_checksum);
	fprintf(f, ",\"reassembly\":{\"reassembled\":%" PRIu64 ",\"overlapping\":%" PRIu64 ",\"inconsistent\":%" PRIu64
	        ",\"timed_out\":%" PRIu64 ",\"unfinished\":%" PRIu64 ",\"over_bytes\":%" PRIu64
	        ",\"over_datagrams\":%" PRIu64 "}}",
	        fr->reassembled, fr->overlapping, fr->inconsistent, fr->timed_out, fr->unfinished, fr->over_bytes,
	        fr->over_datagrams);
	if (ri->filter)
		fprintf(f, ",\"filtered_out\":%" PRIu64, ri->filtered);
	if (ri->pcap_drops)
		fprintf(f, ",\"kernel_drops\":%" PRIu64, ri->pcap_drops);
	if (ri->shard_n)
		fprintf(f, ",\"shard\":\"%u/%u\",\"other_shard\":%" PRIu64, ri->shard_k, ri->shard_n, ri->other_shard);
	if (st->spilled_peak)
		fprintf(f, ",\"spilled_peak\":%" PRIu64, st->spilled_peak);
	fprintf(f, "}\n");
}

/* Only when the capture had fragments: what became of their datagrams. */
static void summary_reassembly(FILE *f, const struct tp_decode_stats *d)
{
	const struct tp_defrag_stats *fr = &d->frag;
	if (!d->by_result[TP_DEC_FRAGMENT] && !d->by_result[TP_DEC_FRAG_DROPPED] && !fr->reassembled)
		return;
	fprintf(f, "IP fragments: %" PRIu64 " datagram%s reassembled; dropped: overlapping %" PRIu64
	        ", inconsistent %" PRIu64 ", timed out %" PRIu64 ", incomplete at the end %" PRIu64
	        "; fragments refused over the caps: bytes %" PRIu64 ", datagrams %" PRIu64 "\n",
	        fr->reassembled, plural(fr->reassembled), fr->overlapping, fr->inconsistent, fr->timed_out,
	        fr->unfinished, fr->over_bytes, fr->over_datagrams);
}

static void summary_text(FILE *f, const struct tp_stats *st, const struct out_run_info *ri)
{
	fprintf(f, "\n== tcpphase summary: %s%s ==\n", ri->source, ri->interrupted ? " (interrupted)" : "");
	fprintf(f, "packets %" PRIu64 ", TCP segments %" PRIu64 ", connections %" PRIu64 " (peak tracked %" PRIu64
	        ", evicted %" PRIu64 ", expired %" PRIu64 ")\n",
	        ri->packets, st->segments, st->conns_total, st->conns_peak, st->evicted, st->expired);
	if (st->spilled_peak)
		fprintf(f, "lingering connections' state in a temporary file: %.1f MiB at most\n",
		        (double)st->spilled_peak / (1 << 20));
	fprintf(f, "handshakes:");
	for (int i = 0; i < TP_HS_COUNT; i++)
		if (st->by_handshake[i])
			fprintf(f, " %s %" PRIu64, tp_handshake_name(i), st->by_handshake[i]);
	fprintf(f, "\nteardowns: ");
	for (int i = 0; i < TP_TD_COUNT; i++)
		if (st->by_teardown[i])
			fprintf(f, " %s %" PRIu64, tp_teardown_name(i), st->by_teardown[i]);
	fprintf(f, "\nanomalies (connections / segments):\n");
	int any = 0;
	for (int i = 0; i < TP_A_COUNT; i++)
		if (st->anomalies[i]) {
			fprintf(f, "  %-22s %6" PRIu64 " / %-6" PRIu64 " %s\n", tp_anomaly_table[i].name,
			        st->conn_anomalies[i], st->anomalies[i], tp_anomaly_table[i].summary);
			any = 1;
		}
	if (!any)
		fprintf(f, "  none\n");
	if (st->floods)
		fprintf(f, "SYN floods: %" PRIu64 "\n", st->floods);
	const struct tp_decode_stats *d = ri->dec;
	fprintf(f, "not analysed: non-TCP %" PRIu64 ", fragments %" PRIu64 ", ICMP quotes %" PRIu64
	        ", truncated %" PRIu64 ", malformed %" PRIu64 ", unsupported %" PRIu64,
	        d->by_result[TP_DEC_NOT_TCP], d->by_result[TP_DEC_FRAGMENT], d->by_result[TP_DEC_ICMP_QUOTE],
	        d->by_result[TP_DEC_TRUNCATED], d->by_result[TP_DEC_MALFORMED], d->by_result[TP_DEC_UNSUPPORTED]);
	if (d->by_result[TP_DEC_FRAG_DROPPED])
		fprintf(f, ", fragments dropped %" PRIu64, d->by_result[TP_DEC_FRAG_DROPPED]);
	if (ri->filter)
		fprintf(f, ", filtered out %" PRIu64, ri->filtered);
	fprintf(f, "\n");
	summary_reassembly(f, d);
	if (ri->read_errors)
		fprintf(f, "capture read errors: %" PRIu64 "\n", ri->read_errors);
	if (ri->pcap_drops)
		fprintf(f, "dropped by the kernel: %" PRIu64 "\n", ri->pcap_drops);
	if (ri->shard_n)
		fprintf(f, "shard %u/%u: %" PRIu64 " segments left to the other shards\n", ri->shard_k, ri->shard_n,
		        ri->other_shard);
}

void out_summary(struct out *o, const struct tp_stats *st, const struct out_run_info *ri)
{
	if (o->fmt == OUT_JSON)
		summary_json(o, st, ri);
	else
		summary_text(o->fmt == OUT_TEXT ? o->f : stderr, st, ri);
}
