/*
 * packet-tcpphase.c - the tcpphase analysis as a Wireshark 4.0 postdissector.
 *
 * The plugin reads the TCP and IP fields Wireshark has already dissected
 * (extract.c), turns them into a struct tp_segment and feeds the core on the
 * first, sequential pass. The core's verdict for each frame is kept for the
 * whole file, amended when the core reports a late verdict, and rendered on
 * every pass: the "TCP Phase" subtree, expert info from the core's anomaly
 * table, an Info column hint and the "tcpphase" tap for the statistics tree.
 * Nothing about TCP is decided here: that is the core's job alone, so the
 * plugin and the tcpphase CLI always agree.
 *
 * Late verdicts (half_open, syn_unanswered, lost_final_ack, syn_flood) and
 * the records of connections still open need the end of the capture: the
 * plugin calls tp_finish() from a postseq cleanup routine, which tshark (end
 * of its first pass with -2) and Wireshark (end of a file load, end of a live
 * capture) call once the sequential pass is over. A redissection (e.g. after
 * a preference change) ends without that call, so the first frame dissected
 * again afterwards (visited) finishes the analysis if nothing else did.
 */
#define WS_BUILD_DLL
#include "tcpphase-plugin.h"

#include <errno.h>
#include <math.h>

#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/column-utils.h>
#include <epan/tfs.h>
#include <epan/dissectors/packet-tcp.h>

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = TP_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;
WS_DLL_PUBLIC void plugin_register(void);
TPP_PLUGIN_DESCRIBE(TPP_PLUGIN_DESC_DISSECTOR | TPP_PLUGIN_DESC_TAP_LISTENER)

/* ---- registration ids ----------------------------------------------------- */

static int proto_tcpphase = -1;
static dissector_handle_t tcpphase_handle;
int tpp_tap_id = -1;

static int hf_conn = -1;
static int hf_uid = -1;
static int hf_stream = -1;
static int hf_dir = -1;
static int hf_dir_inferred = -1;
static int hf_phase = -1;
static int hf_step = -1;
static int hf_rtx = -1;
static int hf_orig_state = -1;
static int hf_resp_state = -1;
static int hf_expected_ack = -1;
static int hf_seen_ack = -1;
static int hf_expected_ack_raw = -1;
static int hf_seen_ack_raw = -1;
static int hf_syn_to_synack = -1;
static int hf_synack_to_ack = -1;
static int hf_echo = -1;
static int hf_echoed_frame = -1;
static int hf_anomaly = -1;
static int hf_c = -1; /* the connection subtree's head */
static int hf_c_completeness = -1;
static int hf_c_compl_syn = -1;
static int hf_c_compl_synack = -1;
static int hf_c_compl_ack = -1;
static int hf_c_compl_data = -1;
static int hf_c_compl_fin = -1;
static int hf_c_compl_rst = -1;
static int hf_c_conn_state = -1;
static int hf_c_history = -1;
static int hf_c_handshake = -1;
static int hf_c_teardown = -1;
static int hf_c_orig_state = -1;
static int hf_c_resp_state = -1;
static int hf_c_end = -1;
static int hf_c_pending = -1;

static gint ett_tcpphase = -1;
static gint ett_conn = -1;
static gint ett_completeness = -1;

/* One expert field per anomaly kind, registered from the core's table. */
static expert_field ei_anomaly[TP_A_COUNT];
static expert_field ei_handshake_done = EI_INIT;

/* ---- preferences ------------------------------------------------------------ */

/* Times and the spread are decimal strings, read as the CLI reads its
 * options (seconds, fractions allowed): 4.0 has no floating-point pref. */
static const char *pref_half_open_timeout;
static const char *pref_syn_timeout;
static const char *pref_idle_timeout;
static const char *pref_half_closed_timeout;
static const char *pref_flood_window;
static const char *pref_flood_min_spread;
static guint pref_max_conns;
static guint pref_max_embryonic;
static guint pref_flood_min_half_open;
static guint pref_flood_min_rate;
static tpp_pref_bool pref_key_context = FALSE;
static tpp_pref_bool pref_zeek_bare = FALSE;
static tpp_pref_bool pref_checksum_verify = FALSE;
static gint pref_split = TP_SPLIT_WIRESHARK;
static tpp_pref_bool pref_info_hint = TRUE;
static const char *pref_uid_seed = ""; /* empty: the capture's own */

static const enum_val_t split_vals[] = {
	{ "wireshark", "As Wireshark: later stray segments stay in the old tcp.stream", TP_SPLIT_WIRESHARK },
	{ "zeek", "As Zeek: a connection is forgotten 5 s after it closed", TP_SPLIT_ZEEK },
	{ NULL, NULL, -1 },
};

/* Seconds as a non-negative decimal; FALSE if s is not one. */
static gboolean parse_seconds(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return FALSE;
	double d = g_ascii_strtod(s, &end);
	if (end == s || *end || !(d >= 0) || !isfinite(d))
		return FALSE;
	*out = d;
	return TRUE;
}

/* The uid_seed preference: TRUE and *seed if it holds a number (decimal or
 * 0x hex, as the CLI's --seed); empty means the capture's own seed. */
static gboolean pref_seed(const char *s, guint64 *seed, gboolean warn)
{
	char *end;
	if (!s || !*s)
		return FALSE;
	errno = 0;
	guint64 v = g_ascii_strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		if (warn)
			ws_warning("tcpphase.uid_seed: '%s' is not a whole number; using the capture's own seed", s);
		return FALSE;
	}
	*seed = v;
	return TRUE;
}

/* Apply one decimal preference to *ns (nanoseconds, as the CLI converts). */
static void apply_seconds(const char *name, const char *s, int64_t *ns, gboolean warn)
{
	double d;
	if (parse_seconds(s, &d))
		*ns = (int64_t)(d * 1e9);
	else if (warn)
		ws_warning("tcpphase.%s: '%s' is not a non-negative number of seconds; using the default", name,
		           s ? s : "");
}

static void config_from_prefs(struct tp_config *cfg, gboolean warn)
{
	static const uint16_t no_ports[1] = { 0 };
	double d;
	tp_config_default(cfg);
	apply_seconds("half_open_timeout", pref_half_open_timeout, &cfg->half_open_timeout_ns, warn);
	apply_seconds("syn_timeout", pref_syn_timeout, &cfg->syn_timeout_ns, warn);
	apply_seconds("idle_timeout", pref_idle_timeout, &cfg->idle_timeout_ns, warn);
	apply_seconds("half_closed_timeout", pref_half_closed_timeout, &cfg->half_closed_timeout_ns, warn);
	apply_seconds("flood_window", pref_flood_window, &cfg->flood_window_ns, warn);
	if (parse_seconds(pref_flood_min_spread, &d))
		cfg->flood_min_spread = d;
	else if (warn)
		ws_warning("tcpphase.flood_min_spread: '%s' is not a non-negative number; using the default",
		           pref_flood_min_spread ? pref_flood_min_spread : "");
	cfg->max_conns = pref_max_conns;
	cfg->max_embryonic = pref_max_embryonic;
	cfg->flood_min_half_open = pref_flood_min_half_open;
	cfg->flood_min_syn_rate = pref_flood_min_rate;
	cfg->key_context = pref_key_context ? 1 : 0;
	cfg->checksum_verify = pref_checksum_verify ? 1 : 0;
	cfg->split = pref_split;
	cfg->wireshark = TPP_WIRESHARK_RULES;
	guint64 seed;
	if (pref_seed(pref_uid_seed, &seed, warn))
		cfg->uid_seed = seed;
	if (pref_zeek_bare) { /* zeek -b registers no likely-server ports */
		cfg->zeek_server_ports = no_ports;
		cfg->zeek_n_server_ports = 0;
	}
}

/* The apply callback only checks, so that a typo is reported when it is
 * made; the configuration itself is built when a file is (re)dissected. */
static void prefs_applied(void)
{
	struct tp_config cfg;
	config_from_prefs(&cfg, TRUE);
}

/* ---- per-file state ------------------------------------------------------- */

/*
 * The endpoints of segments, stored once per tcp.stream rather than in
 * every frame: a capture has far fewer streams than frames, and every
 * frame of a stream has the same address and port pair, one way or the
 * other. The VLAN/tunnel context is part of it, so that a frame keeps the
 * one its segment had; a frame that differs from its stream's entry (or
 * has no tcp.stream) gets one of its own. Entries live as long as the
 * file: a replay rebuilds every segment from them.
 */
struct tpp_ends {
	struct tp_addr addr[2]; /* as the stream's first segment: from addr[0] */
	guint16 port[2];
	guint32 context;
};

/*
 * What the plugin keeps about one frame that carried a TCP segment, for the
 * whole file: the segment (the core's input, kept for a replay) and its
 * verdict, packed, since a capture of millions of frames keeps millions of
 * these (96 bytes instead of a struct tp_segment and a struct tp_verdict,
 * 184; the TCP timestamps and the frame an ACK echoes take 16 of the 96).
 * frame_segment() and frame_verdict() give the full structs back.
 * What the two share (frame, time, flags, length) is stored once. Frame
 * numbers are 32-bit in Wireshark, and so are connection indices here: the
 * core starts at most one connection per frame. Widest members first, so
 * that nothing is padded.
 */
struct tpp_frame {
	gint64 ts_ns;
	gint64 syn_to_synack_ns, synack_to_ack_ns;
	guint32 frame;
	guint32 ends;           /* index in f->ends */
	guint32 seq, ack, len;
	guint32 stream;         /* tcp.stream */
	guint32 conn, first_frame;
	guint32 expected_ack, seen_ack;
	guint32 tsval, tsecr;   /* with has_ts */
	guint32 echoed_frame;   /* a frame number we fed, or 0 */
	tp_anomaly_set anomalies;
	guint16 window;
	gint8 wscale;
	guint flags : 9;        /* TP_TH_* */
	guint checksum : 2;     /* enum tp_checksum */
	guint swapped : 1;      /* sent from ends.addr[1] to ends.addr[0] */
	/* The verdict does not repeat the segment's flags and length: the
	 * blank verdict (all 0) of a segment the core had no room for. */
	guint blank : 1;
	guint dir : 1;
	guint dir_inferred : 1;
	guint rtx : 1;
	guint ack_checked : 1;
	guint phase : 3;
	guint step : 4;
	guint orig_state : 4;
	guint resp_state : 4;
	guint has_ts : 1;
	guint echo : 3;         /* enum tp_echo */
};
/* The bit-fields hold every value of the core's enums; a new member that
 * makes a frame bigger is a choice, not an accident. */
G_STATIC_ASSERT(TP_PHASE_COUNT <= 8 && TP_STEP_COUNT <= 16 && TP_STATE_COUNT <= 16 && TP_ECHO_COUNT <= 8);
G_STATIC_ASSERT(sizeof(struct tpp_frame) <= 96);

static struct tpp_file {
	struct tp_analyzer *an;
	struct tp_config cfg;
	GArray *frames;     /* struct tpp_frame, ordered by frame number */
	GArray *pos;        /* guint32 by frame number: 1 + its index in frames, or 0 */
	GArray *ends;       /* struct tpp_ends */
	GArray *stream_ends; /* guint32 by tcp.stream: 1 + the index of its entry in ends, or 0 */
	GPtrArray *conns;   /* struct tpp_conn *, by core connection index */
	GPtrArray *floods;  /* struct tpp_flood *, in the order reported */
	GArray *rel;        /* struct tpp_rel by tcp.stream: TCP's relative numbering */
	guint32 feeding;    /* frame being fed: a flood reported now attaches to it */
	gboolean seeded;    /* cfg.uid_seed is set: the preference's, or frame 1's */
	gboolean finished;  /* tp_finish() has run */
} *g_file;

/*
 * How TCP numbers a stream's sequence spaces: what it subtracts from each
 * side's raw numbers (0 when it shows them absolute). The plugin shows its
 * acknowledgement numbers as TCP shows tcp.ack beside them, and so takes the
 * bases from TCP itself (the "tcp" tap) rather than working them out again.
 * side 0 is the stream's ends.addr[0], the sender of its first segment.
 */
struct tpp_rel {
	guint32 base[2];
	gboolean known[2];
};

static gboolean same_end(const struct tp_addr *a, guint16 pa, const struct tp_addr *b, guint16 pb)
{
	return pa == pb && memcmp(a, b, sizeof *a) == 0; /* unused address bytes are zero */
}

/* Is s between e's endpoints, and which way? */
static gboolean ends_match(const struct tpp_ends *e, const struct tp_segment *s, gboolean *swapped)
{
	if (e->context != s->context)
		return FALSE;
	if (same_end(&e->addr[0], e->port[0], &s->src, s->sport) && same_end(&e->addr[1], e->port[1], &s->dst, s->dport)) {
		*swapped = FALSE;
		return TRUE;
	}
	if (same_end(&e->addr[1], e->port[1], &s->src, s->sport) && same_end(&e->addr[0], e->port[0], &s->dst, s->dport)) {
		*swapped = TRUE;
		return TRUE;
	}
	return FALSE;
}

/* The index in f->ends of s's endpoints: its stream's entry, or a new one;
 * *swapped tells whether s was sent from the entry's second endpoint. */
static guint32 ends_of(struct tpp_file *f, const struct tp_segment *s, guint32 stream, gboolean *swapped)
{
	guint32 *slot = NULL;
	if (stream != G_MAXUINT32) {
		if (stream >= f->stream_ends->len)
			g_array_set_size(f->stream_ends, stream + 1);
		slot = &g_array_index(f->stream_ends, guint32, stream);
		if (*slot && ends_match(&g_array_index(f->ends, struct tpp_ends, *slot - 1), s, swapped))
			return *slot - 1;
	}
	struct tpp_ends e;
	memset(&e, 0, sizeof e);
	e.addr[0] = s->src;
	e.port[0] = s->sport;
	e.addr[1] = s->dst;
	e.port[1] = s->dport;
	e.context = s->context;
	g_array_append_val(f->ends, e);
	if (slot && !*slot)
		*slot = f->ends->len;
	*swapped = FALSE;
	return f->ends->len - 1;
}

/* A new frame's record: its segment, and no verdict yet. */
static void frame_pack_segment(struct tpp_file *f, struct tpp_frame *fr, const struct tp_segment *s,
                               guint32 stream)
{
	gboolean swapped;
	memset(fr, 0, sizeof *fr);
	fr->frame = (guint32)s->frame;
	fr->ts_ns = s->ts_ns;
	fr->ends = ends_of(f, s, stream, &swapped);
	fr->swapped = swapped ? 1 : 0;
	fr->seq = s->seq;
	fr->ack = s->ack;
	fr->flags = s->flags;
	fr->window = s->window;
	fr->len = s->len;
	fr->wscale = s->wscale;
	fr->checksum = s->checksum;
	fr->has_ts = s->has_ts ? 1 : 0;
	fr->tsval = s->tsval;
	fr->tsecr = s->tsecr;
	fr->stream = stream;
}

static void frame_segment(const struct tpp_file *f, const struct tpp_frame *fr, struct tp_segment *s)
{
	const struct tpp_ends *e = &g_array_index(f->ends, struct tpp_ends, fr->ends);
	int from = fr->swapped;
	memset(s, 0, sizeof *s);
	s->frame = fr->frame;
	s->ts_ns = fr->ts_ns;
	s->src = e->addr[from];
	s->sport = e->port[from];
	s->dst = e->addr[!from];
	s->dport = e->port[!from];
	s->context = e->context;
	s->seq = fr->seq;
	s->ack = fr->ack;
	s->flags = (uint16_t)fr->flags;
	s->window = fr->window;
	s->len = fr->len;
	s->wscale = fr->wscale;
	s->checksum = (uint8_t)fr->checksum;
	s->has_ts = (uint8_t)fr->has_ts;
	s->tsval = fr->tsval;
	s->tsecr = fr->tsecr;
}

/* Store v, the verdict on fr's segment (whose frame and time it repeats). */
static void frame_pack_verdict(struct tpp_frame *fr, const struct tp_verdict *v)
{
	fr->blank = v->flags != fr->flags || v->len != fr->len;
	/* At most one connection per frame: this never saturates. */
	fr->conn = v->conn < G_MAXUINT32 ? (guint32)v->conn : G_MAXUINT32;
	fr->first_frame = (guint32)v->first_frame; /* a frame number we fed */
	fr->dir = v->dir;
	fr->dir_inferred = v->dir_inferred;
	fr->phase = v->phase;
	fr->step = v->step;
	fr->rtx = v->rtx;
	fr->orig_state = v->orig_state;
	fr->resp_state = v->resp_state;
	fr->ack_checked = v->ack_checked;
	fr->expected_ack = v->expected_ack;
	fr->seen_ack = v->seen_ack;
	fr->syn_to_synack_ns = v->syn_to_synack_ns;
	fr->synack_to_ack_ns = v->synack_to_ack_ns;
	fr->anomalies = v->anomalies;
	fr->echo = v->echo;
	fr->echoed_frame = (guint32)v->echoed_frame; /* a frame number we fed */
}

static void frame_verdict(const struct tpp_frame *fr, struct tp_verdict *v)
{
	memset(v, 0, sizeof *v);
	v->frame = fr->frame;
	v->ts_ns = fr->ts_ns;
	v->conn = fr->conn;
	v->first_frame = fr->first_frame;
	v->flags = fr->blank ? 0 : (uint16_t)fr->flags;
	v->len = fr->blank ? 0 : fr->len;
	v->dir = (uint8_t)fr->dir;
	v->dir_inferred = (uint8_t)fr->dir_inferred;
	v->phase = (uint8_t)fr->phase;
	v->step = (uint8_t)fr->step;
	v->rtx = (uint8_t)fr->rtx;
	v->orig_state = (uint8_t)fr->orig_state;
	v->resp_state = (uint8_t)fr->resp_state;
	v->ack_checked = (uint8_t)fr->ack_checked;
	v->expected_ack = fr->expected_ack;
	v->seen_ack = fr->seen_ack;
	v->syn_to_synack_ns = fr->syn_to_synack_ns;
	v->synack_to_ack_ns = fr->synack_to_ack_ns;
	v->anomalies = fr->anomalies;
	v->echo = (uint8_t)fr->echo;
	v->echoed_frame = fr->echoed_frame;
}

static struct tpp_frame *frame_at(struct tpp_file *f, guint i)
{
	return &g_array_index(f->frames, struct tpp_frame, i);
}

/* Every pass looks its frame up: by number, not by a search through a
 * large array (which cost more than the analysis itself). */
static struct tpp_frame *frame_find(struct tpp_file *f, guint32 num)
{
	guint32 p = num < f->pos->len ? g_array_index(f->pos, guint32, num) : 0;
	return p ? frame_at(f, p - 1) : NULL;
}

/* Index of the first stored frame >= num (f->frames->len if none). */
static guint frame_pos(struct tpp_file *f, guint32 num)
{
	guint lo = 0, hi = f->frames->len;
	if (!hi || frame_at(f, hi - 1)->frame < num)
		return hi; /* the usual case: frames come in order */
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (frame_at(f, mid)->frame < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Store a new frame in order and index it (and the ones it moved). */
static struct tpp_frame *frame_insert(struct tpp_file *f, const struct tpp_frame *nf)
{
	guint32 num = nf->frame;
	guint at = frame_pos(f, num);
	g_array_insert_val(f->frames, at, *nf);
	if (num >= f->pos->len)
		g_array_set_size(f->pos, num + 1);
	for (guint i = at; i < f->frames->len; i++)
		g_array_index(f->pos, guint32, frame_at(f, i)->frame) = i + 1;
	return frame_at(f, at);
}

static struct tpp_conn *conn_get(struct tpp_file *f, guint64 idx)
{
	if (idx >= G_MAXUINT32 - 1)
		return NULL;
	if (idx >= f->conns->len)
		g_ptr_array_set_size(f->conns, (guint)idx + 1);
	struct tpp_conn *c = (struct tpp_conn *)g_ptr_array_index(f->conns, (guint)idx);
	if (!c) {
		c = g_new0(struct tpp_conn, 1);
		c->stream = G_MAXUINT32;
		g_ptr_array_index(f->conns, (guint)idx) = c;
	}
	return c;
}

/*
 * The uid of fr's connection, as the CLI names it (empty and FALSE when
 * not known: fr NULL, or no seed yet). The tree, the connection table and
 * the conversation filter all take it from here, so that a filter built on
 * one frame selects what the others show for it.
 */
static gboolean frame_uid(const struct tpp_file *f, const struct tpp_frame *fr, char uid[20])
{
	if (!f || !fr || !f->seeded || !fr->first_frame) {
		uid[0] = '\0';
		return FALSE;
	}
	tp_conn_uid(f->cfg.uid_seed, fr->first_frame, uid);
	return TRUE;
}

/* Core callbacks ------------------------------------------------------------ */

static void cb_amend(void *user, const struct tp_amend *a)
{
	struct tpp_file *f = (struct tpp_file *)user;
	struct tpp_frame *fr = a->frame <= G_MAXUINT32 ? frame_find(f, (guint32)a->frame) : NULL;
	if (fr) {
		struct tp_verdict v;
		frame_verdict(fr, &v);
		tp_verdict_amend(&v, a);
		frame_pack_verdict(fr, &v);
	}
}

static void cb_conn(void *user, const struct tp_conn_record *r)
{
	struct tpp_conn *c = conn_get((struct tpp_file *)user, r->conn);
	if (c) {
		c->rec = *r;
		c->have_rec = TRUE;
	}
}

static void cb_flood(void *user, const struct tp_flood *fl)
{
	struct tpp_file *f = (struct tpp_file *)user;
	struct tpp_flood *x = g_new0(struct tpp_flood, 1);
	x->f = *fl;
	x->frame = f->feeding;
	g_ptr_array_add(f->floods, x);
}

static gboolean analyzer_start(struct tpp_file *f)
{
	struct tp_callbacks cb = { .user = f, .amend = cb_amend, .conn = cb_conn, .flood = cb_flood }; /* no store: Wireshark keeps every frame's data in memory anyway */
	f->an = tp_analyzer_new(&f->cfg, &cb);
	if (!f->an)
		ws_warning("tcpphase: out of memory starting the analyzer");
	return f->an != NULL;
}

/* Run one stored frame through the core and record what it says. */
static void feed(struct tpp_file *f, struct tpp_frame *fr)
{
	struct tp_segment s;
	struct tp_verdict v;
	frame_segment(f, fr, &s);
	f->feeding = fr->frame;
	tp_feed(f->an, &s, &v);
	frame_pack_verdict(fr, &v);
	struct tpp_conn *c = conn_get(f, v.conn);
	if (c) {
		if (!c->first_frame) {
			c->first_frame = (guint32)v.frame;
			c->stream = fr->stream;
		}
		c->last_frame = (guint32)v.frame;
	}
}

static void finish(struct tpp_file *f)
{
	if (f->finished || !f->an)
		return;
	if (f->frames->len)
		f->feeding = frame_at(f, f->frames->len - 1)->frame;
	tp_finish(f->an);
	f->finished = TRUE;
}

/*
 * A new frame after tp_finish(): a live capture goes on after the GUI
 * showed a packet, or a file grew. The end was not the end: start a fresh
 * analyzer and run every stored segment through it again, which gives the
 * same verdicts as if tp_finish() had never been called.
 */
static void replay(struct tpp_file *f)
{
	tp_analyzer_free(f->an);
	f->an = NULL;
	for (guint i = 0; i < f->conns->len; i++)
		g_free(g_ptr_array_index(f->conns, i));
	g_ptr_array_set_size(f->conns, 0);
	g_ptr_array_set_size(f->floods, 0);
	f->finished = FALSE;
	if (!analyzer_start(f))
		return;
	for (guint i = 0; i < f->frames->len; i++)
		feed(f, frame_at(f, i));
}

static void file_free(struct tpp_file *f)
{
	if (!f)
		return;
	tp_analyzer_free(f->an);
	g_array_free(f->frames, TRUE);
	g_array_free(f->pos, TRUE);
	g_array_free(f->ends, TRUE);
	g_array_free(f->stream_ends, TRUE);
	for (guint i = 0; i < f->conns->len; i++)
		g_free(g_ptr_array_index(f->conns, i));
	g_ptr_array_free(f->conns, TRUE);
	g_ptr_array_free(f->floods, TRUE);
	g_array_free(f->rel, TRUE);
	g_free(f);
}

static void init_file(void)
{
	file_free(g_file);
	g_file = NULL;
	if (!proto_is_protocol_enabled(find_protocol_by_id(proto_tcpphase)))
		return;
	struct tpp_file *f = g_new0(struct tpp_file, 1);
	config_from_prefs(&f->cfg, FALSE);
	guint64 seed;
	f->seeded = pref_seed(pref_uid_seed, &seed, FALSE);
	f->frames = g_array_new(FALSE, FALSE, sizeof(struct tpp_frame));
	f->pos = g_array_new(FALSE, TRUE, sizeof(guint32));
	f->ends = g_array_new(FALSE, FALSE, sizeof(struct tpp_ends));
	f->stream_ends = g_array_new(FALSE, TRUE, sizeof(guint32));
	f->conns = g_ptr_array_new();
	f->floods = g_ptr_array_new_with_free_func(g_free);
	f->rel = g_array_new(FALSE, TRUE, sizeof(struct tpp_rel));
	if (!analyzer_start(f)) {
		file_free(f);
		return;
	}
	g_file = f;
	if (!tpp_extract_sees_tcp())
		ws_warning("tcpphase: IP protocol 6 is not decoded through tcpphase's handle (Decode As ip.proto, or "
		           "another plugin); no TCP segment will be analysed");
	set_postdissector_wanted_hfids(tcpphase_handle, tpp_extract_wanted_hfids(pref_key_context, pref_checksum_verify));
}

static void cleanup_file(void)
{
	file_free(g_file);
	g_file = NULL;
	set_postdissector_wanted_hfids(tcpphase_handle, NULL);
}

/* The sequential pass is over (tshark -2 before pass 2, Wireshark after
 * loading a file or ending a live capture): settle the late verdicts. */
static void end_of_first_pass(void)
{
	if (g_file)
		finish(g_file);
}

/* ---- TCP's relative numbers ------------------------------------------------------ */

static const struct tpp_rel *rel_find(const struct tpp_file *f, guint32 stream)
{
	return stream < f->rel->len ? &g_array_index(f->rel, struct tpp_rel, stream) : NULL;
}

/*
 * TCP hands its tap each header after the postdissector has run on the
 * frame, and only on passes that tap (not the first of tshark -2). A base is
 * the same for every segment of its side, so the one learnt from an earlier
 * frame serves: the SYN gives the base a SYN-ACK's expected ack needs, and
 * so on. Only the header the core analysed counts (not one quoted in an ICMP
 * error, nor another tunnelled in the same frame).
 */
static tap_packet_status tcp_tap_packet(void *tapdata _U_, packet_info *pinfo, epan_dissect_t *edt _U_,
                                        const void *data, tap_flags_t flags _U_)
{
	const struct tcpheader *th = (const struct tcpheader *)data;
	struct tpp_file *f = g_file;
	struct tpp_frame *fr = f ? frame_find(f, pinfo->num) : NULL;
	if (!fr || fr->stream == G_MAXUINT32 || th->th_stream != fr->stream || th->th_rawseq != fr->seq)
		return TAP_PACKET_DONT_REDRAW;
	if (fr->stream >= f->rel->len)
		g_array_set_size(f->rel, fr->stream + 1);
	struct tpp_rel *r = &g_array_index(f->rel, struct tpp_rel, fr->stream);
	int from = fr->swapped;
	r->base[from] = th->th_rawseq - th->th_seq;
	r->known[from] = TRUE;
	if (th->th_flags & TH_ACK) {
		r->base[!from] = th->th_rawack - th->th_ack;
		r->known[!from] = TRUE;
	}
	return TAP_PACKET_DONT_REDRAW;
}

static void tcp_tap_register(void)
{
	static int tag; /* the listener's identity: it keeps no data of its own */
	GString *err = register_tap_listener("tcp", &tag, NULL, TL_IS_DISSECTOR_HELPER, NULL, tcp_tap_packet, NULL,
	                                     NULL);
	if (err) {
		ws_warning("tcpphase: no relative acknowledgement numbers: %s", err->str);
		g_string_free(err, TRUE);
	}
}

/* ---- rendering ---------------------------------------------------------------- */

static proto_item *add_string(proto_tree *t, int hf, tvbuff_t *tvb, const char *s)
{
	proto_item *pi = proto_tree_add_string(t, hf, tvb, 0, 0, s);
	proto_item_set_generated(pi);
	return pi;
}

static proto_item *add_uint(proto_tree *t, int hf, tvbuff_t *tvb, guint32 v)
{
	proto_item *pi = proto_tree_add_uint(t, hf, tvb, 0, 0, v);
	proto_item_set_generated(pi);
	return pi;
}

/*
 * An acknowledgement number of the segment, of the peer's sequence space, in
 * TCP's numbering (relative when TCP's are), with the absolute value beside
 * it as a hidden field. Before TCP has numbered that side (single pass, the
 * first segment seen of a stream) it stays absolute, and says so.
 */
static void add_ack(proto_tree *t, int hf, int hf_raw, tvbuff_t *tvb, guint32 raw, const struct tpp_rel *rel,
                    int peer)
{
	proto_item *pi;
	if (rel && rel->known[peer] && rel->base[peer])
		pi = proto_tree_add_uint_format_value(t, hf, tvb, 0, 0, raw - rel->base[peer], "%u (relative)",
		                                      raw - rel->base[peer]);
	else
		pi = proto_tree_add_uint_format_value(t, hf, tvb, 0, 0, raw, "%u (absolute)", raw);
	proto_item_set_generated(pi);
	pi = add_uint(t, hf_raw, tvb, raw);
	proto_item_set_hidden(pi);
}

static void add_duration(proto_tree *t, int hf, tvbuff_t *tvb, int64_t ns)
{
	if (ns < 0)
		return;
	nstime_t d;
	d.secs = (time_t)(ns / 1000000000);
	d.nsecs = (int)(ns % 1000000000);
	proto_item_set_generated(proto_tree_add_time(t, hf, tvb, 0, 0, &d));
}

static void render_conn(proto_tree *tree, tvbuff_t *tvb, const struct tpp_conn *c, const char *uid)
{
	if (!c->have_rec) {
		proto_item_set_generated(proto_tree_add_item(tree, hf_c_pending, tvb, 0, 0, ENC_NA));
		return;
	}
	const struct tp_conn_record *r = &c->rec;
	proto_item *ci = proto_tree_add_none_format(tree, hf_c, tvb, 0, 0,
	        "Connection %s: handshake %s, teardown %s, conn_state %s", uid, tp_handshake_name((enum tp_handshake)r->handshake),
	        tp_teardown_name((enum tp_teardown)r->teardown), r->conn_state);
	proto_item_set_generated(ci);
	proto_tree *ct = proto_item_add_subtree(ci, ett_conn);
	proto_item *pi = add_uint(ct, hf_c_completeness, tvb, r->completeness);
	proto_tree *bt = proto_item_add_subtree(pi, ett_completeness);
	static int *const bits[] = { &hf_c_compl_rst, &hf_c_compl_fin, &hf_c_compl_data,
	                             &hf_c_compl_ack, &hf_c_compl_synack, &hf_c_compl_syn };
	for (size_t i = 0; i < G_N_ELEMENTS(bits); i++)
		proto_item_set_generated(proto_tree_add_boolean(bt, *bits[i], tvb, 0, 0, r->completeness));
	add_string(ct, hf_c_conn_state, tvb, r->conn_state);
	add_string(ct, hf_c_history, tvb, r->history);
	add_string(ct, hf_c_handshake, tvb, tp_handshake_name((enum tp_handshake)r->handshake));
	add_string(ct, hf_c_teardown, tvb, tp_teardown_name((enum tp_teardown)r->teardown));
	add_string(ct, hf_c_orig_state, tvb, tp_state_name((enum tp_state)r->orig_state));
	add_string(ct, hf_c_resp_state, tvb, tp_state_name((enum tp_state)r->resp_state));
	add_string(ct, hf_c_end, tvb, tp_end_reason_name((enum tp_end_reason)r->end_reason));
}

/* The "TCP Phase" subtree of one frame. */
static void render_tree(tvbuff_t *tvb, proto_tree *tree, const struct tp_verdict *v, const struct tpp_frame *fr,
                        const struct tpp_rel *rel, const struct tpp_conn *c, const char *uid,
                        proto_item **anomaly_item,
                        proto_item **step_item)
{
	guint32 stream = fr->stream;
	const char *phase = tp_phase_name((enum tp_phase)v->phase);
	const char *step = tp_step_label((enum tp_step)v->step);
	const char *ostate = tp_state_name((enum tp_state)v->orig_state);
	const char *rstate = tp_state_name((enum tp_state)v->resp_state);

	proto_item *ti = proto_tree_add_item(tree, proto_tcpphase, tvb, 0, 0, ENC_NA);
	proto_item_append_text(ti, ": %s%s%s, %s / %s", phase, *step ? " " : "", step, ostate, rstate);
	proto_item_set_generated(ti);
	proto_tree *t = proto_item_add_subtree(ti, ett_tcpphase);

	proto_item_set_generated(proto_tree_add_uint64(t, hf_conn, tvb, 0, 0, v->conn));
	if (*uid)
		add_string(t, hf_uid, tvb, uid);
	if (stream != G_MAXUINT32)
		add_uint(t, hf_stream, tvb, stream);
	add_string(t, hf_dir, tvb, v->dir == TP_DIR_ORIG ? "orig" : "resp");
	proto_item_set_generated(proto_tree_add_boolean(t, hf_dir_inferred, tvb, 0, 0, v->dir_inferred));
	add_string(t, hf_phase, tvb, phase);
	if (*step)
		*step_item = add_string(t, hf_step, tvb, step);
	proto_item_set_generated(proto_tree_add_boolean(t, hf_rtx, tvb, 0, 0, v->rtx));
	add_string(t, hf_orig_state, tvb, ostate);
	add_string(t, hf_resp_state, tvb, rstate);
	if (v->ack_checked) {
		/* both acknowledge the sequence space of the frame's receiver */
		add_ack(t, hf_expected_ack, hf_expected_ack_raw, tvb, v->expected_ack, rel, !fr->swapped);
		add_ack(t, hf_seen_ack, hf_seen_ack_raw, tvb, v->seen_ack, rel, !fr->swapped);
	}
	add_duration(t, hf_syn_to_synack, tvb, v->syn_to_synack_ns);
	add_duration(t, hf_synack_to_ack, tvb, v->synack_to_ack_ns);
	if (v->echo != TP_ECHO_NONE)
		add_string(t, hf_echo, tvb, tp_echo_name((enum tp_echo)v->echo));
	if (v->echoed_frame)
		add_uint(t, hf_echoed_frame, tvb, (guint32)v->echoed_frame);
	for (int i = 0; i < TP_A_COUNT; i++)
		if (v->anomalies & TP_ABIT(i))
			anomaly_item[i] = add_string(t, hf_anomaly, tvb, tp_anomaly_table[i].name);
	if (c)
		render_conn(t, tvb, c, uid);
}

/* Hand the frame to the "tcpphase" tap (the statistics tree). It runs
 * after this frame's dissection: everything handed over must live until
 * then (the frame's pool, or the file's state). */
static void queue_tap(packet_info *pinfo, struct tpp_file *f, const struct tp_verdict *v, guint32 stream,
                      const struct tpp_conn *c, const char *uid)
{
	struct tpp_tap *tap = wmem_new0(pinfo->pool, struct tpp_tap);
	struct tp_verdict *vc = wmem_new(pinfo->pool, struct tp_verdict);
	*vc = *v;
	tap->v = vc;
	tap->conn = c;
	tap->stream = stream;
	g_strlcpy(tap->uid, uid, sizeof tap->uid);
	tap->first_of_conn = c->first_frame == v->frame;
	for (guint i = 0; i < f->floods->len; i++) {
		struct tpp_flood *fl = (struct tpp_flood *)g_ptr_array_index(f->floods, i);
		if (fl->frame != v->frame)
			continue;
		if (!tap->n_floods)
			tap->floods = (struct tpp_flood *const *)&g_ptr_array_index(f->floods, i);
		tap->n_floods++;
	}
	tap_queue_packet(tpp_tap_id, pinfo, tap);
}

/*
 * Show one frame's verdict: the subtree only when someone will read it (a
 * visible tree, a filter, a column or -T fields on a tcpphase field: with
 * key_context or checksum_verify, the first pass of tshark -2 builds a
 * hidden tree for extract.c alone), and on every pass the expert infos, the Info column hint and the tap.
 */
static void render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, struct tpp_file *f,
                   const struct tpp_frame *fr)
{
	struct tp_verdict v;
	frame_verdict(fr, &v);
	const char *step = tp_step_label((enum tp_step)v.step);
	if (pref_info_hint && *step)
		col_append_fstr(pinfo->cinfo, COL_INFO, " [%s%s]", step, v.rtx ? " rtx" : "");

	struct tpp_conn *c = v.conn < f->conns->len ? (struct tpp_conn *)g_ptr_array_index(f->conns, (guint)v.conn)
	                                            : NULL;
	proto_item *anomaly_item[TP_A_COUNT] = { 0 }, *step_item = NULL;
	char uid[20];
	frame_uid(f, fr, uid);
	if (proto_field_is_referenced(tree, proto_tcpphase))
		render_tree(tvb, tree, &v, fr, rel_find(f, fr->stream), c, uid, anomaly_item, &step_item);
	for (int i = 0; i < TP_A_COUNT; i++)
		if (v.anomalies & TP_ABIT(i))
			expert_add_info(pinfo, anomaly_item[i], &ei_anomaly[i]);
	if (v.step == TP_STEP_HS_ACK && !v.rtx)
		expert_add_info(pinfo, step_item, &ei_handshake_done);

	if (c && have_tap_listener(tpp_tap_id))
		queue_tap(pinfo, f, &v, fr->stream, c, uid);
}

/* ---- the postdissector ------------------------------------------------------- */

/*
 * The uid seed, unless the preference gave one: the CLI's default, a hash
 * of the capture's first packet (tp_uid_seed). The first frame dissected is
 * frame 1, whatever it holds; a postdissector gets the whole frame's
 * bytes, as the CLI reads them from the file.
 */
static void seed_from(struct tpp_file *f, tvbuff_t *tvb, packet_info *pinfo)
{
	guint len = tvb_captured_length(tvb);
	f->cfg.uid_seed = tp_uid_seed((int64_t)pinfo->abs_ts.secs * 1000000000 + pinfo->abs_ts.nsecs, len,
	                              tvb_get_ptr(tvb, 0, (gint)len));
	f->seeded = TRUE;
}

static int dissect_tcpphase(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
	struct tpp_file *f = g_file;
	if (!f)
		return 0;
	struct tpp_frame *fr = frame_find(f, pinfo->num);
	if (!f->seeded && !PINFO_FD_VISITED(pinfo))
		seed_from(f, tvb, pinfo);
	if (!PINFO_FD_VISITED(pinfo)) {
		if (!fr) { /* first sight of this frame: feed the core */
			struct tp_segment seg;
			guint32 stream;
			if (!tpp_extract_segment(tree, pinfo, f->cfg.key_context, f->cfg.checksum_verify, &seg, &stream))
				return 0;
			seg.frame = pinfo->num;
			seg.ts_ns = (int64_t)pinfo->abs_ts.secs * 1000000000 + pinfo->abs_ts.nsecs;
			if (f->finished)
				replay(f);
			if (!f->an)
				return 0;
			struct tpp_frame nf;
			frame_pack_segment(f, &nf, &seg, stream);
			fr = frame_insert(f, &nf);
			feed(f, fr);
		}
	} else if (!f->finished) {
		/* A later pass with no end-of-pass call before it (redissection). */
		finish(f);
	}
	if (!fr)
		return 0;
	render(tvb, pinfo, tree, f, fr);
	return tvb_captured_length(tvb);
}

/* ---- the conversation filter ------------------------------------------------ */

/*
 * Conversation Filter > TCP Phase and Colorize Conversation > TCP Phase
 * (Analyze, View and the packet list's menus): the selected frame's
 * connection, by its uid. Wireshark's statistics tables have no Apply as
 * Filter, so this is how a user goes from a packet to its connection.
 * Valid only for a frame the core analysed, and so has a uid.
 */
static gboolean conv_uid(const packet_info *pinfo, char uid[20])
{
	struct tpp_file *f = g_file;
	return frame_uid(f, f ? frame_find(f, pinfo->num) : NULL, uid);
}

static tpp_conv_bool conv_filter_valid(TPP_CONV_FILTER_ARGS)
{
	char uid[20];
	return conv_uid(pinfo, uid);
}

/* g_malloc()ed: the GUI g_free()s it (ws-compat.h) */
static gchar *conv_filter_build(TPP_CONV_FILTER_ARGS)
{
	char uid[20];
	return conv_uid(pinfo, uid) ? g_strdup_printf("tcpphase.uid == \"%s\"", uid) : NULL;
}

/* ---- registration ------------------------------------------------------------ */

static int expert_group(enum tp_group g)
{
	switch (g) {
	case TP_GROUP_SEQUENCE: return PI_SEQUENCE;
	case TP_GROUP_PROTOCOL: return PI_PROTOCOL;
	case TP_GROUP_SECURITY: return PI_SECURITY;
	case TP_GROUP_MALFORMED: return PI_MALFORMED;
	case TP_GROUP_CHECKSUM: return PI_CHECKSUM;
	}
	return PI_PROTOCOL;
}

static int expert_severity(enum tp_severity s)
{
	switch (s) {
	case TP_SEV_CHAT: return PI_CHAT;
	case TP_SEV_NOTE: return PI_NOTE;
	case TP_SEV_WARN: return PI_WARN;
	case TP_SEV_ERROR: return PI_ERROR;
	}
	return PI_WARN;
}

static void register_expert(void)
{
	/* Built from the core's table at run time; Wireshark keeps pointers
	 * into the array, so it lives as long as the process. */
	ei_register_info *ei = g_new0(ei_register_info, TP_A_COUNT + 1);
	for (int i = 0; i < TP_A_COUNT; i++) {
		const struct tp_anomaly_info *a = &tp_anomaly_table[i];
		ei_anomaly[i].ei = EI_INIT_EI;
		ei_anomaly[i].hf = EI_INIT_HF;
		ei[i].ids = &ei_anomaly[a->id];
		ei[i].eiinfo.name = g_strdup_printf("tcpphase.anomaly.%s", a->name);
		ei[i].eiinfo.group = expert_group(a->group);
		ei[i].eiinfo.severity = expert_severity(a->severity);
		ei[i].eiinfo.summary = a->summary;
	}
	ei[TP_A_COUNT].ids = &ei_handshake_done;
	ei[TP_A_COUNT].eiinfo.name = "tcpphase.handshake_completed";
	ei[TP_A_COUNT].eiinfo.group = PI_SEQUENCE;
	ei[TP_A_COUNT].eiinfo.severity = PI_CHAT;
	ei[TP_A_COUNT].eiinfo.summary = "Handshake completed";
	expert_register_field_array(expert_register_protocol(proto_tcpphase), ei, TP_A_COUNT + 1);
}

static const char *seconds_str(int64_t ns)
{
	return g_strdup_printf("%g", (double)ns / 1e9); /* a pref default: kept for good */
}

static void register_prefs(void)
{
	struct tp_config d;
	tp_config_default(&d); /* the defaults are the core's, never repeated here */
	pref_half_open_timeout = seconds_str(d.half_open_timeout_ns);
	pref_syn_timeout = seconds_str(d.syn_timeout_ns);
	pref_idle_timeout = seconds_str(d.idle_timeout_ns);
	pref_half_closed_timeout = seconds_str(d.half_closed_timeout_ns);
	pref_flood_window = seconds_str(d.flood_window_ns);
	pref_flood_min_spread = g_strdup_printf("%g", d.flood_min_spread);
	pref_max_conns = d.max_conns;
	pref_max_embryonic = d.max_embryonic;
	pref_flood_min_half_open = d.flood_min_half_open;
	pref_flood_min_rate = d.flood_min_syn_rate;

	module_t *m = prefs_register_protocol(proto_tcpphase, prefs_applied);
	prefs_register_bool_preference(m, "info_hint", "Show the step in the Info column",
	        "Append the handshake or teardown step, e.g. \" [HS 2/3]\" or \" [FIN 3/4]\", to the Info column.",
	        &pref_info_hint);
	prefs_register_string_preference(m, "half_open_timeout", "Half-open timeout (seconds)",
	        "A SYN-ACK unacknowledged this long is half_open (the CLI's --half-open-timeout).",
	        &pref_half_open_timeout);
	prefs_register_string_preference(m, "syn_timeout", "SYN timeout (seconds)",
	        "A SYN unanswered this long is syn_unanswered (--syn-timeout).", &pref_syn_timeout);
	prefs_register_string_preference(m, "idle_timeout", "Idle timeout (seconds)",
	        "An established connection idle this long is expired and reported (--idle-timeout).",
	        &pref_idle_timeout);
	prefs_register_string_preference(m, "half_closed_timeout", "Half-closed timeout (seconds)",
	        "One side sent FIN and the other stayed silent this long: half_closed (--half-closed-timeout).",
	        &pref_half_closed_timeout);
	prefs_register_uint_preference(m, "max_conns", "Connections tracked at once",
	        "At the cap the oldest embryonic connection is evicted first (--max-conns).", 10, &pref_max_conns);
	prefs_register_uint_preference(m, "max_embryonic", "Connections in their handshake at most",
	        "Like a SYN backlog: a SYN flood evicts the oldest embryonic connections, which are still "
	        "counted toward the flood; 0: no cap (--max-embryonic).", 10, &pref_max_embryonic);
	prefs_register_string_preference(m, "flood_window", "SYN flood window (seconds)",
	        "The sliding window of SYN flood detection (--flood-window).", &pref_flood_window);
	prefs_register_uint_preference(m, "flood_min_half_open", "SYN flood: half-open connections",
	        "Half-open connections toward one server at once to call it a flood (--flood-min-half-open).", 10,
	        &pref_flood_min_half_open);
	prefs_register_uint_preference(m, "flood_min_rate", "SYN flood: SYNs per window",
	        "SYNs toward one server per window (--flood-min-rate).", 10, &pref_flood_min_rate);
	prefs_register_string_preference(m, "flood_min_spread", "SYN flood: source spread",
	        "Distinct sources per SYN in the window, 0 to 1 (--flood-min-spread); keeps a busy NAT or proxy "
	        "from looking like a flood.", &pref_flood_min_spread);
	prefs_register_bool_preference(m, "key_context", "VLAN and tunnel context in the connection key",
	        "The same addresses and ports on two VLANs or in two tunnels are two connections (--key-context).",
	        &pref_key_context);
	prefs_register_bool_preference(m, "zeek_bare", "Zeek bare-mode server ports",
	        "Guess the originator of a connection seen without its SYN with the likely-server ports of "
	        "`zeek -b` (--zeek-bare).", &pref_zeek_bare);
	prefs_register_enum_preference(m, "split", "New connection on the same 4-tuple",
	        "When later segments on a closed 4-tuple start a new connection (--split).", &pref_split,
	        split_vals, FALSE);
	prefs_register_string_preference(m, "uid_seed", "Connection uid seed",
	        "Empty (default): uids seeded from the capture's first packet, as the CLI does, so that other "
	        "captures get other uids. A number: that seed (the CLI's --seed; 0: --deterministic-uids).",
	        &pref_uid_seed);
	prefs_register_bool_preference(m, "checksum_verify", "Leave out segments with a bad checksum",
	        "Segments whose checksum Wireshark verified bad are not analysed, as Zeek does (--checksums verify). "
	        "Needs tcp.check_checksum:TRUE, else Wireshark verifies nothing.", &pref_checksum_verify);
}

static void proto_register_tcpphase(void)
{
	static hf_register_info hf[] = {
		{ &hf_conn, { "Connection index", "tcpphase.conn", FT_UINT64, BASE_DEC, NULL, 0x0,
		  "The core's connection index, 0-based, in order of first segment", HFILL } },
		{ &hf_uid, { "Connection uid", "tcpphase.uid", FT_STRING, BASE_NONE, NULL, 0x0,
		  "Zeek-style uid; the tcpphase CLI names the connection alike", HFILL } },
		{ &hf_stream, { "TCP stream", "tcpphase.stream", FT_UINT32, BASE_DEC, NULL, 0x0,
		  "Wireshark's own tcp.stream of this segment", HFILL } },
		{ &hf_dir, { "Direction", "tcpphase.dir", FT_STRING, BASE_NONE, NULL, 0x0,
		  "orig: sent by the originator; resp: by the responder", HFILL } },
		{ &hf_dir_inferred, { "Direction inferred", "tcpphase.dir_inferred", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
		  "No SYN seen: the originator was guessed from the ports", HFILL } },
		{ &hf_phase, { "Phase", "tcpphase.phase", FT_STRING, BASE_NONE, NULL, 0x0,
		  "handshake, data, teardown, reset, closed or midstream", HFILL } },
		{ &hf_step, { "Step", "tcpphase.step", FT_STRING, BASE_NONE, NULL, 0x0,
		  "Handshake or teardown step, e.g. HS 2/3 or FIN 2+3/4", HFILL } },
		{ &hf_rtx, { "Retransmitted step", "tcpphase.rtx", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
		  "This step was seen before", HFILL } },
		{ &hf_orig_state, { "Originator state", "tcpphase.orig_state", FT_STRING, BASE_NONE, NULL, 0x0,
		  "The originator's RFC 9293 state once this segment is delivered", HFILL } },
		{ &hf_resp_state, { "Responder state", "tcpphase.resp_state", FT_STRING, BASE_NONE, NULL, 0x0,
		  "The responder's RFC 9293 state once this segment is delivered", HFILL } },
		{ &hf_expected_ack, { "Expected acknowledgement", "tcpphase.expected_ack", FT_UINT32, BASE_DEC, NULL, 0x0,
		  "The acknowledgement number this step needs (ISN + 1, FIN + 1), relative as tcp.ack when TCP's "
		  "relative sequence numbers are on", HFILL } },
		{ &hf_seen_ack, { "Seen acknowledgement", "tcpphase.seen_ack", FT_UINT32, BASE_DEC, NULL, 0x0,
		  "The acknowledgement number this step carried, relative as tcp.ack", HFILL } },
		{ &hf_expected_ack_raw, { "Expected acknowledgement (raw)", "tcpphase.expected_ack_raw", FT_UINT32,
		  BASE_DEC, NULL, 0x0, "The expected acknowledgement number, absolute", HFILL } },
		{ &hf_seen_ack_raw, { "Seen acknowledgement (raw)", "tcpphase.seen_ack_raw", FT_UINT32, BASE_DEC, NULL,
		  0x0, "The seen acknowledgement number, absolute", HFILL } },
		{ &hf_syn_to_synack, { "SYN to SYN-ACK", "tcpphase.syn_to_synack", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
		  "First half of the handshake round trip, seen from the capture point", HFILL } },
		{ &hf_synack_to_ack, { "SYN-ACK to ACK", "tcpphase.synack_to_ack", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
		  "Second half of the handshake round trip, seen from the capture point", HFILL } },
		{ &hf_echo, { "Timestamp echo", "tcpphase.echo", FT_STRING, BASE_NONE, NULL, 0x0,
		  "On the ACK of a retransmitted SYN-ACK or FIN: which transmission its TSecr echoes: first, later "
		  "(the latest), other, tie (a TSval on several segments: proves nothing) or no_ts", HFILL } },
		{ &hf_echoed_frame, { "Echoed transmission", "tcpphase.echoed_frame", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
		  "The frame whose TSval this ACK's TSecr echoes: the transmission the peer received", HFILL } },
		{ &hf_anomaly, { "Anomaly", "tcpphase.anomaly", FT_STRING, BASE_NONE, NULL, 0x0,
		  "An anomaly id from the tcpphase anomaly table, e.g. half_open", HFILL } },
		{ &hf_c, { "Connection", "tcpphase.connection", FT_NONE, BASE_NONE, NULL, 0x0,
		  "The connection's outcome, as in its tcpphase connection record", HFILL } },
		{ &hf_c_completeness, { "Completeness", "tcpphase.conn.completeness", FT_UINT8, BASE_DEC, NULL, 0x0,
		  "Wireshark's tcp.completeness bitmask: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST", HFILL } },
		{ &hf_c_compl_syn, { "SYN", "tcpphase.conn.completeness.syn", FT_BOOLEAN, 8, TFS(&tfs_present_absent),
		  TP_COMPL_SYN, NULL, HFILL } },
		{ &hf_c_compl_synack, { "SYN-ACK", "tcpphase.conn.completeness.syn-ack", FT_BOOLEAN, 8,
		  TFS(&tfs_present_absent), TP_COMPL_SYNACK, NULL, HFILL } },
		{ &hf_c_compl_ack, { "ACK", "tcpphase.conn.completeness.ack", FT_BOOLEAN, 8, TFS(&tfs_present_absent),
		  TP_COMPL_ACK, NULL, HFILL } },
		{ &hf_c_compl_data, { "Data", "tcpphase.conn.completeness.data", FT_BOOLEAN, 8, TFS(&tfs_present_absent),
		  TP_COMPL_DATA, NULL, HFILL } },
		{ &hf_c_compl_fin, { "FIN", "tcpphase.conn.completeness.fin", FT_BOOLEAN, 8, TFS(&tfs_present_absent),
		  TP_COMPL_FIN, NULL, HFILL } },
		{ &hf_c_compl_rst, { "RST", "tcpphase.conn.completeness.rst", FT_BOOLEAN, 8, TFS(&tfs_present_absent),
		  TP_COMPL_RST, NULL, HFILL } },
		{ &hf_c_conn_state, { "Zeek conn_state", "tcpphase.conn.conn_state", FT_STRING, BASE_NONE, NULL, 0x0,
		  "Zeek's conn_state: S0, S1, SF, REJ, RSTO, ...", HFILL } },
		{ &hf_c_history, { "Zeek history", "tcpphase.conn.history", FT_STRING, BASE_NONE, NULL, 0x0,
		  "Zeek's history letters", HFILL } },
		{ &hf_c_handshake, { "Handshake", "tcpphase.conn.handshake", FT_STRING, BASE_NONE, NULL, 0x0,
		  "complete, simultaneous, unanswered, refused, half_open, reset, bad_ack or none", HFILL } },
		{ &hf_c_teardown, { "Teardown", "tcpphase.conn.teardown", FT_STRING, BASE_NONE, NULL, 0x0,
		  "four_way, three_segment, simultaneous, half_closed, reset_by_orig, reset_by_resp, incomplete or none",
		  HFILL } },
		{ &hf_c_orig_state, { "Originator final state", "tcpphase.conn.orig_state", FT_STRING, BASE_NONE, NULL,
		  0x0, "The originator's RFC 9293 state when the record was written", HFILL } },
		{ &hf_c_resp_state, { "Responder final state", "tcpphase.conn.resp_state", FT_STRING, BASE_NONE, NULL,
		  0x0, "The responder's RFC 9293 state when the record was written", HFILL } },
		{ &hf_c_end, { "Record written", "tcpphase.conn.end", FT_STRING, BASE_NONE, NULL, 0x0,
		  "Why: closed, timeout, evicted, capture_end or reused", HFILL } },
		{ &hf_c_pending, { "Connection outcome not known yet (single pass: use tshark -2)", "tcpphase.conn.pending",
		  FT_NONE, BASE_NONE, NULL, 0x0,
		  "The connection was still open when this frame was shown", HFILL } },
	};
	static gint *ett[] = { &ett_tcpphase, &ett_conn, &ett_completeness };

	proto_tcpphase = proto_register_protocol("TCP Phase", "TCP Phase", "tcpphase");
	proto_register_field_array(proto_tcpphase, hf, array_length(hf));
	proto_register_subtree_array(ett, array_length(ett));
	register_expert();
	register_prefs();

	tcpphase_handle = create_dissector_handle(dissect_tcpphase, proto_tcpphase);
	register_postdissector(tcpphase_handle);
	register_init_routine(init_file);
	register_cleanup_routine(cleanup_file);
	register_postseq_cleanup_routine(end_of_first_pass);

	tpp_tap_id = register_tap("tcpphase");
	tpp_stats_register();
	tpp_conns_register();
	tpp_flow_register(proto_tcpphase);
	/* in the register routine, as TCP's own is */
	tpp_register_conversation_filter("tcpphase", "TCP Phase", conv_filter_valid, conv_filter_build);
}

static void proto_reg_handoff_tcpphase(void)
{
	tpp_extract_handoff(proto_tcpphase);
	tcp_tap_register();
}

void plugin_register(void)
{
	static proto_plugin plug;
	plug.register_protoinfo = proto_register_tcpphase;
	plug.register_handoff = proto_reg_handoff_tcpphase;
	proto_register_plugin(&plug);
}
