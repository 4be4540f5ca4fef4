/*
 * extract.c - from the TCP segment Wireshark dissected to a struct
 * tp_segment. Wireshark locates the header (Decode As, tunnels and IP
 * reassembly included); the CLI's own decoder (tp_decode_tcp_header) then
 * reads it, so both front ends read headers alike.
 *
 * How we see the header: our handle stands in the "ip.proto" table where
 * TCP's stood, and hands every packet straight on to TCP's own handle, after
 * noting the tvb TCP is given. Why not read fields from the tree: a
 * postdissector that asks for fields makes Wireshark build a protocol tree
 * for every frame of the first pass, which cost `tshark -2 -z
 * tcpphase,tree` about a fifth more time than `tshark -2 -z conv,tcp`
 * (bench/RESULTS.md). Our handle has no protocol of its own: it adds no
 * layer (frame.protocols, TCP's check for a header quoted by ICMP are as
 * before) and follows TCP's enabled state, not ours. The tree is still
 * asked for when a preference needs what only it has: the VLAN ids and
 * tunnel keys (key_context) and TCP's checksum status (checksum_verify).
 *
 * A frame may hold more than one TCP header: an ICMP error quotes the
 * header of the packet it reports, a tunnel over TCP carries a whole packet
 * inside a segment, an 802.11 A-MSDU carries several packets side by side.
 * We take one real segment (a quoted header is none): the innermost one, and
 * of segments side by side the first, as the CLI's decoder does
 * (segment_header).
 */
#include "tcpphase-plugin.h"

#include <epan/address.h>
#include <epan/conversation.h>
#include <epan/ftypes/ftypes.h>
#include <epan/ipproto.h>
#include <epan/proto_data.h>
#include <epan/dissectors/packet-tcp.h>

#include "decode.h"

/* The fields asked for when a preference needs them, by filter name.
 * Designated initialisers keep the names next to their indices, so the two
 * cannot drift apart. */
enum fld {
	F_CSUM_STATUS = 0, /* only with checksum_verify */
	F_CONTEXT_START, /* below: only with key_context (the VLAN/tunnel context) */
	F_IP = F_CONTEXT_START, F_IP6, /* where each IP header starts */
	F_VLAN_ID, F_PBB_ISID, F_GRE_KEY, F_ERSPAN_SPANID, F_VXLAN_VNI, F_GENEVE_VNI, F_GTP_TEID,
	F_COUNT
};
#define F_KEYS_START F_VLAN_ID

static struct {
	const char *name;
	int hf;
} fld[F_COUNT] = {
	[F_CSUM_STATUS] = { "tcp.checksum.status", -1 },
	[F_IP] = { "ip", -1 },
	[F_IP6] = { "ipv6", -1 },
	[F_VLAN_ID] = { "vlan.id", -1 },
	[F_PBB_ISID] = { "ieee8021ah.isid", -1 },
	[F_GRE_KEY] = { "gre.key", -1 },
	[F_ERSPAN_SPANID] = { "erspan.spanid", -1 },
	[F_VXLAN_VNI] = { "vxlan.vni", -1 },
	[F_GENEVE_VNI] = { "geneve.vni", -1 },
	[F_GTP_TEID] = { "gtp.teid", -1 },
};

/* Set once in the handoff, read on every packet. */
static dissector_handle_t tcp_handle, seen_handle;
static int proto_tcp = -1;
static protocol_t *tcp_protocol;
static int proto_key = -1; /* whose per-packet data the located header is */

/*
 * The segment TCP was handed in this frame, kept in pinfo->pool until the
 * postdissector takes it. Addresses as TCP read them: with the ports, the
 * key of TCP's conversation, which holds the tcp.stream.
 */
struct located {
	tvbuff_t *ds;       /* the data source the header lies in */
	gint start;         /* where it starts there */
	guint32 hlen;       /* header bytes (its payload bytes: s.len) */
	address src, dst;
	struct tp_segment s; /* the TCP fields and the addresses */
};

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

/* The header at the start of tvb read by the CLI's decoder, with the
 * addresses the IP layer below left in pinfo. FALSE if it carries no
 * segment: too short, cut by the snaplen or with an impossible length. */
static gboolean read_header(tvbuff_t *tvb, packet_info *pinfo, struct located *l)
{
	guint32 avail = tvb_captured_length(tvb);
	if (avail < 20)
		return FALSE;
	guint32 cap = avail > 60 ? 60 : avail; /* 60: the longest TCP header */
	const guint8 *p = tvb_get_ptr(tvb, 0, (gint)cap);
	memset(&l->s, 0, sizeof l->s);
	l->s.wscale = -1;
	const char *why;
	if (tp_decode_tcp_header(p, cap, tvb_reported_length(tvb), &l->s, &why) != TP_DEC_SEGMENT)
		return FALSE;
	if (!set_from_address(&l->s.src, &pinfo->src) || !set_from_address(&l->s.dst, &pinfo->dst) ||
	    l->s.src.family != l->s.dst.family)
		return FALSE;
	l->ds = tvb_get_ds_tvb(tvb);
	l->start = tvb_raw_offset(tvb);
	l->hlen = (guint32)(p[12] >> 4) * 4;
	return TRUE;
}

/* Whether c lies in the payload of the segment at l, or in a data source
 * reassembled from payload: a tunnel over TCP. */
static gboolean nested(const struct located *l, const struct located *c)
{
	gint64 from = (gint64)l->start + l->hlen;
	return c->ds != l->ds || (c->start >= from && c->start < from + l->s.len);
}

static void note_segment(tvbuff_t *tvb, packet_info *pinfo)
{
	struct located c;
	if (!read_header(tvb, pinfo, &c))
		return;
	struct located *l = (struct located *)p_get_proto_data(pinfo->pool, pinfo, proto_key, 0);
	if (l && !nested(l, &c))
		return; /* side by side with the one noted: the first stays */
	if (!l) {
		l = wmem_new(pinfo->pool, struct located);
		p_add_proto_data(pinfo->pool, pinfo, proto_key, 0, l);
	}
	*l = c;
	copy_address_wmem(pinfo->pool, &l->src, &pinfo->src);
	copy_address_wmem(pinfo->pool, &l->dst, &pinfo->dst);
}

/* Where TCP's handle stood in "ip.proto": note the segment, then let TCP
 * dissect it as if we were not here. Only first sight of a frame is
 * noted: later passes render what was stored. */
static int tcp_seen(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	if (!PINFO_FD_VISITED(pinfo) && !pinfo->flags.in_error_pkt && proto_is_protocol_enabled(tcp_protocol))
		note_segment(tvb, pinfo);
	return call_dissector_only(tcp_handle, tvb, pinfo, tree, data);
}

void tpp_extract_handoff(int proto_tcpphase)
{
	proto_key = proto_tcpphase;
	proto_tcp = proto_get_id_by_filter_name("tcp");
	tcp_handle = find_dissector("tcp");
	for (int i = 0; i < F_COUNT; i++) {
		fld[i].hf = proto_registrar_get_id_byname(fld[i].name);
		/* The TCP and IP fields are in every Wireshark 4.0; a tunnel
		 * dissector may be missing from a cut-down build. */
		if (fld[i].hf < 0 && i < F_KEYS_START)
			ws_warning("tcpphase: Wireshark has no field %s", fld[i].name);
	}
	if (!tcp_handle || proto_tcp < 0) {
		ws_warning("tcpphase: Wireshark has no TCP dissector; no segment will be seen");
		return;
	}
	tcp_protocol = find_protocol_by_id(proto_tcp);
	seen_handle = create_dissector_handle_with_name_and_description(tcp_seen, -1, "tcpphase_tcp",
	                                                               "TCP (seen by TCP Phase)");
	dissector_add_uint("ip.proto", IP_PROTO_TCP, seen_handle);
}

gboolean tpp_extract_sees_tcp(void)
{
	dissector_table_t t = find_dissector_table("ip.proto");
	return seen_handle && t && dissector_get_uint_handle(t, IP_PROTO_TCP) == seen_handle;
}

/* Only what the preferences need goes into every frame's tree. */
static gboolean wanted(int i, gboolean key_context, gboolean checksum_verify)
{
	return i == F_CSUM_STATUS ? checksum_verify : key_context;
}

GArray *tpp_extract_wanted_hfids(gboolean key_context, gboolean checksum_verify)
{
	if (!key_context && !checksum_verify)
		return NULL; /* no tree on the first pass */
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
		ff->a[i] = tree && fld[i].hf >= 0 && wanted(i, key_context, checksum_verify)
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
	return fvalue_get_uinteger(TPP_FI_FVALUE(fi));
}

/* The address pair of the IPv4 or IPv6 header whose item is fi, read by
 * the CLI's decoder; FALSE if its fixed part was not captured whole or is
 * not the version its item says. */
static gboolean ip_pair(const field_info *fi, int version, guint32 *pair)
{
	gint avail = tvb_captured_length_remaining(fi->ds_tvb, fi->start);
	if (avail < 20)
		return FALSE;
	gint fixed = avail > 40 ? 40 : avail; /* 40: the longer fixed header, IPv6's; only it is read */
	return tp_decode_ip_pair(tvb_get_ptr(fi->ds_tvb, fi->start, fixed), (guint32)avail, version, pair) == 0;
}

/* FNV-style fold, as the CLI's decoder folds VLAN ids and tunnel keys. */
static void fold(guint32 *ctx, guint32 v)
{
	*ctx = (*ctx ^ v) * 0x01000193U + 0x9e3779b9U;
}

/*
 * The VLAN/tunnel context of the segment at l: every VLAN id, PBB I-SID and
 * tunnel key before the IP header that carries it, and the address pair of
 * every outer IP header (folded so both directions agree). The carrying IP
 * header is the last one that starts before the TCP header in the same
 * data source; in another one (IP reassembly), nothing counts. Only the
 * partition matters (which segments share a context), not the value.
 */
static guint32 context(const struct frame_fields *ff, const struct located *l)
{
	field_info *v4 = last_in(ff, F_IP, l->ds, 0, l->start - 1);
	field_info *v6 = last_in(ff, F_IP6, l->ds, 0, l->start - 1);
	gint ip_start = v4 && (!v6 || v4->start > v6->start) ? v4->start : v6 ? v6->start : l->start;
	guint32 ctx = 0;
	for (int k = F_KEYS_START; k < F_COUNT; k++) {
		GPtrArray *a = ff->a[k];
		for (guint i = 0; a && i < a->len; i++) {
			field_info *fi = (field_info *)g_ptr_array_index(a, i);
			if (fi->ds_tvb == l->ds && fi->start < ip_start)
				fold(&ctx, uval(fi) ^ (guint32)(k - F_KEYS_START) << 28);
		}
	}
	static const struct { enum fld f; int version; } ips[] = { { F_IP, 4 }, { F_IP6, 6 } };
	for (size_t k = 0; k < G_N_ELEMENTS(ips); k++) {
		GPtrArray *a = ff->a[ips[k].f];
		for (guint i = 0; a && i < a->len; i++) {
			field_info *fi = (field_info *)g_ptr_array_index(a, i);
			guint32 pair;
			if (fi->ds_tvb == l->ds && fi->start < ip_start && ip_pair(fi, ips[k].version, &pair))
				fold(&ctx, pair);
		}
	}
	return ctx;
}

/* Wireshark's tcp.stream of the segment at l: the index TCP keeps in its
 * conversation, found by the key TCP found it by. */
static guint32 stream_of(packet_info *pinfo, const struct located *l)
{
	conversation_t *c = find_conversation(pinfo->num, &l->src, &l->dst, CONVERSATION_TCP, l->s.sport, l->s.dport, 0);
	struct tcp_analysis *t = c ? (struct tcp_analysis *)conversation_get_proto_data(c, proto_tcp) : NULL;
	return t ? t->stream : G_MAXUINT32;
}

gboolean tpp_extract_segment(proto_tree *tree, packet_info *pinfo, gboolean key_context, gboolean checksum_verify,
                             struct tp_segment *s, guint32 *stream)
{
	const struct located *l = (const struct located *)p_get_proto_data(pinfo->pool, pinfo, proto_key, 0);
	if (!l)
		return FALSE;
	*s = l->s;
	*stream = stream_of(pinfo, l);
	struct frame_fields ff;
	fields_get(&ff, tree, key_context, checksum_verify);
	field_info *fi;
	/* Wireshark verifies the checksum only with tcp.check_checksum:TRUE;
	 * otherwise the status is "unverified" (proto_checksum_vals). */
	s->checksum = TP_CSUM_UNKNOWN;
	if (checksum_verify && (fi = last_in(&ff, F_CSUM_STATUS, l->ds, l->start, l->start + (gint)l->hlen))) {
		guint32 st = uval(fi);
		s->checksum = st == PROTO_CHECKSUM_E_BAD ? TP_CSUM_BAD : st == PROTO_CHECKSUM_E_GOOD ? TP_CSUM_GOOD
		                                                                                    : TP_CSUM_UNKNOWN;
	}
	s->context = key_context ? context(&ff, l) : 0;
	return TRUE;
}
