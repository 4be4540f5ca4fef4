/*
 * tunnel.c - encapsulations whose inner TCP connection we analyse: GRE
 * (RFC 2784/2890, PPTP's enhanced GRE of RFC 2637, ERSPAN types I-III) and,
 * over UDP, VXLAN (RFC 7348), Geneve (RFC 8926), GTP-U (3GPP TS 29.281) and
 * Teredo (RFC 4380). The outer addresses are folded into the context.
 */
#include "layers.h"

enum { UDP_VXLAN = 4789, UDP_GENEVE = 6081, UDP_GTPU = 2152, UDP_TEREDO = 3544 };

static enum tp_dec_result inner_ppp(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len >= 2 && p[0] == 0xff && p[1] == 0x03) { /* address and control, unless compressed */
		p += 2;
		len -= 2;
	}
	return tp_dec_ppp(d, p, len);
}

/* ERSPAN: type II has an 8-byte header, type III 12 (+8 with the O bit). */
static enum tp_dec_result dec_erspan(struct dctx *d, const uint8_t *p, uint32_t len, int type3)
{
	uint32_t hl = type3 ? 12 : 8;
	if (len < hl)
		return dec_fail(d, TP_DEC_TRUNCATED, "ERSPAN: header cut short");
	ctx_fold(d, rd16(p + 2) & 0x03ff); /* session id */
	if (type3 && (p[11] & 1))
		hl += 8;
	if (len < hl)
		return dec_fail(d, TP_DEC_TRUNCATED, "ERSPAN: platform subheader cut short");
	return tp_dec_ether(d, p + hl, len - hl);
}

enum tp_dec_result tp_dec_gre(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 4)
		return dec_fail(d, TP_DEC_TRUNCATED, "GRE: header cut short");
	uint16_t fl = rd16(p), proto = rd16(p + 2);
	int ver = fl & 7;
	uint32_t hl = 4;
	if (ver > 1)
		return dec_fail(d, TP_DEC_UNSUPPORTED, "GRE: unknown version");
	if (fl & 0x8000) /* checksum present */
		hl += 4;
	if (fl & 0x2000) /* key */
		hl += 4;
	if (fl & 0x1000) /* sequence number */
		hl += 4;
	if (ver == 1 && (fl & 0x0080)) /* enhanced GRE: acknowledgment number */
		hl += 4;
	if (len < hl)
		return dec_fail(d, TP_DEC_TRUNCATED, "GRE: optional fields cut short");
	if (fl & 0x2000) /* the key names the tunnel: it follows the checksum if any */
		ctx_fold(d, rd32(p + 4 + ((fl & 0x8000) ? 4 : 0)));
	d->tunnelled = 1;
	p += hl;
	len -= hl;
	switch (proto) {
	case 0x0800: return tp_dec_ipv4(d, p, len);
	case 0x86dd: return tp_dec_ipv6(d, p, len);
	case 0x6558: return tp_dec_ether(d, p, len); /* transparent Ethernet bridging */
	case 0x880b: return inner_ppp(d, p, len);
	case 0x88be: /* ERSPAN type II, or type I when no sequence number is present */
		return (fl & 0x1000) ? dec_erspan(d, p, len, 0) : tp_dec_ether(d, p, len);
	case 0x22eb: return dec_erspan(d, p, len, 1);
	default:
		if ((proto & 0xff00) == 0x8200) /* Aruba access points tunnel raw 802.11 to their controller */
			return tp_dec_80211(d, p, len);
		return dec_fail(d, TP_DEC_UNSUPPORTED, "GRE: unsupported protocol type");
	}
}

static enum tp_dec_result dec_geneve(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 8)
		return dec_fail(d, TP_DEC_TRUNCATED, "Geneve: header cut short");
	uint32_t hl = 8 + (uint32_t)(p[0] & 0x3f) * 4;
	if (len < hl)
		return dec_fail(d, TP_DEC_TRUNCATED, "Geneve: options cut short");
	ctx_fold(d, rd32(p + 4) >> 8); /* VNI */
	switch (rd16(p + 2)) {
	case 0x6558: return tp_dec_ether(d, p + hl, len - hl);
	case 0x0800: return tp_dec_ipv4(d, p + hl, len - hl);
	case 0x86dd: return tp_dec_ipv6(d, p + hl, len - hl);
	default: return dec_fail(d, TP_DEC_UNSUPPORTED, "Geneve: unsupported protocol type");
	}
}

static enum tp_dec_result dec_gtpu(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 8)
		return dec_fail(d, TP_DEC_TRUNCATED, "GTP-U: header cut short");
	if ((p[0] >> 5) != 1)
		return dec_fail(d, TP_DEC_NOT_TCP, "GTP-U: not version 1");
	if (p[1] != 0xff)
		return dec_fail(d, TP_DEC_NOT_TCP, "GTP-U: signalling, not a G-PDU");
	uint32_t hl = 8;
	ctx_fold(d, rd32(p + 4)); /* TEID */
	if (p[0] & 0x07) { /* sequence number, N-PDU number, next extension type */
		if (len < 12)
			return dec_fail(d, TP_DEC_TRUNCATED, "GTP-U: optional fields cut short");
		uint8_t next = p[11];
		hl = 12;
		while ((p[0] & 0x04) && next) { /* extension headers: length in 4-byte units */
			if (len < hl + 1 || p[hl] == 0)
				return dec_fail(d, TP_DEC_MALFORMED, "GTP-U: bad extension header");
			uint32_t el = (uint32_t)p[hl] * 4;
			if (len < hl + el)
				return dec_fail(d, TP_DEC_TRUNCATED, "GTP-U: extension header cut short");
			next = p[hl + el - 1];
			hl += el;
		}
	}
	return tp_dec_ip(d, p + hl, len - hl);
}

/* Teredo: optional authentication and origin indications, then IPv6. */
static const uint8_t *teredo_ipv6(const uint8_t *p, uint32_t len, uint32_t *rest)
{
	if (len >= 4 && p[0] == 0 && p[1] == 1) {
		uint32_t al = 4 + (uint32_t)p[2] + p[3] + 9;
		if (len < al)
			return NULL;
		p += al;
		len -= al;
	}
	if (len >= 8 && p[0] == 0 && p[1] == 0) {
		p += 8;
		len -= 8;
	}
	*rest = len;
	return p;
}

/*
 * Teredo relays use any UDP port once a client is qualified, so, like Zeek,
 * we also take a datagram on another port for Teredo when it holds exactly
 * one IPv6 packet: version 6 and a payload length that fills the datagram.
 */
static int looks_like_teredo(const uint8_t *p, uint32_t len)
{
	uint32_t rest;
	const uint8_t *ip6 = teredo_ipv6(p, len, &rest);
	return ip6 && rest >= 40 && ip6[0] >> 4 == 6 && (uint32_t)rd16(ip6 + 4) + 40 == rest;
}

static enum tp_dec_result dec_teredo(struct dctx *d, const uint8_t *p, uint32_t len)
{
	uint32_t rest;
	const uint8_t *ip6 = teredo_ipv6(p, len, &rest);
	if (!ip6)
		return dec_fail(d, TP_DEC_TRUNCATED, "Teredo: authentication cut short");
	if (rest < 40 || ip6[0] >> 4 != 6)
		return dec_fail(d, TP_DEC_NOT_TCP, "UDP 3544: not Teredo-encapsulated IPv6");
	return tp_dec_ipv6(d, ip6, rest);
}

enum tp_dec_result tp_dec_udp(struct dctx *d, const uint8_t *p, uint32_t caplen, uint32_t udplen)
{
	if (caplen < 8)
		return dec_fail(d, TP_DEC_TRUNCATED, "UDP: header cut short");
	uint16_t sp = rd16(p), dp = rd16(p + 2);
	uint32_t len = caplen < udplen ? caplen : udplen;
	if (len < 8)
		return dec_fail(d, TP_DEC_MALFORMED, "UDP: length below 8");
	p += 8;
	len -= 8;
	enum tp_dec_result r;
	if (dp == UDP_VXLAN || sp == UDP_VXLAN) {
		if (len < 8)
			return dec_fail(d, TP_DEC_TRUNCATED, "VXLAN: header cut short");
		ctx_fold(d, rd32(p + 4) >> 8); /* VNI */
		d->tunnelled = 1;
		return tp_dec_ether(d, p + 8, len - 8);
	}
	if (dp == UDP_GENEVE || sp == UDP_GENEVE) {
		d->tunnelled = 1;
		return dec_geneve(d, p, len);
	}
	if (dp == UDP_GTPU || sp == UDP_GTPU) {
		d->tunnelled = 1;
		return dec_gtpu(d, p, len);
	}
	if (dp == UDP_TEREDO || sp == UDP_TEREDO || looks_like_teredo(p, len)) {
		r = dec_teredo(d, p, len);
		if (r == TP_DEC_SEGMENT)
			d->tunnelled = 1;
		return r;
	}
	return dec_fail(d, TP_DEC_NOT_TCP, "UDP");
}
