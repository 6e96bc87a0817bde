#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# .hgrm byte compatibility: odpt's output must equal HdrHistogram's own
# (the Java library, Debian package libhdrhistogram-java) for the same
# values, for several distributions and every significant-figure setting.
# Exit 77 (ctest: skipped) when java, javac or the library is missing.
# usage: hgrm_java_compat.sh HGRM_DUMP SRC_DIR WORK_DIR
set -u
dump=$1 src=$2 work=$3
jar=/usr/share/java/hdrhistogram.jar
if ! command -v java >/dev/null || ! command -v javac >/dev/null || [ ! -r "$jar" ]; then
	echo "SKIP: needs java, javac and $jar (apt-get install default-jdk-headless libhdrhistogram-java)"
	exit 77
fi
mkdir -p "$work/hgrm_java" || exit 1
javac -d "$work/hgrm_java" -cp "$jar" "$src/hgrm_java/HgrmDump.java" || exit 1
specs="lognormal:1:100000 lognormal:2:3 bimodal:3:10000 wide:4:5000 tiny:5:333 constant:6:1000 lognormal:7:1"
set --
for spec in $specs; do
	kind=${spec%%:*} rest=${spec#*:} seed=${rest%%:*} count=${rest#*:}
	vals="$work/hgrm_java/$kind-$seed.txt"
	"$dump" gen "$kind" "$seed" "$count" > "$vals" || exit 1
	for sig in 1 2 3 4 5; do
		set -- "$@" "$vals" "$sig" "$vals.$sig.java"
	done
done
java -cp "$jar:$work/hgrm_java" HgrmDump "$@" || exit 1
fail=0 n=0
for spec in $specs; do
	kind=${spec%%:*} rest=${spec#*:} seed=${rest%%:*} count=${rest#*:}
	vals="$work/hgrm_java/$kind-$seed.txt"
	for sig in 1 2 3 4 5; do
		n=$((n + 1))
		"$dump" "$vals" "$sig" > "$vals.$sig.odpt" || exit 1
		if cmp -s "$vals.$sig.java" "$vals.$sig.odpt"; then
			echo "ok $kind seed=$seed n=$count sig=$sig"
		else
			echo "FAIL $kind seed=$seed n=$count sig=$sig:"
			diff "$vals.$sig.java" "$vals.$sig.odpt" | head -10
			fail=$((fail + 1))
		fi
	done
done
echo "$((n - fail)) of $n distributions byte-identical to HdrHistogram's"
[ "$fail" -eq 0 ]
