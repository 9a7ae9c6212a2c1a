#!/usr/bin/env bash
# hostile.sh - a malicious frontend next to a well-behaved guest.  Both are
# created by `hvsec create` with vtpm = ["backend=0"], so each has its own
# stub domain (hvsec-vtpmd) as in production, and they belong to different
# tenants (multi-tenant policy: Acme and Initech).
#
#   good     hvsec-tpmfront --exec a loop of tpm2_getrandom, tpm2_pcrextend
#            and tpm2_pcrread, until told to stop; every round must be right
#   hostile  tests/vtpm/ringguest: guard (its own pages sit between guard
#            pages), connect, storm:3000 (a second thread rewrites header
#            and payload without pause while the first flaps the state and
#            notifies, and submits requests whose size field lies), a
#            GetRandom, flood (requests without waiting for FINISH), close,
#            reconnect, a GetRandom
#
# Checked: the good guest completes rounds while the storm runs and never
# gets a wrong answer; the hostile guest's backend is still running (not
# crashed) afterwards and serves it again; its console shows the refusals
# rate-limited (at most a burst of lines for thousands of refusals); the
# page the backend maps sits between two inaccessible pages; no console,
# nor hvsecd's log, has a sanitizer report (make test SAN=1).
# Passes in about 5 s (10 under SAN=1 on a loaded host); every wait below
# is bounded, and the whole script is stopped after 90 s.
: "${TS_TEST_LIMIT:=90}"
source "$(dirname "$0")/../tools/lib-ts.sh"
source "$(dirname "$0")/lib-vtpm.sh"
: "${HVSEC_BUILD:=build}"
BUILD_DIR=$HVSEC_SRC/$HVSEC_BUILD
[ -d "$BUILD_DIR" ] || BUILD_DIR=$HVSEC_BUILD
TPMFRONT=$HVSEC_BIN/hvsec-tpmfront
VTPMD=$HVSEC_BIN/hvsec-vtpmd
RING=$BUILD_DIR/tests/vtpm/ringguest
HVCTL=$BUILD_DIR/tests/hypervisor/hvctl
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TPMFRONT" "$VTPMD" "$RING" "$HVCTL"
for t in tpm2_getrandom tpm2_pcrextend tpm2_pcrread; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (scripts/deps.sh test)"; echo "0 passed, 1 failed"; exit 1; }
done

STORM_MS=3000
T=$TL_TMP
"$POLC" compile --quiet "$HVSEC_SRC/policies/multi-tenant.xml" -o "$T/mt.bin" ||
	{ echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
# What the guests read (their script, the stop file) and the stub
# domains' state: where their uids can reach, not under the 0700 $TL_TMP.
G=$(mktemp -d /tmp/hvsec-vtpm-hostile.XXXXXX)
chmod 0755 "$G"
trap 'rm -rf "$G"; ts_cleanup' EXIT
export HVSEC_VTPM_DIR=$G/state

ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }
ctl() { timeout 30 "$HVCTL" "$RUN" "$@"; }
rounds() { hv console good | grep -c '^ROUND [0-9]* ok'; }

# ---- the well-behaved guest: rounds until $G/stop (at most 40 s)
cat >"$G/good.sh" <<'EOF'
n=0 fail=0 prev=none end=$(( $(date +%s) + 40 ))
echo "GOOD start"
while [ ! -e "$1" ] && [ "$(date +%s)" -lt "$end" ]; do
	n=$((n + 1))
	r=$(tpm2_getrandom 8 --hex 2>&1)
	if ! printf '%s' "$r" | grep -Eqx '[0-9a-f]{16}'; then
		echo "ROUND $n FAIL getrandom: $r"; fail=$((fail + 1)); continue
	fi
	if ! out=$(tpm2_pcrextend 16:sha256=$(printf '%064x' "$n") 2>&1); then
		echo "ROUND $n FAIL pcrextend: $out"; fail=$((fail + 1)); continue
	fi
	v=$(tpm2_pcrread sha256:16 2>&1 | tr -d ' \n')
	if ! printf '%s' "$v" | grep -Eqx 'sha256:16:0x[0-9A-F]{64}' || [ "$v" = "$prev" ]; then
		echo "ROUND $n FAIL pcrread: $v (before: $prev)"; fail=$((fail + 1)); continue
	fi
	prev=$v
	echo "ROUND $n ok"
done
echo "GOOD done rounds=$n failures=$fail"
EOF
{
	echo 'name = "good"'
	echo "kernel = \"$TPMFRONT\""
	echo "extra = \"--exec /bin/sh $G/good.sh $G/stop\""
	echo "access_control = ['policy=multi-tenant,label=Initech']"
	echo "vtpm = ['backend=0']"
} >"$T/good.cfg"
expect "create the well-behaved guest" 0 'Started domain good' -- hv create "$T/good.cfg"
if wait_console good '^ROUND 1 ok' 15; then ok "good guest: first round" 0 ""; else
	ok "good guest: first round" 1 "$(hv console good | tail -n 10)"; fi

# ---- the hostile guest
{
	echo 'name = "hostile"'
	echo "kernel = \"$RING\""
	echo "extra = \"guard connect storm:$STORM_MS random flood:300 random close connect random hold\""
	echo "access_control = ['policy=multi-tenant,label=Acme']"
	echo "vtpm = ['backend=0']"
} >"$T/hostile.cfg"
expect "create the hostile guest" 0 'Started domain hostile' -- hv create "$T/hostile.cfg"
if wait_console hostile '^connect: (ok|FAIL)' 10; then
	before=$(rounds)
	wait_console hostile '^storm:[0-9]+: (ok|FAIL)' $((STORM_MS / 1000 + 10))
	during=$(( $(rounds) - before ))
else
	during=0
fi
console_ok hostile "own pages sit between guard pages" '^guard: ok'
console_ok hostile "hostile guest connects" '^connect: ok'
console_ok hostile "storm: backend answered, then a valid GetRandom" '^storm:[0-9]+: ok served [1-9][0-9]*, errors [0-9]+ .*GetRandom rc 0x0'
ok "good guest completed rounds during the storm" "$([ "$during" -ge 1 ]; echo $?)" \
	"$during rounds while the storm ran"
wait_console hostile '^(hold: ok|ringguest: stopped)' 10
console_ok hostile "GetRandom right after the storm" '^random: ok rc 0x0'
console_ok hostile "flood: answered, then a valid GetRandom" '^flood:300: ok .*GetRandom rc 0x0'
console_ok hostile "close after the storm: backend back to InitWait" '^close: ok'
n=$(hv console hostile | grep -c '^random: ok rc 0x0')
ok "reconnect and a last valid request" "$([ "$n" = 3 ] && hv console hostile | grep -q '^hold: ok'; echo $?)" \
	"$(hv console hostile | tail -n 3 | tr '\n' '|')"
hv console hostile | grep -E '^(storm|flood)' | sed 's/^/measured: /'

# ---- the hostile guest's backend survived, and said so with restraint
HB=$(domid_of hostile-vtpm0) HG=$(domid_of hostile)
expect "hostile guest's stub domain still running" 0 ' running ' -- ctl info "$HB"
pid=$(ctl info "$HB" | tr ' ' '\n' | sed -n 's/^pid=//p')
ok "stub process alive" "$([ "${pid:-0}" -gt 1 ] && kill -0 "$pid" 2>/dev/null; echo $?)" "pid \"$pid\""
# The ring page the backend maps has an inaccessible page on each side.
if [ -n "$pid" ] && [ -r "/proc/$pid/maps" ]; then
	guarded=$(awk '
		{ split($1, a, "-"); s[NR] = a[1]; e[NR] = a[2]; p[NR] = $2; f[NR] = $6 }
		END {
			n = 0; g = 0
			for (i = 2; i < NR; i++) if (f[i] ~ /memfd:hvsec-page/) {
				n++
				if (e[i - 1] == s[i] && p[i - 1] ~ /^---/ &&
				    s[i + 1] == e[i] && p[i + 1] ~ /^---/) g++
			}
			print n, g
		}' "/proc/$pid/maps")
	ok "backend's mapping of the ring has guard pages" \
		"$([ "${guarded%% *}" -ge 1 ] && [ "${guarded%% *}" = "${guarded##* }" ]; echo $?)" \
		"mappings, guarded: $guarded; $(grep -B1 -A1 hvsec-page "/proc/$pid/maps" | tr '\n' '|')"
else
	ok "backend's mapping of the ring has guard pages" 1 "no /proc/$pid/maps"
fi
# A burst of 10 lines per 10 s window; a window that follows one with
# lines dropped starts with "(N similar lines suppressed)".
refusals=$(hv console hostile-vtpm0 | grep -c 'refused a request of domain')
windows=$(( 1 + $(hv console hostile-vtpm0 | grep -c 'similar lines suppressed') ))
ok "refusals logged" "$([ "$refusals" -ge 1 ]; echo $?)" "none"
ok "refusal lines rate-limited (a burst of 10 per window)" \
	"$([ "$refusals" -le $((10 * windows)) ]; echo $?)" "$refusals lines in $windows windows"
refused=$(hv console hostile-vtpm0 | sed -n "s/.*disconnected from domain $HG (frontend closed): [0-9]* commands, \([0-9]*\) refused.*/\1/p" | head -n 1)
ok "thousands refused behind those lines" "$([ "${refused:-0}" -gt 100 ]; echo $?)" \
	"refused ${refused:-?}: $(hv console hostile-vtpm0 | grep disconnected)"
echo "measured: $refusals refusal lines for ${refused:-?} refused requests"
conns=$(hv console hostile-vtpm0 | grep -c "vtpmd: connected to domain $HG:")
ok "hostile's backend connected again after the storm" "$([ "$conns" -ge 2 ]; echo $?)" "$conns connections"

# ---- the well-behaved guest: stop it, every round right
expect "good guest's stub domain still running" 0 ' running ' -- ctl info "$(domid_of good-vtpm0)"
touch "$G/stop"
if wait_console good '^GOOD done' 10; then ok "good guest finished" 0 ""; else
	ok "good guest finished" 1 "$(hv console good | tail -n 10)"; fi
console_ok good "good guest: no wrong answer" '^GOOD done rounds=[0-9]+ failures=0$'
bad=$(hv console good | grep -c '^ROUND .* FAIL')
ok "good guest: no failed round" "$([ "$bad" = 0 ]; echo $?)" "$(hv console good | grep FAIL | head -n 5)"
echo "measured: good guest $(rounds) rounds in all, $during during the storm"

# ---- sanitizers (make test SAN=1): every console, then hvsecd's log
for d in hostile hostile-vtpm0 good good-vtpm0; do
	if hv console "$d" | grep -Eq 'Sanitizer|runtime error'; then
		ok "no sanitizer report on $d" 1 "$(hv console "$d" | grep -E -A15 'Sanitizer|runtime error' | head -n 30)"
	else
		ok "no sanitizer report on $d" 0 ""
	fi
done
expect "destroy the hostile guest" 0 'destroyed' -- hv destroy hostile
expect "destroy the good guest" 0 'destroyed' -- hv destroy good
ts_stop
if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$T/hvsecd.log" 2>/dev/null; then
	ok "no sanitizer report from hvsecd" 1 "$(grep -E -A20 'Sanitizer|runtime error' "$T/hvsecd.log" | head -n 40)"
else
	ok "no sanitizer report from hvsecd" 0 ""
fi
tl_done
