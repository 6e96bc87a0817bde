// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Models of the known kernel bugs' damage (bugmodel.h): the rxe ODP
 * page-offset copy bug replayed packet by packet over copies of the
 * buffers, and the rxe int-length registration bug as arithmetic on the MR
 * size. The suite compares what it saw with these predictions; only an
 * exact match is the known bug.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bugmodel.h"

/* Copy n bytes out of buf at iova as the buggy __rxe_odp_mr_copy() does:
 * page by page, each from the page start, each into the packet start. */
static void buggy_read(const uint8_t *buf, size_t iova, size_t n, size_t pg,
		       uint8_t *pkt, uint8_t *pk)
{
	size_t page = iova - iova % pg, b = pg - iova % pg;

	while (n) {
		if (b > n)
			b = n;
		memcpy(pkt, buf + page, b);
		memset(pk, 1, b);
		n -= b;
		page += pg;
		b = pg;
	}
}

static void buggy_write(uint8_t *buf, uint8_t *kn, size_t iova, size_t n, size_t pg,
			const uint8_t *pkt, const uint8_t *pk)
{
	size_t page = iova - iova % pg, b = pg - iova % pg;

	while (n) {
		if (b > n)
			b = n;
		memcpy(buf + page, pkt, b);
		memcpy(kn + page, pk, b);
		n -= b;
		page += pg;
		b = pg;
	}
}

int bm_rxe_copy_predict(const struct bm_xfer *x, const uint8_t *src, size_t src_len,
			const uint8_t *dst0, size_t dst_len, uint8_t *pred, uint8_t *known)
{
	uint8_t *pkt, *pk;

	if (!x->mtu || !x->pg || x->soff + x->len > src_len || x->doff + x->len > dst_len)
		return -EINVAL;
	pkt = malloc(x->mtu);
	pk = malloc(x->mtu);
	if (!pkt || !pk) {
		free(pkt);
		free(pk);
		return -ENOMEM;
	}
	memcpy(pred, dst0, dst_len);
	memset(known, 1, dst_len);
	for (size_t o = 0; o < x->len; o += x->mtu) {
		size_t n = x->len - o < x->mtu ? x->len - o : x->mtu;

		memset(pk, 0, n);
		if (x->src_odp) {
			buggy_read(src, x->soff + o, n, x->pg, pkt, pk);
		} else {
			memcpy(pkt, src + x->soff + o, n);
			memset(pk, 1, n);
		}
		if (x->dst_odp) {
			buggy_write(pred, known, x->doff + o, n, x->pg, pkt, pk);
		} else {
			memcpy(pred + x->doff + o, pkt, n);
			memcpy(known + x->doff + o, pk, n);
		}
	}
	free(pkt);
	free(pk);
	return 0;
}

int bm_rxe_copy_classify(const struct bm_xfer *x, const uint8_t *src, size_t src_len,
			 const uint8_t *dst0, const uint8_t *dst, size_t dst_len,
			 struct bm_result *res)
{
	uint8_t *pred, *known;
	int ret;

	if (x->soff + x->len > src_len || x->doff + x->len > dst_len)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < dst_len; i++) {
		bool in = i >= x->doff && i < x->doff + x->len;
		uint8_t want = in ? src[x->soff + i - x->doff] : dst0[i];

		if (dst[i] != want && !res->wrong++) {
			res->first_wrong = i;
			res->got = dst[i];
			res->want = want;
		}
	}
	if (!res->wrong) {
		res->v = BM_CORRECT;
		return 0;
	}
	pred = malloc(dst_len);
	known = malloc(dst_len);
	ret = pred && known ? 0 : -ENOMEM;
	if (!ret)
		ret = bm_rxe_copy_predict(x, src, src_len, dst0, dst_len, pred, known);
	if (ret)
		goto free_bufs;
	res->v = BM_PREDICTED;
	res->predicted = pred[res->first_wrong];
	for (size_t i = 0; i < dst_len; i++)
		if (known[i] && dst[i] != pred[i]) {
			bool in = i >= x->doff && i < x->doff + x->len;

			res->v = BM_OTHER;
			res->first_unexplained = i;
			res->got = dst[i];
			res->want = in ? src[x->soff + i - x->doff] : dst0[i];
			res->predicted = pred[i];
			break;
		}
free_bufs:
	free(pred);
	free(known);
	return ret;
}

bool bm_rxe_int_len_einval(uint64_t len)
{
	return (len & 0xffffffffull) >= (1ull << 31);
}

uint64_t bm_rxe_int_len_size(uint64_t min_len, uint64_t align)
{
	uint64_t len = (min_len + align - 1) & ~(align - 1);

	if (!bm_rxe_int_len_einval(len))
		len = (len + (1ull << 32) - 1) / (1ull << 32) * (1ull << 32) - (1ull << 31);
	if (len < min_len)
		len += 1ull << 32;
	return len;
}
