#!/usr/bin/env python3
"""Every relative link and in-page anchor of the given Markdown files must
resolve: a link to a file names one that exists (relative to the linking
file), and an anchor names a heading of its file by GitHub's rule (lower
case, punctuation but '-' and '_' dropped, spaces to '-', a repeated
heading numbered -1, -2, ...). Links in code are not links. Prints one line
per broken link and exits 1; 2 on a file it cannot read.
    tests/tools/links.py FILE.md...
"""
import os
import re
import sys

LINK = re.compile(r'(?<!!)\[[^\]]*\]\(([^()\s]+)\)')


def slug(heading):
    h = heading.strip().lower()
    h = re.sub(r'[^a-z0-9 _-]', '', h)
    return h.replace(' ', '-')


def prose_lines(text):
    """The lines outside fenced code, with inline code spans removed."""
    fenced = False
    for number, line in enumerate(text.split('\n'), 1):
        if line.lstrip().startswith('```'):
            fenced = not fenced
            continue
        if not fenced:
            yield number, re.sub(r'`[^`]*`', '', line)


def headings_with_code(path):
    """Headings keep their code spans' text for the anchor: re-read raw."""
    seen, found = {}, set()
    fenced = False
    with open(path, encoding='utf-8') as f:
        for line in f.read().split('\n'):
            if line.lstrip().startswith('```'):
                fenced = not fenced
                continue
            m = None if fenced else re.match(r'^(#{1,6}) (.*)$', line)
            if not m:
                continue
            base = slug(m.group(2).rstrip('#').strip())
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else '%s-%d' % (base, n))
    return found


def main(files):
    bad = 0
    for path in files:
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            print('links: cannot read %s: %s' % (path, e))
            return 2
        for number, line in prose_lines(text):
            for target in LINK.findall(line):
                if re.match(r'^[a-z]+:', target):
                    continue  # http:, https:, mailto:
                file_part, _, anchor = target.partition('#')
                dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
                if not os.path.exists(dest):
                    print('links: %s:%d: %s: no such file %s' % (path, number, target, dest))
                    bad = 1
                    continue
                if anchor and dest.endswith('.md') and anchor not in headings_with_code(dest):
                    print('links: %s:%d: %s: no heading #%s in %s' % (path, number, target, anchor, dest))
                    bad = 1
    return bad


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
