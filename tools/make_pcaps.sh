#!/bin/sh
# make pcaps: regenerate the lesson captures in pcaps/ with natlb gen (libnet); byte-identical each time.
set -eu
natlb=${1:-./natlb}
for lesson in $("$natlb" gen --list); do
	case $lesson in bench*) continue ;; esac   # the benchmark captures are large; make bench builds them in /tmp
	"$natlb" gen "$lesson" -o "pcaps/$lesson.pcap"
	echo "pcaps/$lesson.pcap"
done
