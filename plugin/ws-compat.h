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

#endif /* TCPPHASE_WS_COMPAT_H */
