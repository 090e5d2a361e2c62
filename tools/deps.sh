#!/bin/sh
# Install the Debian packages natlb needs, if any are missing (make deps; make demo and make test call it).
# As root it runs apt-get; otherwise it prints the exact command and fails, so nothing half-works.
missing=""
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "natlb: missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "natlb: run as root, or install them with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
echo "natlb: installed$missing" >&2
