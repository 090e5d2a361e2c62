#!/bin/sh
# make bench: natlb against peers run in the same process tree, on one generated capture.
# Each command runs BENCH_RUNS times (default 3) and the fastest run counts: page-cache and
# writeback noise only ever adds time.  Files live in /dev/shm when it has room, so the disk is
# not what is measured.  It prints packets per second and ratios; it is not a test and never
# fails because a machine is slow.
set -eu
natlb=$1
benches=${2:-build/tests}
packets=${BENCH_PACKETS:-2000000}
flows=${BENCH_FLOWS:-100000}
runs=${BENCH_RUNS:-3}
base=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 6000000 ]; then
	base=/dev/shm
fi
dir=$(mktemp -d "$base/natlb-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

echo "natlb bench: $packets packets over $flows flows, best of $runs runs, files in $base"
"$natlb" gen bench -o "$dir/in.pcap" --packets "$packets" --flows "$flows"
size=$(stat -c %s "$dir/in.pcap")

# run NAME CMD...: sets NAME_secs (fastest wall time), NAME_cpu (its user+sys) and NAME_rss (peak KiB).
run() {
	name=$1; shift
	best=""; cpu=""; rss=0
	i=0
	while [ "$i" -lt "$runs" ]; do
		rm -f "$dir/out"*
		/usr/bin/time -f "%e %U %S %M" -o "$dir/time" "$@" >/dev/null 2>"$dir/err" || {
			echo "bench: $name failed:"; cat "$dir/err"; exit 1; }
		read -r secs user sys kib < "$dir/time"
		if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$secs; cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
		fi
		[ "$kib" -gt "$rss" ] && rss=$kib
		i=$((i + 1))
	done
	rm -f "$dir/out"*
	eval "${name}_secs=$best; ${name}_cpu=$cpu; ${name}_rss=$rss"
}

run cp cp "$dir/in.pcap" "$dir/out.cp"
run tcprewrite tcprewrite --srcipmap=10.1.0.0/16:100.64.0.0/16 -i "$dir/in.pcap" -o "$dir/out.tcprewrite"
run natlb "$natlb" replay -q -s tools/bench-static-nat.ini --links internet -o "$dir/out.natlb" "$dir/in.pcap"
run natlb_all "$natlb" replay -q -s tools/bench-static-nat.ini -o "$dir/out.natlb_all" "$dir/in.pcap"
run napt "$natlb" replay -q -s tools/bench-napt.ini --links internet -o "$dir/out.napt" "$dir/in.pcap"
run l4lb "$natlb" replay -q -s tools/bench-l4lb.ini --links backends -o "$dir/out.l4lb" "$dir/in.pcap"

awk -v p="$packets" -v size="$size" \
    -v cp="$cp_secs" -v tr="$tcprewrite_secs" -v nl="$natlb_secs" -v na="$natlb_all_secs" \
    -v cpc="$cp_cpu" -v trc="$tcprewrite_cpu" -v nlc="$natlb_cpu" -v nac="$natlb_all_cpu" \
    -v cprss="$cp_rss" -v trrss="$tcprewrite_rss" -v nlrss="$natlb_rss" -v narss="$natlb_all_rss" \
    -v np="$napt_secs" -v npc="$napt_cpu" -v nprss="$napt_rss" \
    -v l4="$l4lb_secs" -v l4c="$l4lb_cpu" -v l4rss="$l4lb_rss" 'BEGIN {
	printf "\n%-40s %8s %8s %12s %10s\n", "run", "wall s", "cpu s", "packets/s", "peak RSS"
	printf "%-40s %8.2f %8.2f %12s %7.1f MB\n", "cp of the input (" int(size/1048576) " MiB)", cp, cpc, "-", cprss/1024
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "tcprewrite --srcipmap", tr, trc, p/(tr>0?tr:0.001), trrss/1024
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "natlb static NAT, --links internet", nl, nlc, p/(nl>0?nl:0.001), nlrss/1024
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "natlb static NAT, every link", na, nac, p/(na>0?na:0.001), narss/1024
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "natlb NAPT, --links internet", np, npc, p/(np>0?np:0.001), nprss/1024
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "natlb L4 balancer (maglev), --links backends", l4, l4c, p/(l4>0?l4:0.001), l4rss/1024
	printf "\nratio / tcprewrite (goal <= 0.60):   wall    cpu\n"
	printf "  static NAT                          %5.2f  %5.2f\n", nl/(tr>0?tr:0.001), nlc/(trc>0?trc:0.001)
	printf "  NAPT                                %5.2f  %5.2f\n", np/(tr>0?tr:0.001), npc/(trc>0?trc:0.001)
	printf "  L4 balancer                         %5.2f  %5.2f\n", l4/(tr>0?tr:0.001), l4c/(trc>0?trc:0.001)
	printf "ratio static NAT / cp: %.2f wall\n", nl/(cp>0?cp:0.001)
	printf "peak RSS: static NAT %.1f MB, NAPT %.1f MB, L4 %.1f MB (goal < 64 MB)\n", nlrss/1024, nprss/1024, l4rss/1024
}'

# The L7 balancer: requests over keep-alive connections, the target side written (every packet
# there is one the balancer builds), against tcprewrite rewriting the same capture.
l7_requests=${BENCH_L7_REQUESTS:-500000}
l7_conns=${BENCH_L7_CONNS:-20000}
"$natlb" gen bench-l7 -o "$dir/l7.pcap" --packets "$l7_requests" --flows "$l7_conns"
l7_size=$(stat -c %s "$dir/l7.pcap")
run tcprewrite_l7 tcprewrite --srcipmap=198.51.0.0/16:100.64.0.0/16 -i "$dir/l7.pcap" -o "$dir/out.tcprewrite_l7"
run l7lb "$natlb" replay -q -s tools/bench-l7lb.ini --links app -o "$dir/out.l7lb" "$dir/l7.pcap"
awk -v r="$l7_requests" -v c="$l7_conns" -v size="$l7_size" -v tr="$tcprewrite_l7_secs" -v trc="$tcprewrite_l7_cpu" \
    -v l7="$l7lb_secs" -v l7c="$l7lb_cpu" -v l7rss="$l7lb_rss" -v trrss="$tcprewrite_l7_rss" 'BEGIN {
	printf "\nL7: %d requests over %d keep-alive connections (%d MiB capture)\n", r, c, int(size/1048576)
	printf "%-40s %8.2f %8.2f %12s %7.1f MB\n", "tcprewrite --srcipmap", tr, trc, "-", trrss/1024
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "natlb L7 balancer, --links app", l7, l7c, r/(l7>0?l7:0.001), l7rss/1024
	printf "  (the packets/s column counts requests for the L7 run)\n"
	printf "ratio L7 balancer / tcprewrite (goal <= 1.5): wall %.2f, cpu %.2f; peak RSS %.1f MB (goal <= 128 MB)\n",
	       l7/(tr>0?tr:0.001), l7c/(trc>0?trc:0.001), l7rss/1024
}'
rm -f "$dir/l7.pcap"

# The lesson page at its default cap of 20,000 steps: the page times 100 steps forward itself
# (#bench=100).  Only where Debian's chromium is installed (make deps installs it).
if command -v chromium >/dev/null 2>&1; then
	"$natlb" gen bench --packets 12000 --flows 3000 -o "$dir/page.pcap"
	"$natlb" replay -q -s tools/bench-napt.ini --html "$dir/page.html" -o "$dir/page.pcapng" "$dir/page.pcap"
	timeout 120 chromium --no-sandbox --headless --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$dir/chromium" \
		--dump-dom "file://$dir/page.html#step=9000&bench=100" 2>/dev/null |
		sed -n 's/.*<pre id="bench">steps \([0-9]*\) max_ms \([0-9.]*\) median_ms \([0-9.]*\) of \([0-9]*\).*/\1 \2 \3 \4/p' |
		awk '{ printf "lesson page, %d steps forward at %d steps: median %.1f ms, max %.1f ms a step (goal: median <= 50 ms)\n", $1, $4, $3, $2 }'
	rm -rf "$dir/page."* "$dir/chromium"
else
	echo "lesson page timing skipped: chromium is not installed (make deps installs it)"
fi

# The shield under a SYN flood (issue 13): BENCH_PACKETS spoofed SYNs to one VIP, nearly all
# answered with SYN cookies; the protected side written (what the targets get), against
# tcprewrite rewriting the same capture.
"$natlb" gen bench-syn-flood -o "$dir/flood.pcap" --packets "$packets"
run tcprewrite_flood tcprewrite --srcipmap=192.0.2.0/24:100.64.0.0/24 -i "$dir/flood.pcap" -o "$dir/out.tcprewrite_flood"
run shield "$natlb" replay -q -s tools/bench-shield.ini --links edge -o "$dir/out.shield" "$dir/flood.pcap"
awk -v p="$packets" -v tr="$tcprewrite_flood_secs" -v trc="$tcprewrite_flood_cpu" -v trrss="$tcprewrite_flood_rss" \
    -v sh="$shield_secs" -v shc="$shield_cpu" -v shrss="$shield_rss" 'BEGIN {
	printf "\nSYN flood: %d spoofed SYNs to one VIP\n", p
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "tcprewrite --srcipmap", tr, trc, p/(tr>0?tr:0.001), trrss/1024
	printf "%-40s %8.2f %8.2f %12.0f %7.1f MB\n", "natlb shield (SYN cookies), --links edge", sh, shc, p/(sh>0?sh:0.001), shrss/1024
	printf "ratio shield / tcprewrite (goal <= 0.60): wall %.2f, cpu %.2f; peak RSS %.1f MB (goal < 64 MB)\n",
	       sh/(tr>0?tr:0.001), shc/(trc>0?trc:0.001), shrss/1024
}'
rm -f "$dir/flood.pcap"

# A lesson's memory follows its live entries, not max-mappings (issue 11 item 7): napt-home's 29
# packets through the same router sized for 16M mappings.
{ cat scenarios/napt-home.ini; printf '\nmax-mappings = 16777216\n'; } > "$dir/napt-home-16m.ini"
/usr/bin/time -f "%M" -o "$dir/time" "$natlb" replay -q -s "$dir/napt-home-16m.ini" -o "$dir/out.home" \
	pcaps/napt-home.pcap >/dev/null 2>"$dir/err" || { echo "bench: napt-home at 16M mappings failed:"; cat "$dir/err"; exit 1; }
awk '{ printf "peak RSS of the napt-home lesson at max-mappings = 16777216: %.1f MB (goal <= 64 MB)\n", $1/1024 }' "$dir/time"
rm -f "$dir/out"*
echo
for b in "$benches"/bench_*; do
	[ -x "$b" ] || continue
	"$b"
	echo
done
