#!/usr/bin/python3
"""The asyncio HTTP anchor for bench-fetch.sh: Python's aiohttp, one ClientSession whose
connector keeps at most W connections alive, N GETs of URL gathered, each body read whole.

usage: aiohttp_fetch.py URL N W [REPS]
Prints: | aiohttp, W connections, N requests | median req/s | min-max | errors |"""
import asyncio
import statistics
import sys
import time

import aiohttp


async def run(url, n, w):
    errors = 0
    conn = aiohttp.TCPConnector(limit=w)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def one():
            nonlocal errors
            try:
                async with session.get(url) as r:
                    body = await r.read()
                    errors += r.status != 200 or not body
            except aiohttp.ClientError:
                errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - t0), errors


def main():
    url, n, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    runs = [asyncio.run(run(url, n, w)) for _ in range(reps)]
    rates = [r for r, _ in runs]
    errors = sum(e for _, e in runs)
    print(f"| {'aiohttp, ' + str(w) + ' connections, ' + str(n) + ' requests':48} | "
          f"{statistics.median(rates):9.0f} req/s | {min(rates):.0f}-{max(rates):.0f} | "
          f"{errors} errors |")


if __name__ == "__main__":
    main()
