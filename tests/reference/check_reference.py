#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The reference lives in the repository: fail when an exported symbol is
not documented everywhere a reader looks for it.

For every symbol of abi/goconc.symbols this checks that
  - doc/api.md has a "### symbol" entry;
  - the man pages generated from it (doc/man/mkman.py) name the symbol in
    a page's NAME and SYNOPSIS, and "man symbol" reaches that page through
    a ".so" link page;
  - its declaration in include/goconc/ sits right below a /** comment
    (data symbols: are named in a comment of their header);
  - the statuses that comment lists after @return are exactly those that
    doc/api.md lists after "Returns:", and a function returning int lists
    some in both.
Every generated page must also format without a warning (groff -ww), when
groff is installed, and the HTML reference must build.  --selftest first
checks that the checker notices a missing entry and a status mismatch.

Usage: check_reference.py SOURCE_ROOT [--selftest]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Functions returning an int that is not a status (once_done: 1 or 0).
NOT_STATUS = {'goconc_once_done'}

STATUS_RE = re.compile(r'\bGOCONC_(OK|NOTFOUND|EXISTS|CHANGED|STOPPED|ENOMEM|'
                       r'EBUSY|EINVAL|ERANGE|EDEADLK|EOVERFLOW)\b')


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def api_entries(api_text):
    """{heading: body} of every "###" section of api.md."""
    entries, cur = {}, None
    for line in api_text.split('\n'):
        if line.startswith('#'):
            cur = line[4:].strip() if line.startswith('### ') else None
            if cur is not None:
                entries.setdefault(cur, [])
                entries[cur].append('')
        elif cur is not None:
            entries[cur][-1] += line + '\n'
    return entries


def api_statuses(body):
    """Statuses of the "Returns:" paragraph of an api.md entry, or None."""
    m = re.search(r'^Returns:(.*?)(?:\n\n|\Z)', body, flags=re.S | re.M)
    return None if m is None else set(STATUS_RE.findall(m.group(1)))


def header_doc(headers, sym):
    """(declaration, its doc comment or None) of sym in the headers."""
    for path, text in headers.items():
        lines = text.split('\n')
        for i, line in enumerate(lines):
            if 'GOCONC_API' not in line or not re.search(r'\b%s\b' % sym, line):
                continue
            if not re.search(r'\b%s\s*\(' % sym, line):
                # Data symbol: named in some comment of its header.
                named = any(sym in c for c in re.findall(r'/\*.*?\*/', text, flags=re.S))
                return line.strip(), ('(named in a comment)' if named else None)
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            if j < 0 or not lines[j].rstrip().endswith('*/'):
                return line.strip(), None
            k = j
            while k >= 0 and '/*' not in lines[k]:
                k -= 1
            if k < 0 or '/**' not in lines[k]:
                return line.strip(), None
            return line.strip(), '\n'.join(lines[k:j + 1])
    return None, None


def header_statuses(comment):
    m = re.search(r'@return(.*)', comment, flags=re.S)
    return None if m is None else set(STATUS_RE.findall(m.group(1)))


def check(root, api_path, workdir):
    """A list of problems (empty: all documented)."""
    problems = []
    syms = [s.strip() for s in read(os.path.join(root, 'abi', 'goconc.symbols')).split('\n')
            if s.strip()]
    if len(syms) < 60:
        problems.append('abi/goconc.symbols lists only %d symbols' % len(syms))
    api = read(api_path)
    entries = api_entries(api)
    incdir = os.path.join(root, 'include')
    headers = {p: read(p) for p in
               [os.path.join(incdir, 'goconc', h) for h in sorted(os.listdir(
                   os.path.join(incdir, 'goconc')))]}

    mandir = os.path.join(workdir, 'man3')
    shutil.rmtree(mandir, ignore_errors=True)
    gen = subprocess.run([sys.executable, os.path.join(root, 'doc', 'man', 'mkman.py'),
                          '--man', mandir, api_path, incdir,
                          os.path.join(root, 'abi', 'goconc.symbols')],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        problems.append('mkman.py --man failed: ' + gen.stderr.strip())

    for sym in syms:
        body = entries.get(sym)
        if body is None:
            problems.append('%s: no "### %s" entry in doc/api.md' % (sym, sym))
        elif len(body) > 1:
            problems.append('%s: %d entries in doc/api.md' % (sym, len(body)))
        link = os.path.join(mandir, sym + '.3')
        if gen.returncode == 0:
            problems += check_man(sym, link, mandir)
        decl, comment = header_doc(headers, sym)
        if decl is None:
            problems.append('%s: no GOCONC_API declaration in include/goconc/' % sym)
            continue
        if comment is None:
            problems.append('%s: no /** comment above its declaration' % sym)
            continue
        if body is None or comment.startswith('('):
            continue
        h, a = header_statuses(comment), api_statuses(body[0])
        returns_int = (re.match(r'\s*GOCONC_API\s+int\b', decl) is not None and
                       sym not in NOT_STATUS)
        if returns_int and not h:
            problems.append('%s: returns int but its header comment has no @return '
                            'statuses' % sym)
        if returns_int and not a:
            problems.append('%s: returns int but doc/api.md has no "Returns:" statuses' % sym)
        if h and a is not None and h != a:
            problems.append('%s: statuses differ: header %s, doc/api.md %s' % (
                sym, sorted(h), sorted(a)))
    if gen.returncode == 0:
        problems += lint_pages(mandir)
    out = subprocess.run([sys.executable, os.path.join(root, 'doc', 'man', 'mkman.py'),
                          '--html', os.path.join(workdir, 'api.html'), api_path, incdir,
                          os.path.join(root, 'abi', 'goconc.symbols')],
                         capture_output=True, text=True)
    if out.returncode != 0:
        problems.append('mkman.py --html failed: ' + out.stderr.strip())
    return problems


def check_man(sym, link, mandir):
    if not os.path.exists(link):
        return ['%s: no man page %s' % (sym, os.path.basename(link))]
    m = re.match(r'\.so man3/(\w+)\.3\n\Z', read(link))
    if not m:
        return ['%s: %s is not a ".so man3/PAGE.3" link' % (sym, os.path.basename(link))]
    page = os.path.join(mandir, m.group(1) + '.3')
    if not os.path.exists(page):
        return ['%s: its link points to a missing page %s' % (sym, m.group(1))]
    text = read(page)
    name = re.search(r'^\.SH NAME\n(.*?)\n\.SH', text, flags=re.S | re.M)
    synopsis = re.search(r'^\.SH SYNOPSIS\n(.*?)\n\.SH', text, flags=re.S | re.M)
    problems = []
    if not name or not re.search(r'\b%s\b' % sym, name.group(1)):
        problems.append('%s: not in the NAME of %s(3)' % (sym, m.group(1)))
    if not synopsis or not re.search(r'\b%s\b' % sym, synopsis.group(1)):
        problems.append('%s: not in the SYNOPSIS of %s(3)' % (sym, m.group(1)))
    return problems


def lint_pages(mandir):
    groff = shutil.which('groff')
    if groff is None:
        print('groff not installed: man pages not linted')
        return []
    problems = []
    for page in sorted(os.listdir(mandir)):
        path = os.path.join(mandir, page)
        if read(path).startswith('.so '):
            continue
        r = subprocess.run([groff, '-ww', '-man', '-z', path], capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            problems.append('%s: groff -ww -man: %s' % (page, r.stderr.strip() or r.returncode))
    return problems


def selftest(root, workdir):
    """The checker must see a missing entry and a status mismatch."""
    api = read(os.path.join(root, 'doc', 'api.md'))
    cut = re.sub(r'### goconc_map_delete\n.*?(?=\n### )', '', api, flags=re.S)
    bad = api.replace('Returns: `GOCONC_OK`; `GOCONC_EINVAL` for a NULL `s` or `out`;\n'
                      '`GOCONC_ENOMEM`.', 'Returns: `GOCONC_OK`; `GOCONC_ENOMEM`.')
    ok = True
    for label, text, want in (('missing entry', cut, 'goconc_map_delete: no "###'),
                              ('status mismatch', bad, 'goconc_slice_clone: statuses differ')):
        if text == api:
            print('selftest: could not build the %s case' % label)
            return False
        path = os.path.join(workdir, 'api-%s.md' % label.replace(' ', '-'))
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        found = check(root, path, os.path.join(workdir, label.replace(' ', '-')))
        if not any(want in p for p in found):
            print('selftest: the %s went unnoticed' % label)
            ok = False
    return ok


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        if '--selftest' in sys.argv[2:] and not selftest(root, work):
            return 1
        problems = check(root, os.path.join(root, 'doc', 'api.md'), work)
    for p in problems:
        print('FAIL ' + p)
    if problems:
        print('%d problem(s)' % len(problems))
        return 1
    print('every exported symbol is documented in its header, doc/api.md and a man page')
    return 0


if __name__ == '__main__':
    sys.exit(main())
