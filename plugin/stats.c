/*
 * stats.c - the "TCP Phases" statistics tree (Statistics > TCP Phases in
 * Wireshark, `tshark -q -z tcpphase,tree` on the command line).
 *
 * It only counts what the postdissector hands the "tcpphase" tap: segments
 * by phase, anomalies by kind, connections by handshake and teardown outcome
 * and by Zeek conn_state (each connection counted once, on its first
 * segment, from its record), half-open connections by server and SYN floods
 * by server. Connection outcomes need the end of the capture: tshark taps
 * only its second pass with -2, and Wireshark taps after the file is loaded.
 */
#include "tcpphase-plugin.h"

#include <epan/stats_tree.h>

static int st_segments = -1;
static int st_phase = -1;
static int st_anomalies = -1;
static int st_conns = -1;
static int st_handshake = -1;
static int st_teardown = -1;
static int st_conn_state = -1;
static int st_half_open = -1;
static int st_floods = -1;

static void tree_init(stats_tree *st)
{
	st_segments = stats_tree_create_node(st, "Segments", 0, STAT_DT_INT, TRUE);
	st_phase = stats_tree_create_pivot(st, "by phase", st_segments);
	st_anomalies = stats_tree_create_node(st, "Anomalies (segments)", 0, STAT_DT_INT, TRUE);
	st_conns = stats_tree_create_node(st, "Connections", 0, STAT_DT_INT, TRUE);
	st_handshake = stats_tree_create_pivot(st, "by handshake", st_conns);
	st_teardown = stats_tree_create_pivot(st, "by teardown", st_conns);
	st_conn_state = stats_tree_create_pivot(st, "by Zeek conn_state", st_conns);
	st_half_open = stats_tree_create_node(st, "Half-open connections by server", 0, STAT_DT_INT, TRUE);
	st_floods = stats_tree_create_node(st, "SYN floods by server", 0, STAT_DT_INT, TRUE);
}

static void server_name(const struct tp_addr *a, guint16 port, char *buf, size_t len)
{
	char addr[64];
	tp_addr_str(a, addr, sizeof addr);
	g_snprintf(buf, (gulong)len, a->family == 6 ? "[%s]:%u" : "%s:%u", addr, port);
}

static tap_packet_status tree_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                                     const void *data, tap_flags_t flags _U_)
{
	const struct tpp_tap *t = (const struct tpp_tap *)data;
	const struct tp_verdict *v = t->v;
	char name[96];

	tick_stat_node(st, "Segments", 0, TRUE);
	stats_tree_tick_pivot(st, st_phase, tp_phase_name((enum tp_phase)v->phase));
	for (int i = 0; i < TP_A_COUNT; i++) {
		if (!(v->anomalies & TP_ABIT(i)))
			continue;
		tick_stat_node(st, "Anomalies (segments)", 0, TRUE);
		tick_stat_node(st, tp_anomaly_table[i].name, st_anomalies, FALSE);
	}

	if (t->first_of_conn) {
		tick_stat_node(st, "Connections", 0, TRUE);
		if (t->conn->have_rec) {
			const struct tp_conn_record *r = &t->conn->rec;
			stats_tree_tick_pivot(st, st_handshake, tp_handshake_name((enum tp_handshake)r->handshake));
			stats_tree_tick_pivot(st, st_teardown, tp_teardown_name((enum tp_teardown)r->teardown));
			stats_tree_tick_pivot(st, st_conn_state, r->conn_state);
			if (r->handshake == TP_HS_HALF_OPEN) {
				server_name(&r->resp_h, r->resp_p, name, sizeof name);
				tick_stat_node(st, "Half-open connections by server", 0, TRUE);
				tick_stat_node(st, name, st_half_open, FALSE);
			}
		} else {
			tick_stat_node(st, "outcome not known yet (single pass: use -2)", st_conns, FALSE);
		}
	}

	for (guint i = 0; i < t->n_floods; i++) {
		const struct tp_flood *f = &t->floods[i]->f;
		server_name(&f->server, f->port, name, sizeof name);
		tick_stat_node(st, "SYN floods by server", 0, TRUE);
		int srv = tick_stat_node(st, name, st_floods, TRUE);
		/* Average nodes: Count = floods, Max Val = the worst one. */
		avg_stat_node_add_value_int(st, "peak half-open", srv, FALSE, (gint)MIN(f->peak_half_open, G_MAXINT));
		avg_stat_node_add_value_int(st, "SYNs", srv, FALSE, (gint)MIN(f->syns, G_MAXINT));
		avg_stat_node_add_value_int(st, "SYN-ACKs", srv, FALSE, (gint)MIN(f->synacks, G_MAXINT));
		avg_stat_node_add_value_int(st, "completed", srv, FALSE, (gint)MIN(f->completed, G_MAXINT));
		avg_stat_node_add_value_int(st, "distinct sources", srv, FALSE,
		                            (gint)MIN(f->distinct_sources, G_MAXINT));
	}
	return TAP_PACKET_REDRAW;
}

void tpp_stats_register(void)
{
	stats_tree_register_plugin("tcpphase", "tcpphase", "TCP Phases", 0, tree_packet, tree_init, NULL);
}
