/*
 * ws-compat.h - the differences between the Wireshark series the plugin
 * builds against (4.0, 4.2, 4.4, 4.6), in one place.
 *
 * Everything else in plugin/ is written once, against these names. Each
 * difference is keyed on Wireshark's own version macros (ws_version.h, via
 * wireshark.h), never on our build system, so that the same source compiles
 * against whichever libwireshark-dev is installed.
 */
#ifndef TCPPHASE_WS_COMPAT_H
#define TCPPHASE_WS_COMPAT_H

#include <wireshark.h>

#define TPP_WS_AT_LEAST(maj, min) \
	(WIRESHARK_VERSION_MAJOR > (maj) || (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))

/*
 * 4.2 moved the preference API from GLib's gboolean to C99 bool, and
 * field_info's value from an embedded fvalue_t to a pointer to one.
 */
#if TPP_WS_AT_LEAST(4, 2)
typedef bool tpp_pref_bool;
#define TPP_FI_FVALUE(fi) ((fi)->value)
#else
typedef gboolean tpp_pref_bool;
#define TPP_FI_FVALUE(fi) (&(fi)->value)
#endif

/*
 * 4.2 added plugin_describe(), with which the loader learns what a plugin
 * provides (tshark -G plugins prints it); 4.0 reads that from the folder
 * the plugin sits in. TPP_PLUGIN_DESCRIBE() defines it where it exists.
 */
#if TPP_WS_AT_LEAST(4, 2)
#include <wsutil/plugins.h>
#define TPP_PLUGIN_DESCRIBE(flags)                      \
	WS_DLL_PUBLIC uint32_t plugin_describe(void);   \
	uint32_t plugin_describe(void) { return (flags); }
#define TPP_PLUGIN_DESC_DISSECTOR WS_PLUGIN_DESC_DISSECTOR
#define TPP_PLUGIN_DESC_TAP_LISTENER WS_PLUGIN_DESC_TAP_LISTENER
#else
#define TPP_PLUGIN_DESCRIBE(flags)
#endif

/*
 * Conversation filters (Conversation Filter, Colorize Conversation): 4.2
 * gave both callbacks a user_data argument, registered with them, and moved
 * them to bool. In every series the caller (the Qt GUI) g_free()s the
 * string the builder returns. Callbacks are declared with
 * TPP_CONV_FILTER_ARGS, which names the packet pinfo.
 */
#include <epan/conversation_filter.h>

#if TPP_WS_AT_LEAST(4, 2)
typedef bool tpp_conv_bool;
#define TPP_CONV_FILTER_ARGS packet_info *pinfo, void *user_data _U_
#define tpp_register_conversation_filter(proto, name, valid, build) \
	register_conversation_filter((proto), (name), (valid), (build), NULL)
#else
typedef gboolean tpp_conv_bool;
#define TPP_CONV_FILTER_ARGS packet_info *pinfo
#define tpp_register_conversation_filter(proto, name, valid, build) \
	register_conversation_filter((proto), (name), (valid), (build))
#endif

/*
 * The tcp.stream split and tcp.completeness rules of the Wireshark the
 * plugin runs in (core/tcpphase.h, enum tp_wireshark), so that its verdicts
 * sit beside TCP's own. 4.4 and 4.6 were checked against their tshark; 4.2
 * (untested here) is given the newer rules, which its successors kept.
 */
#if TPP_WS_AT_LEAST(4, 2)
#define TPP_WIRESHARK_RULES TP_WS_4_4
#else
#define TPP_WIRESHARK_RULES TP_WS_4_0
#endif

/*
 * The Flow Graph (Statistics > Flow Graph, tshark -z flow,...) takes
 * providers through register_seq_analysis(), which libwireshark exports in
 * every series but whose header, epan/sequence_analysis.h, no Debian
 * libwireshark-dev installs. So the plugin declares what it uses itself:
 * the functions, whose signatures have not changed since 4.0, and the
 * leading members of the two structs, up to the last one it writes. The
 * library allocates both (sequence_analysis_create_sai_with_addresses), so
 * only these offsets must match, never the size. 4.2 turned the two flags
 * from gboolean into bool, which moves display, the nodes and line_style;
 * the offsets below were read from each series' libwireshark (the code
 * that tests display) and are asserted here.
 */
#include <epan/packet_info.h>
#include <epan/tap.h>

#if TPP_WS_AT_LEAST(4, 2)
typedef bool tpp_sa_bool;
#define TPP_SA_DISPLAY_OFFSET 0x6d
#else
typedef gboolean tpp_sa_bool;
#define TPP_SA_DISPLAY_OFFSET 0x70
#endif

typedef struct _seq_analysis_item {
	guint32 frame_number;
	address src_addr;
	guint16 port_src;
	address dst_addr;
	guint16 port_dst;
	gchar *frame_label; /* above the arrow; g_free()d by the library */
	gchar *time_str;
	gchar *comment;     /* the column right of the graph; g_free()d too */
	guint16 conv_num;   /* arrows of one conversation share a colour */
	unsigned fg_color, bg_color;
	tpp_sa_bool has_color_filter;
	tpp_sa_bool display; /* FALSE: the item is left out of the graph */
	unsigned src_node, dst_node;
	guint16 line_style;  /* the arrow's width in pixels */
	/* more members follow, which the plugin never touches */
} seq_analysis_item_t;

typedef struct _seq_analysis_info {
	const char *name;
	tpp_sa_bool any_addr;
	int nconv;
	GQueue *items; /* seq_analysis_item_t *, in the order added */
	/* more members follow */
} seq_analysis_info_t;

#if GLIB_SIZEOF_VOID_P == 8 /* the offsets were read on x86-64 */
G_STATIC_ASSERT(G_STRUCT_OFFSET(seq_analysis_item_t, display) == TPP_SA_DISPLAY_OFFSET);
G_STATIC_ASSERT(G_STRUCT_OFFSET(seq_analysis_info_t, items) == 16);
#endif

WS_DLL_PUBLIC void register_seq_analysis(const char *name, const char *ui_name, const int proto_id,
                                         const char *tap_listener, guint tap_flags, tap_packet_cb tap_func);
WS_DLL_PUBLIC seq_analysis_item_t *sequence_analysis_create_sai_with_addresses(packet_info *pinfo,
                                                                               seq_analysis_info_t *sainfo);
WS_DLL_PUBLIC void sequence_analysis_use_color_filter(packet_info *pinfo, seq_analysis_item_t *sai);

#endif /* TCPPHASE_WS_COMPAT_H */
