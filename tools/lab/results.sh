# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The totals the lab prints last: read from totals.txt (written by
# summarize.py from every TAP file, the ctest JUnit file and the lab's own
# checks). When summarizing was impossible (a fatal error before the image
# existed) the host unit tests are counted here and the fatal error counts
# as one failure, so the last line never claims success it did not see.

lab_print_totals() {
	local t=${LAB_RES:-/nonexistent}/totals.txt
	local pass fail skip xfail xpass
	if [[ ${1:-} == fatal || ! -s $t ]]; then
		lab_fallback_totals
		t=$LAB_RES/totals.txt
	fi
	pass=$(sed -n 's/^pass=//p' "$t"); fail=$(sed -n 's/^fail=//p' "$t")
	skip=$(sed -n 's/^skip=//p' "$t"); xfail=$(sed -n 's/^xfail=//p' "$t")
	xpass=$(sed -n 's/^xpass=//p' "$t")
	printf '# Totals: pass:%d fail:%d xfail:%d xpass:%d skip:%d error:0\n' \
		"$pass" "$fail" "$xfail" "$xpass" "$skip"
	if ((xfail > 0)); then
		echo "# XFAIL (known kernel or driver bugs, counted as passed; one line per bug, details in report.md):"
		sed -n 's/^xfail_bug=/#   /p' "$t"
	fi
	if ((fail + xpass > 0)); then
		echo "# FAILED:"
		sed -n 's/^fail_test=/#   /p' "$t"
	fi
	printf '%d passed, %d failed, %d skipped\n' $((pass + xfail)) $((fail + xpass)) "$skip"
	if [[ ${LAB_RES_IS_TEMP:-0} == 1 ]]; then
		rm -rf "$LAB_RES"
	fi
}

lab_totals_failed() {
	local t=$LAB_RES/totals.txt
	[[ -s $t ]] || { echo 1; return; }
	echo $(($(sed -n 's/^fail=//p' "$t") + $(sed -n 's/^xpass=//p' "$t")))
}

lab_fallback_totals() {
	local j=${LAB_RES:-/nonexistent}/host/ctest.junit.xml tests=0 failures=0 skipped=0
	if [[ -s $j ]]; then
		tests=$(grep -c '<testcase' "$j")
		failures=$(grep -cE '<failure|<error' "$j")
		skipped=$(grep -c '<skipped' "$j")
	fi
	if [[ -z ${LAB_RES:-} ]]; then
		LAB_RES=$(mktemp -d)
		LAB_RES_IS_TEMP=1
	fi
	{
		echo "pass=$((tests - failures - skipped))"
		echo "fail=$((failures + 1))"
		echo "skip=$skipped"
		echo "xfail=0"
		echo "xpass=0"
		echo "fail_test=odpt-lab: stopped early in stage '${LAB_STAGE:-start}' (see the error above)"
	} >"$LAB_RES/totals.txt"
}
