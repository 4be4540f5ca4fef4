/*
 * flow.c - the "TCP Phase" provider of the Flow Graph (Statistics > Flow
 * Graph, Flow type "TCP Phase"; `tshark -2 -q -z flow,tcpphase,network` on
 * the command line): each connection drawn as a ladder, the GUI twin of
 * `tcpphase ladder`.
 *
 * Each arrow is one segment the core analysed, labelled with its step as the
 * ladder labels it ("HS 2/3", "FIN 3/4 rtx") or, between the steps, with its
 * flags and length; the comment gives both endpoints' states after it and
 * its anomalies. Arrows of one connection share a colour: conv_num is the
 * connection index. The label and comment come from the verdict the
 * postdissector hands the "tcpphase" tap, so they are the CLI's.
 */
#include "tcpphase-plugin.h"

/* "HS 2/3", "FIN 3/4 rtx"; a segment that is no step: "PSH-ACK len=21". */
static char *arrow_label(const struct tp_verdict *v)
{
	const char *step = tp_step_label((enum tp_step)v->step);
	if (*step)
		return g_strdup_printf("%s%s", step, v->rtx ? " rtx" : "");
	char fl[48];
	tp_flag_names(v->flags, fl, sizeof fl);
	return v->len ? g_strdup_printf("%s len=%u", fl, v->len) : g_strdup(fl);
}

/* "orig ESTABLISHED, resp SYN-RECEIVED; lost_final_ack, fin_retransmit". */
static char *arrow_comment(const struct tp_verdict *v)
{
	GString *s = g_string_new(NULL);
	g_string_printf(s, "orig %s, resp %s", tp_state_name((enum tp_state)v->orig_state),
	                tp_state_name((enum tp_state)v->resp_state));
	const char *sep = "; ";
	for (int i = 0; i < TP_A_COUNT; i++) {
		if (!(v->anomalies & TP_ABIT(i)))
			continue;
		g_string_append_printf(s, "%s%s", sep, tp_anomaly_table[i].name);
		sep = ", ";
	}
	return g_string_free(s, FALSE);
}

static tap_packet_status flow_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                     const void *data, tap_flags_t flags _U_)
{
	seq_analysis_info_t *sainfo = (seq_analysis_info_t *)tapdata;
	const struct tpp_tap *t = (const struct tpp_tap *)data;
	seq_analysis_item_t *sai = sequence_analysis_create_sai_with_addresses(pinfo, sainfo);
	if (!sai)
		return TAP_PACKET_DONT_REDRAW;
	sai->frame_number = pinfo->num;
	sai->port_src = (guint16)pinfo->srcport;
	sai->port_dst = (guint16)pinfo->destport;
	sai->frame_label = arrow_label(t->v);
	sai->comment = arrow_comment(t->v);
	sai->conv_num = (guint16)t->v->conn;
	sai->line_style = 1;
	sai->display = TRUE;
	/* The colouring rules' colours (tcpphase.colorfilters): a lost final
	 * ACK is as red in the graph as in the packet list. */
	sequence_analysis_use_color_filter(pinfo, sai);
	g_queue_push_tail(sainfo->items, sai);
	return TAP_PACKET_REDRAW;
}

void tpp_flow_register(int proto_tcpphase)
{
	register_seq_analysis("tcpphase", "TCP Phase", proto_tcpphase, "tcpphase", 0, flow_packet);
}
