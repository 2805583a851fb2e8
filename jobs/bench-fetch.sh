#!/usr/bin/env bash
# parkit fetch against curl's own parallel mode (libcurl multi interface) on the same loopback
# server in the same run: N small GETs, W concurrent, REPS runs each, alternating, whole-process
# wall time (start-up included) for parkit's two engines (threads, loop) and curl; medians, the
# ratios and each one's peak memory. Python's aiohttp (asyncio) runs too when installed, and
# requests + ThreadPoolExecutor when python3-requests is. The server is nginx (one worker,
# access log off, as in ../shared/recipes/perf-anchors.md) when installed, else the tests' own
# httpd. The issue's two runs: N=2000 W=50, and N=20000 W=1000.
# usage: jobs/bench-fetch.sh [BUILD_DIR]   env: N (2000) W (50) REPS (7) SERVER (nginx|httpd)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $here/CMakeLists.txt ]] || { echo "bench-fetch.sh: needs the parkit source and build tree (run it from the repository's jobs/, not an installed copy)" >&2; exit 2; }
build=${1:-$here/build/release}
N=${N:-2000} W=${W:-50} REPS=${REPS:-7}
ulimit -n 65536 2>/dev/null || true # 1,000 connections need more than the usual 1,024 descriptors
parkit=$build/drivers/parkit httpd=$build/tests/httpd
for t in "$parkit" "$httpd"; do
    [[ -x $t ]] || { echo "build $t first (cmake --build --preset release)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "needs curl (apt-get install curl)" >&2; exit 2; }
SERVER=${SERVER:-$(command -v nginx >/dev/null && echo nginx || echo httpd)}
work=$(mktemp -d)
pid=""
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# a small JSON body like a REST answer, as the anchor used
body='{"userId": 1, "id": 42, "title": "sunt aut facere repellat provident occaecati", "body": "'
for _ in 1 2 3 4; do body+="quia et suscipit suscipit recusandae consequuntur expedita et cum reprehenderit "; done
body+='", "tags": ["io", "bench", "json"], "ok": true}'
mkdir -p "$work/www" "$work/tmp" "$work/logs"
printf '%s' "$body" > "$work/www/data.json"
chmod 755 "$work" "$work/www" && chmod 644 "$work/www/data.json" # nginx workers drop root
if [[ $SERVER == nginx ]]; then
    port=$((20000 + RANDOM % 20000))
    cat > "$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 65536; }
worker_rlimit_nofile 70000;
http {
  access_log off; sendfile on; keepalive_requests 1000000;
  client_body_temp_path $work/tmp/body; proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi; uwsgi_temp_path $work/tmp/uwsgi; scgi_temp_path $work/tmp/scgi;
  types { application/json json; }
  server { listen 127.0.0.1:$port; root $work/www; location / { } }
}
EOF
    nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
    pid=$!
    url="http://127.0.0.1:$port/data.json"
else
    "$httpd" --port-file "$work/port" --root "$work/www" --idle-exit 600 &
    pid=$!
    for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.05; done
    url="http://127.0.0.1:$(cat "$work/port")/files/data.json"
fi
for _ in $(seq 50); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
curl -sf -o /dev/null "$url" || { echo "$SERVER did not come up" >&2; exit 1; }
for _ in $(seq "$N"); do echo "$url"; done > "$work/urls"
for _ in $(seq "$N"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done > "$work/curl.cfg"

wall() { # prints requests/s of the whole command
    local s e
    s=$(date +%s%N)
    "$@" > /dev/null 2>&1
    e=$(date +%s%N)
    echo "$N * 1000000000 / ($e - $s)" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# peak memory of one command, MB (GNU time), for the record beside the rates
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1 / 1024}'; }
fetch=("$parkit" fetch --url-file "$work/urls" --workers "$W" --quiet)
: > "$work/c"
for e in threads loop; do : > "$work/p_$e" && : > "$work/pi_$e"; done
wall "${fetch[@]}" > /dev/null # warm-up
for _ in $(seq "$REPS"); do
    for e in threads loop; do
        wall "${fetch[@]}" --engine "$e" >> "$work/p_$e"
        "${fetch[@]}" --engine "$e" --format json |
            python3 -c 'import json,sys; r = json.load(sys.stdin); assert r["verified"] and r["result"]["failed"] == 0, r; print(r["result"]["requests_per_s"])' >> "$work/pi_$e"
    done
    wall curl -s --parallel --parallel-max "$W" -K "$work/curl.cfg" >> "$work/c"
done
range() { echo "$(sort -g "$1" | head -1 | xargs printf '%.0f')-$(sort -g "$1" | tail -1 | xargs printf '%.0f')"; }
c=$(median < "$work/c")
echo "# fetch: $N GETs of $(printf '%s' "$body" | wc -c) bytes from $SERVER on loopback, $W concurrent, median of $REPS"
for e in threads loop; do
    p=$(median < "$work/p_$e") pi=$(median < "$work/pi_$e")
    printf '| %-48s | %9.0f req/s | %s | max RSS %s MB |\n' "parkit fetch --engine $e (whole process)" "$p" "$(range "$work/p_$e")" "$(rss "${fetch[@]}" --engine "$e")"
    printf '| %-48s | %9.0f req/s | %s |\n' "parkit fetch --engine $e, its own timer" "$pi" "$(range "$work/pi_$e")"
    printf 'ratio parkit --engine %s / curl (whole process): %.2f\n' "$e" "$(echo "$p / $c" | bc -l)"
done
printf '| %-48s | %9.0f req/s | %s | max RSS %s MB |\n' "curl --parallel --parallel-max $W -K cfg" "$c" "$(range "$work/c")" "$(rss curl -s --parallel --parallel-max "$W" -K "$work/curl.cfg")"
if /usr/bin/python3 -c 'import aiohttp' 2>/dev/null; then
    /usr/bin/python3 "$here/jobs/aiohttp_fetch.py" "$url" "$N" "$W" 3
fi
if python3 -c 'import requests' 2>/dev/null && [[ -f $here/../shared/anchors/io/http_clients.py ]]; then
    python3 "$here/../shared/anchors/io/http_clients.py" "$url" "$N" "$W" session --repeats 3
fi
