/*
 * ieee80211.c - IEEE 802.11 data frames (captured raw, under radiotap, or
 * carried in Aruba's GRE), down to the LLC/SNAP ethertype. Management and
 * control frames carry no TCP; protected frames cannot be read.
 */
#include "layers.h"

enum { FC_TYPE_DATA = 2, FC1_TODS = 0x01, FC1_FROMDS = 0x02, FC1_PROTECTED = 0x40, FC1_ORDER = 0x80 };

/* RFC 1042 / 802.1H encapsulation: AA AA 03, a 3-byte OUI, the ethertype. */
static enum tp_dec_result dec_snap(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 8)
		return dec_fail(d, TP_DEC_TRUNCATED, "802.11: LLC/SNAP header cut short");
	if (p[0] != 0xaa || p[1] != 0xaa || p[2] != 0x03)
		return dec_fail(d, TP_DEC_NOT_TCP, "802.11: not LLC/SNAP");
	return tp_dec_ethertype(d, rd16(p + 6), p + 8, len - 8);
}

/*
 * An A-MSDU packs several subframes (DA, SA, length, then LLC/SNAP) into one
 * frame. The core takes one segment per packet, so only the first subframe
 * is analysed; the README lists this limit.
 */
static enum tp_dec_result dec_amsdu(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 14)
		return dec_fail(d, TP_DEC_TRUNCATED, "802.11: A-MSDU subframe header cut short");
	uint32_t sub = rd16(p + 12);
	if (sub > len - 14)
		return dec_fail(d, TP_DEC_MALFORMED, "802.11: A-MSDU subframe longer than the frame");
	return dec_snap(d, p + 14, sub);
}

enum tp_dec_result tp_dec_80211(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 24)
		return dec_fail(d, TP_DEC_TRUNCATED, "802.11: header cut short");
	uint8_t fc0 = p[0], fc1 = p[1];
	if (((fc0 >> 2) & 3) != FC_TYPE_DATA)
		return dec_fail(d, TP_DEC_NOT_TCP, "802.11: management or control frame");
	if (fc1 & FC1_PROTECTED)
		return dec_fail(d, TP_DEC_UNSUPPORTED, "802.11: protected (encrypted) frame");
	uint32_t hl = 24;
	if ((fc1 & (FC1_TODS | FC1_FROMDS)) == (FC1_TODS | FC1_FROMDS))
		hl += 6; /* a fourth address between bridges */
	int qos = (fc0 >> 4) & 0x8, amsdu = 0;
	if (qos) {
		if (len < hl + 2)
			return dec_fail(d, TP_DEC_TRUNCATED, "802.11: QoS control cut short");
		amsdu = p[hl] & 0x80;
		hl += 2;
		if (fc1 & FC1_ORDER)
			hl += 4; /* HT control */
	}
	if ((fc0 >> 4) & 0x4)
		return dec_fail(d, TP_DEC_NOT_TCP, "802.11: null data frame");
	if (len < hl)
		return dec_fail(d, TP_DEC_TRUNCATED, "802.11: header cut short");
	return amsdu ? dec_amsdu(d, p + hl, len - hl) : dec_snap(d, p + hl, len - hl);
}

/* Radiotap: a little-endian length at offset 2 says where 802.11 starts. */
enum tp_dec_result tp_dec_radiotap(struct dctx *d, const uint8_t *p, uint32_t len)
{
	if (len < 8)
		return dec_fail(d, TP_DEC_TRUNCATED, "radiotap: header cut short");
	uint32_t hl = (uint32_t)p[2] | (uint32_t)p[3] << 8;
	if (hl < 8 || hl > len)
		return dec_fail(d, TP_DEC_MALFORMED, "radiotap: header length past the packet");
	return tp_dec_80211(d, p + hl, len - hl);
}
