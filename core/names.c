/*
 * names.c - the printable names of states, phases, steps and outcomes, and
 * the one anomaly table every front end renders from.
 */
#include <stdio.h>
#include <string.h>

#include "tcpphase.h"

/* Indexed by enum tp_state; spelled as RFC 9293 section 3.3.2 spells them,
 * and "unknown", in lower case, for the one that is not the RFC's. */
static const char *const state_names[TP_STATE_COUNT] = {
	"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT", "unknown",
};

const char *tp_state_name(enum tp_state s)
{
	return (unsigned)s < TP_STATE_COUNT ? state_names[s] : "?";
}

static const char *const phase_names[TP_PHASE_COUNT] = {
	"handshake", "data", "teardown", "reset", "closed", "midstream",
};

const char *tp_phase_name(enum tp_phase p)
{
	return (unsigned)p < TP_PHASE_COUNT ? phase_names[p] : "?";
}

static const struct {
	const char *id, *label;
} steps[TP_STEP_COUNT] = {
	[TP_STEP_NONE] = { "", "" },
	[TP_STEP_HS_SYN] = { "hs_syn", "HS 1/3" },
	[TP_STEP_HS_SYNACK] = { "hs_synack", "HS 2/3" },
	[TP_STEP_HS_ACK] = { "hs_ack", "HS 3/3" },
	[TP_STEP_SIM_SYN] = { "sim_syn", "SIM-OPEN SYN" },
	[TP_STEP_SIM_SYNACK] = { "sim_synack", "SIM-OPEN SYN-ACK" },
	[TP_STEP_FIN1] = { "fin1", "FIN 1/4" },
	[TP_STEP_FIN1_ACK] = { "fin1_ack", "FIN 2/4" },
	[TP_STEP_FIN2] = { "fin2", "FIN 3/4" },
	[TP_STEP_FIN2_WITH_ACK] = { "fin2_with_ack", "FIN 2+3/4" },
	[TP_STEP_FINAL_ACK] = { "final_ack", "FIN 4/4" },
	[TP_STEP_SIM_FIN] = { "sim_fin", "SIM-CLOSE FIN" },
	[TP_STEP_SIM_FIN_ACK] = { "sim_fin_ack", "SIM-CLOSE ACK" },
	[TP_STEP_RST] = { "rst", "RST" },
};

const char *tp_echo_name(enum tp_echo e)
{
	static const char *const n[TP_ECHO_COUNT] = { "", "first", "later", "other", "tie", "no_ts" };
	return (unsigned)e < TP_ECHO_COUNT ? n[e] : "?";
}

void tp_flag_names(uint16_t f, char *buf, size_t len)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} fl[] = { { TP_TH_SYN, "SYN" }, { TP_TH_FIN, "FIN" }, { TP_TH_RST, "RST" }, { TP_TH_PSH, "PSH" },
		   { TP_TH_URG, "URG" }, { TP_TH_ECE, "ECE" }, { TP_TH_CWR, "CWR" }, { TP_TH_NS, "NS" },
		   { TP_TH_ACK, "ACK" } };
	size_t n = 0;
	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof fl / sizeof fl[0] && n < len; i++)
		if (f & fl[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "-" : "", fl[i].name);
	if (!n)
		snprintf(buf, len, "no flags");
}

const char *tp_step_label(enum tp_step s)
{
	return (unsigned)s < TP_STEP_COUNT ? steps[s].label : "?";
}

const char *tp_step_id(enum tp_step s)
{
	return (unsigned)s < TP_STEP_COUNT ? steps[s].id : "?";
}

/*
 * The anomaly table. Summaries are fixed strings on purpose: Wireshark's
 * `-z expert` groups identical summaries, so a per-packet detail belongs in
 * other fields, never here.
 */
const struct tp_anomaly_info tp_anomaly_table[TP_A_COUNT] = {
	{ TP_A_HALF_OPEN, "half_open", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Half-open connection: SYN-ACK never acknowledged" },
	{ TP_A_SYN_UNANSWERED, "syn_unanswered", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Connection attempt unanswered: SYN got no SYN-ACK or RST" },
	{ TP_A_REFUSED, "refused", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Connection refused: SYN answered by RST" },
	{ TP_A_SYN_RETRANSMIT, "syn_retransmit", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "SYN retransmitted" },
	{ TP_A_SYNACK_RETRANSMIT, "synack_retransmit", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "SYN-ACK retransmitted: the handshake's ACK did not arrive" },
	{ TP_A_HANDSHAKE_BAD_ACK, "handshake_bad_ack", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Handshake acknowledgement number does not match the ISN + 1" },
	{ TP_A_HANDSHAKE_RESET, "handshake_reset", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Connection reset during the handshake" },
	{ TP_A_DATA_BEFORE_HANDSHAKE, "data_before_handshake", TP_SEV_WARN, TP_GROUP_PROTOCOL,
	  "Payload sent before the handshake completed" },
	{ TP_A_TFO_DATA, "tfo_data", TP_SEV_NOTE, TP_GROUP_PROTOCOL,
	  "Payload on a SYN (TCP Fast Open)" },
	{ TP_A_LOST_FINAL_ACK, "lost_final_ack", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Final ACK lost: the LAST-ACK side resent its FIN after the final ACK, or resent it and no ACK came, "
	  "or the ACK that came echoes the first FIN's timestamp" },
	{ TP_A_FIN_RETRANSMIT, "fin_retransmit", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "FIN retransmitted" },
	{ TP_A_TEARDOWN_BAD_ACK, "teardown_bad_ack", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Teardown acknowledgement number does not match the FIN + 1" },
	{ TP_A_HALF_CLOSED, "half_closed", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "Half-closed: one side sent FIN, the other never closed" },
	{ TP_A_RESET_ABORT, "reset_abort", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Connection aborted by RST" },
	{ TP_A_PORT_REUSE, "port_reuse", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "New SYN on a 4-tuple that was not fully closed or was in TIME-WAIT" },
	{ TP_A_AFTER_CLOSE, "after_close", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Segment after the connection was closed or reset" },
	{ TP_A_MIDSTREAM, "midstream", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "Connection picked up midstream: handshake not seen" },
	{ TP_A_BAD_FLAGS, "bad_flags", TP_SEV_WARN, TP_GROUP_PROTOCOL,
	  "Invalid TCP flag combination" },
	{ TP_A_BAD_CHECKSUM, "bad_checksum", TP_SEV_WARN, TP_GROUP_CHECKSUM,
	  "TCP checksum verified bad: segment not analysed" },
	{ TP_A_SYN_FLOOD, "syn_flood", TP_SEV_WARN, TP_GROUP_SECURITY,
	  "SYN belongs to a detected SYN flood" },
	{ TP_A_SIMULTANEOUS_OPEN, "simultaneous_open", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "Simultaneous open: both sides sent SYN" },
	{ TP_A_SIMULTANEOUS_CLOSE, "simultaneous_close", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "Simultaneous close: both FINs crossed" },
	{ TP_A_LOST_HANDSHAKE_ACK, "lost_handshake_ack", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "Handshake ACK lost: the server resent its SYN-ACK after it, still SYN-RECEIVED" },
	{ TP_A_STALE_CONNECTION, "stale_connection", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "SYN met an older connection the peer still held; the SYN-SENT side reset it" },
	{ TP_A_RESET_NO_CONNECTION, "reset_no_connection", TP_SEV_WARN, TP_GROUP_SEQUENCE,
	  "RST without ACK answering the peer: the resetting host had no such connection (crash, reboot)" },
	{ TP_A_SPURIOUS_RETRANSMIT, "spurious_retransmit", TP_SEV_NOTE, TP_GROUP_SEQUENCE,
	  "Data resent needlessly: the peer's ACK of it echoes an earlier transmission's timestamp" },
};

const char *tp_severity_name(enum tp_severity s)
{
	static const char *const n[] = { "chat", "note", "warn", "error" };
	return (unsigned)s < 4 ? n[s] : "?";
}

int tp_anomaly_by_name(const char *name)
{
	for (int i = 0; i < TP_A_COUNT; i++)
		if (strcmp(tp_anomaly_table[i].name, name) == 0)
			return i;
	return -1;
}

const char *tp_handshake_name(enum tp_handshake h)
{
	static const char *const n[TP_HS_COUNT] = {
		"none", "complete", "simultaneous", "unanswered", "refused", "half_open", "reset", "bad_ack",
	};
	return (unsigned)h < TP_HS_COUNT ? n[h] : "?";
}

const char *tp_teardown_name(enum tp_teardown t)
{
	static const char *const n[TP_TD_COUNT] = {
		"none", "four_way", "three_segment", "simultaneous", "half_closed",
		"reset_by_orig", "reset_by_resp", "incomplete",
	};
	return (unsigned)t < TP_TD_COUNT ? n[t] : "?";
}

const char *tp_end_reason_name(enum tp_end_reason r)
{
	static const char *const n[] = { "closed", "timeout", "evicted", "capture_end", "reused" };
	return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "?";
}

void tp_verdict_amend(struct tp_verdict *v, const struct tp_amend *a)
{
	v->anomalies |= a->add;
	if (a->orig_state >= 0)
		v->orig_state = (uint8_t)a->orig_state;
	if (a->resp_state >= 0)
		v->resp_state = (uint8_t)a->resp_state;
}

/* MurmurHash3's finaliser: a bijection of 64 bits that maps 0 to 0, so
 * that seed 0 leaves the uid formula as it was before seeds. */
static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/*
 * Zeek's uids are random; ours must be reproducible so that two runs, or the
 * CLI and the plugin, name a connection alike. A 64-bit mix of the frame
 * and the seed spread over base62 gives the same look. The seed enters both
 * halves of the state differently, so two (seed, frame) pairs share a
 * starting state only by a 64-bit accident.
 */
void tp_conn_uid(uint64_t seed, uint64_t first_frame, char out[20])
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t x = first_frame + 0x9e3779b97f4a7c15ULL + seed;
	uint64_t y = (first_frame ^ fmix64(seed)) * 0xbf58476d1ce4e5b9ULL + 0x94d049bb133111ebULL;
	out[0] = 'C';
	for (int i = 1; i <= 17; i++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		x ^= y;
		y = y * 6364136223846793005ULL + 1442695040888963407ULL;
		out[i] = b62[(x >> 33) % 62];
	}
	out[18] = '\0';
}

uint64_t tp_uid_seed(int64_t ts_ns, uint32_t caplen, const uint8_t *bytes)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over the bytes */
	for (uint32_t i = 0; i < caplen; i++) {
		h ^= bytes[i];
		h *= 0x100000001b3ULL;
	}
	h = fmix64(h ^ fmix64((uint64_t)ts_ns ^ ((uint64_t)caplen << 32 | caplen)));
	return h ? h : 1; /* 0 is the deterministic seed */
}

char *tp_addr_str(const struct tp_addr *a, char *buf, size_t len)
{
	if (a->family == 4) {
		/* by hand: writing connection records prints two per record */
		char *p = buf;
		if (len < 16) { /* too small for every address: none rather than a part */
			if (len)
				buf[0] = '\0';
			return buf;
		}
		for (int i = 0; i < 4; i++) {
			unsigned v = a->bytes[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}

	/* RFC 5952: lower case, longest run of zero groups compressed, not a single one. */
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a->bytes[2 * i] << 8 | a->bytes[2 * i + 1]);
	int best = -1, bestlen = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	/* IPv4-mapped addresses read best in dotted form. */
	if (best == 0 && bestlen == 5 && g[5] == 0xffff) {
		snprintf(buf, len, "::ffff:%u.%u.%u.%u", a->bytes[12], a->bytes[13], a->bytes[14], a->bytes[15]);
		return buf;
	}
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < 8 && n < len; i++) {
		if (i == best) {
			n += (size_t)snprintf(buf + n, len - n, "::");
			i += bestlen - 1;
			continue;
		}
		int sep = i > 0 && i != best + bestlen;
		n += (size_t)snprintf(buf + n, len - n, "%s%x", sep ? ":" : "", g[i]);
	}
	return buf;
}
