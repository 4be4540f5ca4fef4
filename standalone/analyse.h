/*
 * analyse.h - one analysis run of the CLI: read a capture (a file or stdin
 * with capfile.c, a live interface with libpcap), decode each packet, feed
 * the core and pass on what it concludes.
 *
 * `tcpphase -r/-i` passes it to the record writers (output.c); the picture
 * subcommands (ladder.c, timeline.c) to hooks of their own. Both go through
 * the same reading, decoding and feeding, so that a picture shows exactly
 * what the records say: there is no second analysis.
 */
#ifndef TP_ANALYSE_H
#define TP_ANALYSE_H

#include <stdint.h>
#include <stdio.h>

#include "output.h"
#include "subcmd.h"
#include "tcpphase.h"

/* What `tcpphase -r FILE | -i IFACE` asks for, as main.c parsed it. */
struct cli_run {
	/* -r, as often as given: files and folders of them, read as one
	 * capture in time order (capset.h); "-" (standard input) only alone */
	const char *const *files;
	size_t nfiles;
	const char *iface;  /* -i, or NULL: exactly one of files and iface */
	const char *filter; /* a BPF expression; NULL or "" for none */
	const struct sub_analysis *an;
	FILE *f;            /* where the records go; the caller closes it */
	enum out_format fmt;
	int color;
	enum out_time time; /* --time */
	int segments;       /* one record per segment (--segments) */
	int conns;          /* connection records (without --segments, or --conns) */
	int summary;        /* the end-of-run summary (not --no-summary) */
	uint32_t shard_k, shard_n; /* --shard K/N; shard_n 0: every connection */
	int64_t stats_every_ns;    /* live: a progress record this often (--stats-every); 0: none */
	tp_anomaly_set only;       /* --anomaly, --only-anomalies: records with one of these (0: all) */
};

/*
 * The run itself: Ctrl-C (SIGINT, SIGTERM) ends it, and what was read is
 * still analysed and reported. Returns the CLI's exit code: SUB_EXIT_OK,
 * SUB_EXIT_USAGE (the filter does not compile), SUB_EXIT_INPUT (the input
 * cannot be opened) or SUB_EXIT_DAMAGED (a damaged record, a read error).
 * A live capture stops once writing its records fails; *write_errno gets
 * why (sub_flush), for the caller's sub_close_out.
 */
int analyse_cli(const struct cli_run *c, int *write_errno);

/* What a picture subcommand is told instead of records being written. */
struct sub_hooks {
	void *user;
	/* Every TCP segment as the front end decoded it, with the verdict
	 * tp_feed() gave (an: the analyzer, to ask it more); later amendments
	 * to it come through amend. */
	void (*segment)(void *user, const struct tp_analyzer *an, const struct tp_segment *seg,
	                const struct tp_verdict *v);
	void (*amend)(void *user, const struct tp_amend *a);
	void (*conn)(void *user, const struct tp_conn_record *r);
	void (*flood)(void *user, const struct tp_flood *f);
	/* Before any segment: the capture's uid seed (tp_conn_uid). */
	void (*uid_seed)(void *user, uint64_t seed);
	/* After tp_finish(): what the end of the capture settled. */
	void (*finish)(void *user, const struct tp_analyzer *an);
};

/*
 * Read FILE ("-": standard input) as `tcpphase -r FILE` does (same warnings
 * on stderr), calling the hooks; tp_finish() at the end. Returns the CLI's
 * exit code: SUB_EXIT_OK, SUB_EXIT_INPUT (cannot open) or SUB_EXIT_DAMAGED.
 */
int sub_analyse(const char *file, const struct sub_analysis *an, const struct sub_hooks *h);

#endif /* TP_ANALYSE_H */
