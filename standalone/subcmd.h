/*
 * subcmd.h - what the picture subcommands (`tcpphase ladder`, ladder.c;
 * `tcpphase timeline`, timeline.c) share with the CLI: its exit codes and
 * analysis options (subcmd.c). The run that feeds them is analyse.h's.
 */
#ifndef TP_SUBCMD_H
#define TP_SUBCMD_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpphase.h"

/* The CLI's exit codes (README, --help, man page). */
enum { SUB_EXIT_OK = 0, SUB_EXIT_USAGE = 1, SUB_EXIT_INPUT = 2, SUB_EXIT_DAMAGED = 3, SUB_EXIT_OUTPUT = 4 };

/* The analysis the subcommands ask for: the core's configuration and the
 * decoder's checksum mode, as the CLI's options set them. */
struct sub_analysis {
	struct tp_config cfg;
	int verify_checksums;
	const char *spill_dir; /* --spill-dir (NULL: $TMPDIR, else /tmp) */
	int no_spill;          /* --no-spill */
	/* --seed or --deterministic-uids set cfg.uid_seed; else each run puts
	 * the capture's own there (tp_uid_seed of its first packet). */
	int uid_seed_given;
	/* --frag-timeout: an incomplete IP datagram is dropped this long after
	 * its first fragment (0: Linux's ipfrag_time 30 s, ip6frag_time 60 s) */
	int64_t frag_timeout_ns;
};

/* The subcommands, from their own name on (argv[0] "ladder"): main.c
 * hands them the command line before it reads any option. */
int ladder_main(int argc, char **argv);
int timeline_main(int argc, char **argv);

/* ---- subcmd.c ------------------------------------------------------------ */

void sub_analysis_default(struct sub_analysis *an);
/*
 * Where records or a picture go: the file PATH, or standard output for NULL
 * or "-". NULL after "PROG: PATH: reason" on stderr (exit SUB_EXIT_OUTPUT).
 */
FILE *sub_open_out(const char *prog, const char *path);
/*
 * Flush f. stdio forgets why a write failed once a flush has reported it,
 * so the first reason is kept in *err (0 while none); 0, or -1 if f's
 * output has failed, now or before.
 */
int sub_flush(FILE *f, int *err);
/*
 * The end of what was written to f (from sub_open_out, PATH as given to
 * it): flushed, and closed unless it is standard output. A write that
 * failed at any time (a full disk, a closed pipe) is reported as
 * "PROG: PATH: reason", the reason being err if sub_flush kept one, and
 * gives SUB_EXIT_OUTPUT; else SUB_EXIT_OK. No output is lost without a word.
 */
int sub_close_out(const char *prog, FILE *f, const char *path, int err);
/* own (terminated by a zero entry) followed by the CLI's analysis options,
 * into out (cap entries, terminator included). */
void sub_longopts(struct option *out, size_t cap, const struct option *own);
/* getopt_long's answer opt, if it is an analysis option: applied to an,
 * returns 0 (or -1 after a message for a bad value); 1 if not one of them. */
int sub_analysis_opt(int opt, const char *arg, struct sub_analysis *an);
/* The analysis options' lines of a subcommand's --help. */
void sub_usage_analysis(FILE *f);

/* What a subcommand's command line looks like: -r FILE, -o OUT, -h, the
 * analysis options, one required --KEY_OPT KEY_ARG, and the subcommand's
 * own options if it has any. */
struct sub_args {
	const char *name;    /* "tcpphase ladder" */
	const char *key_opt; /* "conn" */
	const char *key_arg; /* "UID|FRAME|TUPLE", for the message */
	void (*usage)(FILE *f);
	/* Long options of this subcommand only (NULL, or ended by a zero
	 * entry; val below 1000, where the analysis options' codes begin),
	 * handed to own_opt with user: 0, or -1 after a message. */
	const struct option *own;
	int (*own_opt)(int opt, const char *arg, void *user);
	void *user;
};
/* Parse argv; -h prints usage and exits 0; -1 after a message. */
int sub_parse_args(int argc, char **argv, const struct sub_args *spec, struct sub_analysis *an, const char **file,
                   const char **out, const char **key);

/* "10.0.0.1:80" or "[fd00::1]:80" up to the first byte of stop (or the end);
 * *end after it. 0 on success. */
int sub_parse_endpoint(const char *s, const char *stop, struct tp_addr *a, uint16_t *port, const char **end);
/* "10.0.0.1:80", "[fd00::1]:80" into buf (>= 64 bytes); returns buf. */
char *sub_endpoint_str(const struct tp_addr *a, uint16_t port, char *buf, size_t len);
int sub_addr_eq(const struct tp_addr *a, const struct tp_addr *b);
/* The file name without its folders, for titles. */
const char *sub_basename(const char *path);
/* Standard input copied to a temporary file, for a second pass; its path in
 * buf (unlink it when done). 0 on success. */
int sub_spool_stdin(char *buf, size_t len);
/* Where temporary files go: $TMPDIR, else /tmp. */
const char *sub_tmp_dir(void);

#endif /* TP_SUBCMD_H */
