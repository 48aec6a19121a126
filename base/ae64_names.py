#!/usr/bin/env python3
"""ae64_names.py: writes ae64_names.h, the float64 build's renames.

Scans every header (*.h) in the library's directories and the top-level
aezoo.h for declarations marked AE_API (functions and extern variables) and
writes `#define ae_X ae64_X` for each declared name. base/api.h includes
the result when AE_REAL_DOUBLE is defined, so libaezoo64 exports ae64_*
names while the source says ae_*. Also writes a depfile naming every header
scanned, so the build reruns this when one of them changes.

Usage: ae64_names.py OUT.h DEPFILE SRCROOT DIR...
       ae64_names.py --lint HEADER...   (tests/check_install.sh: every ae_
       declaration in an installed header is AE_API or AE_INTERNAL)
"""
import glob
import os
import re
import sys

IDENT = re.compile(r'[A-Za-z_]\w*')


def code_only(s):
    """s with comments, string literals and preprocessor lines blanked (newlines kept)."""
    out = list(s)
    i, n, line_start = 0, len(s), True

    def blank(a, b):
        for k in range(a, b):
            if out[k] != '\n':
                out[k] = ' '

    while i < n:
        c = s[i]
        if s.startswith('/*', i):
            j = s.find('*/', i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
            continue
        if s.startswith('//', i):
            j = s.find('\n', i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
            continue
        if c == '"' or c == "'":
            j = i + 1
            while j < n and s[j] != c:
                j += 2 if s[j] == '\\' else 1
            blank(i, min(j + 1, n))
            i = j + 1
            continue
        if c == '#' and line_start:
            j = i
            while True:
                e = s.find('\n', j)
                if e < 0:
                    e = n
                    break
                if s[e - 1] == '\\':
                    j = e + 1
                    continue
                break
            blank(i, e)
            i = e
            continue
        if c == '\n':
            line_start = True
        elif not c.isspace():
            line_start = False
        i += 1
    return ''.join(out)


def declarations(code):
    """File-scope declarations (text up to ';'), skipping function bodies and
    struct/enum bodies' contents."""
    depth, start, body_is_fn = 0, None, False
    for i, c in enumerate(code):
        if depth == 0 and start is None and not c.isspace():
            start = i
        if c == '{':
            if depth == 0 and re.search(r'\)\s*$', code[start:i]):
                body_is_fn = True
            depth += 1
        elif c == '}':
            depth -= 1
            if depth == 0 and body_is_fn:
                start, body_is_fn = None, False
        elif c == ';' and depth == 0:
            yield code[start:i]
            start = None


def declared_names(decl):
    """Names a file-scope declaration declares as functions or extern
    variables (not types, not static inline functions)."""
    d = re.sub(r'__attribute__\s*\(\(.*?\)\)', ' ', decl, flags=re.S)
    d = re.sub(r'\b(AE_API|AE_INTERNAL)\b', ' ', d).strip()
    if re.match(r'(typedef|static)\b', d):
        return []
    m = re.search(r'\(\s*\*\s*(\w+)\s*\)\s*\(', d)  # a function pointer variable
    if m:
        return [m.group(1)] if d.startswith('extern') else []
    m = re.search(r'(\w+)\s*\(', d)
    if m:
        return [m.group(1)]
    if not d.startswith('extern'):
        return []
    names = []
    for part in d.split(','):
        part = part.split('=')[0].split('[')[0]
        ids = IDENT.findall(part)
        if ids:
            names.append(ids[-1])
    return names


def scan(header):
    """(line, declaration, names) for each function / extern variable declaration."""
    with open(header) as f:
        code = code_only(f.read())
    pos = 0
    for decl in declarations(code):
        at = code.find(decl, pos)
        pos = at + len(decl)
        names = declared_names(decl)
        if names:
            yield code.count('\n', 0, at + len(decl) - len(decl.lstrip())) + 1, decl, names


def lint(headers):
    """Every ae_ declaration in an installed header says what it is: AE_API
    (exported) or AE_INTERNAL (declared here, hidden in the library)."""
    bad = []
    for h in headers:
        for line, decl, names in scan(h):
            if re.search(r'\b(AE_API|AE_INTERNAL)\b', decl):
                continue
            for name in names:
                if name.startswith('ae') and not name.startswith('ae__'):
                    bad.append(f'{h}:{line}: {name} is declared without AE_API (to export it) '
                               f'or AE_INTERNAL (to keep it inside the library)')
    return bad


def main():
    if sys.argv[1] == '--lint':
        bad = lint(sys.argv[2:])
        if bad:
            sys.exit('\n'.join(bad))
        return
    out, depfile, root, dirs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    headers = [os.path.join(root, 'aezoo.h')]
    for d in dirs:
        headers += sorted(glob.glob(os.path.join(root, d, '*.h')))
    names, errors = {}, []
    for h in headers:
        for line, decl, declared in scan(h):
            if not re.search(r'\bAE_API\b', decl):
                continue
            for name in declared:
                if not name.startswith('ae_') or name.startswith('ae__'):
                    errors.append(f'{h}:{line}: AE_API on "{name}": public names start with ae_ (not ae__)')
                names.setdefault(name, os.path.relpath(h, root))
    if errors:
        sys.exit('\n'.join(errors))
    text = ('/* ae64_names.h: generated by base/ae64_names.py from the AE_API\n'
            ' * declarations; do not edit. Included by base/api.h when\n'
            ' * AE_REAL_DOUBLE is defined: libaezoo64 exports ae64_X for each ae_X. */\n'
            '#ifndef AE64_NAMES_H\n#define AE64_NAMES_H\n')
    text += ''.join(f'#define {name} ae64_{name[3:]}\n' for name in sorted(names))
    text += '#endif\n'
    # Rewrite only when the list changed: an edit that adds no public name
    # then rebuilds nothing (meson's custom commands restat their outputs).
    old = None
    if os.path.exists(out):
        with open(out) as f:
            old = f.read()
    if text != old:
        with open(out + '.tmp', 'w') as f:
            f.write(text)
        os.replace(out + '.tmp', out)
    with open(depfile, 'w') as f:
        f.write(out.replace(' ', '\\ ') + ': ' + ' \\\n  '.join(h.replace(' ', '\\ ') for h in headers) + '\n')


if __name__ == '__main__':
    main()
