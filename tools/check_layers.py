#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The layer check: every #include in a layer (or client) names a header of
that layer or of a layer it declared, never another layer's internal header.

The layer map comes from the build (cmake/OdptLayer.cmake writes
<build>/odpt_layers.json): per entry its name, its directory, its public
headers, the layers it declared (deps), where its quoted and <odpt/...>
includes are looked up (include_dirs) and the system header prefixes only it
may include (owns_system: verbs owns <infiniband/...>).

An include resolves like the compiler would: quoted ones next to the file
first, then in the entry's include_dirs; angle ones in the include_dirs,
else they are system headers. A resolved header is owned by the entry that
lists it as public, else by the entry whose directory holds it (internal).
Reported, as FILE:LINE: a public header of an undeclared layer, another
layer's internal header, a header no entry owns, a system header another
layer owns. Also reported: a header under include/odpt or include/uapi that
no layer lists (a new header must be given to a layer). Headers that do not
resolve in the source tree (odpt_config.h, generated in the build) are not
checked.

With --symbols, the same rule on the built archives (each layer's "archive"
in the map): an object of a layer that needs a symbol another layer defines
must have declared that layer. This catches what includes cannot: a call
through a declaration written by hand, or a header that declares functions
of another layer (suite.h declaring odpstat's tc_odp_snapshot).

Exit 0 when clean, 1 with violations, 2 on a bad map or arguments.
"""
import argparse
import json
import os
import re
import subprocess
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_EXT = ('.c', '.h')


def load_map(path):
    with open(path, encoding='utf-8') as f:
        entries = json.load(f)['layers']
    names = set()
    for e in entries:
        if e['name'] in names:
            raise ValueError('layer %s declared twice' % e['name'])
        names.add(e['name'])
    for e in entries:
        for d in e['deps']:
            if d not in names:
                raise ValueError('%s declares unknown layer %s' % (e['name'], d))
    return entries


def sources_of(root, entry):
    """The files scanned as this entry's: its directory, its public headers."""
    files = []
    if entry['dir']:
        top = os.path.join(root, entry['dir'])
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for n in sorted(filenames):
                if n.endswith(SOURCE_EXT):
                    files.append(os.path.relpath(os.path.join(dirpath, n), root))
    files.extend(entry['headers'])
    return files


def resolve(root, entry, src, quote, name):
    """Path of the included header relative to root, or None (system/generated)."""
    candidates = []
    if quote == '"':
        candidates.append(os.path.join(os.path.dirname(src), name))
    candidates.extend(os.path.join(d, name) for d in entry['include_dirs'])
    for c in candidates:
        c = os.path.normpath(c)
        if os.path.isfile(os.path.join(root, c)):
            return c
    return None


def owner_of(entries, path):
    """(entry, public?) owning path, or (None, False)."""
    for e in entries:
        if path in e['headers']:
            return e, True
    for e in entries:
        d = e['dir']
        if d and (path + '/').startswith(d.rstrip('/') + '/'):
            return e, False
    return None, False


def check(root, entries):
    violations = []
    for e in entries:
        for src in sources_of(root, e):
            try:
                with open(os.path.join(root, src), encoding='utf-8', errors='replace') as f:
                    lines = f.readlines()
            except OSError as err:
                violations.append('%s: cannot read: %s' % (src, err.strerror))
                continue
            for lineno, line in enumerate(lines, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                quote, name = m.groups()
                shown = '"%s"' % name if quote == '"' else '<%s>' % name
                where = '%s:%d: %s %s' % (src, lineno, e['name'], 'includes ' + shown)
                path = resolve(root, e, src, quote, name)
                if path is None:
                    if quote == '<':
                        for o in entries:
                            if o is not e and any(name.startswith(p) for p in o['owns_system']):
                                violations.append('%s, which only layer %s may include'
                                                  % (where, o['name']))
                    continue
                owner, public = owner_of(entries, path)
                if owner is e:
                    continue
                if owner is None:
                    violations.append('%s (%s), a header of no layer' % (where, path))
                elif not public:
                    violations.append('%s, an internal header of layer %s'
                                      % (where, owner['name']))
                elif owner['name'] not in e['deps']:
                    violations.append('%s, a header of layer %s, which %s does not declare '
                                      '(declared: %s)' % (where, owner['name'], e['name'],
                                                          ', '.join(e['deps']) or 'none'))
    owned = {}
    for e in entries:
        for h in e['headers']:
            if h in owned:
                violations.append('%s: listed by both %s and %s' % (h, owned[h], e['name']))
            owned.setdefault(h, e['name'])
    for d in ('include/odpt', 'include/uapi'):
        top = os.path.join(root, d)
        if not os.path.isdir(top):
            continue
        for n in sorted(os.listdir(top)):
            h = d + '/' + n
            if n.endswith('.h') and h not in owned:
                violations.append('%s: belongs to no layer (list it in the HEADERS of '
                                  'one odpt_layer())' % h)
    return violations


def archive_symbols(nm, archive):
    """{object: (defined set, undefined set)} of a static library."""
    out = subprocess.run([nm, archive], check=True, capture_output=True, text=True).stdout
    objs, cur = {}, None
    for line in out.splitlines():
        if line.endswith(':') and ' ' not in line:
            cur = objs.setdefault(line[:-1], (set(), set()))
            continue
        f = line.split()
        if cur is None or len(f) < 2:
            continue
        if f[-2] == 'U':
            cur[1].add(f[-1])
        elif len(f) == 3 and f[1] in 'TDBRGSCV':
            cur[0].add(f[2])
    return objs


def check_symbols(entries, nm):
    violations = []
    layers = [e for e in entries if e.get('archive')]
    syms = {e['name']: archive_symbols(nm, e['archive']) for e in layers}
    owner = {}
    for e in layers:
        for d, _ in syms[e['name']].values():
            for n in d:
                owner.setdefault(n, e['name'])
    for e in layers:
        for obj, (_, undef) in sorted(syms[e['name']].items()):
            for n in sorted(undef):
                o = owner.get(n)
                if o and o != e['name'] and o not in e['deps']:
                    violations.append('%s/%s: %s uses %s of layer %s, which %s does not declare '
                                      '(declared: %s)' % (e['dir'], obj, e['name'], n, o,
                                                          e['name'], ', '.join(e['deps']) or 'none'))
    return violations


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--map', required=True, help='odpt_layers.json written by cmake')
    ap.add_argument('--root', required=True, help='source tree the map describes')
    ap.add_argument('--symbols', action='store_true',
                    help="also check the layers' archives (nm) for undeclared uses")
    ap.add_argument('--nm', default='nm', help='nm to read the archives with')
    args = ap.parse_args()
    try:
        entries = load_map(args.map)
    except (OSError, ValueError, KeyError) as err:
        print('check_layers: %s: %s' % (args.map, err), file=sys.stderr)
        return 2
    violations = check(args.root, entries)
    if args.symbols:
        try:
            violations += check_symbols(entries, args.nm)
        except (OSError, subprocess.CalledProcessError) as err:
            print('check_layers: nm: %s' % err, file=sys.stderr)
            return 2
    for v in violations:
        print(v)
    scanned = sum(len(sources_of(args.root, e)) for e in entries)
    print('check_layers: %d files in %d layers and clients, %d violation%s'
          % (scanned, len(entries), len(violations), '' if len(violations) == 1 else 's'))
    return 1 if violations else 0


if __name__ == '__main__':
    sys.exit(main())
