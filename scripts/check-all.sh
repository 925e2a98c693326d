#!/usr/bin/env bash
# check-all.sh [BASE...]: the whole test run of 'make check'.
#   - shellcheck of every script (one item per file)
#   - for each base: fetch it if needed, then check.sh (per-patch checks,
#     copies, KUnit cases in each configuration)
# Ends with a summary and the line "N passed, N failed" counting every item;
# exits non-zero when anything failed.  Without bases (no patches/*/series
# yet) only the scripts are checked.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bases=("$@")
pass=0
fail=0
lines=()
t0=$(now)

# Lint the scripts.
while IFS= read -r f; do
	if out=$(cd "$REPO" && shellcheck "$f" 2>&1); then
		printf 'PASS shellcheck %s\n' "$f"
		pass=$((pass + 1))
	else
		printf 'FAIL shellcheck %s\n' "$f"
		printf '%s\n' "$out" | sed 's/^/      /' | head -n 40
		fail=$((fail + 1))
	fi
done < <(cd "$REPO" && { ls scripts/*.sh; echo .ci/run; })
lines+=("shellcheck: $pass passed, $fail failed")

if ((${#bases[@]} == 0)); then
	info "no patches/<base>/series in $REPO: no series to check (only the scripts were checked)"
fi
for b in "${bases[@]}"; do
	export BASE=$b
	s=$CACHE/$b/results/check-summary.txt
	rm -f "$s"
	if ! "$REPO/scripts/fetch-base.sh"; then
		printf 'FAIL [%s] fetch\n' "$b"
		fail=$((fail + 1))
		lines+=("$b: fetching the base failed")
		continue
	fi
	rc=0
	"$REPO/scripts/check.sh" || rc=$?
	if [[ -f $s ]]; then
		p=$(result_get "$s" passed)
		f=$(result_get "$s" failed)
		pass=$((pass + p))
		fail=$((fail + f))
		lines+=("$b: $(result_get "$s" version), $(result_get "$s" applied)/$(result_get "$s" patches) patches applied, $p passed, $f failed (KUnit cases: $(result_get "$s" kunit_passed) passed, $(result_get "$s" kunit_failed) failed), $(result_get "$s" seconds) s")
	else
		printf 'FAIL [%s] check.sh stopped (status %d) before writing its summary\n' "$b" "$rc"
		fail=$((fail + 1))
		lines+=("$b: check.sh stopped with status $rc")
	fi
done

printf '\n== summary (%d s)\n' "$(($(now) - t0))"
printf '  %s\n' "${lines[@]}"
printf '%d passed, %d failed\n' "$pass" "$fail"
((fail == 0))
exit
}
