/*
 * extract.c - from the fields Wireshark's TCP and IP dissectors already
 * filled in to a struct tp_segment. Nothing is parsed again here.
 *
 * A frame may hold more than one TCP header: an ICMP error quotes the
 * header of the packet it reports, a tunnel over TCP carries a whole packet
 * inside a segment, an 802.11 A-MSDU carries several packets side by side.
 * We take one real segment (Wireshark gives it a tcp.len; a quoted header
 * gets none): the innermost one, and of segments side by side the first, as
 * the CLI's decoder does (segment_header). Every other value is read from
 * that same header. "Same header" is decided by position: a field
 * belongs to the TCP header if it lies in the same data source and within
 * the bytes of the "tcp" protocol item, whose length Wireshark sets to the
 * header length. The IP header is the last one that starts before it.
 */
#include "tcpphase-plugin.h"

#include <epan/address.h>
#include <epan/ftypes/ftypes.h>

/* The fields we read, by filter name. Designated initialisers keep the
 * names next to their indices, so the two cannot drift apart. */
enum fld {
	F_TCP = 0, /* the protocol item itself: the anchor */
	F_SRCPORT, F_DSTPORT, F_SEQ_RAW, F_ACK_RAW, F_FLAGS, F_LEN, F_WINDOW, F_STREAM,
	F_CSUM_STATUS, F_WSCALE,
	F_IP_SRC, F_IP_DST, F_IP_LEN, F_IP6_SRC, F_IP6_DST, F_IP6_PLEN,
	F_BASIC_END, /* below: only for key_context (the VLAN/tunnel context) */
	F_VLAN_ID = F_BASIC_END, F_PBB_ISID, F_GRE_KEY, F_ERSPAN_SPANID, F_VXLAN_VNI, F_GENEVE_VNI, F_GTP_TEID,
	F_COUNT
};

static struct {
	const char *name;
	int hf;
} fld[F_COUNT] = {
	[F_TCP] = { "tcp", -1 },
	[F_SRCPORT] = { "tcp.srcport", -1 },
	[F_DSTPORT] = { "tcp.dstport", -1 },
	[F_SEQ_RAW] = { "tcp.seq_raw", -1 },
	[F_ACK_RAW] = { "tcp.ack_raw", -1 },
	[F_FLAGS] = { "tcp.flags", -1 },
	[F_LEN] = { "tcp.len", -1 },
	[F_WINDOW] = { "tcp.window_size_value", -1 },
	[F_STREAM] = { "tcp.stream", -1 },
	[F_CSUM_STATUS] = { "tcp.checksum.status", -1 },
	[F_WSCALE] = { "tcp.options.wscale.shift", -1 },
	[F_IP_SRC] = { "ip.src", -1 },
	[F_IP_DST] = { "ip.dst", -1 },
	[F_IP_LEN] = { "ip.len", -1 },
	[F_IP6_SRC] = { "ipv6.src", -1 },
	[F_IP6_DST] = { "ipv6.dst", -1 },
	[F_IP6_PLEN] = { "ipv6.plen", -1 },
	[F_VLAN_ID] = { "vlan.id", -1 },
	[F_PBB_ISID] = { "ieee8021ah.isid", -1 },
	[F_GRE_KEY] = { "gre.key", -1 },
	[F_ERSPAN_SPANID] = { "erspan.spanid", -1 },
	[F_VXLAN_VNI] = { "vxlan.vni", -1 },
	[F_GENEVE_VNI] = { "geneve.vni", -1 },
	[F_GTP_TEID] = { "gtp.teid", -1 },
};

void tpp_extract_init_ids(void)
{
	for (int i = 0; i < F_COUNT; i++) {
		fld[i].hf = proto_registrar_get_id_byname(fld[i].name);
		/* The TCP and IP fields are in every Wireshark 4.0; a tunnel
		 * dissector may be missing from a cut-down build. */
		if (fld[i].hf < 0 && i < F_BASIC_END)
			ws_warning("tcpphase: Wireshark has no field %s", fld[i].name);
	}
}

GArray *tpp_extract_wanted_hfids(gboolean key_context)
{
	int n = key_context ? F_COUNT : F_BASIC_END;
	GArray *a = g_array_sized_new(FALSE, FALSE, (guint)sizeof(int), (guint)n);
	for (int i = 0; i < n; i++)
		if (fld[i].hf >= 0)
			g_array_append_val(a, fld[i].hf);
	return a;
}

static GPtrArray *occurrences(proto_tree *tree, enum fld f)
{
	return fld[f].hf < 0 ? NULL : proto_get_finfo_ptr_array(tree, fld[f].hf);
}

/* The last occurrence of field f in [lo, hi] of data source ds, or NULL. */
static field_info *last_in(proto_tree *tree, enum fld f, tvbuff_t *ds, gint lo, gint hi)
{
	GPtrArray *a = occurrences(tree, f);
	for (guint i = a ? a->len : 0; i-- > 0;) {
		field_info *fi = (field_info *)g_ptr_array_index(a, i);
		if (fi->ds_tvb == ds && fi->start >= lo && fi->start <= hi)
			return fi;
	}
	return NULL;
}

/* The occurrence of field f that starts exactly at start in ds, or NULL. */
static field_info *at(proto_tree *tree, enum fld f, tvbuff_t *ds, gint start)
{
	return last_in(tree, f, ds, start, start);
}

static guint32 uval(field_info *fi)
{
	return fvalue_get_uinteger(&fi->value);
}

/* Payload bytes of the segment whose header is fi, or -1 if not a segment. */
static gint64 seg_len(proto_tree *tree, field_info *fi)
{
	gint end = fi->start + (fi->length > 0 ? fi->length : 0);
	field_info *len = last_in(tree, F_LEN, fi->ds_tvb, fi->start, end);
	return len ? (gint64)uval(len) : -1;
}

/*
 * The TCP header every other value is read from: the first real segment
 * (one with a tcp.len, which a header quoted by an ICMP error lacks), or the
 * innermost segment nested in its payload (a tunnel carried over TCP). Two
 * segments side by side, as in an 802.11 A-MSDU, are not nested: the first
 * one is taken, as the CLI's decoder does.
 */
static field_info *segment_header(proto_tree *tree)
{
	GPtrArray *tcp = occurrences(tree, F_TCP);
	field_info *chosen = NULL;
	gint64 chosen_len = -1;
	for (guint i = 0; tcp && i < tcp->len; i++) {
		field_info *fi = (field_info *)g_ptr_array_index(tcp, i);
		gint64 len = seg_len(tree, fi);
		if (len < 0)
			continue;
		if (chosen) {
			/* The tcp item's length is the header length. */
			gint64 from = (gint64)chosen->start + (chosen->length > 0 ? chosen->length : 0);
			gboolean nested = fi->ds_tvb != chosen->ds_tvb /* reassembled from its payload */
			                  || (fi->start >= from && fi->start < from + chosen_len);
			if (!nested)
				continue;
		}
		chosen = fi;
		chosen_len = len;
	}
	return chosen;
}

static void set_v4(struct tp_addr *a, guint32 net_order)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	memcpy(a->bytes, &net_order, 4);
}

static void set_v6(struct tp_addr *a, const guint8 *bytes)
{
	memset(a, 0, sizeof *a);
	a->family = 6;
	memcpy(a->bytes, bytes, 16);
}

static gboolean set_from_address(struct tp_addr *a, const address *ad)
{
	if (ad->type == AT_IPv4 && ad->len == 4) {
		guint32 v;
		memcpy(&v, ad->data, 4);
		set_v4(a, v);
		return TRUE;
	}
	if (ad->type == AT_IPv6 && ad->len == 16) {
		set_v6(a, (const guint8 *)ad->data);
		return TRUE;
	}
	return FALSE;
}

/*
 * The addresses and IP length of the IP header that carries the TCP header
 * at tcp: the last ip.src or ipv6.src before it in the same data source.
 * ip.dst and ip.len sit at fixed offsets from ip.src (RFC 791: len at 2,
 * src at 12, dst at 16; RFC 8200: payload length at 4, src at 8, dst at 24).
 * If the TCP header is in another data source (IP reassembly), fall back to
 * the network addresses the last IP layer left in pinfo.
 */
static gboolean ip_header(proto_tree *tree, packet_info *pinfo, field_info *tcp, struct tp_segment *s,
                          gint *ip_start)
{
	field_info *v4 = last_in(tree, F_IP_SRC, tcp->ds_tvb, 0, tcp->start - 1);
	field_info *v6 = last_in(tree, F_IP6_SRC, tcp->ds_tvb, 0, tcp->start - 1);
	if (v4 && (!v6 || v4->start > v6->start)) {
		field_info *dst = at(tree, F_IP_DST, tcp->ds_tvb, v4->start + 4);
		field_info *len = at(tree, F_IP_LEN, tcp->ds_tvb, v4->start - 10);
		if (dst) {
			set_v4(&s->src, uval(v4));
			set_v4(&s->dst, uval(dst));
			s->ip_len = len ? uval(len) : 0;
			*ip_start = v4->start - 12;
			return TRUE;
		}
	}
	if (v6) {
		field_info *dst = at(tree, F_IP6_DST, tcp->ds_tvb, v6->start + 16);
		field_info *plen = at(tree, F_IP6_PLEN, tcp->ds_tvb, v6->start - 4);
		if (dst) {
			set_v6(&s->src, fvalue_get_bytes(&v6->value));
			set_v6(&s->dst, fvalue_get_bytes(&dst->value));
			s->ip_len = plen ? uval(plen) + 40 : 0;
			*ip_start = v6->start - 8;
			return TRUE;
		}
	}
	*ip_start = tcp->start;
	s->ip_len = 0;
	return set_from_address(&s->src, &pinfo->net_src) && set_from_address(&s->dst, &pinfo->net_dst) &&
	       s->src.family == s->dst.family;
}

/* FNV-style fold, as the CLI's decoder folds VLAN ids and tunnel keys. */
static void fold(guint32 *ctx, guint32 v)
{
	*ctx = (*ctx ^ v) * 0x01000193U + 0x9e3779b9U;
}

/*
 * The VLAN/tunnel context of the segment: every VLAN id, PBB I-SID and
 * tunnel key before the carrying IP header, and the address pair of every
 * outer IP header (folded so both directions agree). Only the partition
 * matters (which segments share a context), not the value.
 */
static guint32 context(proto_tree *tree, tvbuff_t *ds, gint ip_start)
{
	static const enum fld ids[] = { F_VLAN_ID, F_PBB_ISID, F_GRE_KEY, F_ERSPAN_SPANID,
	                                F_VXLAN_VNI, F_GENEVE_VNI, F_GTP_TEID };
	guint32 ctx = 0;
	for (size_t k = 0; k < G_N_ELEMENTS(ids); k++) {
		GPtrArray *a = occurrences(tree, ids[k]);
		for (guint i = 0; a && i < a->len; i++) {
			field_info *fi = (field_info *)g_ptr_array_index(a, i);
			if (fi->ds_tvb == ds && fi->start < ip_start)
				fold(&ctx, uval(fi) ^ (guint32)k << 28);
		}
	}
	GPtrArray *a = occurrences(tree, F_IP_SRC);
	for (guint i = 0; a && i < a->len; i++) {
		field_info *src = (field_info *)g_ptr_array_index(a, i);
		field_info *dst = src->ds_tvb == ds && src->start < ip_start
		                      ? at(tree, F_IP_DST, ds, src->start + 4) : NULL;
		if (dst)
			fold(&ctx, uval(src) ^ uval(dst));
	}
	a = occurrences(tree, F_IP6_SRC);
	for (guint i = 0; a && i < a->len; i++) {
		field_info *src = (field_info *)g_ptr_array_index(a, i);
		field_info *dst = src->ds_tvb == ds && src->start < ip_start
		                      ? at(tree, F_IP6_DST, ds, src->start + 16) : NULL;
		if (!dst)
			continue;
		const guint8 *x = fvalue_get_bytes(&src->value), *y = fvalue_get_bytes(&dst->value);
		guint32 h = 0;
		for (int b = 0; b < 16; b++)
			h ^= (guint32)(x[b] ^ y[b]) << (8 * (b & 3));
		fold(&ctx, h);
	}
	return ctx;
}

gboolean tpp_extract_segment(proto_tree *tree, packet_info *pinfo, gboolean key_context,
                             struct tp_segment *s, guint32 *stream)
{
	memset(s, 0, sizeof *s);
	s->wscale = -1;
	if (!tree)
		return FALSE;
	field_info *tcp = segment_header(tree);
	if (!tcp)
		return FALSE;
	tvbuff_t *ds = tcp->ds_tvb;
	gint lo = tcp->start, hi = tcp->start + (tcp->length > 0 ? tcp->length : 0);
	field_info *sp = last_in(tree, F_SRCPORT, ds, lo, hi), *dp = last_in(tree, F_DSTPORT, ds, lo, hi);
	field_info *seq = last_in(tree, F_SEQ_RAW, ds, lo, hi), *ack = last_in(tree, F_ACK_RAW, ds, lo, hi);
	field_info *flags = last_in(tree, F_FLAGS, ds, lo, hi), *len = last_in(tree, F_LEN, ds, lo, hi);
	field_info *win = last_in(tree, F_WINDOW, ds, lo, hi);
	if (!sp || !dp || !seq || !ack || !flags || !len || !win)
		return FALSE; /* a header Wireshark gave up on part-way */
	gint ip_start;
	if (!ip_header(tree, pinfo, tcp, s, &ip_start))
		return FALSE;
	s->sport = (uint16_t)uval(sp);
	s->dport = (uint16_t)uval(dp);
	s->seq = uval(seq);
	s->ack = uval(ack);
	s->flags = (uint16_t)(uval(flags) & 0x01ff); /* TP_TH_*: the low 9 bits, as on the wire */
	s->window = (uint16_t)uval(win);
	s->len = uval(len);

	field_info *fi;
	if ((s->flags & TP_TH_SYN) && (fi = last_in(tree, F_WSCALE, ds, lo, hi))) {
		guint32 shift = uval(fi);
		s->wscale = (int8_t)(shift > 14 ? 14 : shift); /* RFC 7323 2.3, as the CLI's decoder */
	}
	/* Wireshark verifies the checksum only with tcp.check_checksum:TRUE;
	 * otherwise the status is "unverified" (proto_checksum_vals). */
	s->checksum = TP_CSUM_UNKNOWN;
	if ((fi = last_in(tree, F_CSUM_STATUS, ds, lo, hi))) {
		guint32 st = uval(fi);
		s->checksum = st == PROTO_CHECKSUM_E_BAD ? TP_CSUM_BAD : st == PROTO_CHECKSUM_E_GOOD ? TP_CSUM_GOOD
		                                                                                    : TP_CSUM_UNKNOWN;
	}
	fi = last_in(tree, F_STREAM, ds, lo, hi);
	*stream = fi ? uval(fi) : G_MAXUINT32;
	s->context = key_context ? context(tree, ds, ip_start) : 0;
	return TRUE;
}
