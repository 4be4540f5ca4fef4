/*
 * subcmd.c - options and arguments the picture subcommands share: the CLI's
 * analysis options (so a ladder or a timeline shows what `tcpphase -r` with
 * the same options reports), endpoints given as IP:PORT, and standard input
 * spooled for a second pass.
 */
#define _DEFAULT_SOURCE /* mkstemp */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "subcmd.h"

/* Codes of the analysis options, above any subcommand's own. */
enum {
	SUB_OPT_BASE = 1000,
	SUB_CHECKSUMS = SUB_OPT_BASE, SUB_KEYCTX, SUB_SPLIT, SUB_WIRESHARK, SUB_BARE, SUB_SPORTS, SUB_SPILLDIR, SUB_NOSPILL,
	SUB_SEED, SUB_DETUIDS,
	SUB_SECONDS, /* the ones below take a number; see numeric[] */
	SUB_HALFOPEN = SUB_SECONDS, SUB_SYNTO, SUB_IDLE, SUB_HSIDLE, SUB_LINGER, SUB_HALFCLOSED, SUB_FWIN,
	SUB_MAXCONNS, SUB_MAXEMB, SUB_FHO, SUB_FRATE, SUB_FSPREAD, SUB_FRAGTO, SUB_OPT_END
};

static const struct option analysis_opts[] = {
	{ "checksums", required_argument, 0, SUB_CHECKSUMS },
	{ "key-context", no_argument, 0, SUB_KEYCTX },
	{ "split", required_argument, 0, SUB_SPLIT },
	{ "wireshark", required_argument, 0, SUB_WIRESHARK },
	{ "zeek-bare", no_argument, 0, SUB_BARE },
	{ "zeek-server-ports", required_argument, 0, SUB_SPORTS },
	{ "half-open-timeout", required_argument, 0, SUB_HALFOPEN },
	{ "syn-timeout", required_argument, 0, SUB_SYNTO },
	{ "idle-timeout", required_argument, 0, SUB_IDLE },
	{ "handshake-idle-timeout", required_argument, 0, SUB_HSIDLE },
	{ "linger", required_argument, 0, SUB_LINGER },
	{ "half-closed-timeout", required_argument, 0, SUB_HALFCLOSED },
	{ "flood-window", required_argument, 0, SUB_FWIN },
	{ "max-conns", required_argument, 0, SUB_MAXCONNS },
	{ "max-embryonic", required_argument, 0, SUB_MAXEMB },
	{ "flood-min-half-open", required_argument, 0, SUB_FHO },
	{ "flood-min-rate", required_argument, 0, SUB_FRATE },
	{ "flood-min-spread", required_argument, 0, SUB_FSPREAD },
	{ "frag-timeout", required_argument, 0, SUB_FRAGTO },
	{ "spill-dir", required_argument, 0, SUB_SPILLDIR },
	{ "no-spill", no_argument, 0, SUB_NOSPILL },
	{ "seed", required_argument, 0, SUB_SEED },
	{ "deterministic-uids", no_argument, 0, SUB_DETUIDS },
};
#define N_ANALYSIS (sizeof analysis_opts / sizeof analysis_opts[0])

/*
 * Where each numeric option goes in struct sub_analysis (most in its
 * struct tp_config), in what unit, and the
 * values that mean something: a value outside them is refused, never
 * quietly turned into another (a flood window of 0 would divide by zero, a
 * spread above 1 can never be reached, no connection fits a cap of 0).
 */
enum num_kind { NUM_NS, NUM_U32, NUM_DOUBLE };
#define MAX_SECONDS 1e9 /* about 31 years, far inside int64_t nanoseconds */
static const struct {
	size_t off;
	enum num_kind kind;
	double min, max;
	int min_excluded; /* min itself is refused */
} numeric[SUB_OPT_END - SUB_SECONDS] = {
	[SUB_HALFOPEN - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.half_open_timeout_ns), NUM_NS, 0, MAX_SECONDS, 0 },
	[SUB_SYNTO - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.syn_timeout_ns), NUM_NS, 0, MAX_SECONDS, 0 },
	[SUB_IDLE - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.idle_timeout_ns), NUM_NS, 0, MAX_SECONDS, 0 },
	[SUB_HSIDLE - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.handshake_idle_ns), NUM_NS, 0, MAX_SECONDS, 0 },
	[SUB_LINGER - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.closed_linger_ns), NUM_NS, 0, MAX_SECONDS, 0 },
	[SUB_HALFCLOSED - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.half_closed_timeout_ns), NUM_NS, 0, MAX_SECONDS, 0 },
	[SUB_FWIN - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.flood_window_ns), NUM_NS, 0, MAX_SECONDS, 1 },
	[SUB_MAXCONNS - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.max_conns), NUM_U32, 1, UINT32_MAX, 0 },
	[SUB_MAXEMB - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.max_embryonic), NUM_U32, 0, UINT32_MAX, 0 },
	[SUB_FHO - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.flood_min_half_open), NUM_U32, 1, UINT32_MAX, 0 },
	[SUB_FRATE - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.flood_min_syn_rate), NUM_U32, 1, UINT32_MAX, 0 },
	[SUB_FSPREAD - SUB_SECONDS] = { offsetof(struct sub_analysis, cfg.flood_min_spread), NUM_DOUBLE, 0, 1, 0 },
	[SUB_FRAGTO - SUB_SECONDS] = { offsetof(struct sub_analysis, frag_timeout_ns), NUM_NS, 0, MAX_SECONDS, 1 },
};

void sub_analysis_default(struct sub_analysis *an)
{
	memset(an, 0, sizeof *an);
	tp_config_default(&an->cfg);
}

static const char *out_name(const char *path)
{
	return path && strcmp(path, "-") ? path : "standard output";
}

FILE *sub_open_out(const char *prog, const char *path)
{
	if (!path || strcmp(path, "-") == 0)
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	return f;
}

int sub_flush(FILE *f, int *err)
{
	errno = 0;
	int bad = fflush(f) != 0 || ferror(f);
	if (bad && !*err)
		*err = errno;
	return bad ? -1 : 0;
}

int sub_close_out(const char *prog, FILE *f, const char *path, int err)
{
	int bad = sub_flush(f, &err) != 0;
	if (f != stdout && fclose(f) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	if (!bad)
		return SUB_EXIT_OK;
	fprintf(stderr, "%s: %s: %s\n", prog, out_name(path), err ? strerror(err) : "write error");
	return SUB_EXIT_OUTPUT;
}

void sub_longopts(struct option *out, size_t cap, const struct option *own)
{
	size_t n = 0;
	for (; own->name && n + 1 < cap; own++)
		out[n++] = *own;
	for (size_t i = 0; i < N_ANALYSIS && n + 1 < cap; i++)
		out[n++] = analysis_opts[i];
	memset(&out[n], 0, sizeof out[n]);
}

static const char *opt_name(int opt)
{
	for (size_t i = 0; i < N_ANALYSIS; i++)
		if (analysis_opts[i].val == opt)
			return analysis_opts[i].name;
	return "?";
}

/* "--max-conns takes a whole number from 1 to 4294967295", and so on. */
static void refuse_numeric(int opt, const char *arg)
{
	int i = opt - SUB_SECONDS;
	const char *what = numeric[i].kind == NUM_NS ? "a number of seconds" : numeric[i].kind == NUM_U32 ? "a whole number" : "a number";
	fprintf(stderr, "tcpphase: --%s takes %s %s %g%s %.10g, not '%s'\n", opt_name(opt), what,
	        numeric[i].min_excluded ? "above" : "from", numeric[i].min, numeric[i].min_excluded ? ", up to" : " to",
	        numeric[i].max, arg);
}

/* A finite decimal number, the whole argument (strtod also reads "nan"
 * and "inf", which compare as no range expects). */
static int parse_num(const char *s, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

static int set_numeric(int opt, const char *arg, struct sub_analysis *an)
{
	int i = opt - SUB_SECONDS;
	double d;
	if (parse_num(arg, &d) != 0 || d < numeric[i].min || d > numeric[i].max ||
	    (numeric[i].min_excluded && d == numeric[i].min) || (numeric[i].kind == NUM_U32 && d != floor(d))) {
		refuse_numeric(opt, arg);
		return -1;
	}
	char *field = (char *)an + numeric[i].off;
	switch (numeric[i].kind) {
	case NUM_NS: *(int64_t *)(void *)field = (int64_t)(d * 1e9); break;
	case NUM_U32: *(uint32_t *)(void *)field = (uint32_t)d; break;
	case NUM_DOUBLE: *(double *)(void *)field = d; break;
	}
	return 0;
}

/* "80,443" into the static list the core's config points to (it must
 * outlive tp_analyzer_new); an empty string is no ports at all. */
static int set_server_ports(const char *s, struct tp_config *cfg)
{
	static uint16_t ports[65536];
	uint32_t n = 0;
	while (*s) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(s, &end, 10);
		if (errno || end == s || v > 65535 || (*end && *end != ',') || n >= 65536) {
			fprintf(stderr, "tcpphase: --zeek-server-ports takes a comma-separated list of ports\n");
			return -1;
		}
		ports[n++] = (uint16_t)v;
		s = *end ? end + 1 : end;
	}
	cfg->zeek_server_ports = ports;
	cfg->zeek_n_server_ports = n;
	return 0;
}

/* --seed N: any 64-bit number, decimal or 0x hex. */
static int set_seed(const char *arg, struct sub_analysis *an)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || *arg == '-') {
		fprintf(stderr, "tcpphase: --seed takes a whole number from 0 to 18446744073709551615, not '%s'\n", arg);
		return -1;
	}
	an->cfg.uid_seed = (uint64_t)v;
	an->uid_seed_given = 1;
	return 0;
}

int sub_analysis_opt(int opt, const char *arg, struct sub_analysis *an)
{
	if (opt < SUB_OPT_BASE || opt >= SUB_OPT_END)
		return 1;
	if (opt >= SUB_SECONDS)
		return set_numeric(opt, arg, an);
	switch (opt) {
	case SUB_CHECKSUMS:
		if (strcmp(arg, "verify") && strcmp(arg, "ignore")) {
			fprintf(stderr, "tcpphase: --checksums takes verify or ignore\n");
			return -1;
		}
		an->cfg.checksum_verify = an->verify_checksums = strcmp(arg, "verify") == 0;
		return 0;
	case SUB_KEYCTX: an->cfg.key_context = 1; return 0;
	case SUB_SPLIT:
		if (strcmp(arg, "wireshark") && strcmp(arg, "zeek")) {
			fprintf(stderr, "tcpphase: --split takes wireshark or zeek\n");
			return -1;
		}
		an->cfg.split = strcmp(arg, "zeek") == 0 ? TP_SPLIT_ZEEK : TP_SPLIT_WIRESHARK;
		return 0;
	case SUB_WIRESHARK:
		/* 4.4 and 4.6 split and count alike (core/tcpphase.h) */
		if (strcmp(arg, "4.0") && strcmp(arg, "4.4") && strcmp(arg, "4.6")) {
			fprintf(stderr, "tcpphase: --wireshark takes 4.0, 4.4 or 4.6\n");
			return -1;
		}
		an->cfg.wireshark = strcmp(arg, "4.0") == 0 ? TP_WS_4_0 : TP_WS_4_4;
		return 0;
	case SUB_BARE: return set_server_ports("", &an->cfg);
	case SUB_SPORTS: return set_server_ports(arg, &an->cfg);
	case SUB_SPILLDIR: an->spill_dir = arg; return 0;
	case SUB_NOSPILL: an->no_spill = 1; return 0;
	case SUB_SEED: return set_seed(arg, an);
	case SUB_DETUIDS: /* seed 0: the uids of before seeds, the same in every capture */
		an->cfg.uid_seed = 0;
		an->uid_seed_given = 1;
		return 0;
	}
	return 1;
}

static int is_own(const struct option *own, int opt)
{
	for (; own && own->name; own++)
		if (own->val == opt)
			return 1;
	return 0;
}

int sub_parse_args(int argc, char **argv, const struct sub_args *spec, struct sub_analysis *an, const char **file,
                   const char **out, const char **key)
{
	struct option own[8] = { { spec->key_opt, required_argument, 0, 'k' }, { "help", no_argument, 0, 'h' } };
	for (size_t i = 0, n = 2; spec->own && spec->own[i].name && n + 1 < sizeof own / sizeof own[0]; i++)
		own[n++] = spec->own[i];
	struct option longopts[48];
	sub_longopts(longopts, sizeof longopts / sizeof longopts[0], own);
	int opt, rc;
	optind = 1;
	argv[0] = (char *)spec->name; /* getopt's messages name the subcommand */
	while ((opt = getopt_long(argc, argv, "r:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (*file) { /* a picture is of one capture file */
				fprintf(stderr, "%s: one -r FILE only (mergecap can join files into one)\n", spec->name);
				return -1;
			}
			*file = optarg;
			break;
		case 'o': *out = optarg; break;
		case 'k': *key = optarg; break;
		case 'h': spec->usage(stdout); exit(SUB_EXIT_OK);
		default:
			if (spec->own_opt && is_own(spec->own, opt)) {
				if (spec->own_opt(opt, optarg, spec->user) != 0)
					return -1;
				break;
			}
			if ((rc = sub_analysis_opt(opt, optarg, an)) == 0)
				break;
			if (rc > 0)
				fprintf(stderr, "see %s --help\n", spec->name);
			return -1;
		}
	}
	if (!*file || !*key || optind < argc) {
		fprintf(stderr, "%s: give -r FILE and --%s %s%s\n", spec->name, spec->key_opt, spec->key_arg,
		        optind < argc ? " (and nothing else)" : "");
		fprintf(stderr, "see %s --help\n", spec->name);
		return -1;
	}
	return 0;
}

void sub_usage_analysis(FILE *f)
{
	fprintf(f, "analysis, as for tcpphase -r (see tcpphase --help):\n");
	for (size_t i = 0; i < N_ANALYSIS; i++) {
		const char *arg = analysis_opts[i].has_arg == no_argument ? ""
		                  : analysis_opts[i].val == SUB_SPORTS   ? " LIST"
		                  : analysis_opts[i].val == SUB_WIRESHARK ? " VERSION"
		                  : analysis_opts[i].val == SUB_SPILLDIR ? " DIR"
		                  : analysis_opts[i].val == SUB_SEED     ? " N"
		                  : analysis_opts[i].val == SUB_CHECKSUMS || analysis_opts[i].val == SUB_SPLIT ? " MODE"
		                  : analysis_opts[i].val == SUB_FSPREAD  ? " F"
		                  : analysis_opts[i].val >= SUB_MAXCONNS ? " N"
		                                                         : " S";
		fprintf(f, "      --%s%s\n", analysis_opts[i].name, arg);
	}
}

/* ---- endpoints ----------------------------------------------------------- */

int sub_addr_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

int sub_parse_endpoint(const char *s, const char *stop, struct tp_addr *a, uint16_t *port, const char **end)
{
	char host[64];
	const char *h = s, *colon;
	size_t hl;
	if (*s == '[') { /* IPv6 in brackets, as in a URL: its colons are not the port's */
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon || (stop && colon > stop))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, host, a->bytes) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, host, a->bytes) == 1)
		a->family = 6;
	else
		return -1;
	char *pend;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &pend, 10);
	if (errno || pend == colon + 1 || p > 65535 || (stop ? pend != stop : *pend != '\0'))
		return -1;
	*port = (uint16_t)p;
	if (end)
		*end = pend;
	return 0;
}

char *sub_endpoint_str(const struct tp_addr *a, uint16_t port, char *buf, size_t len)
{
	char h[48];
	tp_addr_str(a, h, sizeof h);
	snprintf(buf, len, "%s%s%s:%u", a->family == 6 ? "[" : "", h, a->family == 6 ? "]" : "", port);
	return buf;
}

const char *sub_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return strcmp(path, "-") == 0 ? "<stdin>" : slash ? slash + 1 : path;
}

const char *sub_tmp_dir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

int sub_spool_stdin(char *buf, size_t len)
{
	snprintf(buf, len, "%s/tcpphase-stdin-XXXXXX", sub_tmp_dir());
	int fd = mkstemp(buf);
	if (fd < 0)
		return -1;
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (write(fd, chunk, n) != (ssize_t)n) {
			rc = -1;
			break;
		}
	if (ferror(stdin))
		rc = -1;
	close(fd);
	if (rc)
		unlink(buf);
	return rc;
}
