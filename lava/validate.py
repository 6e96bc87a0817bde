#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Validate LAVA files with LAVA's own schemas (Debian's lava-common).

usage: validate.py FILE...

A file with metadata.format is a test definition (lava_common's testdef
schema); any other is a job (lava_common.schemas.validate, strict: unknown
keys are errors, as the LAVA server has them). For a job's test action that
names this repository's lava/odpt-suite.yaml, every parameter it passes
must be one the definition declares. One line per file: "ok FILE (what)"
or "FILE: error"; exit 0 when all are valid, 1 when one is not, 2 when
lava-common is missing or a file cannot be read.
"""
import os
import sys

import yaml

try:
    from lava_common.schemas import validate as validate_job
    from lava_common.schemas.test.testdef import validate as validate_testdef
except ImportError:
    print("validate.py: lava-common is not installed (apt-get install lava-common)",
          file=sys.stderr)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = "lava/odpt-suite.yaml"


def suite_params():
    with open(os.path.join(HERE, "odpt-suite.yaml")) as f:
        return set((yaml.safe_load(f).get("params") or {}).keys())


def check_params(job):
    """Parameters of odpt-suite test actions must exist in its params."""
    known = suite_params()
    for action in job.get("actions") or []:
        for d in (action.get("test") or {}).get("definitions") or []:
            if d.get("path") != SUITE:
                continue
            for key in list(d.get("parameters") or {}) + list(d.get("params") or {}):
                if key not in known:
                    raise ValueError(f"test definition {d.get('name')}: parameter {key} "
                                     f"is not one of {SUITE}'s params ({', '.join(sorted(known))})")


def one(path):
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        print(f"{path}: cannot read: {str(e).splitlines()[0]}")
        return 2
    if not isinstance(data, dict):
        print(f"{path}: not a YAML mapping")
        return 1
    try:
        if "metadata" in data and "format" in (data.get("metadata") or {}):
            validate_testdef(data)
            what = "test definition"
        else:
            validate_job(data, strict=True)
            check_params(data)
            what = f"job, device type {data.get('device_type')}"
    except Exception as e:  # voluptuous.Invalid and our ValueError
        print(f"{path}: {' '.join(str(e).split())}")
        return 1
    print(f"ok {path} ({what})")
    return 0


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    return max(one(p) for p in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
