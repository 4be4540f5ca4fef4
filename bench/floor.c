/*
 * floor.c - the floor of the benchmarks: the cheapest possible pass over a
 * capture with libpcap (pcap_open_offline + pcap_next_ex), counting packets
 * and captured bytes and nothing more. Every analyzer pays at least this.
 *
 *   tp_floor FILE        prints "packets N bytes M"
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tp_floor FILE\n");
		return 1;
	}
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "tp_floor: %s: %s\n", argv[1], err);
		return 2;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "tp_floor: %s: %s\n", argv[1], pcap_geterr(p));
	printf("packets %" PRIu64 " bytes %" PRIu64 "\n", packets, bytes);
	pcap_close(p);
	return rc == PCAP_ERROR ? 3 : 0;
}
