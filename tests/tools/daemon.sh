#!/usr/bin/env bash
# daemon.sh - the hvsec toolstack against a real hvsecd (policy
# policies/multi-tenant.xml): policy show/update, labels, resource and
# config labels, create/dry-run with Chinese-Wall and resource denials,
# list, console, pause, relabel, audit (also --follow), stats, mode,
# destroy, and the JSON of every listing command.
source "$(dirname "$0")/lib-ts.sh"
ts_need "$HVSEC" "$HVSECD" "$POLC" "$TESTGUEST"

T=$TL_TMP
MT=$HVSEC_SRC/policies/multi-tenant.xml
"$POLC" compile --quiet "$MT" -o "$T/mt.bin" || { echo "FAIL: policy"; echo "0 passed, 1 failed"; exit 1; }
# 1.1: Initech joins the Acme/Globex conflict set (nothing running blocks it)
sed -e 's|<Version>1.0</Version>|<Version>1.1</Version><FromPolicy><PolicyName>multi-tenant</PolicyName><Version>1.0</Version></FromPolicy>|' \
	-e 's|^\(\s*\)<Type>Globex</Type>\(\s*\)$|&|' "$MT" |
	awk '/<Conflict name="AcmeVsGlobex">/ {c=1} c && /<\/Conflict>/ {print "        <Type>Initech</Type>"; c=0} {print}' \
	>"$T/v11.xml"
# 1.2 (from 1.1): dom0's type conflicts with Acme: blocked while Acme runs
sed -e 's|<Version>1.1</Version><FromPolicy><PolicyName>multi-tenant</PolicyName><Version>1.0</Version>|<Version>1.2</Version><FromPolicy><PolicyName>multi-tenant</PolicyName><Version>1.1</Version>|' \
	"$T/v11.xml" |
	awk '/<Conflict name="AcmeVsGlobex">/ {c=1} c && /<\/Conflict>/ {print "        <Type>SystemManagement</Type>"; c=0} {print}' \
	>"$T/v12.xml"
"$POLC" compile --quiet "$T/v11.xml" -o "$T/v11.bin" &&
	"$POLC" compile --quiet "$T/v12.xml" -o "$T/v12.bin" ||
	{ echo "FAIL: update policies"; echo "0 passed, 1 failed"; exit 1; }

ts_start --policy "$T/mt.bin" || { echo "0 passed, 1 failed"; exit 1; }

# ---- policy and labels
expect "policy show" 0 'Policy +multi-tenant 1\.0' -- hv policy show
expect "policy show: generation" 0 'Generation +1' -- hv policy show
expect "policy show: dom0" 0 'dom0 boots as SystemManagement' -- hv policy show
json_ok "policy show --json" hv policy show --json
expect "policy show --json fields" 0 '"name":"multi-tenant".*"generation":1' -- hv policy show --json
expect "policy show --save" 0 'Saved to' -- hv policy show --save "$T/saved.bin"
ok "saved blob is the loaded one" "$(cmp -s "$T/saved.bin" "$T/mt.bin"; echo $?)" "differs"
expect "labels" 0 '^Globex$' -- hv labels
expect "labels -t res" 0 '^GlobexDisk$' -- hv labels -t res
json_ok "labels --json" hv labels --json
expect "labels --json has types" 0 '"name":"Acme","type":"dom","id":[0-9]+,"bootstrap":false,"ste_types":\["Acme"\]' \
	-- hv labels --json

# ---- resource labels
expect "resources: none" 0 'No labelled resources' -- hv resources
expect "label add res" 0 'Resource file:/img/acme.img labelled AcmeDisk' \
	-- hv label add AcmeDisk res file:/img//acme.img
expect "label add res: canonical (tap:aio:)" 0 'file:/img/globex.img labelled GlobexDisk' \
	-- hv label add GlobexDisk res tap:aio:/img/globex.img
expect "label add res: vlan" 0 'vlan:20 labelled GlobexDisk' -- hv label add GlobexDisk res vlan:20
expect "label add res: not a resource label" 2 "'Acme' is not a resource label" \
	-- hv label add Acme res file:/img/x.img
expect "label add res: bad vlan" 2 'a VLAN is a number 1-4095' -- hv label add GlobexDisk res vlan:0
touch "$T/real.img"
ln -s real.img "$T/alias.img"
expect "label add res: a symlink names its target" 0 "file:$T/real.img labelled InitechDisk" \
	-- hv label add InitechDisk res "file:$T/alias.img"
expect "label get res" 0 '^AcmeDisk$' -- hv label get res /img/acme.img
expect "label get res: none" 0 'no label' -- hv label get res file:/img/none.img
json_ok "label get res --json" hv label get res vlan:20 --json
expect "resources" 0 'file:/img/globex.img +GlobexDisk' -- hv resources
expect "label add res: quotes in a name" 0 'labelled AcmeDisk' \
	-- hv label add AcmeDisk res 'file:/img/we"ird\name.img'
json_ok "resources --json (escapes)" hv resources --json
expect "label rm res" 0 'label removed' -- hv label rm res 'file:/img/we"ird\name.img'
expect "label rm res again" 0 'has no label' -- hv label rm res 'file:/img/we"ird\name.img'

# ---- configs, labelled through the daemon's policy
cfg "$T/acme1.cfg" acme1 "disk = ['file:/img/acme.img,xvda,w']" "vif = ['bridge=xenbr0']"
cfg "$T/acme2.cfg" acme2
cfg "$T/globex1.cfg" globex1 "disk = ['file:/img/globex.img,xvda,w']"
cfg "$T/steal.cfg" steal "disk = ['file:/img/globex.img,xvda,r']"
cfg "$T/net.cfg" net "vif = ['bridge=xenbr0.20']"
cfg "$T/other.cfg" other "access_control = ['policy=another,label=Acme']"
cfg "$T/nolabel.cfg" nolabel
for f in acme1 acme2 steal net; do
	expect "label add Acme dom $f" 0 "label ACM:multi-tenant:Acme" -- hv label add Acme dom "$T/$f.cfg"
done
expect "label add Globex dom globex1" 0 "label ACM:multi-tenant:Globex" \
	-- hv label add Globex dom "$T/globex1.cfg"

# ---- dry-run and create
expect "dry-run: permitted" 0 'Decision: PERMITTED' -- hv dry-run "$T/acme1.cfg"
expect "dry-run: each check" 0 'PERMIT +resource_use +AcmeDisk: may use resource file:/img/acme.img' \
	-- hv dry-run "$T/acme1.cfg"
expect "dry-run: unlabelled vif not checked" 0 'vif +bridge:xenbr0: not labelled' \
	-- hv dry-run "$T/acme1.cfg"
json_ok "dry-run --json" hv dry-run "$T/acme1.cfg" --json
# A dry run changes nothing: no domid used, no audit record, no stat.
aud0=$(hv audit --json | wc -l)
expect "create after dry-runs gets the first guest id" 0 '^Started domain acme1 \(id=1\)$' -- hv create "$T/acme1.cfg"
expect "dry-run: no audit record" 0 '' -- test "$(hv audit --json | wc -l)" -eq "$aud0"
expect "create: name taken" 2 'a domain named acme1 exists' -- hv create "$T/acme1.cfg"
expect "dry-run: name in use still answers the policy question" 0 'name acme1 is in use' \
	-- hv dry-run "$T/acme1.cfg"
expect "create paused" 0 'Created domain acme2 \(id=[0-9]+\), paused' -- hv create -p "$T/acme2.cfg"
expect "list" 0 'acme1 +[0-9]+ +32 +1 +r-----' -- hv list
expect "list: paused" 0 'acme2 +[0-9]+ +32 +1 +--p---' -- hv list
expect "list --label" 0 'acme1 .* ACM:multi-tenant:Acme$' -- hv list --label
expect "list --label: dom0" 0 'Domain-0 .* ACM:multi-tenant:SystemManagement$' -- hv list --label
expect "list NAME" 0 'acme2' -- hv list acme2
expect "list NAME: only it" 1 '' -- bash -c "$(printf '%q ' "$HVSEC" --run-dir "$RUN" list acme2) | grep -q acme1"
expect "list: unknown name" 2 "no domain 'zz'" -- hv list zz
json_ok "list --json" hv list --json
expect "list --json fields" 0 '"name":"acme1","domid":[0-9]+,"uuid":"[0-9a-f-]{36}","memory_mb":32' -- hv list --json
expect "unpause" 0 'Domain acme2 \(id=[0-9]+\) unpaused' -- hv unpause acme2
expect "pause by id" 0 'Domain acme2 .* paused' -- hv pause "$(hv list --json | grep -o '"name":"acme2","domid":[0-9]*' | grep -o '[0-9]*$')"
expect "unpause again" 0 'unpaused' -- hv unpause acme2
for _ in $(seq 50); do hv console acme1 | grep -q 'whoami: ok' && break; sleep 0.1; done
expect "console" 0 'whoami: ok domid [0-9]+ name acme1 label Acme' -- hv console acme1
expect "console: unknown domain" 2 "no domain named 'zz'" -- hv console zz
cfg "$T/short.cfg" short "extra = 'whoami sleep:700'"
hv label add Initech dom "$T/short.cfg" >/dev/null
expect "create short-lived" 0 'Started domain short' -- hv create "$T/short.cfg"
cfg "$T/busy.cfg" busy "extra = 'spin:300 hold'"
hv label add Initech dom "$T/busy.cfg" >/dev/null
hv create "$T/busy.cfg" >/dev/null
for _ in $(seq 100); do hv console busy | grep -q 'spin:300: ok' && break; sleep 0.1; done
expect "list: CPU time from hvsecd" 0 '^busy +[0-9]+ +32 +1 +r----- +0\.[3-9]|^busy +[0-9]+ +32 +1 +r----- +[1-9]' -- hv list busy
expect "list --json: creation time" 0 '"name":"busy",.*"cpu_time":[0-9.]+,"created":"20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]+Z"' \
	-- hv list --json busy
expect "destroy busy" 0 'destroyed' -- hv destroy busy
expect "console --follow ends with the domain" 0 'sleep:700: ok' -- timeout 20 "$HVSEC" --run-dir "$RUN" console -f short
expect "list: shut down" 0 'short +[0-9]+ +32 +1 +---s--' -- hv list short
expect "destroy a dead record" 0 'destroyed' -- hv destroy short

expect "dry-run: Chinese Wall names the running domain" 1 \
	'^ +Chinese Wall: type Globex conflicts with type Acme of running domain acme[12] \(id [0-9]+\).* in conflict set AcmeVsGlobex$' \
	-- hv dry-run "$T/globex1.cfg"
expect "dry-run: overall DENIED" 1 'Decision: DENIED \(1 of [0-9]+ checks\)' -- hv dry-run "$T/globex1.cfg"
expect "dry-run: denial not audited" 1 '' -- bash -c "$(printf '%q ' "$HVSEC" --run-dir "$RUN") audit | grep -q 'domain_create.*Globex'"
# Five real creates so far (dom0, acme1, acme2, short, busy), none denied.
expect "dry-run: denial not counted" 0 '^domain_create +5 +5 +0 +0$' -- hv stats
expect "create: Chinese-Wall denial" 1 '^  Chinese Wall: type Globex conflicts with type Acme of running domain' \
	-- hv create "$T/globex1.cfg"
expect "create: resource denial (disk)" 1 'create steal denied: label Acme may not use resource file:/img/globex.img' \
	-- hv create "$T/steal.cfg"
expect "dry-run: resource denial" 1 'DENY +resource_use +GlobexDisk' -- hv dry-run "$T/steal.cfg"
expect "dry-run: labelled vif checked by hvsecd" 1 'DENY +resource_use +GlobexDisk: may not use resource vlan:20' \
	-- hv dry-run "$T/net.cfg"
expect "create: labelled vif denied by hvsecd" 1 'create net denied: label Acme may not use resource vlan:20 \(label GlobexDisk\)' \
	-- hv create "$T/net.cfg"
u=0b7e3c5a-1f2d-4e6a-9c8b-7d6e5f4a3b2c
cfg "$T/tpm.cfg" tpm "vtpm = ['backend=vtpmmgr,uuid=$u']"
hv label add Acme dom "$T/tpm.cfg" >/dev/null
hv label add GlobexDisk res "vtpm:$u" >/dev/null
expect "create: labelled vTPM denied by hvsecd" 1 "create tpm denied: label Acme may not use resource vtpm:$u \\(label GlobexDisk\\)" \
	-- hv create "$T/tpm.cfg"
expect "create: vif denial audited" 0 'resource_use +dom [0-9]+ \(Acme\) -> vif vlan:20 \(GlobexDisk\)' -- hv audit
expect "create: label of another policy" 2 'other.cfg:[0-9]+: access_control: the label is for policy another, but hvsecd enforces multi-tenant' \
	-- hv create "$T/other.cfg"
expect "dry-run: unlabelled domain" 0 'as ACM:multi-tenant:__UNLABELED__' -- hv dry-run "$T/nolabel.cfg"

# ---- audit and stats
expect "audit" 0 'DENY +domain_create +dom [0-9]+ \(Globex\): Chinese Wall' -- hv audit
expect "audit: resource record" 0 'resource_use +dom [0-9]+ \(Acme\) -> disk file:/img/globex.img \(GlobexDisk\)' -- hv audit
expect "audit -n 1" 0 '' -- bash -c "test \$($(printf '%q ' "$HVSEC" --run-dir "$RUN") audit -n 1 | wc -l) -eq 1"
json_ok "audit --json" hv audit --json
expect "audit --since" 0 '#2 ' -- hv audit --since 2
( sleep 1; timeout 10 "$HVSEC" --run-dir "$RUN" create "$T/globex1.cfg" >/dev/null 2>&1 ) &
bg=$!
expect "audit --follow --count" 0 'DENY +domain_create' \
	-- timeout 20 "$HVSEC" --run-dir "$RUN" audit --follow -n 0 --count 1
wait "$bg"
expect "stats" 0 'domain_create +[0-9]+ +[0-9]+ +[0-9]+ +[1-9]' -- hv stats
expect "stats: hidden hooks" 0 'never called; --all lists them' -- hv stats
expect "stats --all" 0 'grant_transfer' -- hv stats --all
json_ok "stats --json" hv stats --json

# ---- relabel and live policy update
expect "relabel: blocked by a resource" 1 'acme1 .*NOT relabelled: 1 blocker.*' -- hv relabel acme1 Initech
expect "relabel --dry-run" 1 'Dry run: .* would not be relabelled' -- hv relabel acme1 Initech --dry-run
expect "relabel" 0 'Domain acme2 \(id=[0-9]+\): Acme -> Initech relabelled \(policy generation [0-9]+\)' \
	-- hv relabel acme2 Initech
expect "list shows the new label" 0 'acme2 .*ACM:multi-tenant:Initech' -- hv list --label
expect "relabel: unknown domain" 2 "no domain named 'zz'" -- hv relabel zz Acme
expect "relabel back" 0 'Initech -> Acme relabelled' -- hv relabel acme2 Acme
expect "update --dry-run" 0 'Dry run: Policy multi-tenant 1.1 would be updated: nothing blocks it' \
	-- hv policy update --dry-run "$T/v11.bin"
expect "update" 0 'Policy multi-tenant 1.1 updated \(policy generation [0-9]+\)' -- hv policy update "$T/v11.bin"
expect "policy show after update" 0 'Replaces +multi-tenant 1.0' -- hv policy show
expect "update blocked: blockers listed" 1 'chinese wall conflict: Domain-0 \(0\) and acme1 \([0-9]+\): domains 0 and [0-9]+ would conflict' \
	-- hv policy update "$T/v12.bin"
expect "update blocked: nothing changed" 0 'multi-tenant 1.1' -- hv policy show
json_ok "update --json" hv policy update -n "$T/v12.bin" --json
expect "update --json blockers" 1 '"blocked":true.*"kind":"chwall_conflict","domid":0,"domain":"Domain-0"' \
	-- hv policy update -n "$T/v12.bin" --json
expect "policy load: not a policy" 2 "acme1.cfg: policy truncated" -- hv policy load "$T/acme1.cfg"

# ---- mode
expect "mode" 0 'Mode: enforcing, event-channel sends direct' -- hv mode
expect "mode permissive" 0 'PERMISSIVE' -- hv mode permissive
expect "mode query leaves it permissive" 0 'Mode: PERMISSIVE' -- hv mode
expect "policy show: permissive" 0 'Mode +PERMISSIVE' -- hv policy show
json_ok "mode --json" hv mode --json
expect "mode enforcing" 0 'Mode: enforcing' -- hv mode enforcing

# ---- destroy
expect "destroy" 0 'Domain acme1 \(id=[0-9]+\) destroyed' -- hv destroy acme1
expect "destroy: unknown" 2 "no domain named 'acme9'" -- hv destroy acme9
expect "destroy dom0 refused" 2 'destroy Domain-0: .*EPERM' -- hv destroy 0
expect "destroy acme2" 0 'destroyed' -- hv destroy acme2
expect "Globex may start now" 0 'Started domain globex1' -- hv create "$T/globex1.cfg"

# ---- the daemon goes away
ts_stop
expect "daemon gone: exit 3" 3 'cannot reach hvsecd' -- hv list

tl_done
