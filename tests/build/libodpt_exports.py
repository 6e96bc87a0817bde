#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""libodpt.so exports exactly its public API: the set of names declared
with ODPT_API in include/odpt/*.h, the set in the version script
(src/lib/libodpt.map) and the library's defined dynamic symbols
(nm -D --defined-only, version nodes left out) must be one set, all
odpt_-prefixed. Prints the differences and exits 1 when they disagree.

usage: libodpt_exports.py LIBRARY INCLUDE_DIR MAP [NM]
"""
import glob
import os
import re
import subprocess
import sys


def api_names(include_dir):
    names = set()
    for h in sorted(glob.glob(os.path.join(include_dir, '*.h'))):
        with open(h, encoding='utf-8') as f:
            text = f.read()
        # The declared name is the last identifier before '(' (function),
        # '[' (array) or ';' (object).
        for m in re.finditer(r'^ODPT_API\b(.*?)[;(\[]', text, re.M | re.S):
            names.add(re.findall(r'\w+', m.group(1))[-1])
    return names


def map_names(path):
    with open(path, encoding='utf-8') as f:
        text = re.sub(r'/\*.*?\*/', '', f.read(), flags=re.S)
    names = set()
    for block in re.findall(r'global:(.*?)(?:local:|})', text, re.S):
        names.update(n.strip() for n in block.split(';') if n.strip())
    return names


def lib_names(lib, nm):
    out = subprocess.run([nm, '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] != 'A':   # 'A': the version node itself
            names.add(f[2].split('@')[0])
    return names


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    lib, include_dir, mapfile = sys.argv[1:4]
    nm = sys.argv[4] if len(sys.argv) == 5 else 'nm'
    api, ver, got = api_names(include_dir), map_names(mapfile), lib_names(lib, nm)
    bad = 0
    for what, a, b in (('declared ODPT_API but not exported', api, got),
                       ('exported but not declared ODPT_API', got, api),
                       ('declared ODPT_API but not in the map', api, ver),
                       ('in the map but not declared ODPT_API', ver, api)):
        for n in sorted(a - b):
            print('%s: %s' % (n, what))
            bad += 1
    for n in sorted(got):
        if not n.startswith('odpt_'):
            print('%s: exported without the odpt_ prefix' % n)
            bad += 1
    print('libodpt_exports: %d exported, %d declared ODPT_API, %d in the map, %d problems'
          % (len(got), len(api), len(ver), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
