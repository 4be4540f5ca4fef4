/*
 * layers.h - internal: what the decoder's layers pass each other.
 */
#ifndef TP_LAYERS_H
#define TP_LAYERS_H

#include <stdint.h>
#include <string.h>

#include "decode.h"

#define TP_MAX_DEPTH 8 /* nested encapsulations before we give up: no recursion bombs */

struct dctx {
	const struct tp_decode_opts *opts;
	struct tp_segment *seg;
	struct tp_decode_stats *st;
	const char **why;
	int depth;
	int tunnelled;
	uint32_t context; /* VLAN ids and tunnel endpoints folded in */
	int complete;     /* every byte of the packet was captured */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IPv4 total length, or what was captured from the header on (len) if
 * it is 0: captured on a host doing TCP segmentation offload, where the
 * stack fills it in later (or leaves it 0 for a BIG TCP packet over 64 KiB). */
static inline uint32_t ip4_total(const uint8_t *p, uint32_t len)
{
	uint32_t total = rd16(p + 2);
	return total ? total : len;
}

/* The addresses of an IPv4 (RFC 791: source at 12, destination at 16) or
 * IPv6 header (RFC 8200: at 8 and 24), as the segment's endpoints. */
static inline void ip4_endpoints(const uint8_t *p, struct tp_segment *s)
{
	s->src.family = s->dst.family = 4;
	memset(s->src.bytes, 0, 16);
	memset(s->dst.bytes, 0, 16);
	memcpy(s->src.bytes, p + 12, 4);
	memcpy(s->dst.bytes, p + 16, 4);
}

static inline void ip6_endpoints(const uint8_t *p, struct tp_segment *s)
{
	s->src.family = s->dst.family = 6;
	memcpy(s->src.bytes, p + 8, 16);
	memcpy(s->dst.bytes, p + 24, 16);
}

/* An outer header's address pair for the context: the same both ways. */
static inline uint32_t ip4_pair(const uint8_t *p)
{
	return rd32(p + 12) ^ rd32(p + 16);
}

static inline uint32_t fold16(const uint8_t *a)
{
	return rd32(a) ^ rd32(a + 4) ^ rd32(a + 8) ^ rd32(a + 12);
}

static inline uint32_t ip6_pair(const uint8_t *p)
{
	return fold16(p + 8) ^ fold16(p + 24);
}

static inline void ctx_fold(struct dctx *d, uint32_t v)
{
	d->context = (d->context ^ v) * 0x01000193U + 0x9e3779b9U;
}

static inline enum tp_dec_result dec_fail(struct dctx *d, enum tp_dec_result r, const char *why)
{
	*d->why = why;
	return r;
}

/* link.c */
enum tp_dec_result tp_dec_ether(struct dctx *d, const uint8_t *p, uint32_t len);
enum tp_dec_result tp_dec_ethertype(struct dctx *d, uint16_t type, const uint8_t *p, uint32_t len);
enum tp_dec_result tp_dec_ppp(struct dctx *d, const uint8_t *p, uint32_t len);
/* ipv4.c / ipv6.c: ip_hint 0 = guess from the version nibble */
enum tp_dec_result tp_dec_ip(struct dctx *d, const uint8_t *p, uint32_t len);
enum tp_dec_result tp_dec_ipv4(struct dctx *d, const uint8_t *p, uint32_t len);
enum tp_dec_result tp_dec_ipv6(struct dctx *d, const uint8_t *p, uint32_t len);
/* ieee80211.c */
enum tp_dec_result tp_dec_80211(struct dctx *d, const uint8_t *p, uint32_t len);
enum tp_dec_result tp_dec_radiotap(struct dctx *d, const uint8_t *p, uint32_t len);
/* tunnel.c */
enum tp_dec_result tp_dec_gre(struct dctx *d, const uint8_t *p, uint32_t len);
enum tp_dec_result tp_dec_udp(struct dctx *d, const uint8_t *p, uint32_t caplen, uint32_t udplen);
/* defrag.c: one fragment, as ipv4.c or ipv6.c found it */
struct frag_in {
	int v6;
	const uint8_t *ip;  /* the IP header: IPv4's whole, or IPv6's fixed 40 bytes */
	uint32_t hlen;      /* its length (IPv4 with options: up to 60) */
	uint8_t proto;      /* IPv4 protocol, or the next header after IPv6's fragment header */
	uint32_t id;
	uint32_t off;       /* in bytes */
	int more;           /* more fragments follow */
	const uint8_t *data;
	uint32_t len;       /* bytes of payload in this fragment, all captured */
};
enum tp_dec_result tp_defrag_add(struct dctx *d, const struct frag_in *f);
void tp_defrag_expire(struct tp_defrag *df, int64_t now_ns, struct tp_decode_stats *st);
/* tcp.c: the IP layer hands over the pseudo-header sum for the checksum */
enum tp_dec_result tp_dec_tcp(struct dctx *d, const uint8_t *p, uint32_t caplen, uint32_t seglen, uint32_t pseudo_sum);
uint32_t tp_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);

#endif /* TP_LAYERS_H */
