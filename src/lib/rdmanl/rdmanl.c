// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The RDMA netlink client (see include/odpt/rdmanl.h): request building,
 * the receive loop over multi-part dumps, and the parsers. Message shapes
 * (drivers/infiniband/core/nldev.c): a dump reply is one NLM_F_MULTI
 * message per batch, each with DEV_INDEX, DEV_NAME and a RES_MR table of
 * RES_MR_ENTRY nests, closed by NLMSG_DONE; a STAT_GET for one MR (doit)
 * answers with a single message whose MR attributes sit at the top level.
 * Per-MR counters are a STAT_HWCOUNTERS table of STAT_HWCOUNTER_ENTRY
 * nests, each a NAME string and a u64 VALUE. Reads go through memcpy so a
 * buffer of any alignment is fine; every length is checked before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "odpt/rdmanl.h"

#define NL_RECV_BYTES (64u << 10)   /* the kernel's dump batches stay below 32 KiB */
#define NL_TIMEOUT_S 5

struct odpt_nl {
	int fd;
	uint32_t seq;
	uint8_t *buf;
};

/* ---- attribute access ------------------------------------------------------- */

struct attr {
	uint16_t type;
	const uint8_t *data;
	size_t len;
};

struct attr_it {
	const uint8_t *p;
	size_t left;
};

/* 1 and *a set, 0 at the end, -EPROTO for a bad header or length. */
static int attr_next(struct attr_it *it, struct attr *a)
{
	struct nlattr h;
	size_t step;

	if (!it->left)
		return 0;
	if (it->left < NLA_HDRLEN)
		return -EPROTO;
	memcpy(&h, it->p, sizeof(h));
	if (h.nla_len < NLA_HDRLEN || h.nla_len > it->left)
		return -EPROTO;
	a->type = h.nla_type & NLA_TYPE_MASK;
	a->data = it->p + NLA_HDRLEN;
	a->len = h.nla_len - NLA_HDRLEN;
	/* The last attribute of a message may lack its padding. */
	step = NLA_ALIGN(h.nla_len);
	if (step > it->left)
		step = it->left;
	it->p += step;
	it->left -= step;
	return 1;
}

static int get_u32(const struct attr *a, uint32_t *v)
{
	if (a->len != sizeof(*v))
		return -EPROTO;
	memcpy(v, a->data, sizeof(*v));
	return 0;
}

static int get_u64(const struct attr *a, uint64_t *v)
{
	if (a->len != sizeof(*v))
		return -EPROTO;
	memcpy(v, a->data, sizeof(*v));
	return 0;
}

/* A NUL-terminated string inside the payload; cut to size. */
static int get_str(const struct attr *a, char *s, size_t size)
{
	size_t n;

	if (!a->len || !memchr(a->data, '\0', a->len))
		return -EPROTO;
	n = strlen((const char *)a->data);
	if (n >= size)
		n = size - 1;
	memcpy(s, a->data, n);
	s[n] = '\0';
	return 0;
}

/* ---- MR entries -------------------------------------------------------------- */

static int parse_counter(const struct attr *e, struct odpt_nl_mr *mr)
{
	struct attr_it it = { e->data, e->len };
	char name[ODPT_NL_NAME_LEN];
	bool have_name = false, have_value = false;
	uint64_t value = 0;
	struct attr a;
	int ret;

	while ((ret = attr_next(&it, &a)) > 0) {
		ret = 0;
		if (a.type == RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_NAME) {
			ret = get_str(&a, name, sizeof(name));
			have_name = true;
		} else if (a.type == RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_VALUE) {
			ret = get_u64(&a, &value);
			have_value = true;
		}
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	if (!have_name || !have_value)
		return -EPROTO;
	if (mr->ncounters == ODPT_NL_MAX_COUNTERS) {
		mr->ncounters_dropped++;
		return 0;
	}
	memcpy(mr->counters[mr->ncounters].name, name, sizeof(name));
	mr->counters[mr->ncounters++].value = value;
	return 0;
}

static int parse_counters(const struct attr *t, struct odpt_nl_mr *mr)
{
	struct attr_it it = { t->data, t->len };
	struct attr a;
	int ret;

	mr->has |= ODPT_NL_HAS_COUNTERS;
	while ((ret = attr_next(&it, &a)) > 0) {
		ret = 0;
		if (a.type != RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY)
			continue;
		ret = parse_counter(&a, mr);
		if (ret)
			return ret;
	}
	return ret;
}

/* The attributes of one MR (an entry nest, or a doit reply's top level);
 * others (DEV_INDEX, the RES_MR table, driver nests) are skipped. */
static int parse_mr_attrs(const uint8_t *p, size_t len, struct odpt_nl_mr *mr)
{
	struct attr_it it = { p, len };
	struct attr a;
	int ret;

	while ((ret = attr_next(&it, &a)) > 0) {
		ret = 0;
		switch (a.type) {
		case RDMA_NLDEV_ATTR_RES_MRN:
			ret = get_u32(&a, &mr->mrn);
			mr->has |= ODPT_NL_HAS_MRN;
			break;
		case RDMA_NLDEV_ATTR_RES_LKEY:
			ret = get_u32(&a, &mr->lkey);
			mr->has |= ODPT_NL_HAS_LKEY;
			break;
		case RDMA_NLDEV_ATTR_RES_RKEY:
			ret = get_u32(&a, &mr->rkey);
			mr->has |= ODPT_NL_HAS_RKEY;
			break;
		case RDMA_NLDEV_ATTR_RES_PID:
			ret = get_u32(&a, &mr->pid);
			mr->has |= ODPT_NL_HAS_PID;
			break;
		case RDMA_NLDEV_ATTR_RES_PDN:
			ret = get_u32(&a, &mr->pdn);
			mr->has |= ODPT_NL_HAS_PDN;
			break;
		case RDMA_NLDEV_ATTR_RES_MRLEN:
			ret = get_u64(&a, &mr->len_bytes);
			mr->has |= ODPT_NL_HAS_MRLEN;
			break;
		case RDMA_NLDEV_ATTR_RES_IOVA:
			ret = get_u64(&a, &mr->iova);
			mr->has |= ODPT_NL_HAS_IOVA;
			break;
		case RDMA_NLDEV_ATTR_STAT_HWCOUNTERS:
			ret = parse_counters(&a, mr);
			break;
		default:
			break;
		}
		if (ret)
			return ret;
	}
	return ret;
}

static int mrs_add(struct odpt_nl_mrs *l, const struct odpt_nl_mr *mr)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct odpt_nl_mr *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *mr;
	return 0;
}

void odpt_nl_mrs_free(struct odpt_nl_mrs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* One nldev message of an MR reply: the device handle, then either a RES_MR
 * table (dump) or one MR's attributes at the top level (doit). */
static int mr_msg(const uint8_t *p, size_t len, void *ctx)
{
	struct odpt_nl_mrs *out = ctx;
	struct attr_it it = { p, len };
	struct odpt_nl_mr top = { 0 };
	struct attr a;
	int ret;

	out->nmsgs++;
	while ((ret = attr_next(&it, &a)) > 0) {
		ret = 0;
		if (a.type == RDMA_NLDEV_ATTR_DEV_INDEX) {
			ret = get_u32(&a, &out->dev_index);
		} else if (a.type == RDMA_NLDEV_ATTR_DEV_NAME) {
			ret = get_str(&a, out->dev_name, sizeof(out->dev_name));
		} else if (a.type == RDMA_NLDEV_ATTR_RES_MR) {
			struct attr_it et = { a.data, a.len };
			struct attr e;

			while ((ret = attr_next(&et, &e)) > 0) {
				struct odpt_nl_mr mr = { 0 };

				ret = 0;
				if (e.type != RDMA_NLDEV_ATTR_RES_MR_ENTRY)
					continue;
				ret = parse_mr_attrs(e.data, e.len, &mr);
				if (!ret)
					ret = mrs_add(out, &mr);
				if (ret)
					return ret;
			}
		}
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	ret = parse_mr_attrs(p, len, &top);
	if (!ret && (top.has & ODPT_NL_HAS_MRN))
		ret = mrs_add(out, &top);
	return ret;
}

bool odpt_nl_mr_counter(const struct odpt_nl_mr *mr, const char *name, uint64_t *value)
{
	for (int i = 0; i < mr->ncounters; i++)
		if (!strcmp(mr->counters[i].name, name)) {
			*value = mr->counters[i].value;
			return true;
		}
	return false;
}

/* ---- devices ------------------------------------------------------------------ */

static int dev_msg(const uint8_t *p, size_t len, void *ctx)
{
	struct odpt_nl_devs *out = ctx;
	struct odpt_nl_dev d = { 0 };
	bool have_index = false, have_name = false;
	struct attr_it it = { p, len };
	struct attr a;
	int ret;

	while ((ret = attr_next(&it, &a)) > 0) {
		ret = 0;
		if (a.type == RDMA_NLDEV_ATTR_DEV_INDEX) {
			ret = get_u32(&a, &d.index);
			have_index = true;
		} else if (a.type == RDMA_NLDEV_ATTR_DEV_NAME) {
			ret = get_str(&a, d.name, sizeof(d.name));
			have_name = true;
		}
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (!have_index || !have_name)
		return -EPROTO;
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct odpt_nl_dev *v = realloc(out->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = d;
	return 0;
}

void odpt_nl_devs_free(struct odpt_nl_devs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- messages ------------------------------------------------------------------- */

typedef int (*msg_fn)(const uint8_t *payload, size_t len, void *ctx);

static int walk(const void *buf, size_t len, uint32_t seq, unsigned cmd,
		msg_fn fn, void *ctx)
{
	const uint8_t *p = buf;
	int done = 0;

	while (len) {
		struct nlmsghdr h;
		const uint8_t *payload;
		size_t plen, step;
		int32_t err;
		int ret;

		if (len < sizeof(h))
			return -EPROTO;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			return -EPROTO;
		payload = p + NLMSG_HDRLEN;
		plen = h.nlmsg_len - NLMSG_HDRLEN;
		if (h.nlmsg_seq != seq)
			goto next;   /* the tail of an earlier, abandoned request */
		switch (h.nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR:
			/* struct nlmsgerr: the error, then the request's header. */
			if (plen < sizeof(err))
				return -EPROTO;
			memcpy(&err, payload, sizeof(err));
			if (err > 0 || err < -4095)
				return -EPROTO;
			return err ? err : 1;
		case NLMSG_DONE:
			/* A dump that failed part-way says so here. */
			if (plen >= sizeof(err)) {
				memcpy(&err, payload, sizeof(err));
				if (err < 0 && err >= -4095)
					return err;
			}
			return 1;
		default:
			if (h.nlmsg_type != RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd))
				return -EPROTO;
			ret = fn(payload, plen, ctx);
			if (ret)
				return ret;
			if (!(h.nlmsg_flags & NLM_F_MULTI))
				done = 1;
			break;
		}
next:
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	return done;
}

int odpt_nl_parse_mrs(const void *buf, size_t len, uint32_t seq, unsigned cmd,
		      struct odpt_nl_mrs *out)
{
	return walk(buf, len, seq, cmd, mr_msg, out);
}

int odpt_nl_parse_devs(const void *buf, size_t len, uint32_t seq,
		       struct odpt_nl_devs *out)
{
	return walk(buf, len, seq, RDMA_NLDEV_CMD_GET, dev_msg, out);
}

/* ---- the socket ------------------------------------------------------------------ */

int odpt_nl_open(struct odpt_nl **out)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	struct odpt_nl *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->buf = malloc(NL_RECV_BYTES);
	if (!nl->buf) {
		ret = -ENOMEM;
		goto free_nl;
	}
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (nl->fd < 0) {
		ret = -errno;
		goto free_buf;
	}
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto close_fd;
	}
	nl->seq = (uint32_t)getpid() << 8;
	*out = nl;
	return 0;

close_fd:
	close(nl->fd);
free_buf:
	free(nl->buf);
free_nl:
	free(nl);
	return ret;
}

void odpt_nl_close(struct odpt_nl *nl)
{
	if (!nl)
		return;
	close(nl->fd);
	free(nl->buf);
	free(nl);
}

struct nl_u32_attr {
	uint16_t type;
	uint32_t value;
};

static int nl_request(struct odpt_nl *nl, unsigned cmd, bool dump,
		      const struct nl_u32_attr *attrs, int nattrs)
{
	uint8_t req[NLMSG_HDRLEN + 4 * NLA_ALIGN(NLA_HDRLEN + sizeof(uint32_t))];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr h = { 0 };
	size_t off = NLMSG_HDRLEN;
	ssize_t n;

	if (nattrs > 4)
		return -EINVAL;
	memset(req, 0, sizeof(req));
	for (int i = 0; i < nattrs; i++) {
		struct nlattr a = { .nla_len = NLA_HDRLEN + sizeof(uint32_t),
				    .nla_type = attrs[i].type };

		memcpy(req + off, &a, sizeof(a));
		memcpy(req + off + NLA_HDRLEN, &attrs[i].value, sizeof(uint32_t));
		off += NLA_ALIGN(a.nla_len);
	}
	h.nlmsg_len = (uint32_t)off;
	h.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd);
	h.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	h.nlmsg_seq = ++nl->seq;
	memcpy(req, &h, sizeof(h));
	n = sendto(nl->fd, req, off, 0, (struct sockaddr *)&sa, sizeof(sa));
	if (n < 0)
		return -errno;
	return (size_t)n == off ? 0 : -EIO;
}

/* Send a request and feed every datagram of the reply to fn. */
static int nl_transact(struct odpt_nl *nl, unsigned cmd, bool dump,
		       const struct nl_u32_attr *attrs, int nattrs, msg_fn fn, void *ctx)
{
	int ret = nl_request(nl, cmd, dump, attrs, nattrs);

	while (!ret) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		n = recvfrom(nl->fd, nl->buf, NL_RECV_BYTES, MSG_TRUNC,
			     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		if ((size_t)n > NL_RECV_BYTES)
			return -EMSGSIZE;
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue;   /* not from the kernel */
		ret = walk(nl->buf, (size_t)n, nl->seq, cmd, fn, ctx);
		if (ret > 0)
			return 0;
	}
	return ret;
}

int odpt_nl_dev_index(struct odpt_nl *nl, const char *name, uint32_t *index)
{
	struct odpt_nl_devs devs = { 0 };
	int ret;

	ret = nl_transact(nl, RDMA_NLDEV_CMD_GET, true, NULL, 0, dev_msg, &devs);
	if (!ret) {
		ret = -ENODEV;
		for (size_t i = 0; i < devs.n; i++)
			if (!strcmp(devs.v[i].name, name)) {
				*index = devs.v[i].index;
				ret = 0;
				break;
			}
	}
	odpt_nl_devs_free(&devs);
	return ret;
}

int odpt_nl_res_mrs(struct odpt_nl *nl, uint32_t dev_index, struct odpt_nl_mrs *out)
{
	const struct nl_u32_attr a[] = { { RDMA_NLDEV_ATTR_DEV_INDEX, dev_index } };

	return nl_transact(nl, RDMA_NLDEV_CMD_RES_MR_GET, true, a, 1, mr_msg, out);
}

int odpt_nl_stat_mrs(struct odpt_nl *nl, uint32_t dev_index, struct odpt_nl_mrs *out)
{
	const struct nl_u32_attr a[] = {
		{ RDMA_NLDEV_ATTR_DEV_INDEX, dev_index },
		{ RDMA_NLDEV_ATTR_STAT_RES, RDMA_NLDEV_ATTR_RES_MR },
	};

	return nl_transact(nl, RDMA_NLDEV_CMD_STAT_GET, true, a, 2, mr_msg, out);
}

int odpt_nl_stat_mr(struct odpt_nl *nl, uint32_t dev_index, uint32_t mrn,
		    struct odpt_nl_mr *out)
{
	const struct nl_u32_attr a[] = {
		{ RDMA_NLDEV_ATTR_DEV_INDEX, dev_index },
		{ RDMA_NLDEV_ATTR_STAT_RES, RDMA_NLDEV_ATTR_RES_MR },
		{ RDMA_NLDEV_ATTR_RES_MRN, mrn },
	};
	struct odpt_nl_mrs l = { 0 };
	int ret;

	ret = nl_transact(nl, RDMA_NLDEV_CMD_STAT_GET, false, a, 3, mr_msg, &l);
	if (!ret) {
		ret = -ENOENT;
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].mrn == mrn) {
				*out = l.v[i];
				ret = 0;
				break;
			}
	}
	odpt_nl_mrs_free(&l);
	return ret;
}
