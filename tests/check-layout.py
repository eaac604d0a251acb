#!/usr/bin/env python3
"""Checks the layout of src/libswitchback (see src/libswitchback/README.md).

Usage: check-layout.py LIBDIR

Fails (exit 1, one line per violation naming the file) when:
  - a file includes a libswitchback header from a folder its own folder may not use
    (the order is core < net < state < install < ostree < uptane);
  - a file includes a libswitchback header without its folder ("sb-x.h" for "core/sb-x.h");
  - a file in core/ includes a system header for I/O, or calls I/O, the clock or curl;
  - the #include graph of libswitchback's files has a cycle.
"""
import os
import re
import sys

MAY_USE = {
    'core': {'core'},
    'net': {'core', 'net'},
    'state': {'core', 'net', 'state'},
    'install': {'core', 'state', 'net', 'install'},
    'ostree': {'core', 'state', 'net', 'install', 'ostree'},
    'uptane': {'core', 'state', 'net', 'install', 'ostree', 'uptane'},
}
CORE_BANNED_HEADERS = {'stdio.h', 'fcntl.h', 'unistd.h', 'dirent.h', 'sys/stat.h', 'sys/file.h',
                       'time.h', 'sys/time.h', 'curl/curl.h', 'gio/gio.h', 'glib/gstdio.h'}
CORE_BANNED_CALLS = re.compile(
    r'\b(open|openat|fopen|fdopen|read|pread|write|pwrite|close|unlink|rename|mkdir|opendir|'
    r'stat|fstat|lstat|fsync|ioctl|mmap|g_file_\w+|g_dir_open|g_open|g_fopen|g_mkdir\w*|'
    r'g_unlink|g_rename|g_stat|g_lstat|g_get_real_time|g_get_monotonic_time|'
    r'g_date_time_new_now\w*|time|clock_gettime|gettimeofday|getenv|g_getenv|curl_\w+)\s*\(')
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)


def strip(text):
    """Source without comments and string literals, so prose and messages never match."""
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def main(libdir):
    problems = []
    files = {}
    for folder in sorted(os.listdir(libdir)):
        d = os.path.join(libdir, folder)
        if not os.path.isdir(d):
            continue
        if folder not in MAY_USE:
            problems.append(f'{folder}/: not a known folder of the layout')
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(('.c', '.h')):
                files[f'{folder}/{name}'] = open(os.path.join(d, name), encoding='utf-8').read()
    for name in sorted(os.listdir(libdir)):
        if name.endswith(('.c', '.h')):
            problems.append(f'{name}: outside every folder')
    graph = {}
    for rel, text in files.items():
        folder = rel.split('/')[0]
        graph[rel] = []
        for kind, target in INCLUDE.findall(text):
            if kind == '<':
                if folder == 'core' and target in CORE_BANNED_HEADERS:
                    problems.append(f'{rel}: core includes <{target}> (core does no I/O)')
                continue
            if target == 'config.h':
                continue
            if '/' not in target:
                if target.startswith('sb-'):
                    problems.append(f'{rel}: includes "{target}" without its folder')
                continue
            tfolder = target.split('/')[0]
            if target not in files:
                problems.append(f'{rel}: includes "{target}", which does not exist')
                continue
            if tfolder not in MAY_USE[folder]:
                problems.append(f'{rel}: {folder}/ may not include {target}')
            graph[rel].append(target)
        if folder == 'core':
            for lineno, line in enumerate(strip(text).split('\n'), 1):
                m = CORE_BANNED_CALLS.search(line)
                if m:
                    problems.append(f'{rel}:{lineno}: core calls {m.group(1)}() (core does no I/O)')
    # Cycles in the include graph (depth-first search, colours).
    state = {}
    def visit(node, path):
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cyc = path[path.index(nxt):] + [nxt]
                problems.append('include cycle: ' + ' -> '.join(cyc))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2
    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: check-layout.py LIBDIR')
    sys.exit(main(sys.argv[1]))
