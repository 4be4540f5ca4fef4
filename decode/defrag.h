/*
 * defrag.h - IP reassembly for a caller that decodes whole packets (the
 * CLI). The state is the caller's: one struct tp_defrag per stream of
 * packets, handed to tp_decode through struct tp_decode_opts, used by one
 * thread at a time. A fragment goes in; the packet whose fragment completes
 * a datagram comes out of tp_decode as that datagram's segment.
 *
 * It follows the receiving Linux stack (net/ipv4/ip_fragment.c,
 * net/ipv6/reassembly.c, net/ipv4/inet_fragment.c), so that the CLI sees
 * the segments the host saw: overlapping fragments drop the whole datagram
 * (RFC 5722 for IPv6; Linux does the same for IPv4 since 2018), a
 * duplicate is ignored, and a datagram still incomplete ipfrag_time after
 * its first fragment is dropped, timed on the capture's clock.
 */
#ifndef TP_DEFRAG_H
#define TP_DEFRAG_H

#include <stdint.h>

#include "decode.h"

struct tp_defrag_limits {
	uint64_t max_bytes;     /* fragment bytes (and bookkeeping) held at once */
	uint32_t max_datagrams; /* incomplete datagrams held at once */
	int64_t timeout4_ns;    /* net.ipv4.ipfrag_time */
	int64_t timeout6_ns;    /* net.ipv6.ip6frag_time */
};

/* Linux's defaults: ipfrag_high_thresh 4 MiB, ipfrag_time 30 s,
 * ip6frag_time 60 s. Linux bounds the datagrams only through the bytes;
 * the count cap bounds the cost of a flood of one-byte fragments. */
void tp_defrag_default_limits(struct tp_defrag_limits *lim);

/* NULL limits: the defaults. NULL when out of memory. */
struct tp_defrag *tp_defrag_new(const struct tp_defrag_limits *lim);

/* The end of the capture: the datagrams still incomplete are counted in
 * st->frag.unfinished and let go. */
void tp_defrag_finish(struct tp_defrag *df, struct tp_decode_stats *st);

void tp_defrag_free(struct tp_defrag *df);

/* What is held now (tests, and the flood's size in a warning). */
uint32_t tp_defrag_datagrams(const struct tp_defrag *df);
uint64_t tp_defrag_bytes(const struct tp_defrag *df);

#endif /* TP_DEFRAG_H */
