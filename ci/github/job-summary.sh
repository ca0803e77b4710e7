#!/usr/bin/env bash
# The job summary of gpiohil's workflows (ci/github/*.yml, docs/ci.md): what changed since the
# last successful run, then the answer, the Markdown that gpiohil report --md wrote.
#
#   ci/github/job-summary.sh MATRIX_MD BASELINE_DIR JUNIT...
#
# BASELINE_DIR holds the JUnit reports (suites-*.xml, at any depth) of the workflow's last
# successful run, from its artifact; it is missing or empty on a first run, which the summary
# says and is not an error. The changes (gpiohil report --baseline, given each report) also go
# to build/changes.txt. Environment, all optional:
# GPIOHIL (default bin/gpiohil), PREVIOUS_RUN (that run in Markdown, e.g. a link to it), BRANCH
# (the branch it ran on).
#
# Writes to $GITHUB_STEP_SUMMARY (stdout when unset). Exits 0 whatever changed: a change is
# news for the summary, not a failure (failed specs fail the run step); a changed cell or an
# unusable baseline also becomes an annotation. Exits 2 when called wrongly.
set -euo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 MATRIX_MD BASELINE_DIR JUNIT..." >&2
	exit 2
fi
matrix=$1 base_dir=$2
shift 2
gpiohil=${GPIOHIL:-bin/gpiohil}
summary=${GITHUB_STEP_SUMMARY:-/dev/stdout}
changes=build/changes.txt
mkdir -p build

baseline=()
if [ -d "$base_dir" ]; then
	mapfile -t baseline < <(find "$base_dir" -name 'suites-*.xml' -type f | sort)
fi
previous=${PREVIOUS_RUN:-the last successful run}
if [ -n "${BRANCH:-}" ]; then
	previous+=" on \`$BRANCH\`"
fi

# section writes the "what changed" section, and annotations to stdout.
section() {
	echo "## What changed since the last successful run"
	echo
	if [ ${#baseline[@]} -eq 0 ]; then
		echo "Nothing to compare with: no earlier successful run${BRANCH:+ on \`$BRANCH\`} left a report (a first run, or its artifact expired)."
		echo "Nothing to compare with: no earlier successful run left a report." >"$changes"
		return
	fi
	local args=() f status=0
	for f in "${baseline[@]}"; do
		args+=(--baseline "$f")
	done
	"$gpiohil" report "${args[@]}" "$@" >"$changes" 2>&1 || status=$?
	case $status in
	0)
		echo "Compared with $previous: $(tail -n 1 "$changes")."
		;;
	1)
		echo "<details><summary>Compared with $previous: $(tail -n 1 "$changes")</summary>"
		echo
		echo '```text'
		head -n -2 "$changes"
		echo '```'
		echo
		echo "</details>"
		echo "::notice title=gpiohil::$(tail -n 1 "$changes")" >&3
		;;
	*)
		echo "The report of $previous could not be used (gpiohil report --baseline, exit $status):"
		echo
		echo '```text'
		cat "$changes"
		echo '```'
		echo "::warning title=gpiohil::the last successful run's report could not be used as a baseline: $(head -n 1 "$changes")" >&3
		;;
	esac
}

{
	section "$@"
	echo
	if [ -f "$matrix" ]; then
		cat "$matrix"
	else
		echo "No matrix: $matrix was not written (see the run's log)."
	fi
} 3>&1 >>"$summary"
