/*
 * spill.h - where the CLI lets the core keep lingering connections' state
 * (tp_callbacks' spill_write and spill_read): an unlinked temporary file.
 */
#ifndef TP_SPILL_H
#define TP_SPILL_H

#include "subcmd.h"
#include "tcpphase.h"

struct spill {
	const char *dir; /* the folder the file goes in */
	const char *source; /* the capture, for messages */
	int fd;          /* -1 until the first write */
	int failed;      /* the file could not be made or written: not tried again */
};

/* Give cb a store in an's --spill-dir (default sub_tmp_dir()), unless
 * --no-spill. The file is made at the first write, so a run that never
 * needs it makes none. */
void spill_init(struct spill *sp, const struct sub_analysis *an, const char *source, struct tp_callbacks *cb);
void spill_close(struct spill *sp);

#endif /* TP_SPILL_H */
