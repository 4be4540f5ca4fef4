/*
 * zeek.h - internal: Zeek's view of one TCP connection.
 *
 * Zeek summarises a connection with per-endpoint observer states (not RFC
 * states), a history string and a conn_state computed at the end. Users
 * compare our records with Zeek's conn.log, so this module reproduces Zeek's
 * rules (packet_analysis/protocol/tcp/TCP.cc and TCPSessionAdapter.cc,
 * analyzer/protocol/tcp/TCP_Endpoint.cc, Conn.cc, and conn_state() in
 * scripts/base/protocols/conn/main.zeek) beside the RFC 9293 machine in
 * conn.c, which it does not influence.
 *
 * Endpoints are kept as A (the sender of the connection's first segment) and
 * B. Zeek decides its own originator (the likely-server-port heuristic on
 * the first packet, the SYN/SYN-ACK reversal, the flip after a leading
 * SYN-ACK) and tp_zeek_orig_is_a() says which it chose.
 */
#ifndef TP_ZEEK_H
#define TP_ZEEK_H

#include "tcpphase.h"

/* Zeek's TCP_EndpointState */
enum tp_zeek_ep_state {
	TP_ZEEK_INACTIVE = 0,
	TP_ZEEK_SYN_SENT,
	TP_ZEEK_SYN_ACK_SENT,
	TP_ZEEK_PARTIAL,
	TP_ZEEK_ESTABLISHED,
	TP_ZEEK_CLOSED,
	TP_ZEEK_RESET
};

struct tp_zeek_endpoint {
	uint8_t state, prev_state; /* enum tp_zeek_ep_state */
	uint32_t start_seq, last_seq, ack_seq;
	uint32_t seq_wraps, ack_wraps;
	uint64_t hist_last_syn, hist_last_fin, hist_last_rst;
	uint32_t fin_cnt;
	uint8_t did_close; /* Zeek reported this endpoint's close (FIN or RST) */
	uint32_t rxmt_cnt, rxmt_thresh, win0_cnt, win0_thresh, chk_cnt, chk_thresh;
};

/* Bit p set: port p is one of Zeek's likely server ports. */
typedef uint8_t tp_zeek_portmap[65536 / 8];

struct tp_zeek {
	struct tp_zeek_endpoint ep[2]; /* [0] = A, [1] = B */
	uint8_t orig_is_a;
	uint8_t leading_synack; /* first packet was a SYN-ACK and roles were not flipped yet */
	uint8_t hist_len;
	uint32_t hist_seen;     /* Zeek's per-role once-only letter mask */
	char history[TP_HISTORY_MAX + 1];
	/* Zeek's connection lifetime (TCPSessionAdapter timers) */
	int64_t last_ns;      /* Conn::LastTime: not advanced once both closed */
	int64_t close_ns;     /* close completed: deleted tcp_close_delay later; -1 */
	int64_t attempt_ns;   /* first SYN: the attempt timer runs from here; -1 */
};

/* Why Zeek would no longer hold the connection at a given time. */
enum tp_zeek_gone { TP_ZEEK_HELD = 0, TP_ZEEK_GONE_CLOSED, TP_ZEEK_GONE_ATTEMPT, TP_ZEEK_GONE_IDLE };

/* Fill the map from cfg's zeek_server_ports (NULL: Zeek's default set). */
void tp_zeek_portmap_init(tp_zeek_portmap map, const uint16_t *ports, uint32_t n);
static inline int tp_zeek_likely_server_port(const uint8_t *map, uint16_t port)
{
	return (map[port >> 3] >> (port & 7)) & 1;
}

/* Start tracking; first is the connection's first segment (sent by A). */
void tp_zeek_init(struct tp_zeek *z, const struct tp_segment *first, const uint8_t *portmap);
/* Account one segment; from_a: its sender is A. checksum_verify: a segment
 * marked TP_CSUM_BAD records C/c and is otherwise ignored, as Zeek does. */
void tp_zeek_segment(struct tp_zeek *z, const struct tp_segment *seg, int from_a, int checksum_verify);
/* Would Zeek start a new connection (uid) for this segment on the same 4-tuple? */
int tp_zeek_is_reuse(const struct tp_zeek *z, const struct tp_segment *seg, int from_a);
/* Would Zeek have removed the connection by now_ns (so that a segment at
 * now_ns starts a new uid)? */
enum tp_zeek_gone tp_zeek_gone(const struct tp_zeek *z, int64_t now_ns);
/* Zeek's conn_state ("SF", "S0", ...) as of now. */
const char *tp_zeek_conn_state(const struct tp_zeek *z);
/* Zeek's originator is A. */
int tp_zeek_orig_is_a(const struct tp_zeek *z);
/* Bytes as conn.log's orig_bytes (orig != 0) or resp_bytes. */
uint64_t tp_zeek_size(const struct tp_zeek *z, int orig);

#endif /* TP_ZEEK_H */
