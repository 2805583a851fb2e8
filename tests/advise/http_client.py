# Requests to the slow loopback server on 4 threads: they wait on the network.
import sys, urllib.request
from concurrent.futures import ThreadPoolExecutor

url = "http://127.0.0.1:%s/" % sys.argv[1]

def get(i):
    with urllib.request.urlopen(url) as r:
        return len(r.read())

with ThreadPoolExecutor(4) as pool:
    print(sum(pool.map(get, range(16))))
