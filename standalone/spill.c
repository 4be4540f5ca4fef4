/*
 * spill.c - the core's store: an unlinked temporary file.
 *
 * What goes there is the packed state of connections that linger after
 * their close (TIME-WAIT), a full block of them at a time; it is read back
 * only by a late segment or when they end, a minute later. Unlinked at once,
 * the file goes away with the process however it ends. A file that cannot
 * be made or written is not fatal: the core keeps that state in memory, as
 * with --no-spill. A file that cannot be read back is: the connections'
 * state is gone, and a record made up without it would be wrong.
 */
#define _DEFAULT_SOURCE /* mkstemp */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spill.h"

/* The file, made on first use; -1 (after a message) if it cannot be. */
static int spill_fd(struct spill *sp)
{
	if (sp->fd >= 0)
		return sp->fd;
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/tcpphase-spill.XXXXXX", sp->dir);
	if (n < 0 || (size_t)n >= sizeof path) {
		errno = ENAMETOOLONG;
	} else if ((sp->fd = mkstemp(path)) >= 0) {
		unlink(path);
		return sp->fd;
	}
	fprintf(stderr, "tcpphase: %s: cannot make a spill file in %s: %s; lingering connections stay in memory\n",
	        sp->source, sp->dir, strerror(errno));
	sp->failed = 1;
	return -1;
}

static int spill_write(void *user, const void *buf, size_t len, uint64_t off)
{
	struct spill *sp = user;
	int fd = sp->failed ? -1 : spill_fd(sp);
	if (fd < 0)
		return -1;
	for (size_t done = 0; done < len;) {
		ssize_t w = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "tcpphase: %s: writing the spill file in %s: %s; lingering connections stay in memory\n",
			        sp->source, sp->dir, w < 0 ? strerror(errno) : "nothing written");
			sp->failed = 1; /* what it holds is still read back */
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

static void spill_read(void *user, void *buf, size_t len, uint64_t off)
{
	struct spill *sp = user;
	for (size_t done = 0; done < len;) {
		ssize_t r = sp->fd < 0 ? -1 : pread(sp->fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "tcpphase: %s: reading back the spill file in %s: %s; cannot go on\n", sp->source,
			        sp->dir, r < 0 ? strerror(errno) : "short file");
			exit(2); /* the CLI's input error */
		}
		done += (size_t)r;
	}
}

void spill_init(struct spill *sp, const struct sub_analysis *an, const char *source, struct tp_callbacks *cb)
{
	sp->dir = an->spill_dir ? an->spill_dir : sub_tmp_dir();
	sp->source = source;
	sp->fd = -1;
	sp->failed = 0;
	if (an->no_spill)
		return;
	cb->spill_user = sp;
	cb->spill_write = spill_write;
	cb->spill_read = spill_read;
}

void spill_close(struct spill *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
}
