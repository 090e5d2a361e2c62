#!/bin/sh
# make demo: replay the default lesson and tell the user what to open.
set -eu
natlb=./natlb
mkdir -p out
"$natlb" replay -q --stats -o out/static-nat.pcapng pcaps/static-nat.pcap
cat <<'MSG'

The static-NAT lesson was replayed: out/static-nat.pcapng

Open it in Wireshark:   wireshark out/static-nat.pcapng
  - add columns for the link and the annotation: right-click a field, "Apply as Column",
    or Edit > Preferences > Columns: frame.interface_name and frame.comment
  - each packet appears once per link it crosses: lan (inside) then internet (outside)
  - filter on what the NAT did:   frame.comment contains "SNAT"
  - replies were captured on lan; their internet views are derived (the comment says so)

Or in a terminal:
  tshark -r out/static-nat.pcapng -T fields -e frame.interface_name -e ip.src -e ip.dst -e frame.comment

Next: edit scenarios/static-nat.ini (the map line) and run
  ./natlb replay -s scenarios/static-nat.ini -o out/mine.pcapng pcaps/static-nat.pcap
MSG
