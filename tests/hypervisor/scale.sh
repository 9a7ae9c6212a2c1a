#!/usr/bin/env bash
# scale.sh - 100 guests at once, each with a XenStore connection and an
# event channel to its neighbour; then all destroyed, nothing left behind.
source "$(dirname "$0")/lib-hv.sh"

N=${HV_SCALE_N:-100}
hv_start || { echo "0 passed, 1 failed"; exit 1; }
fds0=$(nfds)
first=$(next_id)
ids=()
for i in $(seq 0 $((N - 1))); do
	me=$((first + i))
	if [ $((i % 2)) = 0 ]; then acts=(offer:$((me + 1)) write:data/up=1 wait:30000 hold)
	else acts=(bind:$((me - 1)) send write:data/up=1 hold); fi
	id=$(guest "g$i" -p -- "${acts[@]}") || break
	ids+=("$id")
done
ok "created $N guests" $([ "${#ids[@]}" = "$N" ]; echo $?) "created ${#ids[@]}"
ok "domids consecutive" $([ "${ids[-1]}" = $((first + N - 1)) ]; echo $?) "last ${ids[-1]}"
for id in "${ids[@]}"; do ctl unpause "$id" >/dev/null; done
bad=0
for i in $(seq 0 2 $((N - 1))); do
	console_has "${ids[$i]}" "wait:30000: ok" 30000 || { bad=$((bad + 1)); ctl console "${ids[$i]}" | tail -3; }
done
ok "every pair bound and notified" "$bad" "$bad pairs failed"
ctl list | grep -v ' running ' | grep -v Domain-0 | while read -r id _; do
	echo "not running: $(ctl info "$id")"; ctl console "$id" | tail -n 5; done
grep -E 'crashed|violation' "$TL_TMP/hvsecd.log"
expect "list: $N guests running" 0 "^$((N + 1))\$" -- bash -c "$(printf '%q ' "$HVCTL" "$RUN") list | grep -c running"
expect "stats: $((N / 2)) channels" 0 "domains $((N + 1)) pages 0 channels $((N / 2)) " -- ctl stats
export XENSTORED_PATH=$RUN/xenstored
up=$(timeout 30 xenstore-ls /local/domain 2>/dev/null | grep -c 'up = "1"')
ok "every guest wrote to XenStore" $([ "$up" = "$N" ]; echo $?) "$up of $N"
t0=$EPOCHREALTIME
for id in "${ids[@]}"; do ctl destroy "$id" >/dev/null; done
echo "destroyed $N in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}') s"
expect "all gone" 0 'domains 1 pages 0 channels 0 ' -- ctl stats
fds1=$(nfds)
[ "$fds1" -le "$((fds0 + 2))" ]; ok "daemon fds back ($fds0 -> $fds1)" $? "leak"
left=$(ls "$RUN/guests" | wc -l)
ok "guest directories removed" "$left" "$left left"
hv_done
