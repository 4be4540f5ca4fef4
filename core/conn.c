/*
 * conn.c - the RFC 9293 state machine of both endpoints, as a passive
 * observer at one capture point sees it.
 *
 * Each endpoint's state is reported as it is once the segment has been
 * delivered (see ../shared/notes/observer-semantics.md); a receiver that
 * answers at once is shown in the state its answer puts it in, so a SYN
 * leaves the server SYN-RECEIVED. When later evidence proves a segment was
 * not delivered (the LAST-ACK side retransmits its FIN), the earlier verdict
 * is amended through tp_conn_amend() and the states are corrected from there.
 *
 * Dispatch follows lwIP's tcp_process(): checks that apply in every state
 * (flags, RST) first, then the SYN, SYN-ACK and ACK/FIN/data handlers.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define HS_STEP(st) ((st) >= TP_STEP_HS_SYN && (st) <= TP_STEP_SIM_SYNACK)

static void set_states(struct tp_conn *c, int i, enum tp_state si, enum tp_state ri)
{
	c->ep[i].state = (uint8_t)si;
	c->ep[!i].state = (uint8_t)ri;
}

static int is_closed_state(uint8_t st)
{
	return st == TP_CLOSED || st == TP_TIME_WAIT;
}

/* Both sides done: nothing but stray segments or a lost-final-ACK replay can follow. */
static int conn_closed(const struct tp_conn *c)
{
	return c->ended || (c->ep[0].fin_seen && c->ep[1].fin_seen && is_closed_state(c->ep[0].state) &&
	                    is_closed_state(c->ep[1].state));
}

void tp_conn_amend(struct tp_analyzer *an, struct tp_conn *c, uint64_t frame, tp_anomaly_set add, int orig_state,
                   int resp_state)
{
	if (!frame)
		return;
	c->anomalies |= add;
	for (tp_anomaly_set m = add; m;)
		an->stats.anomalies[tp_anomaly_pop(&m)]++;
	if (!an->cb.amend)
		return;
	struct tp_amend a = {
		.frame = frame, .conn = c->idx, .add = add,
		.orig_state = (int16_t)orig_state, .resp_state = (int16_t)resp_state,
	};
	an->cb.amend(an->cb.user, &a);
}

void tp_conn_amend_states(struct tp_analyzer *an, struct tp_conn *c, uint64_t frame, tp_anomaly_set add, int i,
                          int st_i, int st_peer)
{
	tp_conn_amend(an, c, frame, add, i == 0 ? st_i : st_peer, i == 0 ? st_peer : st_i);
}

void tp_conn_start(struct tp_analyzer *an, struct tp_conn *c, const struct tp_segment *s)
{
	c->idx = an->next_idx++;
	c->first_frame = s->frame;
	c->start_ns = c->last_ns = s->ts_ns;
	c->first_closer = 0xff;
	c->syn_ns = c->synack_ns = c->hs_ack_ns = c->first_fin_ns = c->close_ns = c->time_wait_ns = -1;
	/* A is the sender of the first segment; Zeek's view is kept relative to it. */
	c->a_is_orig = c->addr[0].family == s->src.family && c->port[0] == s->sport &&
	               memcmp(c->addr[0].bytes, s->src.bytes, 16) == 0;
	tp_zeek_init(&c->zeek, s, an->server_ports);
	an->stats.conns_total++;
}

/* Invalid combinations (RFC 9293 does not define them; scanners send them). */
static int bad_flags(uint16_t f)
{
	if ((f & (TP_TH_SYN | TP_TH_FIN)) == (TP_TH_SYN | TP_TH_FIN))
		return 1;
	if ((f & (TP_TH_SYN | TP_TH_RST)) == (TP_TH_SYN | TP_TH_RST))
		return 1;
	if ((f & (TP_TH_FIN | TP_TH_SYN | TP_TH_RST | TP_TH_ACK | TP_TH_PSH | TP_TH_URG)) == 0)
		return 1; /* null scan */
	if ((f & TP_TH_FIN) && !(f & TP_TH_ACK))
		return 1; /* every FIN of a real close carries an ACK */
	return 0;
}

/* ---- RST ----------------------------------------------------------------- */

/*
 * RFC 5961 3.2: an RST is acceptable only inside the receive window. An
 * unacceptable one changes nothing at the receiver, so it must not close the
 * connection in our view either. Without the receiver's window we accept.
 */
static int rst_acceptable(const struct tp_conn *c, int si, const struct tp_segment *s)
{
	const struct tp_endpoint *R = &c->ep[!si];
	if (R->state == TP_SYN_SENT) /* RFC 9293 3.10.7.3: acceptable if it ACKs our SYN */
		return !(s->flags & TP_TH_ACK) || s->ack == R->isn + 1;
	if (!R->ack_seen || s->seq == 0)
		return 1;
	uint32_t lo = R->max_ack, win = R->window ? R->window : 1;
	return SEQ_GEQ(s->seq, lo - 1) && SEQ_LEQ(s->seq, lo + win);
}

/* <SEQ=SEG.ACK><CTL=RST>: a reset without ACK whose sequence number is the
 * peer's acknowledgement, the shape RFC 9293 gives a reset that answers a
 * segment it cannot accept (3.10.7.1, 3.10.7.3). */
static int rst_answers_ack(const struct tp_conn *c, int si, const struct tp_segment *s)
{
	const struct tp_endpoint *R = &c->ep[!si];
	return !(s->flags & TP_TH_ACK) && R->ack_seen && s->seq == R->max_ack;
}

/*
 * RFC 9293 3.10.7.3: in SYN-SENT, an ACK that does not acknowledge our SYN
 * is answered by <SEQ=SEG.ACK><CTL=RST> and the SYN-SENT side stays where it
 * is. After a challenge ACK (stale_peer) that reset clears the peer's older
 * connection; the new attempt goes on with the SYN's retransmission.
 */
static int stale_reset(const struct tp_conn *c, int si, const struct tp_segment *s)
{
	return c->stale_peer && c->ep[si].state == TP_SYN_SENT && rst_answers_ack(c, si, s);
}

/*
 * RFC 9293 3.5.1 and 3.10.7.1: a host with no connection for a segment that
 * carries an ACK answers <SEQ=SEG.ACK><CTL=RST>, without an ACK of its own.
 * A deliberate abort (close with SO_LINGER 0, the application's RST) comes
 * from a live connection and carries ACK on every common stack. So a reset
 * shaped so, that answers the peer's latest segment, says the resetting
 * host had lost the connection: crashed, rebooted, or forgot it.
 */
static int no_connection_reset(const struct tp_conn *c, int si, const struct tp_segment *s)
{
	return c->last_from == !si && rst_answers_ack(c, si, s);
}

static void on_rst(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s, struct tp_verdict *v)
{
	struct tp_endpoint *R = &c->ep[!si];
	v->step = TP_STEP_RST;
	if (conn_closed(c)) {
		v->anomalies |= TP_ABIT(TP_A_AFTER_CLOSE);
		return;
	}
	if (!rst_acceptable(c, si, s))
		return;
	if (stale_reset(c, si, s)) {
		v->anomalies |= TP_ABIT(TP_A_STALE_CONNECTION);
		R->state = TP_CLOSED; /* its old connection; its listener takes the next SYN */
		c->stale_peer = 0;
		return;
	}
	c->ep[si].rst_seen = 1;
	if (R->state == TP_SYN_SENT && !c->ep[si].syn_seen) {
		/* The SYN's receiver answered with RST: nobody listens there, and
		 * it never left CLOSED (the SYN's verdict guessed SYN-RECEIVED). */
		v->anomalies |= TP_ABIT(TP_A_REFUSED);
		c->handshake = TP_HS_REFUSED;
		tp_conn_amend_states(an, c, c->syn_frame, 0, si, TP_CLOSED, TP_SYN_SENT);
	} else if (!c->established && !c->midstream) {
		v->anomalies |= TP_ABIT(TP_A_HANDSHAKE_RESET);
		c->handshake = TP_HS_RESET;
	} else {
		v->anomalies |= TP_ABIT(no_connection_reset(c, si, s) ? TP_A_RESET_NO_CONNECTION : TP_A_RESET_ABORT);
		c->teardown = si == 0 ? TP_TD_RESET_ORIG : TP_TD_RESET_RESP;
	}
	set_states(c, si, TP_CLOSED, TP_CLOSED);
	c->ended = 1;
	c->close_ns = s->ts_ns;
	tp_flood_half_open_done(an, c);
}

/* ---- SYN and SYN-ACK ---------------------------------------------------- */

static void on_syn(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s, struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si], *R = &c->ep[!si];
	if (S->syn_seen) {
		v->step = c->sim_open ? TP_STEP_SIM_SYN : TP_STEP_HS_SYN;
		if (s->seq == S->isn) {
			v->rtx = 1;
			v->anomalies |= TP_ABIT(TP_A_SYN_RETRANSMIT);
			/* Sent again, so no answer reached its sender: the receiver
			 * may never have had it. After a stale reset its listener
			 * takes this one as a new SYN. */
			if (R->state == TP_SYN_RECEIVED && !R->syn_seen)
				R->state = TP_UNKNOWN;
			else if (R->state == TP_CLOSED && !c->ended)
				R->state = TP_SYN_RECEIVED;
		}
		return;
	}
	S->syn_seen = S->seq_set = 1;
	S->isn = s->seq;
	S->next_seq = s->seq + 1 + s->len;
	if (s->len)
		v->anomalies |= TP_ABIT(TP_A_TFO_DATA);
	if (R->syn_seen && R->state == TP_SYN_SENT) {
		/* R's SYN arrived first and S answered with a SYN of its own, not a
		 * SYN-ACK: both were opening actively (RFC 9293 3.5, figure 8). */
		v->step = TP_STEP_SIM_SYN;
		v->anomalies |= TP_ABIT(TP_A_SIMULTANEOUS_OPEN);
		c->sim_open = 1;
		c->handshake = TP_HS_SIMULTANEOUS;
		set_states(c, si, TP_SYN_RECEIVED, TP_SYN_RECEIVED);
		return;
	}
	v->step = TP_STEP_HS_SYN;
	if (R->syn_seen)
		return; /* the SYN-ACK was captured first (reordering): the states stand */
	c->syn_frame = s->frame;
	c->syn_ns = s->ts_ns;
	c->handshake = TP_HS_UNANSWERED;
	set_states(c, si, TP_SYN_SENT, TP_SYN_RECEIVED);
	if (tp_flood_syn(an, s, c))
		v->anomalies |= TP_ABIT(TP_A_SYN_FLOOD);
}

/*
 * Does ack acknowledge R's SYN? RFC 9293 3.10.7.3 and 3.10.7.4: an ACK is
 * acceptable if ISS < SEG.ACK =< SND.NXT. SND.NXT is past the SYN's own
 * data when it carried some (TCP Fast Open, RFC 7413 4.2), and past data a
 * TFO server sends from SYN-RECEIVED: the peer may acknowledge that data
 * with the SYN, or not yet.
 */
static int acks_syn(const struct tp_endpoint *R, uint32_t ack)
{
	return SEQ_GT(ack, R->isn) && SEQ_LEQ(ack, R->next_seq);
}

/* ACK of R's SYN while R sits in SYN-RECEIVED: R is ESTABLISHED. */
static int ack_completes_open(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s,
                              struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si], *R = &c->ep[!si];
	if (R->state != TP_SYN_RECEIVED || !R->syn_seen || !(s->flags & TP_TH_ACK))
		return 0;
	v->ack_checked = 1;
	v->expected_ack = acks_syn(R, s->ack) ? s->ack : R->isn + 1;
	v->seen_ack = s->ack;
	if (!acks_syn(R, s->ack)) {
		v->anomalies |= TP_ABIT(TP_A_HANDSHAKE_BAD_ACK);
		c->handshake = TP_HS_BAD_ACK;
		return 0;
	}
	R->state = TP_ESTABLISHED;
	if (S->state == TP_SYN_SENT || S->state == TP_SYN_RECEIVED || S->state == TP_UNKNOWN)
		S->state = c->sim_open ? S->state : TP_ESTABLISHED;
	if (R->state == TP_ESTABLISHED && S->state == TP_ESTABLISHED) {
		c->established = 1;
		if (c->handshake != TP_HS_BAD_ACK)
			c->handshake = c->sim_open ? TP_HS_SIMULTANEOUS : TP_HS_COMPLETE;
		tp_flood_half_open_done(an, c);
	}
	return 1;
}

/* Established by a handshake's ACK that the server has not yet shown it got:
 * a SYN-ACK sent again would still prove that ACK lost. */
static int hs_ack_pending(const struct tp_conn *c)
{
	return c->established && c->hs_ack_frame && !c->hs_ack_settled && !c->sim_open;
}

/*
 * The server resent its SYN-ACK after the handshake's ACK, and sent nothing
 * else since: its retransmission timer ran out in SYN-RECEIVED, so that ACK
 * never reached it. Unless the two crossed: the SYN-ACK must come more than
 * a round trip (SYN to SYN-ACK, as seen here) after the ACK. At the
 * client's side this proves the loss; at the server's side the ACK reached
 * the wire but not the server's TCP (a full accept queue drops it).
 */
static int handshake_ack_lost(const struct tp_conn *c, int si, const struct tp_segment *s)
{
	if (!hs_ack_pending(c) || c->hs_server != si || c->ep[si].pkts != (uint64_t)c->hs_server_pkts + 1)
		return 0;
	int64_t rtt = (c->syn_ns >= 0 && c->synack_ns >= c->syn_ns) ? c->synack_ns - c->syn_ns : 0;
	return s->ts_ns - c->hs_ack_ns > rtt;
}

/* Back to SYN-RECEIVED from the lost ACK on; the next ACK completes the open. */
static void lose_handshake_ack(struct tp_analyzer *an, struct tp_conn *c, int si, struct tp_verdict *v)
{
	v->anomalies |= TP_ABIT(TP_A_LOST_HANDSHAKE_ACK);
	tp_conn_amend_states(an, c, c->hs_ack_frame, TP_ABIT(TP_A_LOST_HANDSHAKE_ACK), si, TP_SYN_RECEIVED, TP_ESTABLISHED);
	c->ep[si].state = TP_SYN_RECEIVED;
	c->established = 0;
	c->handshake = TP_HS_HALF_OPEN;
	c->hs_ack_lost = 1;
	c->hs_ack_frame = 0;
	c->hs_ack_ns = -1;
}

static void on_synack(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s,
                      struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si], *R = &c->ep[!si];
	if (c->sim_open) {
		/* One of the two SYN-ACKs of a simultaneous open (RFC 9293 figure 8). */
		v->step = TP_STEP_SIM_SYNACK;
		if (S->synack_sent)
			v->rtx = 1;
		S->synack_sent = 1;
		ack_completes_open(an, c, si, s, v);
		return;
	}
	v->step = TP_STEP_HS_SYNACK;
	if (R->syn_seen) {
		v->ack_checked = 1;
		v->expected_ack = acks_syn(R, s->ack) ? s->ack : R->isn + 1;
		v->seen_ack = s->ack;
	}
	if (S->syn_seen && s->seq == S->isn) {
		v->rtx = 1;
		v->anomalies |= TP_ABIT(TP_A_SYNACK_RETRANSMIT);
		if (handshake_ack_lost(c, si, s))
			lose_handshake_ack(an, c, si, v);
		else if (!c->established && R->state == TP_ESTABLISHED)
			R->state = TP_UNKNOWN; /* it never answered the first one */
		/* S's earlier segment with this ISN may have been a plain SYN, so no
		 * SYN-ACK time may be known (synack_ns -1): then the delay is unknown
		 * too, not -1 minus the SYN's time. */
		if (c->syn_ns >= 0 && c->synack_ns >= 0)
			v->syn_to_synack_ns = c->synack_ns - c->syn_ns;
		return;
	}
	S->syn_seen = S->seq_set = S->synack_sent = 1;
	S->isn = s->seq;
	S->next_seq = s->seq + 1 + s->len;
	S->max_ack = s->ack;
	S->ack_seen = 1;
	/* Once the handshake's ACK was seen, its SYN-ACK is the one that ACK
	 * answered: a later SYN-ACK with a new ISN must not move synack_ns past
	 * hs_ack_ns (the record's synack_to_ack_ns would come out negative). */
	if (!c->hs_ack_frame) {
		c->synack_frame = s->frame;
		c->synack_ns = s->ts_ns;
	}
	if (c->syn_ns >= 0)
		v->syn_to_synack_ns = s->ts_ns - c->syn_ns;
	tp_flood_synack(an, c);
	if (R->syn_seen && !acks_syn(R, s->ack)) {
		/* The client would answer with RST; it is not ESTABLISHED. */
		v->anomalies |= TP_ABIT(TP_A_HANDSHAKE_BAD_ACK);
		c->handshake = TP_HS_BAD_ACK;
		set_states(c, si, TP_SYN_RECEIVED, TP_SYN_SENT);
		return;
	}
	if (!R->syn_seen)
		c->dir_inferred = 1; /* the SYN was not captured */
	c->handshake = TP_HS_HALF_OPEN; /* until the third segment */
	set_states(c, si, TP_SYN_RECEIVED, TP_ESTABLISHED);
}

/* ---- FIN, ACK and data -------------------------------------------------- */

/* The ACK part of a segment: does it acknowledge the peer's FIN? */
static int ack_of_fin(struct tp_conn *c, int si, const struct tp_segment *s, struct tp_verdict *v)
{
	struct tp_endpoint *R = &c->ep[!si];
	if (!(s->flags & TP_TH_ACK) || !R->fin_seen || R->fin_acked)
		return 0;
	if (!SEQ_GEQ(s->ack, R->fin_seq + 1))
		return 0;
	v->ack_checked = 1;
	v->expected_ack = R->fin_seq + 1;
	v->seen_ack = s->ack;
	if (s->ack != R->fin_seq + 1)
		v->anomalies |= TP_ABIT(TP_A_TEARDOWN_BAD_ACK);
	R->fin_acked = 1;
	switch (R->state) {
	case TP_FIN_WAIT_1:
		R->state = TP_FIN_WAIT_2;
		v->step = TP_STEP_FIN1_ACK;
		break;
	case TP_CLOSING: /* simultaneous close: each ACK ends one side */
		R->state = TP_TIME_WAIT;
		v->step = TP_STEP_SIM_FIN_ACK;
		if (c->time_wait_ns < 0)
			c->time_wait_ns = s->ts_ns;
		break;
	case TP_LAST_ACK:
		R->state = TP_CLOSED;
		v->step = TP_STEP_FINAL_ACK;
		if (c->final_ack_frame)
			v->rtx = 1; /* a second final ACK: the first was lost */
		c->final_ack_frame = s->frame;
		break;
	default:
		break;
	}
	if (is_closed_state(c->ep[0].state) && is_closed_state(c->ep[1].state) && c->close_ns < 0)
		c->close_ns = s->ts_ns;
	return 1;
}

/*
 * A FIN seen again. If the sender's FIN had been acknowledged and it sits in
 * CLOSED, the acknowledgement never reached it: it was still in LAST-ACK,
 * and the final ACK we saw was lost after the capture point.
 */
static void fin_again(struct tp_analyzer *an, struct tp_conn *c, int si, struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si], *R = &c->ep[!si];
	v->rtx = 1;
	v->step = S->fin_step;
	v->anomalies |= TP_ABIT(TP_A_FIN_RETRANSMIT);
	S->fin_resent = 1;
	/* After an RST ended the connection, S is CLOSED by the reset, not by a
	 * final ACK: its FIN seen again proves nothing about that ACK. (Taking
	 * it for a lost final ACK re-amended a final_ack_frame amended before the
	 * RST, counting its lost_final_ack twice, and revived LAST-ACK/TIME-WAIT
	 * after the reset.) */
	if (!S->fin_acked || c->ended)
		return;
	if (S->state == TP_CLOSED && c->final_ack_frame) {
		v->anomalies |= TP_ABIT(TP_A_LOST_FINAL_ACK);
		tp_conn_amend_states(an, c, c->final_ack_frame, TP_ABIT(TP_A_LOST_FINAL_ACK), si, TP_LAST_ACK,
		                     TP_TIME_WAIT);
		c->final_ack_lost = 1;
		S->state = TP_LAST_ACK;
		if (R->state != TP_TIME_WAIT)
			R->state = TP_TIME_WAIT;
		c->close_ns = -1;
	} else if (S->state == TP_FIN_WAIT_2) {
		S->state = TP_FIN_WAIT_1; /* the ACK of its FIN was lost downstream */
	}
	S->fin_acked = 0;
}

static void on_fin(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s, int acked_now,
                   struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si], *R = &c->ep[!si];
	uint32_t fin_seq = s->seq + s->len;
	if (S->fin_seen && fin_seq == S->fin_seq) {
		fin_again(an, c, si, v);
		return;
	}
	S->fin_seen = 1;
	S->fin_seq = fin_seq;
	S->fin_frame = s->frame;
	/* The teardown clock starts at the first FIN of a connection still alive.
	 * A FIN after an RST ended it closes nothing: counting it would put the
	 * first FIN after close_ns (the RST's time) and make fin_to_close_ns
	 * negative. */
	if (c->first_fin_ns < 0 && !c->ended)
		c->first_fin_ns = s->ts_ns;
	if (!R->fin_seen) {
		c->first_closer = (uint8_t)si;
		S->fin_step = TP_STEP_FIN1;
		set_states(c, si, TP_FIN_WAIT_1, TP_CLOSE_WAIT);
	} else if (R->fin_acked && !acked_now) {
		S->fin_step = TP_STEP_FIN2;
		set_states(c, si, TP_LAST_ACK, TP_TIME_WAIT);
	} else if (acked_now) {
		/* FIN and ACK of the peer's FIN in one segment: a 3-segment close. */
		S->fin_step = TP_STEP_FIN2_WITH_ACK;
		c->three_seg = 1;
		set_states(c, si, TP_LAST_ACK, TP_TIME_WAIT);
	} else {
		/* S sent its FIN before R's reached it: the FINs crossed. So R's
		 * FIN had not reached S either when S closed: S went from
		 * ESTABLISHED to FIN-WAIT-1, never through CLOSE-WAIT (which
		 * R's FIN's verdict showed), then to CLOSING. */
		S->fin_step = TP_STEP_SIM_FIN;
		v->anomalies |= TP_ABIT(TP_A_SIMULTANEOUS_CLOSE);
		c->sim_close = 1;
		tp_conn_amend_states(an, c, R->fin_frame, 0, si, TP_ESTABLISHED, TP_FIN_WAIT_1);
		set_states(c, si, TP_CLOSING, TP_CLOSING);
	}
	if (R->state == TP_TIME_WAIT && c->time_wait_ns < 0)
		c->time_wait_ns = s->ts_ns;
	v->step = S->fin_step;
}

/*
 * Wireshark's tcp.completeness as its GUI and `tshark -2` show it on a
 * stream's last frame (packet-tcp.c). A pure SYN counts only as the first
 * segment of a stream (with TFO data, DATA too). Any segment adds SYN-ACK,
 * DATA or ACK for ACK-only flags with or without payload, FIN only together
 * with ACK, and RST. Wireshark 4.0 adds these only for segments that do not
 * create the stream, and each frame shows the value from before its own
 * update; the first segment's update is made on the second pass, so its
 * flags show from the second segment on. 4.4 adds them for every segment.
 */
static uint8_t completeness_bits(const struct tp_segment *s)
{
	uint16_t f = s->flags;
	uint8_t b = 0;
	if ((f & (TP_TH_SYN | TP_TH_ACK)) == (TP_TH_SYN | TP_TH_ACK))
		b |= TP_COMPL_SYNACK;
	if ((f & (TP_TH_SYN | TP_TH_ACK)) == TP_TH_ACK)
		b |= s->len ? TP_COMPL_DATA : TP_COMPL_ACK;
	if ((f & (TP_TH_FIN | TP_TH_ACK)) == (TP_TH_FIN | TP_TH_ACK))
		b |= TP_COMPL_FIN;
	if (f & TP_TH_RST)
		b |= TP_COMPL_RST;
	return b;
}

static void completeness(struct tp_conn *c, const struct tp_segment *s, int first, int wireshark)
{
	if (first) {
		if ((s->flags & (TP_TH_SYN | TP_TH_ACK)) == TP_TH_SYN)
			c->completeness |= TP_COMPL_SYN | (s->len ? TP_COMPL_DATA : 0);
		if (wireshark == TP_WS_4_0) {
			c->compl_first = completeness_bits(s);
			return;
		}
	}
	c->completeness |= c->compl_first | completeness_bits(s);
}

/* First segment of a connection that is neither SYN nor SYN-ACK. */
static void join_midstream(struct tp_conn *c, struct tp_verdict *v)
{
	c->midstream = 1;
	c->dir_inferred = 1;
	c->handshake = TP_HS_NONE;
	c->ep[0].state = c->ep[1].state = TP_ESTABLISHED;
	v->anomalies |= TP_ABIT(TP_A_MIDSTREAM);
}

/*
 * A plain ACK (no SYN) from the receiver of a SYN still in SYN-SENT, that
 * does not acknowledge that SYN: it holds a synchronized connection on
 * this 4-tuple, an older one, and answers the SYN with a challenge ACK
 * carrying that connection's numbers (RFC 5961 4.2, RFC 9293 3.10.7.4).
 * Which state that older connection is in, the packets do not say.
 */
static int challenge_ack(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s,
                         struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si], *R = &c->ep[!si];
	if (S->syn_seen || !R->syn_seen || R->state != TP_SYN_SENT || c->sim_open || !(s->flags & TP_TH_ACK) ||
	    (s->flags & TP_TH_FIN) || acks_syn(R, s->ack))
		return 0;
	v->ack_checked = 1;
	v->expected_ack = R->isn + 1;
	v->seen_ack = s->ack;
	v->anomalies |= TP_ABIT(TP_A_HANDSHAKE_BAD_ACK);
	c->handshake = TP_HS_BAD_ACK;
	c->stale_peer = 1;
	S->state = TP_UNKNOWN;
	tp_conn_amend_states(an, c, c->syn_frame, 0, si, TP_UNKNOWN, TP_SYN_SENT);
	return 1;
}

static void on_other(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s,
                     struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si];
	if (!c->ep[0].seq_set && !c->ep[1].seq_set && !c->midstream)
		join_midstream(c, v);
	if (!S->seq_set) {
		S->seq_set = 1;
		S->isn = s->seq;
		S->next_seq = s->seq;
	}
	uint32_t end = s->seq + s->len + ((s->flags & TP_TH_FIN) ? 1 : 0);
	if (SEQ_GT(end, S->next_seq))
		S->next_seq = end;

	int was_closed = conn_closed(c) && !c->final_ack_lost;
	if (challenge_ack(an, c, si, s, v))
		return;
	int opened = ack_completes_open(an, c, si, s, v);
	if (opened && c->hs_ack_frame == 0) {
		v->step = TP_STEP_HS_ACK;
		v->rtx = c->hs_ack_lost;
		c->hs_ack_frame = s->frame;
		c->hs_ack_ns = s->ts_ns;
		c->hs_server = (uint8_t)!si;
		c->hs_server_pkts = (uint32_t)c->ep[!si].pkts;
		if (c->syn_ns >= 0 && c->synack_ns >= 0)
			v->syn_to_synack_ns = c->synack_ns - c->syn_ns;
		if (c->synack_ns >= 0)
			v->synack_to_ack_ns = s->ts_ns - c->synack_ns;
	}
	int acked_now = ack_of_fin(c, si, s, v);
	if (s->flags & TP_TH_FIN)
		on_fin(an, c, si, s, acked_now, v);
	if (was_closed && !v->rtx && v->step != TP_STEP_FINAL_ACK)
		v->anomalies |= TP_ABIT(TP_A_AFTER_CLOSE);
	if (s->len && !c->established && !c->midstream && c->handshake != TP_HS_NONE)
		v->anomalies |= TP_ABIT(TP_A_DATA_BEFORE_HANDSHAKE);
}

static uint8_t phase_of(const struct tp_conn *c, const struct tp_verdict *v)
{
	if (v->anomalies & TP_ABIT(TP_A_AFTER_CLOSE))
		return TP_PHASE_CLOSED;
	if (v->step == TP_STEP_RST)
		return TP_PHASE_RESET;
	if (HS_STEP(v->step))
		return TP_PHASE_HANDSHAKE;
	if (v->step != TP_STEP_NONE || c->first_fin_ns >= 0)
		return TP_PHASE_TEARDOWN;
	if (c->midstream)
		return TP_PHASE_MIDSTREAM;
	if (!c->established)
		return TP_PHASE_HANDSHAKE;
	return TP_PHASE_DATA;
}

void tp_conn_segment(struct tp_analyzer *an, struct tp_conn *c, const struct tp_segment *s, int from_orig,
                     struct tp_verdict *v)
{
	int si = from_orig ? 0 : 1;
	struct tp_endpoint *S = &c->ep[si];

	memset(v, 0, sizeof *v);
	v->frame = s->frame;
	v->ts_ns = s->ts_ns;
	v->conn = c->idx;
	v->first_frame = c->first_frame;
	v->dir = (uint8_t)si;
	v->flags = s->flags;
	v->len = s->len;
	v->syn_to_synack_ns = v->synack_to_ack_ns = -1;

	c->last_ns = s->ts_ns;
	completeness(c, s, c->ep[0].pkts + c->ep[1].pkts == 0, an->cfg.wireshark);
	S->pkts++;
	S->ip_bytes += s->ip_len;
	tp_zeek_segment(&c->zeek, s, from_orig == c->a_is_orig, an->cfg.checksum_verify);

	if (an->cfg.checksum_verify && s->checksum == TP_CSUM_BAD) {
		/* The receiver drops it; so must our view of its state. */
		v->anomalies |= TP_ABIT(TP_A_BAD_CHECKSUM);
		an->stats.bad_checksum++;
	} else {
		if (s->flags & TP_TH_ACK) {
			if (!S->ack_seen || SEQ_GT(s->ack, S->max_ack))
				S->max_ack = s->ack;
			S->ack_seen = 1;
		}
		S->window = (uint32_t)s->window << (S->wscale & 15);
		if (bad_flags(s->flags))
			v->anomalies |= TP_ABIT(TP_A_BAD_FLAGS);
		uint16_t f = s->flags;
		/* payload wholly inside what S had sent: a retransmission */
		int data_resent = S->seq_set && s->len && !(f & (TP_TH_SYN | TP_TH_FIN | TP_TH_RST)) &&
		                  SEQ_LEQ(s->seq + s->len, S->next_seq);
		if ((f & TP_TH_SYN) && (f & (TP_TH_RST | TP_TH_FIN)))
			; /* bad_flags already; such a segment drives no transition */
		else if (f & TP_TH_RST)
			on_rst(an, c, si, s, v);
		else if ((f & TP_TH_SYN) && (f & TP_TH_ACK))
			on_synack(an, c, si, s, v);
		else if (f & TP_TH_SYN)
			on_syn(an, c, si, s, v);
		else if (f & (TP_TH_ACK | TP_TH_FIN))
			on_other(an, c, si, s, v);
		if ((f & TP_TH_SYN) && s->wscale >= 0)
			S->wscale = (uint8_t)s->wscale;
		tp_echo_segment(an, c, si, s, data_resent, v);
	}

	if (c->hs_ack_frame && si == c->hs_server && !(s->flags & TP_TH_SYN) && s->frame != c->hs_ack_frame)
		c->hs_ack_settled = 1;
	c->last_from = (uint8_t)si;
	v->dir_inferred = c->dir_inferred;
	v->phase = phase_of(c, v);
	v->orig_state = c->ep[0].state;
	v->resp_state = c->ep[1].state;
	c->anomalies |= v->anomalies;
	an->stats.segments++;
	for (tp_anomaly_set m = v->anomalies; m;)
		an->stats.anomalies[tp_anomaly_pop(&m)]++;
}

/*
 * Wireshark's rule for tcp.stream, which Zeek's uids follow in practice: a
 * SYN (without ACK) whose sequence number differs from the first one its
 * sender used on this 4-tuple starts a new connection; the same number is a
 * retransmission, whatever the state.
 */
int tp_conn_is_new_syn(const struct tp_conn *c, const struct tp_segment *s, int from_orig, int wireshark)
{
	const struct tp_endpoint *S = &c->ep[from_orig ? 0 : 1];
	uint16_t syn_ack = s->flags & (TP_TH_SYN | TP_TH_ACK);
	if (wireshark == TP_WS_4_0)
		return syn_ack == TP_TH_SYN && S->seq_set && s->seq != S->isn;
	if (!(syn_ack & TP_TH_SYN))
		return 0;
	return (S->seq_set && s->seq != S->isn) || (c->completeness & (TP_COMPL_FIN | TP_COMPL_RST));
}

/* ---- timers and the end ------------------------------------------------- */

enum tp_timer_class tp_conn_timer_class(const struct tp_conn *c)
{
	if (conn_closed(c))
		return TP_T_CLOSED;
	if (hs_ack_pending(c) && !c->ep[0].fin_seen && !c->ep[1].fin_seen)
		return TP_T_HS_ACK;
	if (c->established || c->midstream)
		return (c->ep[0].fin_seen || c->ep[1].fin_seen) ? TP_T_HALF_CLOSED : TP_T_OPEN;
	if (c->late_done)
		return TP_T_HANDSHAKE;
	if (c->synack_frame)
		return TP_T_SYNACK;
	if (c->syn_frame)
		return TP_T_SYN;
	return TP_T_HANDSHAKE;
}

void tp_conn_settle(struct tp_analyzer *an, struct tp_conn *c, int at_end)
{
	if (!c->established && !c->midstream && !c->ended && !c->late_done) {
		if (c->synack_frame && c->handshake == TP_HS_HALF_OPEN) {
			/* The server waits in SYN-RECEIVED for an ACK that never
			 * came. A client that never answered (a spoofed source, a
			 * host gone) may never have had the SYN-ACK: its state is
			 * unknown, unless it did ACK once (the ACK was lost). */
			int srv = c->ep[1].synack_sent ? 1 : 0;
			if (c->hs_ack_lost) {
				tp_conn_amend(an, c, c->synack_frame, TP_ABIT(TP_A_HALF_OPEN), -1, -1);
			} else {
				tp_conn_amend_states(an, c, c->synack_frame, TP_ABIT(TP_A_HALF_OPEN), srv,
				                     TP_SYN_RECEIVED, TP_UNKNOWN);
				c->ep[!srv].state = TP_UNKNOWN;
			}
			c->late_done = 1;
		} else if (c->syn_frame && !c->synack_frame && c->handshake == TP_HS_UNANSWERED) {
			/* Nothing says whether the SYN reached its receiver (dropped on
			 * the way, by a firewall, by a full backlog) or what it did. */
			int cli = c->ep[1].syn_seen ? 1 : 0;
			tp_conn_amend_states(an, c, c->syn_frame, TP_ABIT(TP_A_SYN_UNANSWERED), cli, TP_SYN_SENT, TP_UNKNOWN);
			c->ep[!cli].state = TP_UNKNOWN;
			c->late_done = 1;
		}
		if (c->late_done)
			tp_flood_half_open_done(an, c);
	}
	int closer = c->first_closer;
	if (closer != 0xff && !c->ep[!closer].fin_seen && !c->ended &&
	    !(c->anomalies & TP_ABIT(TP_A_HALF_CLOSED)) &&
	    (at_end || c->tclass == TP_T_HALF_CLOSED))
		tp_conn_amend(an, c, c->ep[closer].fin_frame, TP_ABIT(TP_A_HALF_CLOSED), -1, -1);
	if (at_end) {
		/* A FIN sent again and still unacknowledged at the end: the
		 * LAST-ACK side waited out its RTO without a final ACK. A FIN
		 * sent once proves nothing here: the capture may just have
		 * stopped before the ACK (it follows within a round trip). */
		for (int i = 0; i < 2; i++) {
			const struct tp_endpoint *e = &c->ep[i];
			if (e->state == TP_LAST_ACK && !e->fin_acked && e->fin_resent && !c->ended &&
			    !(c->anomalies & TP_ABIT(TP_A_LOST_FINAL_ACK)))
				tp_conn_amend(an, c, e->fin_frame, TP_ABIT(TP_A_LOST_FINAL_ACK), -1, -1);
		}
	}
}

/*
 * Where tp_conn_settle, fin_again, lose_handshake_ack and a flood (flood.c,
 * mark_earlier) may still amend: the handshake's frames while its late
 * verdict is out or a flood may still count its SYN, or while the server
 * has not yet shown that the handshake's ACK reached it (all from
 * first_frame on); an endpoint's last FIN and the final ACK. The flags read
 * here are only ever set, but for established, which lose_handshake_ack
 * clears only while the bound is first_frame already; frames only move
 * forward. So a bound once passed stays passed.
 */
uint64_t tp_conn_amendable_from(const struct tp_conn *c)
{
	if (((!c->established && !c->midstream) || hs_ack_pending(c)) && (!c->late_done || c->counted_half_open))
		return c->first_frame; /* no frame of it comes before */
	uint64_t lo = UINT64_MAX;
	const uint64_t fin[] = { c->ep[0].fin_frame, c->ep[1].fin_frame, c->final_ack_frame };
	for (size_t i = 0; i < sizeof fin / sizeof fin[0]; i++)
		if (fin[i] && fin[i] < lo)
			lo = fin[i];
	return lo;
}

static uint8_t teardown_of(const struct tp_conn *c)
{
	if (c->teardown == TP_TD_RESET_ORIG || c->teardown == TP_TD_RESET_RESP)
		return c->teardown;
	int f0 = c->ep[0].fin_seen, f1 = c->ep[1].fin_seen;
	if (!f0 && !f1)
		return TP_TD_NONE;
	if (!f0 || !f1)
		return TP_TD_HALF_CLOSED;
	if (!(is_closed_state(c->ep[0].state) && is_closed_state(c->ep[1].state)))
		return TP_TD_INCOMPLETE;
	if (c->sim_close)
		return TP_TD_SIMULTANEOUS;
	return c->three_seg ? TP_TD_THREE_SEG : TP_TD_FOUR_WAY;
}

void tp_conn_record(const struct tp_analyzer *an, const struct tp_conn *c, enum tp_end_reason why,
                    struct tp_conn_record *r)
{
	memset(r, 0, sizeof *r);
	r->conn = c->idx;
	r->first_frame = c->first_frame;
	r->orig_h = c->addr[0];
	r->resp_h = c->addr[1];
	r->orig_p = c->port[0];
	r->resp_p = c->port[1];
	r->context = c->context;
	r->dir_inferred = c->dir_inferred;
	r->start_ns = c->start_ns;
	r->last_ns = c->last_ns;
	r->orig_pkts = c->ep[0].pkts;
	r->resp_pkts = c->ep[1].pkts;
	r->orig_ip_bytes = c->ep[0].ip_bytes;
	r->resp_ip_bytes = c->ep[1].ip_bytes;
	/* Zeek may have picked the other originator; bytes follow our orientation. */
	int same = (c->a_is_orig != 0) == (tp_zeek_orig_is_a(&c->zeek) != 0);
	r->orig_bytes = tp_zeek_size(&c->zeek, same);
	r->resp_bytes = tp_zeek_size(&c->zeek, !same);
	r->handshake = c->handshake;
	r->teardown = teardown_of(c);
	r->orig_state = c->ep[0].state;
	r->resp_state = c->ep[1].state;
	r->completeness = c->completeness;
	r->end_reason = (uint8_t)why;
	r->anomalies = c->anomalies;
	r->syn_to_synack_ns = (c->syn_ns >= 0 && c->synack_ns >= 0) ? c->synack_ns - c->syn_ns : -1;
	r->synack_to_ack_ns = (c->synack_ns >= 0 && c->hs_ack_ns >= 0) ? c->hs_ack_ns - c->synack_ns : -1;
	r->fin_to_close_ns = (c->first_fin_ns >= 0 && c->close_ns >= 0) ? c->close_ns - c->first_fin_ns : -1;
	r->time_wait_ns = c->time_wait_ns >= 0 ? an->now_ns - c->time_wait_ns : -1;
	snprintf(r->conn_state, sizeof r->conn_state, "%s", tp_zeek_conn_state(&c->zeek));
	snprintf(r->history, sizeof r->history, "%s", c->zeek.history);
}
