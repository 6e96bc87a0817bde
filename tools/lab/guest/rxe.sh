#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Creates the lab's soft-RoCE device inside the guest: rxe0 on one end of a
# veth pair with 192.0.2.1/24, so port 1 is ACTIVE and GID index 1 is the
# IPv4 one. Both QPs of a test live on rxe0 (loopback): two rxe devices on
# the two ends of one veth in one namespace do not talk to each other.
set -e
# load MODULE: modprobe it unless the kernel has it built in (a debug kernel
# may build rdma_rxe in; modprobe alone would then depend on modules.builtin
# being where it looks).
load() {
	if grep -q "/$1\.ko\$" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null; then
		echo "$1: built into the kernel"
	else
		(set -x; modprobe "$1")
	fi
}
load rdma_rxe
load ib_uverbs
load veth
set -x
ip link add va type veth peer name vb
ip addr add 192.0.2.1/24 dev va
ip link set va up
ip link set vb up
ip link set lo up
rdma link add rxe0 type rxe netdev va
set +x
# The IPv4 GID shows up once rxe has seen the address.
for _ in $(seq 50); do
	gid=$(cat /sys/class/infiniband/rxe0/ports/1/gids/1 2>/dev/null || true)
	[[ -n ${gid//[0:]/} ]] && exit 0
	sleep 0.1
done
echo "rxe0 has no IPv4 GID at index 1" >&2
exit 1
