#!/usr/bin/env bash
# The manual page and the shell completions are generated from calor's own options and key table
# (issue 18): every configuration key and every `calor run` flag is in the manual page, the page
# renders without a groff warning (where groff is installed), and the bash completion completes
# subcommands, flags, flag values and --set keys.
# Usage: docs_check.sh CALOR
set -uo pipefail
calor=$1
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }

man=$("$calor" man) || { echo "FAIL: calor man"; exit 1; }
keys=$("$calor" run --help | sed -n '/^Settings come from/,/^Presets:/p' |
       grep -oE '^  [a-z_]+(\.[a-z_]+)*' | sed 's/^  //')
[[ $(wc -w <<< "$keys") -gt 30 ]] || { echo "FAIL: found only $(wc -w <<< "$keys") keys in --help"; exit 1; }
missing=""
for k in $keys; do
  grep -q "^\.B ${k//./\\.}$" <<< "$man" || missing+=" $k"
done
check "every configuration key is in the manual page" '[[ -z $missing ]] || { echo "missing:$missing"; false; }'
flags=$("$calor" run --help | grep -oE '^  --[a-z-]+' | sed 's/^  //')
missing=""
for f in $flags; do
  grep -qF "${f//-/\\-}" <<< "$man" || missing+=" $f"  # roff writes - as \-
done
check "every calor run flag is in the manual page" '[[ -z $missing ]] || { echo "missing:$missing"; false; }'
if command -v groff > /dev/null; then
  warnings=$(groff -man -Tutf8 -ww -z <<< "$man" 2>&1)
  check "the manual page renders without a groff warning" '[[ -z $warnings ]] || { echo "$warnings" | head -5; false; }'
fi

# shellcheck disable=SC1090
source <("$calor" completion bash)
complete_words() {  # the completions of the command line "$@" (the last word being completed)
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _calor
  echo " ${COMPREPLY[*]} "
}
check "bash: subcommands" '[[ $(complete_words calor r) == *" run "* && $(complete_words calor r) == *" render "* ]]'
check "bash: flags of calor run" '[[ $(complete_words calor run --ba) == " --backend " ]]'
check "bash: the backends" '[[ $(complete_words calor run --backend "") == *" tiled "* ]]'
check "bash: --set keys" '[[ $(complete_words calor run --set output.p) == " output.path= output.png= output.png_every= output.png_range= output.png_log= " ]]'
check "bash: bench subcommands" '[[ $(complete_words calor bench "") == *" node "* ]]'
if command -v zsh > /dev/null; then
  check "zsh: the script parses" '"$calor" completion zsh | zsh -n'
fi
check "an unknown shell is refused" '! "$calor" completion fish 2> /dev/null'
exit $fail
