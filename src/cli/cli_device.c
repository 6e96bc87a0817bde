// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Opening the RDMA device a command was given (--dev/--port/--gid) once up
 * front, so that bad input is a one-line error (exit 2) and no device at
 * all a SKIP (exit 4) before anything runs: `odpt suite run`, `odpt bench`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/log.h"
#include "odpt/verbs.h"
#include "cli.h"

/* How to get a device, for the skip reason. */
#define GET_A_DEVICE "make one with 'rdma link add rxe0 type rxe netdev IF' (soft-RoCE, module rdma_rxe) or run odpt in the lab (tools/odpt-lab run)"

/*
 * Open a device once in the parent to validate the input and read the
 * capabilities the preconditions need; the children open their own. who
 * starts every error ("suite"), opt
 * names the option in errors ("" for --dev, "--peer-dev " for the peer).
 * ODPT_EXIT_SKIP, with the reason in why, when there is nothing to run
 * on: no RDMA device at all, or no usable GID where none was asked for.
 */
int odpt_cli_probe_device(const char *who, const char *opt, const char *dev, uint64_t port,
			  int gid, struct odpt_cli_dev *out, char *why, size_t why_len)
{
	const char *shown = dev ? dev : "(first)";
	struct odpt_vctx *v;
	char names[256];
	int ret;

	ret = odpt_vctx_open(dev, (int)port, gid, &v);
	switch (ret) {
	case 0:
		break;
	case -ENODEV:
		odpt_verbs_names(names, sizeof(names));
		if (!names[0]) {
			snprintf(why, why_len, "no RDMA devices: %s", GET_A_DEVICE);
			return ODPT_EXIT_SKIP;
		}
		odpt_err("%s: %sunknown RDMA device '%s' (have: %s)", who, opt,
			 dev ? dev : "", names);
		return ODPT_EXIT_USAGE;
	case -ERANGE:
		odpt_err("%s: %sdevice %s has no port %" PRIu64, who, opt, shown, port);
		return ODPT_EXIT_USAGE;
	case -EINVAL:
		if (gid >= 0) {
			odpt_err("%s: %sGID index %d is not valid on %s port %" PRIu64,
				 who, opt, gid, shown, port);
			return ODPT_EXIT_USAGE;
		}
		snprintf(why, why_len,
			 "%s%s port %" PRIu64 " has no usable GID (RoCE needs an IPv4 address on the port's netdev; or choose one with --%sgid)",
			 opt, shown, port, *opt ? "peer-" : "");
		return ODPT_EXIT_SKIP;
	case -EACCES:
	case -EPERM:
		odpt_err("%s: %sno permission to open RDMA device %s (/dev/infiniband): %s",
			 who, opt, shown, strerror(-ret));
		return ODPT_EXIT_USAGE;
	default:
		odpt_err("%s: %sopening RDMA device %s: %s", who, opt, shown, strerror(-ret));
		return ODPT_EXIT_FAIL;
	}
	out->caps = *odpt_vctx_caps(v);
	snprintf(out->name, sizeof(out->name), "%s", odpt_vctx_name(v));
	out->port = odpt_vctx_port(v);
	out->gid = odpt_vctx_gid_index(v);
	odpt_vctx_close(v);
	return ODPT_EXIT_OK;
}

/* "--gid"-style text to an index; -1 for NULL (automatic), -2 if bad. */
int odpt_cli_parse_gid(const char *who, const char *opt, const char *text)
{
	char *end;
	long g;

	if (!text)
		return -1;
	g = strtol(text, &end, 10);
	if (*end || end == text || g < 0 || g > 65535) {
		odpt_err("%s: %s '%s' is not a GID index", who, opt, text);
		return -2;
	}
	return (int)g;
}

