/*
 * zeek.h - internal: Zeek's view of one TCP connection.
 *
 * Zeek summarises a connection with per-endpoint observer states (not RFC
 * states), a history string and a conn_state computed at the end. Users
 * compare our records with Zeek's conn.log, so this module reproduces Zeek's
 * exact rules (src/analyzer/protocol/tcp/TCP_Endpoint.*, TCPSessionAdapter.cc,
 * packet_analysis/protocol/tcp/TCP.cc, scripts/base/protocols/conn/main.zeek)
 * beside the RFC 9293 state machine in conn.c, which it does not influence.
 *
 * Directions are given relative to "A", the sender of the connection's first
 * segment. Zeek decides its own originator (the likely-server-port heuristic
 * on the first packet, SYN/SYN-ACK reversal later, ...) and reports it with
 * tp_zeek_orig_is_a(); history letters are recorded as Zeek would, including
 * the '^' flip marker.
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
	uint8_t state;          /* enum tp_zeek_ep_state */
	uint8_t seen_any;
	uint8_t seq_set;
	uint32_t start_seq;     /* first sequence number (ISN, or first seen) */
	uint32_t last_seq;      /* highest sequence number seen (seq + len) */
	uint32_t ack_seq;       /* highest ack sent */
	uint32_t wraps;         /* sequence space wraps of last_seq */
	uint32_t last_flag_seq[4]; /* last seq of a SYN, SYN-ACK, FIN, RST for the repeat rule */
	uint32_t rexmit, gaps, zero_wins, bad_csums; /* occurrence counts for the 1,10,100 rule */
	uint64_t size;          /* bytes in sequence space, as conn.log orig_bytes/resp_bytes */
	uint32_t pkts;
};

struct tp_zeek {
	struct tp_zeek_endpoint ep[2]; /* [0] = Zeek's current originator */
	uint8_t orig_is_a;             /* Zeek's originator is A */
	uint16_t seen_letters;         /* once-per-direction letters already recorded */
	uint8_t hist_len;
	char history[TP_HISTORY_MAX + 1];
};

/* Zeek's likely_server_ports: its default set, or the smaller set of bare mode (-b). */
int tp_zeek_likely_server_port(uint16_t port, int bare);

/* Start tracking; seg is the connection's first segment (sent by A). */
void tp_zeek_init(struct tp_zeek *z, const struct tp_segment *first, int bare);
/* Account one segment; from_a: its sender is A. checksum_verify: a segment
 * marked TP_CSUM_BAD records C/c and is otherwise ignored, as Zeek does. */
void tp_zeek_segment(struct tp_zeek *z, const struct tp_segment *seg, int from_a, int checksum_verify);
/* Would Zeek start a new connection (uid) for this segment on the same 4-tuple? */
int tp_zeek_is_reuse(const struct tp_zeek *z, const struct tp_segment *seg, int from_a);
/* End of the connection: Zeek's conn_state ("SF", "S0", ...). */
const char *tp_zeek_conn_state(const struct tp_zeek *z);
/* Zeek's originator at the end is A (after any flips). */
int tp_zeek_orig_is_a(const struct tp_zeek *z);

#endif /* TP_ZEEK_H */
