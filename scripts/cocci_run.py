#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run every report-mode semantic patch of a kernel tree on a set of files.

scripts/coccicheck runs one spatch per rule and per file (C=2) and stops
at the first rule that fails, which a caller cannot tell from a clean
result.  This runs each rule once over all the files given (spatch --dir
over a directory of copies), with the options coccicheck would use, and
says which rules ran and which failed:

  cocci_run.py --tree SRC --inputs DIR --out DIR [--spatch SPATCH]

DIR (inputs) holds one subdirectory per file version, ID/PATH.c.  For each
ID, OUT/ID.txt gets the reports about that file, as "PATH:LINE:COL: text",
sorted.  OUT/status gets "rules=N", "skipped=RULE (reason)" and
"failed=RULE (status)" lines.  The exit status is 1 when a rule failed (or
nothing ran), 2 on bad arguments.
"""

import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys

REPORT_RE = re.compile(r"^(?P<path>[^:\s]+\.c):(?P<rest>\d+:.*)$")


def version_tuple(text):
    """'1.1.1' -> (1, 1, 1); non-numbers end the tuple."""
    out = []
    for part in text.strip().split("."):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)


def rule_header(text):
    """The coccicheck metadata of a semantic patch: its Options (list),
    Requires (version tuple or None) and whether it has a report mode."""
    opts = []
    req = None
    m = re.search(r"^.*Options:(.*)$", text, re.M)
    if m:
        opts = shlex.split(m.group(1))
    m = re.search(r"^.*Requires:(.*)$", text, re.M)
    if m:
        req = version_tuple(m.group(1).replace(" ", ""))
    report = re.search(r"virtual\s+report", text) is not None
    return opts, req, report


def spatch_version(spatch):
    out = subprocess.run([spatch, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"spatch version (\S+)", out)
    return m.group(1) if m else ""


def split_reports(output, inputs_dir):
    """Map spatch report lines to (ID, 'PATH:LINE...') pairs; lines about
    files outside inputs_dir are dropped."""
    prefix = os.path.abspath(inputs_dir) + "/"
    res = []
    for line in output.splitlines():
        if line.startswith(prefix):
            line = line[len(prefix):]
        elif line.startswith(inputs_dir.rstrip("/") + "/"):
            line = line[len(inputs_dir.rstrip("/")) + 1:]
        else:
            continue
        vid, _, rest = line.partition("/")
        if REPORT_RE.match(rest):
            res.append((vid, rest))
    return res


def rules_of(tree):
    base = os.path.join(tree, "scripts", "coccinelle")
    found = []
    for root, _, files in os.walk(base):
        for f in files:
            if f.endswith(".cocci"):
                found.append(os.path.join(root, f))
    return sorted(found)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", required=True, help="kernel tree: rules and include dirs")
    ap.add_argument("--inputs", required=True, help="directory of ID/PATH.c copies")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--spatch", default=os.environ.get("SPATCH", "spatch"))
    ap.add_argument("--timeout", type=int, default=900, help="seconds per rule")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="rules run at the same time (default: the number of cores)")
    args = ap.parse_args(argv)

    tree = os.path.abspath(args.tree)
    inputs = os.path.abspath(args.inputs)
    ids = sorted(d for d in os.listdir(inputs) if os.path.isdir(os.path.join(inputs, d)))
    os.makedirs(args.out, exist_ok=True)
    includes = []
    for d in ("arch/x86/include", "arch/x86/include/uapi", "include", "include/uapi"):
        includes += ["-I", os.path.join(tree, d)]
    includes += ["--include", os.path.join(tree, "include/linux/kconfig.h")]
    have = version_tuple(spatch_version(args.spatch))
    reports = {vid: [] for vid in ids}
    ran, skipped, failed = [], [], []
    rules = rules_of(tree)
    todo = []
    for rule in rules:
        name = os.path.relpath(rule, os.path.join(tree, "scripts", "coccinelle"))
        with open(rule, encoding="utf-8", errors="replace") as f:
            opts, req, report = rule_header(f.read())
        if not report:
            skipped.append("%s (no report mode)" % name)
            continue
        if req and have < req:
            failed.append("%s (needs spatch %s, have %s)" % (name, ".".join(map(str, req)),
                                                            ".".join(map(str, have))))
            continue
        todo.append((name, [args.spatch, "-D", "report", "--no-show-diff", "--very-quiet",
                            "--cocci-file", rule] + opts + includes + ["--dir", inputs]))

    def run(item):
        name, cmd = item
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout,
                               check=False, cwd=inputs)
        except subprocess.TimeoutExpired:
            return name, None, "timed out after %d s" % args.timeout
        if p.returncode != 0:
            err = (p.stderr.strip().splitlines() or ["no message"])[-1]
            return name, None, "spatch exit %d: %s" % (p.returncode, err)
        return name, p.stdout, None

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, out, err in pool.map(run, todo):
            if err:
                failed.append("%s (%s)" % (name, err))
                continue
            ran.append(name)
            for vid, line in split_reports(out, inputs):
                if vid in reports:
                    reports[vid].append(line)
    for vid, lines in reports.items():
        with open(os.path.join(args.out, vid + ".txt"), "w", encoding="utf-8") as f:
            f.writelines(l + "\n" for l in sorted(lines))
    with open(os.path.join(args.out, "status"), "w", encoding="utf-8") as f:
        f.write("rules=%d\n" % len(ran))
        f.writelines("skipped=%s\n" % s for s in skipped)
        f.writelines("failed=%s\n" % s for s in failed)
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
