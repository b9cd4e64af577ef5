#!/usr/bin/env python3
"""CPU per 4 KiB page of touching memory new to this process, on 4 KiB pages and on
transparent huge pages (madvise MADV_HUGEPAGE), after a given idle time. Each touch maps
N MiB of private anonymous memory (as malloc's), writes one byte per 4 KiB, prints the CPU
time (process_time) per page and how much of the mapping the kernel gave as huge pages
(AnonHugePages of the mapping in /proc/self/smaps; 0 if the kernel merged it with a
neighbour), and unmaps it, so the next touch may get the same
memory back from the kernel: at once, or after the idle time, in which a VM with free page
reporting may have handed it back to its host. The figure includes the loop's own
Python work, a few tenths of a µs per page: it is what the huge-page floor reads.

    python3 tools/bench/first-touch-huge-pages.py [N] [IDLE_SECONDS ...]

Default: 256 MiB, idle 0 0 5 5 0 10. Used for
docs/bench/v2-stream-window/first-touch-huge-pages.txt."""
import ctypes
import mmap
import sys
import time


def huge_kib(addr):
    """AnonHugePages of the smaps entry that starts at addr."""
    found = False
    with open('/proc/self/smaps') as f:
        for line in f:
            if not found:
                found = line.split('-', 1)[0] == format(addr, 'x')
            elif line.startswith('AnonHugePages:'):
                return int(line.split()[1])
    return 0


def touch(mib, huge):
    n = mib << 20
    # Private anonymous memory (a bare mmap(-1, n) is shared memory, which transparent
    # huge pages leave alone).
    m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    # Either way explicitly, so the 4 KiB case stays on 4 KiB pages where THP is `always`.
    m.madvise(mmap.MADV_HUGEPAGE if huge else mmap.MADV_NOHUGEPAGE)
    start = time.process_time()
    for i in range(0, n, 4096):
        m[i] = 1
    us = (time.process_time() - start) / (n / 4096) * 1e6
    kib = huge_kib(ctypes.addressof(ctypes.c_char.from_buffer(m)))
    m.close()
    return us, kib // 1024


mib = int(sys.argv[1]) if len(sys.argv) > 1 else 256
idles = [float(a) for a in sys.argv[2:]] or [0, 0, 5, 5, 0, 10]
for idle in idles:
    for huge in (False, True):
        time.sleep(idle)
        us, huge_mib = touch(mib, huge)
        kind = 'MADV_HUGEPAGE' if huge else '4 KiB pages  '
        print(f'after {idle:4.1f} s idle, {mib} MiB, {kind}: {us:6.2f} µs of CPU per 4 KiB, {huge_mib} MiB on huge pages')
