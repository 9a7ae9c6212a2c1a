#!/usr/bin/env bash
# matrix.sh [--print] [FILE.cases...] - golden decision matrices, run through
# the hvsec-polc CLI.  With no file, runs every tests/acm/matrix/*.cases.
#
# A .cases file is a table, one row per line; '#' starts a comment line.
# Columns are separated by blanks; the optional REGEX is the rest of the line
# (an extended regex matched against the command's whole output; runs of
# blanks in it count as one blank).
#
#   policy    PATH [ALIAS]          compile PATH (must succeed; warnings
#                                   are policies.sh's business); it becomes
#                                   the policy of the decision rows below.  ALIAS defaults to
#                                   the file name without -security_policy.xml
#                                   or .xml.
#   derive    ALIAS BASE OP [; OP]  write @ALIAS, a copy of BASE edited by
#                                   OPs: "sed EXPR", "drop-vm NAME",
#                                   "drop-res NAME" (remove that label's
#                                   element), "version X.Y from NAME X.Y"
#                                   (new Version plus a FromPolicy header).
#   compile   PATH EXIT [REGEX]     compile, expect exit status EXIT.
#   share     A B        permit|deny|error [REGEX]
#   create    L [running=L1,L2,...] permit|deny|error [REGEX]
#   resource  VM RES     permit|deny|error [REGEX]
#   authorize HOST VM    permit|deny|error [REGEX]
#   update    OLD NEW [running=L@ID,...] [share=ID:ID,...] [resource=ID:RES,...]
#             ok|blocked|error [REGEX]
#                                   update-check OLD.bin NEW.bin (aliases of
#                                   policies compiled above).
#
# PATH may start with $HVSEC_SRC or $HVSEC_SHARED (expanded here), be
# @ALIAS (a derived file), or be relative to the checkout.  permit/deny rows
# check the exit status (0/1) and the first line ("permit" / "deny: ...");
# error rows check exit status 2.
#
# --print re-runs the rows and prints each table with the decisions the CLI
# gives now instead of checking them: `diff` it against the file to see
# exactly which decisions a change moved.
: "${HVSEC_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck source=tests/lib.sh
source "$HVSEC_SRC/tests/lib.sh"

POLC=$HVSEC_BIN/hvsec-polc
print_mode=0
if [ "${1:-}" = "--print" ]; then print_mode=1; shift; fi
files=("$@")
[ ${#files[@]} -eq 0 ] && files=("$HVSEC_SRC"/tests/acm/matrix/*.cases)

if [ ! -x "$POLC" ]; then
	echo "matrix.sh: $POLC not built"
	ok "hvsec-polc exists" 1 "$POLC is missing"
	tl_done
fi

declare -A BIN     # alias -> compiled .bin
declare -A DERIVED # alias -> derived .xml
cur=""             # alias of the policy decision rows use
work=""            # per-file scratch directory
where=""           # FILE:LINE of the row being run

fail_row() { # message
	ok "$where" 1 "$1"
}

expand_path() {
	local p=$1
	# A row names the literal text "$HVSEC_SHARED" or "$HVSEC_SRC".
	# shellcheck disable=SC2016
	p=${p//'$HVSEC_SHARED'/$HVSEC_SHARED}
	# shellcheck disable=SC2016
	p=${p//'$HVSEC_SRC'/$HVSEC_SRC}
	if [[ $p == @* ]]; then
		local a=${p#@}
		if [ -z "${DERIVED[$a]:-}" ]; then echo "/nonexistent/derived-$a.xml"; return; fi
		p=${DERIVED[$a]}
	fi
	[[ $p == /* ]] || p=$HVSEC_SRC/$p
	printf '%s\n' "$p"
}

default_alias() {
	local b
	b=$(basename "$1")
	b=${b%-security_policy.xml}
	b=${b%.xml}
	printf '%s\n' "$b"
}

# drop_block TAG NAME < in > out: removes every <TAG>...</TAG> element whose
# <Name> (with or without from=) is NAME.
drop_block() {
	awk -v tag="$1" -v name="$2" '
	function flush() {
		if (buf !~ ("<Name( from=\"[^\"]*\")?>" name "</Name>")) printf "%s", buf
		buf = ""; inblk = 0
	}
	{
		if (!inblk && index($0, "<" tag ">")) { inblk = 1; buf = "" }
		if (inblk) {
			buf = buf $0 "\n"
			if (index($0, "</" tag ">")) flush()
			next
		}
		print
	}
	END { if (inblk) printf "%s", buf }'
}

# apply_op OP ARGS... < in > out
apply_op() {
	local op=$1
	shift
	case "$op" in
	sed) sed -e "$*" ;;
	drop-vm) drop_block VirtualMachineLabel "$1" ;;
	drop-res) drop_block ResourceLabel "$1" ;;
	version)
		# version X.Y from NAME X.Y
		[ "${2:-}" = from ] || { echo "derive: usage: version X.Y from NAME X.Y" >&2; return 1; }
		sed -e "0,/<Version>[^<]*<\/Version>/s//<Version>$1<\/Version><FromPolicy><PolicyName>$3<\/PolicyName><Version>$4<\/Version><\/FromPolicy>/" ;;
	*) echo "derive: unknown operation '$op'" >&2; return 1 ;;
	esac
}

do_derive() { # alias base op-string
	local alias=$1 base out ops rest op
	base=$(expand_path "$2")
	out=$work/derived-$alias.xml
	rest=$3
	cp "$base" "$out.0" || { fail_row "derive: cannot read $base"; return; }
	while [ -n "$rest" ]; do
		if [[ $rest == *' ; '* ]]; then op=${rest%%' ; '*}; rest=${rest#*' ; '}; else op=$rest; rest=""; fi
		read -r -a ops <<<"$op"
		if [ "${ops[0]}" = sed ]; then
			apply_op sed "${op#sed }" <"$out.0" >"$out.1" || { fail_row "derive: '$op' failed"; return; }
		else
			apply_op "${ops[@]}" <"$out.0" >"$out.1" || { fail_row "derive: '$op' failed"; return; }
		fi
		if cmp -s "$out.0" "$out.1"; then fail_row "derive: '$op' changed nothing in $base"; return; fi
		mv "$out.1" "$out.0"
	done
	mv "$out.0" "$out"
	DERIVED[$alias]=$out
	ok "$where" 0 ""
}

do_policy() { # path [alias]
	local path alias out rc
	path=$(expand_path "$1")
	if [ -n "${2:-}" ]; then alias=$2
	elif [[ $1 == @* ]]; then alias=${1#@}
	else alias=$(default_alias "$path"); fi
	out=$work/$alias.bin
	local log
	log=$("$POLC" compile "$path" -o "$out" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		fail_row "compile $path: exit $rc: $(head -c 600 <<<"$log")"
		unset "BIN[$alias]"
	else
		BIN[$alias]=$out
		ok "$where" 0 ""
	fi
	cur=$alias
}

# check WANT REGEX OUT RC: permit/deny/error/ok/blocked semantics.
check() {
	local want=$1 re=$2 out=$3 rc=$4 first want_rc first_re
	first=${out%%$'\n'*}
	case "$want" in
	permit) want_rc=0 first_re='^permit$' ;;
	deny) want_rc=1 first_re='^deny: .+' ;;
	ok) want_rc=0 first_re='^ok' ;;
	blocked) want_rc=1 first_re='^blocked: .+' ;;
	error) want_rc=2 first_re='' ;;
	*) fail_row "bad expectation '$want'"; return ;;
	esac
	if [ "$rc" -ne "$want_rc" ]; then
		fail_row "exit $rc, wanted $want_rc ($want); output:
$(head -c 1500 <<<"$out" | sed 's/^/  | /')"
		return
	fi
	if [ -n "$first_re" ] && ! [[ $first =~ $first_re ]]; then
		fail_row "first line '$first' is not $want"
		return
	fi
	if [ -n "$re" ] && ! grep -Eq -- "$re" <<<"$out"; then
		fail_row "output does not match /$re/:
$(head -c 1500 <<<"$out" | sed 's/^/  | /')"
		return
	fi
	ok "$where" 0 ""
}

# Prints a row again, unchanged if the CLI still gives the expected decision,
# else with the decision the CLI gives now (and the reason regex dropped,
# with its first output line as a comment above the row).
print_row() { # line kind want rc out
	local line=$1 kind=$2 want=$3 rc=$4 out=$5 got
	case "$kind:$rc" in
	update:0) got=ok ;; update:1) got=blocked ;;
	*:0) got=permit ;; *:1) got=deny ;; *) got=error ;;
	esac
	if [ "$got" = "$want" ]; then
		printf '%s\n' "$line"
		return
	fi
	printf '# now: %s\n' "$(head -n 1 <<<"$out")"
	sed -E "s/([[:space:]])$want([[:space:]].*)?\$/\1$got/" <<<"$line"
}

run_file() {
	local f=$1 lineno=0 line base
	local -a t
	base=${f##*/}
	work=$TL_TMP/${base%.cases}
	mkdir -p "$work"
	cur=""
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		if [[ $line =~ ^[[:space:]]*(#|$) ]]; then
			[ $print_mode -eq 1 ] && printf '%s\n' "$line"
			continue
		fi
		read -r -a t <<<"$line"
		where="$base:$lineno: ${t[*]}"
		local kind=${t[0]} want re="" out rc
		local -a cmd=()
		case "$kind" in
		policy)
			do_policy "${t[1]}" "${t[2]:-}"
			[ $print_mode -eq 1 ] && printf '%s\n' "$line"
			continue ;;
		derive)
			local rest=${line#*derive}
			rest=${rest#*"${t[1]}"}; rest=${rest#*"${t[2]}"}
			rest=$(sed -E 's/^[[:space:]]+//' <<<"$rest")
			do_derive "${t[1]}" "${t[2]}" "$rest"
			[ $print_mode -eq 1 ] && printf '%s\n' "$line"
			continue ;;
		compile)
			local path
			path=$(expand_path "${t[1]}")
			re="${t[*]:3}"
			out=$("$POLC" compile "$path" -o "$work/compile-$lineno.bin" 2>&1)
			rc=$?
			if [ $print_mode -eq 1 ]; then
				printf '%s\n' "$line"
			elif [ "$rc" -ne "${t[2]}" ]; then
				fail_row "exit $rc, wanted ${t[2]}; output:
$(head -c 1500 <<<"$out" | sed 's/^/  | /')"
			elif [ -n "$re" ] && ! grep -Eq -- "$re" <<<"$out"; then
				fail_row "output does not match /$re/:
$(head -c 1500 <<<"$out" | sed 's/^/  | /')"
			else
				ok "$where" 0 ""
			fi
			continue ;;
		share | resource | authorize)
			[ ${#t[@]} -ge 4 ] || { fail_row "malformed row"; continue; }
			want=${t[3]} re="${t[*]:4}"
			cmd=(decide "${BIN[$cur]:-/nonexistent/$cur.bin}" "--$kind" "${t[1]}" "${t[2]}") ;;
		create)
			local i=2
			cmd=(decide "${BIN[$cur]:-/nonexistent/$cur.bin}" --create "${t[1]}")
			if [[ ${t[2]:-} == running=* ]]; then
				[ -n "${t[2]#running=}" ] && cmd+=(--running "${t[2]#running=}")
				i=3
			fi
			want=${t[$i]:-} re="${t[*]:$((i + 1))}" ;;
		update)
			local i=3 old=${t[1]} new=${t[2]}
			cmd=(update-check "${BIN[$old]:-/nonexistent/$old.bin}" "${BIN[$new]:-/nonexistent/$new.bin}")
			while [[ ${t[$i]:-} =~ ^(running|share|resource)= ]]; do
				local k=${t[$i]%%=*} v=${t[$i]#*=}
				[ -n "$v" ] && cmd+=("--$k" "$v")
				i=$((i + 1))
			done
			want=${t[$i]:-} re="${t[*]:$((i + 1))}" ;;
		*)
			fail_row "unknown row kind '$kind'"
			continue ;;
		esac
		if [ -z "$cur" ] && [ "$kind" != update ]; then
			fail_row "no policy line before this row"
			continue
		fi
		out=$("$POLC" "${cmd[@]}" 2>&1)
		rc=$?
		if [ $print_mode -eq 1 ]; then
			print_row "$line" "$kind" "$want" "$rc" "$out"
		else
			check "$want" "$re" "$out" "$rc"
		fi
	done <"$f"
}

for f in "${files[@]}"; do
	[ -e "$f" ] || { ok "$f" 1 "no such file"; continue; }
	run_file "$f"
done
if [ $print_mode -eq 1 ]; then
	exit 0
fi
tl_done
