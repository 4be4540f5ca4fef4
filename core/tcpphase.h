/*
 * tcpphase.h - public interface of the tcpphase analysis core.
 *
 * The core is plain C99 with no dependency on libpcap or epan. A front end
 * decodes packets into struct tp_segment, feeds them in capture order to a
 * tp_analyzer, and renders what comes back:
 *
 *   - a struct tp_verdict for every segment, returned by tp_feed();
 *   - struct tp_amend through the callbacks when a later segment (or a
 *     timeout, or the end of the capture) changes what an earlier segment
 *     meant: a SYN-ACK that turned out never to be acknowledged, a final ACK
 *     that the peer's FIN retransmission proves lost;
 *   - a struct tp_conn_record when a connection ends, expires, is evicted or
 *     the capture ends;
 *   - a struct tp_flood alert when a SYN flood toward one server ends.
 *
 * All state lives in the tp_analyzer; the core has no global mutable state,
 * so several analyzers may run side by side (one per shard, one per file).
 * Names of states follow RFC 9293 section 3.3.2 exactly.
 */
#ifndef TCPPHASE_H
#define TCPPHASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TP_VERSION "0.1.0"

/* ---- endpoint states (RFC 9293 3.3.2) ---------------------------------- */

enum tp_state {
	TP_CLOSED = 0,
	TP_LISTEN,
	TP_SYN_SENT,
	TP_SYN_RECEIVED,
	TP_ESTABLISHED,
	TP_FIN_WAIT_1,
	TP_FIN_WAIT_2,
	TP_CLOSE_WAIT,
	TP_CLOSING,
	TP_LAST_ACK,
	TP_TIME_WAIT,
	/* Not an RFC 9293 state: what the packets cannot tell. The receiver of
	 * a SYN that got no answer (dropped on the way, by a full backlog, or
	 * never delivered), a spoofed source that never answered its SYN-ACK,
	 * a peer that answered a SYN from an older connection. */
	TP_UNKNOWN,
	TP_STATE_COUNT
};

/* "SYN-RECEIVED", "TIME-WAIT", ... as RFC 9293 spells them. */
const char *tp_state_name(enum tp_state s);

/* ---- where a segment sits in the connection's life --------------------- */

enum tp_phase {
	TP_PHASE_HANDSHAKE = 0,
	TP_PHASE_DATA,
	TP_PHASE_TEARDOWN,
	TP_PHASE_RESET,
	TP_PHASE_CLOSED,    /* after the connection ended (closed or reset) */
	TP_PHASE_MIDSTREAM, /* connection joined without its handshake */
	TP_PHASE_COUNT
};
const char *tp_phase_name(enum tp_phase p); /* "handshake", "data", ... */

enum tp_step {
	TP_STEP_NONE = 0,
	TP_STEP_HS_SYN,        /* handshake 1/3 */
	TP_STEP_HS_SYNACK,     /* handshake 2/3 */
	TP_STEP_HS_ACK,        /* handshake 3/3 */
	TP_STEP_SIM_SYN,       /* simultaneous open: the second, crossing SYN */
	TP_STEP_SIM_SYNACK,    /* simultaneous open: a SYN-ACK of a crossed SYN */
	TP_STEP_FIN1,          /* teardown 1/4: first FIN */
	TP_STEP_FIN1_ACK,      /* teardown 2/4: ACK of the first FIN */
	TP_STEP_FIN2,          /* teardown 3/4: the peer's FIN */
	TP_STEP_FIN2_WITH_ACK, /* teardown 2+3/4: peer FIN that also ACKs FIN 1 */
	TP_STEP_FINAL_ACK,     /* teardown 4/4 */
	TP_STEP_SIM_FIN,       /* simultaneous close: FIN crossing the first */
	TP_STEP_SIM_FIN_ACK,   /* simultaneous close: ACK of a crossed FIN */
	TP_STEP_RST,
	TP_STEP_COUNT
};
/* Short label for columns and filters: "HS 1/3", "FIN 2+3/4", "SIM-OPEN SYN". */
const char *tp_step_label(enum tp_step s);
/* Machine id for JSON/CSV: "hs_syn", "fin2_with_ack", ... ("" for none). */
const char *tp_step_id(enum tp_step s);

/* ---- the anomaly table: every front end renders from this -------------- */

enum tp_anomaly {
	TP_A_HALF_OPEN = 0,
	TP_A_SYN_UNANSWERED,
	TP_A_REFUSED,
	TP_A_SYN_RETRANSMIT,
	TP_A_SYNACK_RETRANSMIT,
	TP_A_HANDSHAKE_BAD_ACK,
	TP_A_HANDSHAKE_RESET,
	TP_A_DATA_BEFORE_HANDSHAKE,
	TP_A_TFO_DATA,
	TP_A_LOST_FINAL_ACK,
	TP_A_FIN_RETRANSMIT,
	TP_A_TEARDOWN_BAD_ACK,
	TP_A_HALF_CLOSED,
	TP_A_RESET_ABORT,
	TP_A_PORT_REUSE,
	TP_A_AFTER_CLOSE,
	TP_A_MIDSTREAM,
	TP_A_BAD_FLAGS,
	TP_A_BAD_CHECKSUM,
	TP_A_SYN_FLOOD,
	TP_A_SIMULTANEOUS_OPEN,
	TP_A_SIMULTANEOUS_CLOSE,
	TP_A_LOST_HANDSHAKE_ACK,
	TP_A_STALE_CONNECTION,
	TP_A_RESET_NO_CONNECTION,
	TP_A_SPURIOUS_RETRANSMIT,
	TP_A_COUNT
};

enum tp_severity { TP_SEV_CHAT = 0, TP_SEV_NOTE, TP_SEV_WARN, TP_SEV_ERROR };
/* Mirrors Wireshark's expert groups, so the plugin maps one to one. */
enum tp_group { TP_GROUP_SEQUENCE = 0, TP_GROUP_PROTOCOL, TP_GROUP_SECURITY, TP_GROUP_MALFORMED, TP_GROUP_CHECKSUM };

struct tp_anomaly_info {
	enum tp_anomaly id;
	const char *name;    /* filter name: "half_open" (tcpphase.anomaly == "half_open") */
	enum tp_severity severity;
	enum tp_group group;
	const char *summary; /* fixed one-line meaning, safe to group by */
};

/* The table, indexed by enum tp_anomaly. */
extern const struct tp_anomaly_info tp_anomaly_table[TP_A_COUNT];
const char *tp_severity_name(enum tp_severity s); /* "chat", "note", "warn", "error" */
/* Look an anomaly up by filter name; -1 if unknown. */
int tp_anomaly_by_name(const char *name);

typedef uint32_t tp_anomaly_set; /* bit (1u << enum tp_anomaly) */
#define TP_ABIT(a) ((tp_anomaly_set)1u << (a))

/* The lowest anomaly in *set, taken out of it: walks a set in the order of
 * the table, `for (m = set; m;) { i = tp_anomaly_pop(&m); ... }`, at the
 * cost of the anomalies present rather than of all kinds (this runs for
 * every segment). */
static inline int tp_anomaly_pop(tp_anomaly_set *set)
{
	int i = __builtin_ctz(*set);
	*set &= *set - 1;
	return i;
}

/* ---- input: one decoded TCP segment ------------------------------------ */

struct tp_addr {
	uint8_t family;    /* 4 or 6 */
	uint8_t bytes[16]; /* IPv4 in the first 4 bytes, rest zero */
};

/* TCP header flag bits, as on the wire (low 9 bits of offset/flags word). */
#define TP_TH_FIN 0x001
#define TP_TH_SYN 0x002
#define TP_TH_RST 0x004
#define TP_TH_PSH 0x008
#define TP_TH_ACK 0x010
#define TP_TH_URG 0x020
#define TP_TH_ECE 0x040
#define TP_TH_CWR 0x080
#define TP_TH_NS  0x100
/* The flags as people name a segment: "SYN-ACK", "FIN-PSH-ACK" (ACK last),
 * "no flags"; into buf of len bytes. */
void tp_flag_names(uint16_t flags, char *buf, size_t len);

enum tp_checksum { TP_CSUM_UNKNOWN = 0, TP_CSUM_GOOD, TP_CSUM_BAD };

struct tp_segment {
	uint64_t frame;   /* 1-based frame number in the capture */
	int64_t ts_ns;    /* capture time, ns since the epoch */
	struct tp_addr src, dst;
	uint16_t sport, dport;
	uint32_t context; /* VLAN/tunnel context; part of the key only if cfg.key_context */
	uint32_t seq, ack;
	uint16_t flags;   /* TP_TH_* */
	uint16_t window;  /* raw, unscaled */
	uint32_t len;     /* payload bytes */
	uint32_t ip_len;  /* IP total length (header + payload), 0 if unknown */
	/* The options the analysis needs: the window scale of a SYN, for RST
	 * acceptance (RFC 5961), and the timestamps (RFC 7323), which tell which
	 * transmission of a retransmitted SYN-ACK or FIN the peer received (its
	 * ACK echoes that one's TSval, RFC 3522). MSS and SACK change nothing an
	 * observer infers, so front ends do not extract them. */
	int8_t wscale;    /* -1 when absent */
	uint8_t checksum; /* enum tp_checksum */
	uint8_t has_ts;   /* a timestamps option: tsval and tsecr meaningful */
	uint32_t tsval, tsecr;
};

/* ---- output: the verdict for one segment ------------------------------- */

enum tp_dir { TP_DIR_ORIG = 0, TP_DIR_RESP = 1 };

/*
 * Which transmission of a retransmitted SYN-ACK or FIN an ACK of it answers,
 * by TCP timestamps: the ACK's TSecr echoes the TSval of the segment the
 * peer received (RFC 7323 3.2; the Eifel detection of RFC 3522). Judged on
 * the peer's ACKs of a segment seen sent more than once.
 */
enum tp_echo {
	TP_ECHO_NONE = 0,  /* not judged: not such an ACK */
	TP_ECHO_FIRST,     /* echoes the first transmission: it arrived, the
	                      retransmissions were not needed for delivery */
	TP_ECHO_LATER,     /* echoes the latest retransmission: that one arrived;
	                      whether the first did is not known (a receiver may
	                      take the TSval of a duplicate, RFC 7323 4.3) */
	TP_ECHO_OTHER,     /* echoes a value of neither: another transmission
	                      between them, or an earlier segment */
	TP_ECHO_TIE,       /* the echoed TSval was on more than one segment of
	                      the sender (one clock tick): proves nothing */
	TP_ECHO_NO_TS,     /* the ACK or the transmissions lack timestamps */
	TP_ECHO_COUNT
};
/* "first", "later", "other", "tie", "no_ts" ("" for none). */
const char *tp_echo_name(enum tp_echo e);

struct tp_verdict {
	uint64_t frame;
	int64_t ts_ns;
	uint64_t conn;        /* connection index, 0-based, in order of first segment */
	uint64_t first_frame; /* frame of the connection's first segment (its uid) */
	uint16_t flags;       /* the segment's TP_TH_* flags, for display */
	uint32_t len;         /* its payload bytes */
	uint8_t dir;          /* enum tp_dir: sender relative to the originator */
	uint8_t dir_inferred; /* no SYN seen: originator guessed */
	uint8_t phase;        /* enum tp_phase */
	uint8_t step;         /* enum tp_step */
	uint8_t rtx;          /* this step was seen before: a retransmission */
	uint8_t orig_state;   /* enum tp_state, after the segment */
	uint8_t resp_state;
	uint8_t ack_checked;  /* expected_ack / seen_ack meaningful */
	uint32_t expected_ack, seen_ack;
	int64_t syn_to_synack_ns;  /* on HS 2/3 and HS 3/3, else -1 */
	int64_t synack_to_ack_ns;  /* on HS 3/3, else -1 */
	tp_anomaly_set anomalies;
	uint8_t echo;              /* enum tp_echo */
	uint64_t echoed_frame;     /* with TP_ECHO_FIRST or _LATER: the frame whose TSval it echoes, else 0 */
};

/* A late change to an earlier segment's verdict. */
struct tp_amend {
	uint64_t frame;       /* the segment concerned */
	uint64_t conn;
	tp_anomaly_set add;   /* anomalies to add */
	int16_t orig_state;   /* revised state after that segment, -1 if unchanged */
	int16_t resp_state;
};
/* Apply an amendment to a stored verdict (the one way front ends do it). */
void tp_verdict_amend(struct tp_verdict *v, const struct tp_amend *a);

/* ---- connection records ------------------------------------------------- */

enum tp_handshake {
	TP_HS_NONE = 0,     /* no handshake seen: midstream */
	TP_HS_COMPLETE,     /* SYN, SYN-ACK, ACK */
	TP_HS_SIMULTANEOUS, /* crossed SYNs */
	TP_HS_UNANSWERED,   /* SYN(s) only */
	TP_HS_REFUSED,      /* SYN answered by RST */
	TP_HS_HALF_OPEN,    /* SYN-ACK never acknowledged */
	TP_HS_RESET,        /* reset during the handshake */
	TP_HS_BAD_ACK,      /* acknowledgement numbers did not match */
	TP_HS_COUNT
};
const char *tp_handshake_name(enum tp_handshake h); /* "complete", ... */

enum tp_teardown {
	TP_TD_NONE = 0,      /* still open at the end: no FIN, no RST */
	TP_TD_FOUR_WAY,      /* FIN, ACK, FIN, ACK */
	TP_TD_THREE_SEG,     /* FIN, FIN+ACK, ACK */
	TP_TD_SIMULTANEOUS,  /* crossed FINs */
	TP_TD_HALF_CLOSED,   /* one side closed, the other never did */
	TP_TD_RESET_ORIG,    /* aborted by an RST from the originator */
	TP_TD_RESET_RESP,    /* aborted by an RST from the responder */
	TP_TD_INCOMPLETE,    /* both FINs, final ACK not seen */
	TP_TD_COUNT
};
const char *tp_teardown_name(enum tp_teardown t); /* "four_way", ... */

enum tp_end_reason { TP_END_CLOSED = 0, TP_END_TIMEOUT, TP_END_EVICTED, TP_END_CAPTURE_END, TP_END_REUSED };
const char *tp_end_reason_name(enum tp_end_reason r);

/* Wireshark's tcp.completeness bits */
#define TP_COMPL_SYN    0x01
#define TP_COMPL_SYNACK 0x02
#define TP_COMPL_ACK    0x04
#define TP_COMPL_DATA   0x08
#define TP_COMPL_FIN    0x10
#define TP_COMPL_RST    0x20

#define TP_HISTORY_MAX 40

struct tp_conn_record {
	uint64_t conn;
	uint64_t first_frame; /* frame of its first segment (its uid) */
	struct tp_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	uint32_t context;
	uint8_t dir_inferred;
	int64_t start_ns, last_ns;
	uint64_t orig_pkts, resp_pkts;
	uint64_t orig_bytes, resp_bytes;       /* payload bytes in sequence space, as Zeek counts */
	uint64_t orig_ip_bytes, resp_ip_bytes; /* IP-level bytes */
	uint8_t handshake;  /* enum tp_handshake */
	uint8_t teardown;   /* enum tp_teardown */
	uint8_t orig_state, resp_state; /* final, enum tp_state */
	uint8_t completeness;
	uint8_t end_reason; /* enum tp_end_reason */
	tp_anomaly_set anomalies;
	int64_t syn_to_synack_ns, synack_to_ack_ns; /* -1 unknown */
	int64_t fin_to_close_ns;                    /* first FIN to close, -1 */
	int64_t time_wait_ns;                       /* time in TIME-WAIT before the end, -1 */
	char conn_state[8];                 /* Zeek's conn_state: "SF", "S0", ... */
	char history[TP_HISTORY_MAX + 1];   /* Zeek's history */
};

/*
 * Zeek-style uid ("C" + 17 base62 chars) of the connection whose first
 * segment is in frame first_frame of a capture whose uid seed is seed
 * (struct tp_config's uid_seed). A frame starts at most one connection, so
 * the uid is unique in a capture; the seed keeps it apart from the uids of
 * other captures. It is the same in the CLI, the plugin and every --shard
 * of the capture (the connection index is not). Seed 0 gives the uids of
 * tcpphase before seeds (the CLI's --deterministic-uids).
 */
void tp_conn_uid(uint64_t seed, uint64_t first_frame, char out[20]);
/*
 * A capture's default uid seed: a hash of its first packet (frame 1,
 * whatever it holds), its time and captured bytes, which every front end
 * sees alike. The same file always gives the same uids, another capture
 * others; never 0 (that seed is the deterministic one).
 */
uint64_t tp_uid_seed(int64_t ts_ns, uint32_t caplen, const uint8_t *bytes);

/*
 * Which of n shards a segment's connection belongs to, 0..n-1: a function of
 * its addresses and ports alone, the same for both directions, on every
 * machine and in every run.
 */
uint32_t tp_shard_of(const struct tp_segment *s, uint32_t n);
/* Printable address into buf (>= 46 bytes); returns buf. */
char *tp_addr_str(const struct tp_addr *a, char *buf, size_t len);

/* ---- SYN floods --------------------------------------------------------- */

struct tp_flood {
	struct tp_addr server;
	uint16_t port;
	int64_t start_ns, end_ns;
	uint64_t syns;          /* SYNs toward the server during the flood */
	uint64_t synacks;       /* of which answered by a SYN-ACK */
	uint64_t completed;     /* handshakes completed during the flood */
	uint32_t distinct_sources; /* estimate */
	uint32_t peak_half_open;
	double answered_share;  /* synacks / syns */
	double source_spread;   /* distinct sources / SYNs, 0..1 */
};

/* ---- configuration, statistics, the analyzer --------------------------- */

/*
 * When segments on one 4-tuple belong to a new connection. Both tools start
 * one at a SYN that is not a retransmission; they differ after a close:
 * Wireshark keeps later stray segments in the old tcp.stream, while Zeek
 * forgets a connection 5 s after it closed or was reset (tcp_close_delay),
 * 5 s after an unanswered attempt (tcp_attempt_delay) and after 5 minutes
 * idle (tcp_inactivity_timeout), so later segments get a new uid.
 */
enum tp_split { TP_SPLIT_WIRESHARK = 0, TP_SPLIT_ZEEK };

/*
 * Which Wireshark's tcp.stream and tcp.completeness to reproduce. They
 * changed after 4.0 (packet-tcp.c, dissect_tcp; 4.4 and 4.6 agree):
 *  - 4.0 keeps the bits of a stream's first segment for its second one
 *    (a stream of one segment shows only a SYN), and opens a new stream on
 *    the same 4-tuple only at a pure SYN with another sequence number;
 *  - 4.4 counts every segment's bits, and opens a new stream at a SYN or a
 *    SYN-ACK whose sequence number differs from its side's first one, or
 *    that comes after the stream saw a FIN or a RST.
 * The split rule applies with TP_SPLIT_WIRESHARK only.
 */
enum tp_wireshark { TP_WS_4_0 = 0, TP_WS_4_4 };

struct tp_config {
	int64_t half_open_timeout_ns;   /* SYN-ACK unanswered this long: half_open (default 3 s) */
	int64_t syn_timeout_ns;         /* SYN unanswered this long: syn_unanswered (default 3 s) */
	int64_t idle_timeout_ns;        /* established, idle: expire (default 1 h) */
	int64_t handshake_idle_ns;      /* never established, idle: expire (default 120 s) */
	int64_t closed_linger_ns;       /* after close/reset, keep for stray segments (default 60 s: 2 MSL on Linux) */
	int64_t half_closed_timeout_ns; /* one FIN, peer silent this long: half_closed (default 60 s) */
	uint32_t max_conns;             /* cap on tracked connections (default 1,000,000) */
	/* Cap on connections still in their handshake (default 65,536), like a
	 * kernel's SYN backlog: a SYN flood evicts the oldest of them (reported,
	 * end "evicted", still counted toward the flood) instead of filling
	 * memory; established connections are not touched by it. 0: no cap. */
	uint32_t max_embryonic;
	int key_context;                /* add VLAN/tunnel context to the connection key */
	int checksum_verify;            /* treat TP_CSUM_BAD segments as Zeek does (C/c, not analysed) */
	/* Zeek's likely_server_ports, which decide who is the originator of a
	 * connection seen without its SYN (and Zeek's '^' flip). NULL: the
	 * ports Zeek's default scripts register; else the n listed (n = 0:
	 * none, as under `zeek -b`). The array must outlive tp_analyzer_new(). */
	const uint16_t *zeek_server_ports;
	uint32_t zeek_n_server_ports;
	int split;                      /* enum tp_split */
	int wireshark;                  /* enum tp_wireshark (default TP_WS_4_4) */
	/* SYN flood detection, per server address and port, over a sliding window */
	int64_t flood_window_ns;        /* default 1 s */
	uint32_t flood_min_half_open;   /* half-open connections at once (default 100) */
	uint32_t flood_min_syn_rate;    /* SYNs per window (default 200) */
	double flood_min_spread;        /* distinct sources / SYNs in the window (default 0.5) */
	/* The capture's uid seed, for tp_conn_uid: no verdict depends on it,
	 * it only names connections. The default, 0, gives the deterministic
	 * uids; front ends put tp_uid_seed() of the first packet here unless
	 * the user chose a seed, so that uids differ across captures. */
	uint64_t uid_seed;
};
void tp_config_default(struct tp_config *cfg);

struct tp_stats {
	uint64_t segments;
	uint64_t conns_total;
	uint64_t conns_active, conns_peak;
	uint64_t evicted;      /* pushed out by max_conns or max_embryonic (still reported) */
	uint64_t expired;      /* ended by a timer while not closed (end "timeout"): idle, handshake idle, half closed */
	uint64_t bad_checksum;
	uint64_t floods;
	uint64_t by_handshake[TP_HS_COUNT];
	uint64_t by_teardown[TP_TD_COUNT];
	uint64_t anomalies[TP_A_COUNT]; /* segments carrying each anomaly, late ones included */
	uint64_t conn_anomalies[TP_A_COUNT]; /* connections carrying each anomaly */
	/* Bytes of lingering connections' state in the front end's store
	 * (spill_write): now, and at most. */
	uint64_t spilled, spilled_peak;
};

struct tp_callbacks {
	void *user;
	void (*amend)(void *user, const struct tp_amend *a);
	void (*conn)(void *user, const struct tp_conn_record *r);
	void (*flood)(void *user, const struct tp_flood *f);
	/*
	 * Optional, both or neither: a store (a temporary file) for what
	 * lingering connections keep that only a late segment or their record
	 * reads again, so that it need not stay in memory. spill_write keeps
	 * len bytes at offset off and returns 0, or nonzero if it cannot
	 * (they then stay in memory); spill_read gives back bytes written
	 * and must not fail (a front end that cannot read its own store has
	 * to stop). Room is used again once free: the store stays about as
	 * large as what lingers at once.
	 */
	void *spill_user;
	int (*spill_write)(void *spill_user, const void *buf, size_t len, uint64_t off);
	void (*spill_read)(void *spill_user, void *buf, size_t len, uint64_t off);
};

struct tp_analyzer;

struct tp_analyzer *tp_analyzer_new(const struct tp_config *cfg, const struct tp_callbacks *cb);
/* Feed the next segment (timestamps should not go backwards by much). The verdict
 * for this segment is written to *out; amendments and records may be issued
 * through the callbacks before it returns. */
void tp_feed(struct tp_analyzer *a, const struct tp_segment *seg, struct tp_verdict *out);
/* Optional cache hints for a reader that decodes ahead; no result depends
 * on them. tp_segment_hash: s's hash in the connection table; it reads only
 * the configuration, so a thread that decodes may call it while another
 * feeds. tp_prefetch_bucket: the segment of that hash will be fed in a
 * while; start loading its slot of the table. tp_prefetch_conn: it comes
 * next but one; start loading its connection. */
uint32_t tp_segment_hash(const struct tp_analyzer *a, const struct tp_segment *s);
void tp_prefetch_bucket(struct tp_analyzer *a, uint32_t hash);
void tp_prefetch_conn(struct tp_analyzer *a, uint32_t hash);
/* tp_feed, given tp_segment_hash of seg (not computed twice). */
void tp_feed_prefetched(struct tp_analyzer *a, const struct tp_segment *seg, uint32_t hash, struct tp_verdict *out);
/* Expire what has timed out at capture time now_ns (tp_feed does this too). */
void tp_advance(struct tp_analyzer *a, int64_t now_ns);
/* End of capture: settle late verdicts, emit every remaining record and open flood. */
void tp_finish(struct tp_analyzer *a);
/*
 * No amendment will concern a frame below the one returned (UINT64_MAX: no
 * amendment is pending at all), so a front end that holds verdicts for
 * their amendments can write out those. A verdict is final once its
 * connection can no longer change it: the latest are the final ACKs of
 * connections lingering in TIME-WAIT (closed_linger). The call walks the
 * connections in their handshake or half-closed: make it now and then.
 */
uint64_t tp_settled_below(const struct tp_analyzer *a);
const struct tp_stats *tp_stats(const struct tp_analyzer *a);

/* What the SYN flood detector counts toward one server (address and port). */
struct tp_server_load {
	uint32_t half_open;  /* connections half-open toward it now */
	uint64_t syns;       /* connection-opening SYNs toward it so far; starts
	                        again from 0 after the server was idle for two
	                        flood windows and forgotten */
};
/* 0 if the detector tracks the server now (*out filled), -1 if not. */
int tp_server_load(const struct tp_analyzer *a, const struct tp_addr *server, uint16_t port,
                   struct tp_server_load *out);
void tp_analyzer_free(struct tp_analyzer *a);

#ifdef __cplusplus
}
#endif
#endif /* TCPPHASE_H */
