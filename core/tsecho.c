/*
 * tsecho.c - which transmission arrived: TCP timestamps (RFC 7323) as
 * evidence for a passive observer.
 *
 * At the vantage of a sender that retransmits its FIN (or its SYN-ACK) and is
 * then acknowledged, the capture looks the same whether the first
 * transmission or the peer's ACKs of it were lost. The peer's ACK tells them
 * apart: its TSecr echoes TS.Recent, the TSval of a segment the peer
 * received (RFC 7323 3.2, 4.3), which is how Eifel detection (RFC 3522)
 * finds spurious retransmissions. Here:
 *
 *   - an echo of the first transmission's TSval proves the first
 *     transmission arrived, so every retransmission answered a lost (or
 *     late) ACK; for the second FIN of a close (the LAST-ACK side's), that is
 *     lost_final_ack, and for a SYN-ACK lost_handshake_ack, both provable
 *     at either vantage;
 *   - an echo of the latest transmission proves that one arrived and nothing
 *     about the earlier ones: a receiver may take the TSval of a duplicate
 *     into TS.Recent (RFC 7323 4.3: SEG.SEQ <= Last.ACK.sent), so the echo
 *     does not show that the first was lost. No conclusion;
 *   - a TSval carried by more than one segment of the sender (several sent
 *     within one tick of its timestamp clock) names none of them: a tie, no
 *     conclusion. So is an echo of any other value.
 *
 * Only the peer's first ACK of the segment after its latest transmission is
 * judged (Eifel's first acceptable ACK); the verdict shows the echo and the
 * frame whose TSval it names, so the evidence is on the segment itself.
 */
#include <string.h>

#include "internal.h"

/* TSvals are compared as sequence numbers are (RFC 7323 5.2). */
#define TS_GEQ(a, b) SEQ_GEQ(a, b)

/* Which of S's tracked segments s is a transmission of. */
static enum tp_tx_kind transmission_of(const struct tp_endpoint *S, const struct tp_segment *s)
{
	uint16_t f = s->flags;
	if (f & TP_TH_RST)
		return TP_TX_NONE;
	if ((f & (TP_TH_SYN | TP_TH_ACK | TP_TH_FIN)) == (TP_TH_SYN | TP_TH_ACK) && S->syn_seen && s->seq == S->isn)
		return TP_TX_SYNACK;
	if ((f & (TP_TH_FIN | TP_TH_SYN)) == TP_TH_FIN && S->fin_seen && s->seq + s->len == S->fin_seq)
		return TP_TX_FIN;
	return TP_TX_NONE;
}

/* A segment of S carrying tsval: the tracked transmissions whose TSval it
 * shares are no longer alone in carrying it. */
static void note_shared(struct tp_tx *t, uint32_t tsval)
{
	if (!t->n)
		return;
	if (t->first_has_ts && t->first_ts == tsval)
		t->first_alone = 0;
	if (t->last_has_ts && t->last_ts == tsval)
		t->last_alone = 0;
}

static void tx_sent(struct tp_endpoint *S, enum tp_tx_kind kind, const struct tp_segment *s)
{
	struct tp_tx *t = &S->tx;
	uint32_t seq = kind == TP_TX_FIN ? S->fin_seq : S->isn;
	/* Alone so far if it is above every TSval S sent before: TSvals never go
	 * down (RFC 7323 5.4), so an equal one would be at the top. A TSval
	 * below the top (reordered in the capture) may equal an earlier one. */
	int alone = s->has_ts && !(S->ts_seen && TS_GEQ(S->ts_max, s->tsval));
	if (t->kind != kind || t->seq != seq || !t->n) {
		memset(t, 0, sizeof *t);
		t->kind = (uint8_t)kind;
		t->seq = seq;
		t->first_frame = s->frame;
		t->first_ts = s->tsval;
		t->first_has_ts = s->has_ts ? 1 : 0;
		t->first_alone = (uint8_t)alone;
	}
	t->last_frame = s->frame;
	t->last_ts = s->tsval;
	t->last_has_ts = s->has_ts ? 1 : 0;
	t->last_alone = (uint8_t)alone;
	if (t->n < 255)
		t->n++;
	t->judged = 0;
}

/* Does s acknowledge the segment R's tx tracks (ISS < SEG.ACK, RFC 9293 3.4)? */
static int acks_tx(const struct tp_endpoint *R, const struct tp_segment *s)
{
	return R->tx.n && (s->flags & TP_TH_ACK) && !(s->flags & TP_TH_RST) && SEQ_GT(s->ack, R->tx.seq);
}

static enum tp_echo echo_of(const struct tp_tx *t, const struct tp_segment *s, uint64_t *frame)
{
	*frame = 0;
	if (!s->has_ts || !(t->first_has_ts || t->last_has_ts))
		return TP_ECHO_NO_TS;
	if (t->first_has_ts && s->tsecr == t->first_ts) {
		if (!t->first_alone)
			return TP_ECHO_TIE;
		*frame = t->first_frame;
		return TP_ECHO_FIRST;
	}
	if (t->last_has_ts && s->tsecr == t->last_ts) {
		if (!t->last_alone)
			return TP_ECHO_TIE;
		*frame = t->last_frame;
		return TP_ECHO_LATER;
	}
	return TP_ECHO_OTHER;
}

/* The peer's first ACK of R's segment since its latest transmission. */
static void judge(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s,
                  struct tp_verdict *v)
{
	struct tp_endpoint *R = &c->ep[!si];
	struct tp_tx *t = &R->tx;
	t->judged = 1;
	if (t->n < 2)
		return; /* sent once: nothing to tell apart */
	v->echo = (uint8_t)echo_of(t, s, &v->echoed_frame);
	if (v->echo != TP_ECHO_FIRST)
		return;
	if (t->kind == TP_TX_SYNACK) {
		/* R's first SYN-ACK arrived, and its peer answers a SYN-ACK at
		 * once: that ACK never reached R's TCP, which resent the SYN-ACK
		 * from SYN-RECEIVED. At R's side the lost ACK is not in the
		 * capture: the verdict goes on this ACK and on the SYN-ACK sent
		 * again. At the peer's side conn.c proved it already. */
		if (!((c->anomalies | v->anomalies) & TP_ABIT(TP_A_LOST_HANDSHAKE_ACK))) {
			v->anomalies |= TP_ABIT(TP_A_LOST_HANDSHAKE_ACK);
			/* and the peer was ESTABLISHED when R resent it, not unknown */
			tp_conn_amend_states(an, c, t->last_frame, TP_ABIT(TP_A_LOST_HANDSHAKE_ACK), si, TP_ESTABLISHED,
			                     TP_SYN_RECEIVED);
		}
		return;
	}
	if (t->kind != TP_TX_FIN)
		return;
	/* R's FIN arrived the first time. If it was the second FIN of the close
	 * (R in LAST-ACK), every final ACK before this one was lost (or came
	 * after R's timeout): lost_final_ack, on the FIN whose ACK never came and
	 * on this late ACK, as tp_conn_settle marks a FIN never acknowledged.
	 * Not if fin_again already proved it at this vantage, from a final ACK
	 * that the capture saw before R sent its FIN again. */
	if ((R->fin_step == TP_STEP_FIN2 || R->fin_step == TP_STEP_FIN2_WITH_ACK) && c->ep[si].fin_seen &&
	    !c->ended && !((c->anomalies | v->anomalies) & TP_ABIT(TP_A_LOST_FINAL_ACK))) {
		v->anomalies |= TP_ABIT(TP_A_LOST_FINAL_ACK);
		tp_conn_amend(an, c, R->fin_frame, TP_ABIT(TP_A_LOST_FINAL_ACK), -1, -1);
	}
}

/*
 * Eifel detection proper (RFC 3522 2): data sent again, then the first ACK
 * that covers it echoes a TSval older than the resend's. That ACK answers a
 * transmission before the resend, which therefore was not needed (the ACK
 * was late or lost, not the data). An echo of the resend's TSval, or of one
 * as new (sent within the same clock tick), proves nothing.
 */
static void judge_data(struct tp_conn *c, int si, const struct tp_segment *s, struct tp_verdict *v)
{
	struct tp_endpoint *R = &c->ep[!si];
	if (!R->rtx_pending || !(s->flags & TP_TH_ACK) || !SEQ_GEQ(s->ack, R->rtx_end))
		return;
	R->rtx_pending = 0;
	if (!s->has_ts || TS_GEQ(s->tsecr, R->rtx_ts))
		return;
	v->anomalies |= TP_ABIT(TP_A_SPURIOUS_RETRANSMIT);
	if (v->echo == TP_ECHO_NONE)
		v->echo = TP_ECHO_FIRST;
}

void tp_echo_segment(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s,
                     int data_resent, struct tp_verdict *v)
{
	struct tp_endpoint *S = &c->ep[si];
	/* the first resend of data not yet judged: what Eifel compares with */
	if (data_resent && s->has_ts && !S->rtx_pending) {
		S->rtx_pending = 1;
		S->rtx_end = s->seq + s->len;
		S->rtx_ts = s->tsval;
	}
	judge_data(c, si, s, v);
	enum tp_tx_kind kind = transmission_of(S, s);
	if (s->has_ts)
		note_shared(&S->tx, s->tsval);
	if (kind != TP_TX_NONE)
		tx_sent(S, kind, s);
	if (s->has_ts) {
		if (!S->ts_seen || TS_GEQ(s->tsval, S->ts_max))
			S->ts_max = s->tsval;
		S->ts_seen = 1;
	}
	if (acks_tx(&c->ep[!si], s) && !c->ep[!si].tx.judged)
		judge(an, c, si, s, v);
}
