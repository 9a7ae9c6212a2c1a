#!/usr/bin/env bash
# embed.sh SYMBOL FILE: prints a C file defining `const char SYMBOL[]` (NUL
# terminated) and `const unsigned long SYMBOL_len` with FILE's bytes.
# Uses only coreutils (od), so a fresh machine needs no xxd.
set -euo pipefail
sym=$1 file=$2
echo "/* generated from $file by scripts/embed.sh; do not edit */"
echo "const char ${sym}[] = {"
od -An -v -tx1 "$file" | sed -E 's/ ([0-9a-f]{2})/0x\1,/g'
echo "0x00 };"
echo "const unsigned long ${sym}_len = sizeof(${sym}) - 1;"
