# Check counting for the shell tests; source it after setting $work.
# pass/fail count checks, expect_exit runs a command into $work/out.txt and
# $work/err.txt and checks its exit code, and report prints the closing line
# and returns non-zero when any check failed.
failures=0
checks=0

pass() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
expect_exit() {  # expect_exit CODE DESCRIPTION -- COMMAND...
  local expected=$1 description=$2
  shift 3
  "$@" >"$work/out.txt" 2>"$work/err.txt"
  local actual=$?
  if [[ $actual -eq $expected ]]; then pass; else fail "$description: exit $actual, expected $expected"; cat "$work/err.txt"; fi
}
report() {
  echo "$((checks - failures)) passed, $failures failed"
  [[ $failures -eq 0 ]]
}
