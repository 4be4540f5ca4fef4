/*
 * conns.c - the "TCP Phase Connections" table: one row per connection, from
 * the core's connection record (Statistics > TCP Phase Connections in
 * Wireshark, `tshark -2 -q -z tcpphase,conns[,filter]` on the command line).
 *
 * A row is added when the tap hands over a connection's first segment, so
 * rows come in the order of the CLI's uids. The record needs the end of the
 * capture: single-pass tshark sees first segments before their records, and
 * then says so in the row rather than guessing.
 */
#include "tcpphase-plugin.h"

#include <epan/to_str.h>
#include <epan/stat_tap_ui.h>

enum {
	COL_UID,
	COL_ORIG,
	COL_RESP,
	COL_HANDSHAKE,
	COL_TEARDOWN,
	COL_ORIG_STATE,
	COL_RESP_STATE,
	COL_CONN_STATE,
	COL_HISTORY,
	COL_ANOMALIES,
	N_COLS
};

/* Column titles are the names of the CLI's JSON keys where there is one,
 * so that a row reads like the connection record it shows. */
static stat_tap_table_item conn_fields[N_COLS] = {
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "uid", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "originator", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "responder", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "handshake", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "teardown", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "orig_state", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "resp_state", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "conn_state", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "history", "%s" },
	{ TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "anomalies", "%s" },
};

static const char table_title[] = "TCP connections";

static void conns_init(stat_tap_table_ui *ui)
{
	/* Every dialog of this table shares the one table (a stat_tap_table_ui
	 * owns its tables); a second dialog finds it already there. */
	if (stat_tap_find_table(ui, table_title))
		return;
	stat_tap_add_table(ui, stat_tap_init_table(table_title, N_COLS, 0, NULL));
}

static void free_row(stat_tap_table_item_type *row)
{
	for (int i = 0; i < N_COLS; i++)
		if (row[i].type == TABLE_ITEM_STRING)
			g_free((char *)row[i].value.string_value);
	g_free(row);
}

/* A new capture or a retap: the rows go, the table stays. */
static void conns_reset(stat_tap_table *table)
{
	for (guint i = 0; i < table->num_elements; i++)
		free_row(table->elements[i]);
	g_free(table->elements);
	table->elements = NULL;
	table->num_elements = 0;
}

/* Wireshark frees each cell of a table it drops, one by one. */
static void conns_free_item(stat_tap_table *table _U_, guint row _U_, guint column _U_,
                            stat_tap_table_item_type *field)
{
	if (field->type == TABLE_ITEM_STRING) {
		g_free((char *)field->value.string_value);
		field->value.string_value = NULL;
	}
}

static char *endpoint_str(const struct tp_addr *a, guint16 port)
{
	char addr[64];
	tp_addr_str(a, addr, sizeof addr);
	return g_strdup_printf(a->family == 6 ? "[%s]:%u" : "%s:%u", addr, port);
}

/* The anomaly ids in the core's table order, as the CLI lists them. */
static char *anomalies_str(tp_anomaly_set set)
{
	GString *s = g_string_new(NULL);
	for (int i = 0; i < TP_A_COUNT; i++)
		if (set & TP_ABIT(i))
			g_string_append_printf(s, "%s%s", s->len ? "," : "", tp_anomaly_table[i].name);
	if (!s->len)
		g_string_append(s, "-");
	return g_string_free(s, FALSE);
}

static void set_str(stat_tap_table_item_type *cell, char *owned)
{
	cell->type = TABLE_ITEM_STRING;
	cell->value.string_value = owned;
}

static void fill_from_record(stat_tap_table_item_type *row, const struct tp_conn_record *r)
{
	set_str(&row[COL_ORIG], endpoint_str(&r->orig_h, r->orig_p));
	set_str(&row[COL_RESP], endpoint_str(&r->resp_h, r->resp_p));
	set_str(&row[COL_HANDSHAKE], g_strdup(tp_handshake_name((enum tp_handshake)r->handshake)));
	set_str(&row[COL_TEARDOWN], g_strdup(tp_teardown_name((enum tp_teardown)r->teardown)));
	set_str(&row[COL_ORIG_STATE], g_strdup(tp_state_name((enum tp_state)r->orig_state)));
	set_str(&row[COL_RESP_STATE], g_strdup(tp_state_name((enum tp_state)r->resp_state)));
	set_str(&row[COL_CONN_STATE], g_strdup(r->conn_state));
	set_str(&row[COL_HISTORY], g_strdup(r->history[0] ? r->history : "-"));
	set_str(&row[COL_ANOMALIES], anomalies_str(r->anomalies));
}

/* Single pass: the connection is still open, its outcome unknown. */
static void fill_pending(stat_tap_table_item_type *row, packet_info *pinfo, const struct tp_verdict *v)
{
	char *src = g_strdup_printf("%s:%u", address_to_str(pinfo->pool, &pinfo->src), pinfo->srcport);
	char *dst = g_strdup_printf("%s:%u", address_to_str(pinfo->pool, &pinfo->dst), pinfo->destport);
	gboolean from_orig = v->dir == TP_DIR_ORIG;
	set_str(&row[COL_ORIG], from_orig ? src : dst);
	set_str(&row[COL_RESP], from_orig ? dst : src);
	set_str(&row[COL_HANDSHAKE], g_strdup("not known yet (single pass: use -2)"));
	for (int i = COL_TEARDOWN; i < N_COLS; i++)
		set_str(&row[i], g_strdup("-"));
}

static tap_packet_status conns_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                      const void *data, tap_flags_t flags _U_)
{
	stat_data_t *sd = (stat_data_t *)tapdata;
	const struct tpp_tap *t = (const struct tpp_tap *)data;
	if (!t->first_of_conn || !sd->stat_tap_data->tables->len) /* no table: init not run */
		return TAP_PACKET_DONT_REDRAW;
	stat_tap_table *table = g_array_index(sd->stat_tap_data->tables, stat_tap_table *, 0);

	stat_tap_table_item_type row[N_COLS];
	memset(row, 0, sizeof row);
	set_str(&row[COL_UID], g_strdup(t->uid));
	if (t->conn->have_rec)
		fill_from_record(row, &t->conn->rec);
	else
		fill_pending(row, pinfo, t->v);
	stat_tap_init_table_row(table, table->num_elements, N_COLS, row);
	return TAP_PACKET_REDRAW;
}

void tpp_conns_register(void)
{
	static stat_tap_table_ui ui = {
		/* Wireshark's Qt GUI puts this group in the Statistics menu
		 * (GENERIC in none); it makes no submenu of a "/" here. */
		REGISTER_PACKET_STAT_GROUP_UNSORTED,
		"TCP Phase Connections",
		"tcpphase",
		"tcpphase,conns",
		conns_init,
		conns_packet,
		conns_reset,
		conns_free_item,
		NULL,
		N_COLS, conn_fields,
		0, NULL,
		NULL,
		0,
	};
	register_stat_tap_table_ui(&ui);
}
