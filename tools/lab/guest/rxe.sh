#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Creates the lab's soft-RoCE devices inside the guest. rxe0 sits on veth
# end va with 192.0.2.1/24 in the initial network namespace: port 1 is
# ACTIVE, GID index 1 is the IPv4 one, and the loopback suite runs on it.
# rxe1 sits on the other end, vb, moved into its own namespace (odpt-rxe1)
# with 192.0.2.2/24, for the two-device suite pass (rxe0 -> rxe1): two rxe
# devices in one namespace do not talk (the traffic is routed locally),
# but rxe's UDP sockets are per namespace and RDMA devices are shared by
# all namespaces (`rdma system show`: netns shared), so a process in the
# initial namespace opens both. The exit status is rxe0's alone; when rxe1
# cannot be made, the reason goes to $RXE1_STATUS ("skip: ...") and the
# two-device pass SKIPs with it, so the loopback work is never lost.
set -u
RXE1_NETNS=odpt-rxe1
RXE1_STATUS=${RXE1_STATUS:-/run/odpt-rxe1.status}

# Wait until rxe's port of $1 has the IPv4 GID at index 1.
wait_ipv4_gid() {
	local gid
	for _ in $(seq 50); do
		gid=$(cat "/sys/class/infiniband/$1/ports/1/gids/1" 2>/dev/null || true)
		[[ -n ${gid//[0:]/} ]] && return 0
		sleep 0.1
	done
	return 1
}

rxe1_skip() {
	echo "skip: $*" >"$RXE1_STATUS"
	echo "rxe1 not set up: $*" >&2
}

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
set -x
mkdir -p "$(dirname "$RXE1_STATUS")"
rm -f "$RXE1_STATUS"
load rdma_rxe
load ib_uverbs
load veth
ip link add va type veth peer name vb
# vb goes into its namespace before rxe0 exists: moving it later would drop
# va's carrier under a live rxe0 port.
set +e
rxe1_ns=0
if ip netns add "$RXE1_NETNS" && ip link set vb netns "$RXE1_NETNS" &&
   ip -n "$RXE1_NETNS" addr add 192.0.2.2/24 dev vb &&
   ip -n "$RXE1_NETNS" link set lo up && ip -n "$RXE1_NETNS" link set vb up; then
	rxe1_ns=1
else
	rxe1_skip "could not put veth end vb with 192.0.2.2/24 into a new network namespace $RXE1_NETNS (see rxe-setup.log)"
	ip link set vb up || ip -n "$RXE1_NETNS" link set vb up
fi
set -e
ip addr add 192.0.2.1/24 dev va
ip link set va up
ip link set lo up
rdma link add rxe0 type rxe netdev va
set +x
# The IPv4 GID shows up once rxe has seen the address.
if ! wait_ipv4_gid rxe0; then
	echo "rxe0 has no IPv4 GID at index 1" >&2
	exit 1
fi

set +e
if [[ $rxe1_ns == 1 ]]; then
	set -x
	# Created from inside the namespace: rxe binds its UDP socket there.
	ip netns exec "$RXE1_NETNS" rdma link add rxe1 type rxe netdev vb
	rc=$?
	{ set +x; } 2>/dev/null
	if [[ $rc != 0 ]]; then
		rxe1_skip "'rdma link add rxe1 type rxe netdev vb' in namespace $RXE1_NETNS failed (exit $rc; see rxe-setup.log)"
	elif [[ $(rdma system show 2>/dev/null) != *"netns shared"* ]]; then
		rxe1_skip "RDMA devices are not shared across network namespaces (rdma system show: $(rdma system show 2>&1)): rxe1 is invisible to the initial namespace"
	elif ! wait_ipv4_gid rxe1; then
		rxe1_skip "rxe1 has no IPv4 GID at index 1"
	else
		echo "ok: rxe1 on vb (192.0.2.2/24) in network namespace $RXE1_NETNS" >"$RXE1_STATUS"
	fi
fi
cat "$RXE1_STATUS"
exit 0
