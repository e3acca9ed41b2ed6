#!/bin/sh
# Stands in for docker: prints its arguments, the values it would pass for
# "-e NAME" (taken from its own environment), and writes a model into the mounted tree.
echo "docker $*"
prev=""
for a in "$@"; do
	if [ "$prev" = "-v" ]; then mount="${a%%:/opt/ml}"; fi
	if [ "$prev" = "-e" ] && [ "${a#*=}" = "$a" ]; then echo "container env $a=$(printenv "$a")"; fi
	prev="$a"
done
mkdir -p "$mount/model"
echo '{"from":"docker"}' > "$mount/model/model.json"
