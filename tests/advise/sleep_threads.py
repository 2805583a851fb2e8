# Threads that wait on timers (simulated API calls): I/O-bound.
import time
from concurrent.futures import ThreadPoolExecutor

def call(i):
    time.sleep(0.1)
    return i

with ThreadPoolExecutor(8) as pool:
    print(sum(pool.map(call, range(32))))
