/*
 * internal.h - what the core's files share; not for front ends.
 *
 * Layering, as in Suricata: flow.c finds the connection a segment belongs
 * to (freeze.c packs the ones that only linger or wait), conn.c runs the
 * RFC 9293 state machine of both endpoints (tsecho.c tells it, by TCP
 * timestamps, which transmission of a resent SYN-ACK or FIN arrived),
 * zeek.c keeps Zeek's parallel view, flood.c watches servers for SYN
 * floods, and analyzer.c ties them
 * together, owns the timers and emits records.
 */
#ifndef TP_INTERNAL_H
#define TP_INTERNAL_H

#include <stddef.h>

#include "tcpphase.h"
#include "zeek.h"

/* Sequence-space comparisons that survive wraparound (RFC 9293 3.4). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

/*
 * tsecho.c: the transmissions of the one segment of an endpoint whose
 * retransmissions are judged by TCP timestamps, its SYN-ACK and later its
 * FIN: the first and the latest (enough: only an echo of the first
 * concludes anything), and whether each carried a TSval that no other
 * segment of its sender carried. An ACK echoing a TSval proves that its
 * sender received a segment carrying it; only a TSval on one segment alone
 * names that segment.
 */
enum tp_tx_kind { TP_TX_NONE = 0, TP_TX_SYNACK, TP_TX_FIN };
struct tp_tx {
	uint64_t first_frame, last_frame;
	uint32_t first_ts, last_ts;  /* their TSvals */
	uint32_t seq;                /* the segment's sequence number (the FIN's own) */
	uint8_t kind;                /* enum tp_tx_kind */
	uint8_t n;                   /* transmissions seen, up to 255 */
	uint8_t first_has_ts : 1, last_has_ts : 1, first_alone : 1, last_alone : 1,
	        judged : 1;          /* the peer's first ACK since the latest was judged */
};

/* What one endpoint has shown the observer. */
struct tp_endpoint {
	uint8_t state;       /* enum tp_state, after the last segment */
	uint8_t syn_seen : 1, fin_seen : 1, fin_acked : 1, rst_seen : 1, seq_set : 1, ack_seen : 1,
	        synack_sent : 1, fin_resent : 1;
	uint8_t wscale;
	uint32_t isn;        /* sequence number of its SYN (or first seen) */
	uint32_t next_seq;   /* highest seq + len (+SYN/FIN) sent */
	uint32_t fin_seq;    /* sequence number of its FIN */
	uint32_t max_ack;    /* highest acknowledgement it sent */
	uint8_t fin_step;    /* enum tp_step its FIN took, for retransmissions */
	uint32_t window;     /* last window it advertised, scaled */
	uint64_t fin_frame;  /* its FIN, first sent (what a late verdict concerns) */
	uint64_t pkts, ip_bytes;
	uint8_t ts_seen;     /* it sent a TCP timestamp: ts_max holds the highest */
	uint8_t rtx_pending; /* data sent again, the peer's ACK of it not judged yet */
	uint32_t ts_max;
	uint32_t rtx_end, rtx_ts; /* that data's end and the resend's TSval (tsecho.c) */
	struct tp_tx tx;     /* tsecho.c */
};

/* The timer list a connection sits on; every list shares one timeout. */
enum tp_timer_class {
	TP_T_SYN = 0,     /* SYN sent, nothing back: syn_timeout from the first SYN */
	TP_T_SYNACK,      /* SYN-ACK sent, no ACK: half_open_timeout from the first SYN-ACK */
	TP_T_HANDSHAKE,   /* stale handshake after its late verdict: handshake_idle */
	TP_T_HS_ACK,      /* established, the server silent since the handshake's ACK:
	                     half_open_timeout from that ACK, while a SYN-ACK sent
	                     again would prove it lost (conn.c, handshake_ack_lost) */
	TP_T_OPEN,        /* established or midstream: idle_timeout */
	TP_T_HALF_CLOSED, /* one FIN, peer silent: half_closed_timeout */
	TP_T_CLOSED,      /* closed or reset: closed_linger */
	TP_T_COUNT
};

struct tp_conn {
	/* flow.c: the links, the hash and the timer. A frozen connection
	 * (freeze.c) keeps only these and packs everything after them. */
	struct tp_conn *hnext;
	uint32_t hash;
	uint8_t tclass;      /* enum tp_timer_class */
	uint8_t frozen;      /* enum tp_frozen: if packed, only the fields above are valid */
	uint16_t packed_len : 15; /* with frozen: bytes packed after TP_CONN_HEAD */
	uint16_t packed_us : 1;   /* with frozen: its times are packed in microseconds */
	struct tp_conn *tprev, *tnext; /* timer list */
	int64_t tstamp;      /* when it entered its list (or last activity on idle lists) */
	uint64_t idx;        /* connection index: tp_finish orders by it */

	uint32_t context;
	uint16_t port[2];
	struct tp_addr addr[2]; /* key, with ep[0] the originator */

	uint64_t first_frame; /* frame of its first segment: names it (uid) */
	int64_t start_ns, last_ns;
	struct tp_endpoint ep[2];

	uint8_t dir_inferred : 1, established : 1, ended : 1, midstream : 1, sim_open : 1, sim_close : 1,
		flood : 1;
	uint8_t final_ack_lost : 1, counted_half_open : 1, a_is_orig : 1, three_seg : 1, late_done : 1,
		flood_answered : 1;
	/* stale_peer: the SYN's receiver answered with a plain ACK from an older
	 * connection (a challenge ACK). hs_ack_lost: the server resent its
	 * SYN-ACK after the handshake's ACK. hs_ack_settled: the server sent
	 * something else after that ACK, so it is known to have arrived. */
	uint8_t stale_peer : 1, hs_ack_lost : 1, hs_ack_settled : 1;
	uint8_t last_from;        /* endpoint index that sent the latest segment */
	uint8_t hs_server;        /* endpoint index that sent the SYN-ACK the handshake's ACK answered */
	uint32_t hs_server_pkts;  /* its segments by then */
	uint8_t handshake, teardown, completeness;
	uint8_t compl_first;      /* the first segment's completeness bits, shown from the second on */
	uint8_t first_closer;     /* endpoint index that sent the first FIN, or 0xff */
	tp_anomaly_set anomalies;
	uint32_t flood_gen;       /* with flood: which flood counted its SYN (flood.c) */

	uint64_t syn_frame, synack_frame, hs_ack_frame, final_ack_frame;
	int64_t syn_ns, synack_ns, hs_ack_ns, first_fin_ns, close_ns, time_wait_ns;

	struct tp_zeek zeek;
};

/* Where a connection's packed body is (freeze.c). */
enum tp_frozen {
	TP_FROZEN_NOT = 0,
	TP_FROZEN_BLOCK, /* lingering: in a block, with those frozen about when it was */
	TP_FROZEN_HEAP   /* cold (established, idle): an allocation of its own */
};

/* What a frozen connection keeps unpacked. */
#define TP_CONN_HEAD offsetof(struct tp_conn, context)

struct tp_flood_table;
struct tp_freeze_block;

/* The kinds of lingering connections packed into blocks (freeze.c), each
 * in a chain of its own: they linger for different times. */
enum tp_freeze_chain {
	TP_CHAIN_CLOSED = 0,  /* on TP_T_CLOSED: closed_linger */
	TP_CHAIN_HANDSHAKE,   /* on TP_T_HANDSHAKE: handshake_idle */
	TP_FREEZE_CHAINS
};

struct tp_analyzer {
	struct tp_config cfg;
	struct tp_callbacks cb;
	struct tp_stats stats;

	/* flow.c */
	struct tp_conn **buckets;
	uint32_t nbuckets;       /* power of two */
	struct tp_conn *thead[TP_T_COUNT], *ttail[TP_T_COUNT];
	uint64_t tcount[TP_T_COUNT]; /* connections on each list */
	int64_t timeout[TP_T_COUNT];  /* each list's timeout, from cfg */
	/* No deadline (list head, evicted half-open connection) comes before
	 * this: until then tp_advance has nothing to expire. Lowered whenever
	 * a deadline is set, raised only by a full pass. */
	int64_t next_due;
	/* The first connection on TP_T_OPEN not yet looked at to be packed
	 * once cold (idle TP_COLD_AFTER_NS), and no earlier than when it may
	 * be: the list runs oldest first. */
	struct tp_conn *cold_next;
	int64_t cold_due;
	uint64_t next_idx;
	int64_t now_ns;

	/* freeze.c: for each chain, the block connections freeze into now, the
	 * newest of its list of blocks; and tp_conn_amendable_from of the
	 * lingering connections left unpacked for lack of memory (never
	 * raised). */
	struct tp_freeze_block *freeze_block[TP_FREEZE_CHAINS];
	uint64_t unpacked_amendable_from;
	uint8_t *spare_bodies;   /* a block's bodies' buffer, free since its block spilled */
	uint64_t store_end;      /* the front end's store: bytes handed out */
	uint64_t *store_free;    /* and, of those, the blocks' rooms free again */
	uint32_t store_nfree, store_cap;
	struct tp_flood_table *floods;
	tp_zeek_portmap server_ports; /* Zeek's likely server ports, from cfg */
};

/* flow.c */
uint32_t tp_flow_hash(const struct tp_addr *a, uint16_t pa, const struct tp_addr *b, uint16_t pb, uint32_t ctx);
struct tp_conn *tp_flow_lookup(struct tp_analyzer *an, const struct tp_segment *s, uint32_t hash, int *from_orig);
struct tp_conn *tp_flow_insert(struct tp_analyzer *an, const struct tp_segment *s, uint32_t hash, int sender_is_orig);
void tp_flow_remove(struct tp_analyzer *an, struct tp_conn *c);
/* Put n where o is, in its bucket and on its timer list (freeze.c). */
void tp_flow_replace(struct tp_analyzer *an, const struct tp_conn *o, struct tp_conn *n);
void tp_timer_init(struct tp_analyzer *an); /* timeouts from cfg */
void tp_timer_set(struct tp_analyzer *an, struct tp_conn *c, enum tp_timer_class cls, int64_t stamp);
void tp_timer_touch(struct tp_analyzer *an, struct tp_conn *c);
static inline int64_t tp_timer_timeout(const struct tp_analyzer *an, enum tp_timer_class cls)
{
	return an->timeout[cls];
}
/* When a connection's timer fires (it must be on a list). */
static inline int64_t tp_timer_deadline(const struct tp_analyzer *an, const struct tp_conn *c)
{
	return c->tstamp + an->timeout[c->tclass];
}
/* A deadline was set: tp_advance must look again by then. */
static inline void tp_due_by(struct tp_analyzer *an, int64_t deadline)
{
	if (deadline < an->next_due)
		an->next_due = deadline;
}

/*
 * freeze.c: a connection that only lingers (closed, on TP_T_CLOSED for
 * closed_linger, 60 s by default) is most of what a busy capture tracks.
 * Frozen, it is packed into about a third of its size; any use of it
 * other than the links unpacks it first. So is an established connection
 * idle for TP_COLD_AFTER_NS, until its next segment.
 */
/* Pack c into a smaller allocation that takes its place in the table and
 * its timer list; returns it (c itself if there is no memory). */
struct tp_conn *tp_conn_freeze(struct tp_analyzer *an, struct tp_conn *c);
/* The same for an established connection gone cold: it may wake up or
 * expire at any time. c itself if it could still be amended. */
struct tp_conn *tp_conn_freeze_cold(struct tp_analyzer *an, struct tp_conn *c);
/* Idle this long (capture time), an established connection is cold and
 * packed until its next segment: about a third of the memory for those that
 * wait long (keep-alive pools, or ones whose close the capture missed, kept
 * for idle_timeout, an hour by default), for a pack and an unpack per wait.
 * Much shorter, and connections pausing between requests pay that often
 * (mixed benchmark: 2 s costs 9% more CPU; 10 s, nothing measurable). */
#ifndef TP_COLD_AFTER_NS
#define TP_COLD_AFTER_NS (10 * 1000000000LL)
#endif
/* Unpack a frozen connection in place of the packed one; returns it (NULL
 * if there is no memory: c stays frozen). */
struct tp_conn *tp_conn_thaw(struct tp_analyzer *an, struct tp_conn *c);
/* Unpack a frozen connection into *out, links included, leaving it frozen. */
struct tp_conn *tp_conn_unpack(const struct tp_conn *c, struct tp_conn *out);
/* Free a connection, frozen or not, once it is out of the table. */
void tp_conn_free(struct tp_analyzer *an, struct tp_conn *c);
/* Give back what packing holds once every connection is freed. */
void tp_freeze_free(struct tp_analyzer *an);
/* tp_conn_amendable_from over the connections on TP_T_CLOSED. */
uint64_t tp_freeze_amendable_from(const struct tp_analyzer *an);

/* conn.c: the RFC 9293 machine, as an observer. */
void tp_conn_start(struct tp_analyzer *an, struct tp_conn *c, const struct tp_segment *s);
void tp_conn_segment(struct tp_analyzer *an, struct tp_conn *c, const struct tp_segment *s, int from_orig,
                     struct tp_verdict *v);
/* Late verdicts when the connection's timer fires or the capture ends. */
void tp_conn_settle(struct tp_analyzer *an, struct tp_conn *c, int at_end);
enum tp_timer_class tp_conn_timer_class(const struct tp_conn *c);
void tp_conn_record(const struct tp_analyzer *an, const struct tp_conn *c, enum tp_end_reason why,
                    struct tp_conn_record *r);
/* The lowest frame a later amendment of c may concern (UINT64_MAX: none). */
uint64_t tp_conn_amendable_from(const struct tp_conn *c);
/* Should a SYN on this connection's 4-tuple start a new connection? */
int tp_conn_is_new_syn(const struct tp_conn *c, const struct tp_segment *s, int from_orig, int wireshark);
void tp_conn_amend(struct tp_analyzer *an, struct tp_conn *c, uint64_t frame, tp_anomaly_set add, int orig_state,
                   int resp_state);
/* The same, with the states given for endpoint i and its peer. */
void tp_conn_amend_states(struct tp_analyzer *an, struct tp_conn *c, uint64_t frame, tp_anomaly_set add, int i,
                          int st_i, int st_peer);

/* tsecho.c: after conn.c judged a segment from endpoint si, note its TCP
 * timestamp and, if it acknowledges the peer's retransmitted SYN-ACK or FIN,
 * which transmission its echo names (v->echo, v->echoed_frame) and what that
 * proves (lost_final_ack, lost_handshake_ack, on this segment and the one
 * resent, through tp_conn_amend); data_resent: s is data its sender had
 * sent before (spurious_retransmit, when the peer's ACK echoes an older
 * transmission). */
void tp_echo_segment(struct tp_analyzer *an, struct tp_conn *c, int si, const struct tp_segment *s,
                     int data_resent, struct tp_verdict *v);

/* flood.c */
struct tp_flood_table *tp_flood_new(void);
void tp_flood_free(struct tp_flood_table *t);
/* A SYN toward a server; returns nonzero if that server is under a flood now. */
int tp_flood_syn(struct tp_analyzer *an, const struct tp_segment *s, struct tp_conn *c);
void tp_flood_synack(struct tp_analyzer *an, struct tp_conn *c);
/* A connection toward the server stopped being half-open. */
void tp_flood_half_open_done(struct tp_analyzer *an, struct tp_conn *c);
/* An embryonic connection evicted at a cap: still half-open for flood
 * detection until the deadline of its late verdict, as if it had stayed. */
void tp_flood_evicted(struct tp_analyzer *an, struct tp_conn *c);
/* Evicted half-open connections whose deadline has come stop counting. */
void tp_flood_age_orphans(struct tp_analyzer *an, int64_t now_ns);
void tp_flood_advance(struct tp_analyzer *an, int64_t now_ns, int at_end);

#endif /* TP_INTERNAL_H */
