#!/usr/bin/python3
"""The event-loop anchor for bench_loop: Python's asyncio, N coroutines each awaiting
asyncio.sleep(SECONDS), at most CONCURRENCY at once (an asyncio.Semaphore when CONCURRENCY < N,
a plain gather otherwise), timed from before the first coroutine is made to the end of gather.

usage: asyncio_sleep.py N CONCURRENCY SECONDS [REPS]
Prints the median wall, its distance from the ideal ceil(N / CONCURRENCY) * SECONDS, and the max
RSS of this process (which grows with the largest run)."""
import asyncio
import math
import resource
import statistics
import sys
import time


async def run(n, conc, seconds):
    done = 0

    async def one():
        nonlocal done
        await asyncio.sleep(seconds)
        done += 1

    async def bounded(sem):
        async with sem:
            await one()

    t0 = time.perf_counter()
    if conc >= n:
        await asyncio.gather(*(one() for _ in range(n)))
    else:
        sem = asyncio.Semaphore(conc)
        await asyncio.gather(*(bounded(sem) for _ in range(n)))
    wall = time.perf_counter() - t0
    if done != n:
        sys.exit(3)
    return wall


def main():
    n, conc, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    walls = [asyncio.run(run(n, conc, seconds)) for _ in range(reps)]
    med = statistics.median(walls)
    ideal = math.ceil(n / conc) * seconds
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"asyncio      {n} x {seconds:g} s, {conc} in flight: median {med:.4f} s, "
          f"ideal {ideal:.4f} s (+{100 * (med - ideal) / ideal:.1f}%), max RSS {rss:.1f} MB")


if __name__ == "__main__":
    main()
