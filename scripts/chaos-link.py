#!/usr/bin/env python3
"""The shaped uplink of `pnpm chaos --netem`: a user-space netem between two TUN devices.

    host stack ── HOST_TUN (this host) ◀══ this process ══▶ NS_TUN (namespace NS) ── the agent

The kernel here has no sch_netem (CONFIG_NET_SCH_NETEM is not set), so latency,
jitter, loss, reordering, a rate cap and blackholes are done by this process on
whole IP packets, as netem would: TCP sees real loss, reordering and silence.
Each packet read from one TUN is written to the other after its delay, or dropped.

Usage: chaos-link.py HOST_TUN NS NS_TUN SEED
Reads commands on stdin, one a line:
    shape LOSS DELAY_MS JITTER_MS REORDER RATE_BPS LIMIT_BYTES
        LOSS, REORDER: fractions 0..1 (REORDER: that share goes without delay, as netem's reorder);
        RATE_BPS 0: no cap; LIMIT_BYTES: queue per direction, tail drop beyond it.
    stats       prints one JSON line of counters
Prints "ready" once both TUNs are open. Both TUNs vanish when this process ends.
"""
import ctypes
import fcntl
import heapq
import json
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    host_tun, ns, ns_tun, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rnd = random.Random(seed)
    host = open_tun(host_tun)
    libc = ctypes.CDLL(None, use_errno=True)
    nsfd = os.open(f'/var/run/netns/{ns}', os.O_RDONLY)
    if libc.setns(nsfd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f'setns {ns}')
    gw = open_tun(ns_tun)
    print('ready', flush=True)

    shape = {'loss': 0.0, 'delay': 0.0, 'jitter': 0.0, 'reorder': 0.0, 'rate': 0, 'limit': 1 << 20}
    stats = {'packets': 0, 'dropped': 0, 'overflow': 0, 'reordered': 0, 'bytes': 0}
    # Per direction (the fd written to): a heap of (release time, n, packet), the time the
    # "wire" is free (rate cap) and the bytes queued.
    queues = {host: [], gw: []}
    wire_free = {host: 0.0, gw: 0.0}
    queued = {host: 0, gw: 0}
    n = 0
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    line = b''

    def enqueue(dst, pkt, now):
        nonlocal n
        stats['packets'] += 1
        if shape['loss'] > 0 and rnd.random() < shape['loss']:
            stats['dropped'] += 1
            return
        if queued[dst] + len(pkt) > shape['limit']:
            stats['overflow'] += 1
            return
        start = now
        if shape['rate'] > 0:
            start = max(now, wire_free[dst]) + len(pkt) * 8 / shape['rate']
            wire_free[dst] = start
        delay = 0.0
        if shape['delay'] > 0:
            if shape['reorder'] > 0 and rnd.random() < shape['reorder']:
                stats['reordered'] += 1
            else:
                delay = max(0.0, rnd.uniform(shape['delay'] - shape['jitter'], shape['delay'] + shape['jitter'])) / 1000
        n += 1
        queued[dst] += len(pkt)
        heapq.heappush(queues[dst], (start + delay, n, pkt))

    while True:
        now = time.monotonic()
        nexts = [q[0][0] for q in queues.values() if q]
        timeout = max(0.0, min(nexts) - now) if nexts else 1.0
        readable, _, _ = select.select([host, gw, stdin], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            if fd == stdin:
                chunk = os.read(stdin, 4096)
                if not chunk:
                    return
                line += chunk
                while b'\n' in line:
                    cmd, line = line.split(b'\n', 1)
                    words = cmd.decode().split()
                    if words[:1] == ['shape']:
                        loss, delay, jitter, reorder, rate, limit = (float(w) for w in words[1:7])
                        shape.update(loss=loss, delay=delay, jitter=jitter, reorder=reorder, rate=int(rate), limit=int(limit))
                    elif words[:1] == ['stats']:
                        print(json.dumps(stats), flush=True)
                continue
            dst = gw if fd == host else host
            for _ in range(256):
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                stats['bytes'] += len(pkt)
                enqueue(dst, pkt, now)
        for dst, q in queues.items():
            while q and q[0][0] <= now:
                _, _, pkt = heapq.heappop(q)
                queued[dst] -= len(pkt)
                try:
                    os.write(dst, pkt)
                except OSError:
                    # The interface is down (a flap): the packet is lost, as on the air.
                    stats['dropped'] += 1


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
