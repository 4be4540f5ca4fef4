/*
 * output.h - render the core's verdicts, records, alerts and summary in the
 * CLI's formats: aligned text (coloured on a terminal), JSON Lines, CSV and
 * Zeek conn.log TSV. Renders only: every value comes from the core.
 */
#ifndef TP_OUTPUT_H
#define TP_OUTPUT_H

#include <stdio.h>

#include "decode.h"
#include "tcpphase.h"

enum out_format { OUT_TEXT = 0, OUT_JSON, OUT_CSV, OUT_ZEEK };
/* How text shows a moment (--time): seconds since the capture's first
 * segment, ISO 8601 UTC, or seconds since the epoch. JSON, CSV and Zeek
 * keep epoch seconds, as Zeek writes them. */
enum out_time { OUT_TIME_RELATIVE = 0, OUT_TIME_ABSOLUTE, OUT_TIME_EPOCH };
#define OUT_UID_CACHE 1024 /* a power of two */

struct out {
	FILE *f;
	enum out_format fmt;
	int color;
	enum out_time time;
	int segments; /* the primary records are segments (else connections) */
	int conns;    /* connection records too */
	int header_done;
	int64_t first_ts; /* for relative times in text: the first segment's, written or not */
	int first_ts_set;
	/* --anomaly, --only-anomalies: only records carrying one of these (0:
	 * every record); alerts and the summary are never filtered */
	tp_anomaly_set only;
	uint64_t uid_seed; /* the capture's (tp_conn_uid) */
	/* uids of recent connections by first frame: segments of a few hundred
	 * connections interleave, and a uid costs 17 rounds of mixing */
	struct {
		uint64_t frame;
		char uid[19];
		uint8_t valid;
	} uids[OUT_UID_CACHE];
};

int out_parse_format(const char *s, enum out_format *fmt);
int out_parse_time(const char *s, enum out_time *t);
/* The capture's first segment's time, which text times are relative to;
 * only the first call counts. */
void out_first_time(struct out *o, int64_t ts_ns);
void out_segment(struct out *o, const struct tp_verdict *v);
void out_conn(struct out *o, const struct tp_conn_record *r);
void out_flood(struct out *o, const struct tp_flood *fl);

struct out_run_info {
	const char *source;
	uint64_t packets;
	uint64_t read_errors;
	const struct tp_decode_stats *dec;
	uint64_t pcap_drops; /* live capture: dropped by the kernel */
	int interrupted;
	uint32_t shard_k, shard_n; /* --shard K/N; shard_n 0 when not sharded */
	uint64_t other_shard;      /* segments left to the other shards */
	const char *filter;        /* -f, or NULL */
	uint64_t filtered;         /* packets it left out */
};
void out_summary(struct out *o, const struct tp_stats *st, const struct out_run_info *ri);
/* A progress record while capturing (--stats-every): a "stats" record in
 * JSON; a line on stderr otherwise, so that tables stay one kind of row. */
void out_progress(struct out *o, const struct tp_stats *st, uint64_t packets, int64_t now_ns);

#endif /* TP_OUTPUT_H */
