#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Creates the lab's soft-RoCE device inside the guest: rxe0 on one end of a
# veth pair with 192.0.2.1/24, so port 1 is ACTIVE and GID index 1 is the
# IPv4 one. Both QPs of a test live on rxe0 (loopback): two rxe devices on
# the two ends of one veth in one namespace do not talk to each other.
set -e -x
modprobe rdma_rxe
modprobe ib_uverbs
modprobe veth
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
