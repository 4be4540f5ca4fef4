/*
 * capset.h - several capture files read as one capture, in time order.
 *
 * Rotated captures (tcpdump -G/-W/-C, dumpcap -b) split one capture into
 * many files; a connection that spans a file boundary must stay one
 * connection. The set merges its files packet by packet by timestamp, as
 * mergecap does: files that follow each other are read one after the other,
 * files that overlap in time are interleaved. A file is open only while its
 * packets are due, so a set of thousands of rotated files holds one or two
 * open at a time. Each packet keeps its file's name and its number in that
 * file, for warnings a user can find in the file itself.
 */
#ifndef TP_CAPSET_H
#define TP_CAPSET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "capfile.h"

struct cs_packet {
	struct cf_packet p;
	const char *file; /* the path it was read from, as given (or found in a folder) */
	uint64_t packet;  /* its number in that file, from 1 */
};

/* A damaged record in file: what cf_error() said (the reader went on). */
typedef void (*cs_damaged_fn)(void *user, const char *file, const char *what);

struct capset;

/*
 * Open the set of paths[0..n-1]: files, and folders, which stand for every
 * pcap or pcapng file directly in them (by name order; other files are left
 * out). "-" (standard input) only alone. NULL with "PATH: reason" in err if
 * a file cannot be opened or is not a capture. stop: as cf_stop_on. damaged
 * is told about every damaged record, on the thread that reads on.
 */
struct capset *cs_open(const char *const *paths, size_t n, const atomic_int *stop, cs_damaged_fn damaged,
                       void *user, char *err, size_t errlen);
/* The next packet of the capture (valid until the next cs_peek or cs_next),
 * 0; or -1 at its end. cs_peek leaves it to be read again. */
int cs_peek(struct capset *s, struct cs_packet *pkt);
int cs_next(struct capset *s, struct cs_packet *pkt);
/* How many files, and their names ("a.pcap" or "3 files: a.pcap ... c.pcap",
 * in time order). */
size_t cs_count(const struct capset *s);
const char *cs_name(const struct capset *s);
/* The link type of the first file's first interface (-1 if none yet). */
int cs_linktype(const struct capset *s);
/* Bytes read so far and in all (0: a pipe, whose size is unknown). */
uint64_t cs_offset(const struct capset *s);
uint64_t cs_size(const struct capset *s);
void cs_close(struct capset *s);

#endif /* TP_CAPSET_H */
