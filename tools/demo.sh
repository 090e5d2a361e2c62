#!/bin/sh
# make demo: replay the default lesson and tell the user what to open.
set -eu
natlb=./natlb
mkdir -p out
"$natlb" replay -q --stats --html out/static-nat.html -o out/static-nat.pcapng pcaps/static-nat.pcap
cat <<'MSG'

The static-NAT lesson was replayed.  Open both:
  out/static-nat.pcapng   in Wireshark
  out/static-nat.html     in any browser (the lesson page: works offline; step N is frame N)

Open it in Wireshark with natlb's profile (columns for the link and the annotation,
colours for drops, derived views and translations):
  ./natlb wireshark-profile          # once: installs the profile 'natlb'
  wireshark -C natlb out/static-nat.pcapng
  - each packet appears once per link it crosses: lan (inside) then internet (outside)
  - filter on what the NAT did:   frame.comment contains "SNAT"
  - replies were captured on lan; their internet views are derived (the comment says so)

Or in a terminal:
  tshark -C natlb -r out/static-nat.pcapng
  ./natlb explain out/static-nat.pcapng 4     # every view of the packet frame 4 belongs to

The lesson page: xdg-open out/static-nat.html
  - the chain at the top, one step per view below; arrow keys step, #step=N opens at frame N
  - each step shows the fields the NAT changed in colour, the comment, the tables at that moment

Next: edit scenarios/static-nat.ini (the map line) and run
  ./natlb replay -s scenarios/static-nat.ini --html out/mine.html -o out/mine.pcapng pcaps/static-nat.pcap
MSG
