/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The shim client: userspace side of odpt_hmm.ko. Opens /dev/odpt_hmm (one
 * HMM mirror per handle), checks the module's ABI version, wraps every ioctl
 * of include/uapi/odpt_hmm.h in a function returning 0 or -errno, imports
 * the module's histograms into struct odpt_hist and adds device facts and
 * histograms to a struct odpt_report. It never prints.
 */
#ifndef ODPT_SHIM_H
#define ODPT_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odpt/hist.h"
#include "odpt/report.h"
#include "uapi/odpt_hmm.h"

struct odpt_shim;

/*
 * Open the device (path NULL: ODPT_HMM_DEV_PATH) and check the ABI version.
 * -ENOENT: no device node (module not loaded); -EACCES/-EPERM: not root;
 * -EPROTO: the module speaks another ABI version (*abi_out says which, may
 * be NULL).
 */
int odpt_shim_open(const char *path, uint32_t *abi_out, struct odpt_shim **out);
void odpt_shim_close(struct odpt_shim *s);
int odpt_shim_fd(const struct odpt_shim *s);

int odpt_shim_dev_info(struct odpt_shim *s, struct odpt_hmm_dev_info *out);
int odpt_shim_global(struct odpt_shim *s, struct odpt_hmm_global *out);
int odpt_shim_register(struct odpt_shim *s, void *addr, size_t len,
		       uint32_t mode, struct odpt_hmm_register *out);
int odpt_shim_fault(struct odpt_shim *s, void *addr, size_t len,
		    uint32_t flags, struct odpt_hmm_fault *out);
int odpt_shim_map(struct odpt_shim *s, void *addr, size_t len, uint32_t flags,
		  struct odpt_hmm_map *out);
int odpt_shim_unmap(struct odpt_shim *s, void *addr, size_t len,
		    struct odpt_hmm_unmap *out);
/* pfns: n entries in ODPT_HMM_PFN_* form. */
int odpt_shim_flags(struct odpt_shim *s, void *addr, size_t len,
		    uint32_t flags, uint64_t *pfns, size_t n,
		    struct odpt_hmm_flags *out);
int odpt_shim_stats(struct odpt_shim *s, bool reset, struct odpt_hmm_stats *out);
int odpt_shim_verify(struct odpt_shim *s, void *addr, size_t len,
		     uint32_t flags, uint64_t max_pages, uint64_t seed,
		     struct odpt_hmm_verify *out);

/*
 * Copy histogram id out of the module into a new odpt_hist in the module's
 * layout (ODPT_HMM_HIST_*); *overflow_out (may be NULL) gets the samples the
 * module could not record.
 */
int odpt_shim_hist(struct odpt_shim *s, uint32_t id, struct odpt_hist **out,
		   uint64_t *overflow_out);

/* Names: "hmm", "page", "sg"; "edu", "faux"; "none", "identity", "strict",
 * "lazy", "other"; "map_ns_per_page", ... ("?" when out of range). */
const char *odpt_shim_mode_name(uint32_t mode);
int odpt_shim_mode_parse(const char *name, uint32_t *mode);
const char *odpt_shim_device_name(uint32_t kind);
const char *odpt_shim_iommu_name(uint32_t domain);
const char *odpt_shim_hist_name(uint32_t id);
/* "iova" or "direct": the path mode hmm takes on this device. */
const char *odpt_shim_path_name(const struct odpt_hmm_dev_info *d);

/* Device facts as report metadata (shim_device, shim_iommu, ...). */
int odpt_shim_report_dev(struct odpt_report *r, const struct odpt_hmm_dev_info *d);
/*
 * Add every non-empty histogram of the mirror to r, named by
 * odpt_shim_hist_name() and labelled with labels[0..nlabels).
 */
int odpt_shim_report_hists(struct odpt_shim *s, struct odpt_report *r,
			   const struct odpt_label *labels, int nlabels);

/* Module loading: finit_module(ko_path, params) / delete_module("odpt_hmm"). */
int odpt_shim_module_load(const char *ko_path, const char *params);
int odpt_shim_module_unload(void);
/*
 * The installed module (DKMS puts it under /lib/modules/<release>/updates/dkms):
 * its path relative to that directory, from modules.dep. 0, -ENOENT when
 * modules.dep has no odpt_hmm, or -errno when it cannot be read.
 * _running: the running kernel's modules.dep; release gets uname's release.
 */
int odpt_shim_module_find(const char *modules_dep, char *path, size_t len);
int odpt_shim_module_find_running(char *release, size_t rlen, char *path, size_t len);
/* modprobe odpt_hmm params (space-separated a=b): 0, -EIO when modprobe
 * failed (it says why on stderr), or -errno when it could not start. */
int odpt_shim_module_probe(const char *params);
/* true when /sys/module/odpt_hmm exists. */
bool odpt_shim_module_loaded(void);
/* Read /sys/module/odpt_hmm/parameters/<name> as a number (abi_version). */
int odpt_shim_module_param(const char *name, uint64_t *out);
/* The module-wide counters (live_mappings, stale_mapped_entries, ...): one
 * file each in debugfs, which must be mounted (-ENOENT otherwise). */
#define ODPT_SHIM_DEBUGFS_DIR "/sys/kernel/debug/odpt_hmm"
int odpt_shim_module_counter(const char *name, uint64_t *out);

#endif
