#!/usr/bin/env bash
# pooledload.sh DB: the server's resident memory for pooled reports, exports
# and live-view pages over a large database (scripts/genpooled), one request
# at a time and four at once. It builds both programs, serves DB on
# loopback, signs in as the administrator, and for each request resets the
# server's peak RSS (/proc/PID/clear_refs) and reads VmHWM after it, against
# VmRSS before. Prints a table; see BENCHMARKS.md.
set -euo pipefail
db=${1:?usage: scripts/pooledload.sh DB}
dir=$(mktemp -d)
trap 'kill "$srv" 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/" ./server/cmd/fieldworkd ./client/cmd/fieldwork
export FIELDWORK_HOME=$dir/home
token=$("$dir/fieldworkd" --db "$db" admin-token | grep -o 'fw_[A-Za-z0-9_-]*' | head -1)
"$dir/fieldworkd" --db "$db" --listen 127.0.0.1:7491 --http 127.0.0.1:7492 >"$dir/server.log" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q . "$dir/server.log" 2>/dev/null && "$dir/fieldwork" login --server 127.0.0.1:7491 --token "$token" >/dev/null 2>&1 && break; sleep 0.2; done
ids=$("$dir/fieldwork" inspection list | awk 'NR>1{print $1}' | paste -sd,)
query=$(echo "$ids" | tr ',' '\n' | sed 's/^/id=/' | paste -sd'&')
# The live view: sign in as a browser does (CSRF cookie, same origin).
jar=$dir/cookies
csrf=$(curl -s -c "$jar" http://127.0.0.1:7492/login | grep -o 'name="csrf" value="[^"]*"' | sed 's/.*value="//; s/"//')
curl -s -b "$jar" -c "$jar" -o /dev/null -H 'Origin: http://127.0.0.1:7492' --data-urlencode "csrf=$csrf" --data-urlencode "token=$token" http://127.0.0.1:7492/login

kb() { awk -v k="$1:" '$1==k{print $2}' "/proc/$srv/status"; }
run() { # name, then one or more commands run at once
	local name=$1
	shift
	echo 5 >"/proc/$srv/clear_refs"
	local before start
	before=$(kb VmRSS)
	start=$(date +%s.%N)
	local pids=()
	for c in "$@"; do bash -c "$c" >/dev/null & pids+=($!); done
	# A request that fails (a client's deadline while the server admits
	# one per-case report at a time) is counted, not the end of the run.
	local failed=0
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
	local note=""
	[ "$failed" -gt 0 ] && note=" ($failed of $# failed)"
	printf '| %s%s | %.2f s | %d MB | %d MB | +%d MB |\n' "$name" "$note" "$(echo "$(date +%s.%N) - $start" | bc)" $((before / 1024)) $(($(kb VmHWM) / 1024)) $((($(kb VmHWM) - before) / 1024))
}
f=$dir/fieldwork
echo "| request | wall | RSS before | peak during | growth |"
echo "|---|---|---|---|---|"
run "report, no --by" "$f report --inspections $ids"
run "report --by sex" "$f report --inspections $ids --by sex"
run "report --by every attribute, json" "$f report --inspections $ids --by sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended --format json"
run "export xlsx --by ethnicity,age_band" "$f export --inspections $ids --by ethnicity,age_band --format xlsx --out $dir/a.xlsx"
run "live view pooled, --by sex,pdu" "curl -sf -b $jar -o /dev/null 'http://127.0.0.1:7492/pooled/?$query&by=sex&by=pdu'"
run "report --case-progress (152,000 case rows)" "$f report --inspections $ids --case-progress --format json"
run "4 at once: reports by sex / by 4 attributes / export html / live view" \
	"$f report --inspections $ids --by sex" \
	"$f report --inspections $ids --by ethnicity,age_band,sex,unit --format json" \
	"$f export --inspections $ids --by pdu --format html --out $dir/b.html" \
	"curl -sf -b $jar -o /dev/null 'http://127.0.0.1:7492/pooled/?$query&by=sex&by=ethnicity'"
run "4 at once, --case-progress" \
	"$f report --inspections $ids --case-progress" \
	"$f report --inspections $ids --case-progress --by sex --format json" \
	"$f export --inspections $ids --case-progress --format csv --out $dir/c" \
	"$f export --inspections $ids --case-progress --format xlsx --out $dir/d.xlsx"
# The live view's pooled page, 20 times in a row: median time to last byte.
for by in "" "&by=sex" "&by=ethnicity&by=age_band&by=sex"; do
	for _ in $(seq 20); do curl -sf -b "$jar" -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:7492/pooled/?$query$by"; done |
		sort -n | awk -v by="${by:-none}" '{t[NR]=$1} END{printf "live view pooled (by %s): median %.0f ms of 20\n", by, t[int((NR+1)/2)]*1000}'
done
