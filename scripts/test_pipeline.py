#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of the pipeline's parsers (run by make check:
cd scripts && python3 -m unittest)."""

import json
import os
import subprocess
import tempfile
import unittest

import cocci_run
import kunit_counts


class CocciRunTest(unittest.TestCase):
    def test_rule_header(self):
        text = ("/// doc\n// Options: --no-includes --include-headers\n"
                "// Requires: 1.0.7\nvirtual patch\nvirtual report\n")
        opts, req, report = cocci_run.rule_header(text)
        self.assertEqual(opts, ["--no-includes", "--include-headers"])
        self.assertEqual(req, (1, 0, 7))
        self.assertTrue(report)

    def test_rule_header_without_report_or_options(self):
        opts, req, report = cocci_run.rule_header("virtual patch\n@@\n@@\n")
        self.assertEqual((opts, req, report), ([], None, False))

    def test_version_order(self):
        self.assertLess(cocci_run.version_tuple("1.0.7"), cocci_run.version_tuple("1.1.1"))
        self.assertEqual(cocci_run.version_tuple("1.1.1-rc2"), (1, 1))

    def test_split_reports(self):
        out = "\n".join([
            "1 files match",
            "/in/ab12/drivers/iommu/iommu.c:10:5-12: WARNING opportunity for kmemdup",
            "/in/cd34/drivers/pci/pci.c:3:1-2: ERROR: something",
            "/elsewhere/x.c:1:1-2: WARNING: not ours",
            "/in/ab12/drivers/iommu/iommu.h:1:1-2: WARNING: a header",
        ])
        self.assertEqual(cocci_run.split_reports(out, "/in"), [
            ("ab12", "drivers/iommu/iommu.c:10:5-12: WARNING opportunity for kmemdup"),
            ("cd34", "drivers/pci/pci.c:3:1-2: ERROR: something"),
        ])

    def test_failing_rule_is_named_and_fails(self):
        with tempfile.TemporaryDirectory() as d:
            rules = os.path.join(d, "tree", "scripts", "coccinelle", "misc")
            os.makedirs(rules)
            for name in ("a.cocci", "b.cocci"):
                with open(os.path.join(rules, name), "w") as f:
                    f.write("virtual report\n")
            os.makedirs(os.path.join(d, "in", "v1", "x"))
            with open(os.path.join(d, "in", "v1", "x", "f.c"), "w") as f:
                f.write("int x;\n")
            spatch = os.path.join(d, "spatch")
            with open(spatch, "w") as f:
                f.write('#!/bin/sh\n[ "$1" = --version ] && { echo "spatch version 1.1.1"; exit 0; }\n'
                        'case "$*" in *b.cocci*) exit 5 ;; esac\n'
                        'echo "%s/in/v1/x/f.c:1:1-2: WARNING: found"\n' % d)
            os.chmod(spatch, 0o755)
            rc = cocci_run.main(["--tree", os.path.join(d, "tree"), "--inputs", os.path.join(d, "in"),
                                 "--out", os.path.join(d, "out"), "--spatch", spatch])
            self.assertEqual(rc, 1)
            with open(os.path.join(d, "out", "status")) as f:
                status = f.read()
            self.assertIn("rules=1\n", status)
            self.assertIn("failed=misc/b.cocci (spatch exit 5", status)
            with open(os.path.join(d, "out", "v1.txt")) as f:
                self.assertEqual(f.read(), "x/f.c:1:1-2: WARNING: found\n")


class KunitCountsTest(unittest.TestCase):
    def test_counts_by_status(self):
        top = {"name": "", "sub_groups": [
            {"name": "suite", "test_cases": [
                {"name": "a", "status": "PASS"}, {"name": "b", "status": "FAIL"},
                {"name": "c", "status": "SKIP"}, {"name": "d", "status": "ERROR"}],
             "sub_groups": [{"name": "inner", "test_cases": [{"name": "e", "status": "PASS"}]}]}],
            "misc": {"errors": 2}}
        counts, bad = kunit_counts.count(top)
        self.assertEqual(counts, {"passed": 2, "failed": 1, "crashed": 1, "skipped": 1, "errors": 2})
        self.assertEqual(bad, ["suite.b: FAIL", "suite.d: ERROR"])

    def test_unknown_status_is_a_failure(self):
        counts, _ = kunit_counts.count({"test_cases": [{"name": "x", "status": "TIMEOUT"}]})
        self.assertEqual(counts["failed"], 1)


class ShellHelpersTest(unittest.TestCase):
    """The awk parsers of lib.sh, through bash."""

    def lib(self, script):
        here = os.path.dirname(os.path.abspath(__file__))
        return subprocess.run(["bash", "-c", ". %s/lib.sh; %s" % (here, script)],
                              capture_output=True, text=True, check=True,
                              env=dict(os.environ, PROG="test")).stdout

    def test_cover_description(self):
        with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False) as f:
            f.write("From 0 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\n"
                    "Subject: [PATCH v3 0/2] iommu: A long subject that git\n folded\n"
                    "To: X <x@y>,\n Y <y@z>\n\nBody line.\n\nMore.\n\nA (2):\n  p1\n")
        try:
            out = self.lib("cover_description %s" % f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(out, "iommu: A long subject that git folded\n\nBody line.\n\nMore.\n")

    def test_subject_prefix(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("Subject: [PATCH v3 0/2] x\n")
        try:
            self.assertEqual(self.lib("subject_prefix %s" % f.name), "PATCH v3\n")
        finally:
            os.unlink(f.name)

    def test_kunit_status(self):
        def st(*args):
            return self.lib("kunit_status %s" % " ".join(map(str, args))).strip()
        self.assertEqual(st("ok", 0, 0, 10, 0, 0, 1), "ok")
        # Results lost on the console: kunit.py parse errors fail the run
        self.assertEqual(st("ok", 0, 0, 10, 1, 0, 1), "ktap-errors")
        self.assertEqual(st("ok", 1, 0, 10, 1, 0, 1), "tests-failed")
        self.assertEqual(st("ok", 0, 1, 10, 0, 0, 1), "tests-failed")
        self.assertEqual(st("ok", 0, 0, 0, 1, 0, 1), "no-tests")
        # A tree before the suites: kunit.py says "0 tests run" (an error)
        self.assertEqual(st("ok", 0, 0, 0, 1, 0, 0), "ok")
        self.assertEqual(st("ok", 0, 0, 10, 0, 3, 1), "splats")
        self.assertEqual(st("timeout", 0, 0, 0, 0, 0, 1), "timeout")

    def test_kunit_counts_wrapper(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"test_cases": [{"name": "a", "status": "PASS"}]}, f)
        try:
            out = self.lib("kunit_counts %s" % f.name)
        finally:
            os.unlink(f.name)
        self.assertIn("passed=1\n", out)


if __name__ == "__main__":
    unittest.main()
