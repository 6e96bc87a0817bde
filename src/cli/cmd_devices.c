// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt devices`: every RDMA device with its ports (state, link layer, MTU,
 * GIDs), its ODP capabilities by name (general, per transport rc/uc/ud/xrc,
 * implicit, whether per-MR ODP counters come over RDMA netlink), max MR
 * size, atomic capability and driver. On a machine without RDMA it says
 * "no RDMA devices" and exits 0; with --json it prints a document whose
 * "devices" list is empty.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "odpt/log.h"
#include "odpt/suite.h"
#include "odpt/verbs.h"
#include "cli.h"

struct devices_cfg {
	const char *dev;
	bool json;
};

static const struct odpt_opt devices_opts[] = {
	{ .name = "dev", .short_name = 'd', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct devices_cfg, dev), .metavar = "DEV",
	  .help = "show only this device" },
	{ .name = "json", .short_name = 'j', .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct devices_cfg, json),
	  .help = "JSON output (same as the global -j)" },
	ODPT_OPT_END,
};

static struct json_object *bits_array(uint32_t bits)
{
	struct json_object *a = json_object_new_array();

	char tmp[16];

	for (unsigned i = 0; i < 32; i++) {
		if (bits & (1u << i))
			json_object_array_add(a, json_object_new_string(odpt_odp_bit_label(i, tmp)));
	}
	return a;
}

/* Per-MR ODP counters over RDMA netlink, known only by registering an ODP
 * MR and reading it back (odpt_odp_counters_probe()). */
static struct json_object *mr_counters_obj(const struct odpt_dev_info *d)
{
	struct json_object *o = json_object_new_object();
	char why[320] = "";
	struct odpt_vctx *v;
	int ret = 1;

	if (d->caps.odp) {
		ret = odpt_vctx_open(d->name, 1, -1, &v);
		if (!ret) {
			ret = odpt_odp_counters_probe(v, why, sizeof(why));
			odpt_vctx_close(v);
		}
		if (ret < 0)
			snprintf(why, sizeof(why), "not probed: opening %s port 1: %s", d->name,
				 strerror(-ret));
	} else {
		ret = 0;
		snprintf(why, sizeof(why), "no ODP");
	}
	json_object_object_add(o, "available", json_object_new_boolean(ret > 0));
	json_object_object_add(o, ret > 0 ? "counters" : "why", json_object_new_string(why));
	return o;
}

static struct json_object *device_obj(const struct odpt_dev_info *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *odp = json_object_new_object();
	struct json_object *ports = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "driver", json_object_new_string(d->caps.driver));
	json_object_object_add(o, "node_guid", json_object_new_string(d->node_guid));
	json_object_object_add(o, "fw_ver", json_object_new_string(d->caps.fw_ver));
	json_object_object_add(o, "max_mr_size_bytes", json_object_new_uint64(d->caps.max_mr_size));
	json_object_object_add(o, "atomic_cap", json_object_new_string(d->caps.atomic_cap_name));
	json_object_object_add(o, "xrc", json_object_new_boolean(d->caps.xrc));
	json_object_object_add(odp, "supported", json_object_new_boolean(d->caps.odp));
	json_object_object_add(odp, "implicit", json_object_new_boolean(d->caps.odp_implicit));
	/* Prefetch is only known by trying it (see odpt_verbs_list()). */
	json_object_object_add(odp, "prefetch",
			       json_object_new_string(d->caps.prefetch_probe == 1 ? "not tried (no ODP)" :
						      d->caps.prefetch_probe == 0 ? "supported" :
						      d->caps.prefetch_probe == -EOPNOTSUPP ?
						      "not supported (ibv_advise_mr: EOPNOTSUPP)" :
						      strerror(-d->caps.prefetch_probe)));
	for (int t = 0; t < ODPT_TR_NR; t++) {
		char key[16];

		snprintf(key, sizeof(key), "%s_caps", odpt_transport_name(t));
		json_object_object_add(odp, key, bits_array(d->caps.odp_tr[t]));
	}
	json_object_object_add(odp, "per_mr_counters", mr_counters_obj(d));
	json_object_object_add(o, "odp", odp);
	for (int p = 0; p < d->nports; p++) {
		const struct odpt_port_info *pi = &d->ports[p];
		struct json_object *po = json_object_new_object();
		struct json_object *gids = json_object_new_array();

		json_object_object_add(po, "port", json_object_new_int(pi->port));
		json_object_object_add(po, "state", json_object_new_string(pi->state));
		json_object_object_add(po, "link_layer", json_object_new_string(pi->link_layer));
		json_object_object_add(po, "active_mtu_bytes", json_object_new_int(pi->active_mtu_bytes));
		json_object_object_add(po, "lid", json_object_new_int(pi->lid));
		for (int g = 0; g < pi->ngids; g++) {
			struct json_object *go = json_object_new_object();

			json_object_object_add(go, "index", json_object_new_int(pi->gids[g].index));
			json_object_object_add(go, "gid", json_object_new_string(pi->gids[g].gid));
			json_object_object_add(go, "type", json_object_new_string(pi->gids[g].type));
			json_object_object_add(go, "netdev", json_object_new_string(pi->gids[g].netdev));
			json_object_array_add(gids, go);
		}
		json_object_object_add(po, "gids", gids);
		json_object_array_add(ports, po);
	}
	json_object_object_add(o, "ports", ports);
	return o;
}

static int run_list(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_dev_info *devs = NULL;
	struct devices_cfg cfg;
	struct odpt_report *r = NULL;
	struct json_object *list;
	int n = 0, npos, code, ret, shown = 0;

	if (!odpt_cli_parse(&odpt_obj_devices.verbs[0], &cfg, argc, argv, &npos, &code))
		return code;
	if (npos) {
		odpt_usage_err("odpt: devices: unexpected argument '%s'\n", argv[0]);
		return ODPT_EXIT_USAGE;
	}
	if (cfg.json)
		cli->json = true;
	ret = odpt_verbs_list(&devs, &n);
	if (ret) {
		odpt_err("listing RDMA devices: %s", strerror(-ret));
		return ret == -EACCES || ret == -EPERM ? ODPT_EXIT_USAGE : ODPT_EXIT_FAIL;
	}
	list = json_object_new_array();
	for (int i = 0; i < n; i++) {
		if (cfg.dev && strcmp(cfg.dev, devs[i].name))
			continue;
		json_object_array_add(list, device_obj(&devs[i]));
		shown++;
	}
	odpt_verbs_list_free(devs, n);
	if (cfg.dev && !shown) {
		json_object_put(list);
		odpt_err("unknown RDMA device '%s'", cfg.dev);
		return ODPT_EXIT_USAGE;
	}
	if (!shown && !cli->json && !cli->format && !cli->output) {
		json_object_put(list);
		odpt_out("no RDMA devices\n");
		return ODPT_EXIT_OK;
	}
	code = ODPT_EXIT_FAIL;
	if (odpt_cli_report_start("devices", NULL, NULL, &r)) {
		json_object_put(list);
		goto destroy_report;
	}
	if (odpt_report_section(r, "devices", list)) {
		json_object_put(list);
		goto destroy_report;
	}
	code = odpt_cli_emit(cli, r);
destroy_report:
	odpt_report_destroy(r);
	return code;
}

static const struct odpt_verb devices_verbs[] = {
	{ .name = "list", .run = run_list, .opts = devices_opts,
	  .summary = "devices, ports, GIDs and ODP capabilities" },
	{ .name = NULL },
};

const struct odpt_object odpt_obj_devices = {
	.name = "devices",
	.summary = "RDMA devices and their ODP capabilities",
	.verbs = devices_verbs,
	.default_verb = "list",
};
