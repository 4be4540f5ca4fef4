/*
 * tcp.c - the TCP header (RFC 9293 3.1): ports, numbers, flags, window, the
 * options the core uses (a SYN's window scale, and the timestamps of every
 * segment, so that the core can tell which transmission an ACK answers) and,
 * when asked and the whole segment was captured, the checksum.
 */
#include "layers.h"

/* One's-complement sum of 16-bit words (RFC 1071), not yet folded. */
uint32_t tp_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint64_t s = sum;
	for (; len >= 2; p += 2, len -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffU) + (s >> 32);
	return (uint32_t)s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Options are attacker-controlled: stop at the first length that does not
 * fit. The window scale counts only on a SYN (RFC 7323 2.2); the
 * timestamps on any segment (RFC 7323 3.2; the first one found). */
static void parse_options(struct tp_segment *s, const uint8_t *o, uint32_t len)
{
	/* After the handshake nearly every segment of a stack that sends
	 * timestamps starts its options as RFC 7323 Appendix A lays them out:
	 * NOP, NOP, then the timestamps. Nothing after them counts there. */
	if (len >= 12 && !(s->flags & TP_TH_SYN) && rd32(o) == 0x0101080aU) {
		s->has_ts = 1;
		s->tsval = rd32(o + 4);
		s->tsecr = rd32(o + 8);
		return;
	}
	uint32_t i = 0;
	while (i < len) {
		uint8_t kind = o[i];
		if (kind == 0) /* end of option list */
			return;
		if (kind == 1) { /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			return;
		uint8_t ol = o[i + 1];
		const uint8_t *v = o + i + 2;
		if (kind == 3 && ol == 3 && (s->flags & TP_TH_SYN))
			s->wscale = (int8_t)(v[0] > 14 ? 14 : v[0]); /* RFC 7323 2.3 */
		else if (kind == 8 && ol == 10 && !s->has_ts) {
			s->has_ts = 1;
			s->tsval = rd32(v);
			s->tsecr = rd32(v + 4);
			if (!(s->flags & TP_TH_SYN))
				return; /* nothing more to read */
		}
		i += ol;
	}
}

enum tp_dec_result tp_dec_tcp(struct dctx *d, const uint8_t *p, uint32_t caplen, uint32_t seglen, uint32_t pseudo_sum)
{
	struct tp_segment *s = d->seg;
	if (seglen < 20)
		return dec_fail(d, TP_DEC_MALFORMED, "TCP: segment shorter than a TCP header");
	if (caplen < 20)
		return dec_fail(d, TP_DEC_TRUNCATED, "TCP: header cut short by the snaplen");
	uint32_t hl = (uint32_t)(p[12] >> 4) * 4;
	if (hl < 20)
		return dec_fail(d, TP_DEC_MALFORMED, "TCP: data offset below 5");
	if (hl > seglen)
		return dec_fail(d, TP_DEC_MALFORMED, "TCP: data offset past the end of the segment");
	s->sport = rd16(p);
	s->dport = rd16(p + 2);
	s->seq = rd32(p + 4);
	s->ack = rd32(p + 8);
	s->flags = (uint16_t)(rd16(p + 12) & 0x01ff);
	s->window = rd16(p + 14);
	s->len = seglen - hl;
	s->wscale = -1;
	s->has_ts = 0;
	s->tsval = s->tsecr = 0;
	/* Options cut by the snaplen: the fixed header is enough to analyse (as
	 * Wireshark and Zeek do); read what was captured of them. */
	parse_options(s, p + 20, (hl > caplen ? caplen : hl) - 20);
	s->checksum = TP_CSUM_UNKNOWN;
	if (d->opts->verify_checksums && caplen >= seglen)
		s->checksum = csum_fold(tp_csum_add(pseudo_sum, p, seglen)) == 0xffff ? TP_CSUM_GOOD : TP_CSUM_BAD;
	return TP_DEC_SEGMENT;
}

enum tp_dec_result tp_decode_tcp_header(const uint8_t *p, uint32_t caplen, uint32_t seglen,
                                        struct tp_segment *seg, const char **why)
{
	struct tp_decode_opts opts = { 0 }; /* no checksum: the caller's dissector judges it */
	struct dctx d = { .opts = &opts, .seg = seg, .why = why };
	return tp_dec_tcp(&d, p, caplen, seglen, 0);
}
