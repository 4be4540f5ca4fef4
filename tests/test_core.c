/*
 * test_core.c - the core's state machine, segment by segment.
 *
 * Each test plays a connection between a client 10.0.0.1:40000 and a server
 * 10.0.0.2:80 and asserts what a user reads: the step, both endpoints'
 * RFC 9293 states after each segment, the anomalies (late ones included, on
 * the segment they concern) and the connection record. Expected states are
 * RFC 9293's transitions (section 3.3.2 and the observer table in
 * ../shared/notes/observer-semantics.md); expected Zeek summaries are the
 * ones Zeek's own baselines show for the same shapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tcpphase.h"

#define C 1 /* from the client */
#define S 0 /* from the server */
#define SYN TP_TH_SYN
#define ACK TP_TH_ACK
#define FIN TP_TH_FIN
#define RST TP_TH_RST
#define PSH TP_TH_PSH
#define MAXV 512

struct fx {
	struct tp_analyzer *an;
	struct tp_config cfg;
	struct tp_verdict v[MAXV]; /* by frame */
	uint64_t frames;
	struct tp_conn_record rec[8];
	int nrec;
	struct tp_flood flood;
	int nflood;
	int64_t now_ms;
	uint32_t client_ip; /* low byte of the client address, varied by the flood test */
	uint16_t client_port;
	int next_bad_checksum; /* the next segment's checksum was verified bad */
	int next_ts;           /* the next segment carries TCP timestamps: */
	uint32_t next_tsval, next_tsecr;
};

static void on_amend(void *u, const struct tp_amend *a)
{
	struct fx *f = u;
	assert_true(a->frame >= 1 && a->frame <= f->frames);
	tp_verdict_amend(&f->v[a->frame], a);
}

static void on_conn(void *u, const struct tp_conn_record *r)
{
	struct fx *f = u;
	if (f->nrec < 8)
		f->rec[f->nrec] = *r;
	f->nrec++;
}

static void on_flood(void *u, const struct tp_flood *fl)
{
	struct fx *f = u;
	f->flood = *fl;
	f->nflood++;
}

static struct fx *fx_new(void)
{
	struct fx *f = test_calloc(1, sizeof *f);
	tp_config_default(&f->cfg);
	f->client_ip = 1;
	f->client_port = 40000;
	return f;
}

static void fx_start(struct fx *f)
{
	struct tp_callbacks cb = { .user = f, .amend = on_amend, .conn = on_conn, .flood = on_flood };
	f->an = tp_analyzer_new(&f->cfg, &cb);
	assert_non_null(f->an);
}

static int setup(void **state)
{
	struct fx *f = fx_new();
	fx_start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tp_analyzer_free(f->an);
	test_free(f);
	return 0;
}

/* One segment; time advances by dt_ms first. Returns the frame's verdict. */
static struct tp_verdict *seg(struct fx *f, int from_client, uint16_t flags, uint32_t seq, uint32_t ack,
                              uint32_t len, int dt_ms)
{
	struct tp_segment s;
	memset(&s, 0, sizeof s);
	f->now_ms += dt_ms;
	s.frame = ++f->frames;
	s.ts_ns = 1700000000000000000LL + f->now_ms * 1000000LL;
	struct tp_addr cli = { 4, { 10, 0, 0, (uint8_t)f->client_ip } };
	struct tp_addr srv = { 4, { 10, 0, 0, 2 } };
	if (f->client_ip > 255) {
		cli.bytes[1] = 200;
		cli.bytes[2] = (uint8_t)(f->client_ip >> 8);
		cli.bytes[3] = (uint8_t)f->client_ip;
	}
	s.src = from_client ? cli : srv;
	s.dst = from_client ? srv : cli;
	s.sport = from_client ? f->client_port : 80;
	s.dport = from_client ? 80 : f->client_port;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.len = len;
	s.window = 65535;
	s.wscale = -1;
	s.ip_len = 40 + len;
	s.checksum = f->next_bad_checksum ? TP_CSUM_BAD : TP_CSUM_GOOD;
	f->next_bad_checksum = 0;
	s.has_ts = (uint8_t)f->next_ts;
	s.tsval = f->next_tsval;
	s.tsecr = f->next_tsecr;
	f->next_ts = 0;
	tp_feed(f->an, &s, &f->v[s.frame]);
	return &f->v[s.frame];
}

/* seg() with a timestamps option (TSval, TSecr). */
static struct tp_verdict *seg_ts(struct fx *f, int from_client, uint16_t flags, uint32_t seq, uint32_t ack,
                                 uint32_t len, int dt_ms, uint32_t tsval, uint32_t tsecr)
{
	f->next_ts = 1;
	f->next_tsval = tsval;
	f->next_tsecr = tsecr;
	return seg(f, from_client, flags, seq, ack, len, dt_ms);
}

static void assert_states(const struct tp_verdict *v, enum tp_state o, enum tp_state r)
{
	assert_string_equal(tp_state_name(v->orig_state), tp_state_name(o));
	assert_string_equal(tp_state_name(v->resp_state), tp_state_name(r));
}

#define HAS(v, a) (((v)->anomalies & TP_ABIT(a)) != 0)

/* Client ISN 1000, server ISN 5000; handshake, 100 bytes each way. */
static void open_conn(struct fx *f)
{
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 10);
	seg(f, C, ACK, 1001, 5001, 0, 1);
	seg(f, C, ACK | PSH, 1001, 5001, 100, 1);
	seg(f, S, ACK, 5001, 1101, 0, 10);
	seg(f, S, ACK | PSH, 5001, 1101, 100, 1);
	seg(f, C, ACK, 1101, 5101, 0, 10);
}

/* The observer table of observer-semantics.md, row by row. */
static void test_handshake_and_four_way_close(void **state)
{
	struct fx *f = *state;
	struct tp_verdict *v = seg(f, C, SYN, 1000, 0, 0, 0);
	assert_int_equal(v->step, TP_STEP_HS_SYN);
	assert_int_equal(v->phase, TP_PHASE_HANDSHAKE);
	assert_int_equal(v->dir, TP_DIR_ORIG);
	assert_states(v, TP_SYN_SENT, TP_SYN_RECEIVED);

	v = seg(f, S, SYN | ACK, 5000, 1001, 0, 10);
	assert_int_equal(v->step, TP_STEP_HS_SYNACK);
	assert_int_equal(v->dir, TP_DIR_RESP);
	assert_states(v, TP_ESTABLISHED, TP_SYN_RECEIVED);
	assert_true(v->ack_checked);
	assert_int_equal(v->expected_ack, 1001);
	assert_int_equal(v->syn_to_synack_ns, 10000000);

	v = seg(f, C, ACK, 1001, 5001, 0, 1);
	assert_int_equal(v->step, TP_STEP_HS_ACK);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	assert_int_equal(v->expected_ack, 5001);
	assert_int_equal(v->synack_to_ack_ns, 1000000);

	v = seg(f, C, ACK | PSH, 1001, 5001, 100, 1);
	assert_int_equal(v->phase, TP_PHASE_DATA);
	assert_int_equal(v->step, TP_STEP_NONE);
	seg(f, S, ACK | PSH, 5001, 1101, 100, 1);

	v = seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	assert_int_equal(v->step, TP_STEP_FIN1);
	assert_int_equal(v->phase, TP_PHASE_TEARDOWN);
	assert_states(v, TP_FIN_WAIT_1, TP_CLOSE_WAIT);

	v = seg(f, S, ACK, 5101, 1102, 0, 1);
	assert_int_equal(v->step, TP_STEP_FIN1_ACK);
	assert_int_equal(v->expected_ack, 1102);
	assert_states(v, TP_FIN_WAIT_2, TP_CLOSE_WAIT);

	v = seg(f, S, FIN | ACK, 5101, 1102, 0, 5);
	assert_int_equal(v->step, TP_STEP_FIN2);
	assert_states(v, TP_TIME_WAIT, TP_LAST_ACK);

	v = seg(f, C, ACK, 1102, 5102, 0, 1);
	assert_int_equal(v->step, TP_STEP_FINAL_ACK);
	assert_int_equal(v->expected_ack, 5102);
	assert_states(v, TP_TIME_WAIT, TP_CLOSED);
	assert_int_equal(v->anomalies, 0);

	tp_finish(f->an);
	assert_int_equal(f->nrec, 1);
	const struct tp_conn_record *r = &f->rec[0];
	assert_string_equal(r->conn_state, "SF");
	assert_string_equal(r->history, "ShADdFaf");
	assert_int_equal(r->handshake, TP_HS_COMPLETE);
	assert_int_equal(r->teardown, TP_TD_FOUR_WAY);
	assert_int_equal(r->completeness, 31);
	assert_int_equal(r->orig_pkts, 5);
	assert_int_equal(r->resp_pkts, 4);
	assert_int_equal(r->orig_bytes, 100);
	assert_int_equal(r->resp_bytes, 100);
	assert_int_equal(r->anomalies, 0);
	assert_int_equal(r->fin_to_close_ns, 7000000);
}

static void test_three_segment_close(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	struct tp_verdict *v = seg(f, S, FIN | ACK, 5101, 1102, 0, 1);
	assert_int_equal(v->step, TP_STEP_FIN2_WITH_ACK);
	assert_int_equal(v->expected_ack, 1102);
	assert_states(v, TP_TIME_WAIT, TP_LAST_ACK);
	v = seg(f, C, ACK, 1102, 5102, 0, 1);
	assert_int_equal(v->step, TP_STEP_FINAL_ACK);
	assert_states(v, TP_TIME_WAIT, TP_CLOSED);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].teardown, TP_TD_THREE_SEG);
	assert_string_equal(f->rec[0].conn_state, "SF");
}

static void test_simultaneous_close(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	struct tp_verdict *v = seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	assert_states(v, TP_FIN_WAIT_1, TP_CLOSE_WAIT);
	v = seg(f, S, FIN | ACK, 5101, 1101, 0, 0); /* does not ack the client's FIN: crossed */
	assert_int_equal(v->step, TP_STEP_SIM_FIN);
	assert_true(HAS(v, TP_A_SIMULTANEOUS_CLOSE));
	assert_states(v, TP_CLOSING, TP_CLOSING);
	/* the client's FIN had not reached the server: never CLOSE-WAIT */
	assert_states(&f->v[f->frames - 1], TP_FIN_WAIT_1, TP_ESTABLISHED);
	v = seg(f, C, ACK, 1102, 5102, 0, 1);
	assert_int_equal(v->step, TP_STEP_SIM_FIN_ACK);
	assert_states(v, TP_CLOSING, TP_TIME_WAIT);
	v = seg(f, S, ACK, 5102, 1102, 0, 0);
	assert_states(v, TP_TIME_WAIT, TP_TIME_WAIT);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].teardown, TP_TD_SIMULTANEOUS);
	assert_int_equal(tp_anomaly_table[TP_A_SIMULTANEOUS_CLOSE].severity, TP_SEV_NOTE);
}

/* The seed's own case: the server's FIN comes again after the final ACK. */
static void test_lost_final_ack(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	seg(f, S, ACK, 5101, 1102, 0, 1);
	seg(f, S, FIN | ACK, 5101, 1102, 0, 5);
	struct tp_verdict *fa = seg(f, C, ACK, 1102, 5102, 0, 1);
	uint64_t fa_frame = fa->frame;
	assert_states(fa, TP_TIME_WAIT, TP_CLOSED);
	struct tp_verdict *v = seg(f, S, FIN | ACK, 5101, 1102, 0, 200);
	assert_true(v->rtx);
	assert_int_equal(v->step, TP_STEP_FIN2);
	assert_true(HAS(v, TP_A_LOST_FINAL_ACK));
	assert_true(HAS(v, TP_A_FIN_RETRANSMIT));
	assert_states(v, TP_TIME_WAIT, TP_LAST_ACK);
	/* the earlier final ACK is revised: lost, the server still in LAST-ACK */
	assert_true(HAS(&f->v[fa_frame], TP_A_LOST_FINAL_ACK));
	assert_states(&f->v[fa_frame], TP_TIME_WAIT, TP_LAST_ACK);
	v = seg(f, C, ACK, 1102, 5102, 0, 1);
	assert_int_equal(v->step, TP_STEP_FINAL_ACK);
	assert_true(v->rtx);
	assert_states(v, TP_TIME_WAIT, TP_CLOSED);
	assert_false(HAS(v, TP_A_AFTER_CLOSE));
	tp_finish(f->an);
	assert_true(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK));
	assert_int_equal(f->rec[0].teardown, TP_TD_FOUR_WAY);
}

/* open_conn, then a client-first close up to the server's FIN (server in
 * LAST-ACK, as in the kernel's 4-way close). Returns the FIN's frame. */
static uint64_t close_to_last_ack(struct fx *f)
{
	open_conn(f);
	seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	seg(f, S, ACK, 5101, 1102, 0, 40);
	struct tp_verdict *v = seg(f, S, FIN | ACK, 5101, 1102, 0, 260);
	assert_states(v, TP_TIME_WAIT, TP_LAST_ACK);
	return v->frame;
}

/* The capture ends between the server's FIN and the final ACK: nothing was
 * lost, the ACK just fell after the end (kernel capture capture-cut.pcap). */
static void test_capture_ends_in_last_ack(void **state)
{
	struct fx *f = *state;
	uint64_t fin = close_to_last_ack(f);
	tp_finish(f->an);
	assert_false(HAS(&f->v[fin], TP_A_LOST_FINAL_ACK));
	assert_int_equal(f->nrec, 1);
	assert_false(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK));
	assert_int_equal(f->rec[0].orig_state, TP_TIME_WAIT);
	assert_int_equal(f->rec[0].resp_state, TP_LAST_ACK);
}

/* The final ACK dies before the capture point: the server's FIN comes again,
 * and nothing acknowledges it by the end (kernel capture final-ack-unseen.pcap). */
static void test_fin_resent_never_acked(void **state)
{
	struct fx *f = *state;
	uint64_t fin = close_to_last_ack(f);
	struct tp_verdict *v = seg(f, S, FIN | ACK, 5101, 1102, 0, 210);
	assert_true(v->rtx);
	assert_true(HAS(v, TP_A_FIN_RETRANSMIT));
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK)); /* the FIN itself may have been lost: not known yet */
	tp_finish(f->an);
	/* on the FIN whose ACK never came */
	assert_true(HAS(&f->v[fin], TP_A_LOST_FINAL_ACK));
	assert_states(&f->v[fin], TP_TIME_WAIT, TP_LAST_ACK);
	assert_true(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK));
	assert_int_equal(f->rec[0].resp_state, TP_LAST_ACK);
}

/* The resent FIN is acknowledged: the first FIN or its ACK was lost, which
 * one cannot be told; only the retransmission is flagged. */
static void test_fin_resent_then_acked(void **state)
{
	struct fx *f = *state;
	close_to_last_ack(f);
	seg(f, S, FIN | ACK, 5101, 1102, 0, 210);
	struct tp_verdict *v = seg(f, C, ACK, 1102, 5102, 0, 1);
	assert_int_equal(v->step, TP_STEP_FINAL_ACK);
	assert_states(v, TP_TIME_WAIT, TP_CLOSED);
	tp_finish(f->an);
	assert_false(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK));
	assert_true(f->rec[0].anomalies & TP_ABIT(TP_A_FIN_RETRANSMIT));
}

/* ---- which transmission arrived: TCP timestamps (core/tsecho.c) ---------- */

/* open_conn, then a client-first 4-way close up to the server's FIN with
 * timestamps on (client clock 100.., server clock 5000..): the server's FIN
 * carries TSval 5300. Returns its frame. */
static uint64_t close_to_last_ack_ts(struct fx *f)
{
	open_conn(f);
	seg_ts(f, C, FIN | ACK, 1101, 5101, 0, 10, 100, 4990);
	seg_ts(f, S, ACK, 5101, 1102, 0, 40, 5040, 100);
	struct tp_verdict *v = seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 260, 5300, 100);
	assert_states(v, TP_TIME_WAIT, TP_LAST_ACK);
	return v->frame;
}

/* Server vantage: the FIN three times, then an ACK echoing the first FIN's
 * TSval. The first FIN arrived, so the final ACKs were lost: lost_final_ack,
 * on the late ACK and on the FIN (kernel capture lost-final-ack-srv.pcap). */
static void test_echo_first_fin_proves_lost_final_ack(void **state)
{
	struct fx *f = *state;
	uint64_t fin = close_to_last_ack_ts(f);
	struct tp_verdict *r1 = seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 210, 5510, 100);
	struct tp_verdict *r2 = seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 420, 5930, 100);
	assert_false(HAS(r1, TP_A_LOST_FINAL_ACK));
	assert_int_equal(r2->echo, TP_ECHO_NONE);
	struct tp_verdict *v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2000, 5300);
	assert_int_equal(v->step, TP_STEP_FINAL_ACK);
	assert_int_equal(v->echo, TP_ECHO_FIRST);
	assert_int_equal(v->echoed_frame, fin);
	assert_true(HAS(v, TP_A_LOST_FINAL_ACK));
	assert_states(v, TP_TIME_WAIT, TP_CLOSED);
	assert_true(HAS(&f->v[fin], TP_A_LOST_FINAL_ACK));
	assert_states(&f->v[fin], TP_TIME_WAIT, TP_LAST_ACK);
	/* only the first ACK since the latest transmission is judged */
	v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2001, 5300);
	assert_int_equal(v->echo, TP_ECHO_NONE);
	tp_finish(f->an);
	assert_true(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK));
	assert_int_equal(f->rec[0].resp_state, TP_CLOSED);
	assert_int_equal(tp_stats(f->an)->anomalies[TP_A_LOST_FINAL_ACK], 2);
}

/* The ACK echoes the latest FIN: that one arrived; whether the first did is
 * not known (a receiver may take a duplicate's TSval): no lost_final_ack
 * (kernel capture lost-first-fin.pcap, on the first closer's FIN). */
static void test_echo_later_fin_concludes_nothing(void **state)
{
	struct fx *f = *state;
	close_to_last_ack_ts(f);
	struct tp_verdict *r = seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 210, 5510, 100);
	struct tp_verdict *v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2000, 5510);
	assert_int_equal(v->echo, TP_ECHO_LATER);
	assert_int_equal(v->echoed_frame, r->frame);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
	tp_finish(f->an);
	assert_false(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK));
	assert_true(f->rec[0].anomalies & TP_ABIT(TP_A_FIN_RETRANSMIT));
}

/* An echo of neither the first nor the latest transmission (one between
 * them) names no frame and proves nothing. */
static void test_echo_other_fin(void **state)
{
	struct fx *f = *state;
	close_to_last_ack_ts(f);
	seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 210, 5510, 100);
	seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 420, 5930, 100);
	struct tp_verdict *v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2000, 5510);
	assert_int_equal(v->echo, TP_ECHO_OTHER);
	assert_int_equal(v->echoed_frame, 0);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
}

/* Two transmissions within one tick of the sender's clock carry the same
 * TSval: the echo names neither, no conclusion. */
static void test_echo_tie_between_transmissions(void **state)
{
	struct fx *f = *state;
	close_to_last_ack_ts(f);
	seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 0, 5300, 100); /* same tick */
	struct tp_verdict *v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2000, 5300);
	assert_int_equal(v->echo, TP_ECHO_TIE);
	assert_int_equal(v->echoed_frame, 0);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
	tp_finish(f->an);
	assert_false(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK));
}

/* The first FIN shares its TSval with the sender's ACK just before it: the
 * peer echoing it may have received only that ACK. Tie, no conclusion. */
static void test_echo_tie_with_another_segment(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg_ts(f, C, FIN | ACK, 1101, 5101, 0, 10, 100, 4990);
	seg_ts(f, S, ACK, 5101, 1102, 0, 40, 5300, 100);
	seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 0, 5300, 100); /* same tick as the ACK */
	seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 210, 5510, 100);
	struct tp_verdict *v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2000, 5300);
	assert_int_equal(v->echo, TP_ECHO_TIE);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
	/* and a later segment with the first FIN's TSval makes a tie too */
	f->client_port++;
	close_to_last_ack_ts(f);
	seg_ts(f, S, ACK, 5101, 1102, 0, 0, 5300, 100);
	seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 210, 5510, 100);
	v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2000, 5300);
	assert_int_equal(v->echo, TP_ECHO_TIE);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
}

/* Without timestamps the resent-then-acked FIN stays unexplained (kernel
 * capture lost-final-ack-nots.pcap). */
static void test_echo_without_timestamps(void **state)
{
	struct fx *f = *state;
	close_to_last_ack(f);
	seg(f, S, FIN | ACK, 5101, 1102, 0, 210);
	struct tp_verdict *v = seg(f, C, ACK, 1102, 5102, 0, 1);
	assert_int_equal(v->echo, TP_ECHO_NO_TS);
	assert_int_equal(v->echoed_frame, 0);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
	/* the ACK has them but the FINs had not: no evidence either */
	f->client_port++;
	close_to_last_ack(f);
	seg(f, S, FIN | ACK, 5101, 1102, 0, 210);
	v = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 2000, 0);
	assert_int_equal(v->echo, TP_ECHO_NO_TS);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
}

/* Client vantage: the final ACK seen, the FIN again (lost_final_ack already
 * known), the ACK again echoing the first FIN (kernel capture
 * lost-final-ack.pcap): the echo is shown, the anomaly not counted twice. */
static void test_echo_first_fin_at_client_vantage(void **state)
{
	struct fx *f = *state;
	uint64_t fin = close_to_last_ack_ts(f);
	struct tp_verdict *a1 = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 400, 5300);
	assert_int_equal(a1->echo, TP_ECHO_NONE); /* the FIN was sent once so far */
	struct tp_verdict *r = seg_ts(f, S, FIN | ACK, 5101, 1102, 0, 210, 5510, 100);
	assert_true(HAS(r, TP_A_LOST_FINAL_ACK));
	struct tp_verdict *a2 = seg_ts(f, C, ACK, 1102, 5102, 0, 1, 610, 5300);
	assert_int_equal(a2->echo, TP_ECHO_FIRST);
	assert_int_equal(a2->echoed_frame, fin);
	assert_false(HAS(a2, TP_A_LOST_FINAL_ACK));
	assert_false(HAS(&f->v[fin], TP_A_LOST_FINAL_ACK));
	assert_int_equal(tp_stats(f->an)->anomalies[TP_A_LOST_FINAL_ACK], 2); /* a1 and r */
}

/* The first closer's FIN: an echo of its first transmission shows the ACK
 * of it was lost, which is no final ACK. */
static void test_echo_first_fin1_is_no_final_ack(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	struct tp_verdict *fin = seg_ts(f, C, FIN | ACK, 1101, 5101, 0, 10, 100, 4990);
	seg_ts(f, C, FIN | ACK, 1101, 5101, 0, 210, 310, 4990);
	struct tp_verdict *v = seg_ts(f, S, ACK, 5101, 1102, 0, 1, 5300, 100);
	assert_int_equal(v->step, TP_STEP_FIN1_ACK);
	assert_int_equal(v->echo, TP_ECHO_FIRST);
	assert_int_equal(v->echoed_frame, fin->frame);
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
}

/* Server vantage of a handshake: the SYN-ACK twice, then the client's ACK.
 * Echoing the first SYN-ACK: it arrived and the handshake's ACK was lost;
 * echoing the second: that one arrived. */
static void test_echo_synack(void **state)
{
	struct fx *f = *state;
	seg_ts(f, C, SYN, 1000, 0, 0, 0, 100, 0);
	struct tp_verdict *sa1 = seg_ts(f, S, SYN | ACK, 5000, 1001, 0, 1, 5000, 100);
	struct tp_verdict *sa2 = seg_ts(f, S, SYN | ACK, 5000, 1001, 0, 1000, 6000, 100);
	assert_true(HAS(sa2, TP_A_SYNACK_RETRANSMIT));
	struct tp_verdict *v = seg_ts(f, C, ACK, 1001, 5001, 0, 10, 1110, 5000);
	assert_int_equal(v->step, TP_STEP_HS_ACK);
	assert_int_equal(v->echo, TP_ECHO_FIRST);
	assert_int_equal(v->echoed_frame, sa1->frame);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	/* the first SYN-ACK arrived, so the client's answer to it was lost: on
	 * this ACK and, amended, on the SYN-ACK sent again, where the client
	 * was ESTABLISHED (not unknown) */
	assert_true(HAS(v, TP_A_LOST_HANDSHAKE_ACK));
	assert_true(HAS(sa2, TP_A_LOST_HANDSHAKE_ACK));
	assert_states(sa2, TP_ESTABLISHED, TP_SYN_RECEIVED);
	/* the data after it is not judged again */
	v = seg_ts(f, C, ACK | PSH, 1001, 5001, 10, 1, 1111, 5000);
	assert_int_equal(v->echo, TP_ECHO_NONE);

	f->client_port++;
	seg_ts(f, C, SYN, 1000, 0, 0, 0, 100, 0);
	seg_ts(f, S, SYN | ACK, 5000, 1001, 0, 1, 5000, 100);
	sa2 = seg_ts(f, S, SYN | ACK, 5000, 1001, 0, 1000, 6000, 100);
	v = seg_ts(f, C, ACK, 1001, 5001, 0, 10, 1110, 6000);
	assert_int_equal(v->echo, TP_ECHO_LATER);
	assert_int_equal(v->echoed_frame, sa2->frame);
	assert_int_equal(v->anomalies, 0);
}

/* Eifel (RFC 3522): data resent, then the first ACK covering it echoes the
 * first transmission's TSval: not needed. Echoing the resend: no verdict. */
static void test_spurious_retransmit(void **state)
{
	struct fx *f = *state;
	seg_ts(f, C, SYN, 1000, 0, 0, 0, 100, 0);
	seg_ts(f, S, SYN | ACK, 5000, 1001, 0, 1, 5000, 100);
	seg_ts(f, C, ACK, 1001, 5001, 0, 0, 101, 5000);
	seg_ts(f, C, ACK | PSH, 1001, 5001, 10, 10, 110, 5000);
	struct tp_verdict *v = seg_ts(f, C, ACK | PSH, 1001, 5001, 10, 200, 310, 5000);
	assert_false(HAS(v, TP_A_SPURIOUS_RETRANSMIT));
	v = seg_ts(f, S, ACK, 5001, 1011, 0, 100, 5400, 110); /* echoes the first */
	assert_true(HAS(v, TP_A_SPURIOUS_RETRANSMIT));
	assert_int_equal(v->echo, TP_ECHO_FIRST);
	v = seg_ts(f, S, ACK, 5001, 1011, 0, 5, 5405, 310); /* the duplicate's D-SACK: judged once */
	assert_false(HAS(v, TP_A_SPURIOUS_RETRANSMIT));

	f->client_port++;
	seg_ts(f, C, SYN, 1000, 0, 0, 0, 100, 0);
	seg_ts(f, S, SYN | ACK, 5000, 1001, 0, 1, 5000, 100);
	seg_ts(f, C, ACK, 1001, 5001, 0, 0, 101, 5000);
	seg_ts(f, C, ACK | PSH, 1001, 5001, 10, 10, 110, 5000);
	seg_ts(f, C, ACK | PSH, 1001, 5001, 10, 200, 310, 5000);
	v = seg_ts(f, S, ACK, 5001, 1011, 0, 1, 5400, 310); /* echoes the resend: it was needed, or unknown */
	assert_false(HAS(v, TP_A_SPURIOUS_RETRANSMIT));
}

/* An ACK that covers more than the FIN: the step still counts, the number is flagged. */
static void test_teardown_bad_ack(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	struct tp_verdict *v = seg(f, S, ACK, 5101, 1105, 0, 1);
	assert_int_equal(v->step, TP_STEP_FIN1_ACK);
	assert_int_equal(v->expected_ack, 1102);
	assert_int_equal(v->seen_ack, 1105);
	assert_true(HAS(v, TP_A_TEARDOWN_BAD_ACK));
	assert_states(v, TP_FIN_WAIT_2, TP_CLOSE_WAIT);
}

/* Zeek's rule with --checksums verify: a bad segment never reaches the
 * receiver, so it drives no transition, and history records C/c. */
static void test_bad_checksum_not_analysed(void **state)
{
	struct fx *f = *state;
	tp_analyzer_free(f->an);
	f->cfg.checksum_verify = 1;
	fx_start(f);
	seg(f, C, SYN, 1000, 0, 0, 0);
	f->next_bad_checksum = 1;
	struct tp_verdict *v = seg(f, S, SYN | ACK, 5000, 1001, 0, 10);
	assert_true(HAS(v, TP_A_BAD_CHECKSUM));
	assert_states(v, TP_SYN_SENT, TP_SYN_RECEIVED);
	v = seg(f, S, SYN | ACK, 5000, 1001, 0, 1000);
	assert_int_equal(v->step, TP_STEP_HS_SYNACK);
	assert_false(v->rtx);
	assert_states(v, TP_ESTABLISHED, TP_SYN_RECEIVED);
	tp_finish(f->an);
	assert_string_equal(f->rec[0].history, "Sch");
}

/*
 * --split zeek: Zeek forgets a connection tcp_close_delay (5 s) after its
 * close, so a stray RST 8 s after a refusal gets a new uid; Wireshark's
 * tcp.stream keeps it (after_close) in the same stream.
 */
static void run_refused_then_stray_rst(struct fx *f)
{
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, RST | ACK, 0, 1001, 0, 1);
	seg(f, C, RST, 1001, 0, 0, 8000);
	tp_finish(f->an);
}

static void test_split_wireshark_keeps_stray(void **state)
{
	struct fx *f = *state;
	run_refused_then_stray_rst(f);
	assert_int_equal(f->nrec, 1);
	assert_true(f->v[3].anomalies & TP_ABIT(TP_A_AFTER_CLOSE));
	assert_int_equal(f->v[3].conn, f->v[1].conn);
}

static void test_split_zeek_forgets_after_close_delay(void **state)
{
	struct fx *f = *state;
	tp_analyzer_free(f->an);
	f->cfg.split = TP_SPLIT_ZEEK;
	fx_start(f);
	run_refused_then_stray_rst(f);
	assert_int_equal(f->nrec, 2);
	assert_string_equal(f->rec[0].conn_state, "REJ");
	assert_int_equal(f->rec[0].end_reason, TP_END_CLOSED);
	/* the stray RST alone: Zeek logs such a connection OTH with history R */
	assert_string_equal(f->rec[1].conn_state, "OTH");
	assert_string_equal(f->rec[1].history, "R");
	assert_int_not_equal(f->v[3].conn, f->v[1].conn);
}

/* Zeek's AttemptTimer: an unanswered SYN is forgotten after 5 s. */
static void test_split_zeek_attempt(void **state)
{
	struct fx *f = *state;
	tp_analyzer_free(f->an);
	f->cfg.split = TP_SPLIT_ZEEK;
	fx_start(f);
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, C, SYN, 1000, 0, 0, 3000);
	seg(f, C, SYN, 1000, 0, 0, 6000); /* 9 s after the first */
	tp_finish(f->an);
	assert_int_equal(f->nrec, 2);
	assert_string_equal(f->rec[0].conn_state, "S0");
	assert_int_equal(f->rec[0].orig_pkts, 2);
	assert_int_equal(f->rec[1].orig_pkts, 1);
}

static void test_refused(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	struct tp_verdict *v = seg(f, S, RST | ACK, 0, 1001, 0, 1);
	assert_int_equal(v->step, TP_STEP_RST);
	assert_int_equal(v->phase, TP_PHASE_RESET);
	assert_true(HAS(v, TP_A_REFUSED));
	assert_states(v, TP_CLOSED, TP_CLOSED);
	/* nobody listened: the server never left CLOSED */
	assert_states(&f->v[1], TP_SYN_SENT, TP_CLOSED);
	tp_finish(f->an);
	assert_string_equal(f->rec[0].conn_state, "REJ");
	assert_int_equal(f->rec[0].handshake, TP_HS_REFUSED);
	/* Wireshark counts the RST's ACK flag as an ACK */
	assert_int_equal(f->rec[0].completeness, TP_COMPL_SYN | TP_COMPL_ACK | TP_COMPL_RST);
}

static void test_unanswered_syn(void **state)
{
	struct fx *f = *state;
	struct tp_verdict *v = seg(f, C, SYN, 1000, 0, 0, 0);
	assert_false(HAS(v, TP_A_SYN_UNANSWERED)); /* not known yet */
	assert_states(v, TP_SYN_SENT, TP_SYN_RECEIVED);
	v = seg(f, C, SYN, 1000, 0, 0, 1000);
	assert_true(v->rtx);
	assert_true(HAS(v, TP_A_SYN_RETRANSMIT));
	assert_states(v, TP_SYN_SENT, TP_UNKNOWN); /* sent again: the first got no answer */
	tp_finish(f->an);
	assert_true(HAS(&f->v[1], TP_A_SYN_UNANSWERED)); /* late, on the SYN */
	assert_states(&f->v[1], TP_SYN_SENT, TP_UNKNOWN);
	assert_int_equal(f->rec[0].resp_state, TP_UNKNOWN);
	assert_string_equal(f->rec[0].conn_state, "S0");
	assert_int_equal(f->rec[0].handshake, TP_HS_UNANSWERED);
}

static void test_half_open_on_timeout(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 1);
	struct tp_verdict *v = seg(f, S, SYN | ACK, 5000, 1001, 0, 1000);
	assert_true(v->rtx);
	assert_true(HAS(v, TP_A_SYNACK_RETRANSMIT));
	/* the client never answered the first: nothing says it got either */
	assert_states(v, TP_UNKNOWN, TP_SYN_RECEIVED);
	assert_states(&f->v[2], TP_ESTABLISHED, TP_SYN_RECEIVED);
	assert_false(HAS(&f->v[2], TP_A_HALF_OPEN));
	/* more than the 3 s half-open timeout after the first SYN-ACK: known now */
	tp_advance(f->an, 1700000000000000000LL + 3100 * 1000000LL);
	assert_true(HAS(&f->v[2], TP_A_HALF_OPEN));
	assert_states(&f->v[2], TP_UNKNOWN, TP_SYN_RECEIVED);
	assert_int_equal(f->nrec, 0); /* still tracked, in case the ACK comes late */
	tp_finish(f->an);
	assert_int_equal(f->rec[0].handshake, TP_HS_HALF_OPEN);
	assert_int_equal(f->rec[0].resp_state, TP_SYN_RECEIVED);
	assert_int_equal(f->rec[0].orig_state, TP_UNKNOWN);
	assert_string_equal(f->rec[0].conn_state, "S1"); /* Zeek: SYN-ACK seen, no close */
}


/*
 * A reconnect from the port of a connection the server still holds, as the
 * kernel does it (test-captures/stale-reconnect.pcap): challenge ACK with
 * the old numbers, RST <SEQ=SEG.ACK> from SYN-SENT, the SYN again.
 */
static void stale_reconnect(struct fx *f)
{
	seg(f, C, SYN, 1000, 0, 0, 0);
	struct tp_verdict *v = seg(f, S, ACK, 7000, 300, 0, 1); /* the old connection's numbers */
	assert_true(HAS(v, TP_A_HANDSHAKE_BAD_ACK));
	assert_true(v->ack_checked);
	assert_int_equal(v->expected_ack, 1001);
	assert_int_equal(v->seen_ack, 300);
	assert_states(v, TP_SYN_SENT, TP_UNKNOWN);
	assert_states(&f->v[1], TP_SYN_SENT, TP_UNKNOWN);
	v = seg(f, C, RST, 300, 0, 0, 0);
	assert_true(HAS(v, TP_A_STALE_CONNECTION));
	assert_false(HAS(v, TP_A_HANDSHAKE_RESET));
	assert_states(v, TP_SYN_SENT, TP_CLOSED); /* the client stays SYN-SENT */
}

static void test_stale_reconnect_one_stream(void **state)
{
	struct fx *f = *state;
	tp_analyzer_free(f->an);
	f->cfg.wireshark = TP_WS_4_0; /* one tcp.stream for all of it */
	fx_start(f);
	stale_reconnect(f);
	struct tp_verdict *v = seg(f, C, SYN, 1000, 0, 0, 14);
	assert_true(HAS(v, TP_A_SYN_RETRANSMIT));
	assert_states(v, TP_SYN_SENT, TP_SYN_RECEIVED);
	v = seg(f, S, SYN | ACK, 5000, 1001, 0, 0);
	assert_int_equal(v->anomalies, 0);
	v = seg(f, C, ACK, 1001, 5001, 0, 0);
	assert_int_equal(v->step, TP_STEP_HS_ACK);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	v = seg(f, C, ACK | PSH, 1001, 5001, 10, 0);
	assert_int_equal(v->phase, TP_PHASE_DATA);
	assert_int_equal(v->anomalies, 0);
	tp_finish(f->an);
	assert_int_equal(f->nrec, 1);
	assert_int_equal(f->rec[0].handshake, TP_HS_COMPLETE);
}

static void test_stale_reconnect_new_stream(void **state)
{
	struct fx *f = *state; /* 4.4 rules: the SYN after the RST opens a new stream */
	stale_reconnect(f);
	struct tp_verdict *v = seg(f, C, SYN, 1000, 0, 0, 14);
	assert_int_not_equal(v->conn, f->v[1].conn);
	assert_true(v->rtx);
	assert_true(HAS(v, TP_A_SYN_RETRANSMIT));
	assert_false(HAS(v, TP_A_PORT_REUSE)); /* the same SYN, not a new one */
	seg(f, S, SYN | ACK, 5000, 1001, 0, 0);
	v = seg(f, C, ACK, 1001, 5001, 0, 0);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	tp_finish(f->an);
	assert_int_equal(f->nrec, 2);
	assert_int_equal(f->rec[0].handshake, TP_HS_BAD_ACK);
	assert_int_equal(f->rec[0].orig_state, TP_SYN_SENT);
	assert_false(f->rec[0].anomalies & TP_ABIT(TP_A_SYN_UNANSWERED));
	assert_int_equal(f->rec[1].handshake, TP_HS_COMPLETE);
}

/* The handshake's ACK seen leaving the client, then the SYN-ACK again. */
static void test_lost_handshake_ack(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 1);
	struct tp_verdict *v = seg(f, C, ACK, 1001, 5001, 0, 0);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	/* until the server shows the ACK arrived, its verdict may still change */
	assert_int_equal(tp_settled_below(f->an), 1);
	v = seg(f, S, SYN | ACK, 5000, 1001, 0, 1000);
	assert_true(HAS(v, TP_A_SYNACK_RETRANSMIT));
	assert_true(HAS(v, TP_A_LOST_HANDSHAKE_ACK));
	assert_states(v, TP_ESTABLISHED, TP_SYN_RECEIVED);
	/* amended: the ACK never reached the server */
	assert_true(HAS(&f->v[3], TP_A_LOST_HANDSHAKE_ACK));
	assert_states(&f->v[3], TP_ESTABLISHED, TP_SYN_RECEIVED);
	v = seg(f, C, ACK, 1001, 5001, 0, 0);
	assert_int_equal(v->step, TP_STEP_HS_ACK);
	assert_true(v->rtx);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	v = seg(f, S, ACK | PSH, 5001, 1001, 10, 0);
	assert_int_equal(v->phase, TP_PHASE_DATA);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].handshake, TP_HS_COMPLETE);
	/* the half-open time: the first SYN-ACK to the ACK that arrived */
	assert_int_equal(f->rec[0].synack_to_ack_ns, 1000 * 1000000LL);
	assert_true(f->rec[0].anomalies & TP_ABIT(TP_A_LOST_HANDSHAKE_ACK));
	assert_false(f->rec[0].anomalies & TP_ABIT(TP_A_HALF_OPEN));
}

/* A SYN-ACK resent before the ACK could have arrived proves nothing. */
static void test_handshake_ack_crossing(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 100); /* a 100 ms round trip */
	seg(f, C, ACK, 1001, 5001, 0, 0);
	struct tp_verdict *v = seg(f, S, SYN | ACK, 5000, 1001, 0, 50);
	assert_true(HAS(v, TP_A_SYNACK_RETRANSMIT));
	assert_false(HAS(v, TP_A_LOST_HANDSHAKE_ACK));
	assert_false(HAS(&f->v[3], TP_A_LOST_HANDSHAKE_ACK));
	/* and once the server spoke after the ACK, a late SYN-ACK proves nothing either */
	seg(f, S, ACK | PSH, 5001, 1001, 10, 0);
	v = seg(f, S, SYN | ACK, 5000, 1001, 0, 2000);
	assert_false(HAS(v, TP_A_LOST_HANDSHAKE_ACK));
}

/* A SYN-ACK later than --half-open-timeout after the ACK is not taken as
 * evidence: by then the ACK's verdict may have been written. */
static void test_handshake_ack_window(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 1);
	seg(f, C, ACK, 1001, 5001, 0, 0);
	struct tp_verdict *v = seg(f, S, SYN | ACK, 5000, 1001, 0, 3500);
	assert_true(HAS(v, TP_A_SYNACK_RETRANSMIT));
	assert_false(HAS(v, TP_A_LOST_HANDSHAKE_ACK));
	assert_false(HAS(&f->v[3], TP_A_LOST_HANDSHAKE_ACK));
	assert_states(&f->v[3], TP_ESTABLISHED, TP_ESTABLISHED);
	assert_int_equal(tp_settled_below(f->an), UINT64_MAX); /* nothing left to amend */
}

/* RFC 9293 3.5.1: the server lost the connection; the client's data meets no socket. */
static void test_reset_no_connection(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, C, ACK | PSH, 1101, 5101, 10, 1000);
	struct tp_verdict *v = seg(f, S, RST, 5101, 0, 0, 0);
	assert_true(HAS(v, TP_A_RESET_NO_CONNECTION));
	assert_false(HAS(v, TP_A_RESET_ABORT));
	assert_states(v, TP_CLOSED, TP_CLOSED);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].teardown, TP_TD_RESET_RESP);
}

/* An RST without ACK that does not answer the peer's latest segment is an abort. */
static void test_reset_without_ack_abort(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, S, ACK | PSH, 5101, 1101, 10, 10);
	struct tp_verdict *v = seg(f, S, RST, 5111, 0, 0, 1);
	assert_true(HAS(v, TP_A_RESET_ABORT));
	assert_false(HAS(v, TP_A_RESET_NO_CONNECTION));
}

static void test_handshake_bad_acks(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	struct tp_verdict *v = seg(f, S, SYN | ACK, 5000, 1234, 0, 1);
	assert_true(HAS(v, TP_A_HANDSHAKE_BAD_ACK));
	assert_int_equal(v->expected_ack, 1001);
	assert_int_equal(v->seen_ack, 1234);
	assert_states(v, TP_SYN_SENT, TP_SYN_RECEIVED);
}

static void test_third_ack_bad(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 1);
	struct tp_verdict *v = seg(f, C, ACK, 1001, 7777, 0, 1);
	assert_true(HAS(v, TP_A_HANDSHAKE_BAD_ACK));
	assert_int_equal(v->expected_ack, 5001);
	assert_int_equal(v->seen_ack, 7777);
	assert_states(v, TP_ESTABLISHED, TP_SYN_RECEIVED);
}

static void test_reset_abort_by_server(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	struct tp_verdict *v = seg(f, S, RST | ACK, 5101, 1101, 0, 5);
	assert_true(HAS(v, TP_A_RESET_ABORT));
	assert_int_equal(v->dir, TP_DIR_RESP);
	assert_states(v, TP_CLOSED, TP_CLOSED);
	v = seg(f, C, ACK | PSH, 1101, 5101, 10, 5);
	assert_true(HAS(v, TP_A_AFTER_CLOSE));
	assert_int_equal(v->phase, TP_PHASE_CLOSED);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].teardown, TP_TD_RESET_RESP);
	assert_string_equal(f->rec[0].conn_state, "RSTR");
}

static void test_reset_abort_by_client(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, C, RST | ACK, 1101, 5101, 0, 5);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].teardown, TP_TD_RESET_ORIG);
	assert_string_equal(f->rec[0].conn_state, "RSTO");
}

static void test_handshake_reset(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 1);
	struct tp_verdict *v = seg(f, C, RST, 1001, 0, 0, 1);
	assert_true(HAS(v, TP_A_HANDSHAKE_RESET));
	assert_states(v, TP_CLOSED, TP_CLOSED);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].handshake, TP_HS_RESET);
}

static void test_midstream(void **state)
{
	struct fx *f = *state;
	/* first seen: the server's data toward the client's ephemeral port */
	struct tp_verdict *v = seg(f, S, ACK | PSH, 5000, 1000, 100, 0);
	assert_true(HAS(v, TP_A_MIDSTREAM));
	assert_true(v->dir_inferred);
	assert_int_equal(v->dir, TP_DIR_RESP); /* port 80 is the server */
	assert_int_equal(v->phase, TP_PHASE_MIDSTREAM);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	v = seg(f, C, ACK, 1000, 5100, 0, 1);
	assert_false(HAS(v, TP_A_MIDSTREAM));
	tp_finish(f->an);
	assert_string_equal(f->rec[0].conn_state, "OTH");
	assert_int_equal(f->rec[0].handshake, TP_HS_NONE);
}

static void test_bad_flags(void **state)
{
	struct fx *f = *state;
	struct tp_verdict *v = seg(f, C, SYN | FIN, 1000, 0, 0, 0);
	assert_true(HAS(v, TP_A_BAD_FLAGS));
	v = seg(f, C, 0, 1000, 0, 0, 1);
	assert_true(HAS(v, TP_A_BAD_FLAGS));
}

static void test_port_reuse_in_time_wait(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	seg(f, S, FIN | ACK, 5101, 1102, 0, 1);
	seg(f, C, ACK, 1102, 5102, 0, 1);
	struct tp_verdict *v = seg(f, C, SYN, 90000, 0, 0, 1000);
	assert_int_equal(v->conn, 1);
	assert_true(HAS(v, TP_A_PORT_REUSE));
	assert_int_equal(v->step, TP_STEP_HS_SYN);
	assert_states(v, TP_SYN_SENT, TP_SYN_RECEIVED);
	assert_int_equal(f->nrec, 1); /* the first connection ended there */
	assert_int_equal(f->rec[0].end_reason, TP_END_REUSED);
	assert_string_equal(f->rec[0].conn_state, "SF");
	tp_finish(f->an);
	assert_int_equal(f->nrec, 2);
	assert_true(f->rec[1].anomalies & TP_ABIT(TP_A_PORT_REUSE));
}

static void test_data_before_handshake(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	seg(f, S, SYN | ACK, 5000, 1001, 0, 1);
	struct tp_verdict *v = seg(f, S, ACK | PSH, 5001, 1001, 50, 1);
	assert_true(HAS(v, TP_A_DATA_BEFORE_HANDSHAKE));
	assert_int_equal(v->phase, TP_PHASE_HANDSHAKE);
}

static void test_tfo_data_is_a_note(void **state)
{
	struct fx *f = *state;
	struct tp_verdict *v = seg(f, C, SYN, 1000, 0, 40, 0);
	assert_true(HAS(v, TP_A_TFO_DATA));
	assert_false(HAS(v, TP_A_DATA_BEFORE_HANDSHAKE));
	assert_int_equal(tp_anomaly_table[TP_A_TFO_DATA].severity, TP_SEV_NOTE);
}

/*
 * TCP Fast Open (test-captures/tfo.pcap, as the kernel did it): the SYN-ACK
 * acknowledges the SYN's data too, ISN+1+len, which is acceptable (ISS <
 * SEG.ACK =< SND.NXT), as is ISN+1 (data not taken); beyond SND.NXT is not.
 */
static void tfo_synack(uint32_t ack, int acceptable)
{
	struct fx *f = fx_new();
	fx_start(f);
	seg(f, C, SYN, 1000, 0, 100, 0);
	struct tp_verdict *v = seg(f, S, SYN | ACK, 5000, ack, 0, 1);
	assert_int_equal(HAS(v, TP_A_HANDSHAKE_BAD_ACK), !acceptable);
	assert_states(v, acceptable ? TP_ESTABLISHED : TP_SYN_SENT, TP_SYN_RECEIVED);
	if (acceptable) {
		v = seg(f, C, ACK, 1000 + 1 + 100, 5001, 0, 1);
		assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
		assert_false(v->anomalies);
	}
	tp_analyzer_free(f->an);
	test_free(f);
}

static void test_tfo_synack_acks_the_data(void **state)
{
	(void)state;
	tfo_synack(1101, 1); /* the SYN's 100 bytes taken */
	tfo_synack(1001, 1); /* not taken: the client sends them again */
	tfo_synack(1102, 0); /* past what was sent */
	tfo_synack(1000, 0); /* the ISN itself */
}

static void test_simultaneous_open(void **state)
{
	struct fx *f = *state;
	seg(f, C, SYN, 1000, 0, 0, 0);
	struct tp_verdict *v = seg(f, S, SYN, 5000, 0, 0, 0);
	assert_int_equal(v->step, TP_STEP_SIM_SYN);
	assert_true(HAS(v, TP_A_SIMULTANEOUS_OPEN));
	assert_states(v, TP_SYN_RECEIVED, TP_SYN_RECEIVED);
	v = seg(f, C, SYN | ACK, 1000, 5001, 0, 1);
	assert_int_equal(v->step, TP_STEP_SIM_SYNACK);
	assert_states(v, TP_SYN_RECEIVED, TP_ESTABLISHED);
	v = seg(f, S, SYN | ACK, 5000, 1001, 0, 0);
	assert_states(v, TP_ESTABLISHED, TP_ESTABLISHED);
	tp_finish(f->an);
	assert_int_equal(f->rec[0].handshake, TP_HS_SIMULTANEOUS);
}

static void test_half_closed(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	struct tp_verdict *v = seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	uint64_t fin = v->frame;
	seg(f, S, ACK, 5101, 1102, 0, 1);
	v = seg(f, S, ACK | PSH, 5101, 1102, 500, 1000);
	assert_states(v, TP_FIN_WAIT_2, TP_CLOSE_WAIT);
	assert_int_equal(v->phase, TP_PHASE_TEARDOWN);
	tp_finish(f->an);
	assert_true(HAS(&f->v[fin], TP_A_HALF_CLOSED));
	assert_int_equal(f->rec[0].teardown, TP_TD_HALF_CLOSED);
	assert_string_equal(f->rec[0].conn_state, "S2");
}

/* An established connection idle past --idle-timeout ends "timeout" and
 * is counted as expired; the summary's count means only that. */
static void test_idle_timeout_expires(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	int64_t last = 1700000000000000000LL + f->now_ms * 1000000LL;
	tp_advance(f->an, last + f->cfg.idle_timeout_ns + 1);
	assert_int_equal(f->nrec, 1);
	assert_int_equal(f->rec[0].end_reason, TP_END_TIMEOUT);
	assert_int_equal(tp_stats(f->an)->expired, 1);
}

static void test_fin_retransmit(void **state)
{
	struct fx *f = *state;
	open_conn(f);
	seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	struct tp_verdict *v = seg(f, C, FIN | ACK, 1101, 5101, 0, 300);
	assert_true(v->rtx);
	assert_int_equal(v->step, TP_STEP_FIN1);
	assert_true(HAS(v, TP_A_FIN_RETRANSMIT));
	assert_false(HAS(v, TP_A_LOST_FINAL_ACK));
}

/* Spoofed sources, one server, 300 SYNs in 300 ms, none answered. */
static void test_syn_flood(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 300; i++) {
		f->client_ip = 256 + (uint32_t)i * 7;
		f->client_port = (uint16_t)(1024 + i);
		seg(f, C, SYN, 1000u + (uint32_t)i, 0, 0, 1);
	}
	/* the flood is detected after 200 SYNs; every SYN of it is marked */
	assert_true(HAS(&f->v[1], TP_A_SYN_FLOOD));
	assert_true(HAS(&f->v[150], TP_A_SYN_FLOOD));
	assert_true(HAS(&f->v[300], TP_A_SYN_FLOOD));
	tp_finish(f->an);
	assert_int_equal(f->nflood, 1);
	assert_int_equal(f->flood.port, 80);
	assert_int_equal(f->flood.syns, 300);
	assert_int_equal(f->flood.peak_half_open, 300);
	assert_true(f->flood.distinct_sources > 250 && f->flood.distinct_sources < 350);
	assert_true(f->flood.answered_share < 0.01);
	assert_int_equal(f->nrec, 300);
	assert_int_equal(tp_stats(f->an)->floods, 1);
}

static void test_no_flood_from_one_source(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 300; i++) {
		f->client_port = (uint16_t)(1024 + i); /* one client, many ports: a busy client */
		seg(f, C, SYN, 1000u + (uint32_t)i, 0, 0, 1);
	}
	tp_finish(f->an);
	assert_int_equal(f->nflood, 0);
}

static void test_eviction_is_reported(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	f->cfg.max_conns = 2;
	fx_start(f);
	for (int i = 0; i < 3; i++) {
		f->client_port = (uint16_t)(2000 + i);
		seg(f, C, SYN, 1000, 0, 0, 1);
	}
	assert_int_equal(f->nrec, 1);
	assert_int_equal(f->rec[0].end_reason, TP_END_EVICTED);
	assert_int_equal(tp_stats(f->an)->evicted, 1);
	tp_finish(f->an);
	assert_int_equal(f->nrec, 3);
	tp_analyzer_free(f->an);
	test_free(f);
}

/* open_conn, then a 4-way close initiated by the client. */
static void close_conn(struct fx *f)
{
	open_conn(f);
	seg(f, C, FIN | ACK, 1101, 5101, 0, 10);
	seg(f, S, ACK, 5101, 1102, 0, 1);
	seg(f, S, FIN | ACK, 5101, 1102, 0, 5);
	seg(f, C, ACK, 1102, 5102, 0, 1);
}

static void assert_same_record(const struct tp_conn_record *a, const struct tp_conn_record *b)
{
	assert_int_equal(a->first_frame, b->first_frame);
	assert_int_equal(a->orig_p, b->orig_p);
	assert_int_equal(a->start_ns, b->start_ns);
	assert_int_equal(a->last_ns, b->last_ns);
	assert_int_equal(a->orig_pkts, b->orig_pkts);
	assert_int_equal(a->resp_ip_bytes, b->resp_ip_bytes);
	assert_int_equal(a->orig_bytes, b->orig_bytes);
	assert_int_equal(a->handshake, b->handshake);
	assert_int_equal(a->teardown, b->teardown);
	assert_int_equal(a->orig_state, b->orig_state);
	assert_int_equal(a->resp_state, b->resp_state);
	assert_int_equal(a->completeness, b->completeness);
	assert_int_equal(a->anomalies, b->anomalies);
	assert_int_equal(a->syn_to_synack_ns, b->syn_to_synack_ns);
	assert_int_equal(a->synack_to_ack_ns, b->synack_to_ack_ns);
	assert_int_equal(a->fin_to_close_ns, b->fin_to_close_ns);
	assert_string_equal(a->conn_state, b->conn_state);
	assert_string_equal(a->history, b->history);
}

/* A closed connection, then another one's SYN after_ms later (max_conns 0:
 * the default cap). */
static struct fx *linger_then_syn(uint32_t max_conns, int after_ms)
{
	struct fx *f = fx_new();
	if (max_conns)
		f->cfg.max_conns = max_conns;
	fx_start(f);
	close_conn(f);
	f->client_port = 40001;
	seg(f, C, SYN, 9000, 0, 0, after_ms);
	return f;
}

/*
 * A closed connection lingers (TIME-WAIT) packed small (core/freeze.c).
 * Ended by the cap, by its linger timer or by the end of the capture, its
 * record must read as if it had never been packed.
 */
static void test_lingering_connection_record(void **state)
{
	(void)state;
	struct fx *ref = fx_new();
	fx_start(ref);
	close_conn(ref);
	tp_finish(ref->an);
	assert_int_equal(ref->nrec, 1);
	assert_string_equal(ref->rec[0].history, "ShADadFf");
	assert_int_equal(ref->rec[0].end_reason, TP_END_CAPTURE_END);

	/* evicted while lingering, by a new connection under --max-conns 1 */
	struct fx *ev = linger_then_syn(1, 1000);
	assert_int_equal(ev->nrec, 1);
	assert_int_equal(ev->rec[0].end_reason, TP_END_EVICTED);
	assert_same_record(&ev->rec[0], &ref->rec[0]);

	/* expired: 61 s later, past closed_linger */
	struct fx *ex = linger_then_syn(0, 61000);
	assert_int_equal(ex->nrec, 1);
	assert_int_equal(ex->rec[0].end_reason, TP_END_CLOSED);
	assert_same_record(&ex->rec[0], &ref->rec[0]);
	/* TIME-WAIT began with the server's FIN, 1 ms before the final ACK */
	assert_int_equal(ex->rec[0].time_wait_ns, 61001000000LL);
	/* a closed connection whose linger ends was not expired */
	assert_int_equal(tp_stats(ex->an)->expired, 0);

	struct fx *fx[] = { ref, ev, ex };
	for (int i = 0; i < 3; i++) {
		tp_analyzer_free(fx[i]->an);
		test_free(fx[i]);
	}
}

static void test_names(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(tp_state_name(TP_SYN_RECEIVED), "SYN-RECEIVED");
	assert_string_equal(tp_state_name(TP_TIME_WAIT), "TIME-WAIT");
	assert_string_equal(tp_step_label(TP_STEP_FIN2_WITH_ACK), "FIN 2+3/4");
	for (int i = 0; i < TP_A_COUNT; i++) {
		assert_int_equal(tp_anomaly_table[i].id, i);
		assert_int_equal(tp_anomaly_by_name(tp_anomaly_table[i].name), i);
	}
	struct tp_addr a6 = { 6, { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
	assert_string_equal(tp_addr_str(&a6, buf, sizeof buf), "fd00::1");
	struct tp_addr b6 = { 6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 } };
	assert_string_equal(tp_addr_str(&b6, buf, sizeof buf), "2001:db8:0:1::1");
	char u1[20], u2[20];
	tp_conn_uid(0, 0, u1);
	tp_conn_uid(0, 1, u2);
	assert_int_equal(strlen(u1), 18);
	assert_int_equal(u1[0], 'C');
	assert_string_not_equal(u1, u2);
	/* seed 0 keeps the uids of before seeds; another seed gives others */
	tp_conn_uid(0, 1, u1);
	assert_string_equal(u1, "Ch8thC0EIkSnkLTLSS");
	tp_conn_uid(tp_uid_seed(1, 3, (const uint8_t *)"abc"), 1, u2);
	assert_string_not_equal(u1, u2);
	assert_true(tp_uid_seed(1, 3, (const uint8_t *)"abc") != tp_uid_seed(2, 3, (const uint8_t *)"abc"));
	assert_true(tp_uid_seed(1, 3, (const uint8_t *)"abc") != tp_uid_seed(1, 3, (const uint8_t *)"abd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_four_way_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_segment_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_final_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_ends_in_last_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_resent_never_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_resent_then_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_first_fin_proves_lost_final_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_later_fin_concludes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_other_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_tie_between_transmissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_tie_with_another_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_without_timestamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_first_fin_at_client_vantage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_first_fin1_is_no_final_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_synack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spurious_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_bad_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_not_analysed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_wireshark_keeps_stray, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_zeek_forgets_after_close_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_zeek_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_syn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_open_on_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_bad_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_reconnect_one_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_reconnect_new_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_handshake_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_ack_crossing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_ack_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_no_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_without_ack_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_third_ack_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_abort_by_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_abort_by_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_reuse_in_time_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_before_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tfo_data_is_a_note, setup, teardown),
		cmocka_unit_test(test_tfo_synack_acks_the_data),
		cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_flood_from_one_source, setup, teardown),
		cmocka_unit_test(test_eviction_is_reported),
		cmocka_unit_test(test_lingering_connection_record),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
