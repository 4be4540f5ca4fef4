/*
 * capset.c - see capset.h.
 *
 * Each file is read twice at its start: once when the set is opened, to
 * learn when its first packet was taken (the files are then sorted by it),
 * and again from its start once its packets are due. Only the second
 * reading reports damage, so every message comes once, in capture order.
 * The files whose packets are due wait in a heap by their next packet's
 * time; ties go to the file that starts first, so that a capture split in
 * two reads back in its own order.
 */
#define _DEFAULT_SOURCE
#include "capset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct member {
	char *path;
	size_t given;       /* its place on the command line, for ties */
	int64_t first_ts;   /* its first packet's time (INT64_MAX: none) */
	int first_linktype;
	uint64_t size;
	struct capfile *cf; /* open while its packets are due */
	struct cf_packet head;
	uint64_t packets;   /* read so far: head's number in the file */
};

struct capset {
	struct member *m;   /* in time order */
	size_t n, next_open;
	size_t *heap, nheap; /* members with a head, earliest first */
	long cur;           /* the member whose head cs_next returned: read on next time */
	uint64_t done_bytes; /* sizes of the files read to their end */
	const atomic_int *stop;
	cs_damaged_fn damaged;
	void *user;
	char *name;
};

/* ---- the paths: files, and folders of them -------------------------------- */

struct paths {
	char **p;
	size_t n, cap;
};

static int paths_add(struct paths *ps, const char *path)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		char **np = realloc(ps->p, cap * sizeof *np);
		if (!np)
			return -1;
		ps->p = np;
		ps->cap = cap;
	}
	if (!(ps->p[ps->n] = strdup(path)))
		return -1;
	ps->n++;
	return 0;
}

static void paths_free(struct paths *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->p[i]);
	free(ps->p);
}

/* A regular file that starts like a pcap or pcapng file: a folder of
 * rotated captures also holds logs, checksums, notes. */
static int looks_like_capture(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	uint8_t b[4];
	ssize_t r = read(fd, b, sizeof b);
	close(fd);
	if (r != 4)
		return 0;
	uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	uint32_t be = (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
	return le == 0x0A0D0D0Au || le == 0xA1B2C3D4u || le == 0xA1B23C4Du || be == 0xA1B2C3D4u || be == 0xA1B23C4Du;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The captures directly in folder dir, by name; -1 with err set. */
static int add_folder(struct paths *ps, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	size_t before = ps->n;
	const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *p = malloc(len);
		if (!p) {
			rc = -1;
			break;
		}
		snprintf(p, len, "%s%s%s", dir, sep, e->d_name);
		if (looks_like_capture(p))
			rc = paths_add(ps, p);
		free(p);
	}
	closedir(d);
	if (rc != 0) {
		snprintf(err, errlen, "%s: out of memory", dir);
	} else if (ps->n == before) {
		snprintf(err, errlen, "%s: no pcap or pcapng file in this folder", dir);
		rc = -1;
	} else {
		qsort(ps->p + before, ps->n - before, sizeof *ps->p, by_name);
	}
	return rc;
}

static int expand(struct paths *ps, const char *const *paths, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (strcmp(paths[i], "-") == 0 && n > 1) {
			snprintf(err, errlen, "-: standard input cannot be read with other files");
			return -1;
		}
		int rc = strcmp(paths[i], "-") && stat(paths[i], &sb) == 0 && S_ISDIR(sb.st_mode)
		                 ? add_folder(ps, paths[i], err, errlen)
		                 : paths_add(ps, paths[i]);
		if (rc != 0) {
			if (!*err)
				snprintf(err, errlen, "%s: out of memory", paths[i]);
			return -1;
		}
	}
	return 0;
}

/* ---- opening: when each file starts --------------------------------------- */

/* Learn when m's first packet was taken (damage is reported later, when the
 * file is read for good); -1 with err set if it cannot be opened. */
static int probe(struct member *m, char *err, size_t errlen)
{
	char why[256] = "";
	struct capfile *cf = cf_open(m->path, why, sizeof why);
	if (!cf) {
		snprintf(err, errlen, "%s: %s", m->path, why);
		return -1;
	}
	struct cf_packet pk;
	enum cf_result r;
	while ((r = cf_next(cf, &pk)) == CF_DAMAGED)
		;
	m->first_ts = r == CF_PACKET ? pk.ts_ns : INT64_MAX;
	m->first_linktype = r == CF_PACKET ? pk.linktype : cf_linktype(cf);
	m->size = cf_size(cf);
	cf_close(cf);
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->first_ts != y->first_ts)
		return x->first_ts < y->first_ts ? -1 : 1;
	return x->given < y->given ? -1 : x->given > y->given;
}

/* "a.pcap", "2 files: a.pcap, b.pcap", "3 files: a.pcap ... c.pcap" */
static char *set_name(const struct capset *s)
{
	const char *a = s->m[0].path, *z = s->m[s->n - 1].path;
	size_t len = strlen(a) + strlen(z) + 48;
	char *name = malloc(len);
	if (!name)
		return NULL;
	if (s->n == 1)
		snprintf(name, len, "%s", a);
	else
		snprintf(name, len, "%zu files: %s%s%s", s->n, a, s->n == 2 ? ", " : " ... ", z);
	return name;
}

struct capset *cs_open(const char *const *paths, size_t n, const atomic_int *stop, cs_damaged_fn damaged,
                       void *user, char *err, size_t errlen)
{
	struct paths ps = { 0 };
	struct capset *s = calloc(1, sizeof *s);
	err[0] = '\0';
	if (!s)
		goto oom;
	if (expand(&ps, paths, n, err, errlen) != 0)
		goto fail;
	s->m = calloc(ps.n, sizeof *s->m);
	s->heap = calloc(ps.n, sizeof *s->heap);
	if (!s->m || !s->heap)
		goto oom;
	s->n = ps.n;
	s->cur = -1;
	s->stop = stop;
	s->damaged = damaged;
	s->user = user;
	for (size_t i = 0; i < s->n; i++) {
		s->m[i].path = ps.p[i];
		ps.p[i] = NULL;
		s->m[i].given = i;
	}
	if (s->n == 1) { /* no order to find: read it once, standard input too */
		char why[256] = "";
		if (!(s->m[0].cf = cf_open(s->m[0].path, why, sizeof why))) {
			snprintf(err, errlen, "%s: %s", s->m[0].path, why);
			goto fail;
		}
		cf_stop_on(s->m[0].cf, stop);
		s->m[0].size = cf_size(s->m[0].cf);
	} else {
		for (size_t i = 0; i < s->n; i++)
			if (probe(&s->m[i], err, errlen) != 0)
				goto fail;
		qsort(s->m, s->n, sizeof *s->m, by_time);
	}
	if (!(s->name = set_name(s)))
		goto oom;
	paths_free(&ps);
	return s;
oom:
	snprintf(err, errlen, "%s: out of memory", n ? paths[0] : "-");
fail:
	paths_free(&ps);
	cs_close(s);
	return NULL;
}

/* ---- reading: the files whose packets are due ------------------------------ */

static int earlier(const struct capset *s, size_t a, size_t b)
{
	int64_t ta = s->m[a].head.ts_ns, tb = s->m[b].head.ts_ns;
	return ta != tb ? ta < tb : a < b;
}

static void heap_push(struct capset *s, size_t idx)
{
	size_t i = s->nheap++;
	for (; i && earlier(s, idx, s->heap[(i - 1) / 2]); i = (i - 1) / 2)
		s->heap[i] = s->heap[(i - 1) / 2];
	s->heap[i] = idx;
}

static size_t heap_pop(struct capset *s)
{
	size_t top = s->heap[0], last = s->heap[--s->nheap], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && earlier(s, s->heap[c + 1], s->heap[c]))
			c++;
		if (!earlier(s, s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

static void close_member(struct capset *s, struct member *m)
{
	s->done_bytes += m->size;
	cf_close(m->cf);
	m->cf = NULL;
}

/* m's next packet into its head: 1, or 0 at its end (then closed). */
static int advance(struct capset *s, struct member *m)
{
	for (;;) {
		enum cf_result r = cf_next(m->cf, &m->head);
		if (r == CF_PACKET) {
			m->packets++;
			return 1;
		}
		if (r == CF_END) {
			close_member(s, m);
			return 0;
		}
		if (s->damaged)
			s->damaged(s->user, m->path, cf_error(m->cf));
	}
}

/* Open member i again from its start; 0 if it went away since the set
 * was opened (said as damage: what was read of the others still counts). */
static int reopen(struct capset *s, struct member *m)
{
	if (m->cf)
		return 1;
	char why[256] = "";
	if (!(m->cf = cf_open(m->path, why, sizeof why))) {
		if (s->damaged)
			s->damaged(s->user, m->path, why);
		s->done_bytes += m->size;
		return 0;
	}
	cf_stop_on(m->cf, s->stop);
	return 1;
}

/* Read on in the file just taken from, and open the files now due. */
static void settle(struct capset *s)
{
	if (s->cur >= 0) {
		size_t i = (size_t)s->cur;
		s->cur = -1;
		if (advance(s, &s->m[i]))
			heap_push(s, i);
	}
	while (s->next_open < s->n &&
	       (!s->nheap || s->m[s->next_open].first_ts <= s->m[s->heap[0]].head.ts_ns)) {
		size_t i = s->next_open++;
		if (reopen(s, &s->m[i]) && advance(s, &s->m[i]))
			heap_push(s, i);
	}
}

static void fill(const struct capset *s, size_t i, struct cs_packet *pkt)
{
	pkt->p = s->m[i].head;
	pkt->file = s->m[i].path;
	pkt->packet = s->m[i].packets;
}

int cs_peek(struct capset *s, struct cs_packet *pkt)
{
	settle(s);
	if (!s->nheap)
		return -1;
	fill(s, s->heap[0], pkt);
	return 0;
}

int cs_next(struct capset *s, struct cs_packet *pkt)
{
	settle(s);
	if (!s->nheap)
		return -1;
	size_t i = heap_pop(s);
	s->cur = (long)i;
	fill(s, i, pkt);
	return 0;
}

size_t cs_count(const struct capset *s)
{
	return s->n;
}

const char *cs_name(const struct capset *s)
{
	return s->name;
}

int cs_linktype(const struct capset *s)
{
	const struct member *m = &s->m[0];
	return m->cf ? cf_linktype(m->cf) : m->first_linktype;
}

uint64_t cs_offset(const struct capset *s)
{
	uint64_t off = s->done_bytes;
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].cf)
			off += cf_offset(s->m[i].cf);
	return off;
}

uint64_t cs_size(const struct capset *s)
{
	uint64_t size = 0;
	for (size_t i = 0; i < s->n; i++)
		size += s->m[i].size;
	return size;
}

void cs_close(struct capset *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->m && i < s->n; i++) {
		cf_close(s->m[i].cf);
		free(s->m[i].path);
	}
	free(s->m);
	free(s->heap);
	free(s->name);
	free(s);
}
