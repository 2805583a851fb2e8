# CPU work in Python threads: the GIL lets one run at a time (the tutorials' lesson).
from concurrent.futures import ThreadPoolExecutor

def work(n):
    return sum(i * i for i in range(n))

with ThreadPoolExecutor(4) as pool:
    print(sum(pool.map(work, [1_500_000] * 4)))
