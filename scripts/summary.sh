#!/usr/bin/env bash
# summary.sh [CONFIG...]: short summary of the work tree of BASE and of its
# last KUnit runs (default: uml).
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
base_init
configs=("$@")
((${#configs[@]})) || configs=(uml)
printf '== %s: Debian %s %s\n' "$BASE" "$BASE_PACKAGE" "$(base_version)"
if [[ -d $WORK ]] && git -C "$WORK" rev-parse -q --verify "$BASE_TAG" >/dev/null 2>&1; then
	printf '   work tree %s: %s, %d patches on the base\n' "$WORK" \
		"$(git -C "$WORK" symbolic-ref -q --short HEAD || echo detached)" \
		"$(git -C "$WORK" rev-list --count "$BASE_TAG..HEAD")"
else
	printf '   no work tree yet (%s)\n' "$WORK"
fi
for c in "${configs[@]}"; do
	r=$RESULTS/$c.txt
	if [[ -f $r ]]; then
		printf '   KUnit %s: %s passed, %s failed, %s crashed, %s skipped, %s splat lines: %s (%s s)\n' "$c" \
			"$(result_get "$r" passed)" "$(result_get "$r" failed)" "$(result_get "$r" crashed)" \
			"$(result_get "$r" skipped)" "$(result_get "$r" splats)" "$(result_get "$r" status)" "$(result_get "$r" seconds)"
	else
		printf '   KUnit %s: no result yet\n' "$c"
	fi
done
exit
}
