#!/usr/bin/env bash
# gort against Go, workload by workload (bench/*.c against shared/peers/go/cmd/*).
#
#   tools/bench.sh BUILD            every configuration RUNS times (env, default 3),
#                                   gort and Go alternated, then the table of medians
#   tools/bench.sh BUILD -quick     the same with n divided by 10: a quick look, not a result
#   tools/bench.sh BUILD --smoke    each gort program once at a tiny size; fails unless each
#                                   prints exactly one well-formed JSON line (for CTest)
#   tools/bench.sh --table FILE     the table of any file of JSON lines, gort's and Go's
#   BENCH_ONLY="alloc gcpause"      (env) only these workloads
#
# The machine these run on is noisy (see shared/peers/go/README.md): cross-CPU latency
# changes by 10x from one minute to the next.  So the two sides are only compared in runs
# taken close together: each configuration runs gort and Go back to back, in an order that
# alternates from round to round, and the table takes medians.  Before each pair a Go c2c
# probe records the machine's cross-CPU latency, the witness of its state at that moment.
# Results (JSON lines, probes included) go to BUILD/bench/results.jsonl.  Go comes from
# `go` on the PATH, /usr/lib/go-1.19/bin/go or $GO; without it gort's figures print alone.
# Only bash and awk: no python, no jq.
set -eu -o pipefail

usage() {
	sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

repo=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_DIR:-$(dirname "$repo")/shared/peers/go}
runs=${RUNS:-3}
mode=full
build=
table_file=
while [ $# -gt 0 ]; do
	case $1 in
	-quick | --quick) mode=quick ;;
	-smoke | --smoke) mode=smoke ;;
	-table | --table)
		[ $# -ge 2 ] || usage
		mode=table table_file=$2
		shift
		;;
	-h | -help | --help) usage ;;
	-*) echo "bench.sh: unknown option $1" >&2; usage ;;
	*) [ -z "$build" ] || usage; build=$1 ;;
	esac
	shift
done
[ "$mode" = table ] || [ -n "$build" ] || usage

# The configurations, in the order of the issue's table.  Each is a program and its flags.
configs=(
	"spawn"
	"pingpong -procs 1"
	"pingpong -procs 2"
	"prodcons -cap 0"
	"prodcons -cap 100"
	"select -mode recv"
	"select -mode nonblock"
	"skynet"
	"mutex"
	"idle"
	"alloc -size 16"
	"alloc -size 64"
	"alloc -size 256"
	"binarytrees"
	"gcpause"
)

# scaled CONFIG DIVISOR: the flags that divide the configuration's operation count.
scaled() {
	local name=${1%% *} div=$2
	case $1 in
	spawn | idle | skynet | pingpong*) echo "-n $((1000000 / div))" ;;
	prodcons*) echo "-n $((10000000 / div))" ;;
	"select -mode recv") echo "-n $((4000000 / div))" ;;
	"select -mode nonblock") echo "-n $((10000000 / div))" ;;
	mutex) echo "-k $((100000 / div))" ;;
	alloc*) echo "-n $((50000000 / div))" ;;
	binarytrees) [ "$div" -gt 1 ] && echo "-depth 16" || echo "" ;;
	gcpause) [ "$div" -gt 1 ] && echo "-live-mib $((1024 / div)) -seconds 1" || echo "" ;;
	*) echo "bench.sh: no scale for $name" >&2; return 1 ;;
	esac
}

# ---- the table ------------------------------------------------------------------------
# Reads JSON lines (one flat object each) and prints, per configuration, the median of its
# headline figure for gort and for Go, their ratio and the target.  A configuration is the
# bench plus the fields that name its flags, as in shared/peers/go/tools/table.
table() {
	awk '
	function field(line, key,   i, rest) {
		i = index(line, "\"" key "\":")
		if (i == 0) return ""
		rest = substr(line, i + length(key) + 3)
		if (substr(rest, 1, 1) == "\"") {
			rest = substr(rest, 2)
			return substr(rest, 1, index(rest, "\"") - 1)
		}
		match(rest, /^[^,}]*/)
		return substr(rest, 1, RLENGTH)
	}
	function median(list,   xs, m, i, j, t) {
		m = split(list, xs, " ")
		if (m == 0) return ""
		for (i = 2; i <= m; i++)
			for (j = i; j > 1 && xs[j - 1] + 0 > xs[j] + 0; j--) {
				t = xs[j]; xs[j] = xs[j - 1]; xs[j - 1] = t
			}
		if (m % 2) return xs[(m + 1) / 2] + 0
		return (xs[m / 2] + xs[m / 2 + 1]) / 2
	}
	function fmt(v,   a) {
		if (v == "") return "-"
		a = v < 0 ? -v : v
		if (a >= 1000) return sprintf("%.0f", v)
		if (a >= 100) return sprintf("%.1f", v)
		if (a >= 10) return sprintf("%.2f", v)
		return sprintf("%.3g", v)
	}
	BEGIN {
		split("spawn:n pingpong:gomaxprocs,n prodcons:cap,p,n select:mode,n skynet:n mutex:g,n idle:n alloc:size,n binarytrees:depth gcpause:live_mib,mutators", cs, " ")
		for (i in cs) { split(cs[i], kv, ":"); confkeys[kv[1]] = kv[2] }
		split("skynet:wall_ms idle:bytes_per_goroutine binarytrees:wall_s gcpause:max_pause_us", fs, " ")
		for (i in fs) { split(fs[i], kv, ":"); figure[kv[1]] = kv[2] }
		split("spawn:0.5 pingpong:0.4 prodcons:0.7 select/recv:0.7 skynet:0.5 mutex:1.0 idle:1.7 alloc:1.0 binarytrees:1.0 gcpause:1.0", ts, " ")
		for (i in ts) { split(ts[i], kv, ":"); target[kv[1]] = kv[2] }
		nx = split("alloc:glibc_ns_per_op:- binarytrees:max_rss_kib:1.3 gcpause:probe_p99_us:1.0", xs, " ")
	}
	/^\{/ {
		bench = field($0, "bench"); impl = field($0, "impl")
		if (bench == "c2c") {
			c2c = c2c " " field($0, "ns_per_op"); nc2c++
			next
		}
		if (!(bench in confkeys) || (impl != "gort" && impl != "go")) next
		conf = ""
		nk = split(confkeys[bench], ks, ",")
		for (i = 1; i <= nk; i++)
			conf = conf (i > 1 ? " " : "") ks[i] "=" field($0, ks[i])
		f = bench in figure ? figure[bench] : "ns_per_op"
		v = field($0, f)
		if (v == "" || v == "null") next
		key = bench SUBSEP conf
		if (!(key in seen)) { seen[key] = 1; order[++nrows] = key; fig[key] = f }
		vals[key, impl] = vals[key, impl] " " v
		nruns[key, impl]++
		# second figures: glibc malloc in the alloc run, RSS, probe lateness
		for (i = 1; i <= nx; i++) {
			split(xs[i], kv, ":")
			if (kv[1] != bench) continue
			w = field($0, kv[2])
			if (w == "" || w == "null") continue
			xkey = key SUBSEP kv[2]
			if (!(xkey in xseen)) { xseen[xkey] = 1; xorder[++nxrows] = xkey; xtarget[xkey] = kv[3] }
			xvals[xkey, impl] = xvals[xkey, impl] " " w
			if (kv[2] == "glibc_ns_per_op" && impl == "gort") xvals[xkey, "glibc"] = xvals[xkey, "glibc"] " " w
			xruns[xkey, impl]++
		}
	}
	END {
		printf "| %-8s | %-26s | %-19s | %-18s | %-16s | %-7s | %-11s |\n", \
			"workload", "configuration", "figure", "gort median (runs)", "go median (runs)", "gort/go", "target"
		print "|----------|----------------------------|---------------------|--------------------|------------------|---------|-------------|"
		for (r = 1; r <= nrows; r++) {
			key = order[r]
			split(key, bc, SUBSEP)
			g = median(vals[key, "gort"]); o = median(vals[key, "go"])
			ratio = (g != "" && o != "" && o > 0) ? sprintf("%.2f", g / o) : "-"
			t = bc[1]
			if (t == "select" && match(bc[2], /^mode=[a-z]+/)) t = t "/" substr(bc[2], 6, RLENGTH - 5)
			tgt = "-"
			if (t in target) {
				tgt = "<= " target[t]
				if (ratio != "-") tgt = tgt (ratio + 0 <= target[t] + 0 ? " ok" : " MISS")
			} else if (bc[1] == "select") {
				tgt = "(report)"
			}
			printf "| %-8s | %-26s | %-19s | %-18s | %-16s | %-7s | %-11s |\n", bc[1], bc[2], fig[key], \
				fmt(g) " (" nruns[key, "gort"] + 0 ")", fmt(o) " (" nruns[key, "go"] + 0 ")", ratio, tgt
		}
		for (r = 1; r <= nxrows; r++) {
			xkey = xorder[r]
			split(xkey, bc, SUBSEP)
			g = median(xvals[xkey, "gort"])
			if (bc[3] == "glibc_ns_per_op") {
				# gort ns_per_op against glibc, both from the gort runs
				o = g; g = median(vals[bc[1] SUBSEP bc[2], "gort"])
				ratio = (g != "" && o != "" && o > 0) ? sprintf("%.2f", g / o) : "-"
				printf "| %-8s | %-26s | %-19s | %-18s | %-16s | %-7s | %-11s |\n", bc[1], bc[2] " vs glibc", \
					"ns_per_op", fmt(g), fmt(o) " (glibc)", ratio, "(report)"
				continue
			}
			o = median(xvals[xkey, "go"])
			ratio = (g != "" && o != "" && o > 0) ? sprintf("%.2f", g / o) : "-"
			tgt = "<= " xtarget[xkey]
			if (ratio != "-") tgt = tgt (ratio + 0 <= xtarget[xkey] + 0 ? " ok" : " MISS")
			printf "| %-8s | %-26s | %-19s | %-18s | %-16s | %-7s | %-11s |\n", bc[1], bc[2], bc[3], \
				fmt(g) " (" xruns[xkey, "gort"] + 0 ")", fmt(o) " (" xruns[xkey, "go"] + 0 ")", ratio, tgt
		}
		if (nc2c) printf "\nmachine: c2c cross-CPU round trip median %s ns over %d probes\n", fmt(median(c2c)), nc2c
	}' "$@"
}

if [ "$mode" = table ]; then
	table "$table_file"
	exit
fi

bin=$(cd "$build" && pwd)/bench
[ -d "$bin" ] || { echo "bench.sh: no $bin (build first: make)" >&2; exit 2; }
# a deadlocked program must not hang the harness (nor CTest, for --smoke)
timeout_cmd=()
if command -v timeout >/dev/null; then
	default_timeout=600
	[ "$mode" != smoke ] || default_timeout=60
	timeout_cmd=(timeout "${BENCH_TIMEOUT:-$default_timeout}")
fi

# run IMPL CONFIG [EXTRA FLAGS]: runs one program and prints its JSON line on stdout;
# on failure says why on stderr and returns 1.
run() {
	local impl=$1 config=$2 extra=${3:-} prog out err rc
	prog=$bin/${config%% *}
	[ "$impl" = go ] && prog=$bin/go/${config%% *}
	[ -x "$prog" ] || { echo "bench.sh: no program $prog" >&2; return 1; }
	err=$(mktemp)
	rc=0
	# shellcheck disable=SC2086 # flags are words
	out=$("${timeout_cmd[@]}" "$prog" ${config#"${config%% *}"} $extra 2>"$err") || rc=$?
	if [ $rc -ne 0 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] ||
		! printf '%s\n' "$out" | grep -Eq '^\{"bench":"'"${config%% *}"'","impl":"'"$impl"'","gomaxprocs":[0-9]+,.*"max_rss_kib":[0-9]+\}$'; then
		echo "bench.sh: FAILED ($impl, exit $rc): $config${extra:+ $extra}" >&2
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/  stdout: /' | head -5 >&2
		sed 's/^/  stderr: /' "$err" | head -20 >&2
		rm -f "$err"
		return 1
	fi
	rm -f "$err"
	printf '%s\n' "$out"
}

# ---- smoke: every gort program once, tiny, through each flag syntax --------------------
if [ "$mode" = smoke ]; then
	smoke=(
		"spawn|-n 1000"
		"pingpong|-procs 1 -n=1000"
		"pingpong|--procs=2 --n 1000"
		"prodcons|-cap 0 -n 10000"
		"prodcons|-cap=100 -n 10000 -p 2"
		"select|-mode recv -n 4000"
		"select|-mode=nonblock -n 10000"
		"skynet|-n 1000"
		"mutex|-g 10 -k 1000"
		"idle|-n 1000"
		"alloc|-size 16 -n 100000"
		"binarytrees|-depth 8"
		"gcpause|-live-mib 8 -seconds 0.2"
	)
	fails=0
	for s in "${smoke[@]}"; do
		if line=$(run gort "${s%%|*} ${s#*|}"); then
			echo "ok   ${s%%|*} ${s#*|}: $line"
		else
			echo "FAIL ${s%%|*} ${s#*|}"
			fails=$((fails + 1))
		fi
	done
	[ $fails -eq 0 ] || { echo "bench.sh: $fails smoke runs failed" >&2; exit 1; }
	exit 0
fi

# ---- the comparison ----------------------------------------------------------------------
go=${GO:-$(command -v go || echo /usr/lib/go-1.19/bin/go)}
have_go=
if [ -x "$go" ] && [ -d "$peers/cmd" ]; then
	if [ -z "${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-}" ]; then export GOCACHE=${TMPDIR:-/tmp}/peers-go-cache; fi
	echo "bench.sh: building the Go peers ($peers) into $bin/go" >&2
	if (cd "$peers" && "$go" build -trimpath -o "$bin/go/" ./cmd/...); then
		have_go=1
	else
		echo "bench.sh: the Go peers did not build; gort's figures only" >&2
	fi
else
	echo "bench.sh: no Go toolchain or no $peers; gort's figures only" >&2
fi

if [ -n "${BENCH_ONLY:-}" ]; then
	kept=()
	for c in "${configs[@]}"; do
		case " $BENCH_ONLY " in *" ${c%% *} "*) kept+=("$c") ;; esac
	done
	configs=("${kept[@]}")
fi

results=$bin/results.jsonl
: >"$results"
failed=0
for ((r = 1; r <= runs; r++)); do
	impls="gort${have_go:+ go}"
	# alternate who goes first, so that neither side always runs on a warmer machine
	[ $((r % 2)) -eq 1 ] || impls="${have_go:+go }gort"
	for c in "${configs[@]}"; do
		extra=
		[ "$mode" = full ] || extra=$(scaled "$c" 10)
		echo "bench.sh: round $r/$runs: $c${extra:+ $extra}" >&2
		if [ -n "$have_go" ]; then
			run go c2c >>"$results" || true
		fi
		for impl in $impls; do
			if line=$(run "$impl" "$c" "$extra"); then
				printf '%s\n' "$line" | tee -a "$results" >&2
			else
				failed=$((failed + 1))
			fi
		done
	done
done

echo >&2
[ "$mode" = full ] || echo "(-quick: every n divided by 10; a smoke run, not a result)"
table "$results"
echo "results: $results"
[ $failed -eq 0 ] || { echo "bench.sh: $failed runs failed" >&2; exit 1; }
