#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn doc/api.md into section 3 man pages, or into one HTML page.

doc/api.md is written in a small subset of Markdown that this script
understands exactly: "## page(3): description" starts a man page,
"### name" a subsection (a function when name is an exported symbol),
paragraphs, "- " bullet lists, ``` code blocks, `code`, **bold** and
[text](link).  Anything else it cannot render (a table, a character with
no roff name) is an error, so a page never ships broken.  SYNOPSIS
sections come from the public headers, so they always match the code.

  mkman.py --man OUTDIR [--version V] API.md INCLUDEDIR SYMBOLS
      writes one page per "##" section and, for every exported symbol, a
      link page "NAME.3" containing ".so man3/PAGE.3"
  mkman.py --html OUT.html [--version V] API.md INCLUDEDIR SYMBOLS
      writes the whole reference as one self-contained HTML page

Only the Python standard library is used (meson already needs Python).
"""
import argparse
import html
import os
import re
import sys

PAGE_RE = re.compile(r'^## (\w+)\(3\): (.+)$')
SYM_RE = re.compile(r'^goconc_\w+$')


class Section:
    """A "##" page or a "###" subsection: a title and its blocks."""

    def __init__(self, title):
        self.title = title
        self.blocks = []   # ('p', text) | ('ul', [text]) | ('code', text)
        self.subs = []     # Sections (pages only)


def fail(msg):
    sys.exit('mkman.py: ' + msg)


def parse_blocks(lines, where):
    """Blocks of a run of lines with no headings."""
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith('```'):
            j = i + 1
            while j < len(lines) and not lines[j].startswith('```'):
                j += 1
            if j == len(lines):
                fail('%s: unterminated code block' % where)
            blocks.append(('code', '\n'.join(lines[i + 1:j])))
            i = j + 1
        elif line.startswith('- '):
            items = []
            while i < len(lines) and (lines[i].startswith('- ') or
                                      lines[i].startswith('  ')):
                if lines[i].startswith('- '):
                    items.append(lines[i][2:].strip())
                else:
                    items[-1] += ' ' + lines[i].strip()
                i += 1
            blocks.append(('ul', items))
        elif line.startswith('|') or line.startswith('#'):
            fail('%s: unsupported markup: %s' % (where, line))
        else:
            para = []
            while i < len(lines) and lines[i].strip() and \
                    not lines[i].startswith(('- ', '```', '#')):
                para.append(lines[i].strip())
                i += 1
            blocks.append(('p', ' '.join(para)))
    return blocks


def parse_api(path):
    """(intro blocks, [page Sections]) of api.md."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    intro, pages = [], []
    cur, buf = None, []

    def flush():
        target = intro if cur is None else cur.blocks
        target.extend(parse_blocks(buf, path))
        buf.clear()

    for n, line in enumerate(lines, 1):
        if line.startswith('# ') and n == 1:
            continue
        if line.startswith('## '):
            flush()
            m = PAGE_RE.match(line)
            if not m:
                fail('%s:%d: a "##" heading must read "## page(3): what"' % (path, n))
            page = Section(m.group(1))
            page.desc = m.group(2)
            pages.append(page)
            cur = page
        elif line.startswith('### '):
            flush()
            if not pages:
                fail('%s:%d: "###" before any page' % (path, n))
            cur = Section(line[4:].strip())
            pages[-1].subs.append(cur)
        else:
            buf.append(line)
    flush()
    return intro, pages


# ------------------------------------------------------------ headers

def strip_comments(text):
    return re.sub(r'/\*.*?\*/', '', text, flags=re.S)


def drop_inline_bodies(text):
    """Remove static inline function definitions (brace-matched)."""
    out, i = [], 0
    while True:
        m = re.compile(r'static inline[^;{]*\{').search(text, i)
        if not m:
            out.append(text[i:])
            return ''.join(out)
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while depth:
            depth += {'{': 1, '}': -1}.get(text[j], 0)
            j += 1
        i = j


def split_statements(text):
    """Split at the semicolons outside braces (struct bodies stay whole)."""
    stmts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
        elif ch == ';' and depth == 0:
            stmts.append(text[start:i])
            start = i + 1
    stmts.append(text[start:])
    return stmts


def wrap_prototype(flat, width=72):
    """A long one-line prototype broken after commas, aligned on '('."""
    if len(flat) <= width:
        return flat
    indent = ' ' * (flat.index('(') + 1)
    lines, cur = [], ''
    for piece in re.split(r'(?<=,) ', flat):
        if cur and len(cur) + 1 + len(piece) > width:
            lines.append(cur)
            cur = indent + piece
        else:
            cur = cur + ' ' + piece if cur else piece
    lines.append(cur)
    return '\n'.join(lines)


def header_decls(path):
    """[(kind, name, text)] of a header: functions, data, types, macros."""
    with open(path, encoding='utf-8') as f:
        text = strip_comments(f.read())
    text = drop_inline_bodies(re.sub(r'\\\n', ' ', text))
    macros = re.findall(r'^#define (GOCONC_\w+_INIT|GOCONC_VERSION_\w+)\b(.*)$', text,
                        flags=re.M)
    text = '\n'.join(l for l in text.split('\n') if not l.lstrip().startswith('#'))
    text = text.replace('extern "C" {', '')
    decls = []
    for stmt in split_statements(text):
        s = stmt.strip()
        # A leftover closing brace of extern "C" (C++ guard) comes first.
        s = re.sub(r'^\}\s*', '', s)
        if not s:
            continue
        flat = ' '.join(s.split())
        if 'GOCONC_API' in flat:
            flat = flat.replace('GOCONC_API ', '').replace(' GOCONC_WARN_UNUSED', '').replace('GOCONC_TLS_', '_Thread_local')
            flat = re.sub(r'\s*__attribute__\(\(.*\)\)', '', flat)
            m = re.search(r'(goconc_\w+)\s*\(', flat)
            if m:
                decls.append(('func', m.group(1), wrap_prototype(flat + ';')))
            else:
                name = re.findall(r'(goconc_\w+)\s*$', flat)[0]
                decls.append(('data', name, flat + ';'))
        elif flat.startswith(('typedef', 'enum', 'struct')):
            names = re.findall(r'\b(goconc_\w+|GOCONC_\w+)\b', flat)
            lines = [l.rstrip() for l in s.split('\n') if l.strip()]
            decls.append(('type', names[-1] if names else '', '\n'.join(lines) + ';'))
    for name, body in macros:
        decls.append(('macro', name, '#define %s %s' % (name, ' '.join(body.split()))))
    return decls


def module_of_header(path):
    base = os.path.basename(path)[:-2]
    return None if base == 'common' else 'goconc_' + base


def common_page(decl):
    """Page of a declaration of goconc/common.h."""
    kind, name, text = decl
    if 'reclaim' in name.lower() or 'goconc_reader' in text or 'goconc_gp_state' in text:
        return 'goconc_reclaim'
    return None  # decided by api.md (functions) or goconc(3)


def synopsis(pages, incdir):
    """{page: [declaration text]} from the public headers."""
    func_page = {}
    for p in pages:
        for sub in p.subs:
            if SYM_RE.match(sub.title):
                func_page[sub.title] = p.title
    out, seen = {p.title: [] for p in pages}, set()
    for hdr in sorted(os.listdir(os.path.join(incdir, 'goconc'))):
        path = os.path.join(incdir, 'goconc', hdr)
        mod = module_of_header(path)
        for decl in header_decls(path):
            kind, name, text = decl
            if kind in ('func', 'data'):
                if name in seen:
                    continue
                seen.add(name)
                page = func_page.get(name)
            elif mod is not None:
                page = mod
            else:
                page = common_page(decl) or 'goconc'
            if page in out:
                out[page].append(text)
    return out, func_page


# --------------------------------------------------------------- roff

ROFF_CHARS = {'\u00d7': r'\(mu', '\u2264': r'\(<=', '\u2265': r'\(>=',
              '\u2014': r'\(em', '\u2013': r'\(en', '\u2192': r'\(->'}


def roff_chars(s):
    out = []
    for ch in s:
        if ord(ch) < 128:
            out.append(ch)
        elif ch in ROFF_CHARS:
            out.append(ROFF_CHARS[ch])
        else:
            fail('no roff name for character %r' % ch)
    return ''.join(out)


def roff_inline(text):
    parts = text.split('`')
    if len(parts) % 2 == 0:
        fail('unbalanced backquote in: ' + text)
    out = []
    for k, part in enumerate(parts):
        part = part.replace('\\', r'\e')
        if k % 2:
            out.append(r'\fB' + part.replace('-', r'\-') + r'\fR')
        else:
            part = re.sub(r'\[([^\]]+)\]\([^)]+\)', r'\1', part)
            part = re.sub(r'\*\*([^*]+)\*\*', r'\\fB\1\\fR', part)
            out.append(part)
    line = roff_chars(''.join(out))
    return '\\&' + line if line.startswith(('.', "'")) else line


def roff_blocks(blocks):
    out = []
    for kind, body in blocks:
        if kind == 'p':
            out += ['.PP', roff_inline(body)]
        elif kind == 'ul':
            for item in body:
                out += [r'.IP \(bu 2', roff_inline(item)]
        else:
            out += ['.PP', '.RS 4', '.nf']
            for l in body.split('\n'):
                l = roff_chars(l.replace('\\', r'\e'))
                out.append('\\&' + l if l.startswith(('.', "'")) else l)
            out += ['.fi', '.RE']
    return out


def roff_code_lines(text):
    return [roff_chars(l.replace('\\', r'\e').replace('-', r'\-')) for l in text.split('\n')]


def man_page(page, decls, pages, func_page, version):
    names = [page.title] + [s.title for s in page.subs
                            if func_page.get(s.title) == page.title]
    out = [r'.\" Generated by doc/man/mkman.py from doc/api.md: edit that file.',
           '.TH %s 3 "" "libgoconc %s" "libgoconc Manual"' % (page.title.upper(), version),
           '.nh',
           '.SH NAME',
           r'%s \- %s' % (', '.join(names),
                          roff_inline(page.desc)),
           '.SH SYNOPSIS', '.nf', r'.B #include <goconc.h>']
    for text in decls:
        out.append('.PP')
        out += roff_code_lines(text)
    out += ['.fi', '.PP', r'Link with \fB\-lgoconc\fR (\fBpkg\-config \-\-libs goconc\fR).',
            '.SH DESCRIPTION']
    out += roff_blocks(page.blocks)
    for sub in page.subs:
        out.append('.SS ' + roff_inline(sub.title))
        out += roff_blocks(sub.blocks)
    others = sorted(p.title for p in pages if p.title != page.title)
    out += ['.SH SEE ALSO', ',\n'.join(r'\fB%s\fR(3)' % o for o in others)]
    return '\n'.join(l for l in out) + '\n'


def write_man(args, intro, pages):
    decls, func_page = synopsis(pages, args.include)
    os.makedirs(args.man, exist_ok=True)
    for page in pages:
        with open(os.path.join(args.man, page.title + '.3'), 'w') as f:
            f.write(man_page(page, decls[page.title], pages, func_page, args.version))
    for sym in read_symbols(args.symbols):
        if sym not in func_page:
            fail('%s: exported symbol %s has no "### %s" entry' % (args.api, sym, sym))
        with open(os.path.join(args.man, sym + '.3'), 'w') as f:
            f.write('.so man3/%s.3\n' % func_page[sym])


# --------------------------------------------------------------- html

def html_inline(text):
    parts = text.split('`')
    out = []
    for k, part in enumerate(parts):
        part = html.escape(part, quote=False)
        if k % 2:
            out.append('<code>%s</code>' % part)
        else:
            part = re.sub(r'\[([^\]]+)\]\(([^)]+)\)', r'<a href="\2">\1</a>', part)
            part = re.sub(r'\*\*([^*]+)\*\*', r'<strong>\1</strong>', part)
            out.append(part)
    return ''.join(out)


def html_blocks(blocks):
    out = []
    for kind, body in blocks:
        if kind == 'p':
            out.append('<p>%s</p>' % html_inline(body))
        elif kind == 'ul':
            out.append('<ul>%s</ul>' % ''.join('<li>%s</li>' % html_inline(i) for i in body))
        else:
            out.append('<pre>%s</pre>' % html.escape(body, quote=False))
    return out


def write_html(args, intro, pages):
    decls, func_page = synopsis(pages, args.include)
    title = 'libgoconc %s API reference' % args.version
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<title>%s</title>' % title,
           '<style>body{max-width:52em;margin:auto;font-family:sans-serif;line-height:1.4}'
           'pre{background:#f4f4f4;padding:.5em;overflow-x:auto}'
           'h3{font-family:monospace}</style></head><body>',
           '<h1>%s</h1>' % title]
    out += html_blocks(intro)
    out.append('<ul>%s</ul>' % ''.join('<li><a href="#%s">%s(3)</a>: %s</li>' % (
        p.title, p.title, html_inline(p.desc)) for p in pages))
    for p in pages:
        out.append('<h2 id="%s">%s(3): %s</h2>' % (p.title, p.title, html_inline(p.desc)))
        out.append('<pre>%s</pre>' % html.escape('#include <goconc.h>\n\n' +
                                                 '\n\n'.join(decls[p.title]), quote=False))
        out += html_blocks(p.blocks)
        for s in p.subs:
            anchor = s.title if SYM_RE.match(s.title) else ''
            out.append('<h3%s>%s</h3>' % (' id="%s"' % anchor if anchor else '',
                                          html_inline(s.title)))
            out += html_blocks(s.blocks)
    out.append('</body></html>')
    with open(args.html, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')


def read_symbols(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--man', metavar='OUTDIR')
    mode.add_argument('--html', metavar='OUT.html')
    ap.add_argument('--version', default='1.0.0')
    ap.add_argument('api')
    ap.add_argument('include')
    ap.add_argument('symbols')
    args = ap.parse_args()
    intro, pages = parse_api(args.api)
    if args.man:
        write_man(args, intro, pages)
    else:
        write_html(args, intro, pages)


if __name__ == '__main__':
    main()
