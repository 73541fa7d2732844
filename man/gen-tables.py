#!/usr/bin/env python3
"""Regenerate the tables of the man pages from the .def catalogues.

    python3 man/gen-tables.py           rewrite the generated tables in place
    python3 man/gen-tables.py --check   exit 1 (and say which page) when a table is stale

Tables (each between a BEGIN and an END marker line in the page):
  man/metron-lang.7  .\\" BEGIN GENERATED FIELDS       from compiler/Fields.def      (PACKET MODEL)
  man/metronc.1      .\\" BEGIN GENERATED DIAGNOSTICS  from lang/DiagnosticKinds.def (DIAGNOSTICS)

The .def files are read as C: FIELD(...) and DIAG(...) invocations, arguments split at
top-level commas, string literals (which may contain commas, parentheses and escapes, and may
be split into adjacent literals) decoded. Comments are skipped, except that a comment line of
the form `// --- heading ---` in DiagnosticKinds.def starts a group in the catalogue.
Standard library only. Exit status: 0 done / up to date, 1 stale (--check), 2 error.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class DefError(Exception):
    pass


# ---- reading .def files -------------------------------------------------------------------------

_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'",
            'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v', '?': '?'}


def _lex(text, path):
    """Yields (kind, value, line) tokens of C text: 'id', 'str', 'num', 'punct', 'heading'."""
    i, n, line = 0, len(text), 1
    at_line_start = True
    while i < n:
        c = text[i]
        if c == '\n':
            line += 1
            i += 1
            at_line_start = True
            continue
        if c in ' \t\r\f\v':
            i += 1
            continue
        if text.startswith('//', i):
            end = text.find('\n', i)
            end = n if end < 0 else end
            m = re.match(r'//\s*-{2,}\s*(.*?)\s*-{2,}\s*$', text[i:end])
            if at_line_start and m and m.group(1):
                yield ('heading', m.group(1), line)
            i = end
            continue
        if text.startswith('/*', i):
            end = text.find('*/', i + 2)
            if end < 0:
                raise DefError(f'{path}:{line}: unterminated comment')
            line += text.count('\n', i, end)
            i = end + 2
            continue
        at_line_start = False
        if c == '#':  # preprocessor line: skip to the end of the line
            end = text.find('\n', i)
            i = n if end < 0 else end
            continue
        if c == '"':
            j, out = i + 1, []
            while True:
                if j >= n or text[j] == '\n':
                    raise DefError(f'{path}:{line}: unterminated string literal')
                ch = text[j]
                if ch == '"':
                    break
                if ch == '\\':
                    j += 1
                    if j >= n:
                        raise DefError(f'{path}:{line}: unterminated string literal')
                    e = text[j]
                    if e == 'x':
                        m = re.match(r'[0-9a-fA-F]+', text[j + 1:])
                        if not m:
                            raise DefError(f'{path}:{line}: bad \\x escape')
                        out.append(chr(int(m.group(0), 16)))
                        j += 1 + len(m.group(0))
                        continue
                    out.append(_ESCAPES.get(e, e))
                    j += 1
                    continue
                out.append(ch)
                j += 1
            yield ('str', ''.join(out), line)
            i = j + 1
            continue
        m = re.match(r'[A-Za-z_][A-Za-z_0-9]*', text[i:])
        if m:
            yield ('id', m.group(0), line)
            i += len(m.group(0))
            continue
        m = re.match(r'[0-9][0-9A-Za-z_.]*', text[i:])
        if m:
            yield ('num', m.group(0), line)
            i += len(m.group(0))
            continue
        yield ('punct', c, line)
        i += 1


def read_def(path, macro, nargs):
    """Returns [(heading or None, [arg, ...]), ...] for every MACRO(...) in the file.

    An argument is a str for string literals (adjacent literals concatenated), else the text of
    its tokens joined by spaces (identifiers, numbers)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    toks = list(_lex(text, path))
    entries, heading, k = [], None, 0
    while k < len(toks):
        kind, val, line = toks[k]
        if kind == 'heading':
            heading = val
            k += 1
            continue
        if not (kind == 'id' and val == macro and k + 1 < len(toks) and toks[k + 1][1] == '('):
            k += 1
            continue
        k += 2
        args, cur, depth = [], [], 0
        while True:
            if k >= len(toks):
                raise DefError(f'{path}:{line}: unterminated {macro}(')
            tk, tv, _ = toks[k]
            k += 1
            if tk == 'heading':
                continue
            if tk == 'punct' and tv == ')' and depth == 0:
                args.append(cur)
                break
            if tk == 'punct' and tv == ',' and depth == 0:
                args.append(cur)
                cur = []
                continue
            if tk == 'punct' and tv == '(':
                depth += 1
            elif tk == 'punct' and tv == ')':
                depth -= 1
            cur.append((tk, tv))
        values = []
        for a in args:
            if a and all(t == 'str' for t, _ in a):
                values.append(''.join(v for _, v in a))
            elif a:
                values.append(' '.join(v for _, v in a))
            else:
                raise DefError(f'{path}:{line}: empty argument in {macro}(...)')
        if len(values) != nargs:
            raise DefError(f'{path}:{line}: {macro}(...) has {len(values)} arguments, expected {nargs}')
        entries.append((heading, values))
        heading = None
    if not entries:
        raise DefError(f'{path}: no {macro}(...) entries found')
    return entries


# ---- roff ---------------------------------------------------------------------------------------

def roff_text(s):
    """Escapes text for a roff text line (not a macro argument)."""
    s = s.replace('\\', '\\e').replace('-', '\\-')
    if s.startswith(('.', "'")):
        s = '\\&' + s
    return s


def sentence(s):
    s = s.strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s.endswith(('.', '!', '?')) else s + '.'


KIND_WORDS = {'Int': 'integer', 'IPv4': 'IPv4 address', 'Mac': 'MAC address', 'Port': 'chain port name'}


def fields_table():
    path = os.path.join(ROOT, 'compiler', 'Fields.def')
    out = []
    for _, (enum, name, bits, kind, writable, desc) in read_def(path, 'FIELD', 6):
        if kind not in KIND_WORDS:
            raise DefError(f'{path}: field {name}: unknown value kind {kind}')
        if writable not in ('true', 'false'):
            raise DefError(f'{path}: field {name}: writable is {writable!r}, not true/false')
        access = 'writable' if writable == 'true' else 'read\\-only'
        out.append('.TP')
        out.append(f'\\fB{roff_text(name)}\\fR ({KIND_WORDS[kind]}, {bits} bits, {access})')
        out.append(roff_text(sentence(desc)))
    return out


SEVERITY_WORDS = {'Error': 'error', 'Warning': 'warning'}


def diagnostics_table():
    path = os.path.join(ROOT, 'lang', 'DiagnosticKinds.def')
    out = []
    for heading, (enum, flag, severity, desc) in read_def(path, 'DIAG', 4):
        if severity not in SEVERITY_WORDS:
            raise DefError(f'{path}: kind {flag}: unknown severity {severity}')
        if heading:
            out.append('.PP')
            out.append('.I ' + roff_text(sentence(heading)).rstrip('.'))
        out.append('.TP')
        out.append(f'\\fB{roff_text(flag)}\\fR ({SEVERITY_WORDS[severity]})')
        out.append(roff_text(sentence(desc)))
    return out


PAGES = [
    ('man/metron-lang.7', 'FIELDS', fields_table),
    ('man/metronc.1', 'DIAGNOSTICS', diagnostics_table),
]


def splice(text, what, body, page):
    begin = f'.\\" BEGIN GENERATED {what}'
    end = f'.\\" END GENERATED {what}'
    lines = text.split('\n')
    try:
        b = lines.index(begin)
        e = lines.index(end, b + 1)
    except ValueError:
        raise DefError(f'{page}: missing the lines {begin!r} and {end!r}')
    return '\n'.join(lines[:b + 1] + body + lines[e:])


def main(argv):
    check = False
    for a in argv[1:]:
        if a == '--check':
            check = True
        elif a in ('-h', '--help'):
            print(__doc__.strip())
            return 0
        else:
            print(f'gen-tables.py: unknown argument {a!r}', file=sys.stderr)
            return 2
    stale = []
    try:
        for page, what, gen in PAGES:
            path = os.path.join(ROOT, page)
            with open(path, encoding='utf-8') as f:
                old = f.read()
            new = splice(old, what, gen(), page)
            if new == old:
                continue
            if check:
                stale.append(page)
                print(f'{page}: the generated {what.lower()} table is stale; '
                      f'run python3 man/gen-tables.py', file=sys.stderr)
            else:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(new)
                print(f'{page}: regenerated the {what.lower()} table')
    except (DefError, OSError) as e:
        print(f'gen-tables.py: error: {e}', file=sys.stderr)
        return 2
    return 1 if stale else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
