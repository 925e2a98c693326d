#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Counts of a kunit.py --json result, as shell assignments.

  kunit_counts.py JSON

prints passed= failed= crashed= skipped= errors= lines, and the names of
the cases that did not pass on stderr.  The counts are made from the status
of each case (PASS, SKIP, ERROR for a crash, FAIL otherwise), which the
JSON of every kunit.py has; only newer ones add totals.
"""

import json
import sys

KEYS = {"PASS": "passed", "SKIP": "skipped", "ERROR": "crashed"}


def walk(group, path, counts, bad):
    for case in group.get("test_cases", []):
        status = case.get("status")
        counts[KEYS.get(status, "failed")] += 1
        if status not in ("PASS", "SKIP"):
            bad.append("%s.%s: %s" % (path, case.get("name"), status))
    for sub in group.get("sub_groups", []):
        name = sub.get("name", "?")
        walk(sub, name if not path else path + "." + name, counts, bad)


def count(top):
    """(counts dict, list of cases that did not pass) of a parsed JSON."""
    counts = dict.fromkeys(("passed", "failed", "crashed", "skipped", "errors"), 0)
    bad = []
    walk(top, "", counts, bad)
    counts["errors"] = int(top.get("misc", {}).get("errors", 0))
    return counts, bad


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        counts, bad = count(json.load(f))
    for key, n in counts.items():
        print("%s=%d" % (key, n))
    for line in bad:
        print("  not passed: " + line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
