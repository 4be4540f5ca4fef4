/*
 * capfile.h - a reader for pcap and pcapng capture files.
 *
 * libpcap's own file reader stops at the first damaged record and refuses a
 * pcapng whose interfaces have different link types. A user handed a broken
 * or merged capture wants the rest of it analysed, so the CLI reads files
 * itself: every packet carries its own link type, and after a damaged record
 * the reader looks for the next plausible one and goes on. libpcap is still
 * used for live capture and to compile BPF filters.
 */
#ifndef TP_CAPFILE_H
#define TP_CAPFILE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

struct cf_packet {
	const uint8_t *data; /* valid until the next cf_next() */
	uint32_t caplen, origlen;
	int64_t ts_ns;       /* nanoseconds since the epoch */
	int linktype;        /* LINKTYPE_ value of the packet's interface */
};

enum cf_result {
	CF_PACKET = 1,  /* *pkt filled */
	CF_END = 0,     /* end of the file */
	CF_DAMAGED = -1 /* a damaged record: cf_error() says what and whether the
	                   reader found a next record (then call cf_next again) */
};

struct capfile;

/* Open path ("-" reads standard input); NULL with a message in err. */
struct capfile *cf_open(const char *path, char *err, size_t errlen);
enum cf_result cf_next(struct capfile *cf, struct cf_packet *pkt);
/* What the last CF_DAMAGED was about, in words. */
const char *cf_error(const struct capfile *cf);
/* The link type of the first interface (-1 if none yet) and its snaplen. */
int cf_linktype(const struct capfile *cf);
uint32_t cf_snaplen(const struct capfile *cf);
/* Bytes consumed so far, and the file's size (0 if not a regular file). */
uint64_t cf_offset(const struct capfile *cf);
uint64_t cf_size(const struct capfile *cf);
int cf_is_pcapng(const struct capfile *cf);
/* From a pipe, waiting for more input gives up once *stop is set (by a
 * signal handler): the capture ends there, as at its end. */
void cf_stop_on(struct capfile *cf, const atomic_int *stop);
void cf_close(struct capfile *cf);

#endif
