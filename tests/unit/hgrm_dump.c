// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt side of the .hgrm compatibility test (hgrm_java_compat.sh):
 * "hgrm_dump gen KIND SEED N" writes N deterministic values of a
 * distribution (lognormal, bimodal, uniform over the whole range, tiny,
 * constant) one per line; "hgrm_dump FILE SIG" records a file's values
 * into an odpt_hist (1 ns .. 1 h, SIG figures) and prints odpt's .hgrm.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/report.h"

static uint64_t x;

static uint64_t rnd(void)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static double unif(void)
{
	return ((double)(rnd() >> 11) + 0.5) / (double)(1ULL << 53);
}

static int gen(const char *kind, uint64_t seed, long n)
{
	long i;

	x = seed | 1;
	for (i = 0; i < n; i++) {
		uint64_t v;

		if (!strcmp(kind, "lognormal")) {
			double z = sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());

			v = (uint64_t)exp(9 + 2 * z);
		} else if (!strcmp(kind, "bimodal")) {
			v = rnd() % 3 ? 1500 + rnd() % 400 : 40000 + rnd() % 20000;
			if (i % 100 == 99)
				v = 2000000 + rnd() % 3000000;
		} else if (!strcmp(kind, "wide")) {
			v = 1 + rnd() % 3600000000000ULL;
		} else if (!strcmp(kind, "tiny")) {
			v = 1 + rnd() % 30;
		} else if (!strcmp(kind, "constant")) {
			v = 777;
		} else {
			fprintf(stderr, "hgrm_dump: unknown kind %s\n", kind);
			return 2;
		}
		if (v < 1)
			v = 1;
		if (v > 3600000000000ULL)
			v = 3600000000000ULL;
		printf("%llu\n", (unsigned long long)v);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct odpt_hist *h = NULL;
	unsigned long long v;
	FILE *f;

	if (argc == 5 && !strcmp(argv[1], "gen"))
		return gen(argv[2], strtoull(argv[3], NULL, 0), atol(argv[4]));
	if (argc != 3) {
		fprintf(stderr, "usage: hgrm_dump gen KIND SEED N | hgrm_dump FILE SIG\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f || odpt_hist_create(1, 3600000000000ULL, atoi(argv[2]), &h) ||
	    odpt_report_create("hgrm", &r)) {
		perror(argv[1]);
		return 1;
	}
	while (fscanf(f, "%llu", &v) == 1)
		odpt_hist_record(h, v);
	fclose(f);
	if (odpt_report_hist(r, "values", NULL, 0, h) ||
	    odpt_report_write(r, ODPT_FMT_HGRM, NULL, stdout))
		return 1;
	odpt_report_destroy(r);
	odpt_hist_destroy(h);
	return 0;
}
