/*
 * zeek.c - Zeek's per-connection TCP bookkeeping, so that our records carry
 * the conn_state and history Zeek's conn.log would show.
 *
 * Each function names the Zeek function it mirrors. Zeek's content-gap
 * letter (g/G) comes from its payload reassembler, which we do not run: see
 * the README's "Agreement" section.
 */
#include <ctype.h>
#include <string.h>

#include "zeek.h"

#define TOO_LARGE_SEQ_DELTA 1048576

/* Zeek's HIST_* masks; the responder's are shifted left by 16. */
enum { H_SYN = 0x1, H_FIN = 0x2, H_RST = 0x4, H_FIN_RST = 0x8, H_DATA = 0x10, H_ACK = 0x20, H_MULTI = 0x40 };

static int32_t seq_delta(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* Ports Zeek's default scripts register for their analyzers (likely_server_ports). */
static const uint16_t default_server_ports[] = {
	21, 22, 23, 25, 53, 80, 81, 88, 110, 111, 135, 139, 143, 261, 389, 443, 445, 448, 465, 502, 514, 563,
	585, 587, 614, 631, 636, 989, 990, 992, 993, 994, 995, 1080, 1883, 2811, 3128, 3268, 3306, 3389, 5222,
	5223, 5269, 5432, 5900, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000, 44818,
};

void tp_zeek_portmap_init(tp_zeek_portmap map, const uint16_t *ports, uint32_t n)
{
	memset(map, 0, sizeof(tp_zeek_portmap));
	if (!ports) {
		ports = default_server_ports;
		n = sizeof default_server_ports / sizeof default_server_ports[0];
	}
	for (uint32_t i = 0; i < n; i++)
		map[ports[i] >> 3] |= (uint8_t)(1u << (ports[i] & 7));
}

/* Zeek's defaults (analyzer-independent): tcp_close_delay, tcp_attempt_delay,
 * tcp_inactivity_timeout. */
#define NS_PER_S 1000000000LL
#define CLOSE_DELAY_NS (5 * NS_PER_S)
#define ATTEMPT_DELAY_NS (5 * NS_PER_S)
#define INACTIVITY_NS (300 * NS_PER_S)

/* ---- history (Connection::AddHistory/CheckHistory/ScaledHistoryEntry) ---- */

static int is_orig(const struct tp_zeek *z, int e)
{
	return (e == 0) == (z->orig_is_a != 0);
}

static void add_letter(struct tp_zeek *z, char c)
{
	if (z->hist_len < TP_HISTORY_MAX) {
		z->history[z->hist_len++] = c;
		z->history[z->hist_len] = '\0';
	}
}

static void add_history(struct tp_zeek *z, int e, char code)
{
	add_letter(z, is_orig(z, e) ? code : (char)tolower((unsigned char)code));
}

/* Records the letter the first time; true if it had been seen before. */
static int check_history(struct tp_zeek *z, int e, uint32_t mask, char code)
{
	if (!is_orig(z, e)) {
		mask <<= 16;
		code = (char)tolower((unsigned char)code);
	}
	if (z->hist_seen & mask)
		return 1;
	z->hist_seen |= mask;
	add_letter(z, code);
	return 0;
}

/* Letters that repeat at the 1st, 10th, 100th ... occurrence. */
static void scaled_entry(struct tp_zeek *z, int e, char code, uint32_t *cnt, uint32_t *thresh)
{
	if (++*cnt == *thresh) {
		add_history(z, e, code);
		*thresh = *thresh >= 0x19999999U ? 0xffffffffU : *thresh * 10;
	}
}

/* ---- sequence space (TCP_Endpoint) -------------------------------------- */

static void init_seq(struct tp_zeek_endpoint *p, uint32_t start, uint32_t last)
{
	p->start_seq = p->ack_seq = start;
	p->last_seq = last;
	p->seq_wraps = p->ack_wraps = 0;
}

static void update_last(struct tp_zeek_endpoint *p, uint32_t v)
{
	if (v < p->last_seq)
		p->seq_wraps++;
	p->last_seq = v;
}

static uint64_t full_seq(uint32_t seq, uint32_t wraps)
{
	return (uint64_t)wraps << 32 | seq;
}

/* TCPSessionAdapter get_relative_seq() */
static uint64_t relative_seq(const struct tp_zeek_endpoint *p, uint32_t cur, uint32_t last, uint32_t wraps,
                             int *underflow)
{
	int32_t delta = seq_delta(cur, last);
	if (delta < 0) {
		if (wraps && cur > last)
			--wraps;
	} else if (delta > 0) {
		if (cur < last)
			++wraps;
	}
	if (wraps == 0) {
		delta = seq_delta(cur, p->start_seq);
		if (underflow && delta < 0)
			*underflow = 1;
		return (uint64_t)(int64_t)delta;
	}
	return full_seq(cur, wraps) - p->start_seq;
}

/* TCP_Endpoint::Size() */
static uint64_t ep_size(const struct tp_zeek_endpoint *p, const struct tp_zeek_endpoint *peer)
{
	if (p->prev_state == TP_ZEEK_SYN_SENT && p->state == TP_ZEEK_RESET && peer->state == TP_ZEEK_INACTIVE &&
	    p->ack_seq != p->start_seq + 1 && p->ack_seq != p->start_seq)
		return 0; /* a half-open connection discovered and aborted */
	uint64_t last = full_seq(p->last_seq, p->seq_wraps), ack = full_seq(p->ack_seq, p->ack_wraps);
	uint64_t size = (last > ack ? last : ack) - p->start_seq;
	if (size)
		--size; /* the SYN octet */
	if (p->fin_cnt && size)
		--size; /* the FIN octet */
	return size;
}

static void set_state(struct tp_zeek_endpoint *p, uint8_t st)
{
	if (st != p->state) {
		p->prev_state = p->state;
		p->state = st;
	}
}

/* ---- role flips --------------------------------------------------------- */

/* Connection::FlipRoles(): the endpoints swap roles and '^' is appended. */
static void flip_roles(struct tp_zeek *z)
{
	z->orig_is_a = !z->orig_is_a;
	z->leading_synack = 0;
	add_letter(z, '^');
}

/*
 * A connection that began with a SYN-ACK the port heuristic left alone is
 * flipped at the first ACK or data segment that follows, in either
 * direction (Zeek PR 2191: stealth scans draw only RSTs or nothing). Zeek's
 * logs then read as if the flip came first: "^h..." for the SYN-ACK.
 */
static void flip_after_synack(struct tp_zeek *z)
{
	char tmp[TP_HISTORY_MAX + 1];
	size_t n = 0;
	tmp[n++] = '^';
	for (int i = 0; i < z->hist_len && n < TP_HISTORY_MAX; i++) {
		unsigned char c = (unsigned char)z->history[i];
		tmp[n++] = (char)(isupper(c) ? tolower(c) : toupper(c));
	}
	tmp[n] = '\0';
	memcpy(z->history, tmp, n + 1);
	z->hist_len = (uint8_t)n;
	z->hist_seen = (z->hist_seen << 16) | (z->hist_seen >> 16);
	z->orig_is_a = !z->orig_is_a;
	z->leading_synack = 0;
}

/* TCPAnalyzer::WantConnection(): guess the true responder from the ports. */
static int want_flip(const struct tp_segment *s, const uint8_t *portmap)
{
	uint16_t f = s->flags;
	if ((f & TP_TH_SYN) && !(f & TP_TH_ACK))
		return 0;
	if (!tp_zeek_likely_server_port(portmap, s->sport))
		return 0;
	if (tp_zeek_likely_server_port(portmap, s->dport))
		return !(f & TP_TH_SYN) && s->sport < s->dport; /* both plausible */
	return 1;
}

void tp_zeek_init(struct tp_zeek *z, const struct tp_segment *first, const uint8_t *portmap)
{
	memset(z, 0, sizeof *z);
	for (int i = 0; i < 2; i++)
		z->ep[i].rxmt_thresh = z->ep[i].win0_thresh = z->ep[i].chk_thresh = 1;
	z->orig_is_a = 1;
	z->close_ns = z->attempt_ns = -1;
	if (want_flip(first, portmap))
		flip_roles(z);
	else if ((first->flags & (TP_TH_SYN | TP_TH_ACK)) == (TP_TH_SYN | TP_TH_ACK))
		z->leading_synack = 1;
}

/* ---- per-packet bookkeeping (TCPAnalyzer::DeliverPacket / Process) ------ */

/* init_endpoint() */
static void init_endpoint(struct tp_zeek_endpoint *p, uint16_t f, uint32_t seq, uint32_t last)
{
	int syn = (f & TP_TH_SYN) != 0;
	switch (p->state) {
	case TP_ZEEK_INACTIVE:
		if (syn)
			init_seq(p, seq, last);
		else /* partial: number as though a SYN had been seen */
			init_seq(p, seq - 1, seq);
		break;
	case TP_ZEEK_SYN_SENT:
	case TP_ZEEK_SYN_ACK_SENT:
	case TP_ZEEK_ESTABLISHED:
	case TP_ZEEK_PARTIAL:
		if (syn && (seq != p->start_seq || p->state == TP_ZEEK_ESTABLISHED || p->state == TP_ZEEK_PARTIAL))
			init_seq(p, seq, last);
		break;
	case TP_ZEEK_RESET:
		if (syn && p->prev_state == TP_ZEEK_INACTIVE)
			init_seq(p, seq, last);
		break;
	default: break;
	}
}

/* update_history() */
static void update_history(struct tp_zeek *z, int e, uint16_t f, uint64_t rel_seq, uint32_t len)
{
	struct tp_zeek_endpoint *p = &z->ep[e];
	int syn = (f & TP_TH_SYN) != 0, fin = (f & TP_TH_FIN) != 0, rst = (f & TP_TH_RST) != 0;
	int bits = syn + fin + rst;
	if (bits > 1) {
		if (fin && rst)
			check_history(z, e, H_FIN_RST, 'I');
		else
			check_history(z, e, H_MULTI, 'Q');
	} else if (bits == 1) {
		if (syn) {
			char code = (f & TP_TH_ACK) ? 'H' : 'S';
			if (check_history(z, e, H_SYN, code) && rel_seq != p->hist_last_syn)
				add_history(z, e, code);
			p->hist_last_syn = rel_seq;
		}
		if (fin) { /* a FIN's number comes after its data */
			if (check_history(z, e, H_FIN, 'F') && rel_seq + len != p->hist_last_fin)
				add_history(z, e, 'F');
			p->hist_last_fin = rel_seq + len;
		}
		if (rst) {
			if (check_history(z, e, H_RST, 'R') && rel_seq != p->hist_last_rst)
				add_history(z, e, 'R');
			p->hist_last_rst = rel_seq;
		}
	} else if (len) {
		check_history(z, e, H_DATA, 'D');
	} else if (f & TP_TH_ACK) {
		check_history(z, e, H_ACK, 'A');
	}
}

/* init_peer(): number the peer's space from the first ACK we see of it. */
static void init_peer(struct tp_zeek_endpoint *peer, uint32_t ack)
{
	init_seq(peer, ack - 1, ack - 1);
}

/* update_ack_seq() */
static void update_ack(struct tp_zeek_endpoint *p, uint32_t ack)
{
	int32_t d = seq_delta(ack, p->ack_seq);
	if (ack == 0 && d > TOO_LARGE_SEQ_DELTA)
		return; /* a broken ack, not a wrap to exactly 0 */
	if (d > 0) {
		if (ack < p->ack_seq)
			p->ack_wraps++;
		p->ack_seq = ack;
	}
}

/* update_last_seq(): returns how far the segment moved the sender's edge. */
static int32_t update_last_seq(struct tp_zeek *z, int e, uint32_t last, uint16_t f, uint32_t len)
{
	struct tp_zeek_endpoint *p = &z->ep[e];
	int32_t d = seq_delta(last, p->last_seq);
	if ((f & (TP_TH_SYN | TP_TH_RST)) && (d > TOO_LARGE_SEQ_DELTA || d < -TOO_LARGE_SEQ_DELTA))
		; /* an outlandish SYN or RST number: do not trust it */
	else if ((f & TP_TH_FIN) && p->last_seq == p->start_seq + 1)
		update_last(p, last); /* >2 GB connections seen only by SYN and FIN */
	else if (p->state == TP_ZEEK_RESET)
		;
	else if (d > 0)
		update_last(p, last);
	else if (len > 0)
		scaled_entry(z, e, 'T', &p->rxmt_cnt, &p->rxmt_thresh); /* DidRxmit() */
	return d;
}

/* UpdateInactiveState(); returns Zeek's do_close. */
static int inactive_state(struct tp_zeek *z, int e, uint32_t seq, uint32_t len, uint16_t f, int64_t ts)
{
	struct tp_zeek_endpoint *p = &z->ep[e], *peer = &z->ep[!e];
	int orig = is_orig(z, e), do_close = 0;
	if (f & TP_TH_SYN) {
		if (orig) {
			set_state(p, (f & TP_TH_ACK) ? TP_ZEEK_SYN_ACK_SENT : TP_ZEEK_SYN_SENT);
			if (z->attempt_ns < 0)
				z->attempt_ns = ts; /* AttemptTimer after tcp_attempt_delay */
		} else {
			if (!(f & TP_TH_ACK) && peer->state == TP_ZEEK_SYN_ACK_SENT && seq == p->start_seq) {
				/* SYN and SYN-ACK captured in reverse order */
				flip_roles(z);
				set_state(peer, TP_ZEEK_ESTABLISHED);
			}
			if (peer->state == TP_ZEEK_SYN_SENT)
				set_state(peer, TP_ZEEK_ESTABLISHED);
			set_state(p, TP_ZEEK_ESTABLISHED);
		}
	}
	if (f & TP_TH_FIN) {
		set_state(p, TP_ZEEK_CLOSED);
		do_close = 1;
	}
	if (f & TP_TH_RST) {
		set_state(p, TP_ZEEK_RESET);
		do_close = 1;
	}
	if (p->state == TP_ZEEK_INACTIVE) { /* no control flags changed it */
		int o_syn_sent = z->ep[z->orig_is_a ? 0 : 1].state == TP_ZEEK_SYN_SENT;
		if (!orig && len == 0 && o_syn_sent)
			; /* an early ACK of the SYN before the SYN-ACK: not partial */
		else if ((f & TP_TH_ACK) && peer->state == TP_ZEEK_ESTABLISHED)
			set_state(p, TP_ZEEK_ESTABLISHED); /* missed only the SYN */
		else
			set_state(p, TP_ZEEK_PARTIAL);
	}
	return do_close;
}

/* UpdateStateMachine() and the per-state functions it calls; returns do_close. */
static int state_machine(struct tp_zeek *z, int e, uint32_t seq, uint32_t len, uint16_t f, int64_t ts)
{
	struct tp_zeek_endpoint *p = &z->ep[e], *peer = &z->ep[!e];
	int do_close = 0;
	switch (p->state) {
	case TP_ZEEK_INACTIVE:
		return inactive_state(z, e, seq, len, f, ts);
	case TP_ZEEK_SYN_SENT:
	case TP_ZEEK_SYN_ACK_SENT:
		if (f & TP_TH_FIN) {
			set_state(p, TP_ZEEK_CLOSED);
			do_close = 1;
		}
		if (f & TP_TH_RST) {
			set_state(p, TP_ZEEK_RESET);
			do_close = 1;
		}
		break;
	case TP_ZEEK_ESTABLISHED:
	case TP_ZEEK_PARTIAL:
		if ((f & TP_TH_SYN) && !(f & TP_TH_ACK) && p->state == TP_ZEEK_PARTIAL && peer->state == TP_ZEEK_INACTIVE)
			set_state(p, TP_ZEEK_SYN_SENT);
		if ((f & TP_TH_FIN) && !(f & TP_TH_RST)) {
			set_state(p, TP_ZEEK_CLOSED);
			/* the peer's FIN then RST was a normal close after all */
			if (peer->state == TP_ZEEK_RESET && peer->prev_state == TP_ZEEK_CLOSED)
				set_state(peer, TP_ZEEK_CLOSED);
			do_close = 1;
		}
		if (f & TP_TH_RST) {
			set_state(p, TP_ZEEK_RESET);
			do_close = 1;
		}
		break;
	case TP_ZEEK_CLOSED: /* UpdateClosedState(): RST after our FIN, unless both closed */
		if ((f & TP_TH_RST) && peer->state != TP_ZEEK_CLOSED) {
			set_state(p, TP_ZEEK_RESET);
			do_close = !p->did_close;
		}
		break;
	default:
		break;
	}
	return do_close;
}

/*
 * ConnectionClosed(): the first close of an endpoint completes the
 * connection's close when it is a reset, when the peer closed already, or
 * when the peer never sent anything. Zeek then deletes the connection
 * tcp_close_delay after its last time.
 */
static void connection_closed(struct tp_zeek *z, int e)
{
	struct tp_zeek_endpoint *p = &z->ep[e], *peer = &z->ep[!e];
	if (p->did_close)
		return;
	p->did_close = 1;
	if (z->close_ns < 0 && (p->state == TP_ZEEK_RESET || peer->did_close || peer->state == TP_ZEEK_INACTIVE))
		z->close_ns = z->last_ns;
}

void tp_zeek_segment(struct tp_zeek *z, const struct tp_segment *s, int from_a, int checksum_verify)
{
	int e = from_a ? 0 : 1;
	struct tp_zeek_endpoint *p = &z->ep[e], *peer = &z->ep[!e];
	uint16_t f = s->flags;

	if (checksum_verify && s->checksum == TP_CSUM_BAD) { /* ValidateChecksum(): counted, not processed */
		scaled_entry(z, e, 'C', &p->chk_cnt, &p->chk_thresh);
		return;
	}
	if (!p->did_close || !peer->did_close)
		z->last_ns = s->ts_ns;
	if (z->leading_synack && !(f & (TP_TH_SYN | TP_TH_RST)) && ((f & TP_TH_ACK) || s->len))
		flip_after_synack(z);

	uint32_t seg_len = s->len + ((f & TP_TH_SYN) ? 1 : 0) + ((f & TP_TH_FIN) ? 1 : 0);
	if (f & TP_TH_RST)
		seg_len -= s->len;
	uint32_t past = s->seq + seg_len;
	init_endpoint(p, f, s->seq, past);
	uint64_t rel_seq = relative_seq(p, s->seq, p->last_seq, p->seq_wraps, NULL);
	update_history(z, e, f, rel_seq, s->len);

	/* update_window(): zero windows after a RST or the peer's FIN are boring */
	if (s->window == 0 && !(f & TP_TH_RST) && peer->state != TP_ZEEK_CLOSED && p->state != TP_ZEEK_RESET)
		scaled_entry(z, e, 'W', &p->win0_cnt, &p->win0_thresh);
	if (f & TP_TH_FIN)
		p->fin_cnt++;
	if (f & TP_TH_ACK) {
		if (peer->state == TP_ZEEK_INACTIVE)
			init_peer(peer, s->ack);
		else if (!(f & TP_TH_RST)) {
			int under = 0;
			relative_seq(peer, s->ack, peer->ack_seq, peer->ack_wraps, &under);
			if (!under)
				update_ack(peer, s->ack); /* acks in RSTs are not trusted */
		}
	}
	update_last_seq(z, e, past, f, s->len);
	if (state_machine(z, e, s->seq, s->len, f, s->ts_ns))
		connection_closed(z, e);
	if (z->leading_synack && !(f & TP_TH_SYN))
		z->leading_synack = 0; /* only the segment right after the SYN-ACK decides */
}

/* TCPSessionAdapter::IsReuse() */
int tp_zeek_is_reuse(const struct tp_zeek *z, const struct tp_segment *s, int from_a)
{
	(void)from_a;
	if (!(s->flags & TP_TH_SYN))
		return 0;
	int o = z->orig_is_a ? 0 : 1;
	const struct tp_zeek_endpoint *orig = &z->ep[o], *resp = &z->ep[!o], *conn_orig = orig;
	if (s->flags & TP_TH_ACK) {
		if (orig->state != TP_ZEEK_INACTIVE)
			return 0;
		conn_orig = resp;
	}
	int closed = (orig->state == TP_ZEEK_CLOSED || orig->state == TP_ZEEK_RESET) &&
	             (resp->state == TP_ZEEK_CLOSED || resp->state == TP_ZEEK_RESET);
	if (!closed) {
		if (s->seq == conn_orig->start_seq)
			return 0;
		if (!(s->flags & TP_TH_ACK) && conn_orig->state == TP_ZEEK_SYN_ACK_SENT &&
		    resp->state == TP_ZEEK_INACTIVE && s->seq == resp->start_seq)
			return 0;
	}
	return 1;
}

enum tp_zeek_gone tp_zeek_gone(const struct tp_zeek *z, int64_t now)
{
	if (z->close_ns >= 0 && now > z->close_ns + CLOSE_DELAY_NS)
		return TP_ZEEK_GONE_CLOSED;
	/* AttemptTimer(): an originator's SYN the responder never answered */
	int o = z->orig_is_a ? 0 : 1;
	uint8_t os = z->ep[o].state, rs = z->ep[!o].state;
	if (z->attempt_ns >= 0 && now > z->attempt_ns + ATTEMPT_DELAY_NS &&
	    (os == TP_ZEEK_SYN_SENT || os == TP_ZEEK_SYN_ACK_SENT) && rs == TP_ZEEK_INACTIVE)
		return TP_ZEEK_GONE_ATTEMPT;
	if (now > z->last_ns + INACTIVITY_NS)
		return TP_ZEEK_GONE_IDLE;
	return TP_ZEEK_HELD;
}

/* Zeek matches the whole history against ^?S[^HAFGIQ]*R.* (RSTOS0). */
static int history_is_syn_then_rst(const char *h)
{
	if (*h == '^')
		h++;
	if (*h++ != 'S')
		return 0;
	for (; *h && *h != 'R'; h++)
		if (strchr("HAFGIQ", *h))
			return 0;
	return *h == 'R';
}

/* conn_state() from scripts/base/protocols/conn/main.zeek */
const char *tp_zeek_conn_state(const struct tp_zeek *z)
{
	int o = z->orig_is_a ? 0 : 1;
	const struct tp_zeek_endpoint *oe = &z->ep[o], *re = &z->ep[!o];
	uint8_t os = oe->state, rs = re->state;
	int o_inactive = os == TP_ZEEK_INACTIVE || os == TP_ZEEK_PARTIAL;
	int r_inactive = rs == TP_ZEEK_INACTIVE || rs == TP_ZEEK_PARTIAL;

	if (rs == TP_ZEEK_RESET) {
		if (os == TP_ZEEK_SYN_SENT || os == TP_ZEEK_SYN_ACK_SENT ||
		    (os == TP_ZEEK_RESET && ep_size(oe, re) == 0 && ep_size(re, oe) == 0))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == TP_ZEEK_RESET) {
		if (r_inactive)
			return history_is_syn_then_rst(z->history) ? "RSTOS0" : "OTH";
		return "RSTO";
	}
	if (rs == TP_ZEEK_CLOSED && os == TP_ZEEK_CLOSED)
		return "SF";
	if (os == TP_ZEEK_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == TP_ZEEK_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == TP_ZEEK_SYN_SENT && rs == TP_ZEEK_INACTIVE)
		return "S0";
	if (os == TP_ZEEK_ESTABLISHED && rs == TP_ZEEK_ESTABLISHED)
		return "S1";
	return "OTH";
}

int tp_zeek_orig_is_a(const struct tp_zeek *z)
{
	return z->orig_is_a;
}

uint64_t tp_zeek_size(const struct tp_zeek *z, int orig)
{
	int o = z->orig_is_a ? 0 : 1;
	int e = orig ? o : !o;
	if (z->ep[e].state == TP_ZEEK_INACTIVE)
		return 0;
	return ep_size(&z->ep[e], &z->ep[!e]);
}
