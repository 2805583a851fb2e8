# The same CPU work in a process pool: one interpreter per process, the cores in parallel.
from concurrent.futures import ProcessPoolExecutor

def work(n):
    return sum(i * i for i in range(n))

if __name__ == "__main__":
    with ProcessPoolExecutor(2) as pool:
        print(sum(pool.map(work, [6_000_000] * 4)))
