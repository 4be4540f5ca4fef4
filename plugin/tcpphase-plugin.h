/*
 * tcpphase-plugin.h - what the three files of the Wireshark plugin share.
 *
 *   packet-tcpphase.c  registration, preferences, the postdissector (it feeds
 *                      the core on the first pass and renders the stored
 *                      verdicts on every pass: fields, expert info, Info
 *                      column, tap), the "TCP Phase" conversation filter;
 *   extract.c          sees each TCP header Wireshark dissects and reads it
 *                      into a struct tp_segment with the CLI's decoder;
 *   stats.c            the "TCP Phases" statistics tree, fed by the tap;
 *   conns.c            the "TCP Phase Connections" table, fed by the tap;
 *   flow.c             the "TCP Phase" Flow Graph provider, fed by the tap.
 *
 * Nothing here decides anything about TCP: every verdict comes from the core
 * (core/tcpphase.h). The plugin translates fields in and renders verdicts out.
 */
#ifndef TCPPHASE_PLUGIN_H
#define TCPPHASE_PLUGIN_H

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/tap.h>

#include "ws-compat.h"

#include "tcpphase.h"

/* What the plugin keeps about one connection (by core connection index). */
struct tpp_conn {
	struct tp_conn_record rec; /* valid once have_rec */
	gboolean have_rec;         /* the core has written the record */
	guint32 first_frame;       /* its first segment: where the stats tree counts it */
	guint32 last_frame;
	guint32 stream;            /* Wireshark's tcp.stream of its first segment */
};

/* A SYN flood alert, attached to the frame whose feeding reported it. */
struct tpp_flood {
	struct tp_flood f;
	guint32 frame;
};

/* What the postdissector hands the "tcpphase" tap for one segment. */
struct tpp_tap {
	const struct tp_verdict *v;
	const struct tpp_conn *conn;       /* never NULL */
	guint32 stream;                    /* tcp.stream */
	char uid[20];                      /* the connection's, as the CLI names it */
	gboolean first_of_conn;            /* v is the connection's first segment */
	struct tpp_flood *const *floods;   /* floods reported while this frame was fed */
	guint n_floods;
};

/* packet-tcpphase.c: the id of the "tcpphase" tap (struct tpp_tap data). */
extern int tpp_tap_id;

/* extract.c ---------------------------------------------------------------- */

/* In the handoff: stand in for TCP in the "ip.proto" table, so as to see
 * each segment TCP is handed, and look up the ids of the fields some
 * preferences need. */
void tpp_extract_handoff(int proto_tcpphase);
/* FALSE if something else now decodes IP protocol 6 (Decode As, or
 * another plugin doing as we do): then we see no segment. */
gboolean tpp_extract_sees_tcp(void);
/* The field ids the postdissector asks Wireshark to fill on the first pass:
 * NULL (no tree needed) unless key_context or checksum_verify. */
GArray *tpp_extract_wanted_hfids(gboolean key_context, gboolean checksum_verify);
/*
 * Fill *seg (all but frame and ts_ns; ip_len 0, since the plugin shows no IP
 * byte counts) from the real TCP segment of the frame (the innermost; of
 * segments side by side, the first); *stream gets its tcp.stream. The
 * checksum status is read only with checksum_verify and the VLAN/tunnel
 * context only with key_context. FALSE if the frame holds no TCP segment: no
 * TCP at all, only a TCP header quoted by an ICMP error, or a header too
 * short or too cut to carry one.
 */
gboolean tpp_extract_segment(proto_tree *tree, packet_info *pinfo, gboolean key_context, gboolean checksum_verify,
                             struct tp_segment *seg, guint32 *stream);

/* stats.c ------------------------------------------------------------------ */

/* Register the "TCP Phases" stats tree (tshark -z tcpphase,tree). */
void tpp_stats_register(void);

/* conns.c ------------------------------------------------------------------ */

/* Register the connection table (tshark -z tcpphase,conns). */
void tpp_conns_register(void);

/* flow.c ------------------------------------------------------------------- */

/* Register the Flow Graph provider (tshark -z flow,tcpphase,network). */
void tpp_flow_register(int proto_tcpphase);

#endif /* TCPPHASE_PLUGIN_H */
