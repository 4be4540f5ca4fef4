/*
 * link.c - link layers: Ethernet (802.1Q, 802.1ad/QinQ, MPLS, PPPoE, PBB
 * 802.1ah, VN-Tag, 802.1BR E-Tag), Linux cooked captures (SLL, SLL2), Cisco
 * HDLC, BSD null/loopback, raw IP, and the entry points for 802.11 and
 * radiotap (ieee80211.c). Each strips its header and hands the payload to
 * the next layer.
 */
#include "layers.h"

/* LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) */
enum {
	LT_NULL = 0, LT_EN10MB = 1, LT_RAW_OLD1 = 12, LT_RAW_OLD2 = 14, LT_RAW = 101, LT_LOOP = 108,
	LT_C_HDLC = 104, LT_IEEE802_11 = 105, LT_LINUX_SLL = 113, LT_RADIOTAP = 127, LT_IPV4 = 228, LT_IPV6 = 229,
	LT_LINUX_SLL2 = 276,
};

enum {
	ET_IPV4 = 0x0800, ET_VLAN = 0x8100, ET_IPV6 = 0x86dd, ET_QINQ = 0x88a8, ET_QINQ_OLD = 0x9100,
	ET_MPLS = 0x8847, ET_MPLS_MC = 0x8848, ET_PPPOE_SES = 0x8864, ET_PBB = 0x88e7, ET_VNTAG = 0x8926,
	ET_ARP = 0x0806, ET_ETAG = 0x893f,
};

const char *tp_dec_result_name(enum tp_dec_result r)
{
	static const char *const n[TP_DEC_COUNT] = {
		"segment", "not_tcp", "fragment", "icmp_quote", "truncated", "malformed", "unsupported",
		"fragment_dropped",
	};
	return (unsigned)r < TP_DEC_COUNT ? n[r] : "?";
}

/* RFC 3032: labels until bottom-of-stack, then IP told apart by its version nibble. */
static enum tp_dec_result dec_mpls(struct dctx *d, const uint8_t *p, uint32_t len)
{
	for (int n = 0; n < 16; n++) {
		if (len < 4)
			return dec_fail(d, TP_DEC_TRUNCATED, "MPLS: label stack cut short");
		int bos = p[2] & 1;
		p += 4;
		len -= 4;
		if (!bos)
			continue;
		if (len < 1)
			return dec_fail(d, TP_DEC_TRUNCATED, "MPLS: no payload after the label stack");
		switch (p[0] >> 4) {
		case 4: return tp_dec_ipv4(d, p, len);
		case 6: return tp_dec_ipv6(d, p, len);
		case 0: /* RFC 4385 pseudowire control word, then Ethernet */
			if (len < 4 + 14)
				return dec_fail(d, TP_DEC_TRUNCATED, "MPLS: pseudowire cut short");
			return tp_dec_ether(d, p + 4, len - 4);
		default: return dec_fail(d, TP_DEC_UNSUPPORTED, "MPLS: unknown payload after the label stack");
		}
	}
	return dec_fail(d, TP_DEC_MALFORMED, "MPLS: more than 16 labels");
}

/*
 * The PPP protocol field and what follows (RFC 1661 2). With protocol field
 * compression (6.5) it is one byte: a field's first byte is always even and
 * its last odd, so an odd first byte is the whole field (0x21 IPv4, 0x57
 * IPv6). Shared with GRE's PPP (tunnel.c).
 */
enum tp_dec_result tp_dec_ppp(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 1 || (!(p[0] & 1) && len < 2))
		return dec_fail(d, TP_DEC_TRUNCATED, "PPP: protocol field cut short");
	uint32_t hl = p[0] & 1 ? 1 : 2;
	uint16_t proto = hl == 1 ? p[0] : rd16(p);
	if (proto == 0x0021)
		return tp_dec_ipv4(d, p + hl, len - hl);
	if (proto == 0x0057)
		return tp_dec_ipv6(d, p + hl, len - hl);
	return dec_fail(d, TP_DEC_NOT_TCP, "PPP: not IP");
}

/* RFC 2516 session stage: 6-byte PPPoE header, then PPP. */
static enum tp_dec_result dec_pppoe(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 6)
		return dec_fail(d, TP_DEC_TRUNCATED, "PPPoE: header cut short");
	return tp_dec_ppp(d, p + 6, len - 6);
}

enum tp_dec_result tp_dec_ethertype(struct dctx *d, uint16_t type, const uint8_t *p, uint32_t len)
{
	if (++d->depth > TP_MAX_DEPTH)
		return dec_fail(d, TP_DEC_MALFORMED, "link: encapsulations nested too deep");
	switch (type) {
	case ET_IPV4: return tp_dec_ipv4(d, p, len);
	case ET_IPV6: return tp_dec_ipv6(d, p, len);
	case ET_VLAN:
	case ET_QINQ:
	case ET_QINQ_OLD:
		if (len < 4)
			return dec_fail(d, TP_DEC_TRUNCATED, "802.1Q: tag cut short");
		ctx_fold(d, rd16(p) & 0x0fff);
		return tp_dec_ethertype(d, rd16(p + 2), p + 4, len - 4);
	case ET_MPLS:
	case ET_MPLS_MC: return dec_mpls(d, p, len);
	case ET_PPPOE_SES: return dec_pppoe(d, p, len);
	case ET_PBB: /* 802.1ah: 4-byte I-TAG, then the customer's Ethernet frame */
		if (len < 4 + 14)
			return dec_fail(d, TP_DEC_TRUNCATED, "PBB: I-TAG cut short");
		ctx_fold(d, rd32(p) & 0x00ffffff);
		return tp_dec_ether(d, p + 4, len - 4);
	case ET_VNTAG: /* Cisco VN-Tag: 4 bytes, then the ethertype */
		if (len < 6)
			return dec_fail(d, TP_DEC_TRUNCATED, "VN-Tag: cut short");
		return tp_dec_ethertype(d, rd16(p + 4), p + 6, len - 6);
	case ET_ETAG: /* 802.1BR E-Tag: 6 bytes, then the ethertype. Its E-CID
		       * names a port, not the conversation: not in the context,
		       * which would part the two directions. */
		if (len < 8)
			return dec_fail(d, TP_DEC_TRUNCATED, "E-Tag: cut short");
		return tp_dec_ethertype(d, rd16(p + 6), p + 8, len - 8);
	default:
		if (type < 0x0600)
			return dec_fail(d, TP_DEC_NOT_TCP, "Ethernet: 802.3 length field, not IP");
		return dec_fail(d, TP_DEC_NOT_TCP, "Ethernet: not IP");
	}
}

enum tp_dec_result tp_dec_ether(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 14)
		return dec_fail(d, TP_DEC_TRUNCATED, "Ethernet: header cut short");
	return tp_dec_ethertype(d, rd16(p + 12), p + 14, len - 14);
}

/* Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control, then an
 * ethertype for the protocol. Its keepalives (SLARP, 0x8035) are not IP. */
static enum tp_dec_result dec_chdlc(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 4)
		return dec_fail(d, TP_DEC_TRUNCATED, "Cisco HDLC: header cut short");
	return tp_dec_ethertype(d, rd16(p + 2), p + 4, len - 4);
}

/* BSD loopback: a host-endian address family; its values differ by OS. */
static enum tp_dec_result dec_null(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 4)
		return dec_fail(d, TP_DEC_TRUNCATED, "null: header cut short");
	uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	uint32_t af = le > 0xffff ? rd32(p) : le;
	if (af == 2)
		return tp_dec_ipv4(d, p + 4, len - 4);
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return tp_dec_ipv6(d, p + 4, len - 4);
	return dec_fail(d, TP_DEC_NOT_TCP, "null: not IP");
}

enum tp_dec_result tp_decode(int linktype, const uint8_t *pkt, uint32_t caplen, const struct tp_decode_opts *opts,
                             struct tp_segment *seg, struct tp_decode_stats *st, const char **why)
{
	static const struct tp_decode_opts defaults = { 0 };
	const char *dummy;
	struct dctx d = { opts ? opts : &defaults, seg, st, why ? why : &dummy, 0, 0, 0, 0 };
	d.complete = d.opts->wirelen && caplen >= d.opts->wirelen;
	enum tp_dec_result r;
	memset(seg, 0, sizeof *seg);
	*d.why = NULL;
	if (d.opts->defrag) /* capture time moves on with every packet, fragment or not */
		tp_defrag_expire(d.opts->defrag, d.opts->ts_ns, st);
	switch (linktype) {
	case LT_EN10MB: r = tp_dec_ether(&d, pkt, caplen); break;
	case LT_NULL:
	case LT_LOOP: r = dec_null(&d, pkt, caplen); break;
	case LT_RAW:
	case LT_RAW_OLD1:
	case LT_RAW_OLD2: r = tp_dec_ip(&d, pkt, caplen); break;
	case LT_IPV4: r = tp_dec_ipv4(&d, pkt, caplen); break;
	case LT_C_HDLC: r = dec_chdlc(&d, pkt, caplen); break;
	case LT_IEEE802_11: r = tp_dec_80211(&d, pkt, caplen); break;
	case LT_RADIOTAP: r = tp_dec_radiotap(&d, pkt, caplen); break;
	case LT_IPV6: r = tp_dec_ipv6(&d, pkt, caplen); break;
	case LT_LINUX_SLL: /* 16-byte header, protocol last */
		r = caplen < 16 ? dec_fail(&d, TP_DEC_TRUNCATED, "SLL: header cut short")
		                : tp_dec_ethertype(&d, rd16(pkt + 14), pkt + 16, caplen - 16);
		break;
	case LT_LINUX_SLL2: /* 20-byte header, protocol first */
		r = caplen < 20 ? dec_fail(&d, TP_DEC_TRUNCATED, "SLL2: header cut short")
		                : tp_dec_ethertype(&d, rd16(pkt), pkt + 20, caplen - 20);
		break;
	default: r = dec_fail(&d, TP_DEC_UNSUPPORTED, "link: unsupported link type"); break;
	}
	if (r == TP_DEC_SEGMENT) {
		seg->context = d.context;
		if (d.tunnelled)
			st->tunnelled++;
		if (seg->checksum == TP_CSUM_BAD)
			st->bad_checksum++;
	}
	st->by_result[r]++;
	return r;
}
