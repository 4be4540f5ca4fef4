/*
 * ipv4.c - IPv4 (RFC 791): header checks, the source route option's final
 * destination, fragments handed to defrag.c (or counted and skipped), then
 * TCP, tunnels, or ICMP errors (not segments).
 */
#include "layers.h"

enum { P_ICMP = 1, P_IPIP = 4, P_TCP = 6, P_UDP = 17, P_IPV6 = 41, P_GRE = 47, P_ICMPV6 = 58 };

/* Payload of the IP layer that carries TCP: shared by ipv4.c and ipv6.c. */
enum tp_dec_result tp_dec_ip(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 1)
		return dec_fail(d, TP_DEC_TRUNCATED, "IP: empty packet");
	switch (p[0] >> 4) {
	case 4: return tp_dec_ipv4(d, p, len);
	case 6: return tp_dec_ipv6(d, p, len);
	default: return dec_fail(d, TP_DEC_MALFORMED, "IP: version is neither 4 nor 6");
	}
}

static int icmp_error(uint8_t type)
{
	/* RFC 792: destination unreachable, source quench, redirect, time exceeded, parameter problem */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * Where the datagram is going: with a loose or strict source route option
 * (RFC 791 3.1: LSRR 131, SSRR 137) not yet followed to its end, the last
 * address of the route, not the header's next hop. The sender's TCP
 * checksum covers that final destination, and the connection is between
 * it and the source. Once the pointer is past the route, each hop has
 * written itself over its entry and the header holds the destination,
 * which is what the receiving host sees. Wireshark decides the same way
 * (get_dst_offset); tcpdump takes the last address even then.
 */
static const uint8_t *final_dst(const uint8_t *p, uint32_t hl)
{
	for (uint32_t i = 20; i < hl;) {
		uint8_t type = p[i];
		if (type == 0) /* end of options */
			break;
		if (type == 1) { /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= hl || p[i + 1] < 2 || p[i + 1] > hl - i)
			break;
		uint32_t ol = p[i + 1];
		if ((type == 131 || type == 137) && ol >= 7)
			return p[i + 2] > ol ? p + 16 : p + i + ol - 4;
		i += ol;
	}
	return p + 16;
}

/* A fragment: to reassembly when the caller keeps its state. */
static enum tp_dec_result fragment(struct dctx *d, const uint8_t *p, uint32_t hl, uint32_t total, uint32_t cap)
{
	if (!d->opts->defrag)
		return dec_fail(d, TP_DEC_FRAGMENT, "IPv4: fragment");
	if (cap < total)
		return dec_fail(d, TP_DEC_TRUNCATED, "IPv4: fragment cut by the snaplen: not reassembled");
	uint16_t frag = rd16(p + 6);
	struct frag_in f = { .ip = p, .hlen = hl, .proto = p[9], .id = rd16(p + 4),
	                     .off = (uint32_t)(frag & 0x1fff) * 8, .more = (frag & 0x2000) != 0,
	                     .data = p + hl, .len = total - hl };
	return tp_defrag_add(d, &f);
}

enum tp_dec_result tp_dec_ipv4(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (++d->depth > TP_MAX_DEPTH)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv4: encapsulations nested too deep");
	if (len < 20)
		return dec_fail(d, TP_DEC_TRUNCATED, "IPv4: header cut short");
	if (p[0] >> 4 != 4)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv4: version is not 4");
	uint32_t hl = (uint32_t)(p[0] & 0x0f) * 4;
	if (hl < 20)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv4: header length below 20");
	uint32_t total = ip4_total(p, len);
	if (total < hl)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv4: total length below the header length");
	if (len < hl)
		return dec_fail(d, TP_DEC_TRUNCATED, "IPv4: options cut short");
	if (total > len && d->complete)
		return dec_fail(d, TP_DEC_MALFORMED, "IPv4: total length beyond the end of the packet");
	/* Ethernet pads short frames: trust the total length, not the capture. */
	uint32_t cap = len < total ? len : total;
	uint16_t frag = rd16(p + 6);
	if ((frag & 0x2000) || (frag & 0x1fff))
		return fragment(d, p, hl, total, cap);
	const uint8_t *pl = p + hl;
	uint32_t plcap = cap - hl, pllen = total - hl;
	switch (p[9]) {
	case P_TCP: {
		struct tp_segment *s = d->seg;
		const uint8_t *dst = hl > 20 ? final_dst(p, hl) : p + 16;
		ip4_endpoints(p, s);
		memcpy(s->dst.bytes, dst, 4);
		s->ip_len = total;
		/* RFC 793 pseudo-header: addresses, protocol, TCP length (summed
		 * only when checksums are verified: this runs for every packet) */
		uint32_t sum = d->opts->verify_checksums
		                       ? tp_csum_add(tp_csum_add(0, p + 12, 4), dst, 4) + P_TCP + pllen : 0;
		return tp_dec_tcp(d, pl, plcap, pllen, sum);
	}
	case P_IPIP:
	case P_IPV6:
		d->tunnelled = 1;
		ctx_fold(d, ip4_pair(p));
		return p[9] == P_IPIP ? tp_dec_ipv4(d, pl, plcap) : tp_dec_ipv6(d, pl, plcap);
	case P_GRE:
		ctx_fold(d, ip4_pair(p));
		return tp_dec_gre(d, pl, plcap);
	case P_UDP:
		ctx_fold(d, ip4_pair(p));
		return tp_dec_udp(d, pl, plcap, pllen);
	case P_ICMP:
		if (plcap >= 1 && icmp_error(pl[0]))
			return dec_fail(d, TP_DEC_ICMP_QUOTE, "ICMP error quoting a packet: not a segment");
		return dec_fail(d, TP_DEC_NOT_TCP, "IPv4: ICMP");
	default: return dec_fail(d, TP_DEC_NOT_TCP, "IPv4: not TCP");
	}
}

int tp_decode_ip_pair(const uint8_t *p, uint32_t caplen, int version, uint32_t *pair)
{
	uint32_t need = version == 6 ? 40 : 20;
	if (caplen < need || p[0] >> 4 != version)
		return -1;
	*pair = version == 6 ? ip6_pair(p) : ip4_pair(p);
	return 0;
}
