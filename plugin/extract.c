/*
 * extract.c - from what Wireshark's TCP and IP dissectors found to a struct
 * tp_segment. Wireshark locates the headers (Decode As, tunnels and
 * reassembly included); the TCP and IP headers it located are then read by
 * the CLI's own decoder (tp_decode_tcp_header, tp_decode_ip_header), so both
 * front ends read them alike.
 *
 * Why positions and bytes, not one field per value: a postdissector's
 * fields come from a protocol tree built on the first pass, and each field
 * asked for costs a real item in every frame's tree. Asking for the "tcp",
 * "ip" and "ipv6" items (which give where each header starts), tcp.len and
 * tcp.stream, instead of the seventeen fields read before, made
 * `tshark -2 -z tcpphase,tree` markedly faster (see bench/RESULTS.md).
 *
 * A frame may hold more than one TCP header: an ICMP error quotes the
 * header of the packet it reports, a tunnel over TCP carries a whole packet
 * inside a segment, an 802.11 A-MSDU carries several packets side by side.
 * We take one real segment (Wireshark gives it a tcp.len; a quoted header
 * gets none): the innermost one, and of segments side by side the first, as
 * the CLI's decoder does (segment_header). A field belongs to the TCP header
 * if it lies in the same data source and within the bytes of the "tcp"
 * protocol item, whose length Wireshark sets to the header length. The IP
 * header is the last one that starts before it.
 */
#include "tcpphase-plugin.h"

#include <epan/address.h>
#include <epan/ftypes/ftypes.h>

#include "decode.h"

/* The fields we ask for, by filter name. Designated initialisers keep the
 * names next to their indices, so the two cannot drift apart. */
enum fld {
	F_TCP = 0, /* the protocol items: where each header starts */
	F_IP, F_IP6,
	F_LEN, F_STREAM,
	F_CSUM_STATUS, /* only with checksum_verify */
	F_CONTEXT_START, /* below: only with key_context (the VLAN/tunnel context) */
	F_VLAN_ID = F_CONTEXT_START, F_PBB_ISID, F_GRE_KEY, F_ERSPAN_SPANID, F_VXLAN_VNI, F_GENEVE_VNI, F_GTP_TEID,
	F_COUNT
};

static struct {
	const char *name;
	int hf;
} fld[F_COUNT] = {
	[F_TCP] = { "tcp", -1 },
	[F_IP] = { "ip", -1 },
	[F_IP6] = { "ipv6", -1 },
	[F_LEN] = { "tcp.len", -1 },
	[F_STREAM] = { "tcp.stream", -1 },
	[F_CSUM_STATUS] = { "tcp.checksum.status", -1 },
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
		if (fld[i].hf < 0 && i < F_CONTEXT_START)
			ws_warning("tcpphase: Wireshark has no field %s", fld[i].name);
	}
}

/* Only what the preferences need goes into every frame's tree. */
static gboolean wanted(int i, gboolean key_context, gboolean checksum_verify)
{
	if (i == F_CSUM_STATUS)
		return checksum_verify;
	return i < F_CONTEXT_START || key_context;
}

GArray *tpp_extract_wanted_hfids(gboolean key_context, gboolean checksum_verify)
{
	GArray *a = g_array_sized_new(FALSE, FALSE, (guint)sizeof(int), F_COUNT);
	for (int i = 0; i < F_COUNT; i++)
		if (fld[i].hf >= 0 && wanted(i, key_context, checksum_verify))
			g_array_append_val(a, fld[i].hf);
	return a;
}

/* The occurrences of each field asked for in this frame's tree, looked up
 * once per frame. */
struct frame_fields {
	GPtrArray *a[F_COUNT];
};

static void fields_get(struct frame_fields *ff, proto_tree *tree, gboolean key_context, gboolean checksum_verify)
{
	for (int i = 0; i < F_COUNT; i++)
		ff->a[i] = fld[i].hf >= 0 && wanted(i, key_context, checksum_verify)
		                   ? proto_get_finfo_ptr_array(tree, fld[i].hf) : NULL;
}

/* The last occurrence of field f in [lo, hi] of data source ds, or NULL. */
static field_info *last_in(const struct frame_fields *ff, enum fld f, tvbuff_t *ds, gint lo, gint hi)
{
	GPtrArray *a = ff->a[f];
	for (guint i = a ? a->len : 0; i-- > 0;) {
		field_info *fi = (field_info *)g_ptr_array_index(a, i);
		if (fi->ds_tvb == ds && fi->start >= lo && fi->start <= hi)
			return fi;
	}
	return NULL;
}

static guint32 uval(field_info *fi)
{
	return fvalue_get_uinteger(&fi->value);
}

static gint item_end(const field_info *fi)
{
	return fi->start + (fi->length > 0 ? fi->length : 0);
}

/* Payload bytes of the segment whose header is fi, or -1 if not a segment. */
static gint64 seg_len(const struct frame_fields *ff, field_info *fi)
{
	field_info *len = last_in(ff, F_LEN, fi->ds_tvb, fi->start, item_end(fi));
	return len ? (gint64)uval(len) : -1;
}

/*
 * The TCP header every other value is read from: the first real segment
 * (one with a tcp.len, which a header quoted by an ICMP error lacks), or the
 * innermost segment nested in its payload (a tunnel carried over TCP). Two
 * segments side by side, as in an 802.11 A-MSDU, are not nested: the first
 * one is taken, as the CLI's decoder does.
 */
static field_info *segment_header(const struct frame_fields *ff, gint64 *payload)
{
	GPtrArray *tcp = ff->a[F_TCP];
	field_info *chosen = NULL;
	gint64 chosen_len = -1;
	for (guint i = 0; tcp && i < tcp->len; i++) {
		field_info *fi = (field_info *)g_ptr_array_index(tcp, i);
		gint64 len = seg_len(ff, fi);
		if (len < 0)
			continue;
		if (chosen) {
			/* The tcp item's length is the header length. */
			gint64 from = item_end(chosen);
			gboolean nested = fi->ds_tvb != chosen->ds_tvb /* reassembled from its payload */
			                  || (fi->start >= from && fi->start < from + chosen_len);
			if (!nested)
				continue;
		}
		chosen = fi;
		chosen_len = len;
	}
	*payload = chosen_len;
	return chosen;
}

static void set_v4(struct tp_addr *a, const guint8 *bytes)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	memcpy(a->bytes, bytes, 4);
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
		set_v4(a, (const guint8 *)ad->data);
		return TRUE;
	}
	if (ad->type == AT_IPv6 && ad->len == 16) {
		set_v6(a, (const guint8 *)ad->data);
		return TRUE;
	}
	return FALSE;
}

/* The IP header whose "ip" or "ipv6" item is fi, read by the CLI's decoder
 * into s (addresses, length) and *pair; FALSE if its fixed part was not
 * captured whole or is not the version its item says. */
static gboolean ip_read(const field_info *fi, int version, struct tp_segment *s, guint32 *pair)
{
	gint avail = tvb_captured_length_remaining(fi->ds_tvb, fi->start);
	if (avail < 20)
		return FALSE;
	gint fixed = avail > 40 ? 40 : avail; /* 40: the longer fixed header, IPv6's; only it is read */
	const guint8 *h = tvb_get_ptr(fi->ds_tvb, fi->start, fixed);
	return tp_decode_ip_header(h, (guint32)avail, version, s, pair) == 0;
}

/*
 * The addresses and IP length of the IP header that carries the TCP header
 * at tcp: the last "ip" or "ipv6" item before it in the same data source.
 * If the TCP header is in another data source (IP reassembly), fall back to
 * the network addresses the last IP layer left in pinfo.
 */
static gboolean ip_header(const struct frame_fields *ff, packet_info *pinfo, field_info *tcp, struct tp_segment *s,
                          gint *ip_start)
{
	field_info *v4 = last_in(ff, F_IP, tcp->ds_tvb, 0, tcp->start - 1);
	field_info *v6 = last_in(ff, F_IP6, tcp->ds_tvb, 0, tcp->start - 1);
	guint32 pair;
	if (v4 && (!v6 || v4->start > v6->start) && ip_read(v4, 4, s, &pair)) {
		*ip_start = v4->start;
		return TRUE;
	}
	if (v6 && ip_read(v6, 6, s, &pair)) {
		*ip_start = v6->start;
		return TRUE;
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
static guint32 context(const struct frame_fields *ff, tvbuff_t *ds, gint ip_start)
{
	guint32 ctx = 0;
	for (int k = F_CONTEXT_START; k < F_COUNT; k++) {
		GPtrArray *a = ff->a[k];
		for (guint i = 0; a && i < a->len; i++) {
			field_info *fi = (field_info *)g_ptr_array_index(a, i);
			if (fi->ds_tvb == ds && fi->start < ip_start)
				fold(&ctx, uval(fi) ^ (guint32)(k - F_CONTEXT_START) << 28);
		}
	}
	static const struct { enum fld f; int version; } ips[] = { { F_IP, 4 }, { F_IP6, 6 } };
	for (size_t k = 0; k < G_N_ELEMENTS(ips); k++) {
		GPtrArray *a = ff->a[ips[k].f];
		for (guint i = 0; a && i < a->len; i++) {
			field_info *fi = (field_info *)g_ptr_array_index(a, i);
			struct tp_segment outer;
			guint32 pair;
			if (fi->ds_tvb == ds && fi->start < ip_start && ip_read(fi, ips[k].version, &outer, &pair))
				fold(&ctx, pair);
		}
	}
	return ctx;
}

/* The TCP header Wireshark located at tcp, read by the CLI's decoder. */
static gboolean tcp_header(field_info *tcp, gint64 payload, struct tp_segment *s)
{
	gint avail = tvb_captured_length_remaining(tcp->ds_tvb, tcp->start);
	if (avail < 20 || payload > G_MAXUINT32 - 60)
		return FALSE;
	guint32 cap = avail > 60 ? 60 : (guint32)avail; /* 60: the longest TCP header */
	const guint8 *p = tvb_get_ptr(tcp->ds_tvb, tcp->start, (gint)cap);
	guint32 hl = (guint32)(p[12] >> 4) * 4;
	const char *why;
	return tp_decode_tcp_header(p, cap, hl + (guint32)payload, s, &why) == TP_DEC_SEGMENT;
}

gboolean tpp_extract_segment(proto_tree *tree, packet_info *pinfo, gboolean key_context, gboolean checksum_verify,
                             struct tp_segment *s, guint32 *stream)
{
	memset(s, 0, sizeof *s);
	s->wscale = -1;
	if (!tree)
		return FALSE;
	struct frame_fields ff;
	fields_get(&ff, tree, key_context, checksum_verify);
	gint64 payload;
	field_info *tcp = segment_header(&ff, &payload);
	if (!tcp || !tcp_header(tcp, payload, s))
		return FALSE; /* no segment, or a header Wireshark gave up on part-way */
	gint ip_start;
	if (!ip_header(&ff, pinfo, tcp, s, &ip_start))
		return FALSE;
	tvbuff_t *ds = tcp->ds_tvb;
	gint lo = tcp->start, hi = item_end(tcp);
	field_info *fi;
	/* Wireshark verifies the checksum only with tcp.check_checksum:TRUE;
	 * otherwise the status is "unverified" (proto_checksum_vals). */
	s->checksum = TP_CSUM_UNKNOWN;
	if (checksum_verify && (fi = last_in(&ff, F_CSUM_STATUS, ds, lo, hi))) {
		guint32 st = uval(fi);
		s->checksum = st == PROTO_CHECKSUM_E_BAD ? TP_CSUM_BAD : st == PROTO_CHECKSUM_E_GOOD ? TP_CSUM_GOOD
		                                                                                    : TP_CSUM_UNKNOWN;
	}
	fi = last_in(&ff, F_STREAM, ds, lo, hi);
	*stream = fi ? uval(fi) : G_MAXUINT32;
	s->context = key_context ? context(&ff, ds, ip_start) : 0;
	return TRUE;
}
