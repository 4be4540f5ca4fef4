/*
 * ipv6.c - IPv6 (RFC 8200): the fixed header and the extension header chain,
 * fragments handed to defrag.c (or counted and skipped), then TCP, tunnels
 * or ICMPv6 errors.
 */
#include "layers.h"

enum { P_HOPOPT = 0, P_IPIP = 4, P_TCP = 6, P_UDP = 17, P_IPV6 = 41, P_ROUTING = 43, P_FRAG = 44, P_GRE = 47,
       P_AH = 51, P_ICMPV6 = 58, P_NONE = 59, P_DSTOPTS = 60, P_MOBILITY = 135 };

/* A fragment (h at its fragment header, cap of plen bytes from there
 * captured): to reassembly when the caller keeps its state. */
static enum tp_dec_result fragment(struct dctx *d, const uint8_t *p, const uint8_t *h, uint32_t cap, uint32_t plen)
{
	if (!d->opts->defrag)
		return dec_fail(d, TP_DEC_FRAGMENT, "IPv6: fragment");
	if (cap < plen)
		return dec_fail(d, TP_DEC_TRUNCATED, "IPv6: fragment cut by the snaplen: not reassembled");
	struct frag_in f = { .v6 = 1, .ip = p, .hlen = 40, .proto = h[0], .id = rd32(h + 4),
	                     .off = rd16(h + 2) & 0xfff8u, .more = h[3] & 1, .data = h + 8, .len = plen - 8 };
	return tp_defrag_add(d, &f);
}

enum tp_dec_result tp_dec_ipv6(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (++d->depth > TP_MAX_DEPTH)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv6: encapsulations nested too deep");
	if (len < 40)
		return dec_fail(d, TP_DEC_TRUNCATED, "IPv6: header cut short");
	if (p[0] >> 4 != 6)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv6: version is not 6");
	uint32_t plen = rd16(p + 4);
	if (plen == 0 && p[6] == P_HOPOPT) /* RFC 2675: the real length is in a hop-by-hop option */
		return dec_fail(d, TP_DEC_UNSUPPORTED, "IPv6: jumbogram");
	if (plen > len - 40 && d->complete)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv6: payload length beyond the end of the packet");
	uint32_t cap = len - 40 < plen ? len - 40 : plen;
	const uint8_t *h = p + 40;
	uint8_t nh = p[6];

	/* Walk the extension headers; each says how long it is. */
	for (int n = 0; n < 16; n++) {
		uint32_t ext;
		switch (nh) {
		case P_HOPOPT:
		case P_ROUTING:
		case P_DSTOPTS:
		case P_MOBILITY:
			if (cap < 8)
				return dec_fail(d, TP_DEC_TRUNCATED, "IPv6: extension header cut short");
			ext = ((uint32_t)h[1] + 1) * 8;
			break;
		case P_AH: /* RFC 4302: length in 4-byte units, minus 2 */
			if (cap < 8)
				return dec_fail(d, TP_DEC_TRUNCATED, "IPv6: AH cut short");
			ext = ((uint32_t)h[1] + 2) * 4;
			break;
		case P_FRAG:
			if (cap < 8)
				return dec_fail(d, TP_DEC_TRUNCATED, "IPv6: fragment header cut short");
			if ((rd16(h + 2) & 0xfff9) != 0) /* offset or more-fragments set */
				return fragment(d, p, h, cap, plen);
			ext = 8; /* an atomic fragment: the whole packet follows */
			break;
		default:
			goto upper;
		}
		if (ext > cap || ext > plen)
			return dec_fail(d, TP_DEC_MALFORMED, "IPv6: extension header longer than the packet");
		nh = h[0];
		h += ext;
		cap -= ext;
		plen -= ext;
	}
	return dec_fail(d, TP_DEC_MALFORMED, "IPv6: more than 16 extension headers");

upper:
	switch (nh) {
	case P_TCP: {
		struct tp_segment *s = d->seg;
		ip6_endpoints(p, s);
		s->ip_len = rd16(p + 4) + 40;
		/* RFC 8200 8.1 pseudo-header: addresses, upper-layer length, next header */
		uint32_t sum = d->opts->verify_checksums
		                       ? tp_csum_add(0, p + 8, 32) + P_TCP + (plen >> 16) + (plen & 0xffff) : 0;
		return tp_dec_tcp(d, h, cap, plen, sum);
	}
	case P_IPIP:
	case P_IPV6:
		d->tunnelled = 1;
		ctx_fold(d, ip6_pair(p));
		return nh == P_IPIP ? tp_dec_ipv4(d, h, cap) : tp_dec_ipv6(d, h, cap);
	case P_GRE:
		ctx_fold(d, ip6_pair(p));
		return tp_dec_gre(d, h, cap);
	case P_UDP:
		ctx_fold(d, ip6_pair(p));
		return tp_dec_udp(d, h, cap, plen);
	case P_ICMPV6: /* RFC 4443: types 1-4 are errors that quote the offending packet */
		if (cap >= 1 && h[0] >= 1 && h[0] <= 4)
			return dec_fail(d, TP_DEC_ICMP_QUOTE, "ICMPv6 error quoting a packet: not a segment");
		return dec_fail(d, TP_DEC_NOT_TCP, "IPv6: ICMPv6");
	case P_NONE: return dec_fail(d, TP_DEC_NOT_TCP, "IPv6: no next header");
	default: return dec_fail(d, TP_DEC_NOT_TCP, "IPv6: not TCP");
	}
}
