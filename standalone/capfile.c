/*
 * capfile.c - pcap and pcapng files, read so that damage costs one record,
 * not the rest of the capture.
 *
 * Formats: the classic pcap format (microsecond and nanosecond magics, either
 * byte order) and pcapng (any number of sections and interfaces, each
 * interface with its own link type, time resolution and offset; enhanced,
 * simple and obsolete packet blocks). Everything else in a pcapng is skipped.
 *
 * After a damaged record (an absurd length, lengths that disagree) the
 * reader slides forward until a record header is plausible *and* is followed
 * by another plausible header or by the end of the file: one plausible
 * header alone is too easy to find in packet bytes.
 */
#define _DEFAULT_SOURCE
#include "capfile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger records are taken for damage (libpcap's pcapng limit too). */
#define MAX_RECORD (16u << 20)
/* libpcap accepts records up to this even when the snaplen says less. */
#define MIN_RECORD_LIMIT 262144u
#define PCAPNG_SHB 0x0A0D0D0Au
#define NS 1000000000LL

struct iface {
	int linktype;
	uint32_t snaplen;
	uint64_t units;  /* timestamp units per second */
	int64_t offset_s; /* if_tsoffset */
};

struct capfile {
	int fd, own_fd;
	uint8_t *buf;
	size_t cap, start, end; /* unread bytes are buf[start..end) */
	uint64_t base;          /* file offset of buf[0] */
	int eof, done;
	int ng, swapped, nsec;  /* pcapng?, byte order, classic ns magic */
	uint32_t snaplen;       /* classic: the file's; pcapng: the first interface's */
	int linktype;
	struct iface *ifs;
	size_t nifs, ifcap;
	int first_linktype;
	int64_t last_ts;
	int have_last;
	uint64_t packets;       /* packet records returned */
	uint64_t size;
	const atomic_int *stop; /* cf_stop_on */
	int stopped;            /* a wait for more input gave up on it */
	char err[320];
};

/* ---- buffered input ---------------------------------------------------------- */

/*
 * Wait until a pipe has input; 0 if *stop was set meanwhile. A read that
 * waits for a writer is restarted after a signal (SA_RESTART), so the wait
 * is a poll, which a signal ends, and which looks at the flag at least
 * every 200 ms in case the signal came just before it began.
 */
static int readable(struct capfile *cf)
{
	if (!cf->stop || cf->size)
		return 1;
	struct pollfd p = { .fd = cf->fd, .events = POLLIN };
	while (!atomic_load(cf->stop)) {
		int n = poll(&p, 1, 200);
		if (n > 0 || (n < 0 && errno != EINTR))
			return 1; /* input, its end, or an error: read() tells which */
	}
	return 0;
}

/* Make n unread bytes available; 0 if the file ends first. */
static int ensure(struct capfile *cf, size_t n)
{
	if (cf->end - cf->start >= n)
		return 1;
	if (cf->start) {
		memmove(cf->buf, cf->buf + cf->start, cf->end - cf->start);
		cf->base += cf->start;
		cf->end -= cf->start;
		cf->start = 0;
	}
	if (n > cf->cap) {
		size_t ncap = cf->cap * 2 > n ? cf->cap * 2 : n;
		uint8_t *nb = realloc(cf->buf, ncap);
		if (!nb)
			return 0;
		cf->buf = nb;
		cf->cap = ncap;
	}
	while (cf->end < n && !cf->eof) {
		if (!readable(cf)) {
			cf->eof = cf->stopped = 1;
			break;
		}
		ssize_t r = read(cf->fd, cf->buf + cf->end, cf->cap - cf->end);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			cf->eof = 1;
		else
			cf->end += (size_t)r;
	}
	return cf->end - cf->start >= n;
}

static size_t avail(const struct capfile *cf)
{
	return cf->end - cf->start;
}

static inline uint16_t rd16(const struct capfile *cf, size_t off)
{
	const uint8_t *p = cf->buf + cf->start + off;
	return cf->swapped ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t rd32(const struct capfile *cf, size_t off)
{
	const uint8_t *p = cf->buf + cf->start + off;
	if (cf->swapped)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void set_err(struct capfile *cf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cf->err, sizeof cf->err, fmt, ap);
	va_end(ap);
}

static void add_err(struct capfile *cf, const char *fmt, ...)
{
	size_t n = strlen(cf->err);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cf->err + n, sizeof cf->err - n, fmt, ap);
	va_end(ap);
}

/* ---- classic pcap ------------------------------------------------------------- */

static uint32_t classic_limit(const struct capfile *cf)
{
	uint32_t lim = cf->snaplen > MIN_RECORD_LIMIT ? cf->snaplen : MIN_RECORD_LIMIT;
	return lim < MAX_RECORD ? lim : MAX_RECORD;
}

/* A record header at unread offset off that could be real. */
static int classic_plausible(const struct capfile *cf, size_t off)
{
	uint32_t sec = rd32(cf, off), frac = rd32(cf, off + 4);
	uint32_t incl = rd32(cf, off + 8), orig = rd32(cf, off + 12);
	if (incl > classic_limit(cf) || orig < incl || orig > MAX_RECORD)
		return 0;
	if (frac >= (cf->nsec ? 1000000000u : 1000000u))
		return 0;
	if (cf->have_last) { /* within a day before and a year after the last good packet */
		int64_t last = cf->last_ts / NS;
		if ((int64_t)sec < last - 86400 || (int64_t)sec > last + 366 * 86400)
			return 0;
	}
	return 1;
}

/* The damage reaches the end of the file: nothing after it to read. */
static enum cf_result damaged_to_end(struct capfile *cf)
{
	cf->start = cf->end;
	cf->done = 1;
	return CF_DAMAGED;
}

/* A damaged record or block starting at file offset from: slide on from
 * from + step (records are byte-aligned, pcapng blocks 32-bit aligned) to
 * the next place resync() finds plausible, and say so in the message. */
static enum cf_result damaged_resync(struct capfile *cf, uint64_t from, size_t step, int (*resync)(struct capfile *),
                                     const char *unit)
{
	cf->start = (size_t)(from - cf->base) + step;
	if (!resync(cf)) {
		add_err(cf, "; no plausible %s after it", unit);
		return damaged_to_end(cf);
	}
	add_err(cf, "; skipped %llu bytes to the next plausible %s", (unsigned long long)(cf->base + cf->start - from),
	        unit);
	return CF_DAMAGED;
}

static int classic_resync(struct capfile *cf)
{
	for (;;) {
		if (!ensure(cf, 16))
			return 0;
		if (classic_plausible(cf, 0)) {
			size_t next = 16 + (size_t)rd32(cf, 8);
			int have_next = ensure(cf, next + 16);
			if ((!have_next && avail(cf) == next) || (have_next && classic_plausible(cf, next)))
				return 1;
		}
		cf->start++;
	}
}

static enum cf_result classic_next(struct capfile *cf, struct cf_packet *pkt)
{
	uint64_t n = cf->packets + 1;
	if (!ensure(cf, 16)) {
		if (!avail(cf))
			return CF_END;
		set_err(cf, "packet %llu: record header cut short (%zu of 16 bytes); end of file",
		        (unsigned long long)n, avail(cf));
		return damaged_to_end(cf);
	}
	uint32_t sec = rd32(cf, 0), frac = rd32(cf, 4), incl = rd32(cf, 8), orig = rd32(cf, 12);
	if (incl > classic_limit(cf)) {
		set_err(cf, "packet %llu: captured length %u is absurd (snaplen %u)", (unsigned long long)n, incl,
		        cf->snaplen);
		return damaged_resync(cf, cf->base + cf->start, 1, classic_resync, "record");
	}
	if (!ensure(cf, 16 + (size_t)incl)) {
		set_err(cf, "packet %llu: record cut short (%zu of %u captured bytes); end of file",
		        (unsigned long long)n, avail(cf) - 16, incl);
		return damaged_to_end(cf);
	}
	pkt->data = cf->buf + cf->start + 16;
	pkt->caplen = incl;
	pkt->origlen = orig;
	pkt->linktype = cf->linktype;
	pkt->ts_ns = (int64_t)sec * NS + (int64_t)frac * (cf->nsec ? 1 : 1000);
	cf->start += 16 + (size_t)incl;
	return CF_PACKET;
}

/* ---- pcapng ------------------------------------------------------------------ */

static int ng_known_type(uint32_t t)
{
	/* header blocks, packets, name resolution, statistics, decryption
	 * secrets, and the two custom block types */
	return t == PCAPNG_SHB || (t >= 1 && t <= 6) || t == 0x0A || t == 0xBADu || t == 0x40000BADu;
}

/* A block at unread offset 0 that could be real: known type, sane length,
 * the same length at both ends. */
static int ng_plausible(struct capfile *cf)
{
	uint32_t type = rd32(cf, 0), len = rd32(cf, 4);
	if (type == PCAPNG_SHB) {
		if (!ensure(cf, 12))
			return 0;
		uint32_t bom = rd32(cf, 8);
		if (bom != 0x1A2B3C4Du && bom != 0x4D3C2B1Au)
			return 0;
		int sw = cf->swapped;
		cf->swapped = bom == 0x4D3C2B1Au ? !sw : sw;
		len = rd32(cf, 4);
		int ok = len >= 28 && len % 4 == 0 && len <= MAX_RECORD && ensure(cf, len) && rd32(cf, len - 4) == len;
		cf->swapped = sw;
		return ok;
	}
	if (!ng_known_type(type) || len < 12 || len % 4 || len > MAX_RECORD || !ensure(cf, len))
		return 0;
	if (rd32(cf, len - 4) != len)
		return 0;
	if (type == 6 && (len < 32 || rd32(cf, 8) >= cf->nifs || rd32(cf, 20) > len - 32))
		return 0;
	return 1;
}

static int ng_resync(struct capfile *cf)
{
	for (;;) {
		if (!ensure(cf, 8))
			return 0;
		if (ng_plausible(cf))
			return 1;
		cf->start += 4; /* blocks are 32-bit aligned */
	}
}

static void ng_add_iface(struct capfile *cf, uint32_t len)
{
	struct iface ifc = { rd16(cf, 8), rd32(cf, 12), 1000000, 0 };
	for (size_t o = 16; o + 4 <= len - 4;) { /* options */
		uint16_t code = rd16(cf, o), olen = rd16(cf, o + 2);
		if (code == 0 || o + 4 + olen > len - 4)
			break;
		if (code == 9 && olen >= 1) { /* if_tsresol */
			uint8_t v = cf->buf[cf->start + o + 4];
			uint64_t u = 1;
			if (v & 0x80)
				u = (v & 0x7f) < 63 ? 1ULL << (v & 0x7f) : 1ULL << 62;
			else
				for (int i = 0; i < (v < 19 ? v : 19); i++)
					u *= 10;
			ifc.units = u;
		} else if (code == 14 && olen == 8) { /* if_tsoffset */
			uint64_t hi = rd32(cf, o + 4), lo = rd32(cf, o + 8);
			ifc.offset_s = (int64_t)(cf->swapped ? hi << 32 | lo : lo << 32 | hi);
		}
		o += 4 + (((size_t)olen + 3) & ~(size_t)3);
	}
	if (cf->nifs == cf->ifcap) {
		size_t nc = cf->ifcap ? cf->ifcap * 2 : 4;
		struct iface *n = realloc(cf->ifs, nc * sizeof *n);
		if (!n)
			return;
		cf->ifs = n;
		cf->ifcap = nc;
	}
	cf->ifs[cf->nifs++] = ifc;
	if (cf->first_linktype < 0) {
		cf->first_linktype = ifc.linktype;
		cf->snaplen = ifc.snaplen;
	}
}

static int64_t ng_ts(const struct iface *ifc, uint64_t ts)
{
	uint64_t sec = ts / ifc->units, frac = ts % ifc->units, ns;
	if (ifc->units <= (uint64_t)NS && (uint64_t)NS % ifc->units == 0)
		ns = frac * ((uint64_t)NS / ifc->units);
	else
		ns = (uint64_t)((long double)frac * 1e9L / (long double)ifc->units);
	return ((int64_t)sec + ifc->offset_s) * NS + (int64_t)ns;
}

static enum cf_result ng_next(struct capfile *cf, struct cf_packet *pkt)
{
	for (;;) {
		uint64_t n = cf->packets + 1, from = cf->base + cf->start;
		if (!ensure(cf, 8)) {
			if (!avail(cf))
				return CF_END;
			set_err(cf, "packet %llu: block header cut short (%zu of 8 bytes); end of file",
			        (unsigned long long)n, avail(cf));
			return damaged_to_end(cf);
		}
		uint32_t type = rd32(cf, 0);
		if (type == PCAPNG_SHB) { /* a new section: its own byte order, no interfaces yet */
			if (!ensure(cf, 12)) {
				set_err(cf, "packet %llu: section header cut short; end of file", (unsigned long long)n);
				return damaged_to_end(cf);
			}
			uint32_t bom = rd32(cf, 8);
			if (bom == 0x4D3C2B1Au)
				cf->swapped = !cf->swapped;
			else if (bom != 0x1A2B3C4Du) {
				set_err(cf, "packet %llu: section header with a bad byte-order magic", (unsigned long long)n);
				return damaged_resync(cf, from, 4, ng_resync, "block");
			}
			cf->nifs = 0;
		}
		uint32_t len = rd32(cf, 4);
		if (len < 12 || len % 4 || len > MAX_RECORD) {
			set_err(cf, "packet %llu: block length %u is absurd", (unsigned long long)n, len);
			return damaged_resync(cf, from, 4, ng_resync, "block");
		}
		if (!ensure(cf, len)) {
			set_err(cf, "packet %llu: block cut short (%zu of %u bytes); end of file", (unsigned long long)n,
			        avail(cf), len);
			return damaged_to_end(cf);
		}
		if (rd32(cf, len - 4) != len) {
			set_err(cf, "packet %llu: block length %u at its start, %u at its end", (unsigned long long)n, len,
			        rd32(cf, len - 4));
			return damaged_resync(cf, from, 4, ng_resync, "block");
		}
		const struct iface *ifc = NULL;
		uint32_t ifid = 0, caplen = 0, orig = 0;
		size_t data = 0;
		uint64_t ts = 0;
		int have_ts = 1;
		switch (type) {
		case 1: /* interface description */
			if (len >= 20)
				ng_add_iface(cf, len);
			break;
		case 6: /* enhanced packet */
		case 2: /* packet (obsolete) */
			if (len < 32) {
				set_err(cf, "packet %llu: packet block of %u bytes is too short", (unsigned long long)n, len);
				cf->start += len;
				return CF_DAMAGED;
			}
			ifid = type == 6 ? rd32(cf, 8) : rd16(cf, 8);
			ts = (uint64_t)rd32(cf, 12) << 32 | rd32(cf, 16);
			caplen = rd32(cf, 20);
			orig = rd32(cf, 24);
			data = 28;
			break;
		case 3: /* simple packet: interface 0, no timestamp */
			if (len < 16)
				break;
			ifid = 0;
			orig = rd32(cf, 8);
			caplen = orig < len - 16 ? orig : len - 16;
			data = 12;
			have_ts = 0;
			break;
		}
		if (!data) {
			cf->start += len;
			continue;
		}
		if (ifid >= cf->nifs) {
			set_err(cf, "packet %llu: packet on interface %u, which no interface block described",
			        (unsigned long long)n, ifid);
			cf->start += len;
			return CF_DAMAGED;
		}
		if (caplen > len - data - 4) {
			set_err(cf, "packet %llu: captured length %u exceeds its %u-byte block", (unsigned long long)n,
			        caplen, len);
			cf->start += len;
			return CF_DAMAGED;
		}
		ifc = &cf->ifs[ifid];
		if (type == 3 && ifc->snaplen && caplen > ifc->snaplen)
			caplen = ifc->snaplen;
		pkt->data = cf->buf + cf->start + data;
		pkt->caplen = caplen;
		pkt->origlen = orig;
		pkt->linktype = ifc->linktype;
		pkt->ts_ns = have_ts ? ng_ts(ifc, ts) : cf->last_ts;
		cf->start += len;
		return CF_PACKET;
	}
}

/* ---- public -------------------------------------------------------------------- */

struct capfile *cf_open(const char *path, char *err, size_t errlen)
{
	struct capfile *cf = calloc(1, sizeof *cf);
	if (!cf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cf->first_linktype = -1;
	if (strcmp(path, "-") == 0) {
		cf->fd = STDIN_FILENO;
	} else {
		cf->fd = open(path, O_RDONLY);
		cf->own_fd = 1;
	}
	if (cf->fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		cf_close(cf);
		return NULL;
	}
	struct stat sb;
	if (fstat(cf->fd, &sb) == 0 && S_ISDIR(sb.st_mode)) { /* open() takes a folder, read() then fails */
		snprintf(err, errlen, "%s", strerror(EISDIR));
		cf_close(cf);
		return NULL;
	}
	if (fstat(cf->fd, &sb) == 0 && S_ISREG(sb.st_mode))
		cf->size = (uint64_t)sb.st_size;
	cf->cap = 1 << 20;
	cf->buf = malloc(cf->cap);
	if (!cf->buf) {
		snprintf(err, errlen, "out of memory");
		cf_close(cf);
		return NULL;
	}
	if (!ensure(cf, 4)) {
		snprintf(err, errlen, avail(cf) ? "not a capture file (%zu bytes)" : "empty file", avail(cf));
		cf_close(cf);
		return NULL;
	}
	uint32_t magic = rd32(cf, 0);
	if (magic == PCAPNG_SHB) {
		cf->ng = 1;
		if (!ensure(cf, 12) || (rd32(cf, 8) != 0x1A2B3C4Du && rd32(cf, 8) != 0x4D3C2B1Au)) {
			snprintf(err, errlen, "pcapng section header damaged");
			cf_close(cf);
			return NULL;
		}
		return cf; /* the section header is read as the first block */
	}
	if (magic == 0xD4C3B2A1u || magic == 0x4D3CB2A1u) {
		cf->swapped = 1;
		magic = rd32(cf, 0);
	}
	if (magic != 0xA1B2C3D4u && magic != 0xA1B23C4Du) {
		snprintf(err, errlen, "not a pcap or pcapng file (magic 0x%08x)", rd32(cf, 0));
		cf_close(cf);
		return NULL;
	}
	if (!ensure(cf, 24)) {
		snprintf(err, errlen, "pcap file header cut short");
		cf_close(cf);
		return NULL;
	}
	cf->nsec = magic == 0xA1B23C4Du;
	cf->snaplen = rd32(cf, 16);
	cf->linktype = (int)(rd32(cf, 20) & 0x03FFFFFF); /* the top bits carry FCS information */
	cf->first_linktype = cf->linktype;
	cf->start += 24;
	return cf;
}

enum cf_result cf_next(struct capfile *cf, struct cf_packet *pkt)
{
	if (cf->done)
		return CF_END;
	enum cf_result r = cf->ng ? ng_next(cf, pkt) : classic_next(cf, pkt);
	if (cf->stopped && r != CF_PACKET) { /* not damage: a record cut short by Ctrl-C */
		cf->done = 1;
		return CF_END;
	}
	if (r == CF_PACKET) {
		cf->packets++;
		cf->last_ts = pkt->ts_ns;
		cf->have_last = 1;
	}
	return r;
}

const char *cf_error(const struct capfile *cf)
{
	return cf->err;
}

int cf_linktype(const struct capfile *cf)
{
	return cf->first_linktype;
}

uint32_t cf_snaplen(const struct capfile *cf)
{
	return cf->snaplen;
}

uint64_t cf_offset(const struct capfile *cf)
{
	return cf->base + cf->start;
}

void cf_stop_on(struct capfile *cf, const atomic_int *stop)
{
	cf->stop = stop;
}

uint64_t cf_size(const struct capfile *cf)
{
	return cf->size;
}

int cf_is_pcapng(const struct capfile *cf)
{
	return cf->ng;
}

void cf_close(struct capfile *cf)
{
	if (!cf)
		return;
	if (cf->own_fd && cf->fd >= 0)
		close(cf->fd);
	free(cf->buf);
	free(cf->ifs);
	free(cf);
}
