/*
 * main.c - the tcpphase command line: the options read and checked, then
 * handed on, to the run (analyse.c) or to a picture subcommand (ladder.c,
 * timeline.c), which reads options of its own.
 */
#define _DEFAULT_SOURCE /* fileno */
#include <getopt.h>
#include <pcap/pcap.h> /* -V names the libpcap linked */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyse.h"
#include "output.h"
#include "subcmd.h"
#include "tcpphase.h"

/* What the option readers return to go on; anything else is the exit code
 * to stop with. */
#define GO_ON (-1)

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tcpphase -r FILE... | -i IFACE [options] [BPF filter expression]\n"
	        "       tcpphase ladder -r FILE --conn UID|FRAME|TUPLE [-o OUT.svg] [options]\n"
	        "       tcpphase timeline -r FILE --server IP:PORT [-o OUT.svg] [options]\n"
	        "\n"
	        "Infer where every TCP segment sits in its connection's life (handshake, data,\n"
	        "teardown, reset), both endpoints' RFC 9293 states, and what went wrong.\n"
	        "\n"
	        "input:\n"
	        "  -r FILE                 read a pcap or pcapng file ('-' for standard input);\n"
	        "                          -r again, or a folder, for several files read as one\n"
	        "                          capture in time order (rotated captures)\n"
	        "  -i IFACE                capture live (Ctrl-C stops and reports everything)\n"
	        "      --stats-every S     with -i: a progress line (a \"stats\" record in JSON)\n"
	        "                          every S seconds\n"
	        "  [filter]                a tcpdump filter expression, e.g. 'port 443'\n"
	        "output:\n"
	        "  -s, --segments          one record per segment instead of per connection\n"
	        "      --conns             connection records too (with --segments)\n"
	        "      --anomaly LIST      only records (connections or segments) carrying one of\n"
	        "                          these anomalies, e.g. half_open,lost_final_ack\n"
	        "      --only-anomalies    only records carrying any anomaly\n"
	        "  -F, --format FMT        text (default), json, csv, zeek (conn.log TSV)\n"
	        "  -w, --write FILE        write records to FILE instead of standard output\n"
	        "      --color WHEN        auto (default), always, never\n"
	        "      --time STYLE        times in text: relative (default: seconds since the\n"
	        "                          first segment), absolute (ISO 8601, UTC) or epoch\n"
	        "      --no-summary        leave out the end-of-run summary\n"
	        "analysis:\n"
	        "      --checksums MODE    ignore (default) or verify TCP checksums; verified-bad\n"
	        "                          segments are then not analysed, as Zeek does\n"
	        "      --key-context       VLAN and tunnel context are part of the connection key\n"
	        "      --split MODE        wireshark (default: as tcp.stream) or zeek (as Zeek's\n"
	        "                          uids: a closed connection is forgotten after 5 s)\n"
	        "      --wireshark VERSION  whose tcp.stream and tcp.completeness to follow:\n"
	        "                          4.6 (default; 4.4 is the same) or 4.0\n"
	        "      --zeek-bare         no likely-server ports, as under zeek -b\n"
	        "      --zeek-server-ports LIST  Zeek's likely-server ports (default: the ports\n"
	        "                          Zeek's default scripts register), e.g. 80,443\n"
	        "      --half-open-timeout S   SYN-ACK unanswered this long: half_open (3)\n"
	        "      --syn-timeout S     SYN unanswered this long: syn_unanswered (3)\n"
	        "      --idle-timeout S    established connection idle this long: expired (3600)\n"
	        "      --handshake-idle-timeout S  a handshake that never completed, idle this long\n"
	        "                          after its last verdict: the connection ends (120)\n"
	        "      --linger S          a closed or reset connection is kept this long for\n"
	        "                          late segments (a resent FIN), then written (60)\n"
	        "      --half-closed-timeout S  one FIN, peer silent this long: half_closed (60)\n"
	        "      --frag-timeout S    an incomplete IP datagram is dropped this long after\n"
	        "                          its first fragment (Linux: 30 for IPv4, 60 for IPv6)\n"
	        "      --max-conns N       tracked connections at most (1000000); the oldest\n"
	        "                          embryonic ones are evicted first, and counted\n"
	        "      --max-embryonic N   connections still in their handshake at most\n"
	        "                          (65536), like a SYN backlog: a SYN flood evicts\n"
	        "                          the oldest, still reported and counted (0: no cap)\n"
	        "      --spill-dir DIR     keep the state of closed connections lingering in\n"
	        "                          TIME-WAIT in a temporary file in DIR rather than in\n"
	        "                          memory (default: $TMPDIR, else /tmp)\n"
	        "      --no-spill          keep it in memory\n"
	        "      --flood-window S    SYN flood sliding window (1)\n"
	        "      --flood-min-half-open N   (100)\n"
	        "      --flood-min-rate N  SYNs per window toward one server (200)\n"
	        "      --flood-min-spread F  distinct sources per SYN in the window (0.5)\n"
	        "      --shard K/N         only the connections of shard K (0..N-1) of N, by a\n"
	        "                          hash of addresses and ports: N processes split a capture\n"
	        "      --seed N            uids from seed N (default: from the capture's first\n"
	        "                          packet, so that other captures get other uids)\n"
	        "      --deterministic-uids  the same uids in every capture (--seed 0)\n"
	        "      --list-anomalies    the anomaly kinds, their severity and meaning\n"
	        "  -h, --help              this text\n"
	        "  -V, --version           version\n"
	        "pictures of one file (tcpphase ladder --help, tcpphase timeline --help):\n"
	        "  ladder                  one connection as a ladder diagram (SVG, or text on a\n"
	        "                          terminal); --conn by uid, frame or SRC:PORT-DST:PORT\n"
	        "  timeline                a server's half-open count and SYN rate over time,\n"
	        "                          SYN floods shaded (SVG); --server IP:PORT\n"
	        "\n"
	        "exit codes: 0 success; 1 usage error; 2 input cannot be opened or read at all;\n"
	        "            3 the capture was damaged (truncated or corrupt): what could be read\n"
	        "              was analysed and reported; 4 the output could not be written\n"
	        "              (-w cannot be created, a full disk, ...)\n");
}

enum { OPT_CONNS = 256, OPT_COLOR, OPT_NOSUMMARY, OPT_LIST, OPT_SHARD, OPT_STATS, OPT_ANOMALY, OPT_ONLY, OPT_TIME };

/* The core's anomaly table, as a Markdown table (the README embeds it). */
static void list_anomalies(void)
{
	printf("| id | severity | meaning |\n|---|---|---|\n");
	for (int i = 0; i < TP_A_COUNT; i++)
		printf("| `%s` | %s | %s |\n", tp_anomaly_table[i].name,
		       tp_severity_name(tp_anomaly_table[i].severity), tp_anomaly_table[i].summary);
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* The command line as read so far. */
struct cli {
	struct cli_run run;
	const char **files; /* -r, in order (argc entries) */
	struct sub_analysis an;
	const char *wfile, *color;
	int conns_too;
};

static int parse_shard(const char *arg, struct cli_run *run)
{
	unsigned k, n;
	char tail;
	if (sscanf(arg, "%u/%u%c", &k, &n, &tail) != 2 || n == 0 || k >= n) {
		fprintf(stderr, "tcpphase: --shard takes K/N with 0 <= K < N, e.g. 0/4\n");
		return SUB_EXIT_USAGE;
	}
	run->shard_k = k;
	run->shard_n = n;
	return GO_ON;
}

static int parse_stats_every(const char *arg, struct cli_run *run)
{
	char *end;
	double d = strtod(arg, &end);
	if (end == arg || *end || !(d >= 0.1 && d <= 86400)) {
		fprintf(stderr, "tcpphase: --stats-every takes a number of seconds from 0.1 to 86400, not '%s'\n", arg);
		return SUB_EXIT_USAGE;
	}
	run->stats_every_ns = (int64_t)(d * 1e9);
	return GO_ON;
}

/* "half_open,lost_final_ack": records carrying any of them (several
 * --anomaly add up). */
static int parse_anomalies(const char *arg, struct cli_run *run)
{
	char name[64];
	for (const char *p = arg;; p++) {
		size_t n = strcspn(p, ",");
		int a = n < sizeof name ? (memcpy(name, p, n), name[n] = '\0', tp_anomaly_by_name(name)) : -1;
		if (a < 0) {
			fprintf(stderr, "tcpphase: --anomaly takes anomaly ids separated by commas (tcpphase "
			                "--list-anomalies names them), not '%.*s'\n", (int)n, p);
			return SUB_EXIT_USAGE;
		}
		run->only |= TP_ABIT(a);
		p += n;
		if (!*p)
			return GO_ON;
	}
}

/* Not one of the CLI's own: an analysis option, or the usage. */
static int analysis_option(int opt, const char *arg, struct sub_analysis *an)
{
	int rc = sub_analysis_opt(opt, arg, an);
	if (rc > 0) /* getopt named the option; the whole usage would hide that line */
		fprintf(stderr, "see tcpphase --help\n");
	return rc == 0 ? GO_ON : SUB_EXIT_USAGE;
}

/* -h, -V and --list-anomalies answer at once, whatever follows them. */
static int apply_option(int opt, const char *arg, struct cli *c)
{
	switch (opt) {
	case 'r': c->files[c->run.nfiles++] = arg; break;
	case 'i': c->run.iface = arg; break;
	case 's': c->run.segments = 1; break;
	case OPT_CONNS: c->conns_too = 1; break;
	case 'F':
		if (out_parse_format(arg, &c->run.fmt) != 0) {
			fprintf(stderr, "tcpphase: unknown format '%s' (text, json, csv, zeek)\n", arg);
			return SUB_EXIT_USAGE;
		}
		break;
	case 'w': c->wfile = arg; break;
	case OPT_COLOR: c->color = arg; break;
	case OPT_TIME:
		if (out_parse_time(arg, &c->run.time) != 0) {
			fprintf(stderr, "tcpphase: --time takes relative, absolute or epoch, not '%s'\n", arg);
			return SUB_EXIT_USAGE;
		}
		break;
	case OPT_NOSUMMARY: c->run.summary = 0; break;
	case OPT_LIST: list_anomalies(); return SUB_EXIT_OK;
	case OPT_SHARD: return parse_shard(arg, &c->run);
	case OPT_STATS: return parse_stats_every(arg, &c->run);
	case OPT_ANOMALY: return parse_anomalies(arg, &c->run);
	case OPT_ONLY: c->run.only = ~(tp_anomaly_set)0; break;
	case 'h': usage(stdout); return SUB_EXIT_OK;
	case 'V': printf("tcpphase %s (%s)\n", TP_VERSION, pcap_lib_version()); return SUB_EXIT_OK;
	default: return analysis_option(opt, arg, &c->an);
	}
	return GO_ON;
}

static int parse_options(int argc, char **argv, struct cli *c)
{
	static const struct option own[] = {
		{ "segments", no_argument, 0, 's' },       { "conns", no_argument, 0, OPT_CONNS },
		{ "format", required_argument, 0, 'F' },   { "write", required_argument, 0, 'w' },
		{ "color", required_argument, 0, OPT_COLOR }, { "no-summary", no_argument, 0, OPT_NOSUMMARY },
		{ "list-anomalies", no_argument, 0, OPT_LIST }, { "shard", required_argument, 0, OPT_SHARD },
		{ "stats-every", required_argument, 0, OPT_STATS }, { "time", required_argument, 0, OPT_TIME },
		{ "anomaly", required_argument, 0, OPT_ANOMALY }, { "only-anomalies", no_argument, 0, OPT_ONLY },
		{ "help", no_argument, 0, 'h' },           { "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	/* The analysis options are the ones the subcommands take too (subcmd.c). */
	struct option longopts[48];
	sub_longopts(longopts, sizeof longopts / sizeof longopts[0], own);
	int opt, rc = GO_ON;
	while (rc == GO_ON && (opt = getopt_long(argc, argv, "r:i:sF:w:hV", longopts, NULL)) != -1)
		rc = apply_option(opt, optarg, c);
	return rc;
}

/* What the options mean together; -w's file opened. */
static int check_options(struct cli *c)
{
	struct cli_run *run = &c->run;
	if (!run->nfiles == !run->iface) {
		fprintf(stderr, "tcpphase: give -r FILE or -i IFACE, not both\nsee tcpphase --help\n");
		return SUB_EXIT_USAGE;
	}
	for (size_t i = 0; i < run->nfiles && run->nfiles > 1; i++)
		if (strcmp(c->files[i], "-") == 0) {
			fprintf(stderr, "tcpphase: -r - (standard input) cannot be read with other files\n");
			return SUB_EXIT_USAGE;
		}
	run->files = c->files;
	if (strcmp(c->color, "auto") && strcmp(c->color, "always") && strcmp(c->color, "never")) {
		fprintf(stderr, "tcpphase: --color takes auto, always or never, not '%s'\n", c->color);
		return SUB_EXIT_USAGE;
	}
	if (run->stats_every_ns && !run->iface) {
		fprintf(stderr, "tcpphase: --stats-every is for a live capture (-i IFACE)\n");
		return SUB_EXIT_USAGE;
	}
	if (c->conns_too && !run->segments) {
		fprintf(stderr, "tcpphase: --conns adds connection records to --segments: give -s too, or leave it out\n");
		return SUB_EXIT_USAGE;
	}
	if (run->segments && run->fmt == OUT_ZEEK) {
		fprintf(stderr, "tcpphase: the zeek format is a conn.log: it has no per-segment records\n");
		return SUB_EXIT_USAGE;
	}
	run->conns = !run->segments || c->conns_too;
	if (c->wfile && !(run->f = sub_open_out("tcpphase", c->wfile)))
		return SUB_EXIT_OUTPUT;
	run->color = strcmp(c->color, "always") == 0 ||
	             (strcmp(c->color, "auto") == 0 && run->fmt == OUT_TEXT && isatty(fileno(run->f)) && !getenv("NO_COLOR"));
	return GO_ON;
}

int main(int argc, char **argv)
{
	/* Subcommands first: they have options of their own. */
	if (argc > 1 && strcmp(argv[1], "ladder") == 0)
		return ladder_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "timeline") == 0)
		return timeline_main(argc - 1, argv + 1);
	struct cli c = { .run = { .f = stdout, .summary = 1 }, .color = "auto" };
	if (!(c.files = calloc((size_t)argc, sizeof *c.files))) {
		fprintf(stderr, "tcpphase: out of memory\n");
		return SUB_EXIT_INPUT;
	}
	c.run.an = &c.an;
	sub_analysis_default(&c.an);
	int rc = parse_options(argc, argv, &c);
	if (rc == GO_ON)
		rc = check_options(&c);
	if (rc != GO_ON) {
		free(c.files);
		return rc;
	}
	char *filter = join_args(argc - optind, argv + optind); /* what is left: the BPF expression */
	c.run.filter = filter;
	int write_errno = 0;
	rc = analyse_cli(&c.run, &write_errno);
	int wr = sub_close_out("tcpphase", c.run.f, c.wfile, write_errno);
	free(filter);
	free(c.files);
	return wr != SUB_EXIT_OK ? wr : rc;
}
