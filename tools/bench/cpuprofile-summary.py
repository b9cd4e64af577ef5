#!/usr/bin/env python3
"""Summarizes a V8 CPU profile (`node --cpu-prof`, or SERVICE_NODE_ARGS="--cpu-prof
--cpu-prof-dir=DIR" for the bench's services): busy time (every sample but `(idle)`), the
functions with the most self time, and the time spent under each package or part of the
project (inclusive: a sample counts once for every package on its stack).

    python3 tools/bench/cpuprofile-summary.py FILE.cpuprofile [TOP]

Used for docs/bench/v2-stream-window/client-profile-before.txt. V8 samples by wall clock:
time a thread spends off the CPU inside a system call (a socket write that wakes another
process) is counted to that call, so compare with `perf` before reading much into one."""
import collections
import json
import sys

PARTS = ['grpc-js', 'protobufjs', 'long', 'ioredis', '@nestjs', 'rxjs', 'redis-parser', 'libs/dispatch', 'libs/blk-mq',
         'libs/redis-mq', 'libs/rnull', 'libs/nbd', 'pino', 'prom-client', 'node:internal/http2', 'node:net',
         'node:internal/stream']


def summarize(path, top):
    profile = json.load(open(path))
    nodes = {n['id']: n for n in profile['nodes']}
    parent = {c: n['id'] for n in profile['nodes'] for c in n.get('children', [])}
    time = collections.Counter()
    for sample, delta in zip(profile['samples'], profile['timeDeltas']):
        time[sample] += delta
    idle = sum(t for k, t in time.items() if nodes[k]['callFrame']['functionName'] == '(idle)')
    busy = sum(time.values()) - idle
    print(f'{path} total ms {sum(time.values()) / 1000} busy ms {busy / 1000}')
    own = collections.Counter()
    under = collections.Counter()
    for k, t in time.items():
        frame = nodes[k]['callFrame']
        if frame['functionName'] == '(idle)':
            continue
        own[(frame['functionName'], frame['url'].split('/')[-1], frame['lineNumber'])] += t
        seen = set()
        x = k
        while x is not None:
            url = nodes[x]['callFrame']['url']
            for part in PARTS:
                if part in url and part not in seen:
                    seen.add(part)
                    under[part] += t
            x = parent.get(x)
    for k, t in own.most_common(top):
        print(f'{t / busy * 100:5.1f}% {k}')
    print('-- inclusive')
    for k, t in under.most_common():
        print(f'{t / busy * 100:5.1f}% {k}')


summarize(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
