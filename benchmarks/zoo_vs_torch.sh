#!/bin/sh
# zoo_vs_torch.sh: every zoo model trained by the `aezoo train` command (the
# CLI's own training path) beside its PyTorch equivalent (zoo_torch.py: same
# layer sizes, losses, penalty scalings, probes, noise, inner steps, Adam at
# lr 1e-3, same batch size, same Fashion-MNIST images), interleaved, for
# several rounds, at each thread count (a model's thread counts in turn
# within a round). Prints a markdown table per thread
# count: ms per training step (wall, the best of the rounds), CPU ms per step
# (user + system, all threads; PyTorch's the best of the rounds, aezoo's,
# from whole processes, the median), peak RSS over a
# baseline (MiB, the largest of the rounds), and PyTorch / aezoo ratios
# (above 1: aezoo is faster); then, per model, the step's matrix-product
# work (GFLOP, counted by PyTorch's profiler on its side of the same model)
# and the rate aezoo's best step reaches against the CPU's FMA peak,
# measured beside each aezoo run (benchmarks/bench_gemm --peak). Raw
# results go to a CSV file.
#
# Usage: benchmarks/zoo_vs_torch.sh [options]
#   --models a,b,c    models (default: all of `aezoo list`)
#   --rounds R        rounds (default 3); the side that runs first alternates
#   --steps N         timed steps of every model (default: per model, about
#                     a second of aezoo at 1 thread; see default_steps)
#   --warmup W        untimed steps before them (default 5)
#   --threads "1 2"   thread counts (default "1 2")
#   --batch-size B    (default 128)
#   --quick           1 round, 10 steps, 2 warm-up, 5000 training images
#   --csv FILE        raw results (default: zoo_vs_torch.csv in the current directory)
#   --aezoo PATH      the aezoo executable (default build/cli/aezoo)
#   --data-dir DIR    reuse a directory made by zoo_data.py
#   --limit N         training images (default all 60000)
#   --report FILE     only print the tables of an earlier run's CSV file(s)
#                     (FILE may be a comma-separated list; their rows are pooled)
#   --blas-core C     the kernels PyTorch's OpenBLAS runs: auto (default)
#                     lets OpenBLAS detect the CPU; inherit keeps the
#                     environment's OPENBLAS_CORETYPE; another value sets it
#   --torch-isa I     the kernels PyTorch's own ops run: auto (default)
#                     avx512 where the CPU has it; inherit, default, avx2,
#                     avx512 (peer_env.sh says why the defaults are auto)
#   --check           instead of timing: each model's first loss and terms
#                     in aezoo and PyTorch on the same batch at the same
#                     weights (aezoo runs one step at --lr 0; PyTorch loads
#                     its checkpoint), a check that both compute the same thing
# Environment: PYTHON (default /usr/bin/python3, Debian's, which has torch).
# OMP_WAIT_POLICY passes through to both sides: on a busy machine set it to
# passive, or PyTorch's OpenMP threads spin while waiting (aezoo waits
# passively unless told otherwise) and its 2-thread steps slow down many times.
# Exit status 77 when PyTorch cannot be imported (a skipped test).
#
# How each side is measured (both exclude start-up: data loading, model
# building, imports):
#   aezoo: three runs of `aezoo train MODEL --steps W+N+1 --batch-size B
#     --quiet --threads T --data train-images-idx3-ubyte --test-data test.npy`: a baseline
#     run with --init of an absent file (it loads the data and builds the
#     model, then stops with an error before the first step), one with
#     --stop-after W and one with --stop-after W+N (both stop with a
#     checkpoint before the budget's end, so no test loss is computed).
#     ms/step: train.csv's wall_time at step W+N minus at step W, over N.
#     CPU ms/step: CPU time of the W+N run minus the W run, over N (the
#     median of the rounds: each run's start-up varies by tenths of a
#     second, and the best of the rounds would pick that noise).
#     RSS over baseline: peak RSS of the W+N run minus the baseline run's.
#   PyTorch: zoo_torch.py bench: W untimed steps, then N timed in-process
#     (wall and getrusage CPU); RSS over baseline: ru_maxrss after the last
#     step minus before the first (data, model and optimiser built).
#   Minor page faults per step (a table of its own, each round): aezoo's,
#     the W+N run's ru_minflt minus the W run's, over N; PyTorch's, over the
#     N timed steps in-process.
#   GFLOP per step: one more PyTorch step under torch.autograd.profiler
#     (with_flops), its matrix products (mm, addmm, bmm) summed, plus its
#     convolutions' forward and backward counted from their shapes (PyTorch
#     1.13's profiler does not count a convolution's backward): the work
#     both sides do, since they run the same products (--check); aezoo's
#     convolution also multiplies a few padding columns that are dropped,
#     which this does not count. FMA peak: one thread's peak by bench_gemm
#     --peak (12 independent chains of 64-byte FMAs) just before each
#     aezoo run, times the thread count; the table divides by the highest
#     of the rounds. n/a when bench_gemm is not built.
# Both train on the same images, made by zoo_data.py from Debian's IDX
# files. PyTorch reads them from train.npy (float32, the values aezoo's
# IDX loader gives); aezoo from train-images-idx3-ubyte, the same images
# as bytes, uncompressed, which a run keeps as bytes and converts a batch
# at a time (run/run_rows.c) as it does Debian's files (the gzip reader of
# those holds a transient buffer while loading that would hide part of the
# training's own peak). Both read test.npy. A --data-dir made before the
# IDX file existed gives aezoo train.npy.
# Threads: OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS = T for
# both, aezoo --threads T, torch.set_num_threads(T). Each side waits for
# OpenMP work as it does by default (aezoo passively, see README).
set -eu

# The whole script is one function, read in full before it runs, so that
# editing the file does not disturb a run in progress.
main() {
  here=$(cd "$(dirname "$0")" && pwd)
  root=$(cd "$here/.." && pwd)
  PYTHON=${PYTHON:-/usr/bin/python3}
  aezoo=$root/build/cli/aezoo
  bench_gemm=$root/build/benchmarks/bench_gemm
  models="" rounds=3 steps="" warmup=5 threads="1 2" batch=128 quick=0 check=0
  csv=zoo_vs_torch.csv data_dir="" limit="" report="" blas_core=${AEZOO_PEER_BLAS_CORE:-auto} torch_isa=${AEZOO_PEER_TORCH_ISA:-auto}
  cmdline="benchmarks/zoo_vs_torch.sh $*"

  die() { echo "zoo_vs_torch.sh: $*" >&2; exit 2; }
  count() { case $2 in '' | *[!0-9]*) die "$1 needs a whole number, got '$2'" ;; esac; }
  # The markdown tables of the rows in $csv, one per thread count in $threads.
  print_tables() {
    for t in $threads; do
      echo
      echo "$t thread(s): ms/step the best of the rounds, CPU ms/step PyTorch's best and aezoo's median, RSS the largest; ratio = PyTorch / aezoo (above 1: aezoo is faster)"
      echo
      echo "| model | steps | aezoo ms/step | PyTorch ms/step | ratio | aezoo CPU ms/step | PyTorch CPU ms/step | CPU ratio | aezoo RSS +MiB | PyTorch RSS +MiB | GFLOP/step | aezoo GFLOP/s | of FMA peak |"
      echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      awk -F, -v t="$t" -v order="$models" '
        function better(k, v, big) { if (v == "nan" || v == "") return; if (!(k in best) || (big ? v > best[k] : v < best[k])) best[k] = v }
        function show(k) { return (k in best) ? best[k] : "n/a" }
        function ratio(a, b) { return (a in best && b in best && best[b] > 0) ? sprintf("%.2f", best[a] / best[b]) : "n/a" }
        # aezoo'"'"'s CPU ms/step is the difference of two processes'"'"' totals, start-up
        # included, whose noise (page faults: +-0.3 s) the best of the rounds
        # would pick (0.43 ms against a wall time of 0.77 at 1 thread): the
        # median of the rounds instead
        function keep(k, v) { if (v == "nan" || v == "") return; vals[k, ++nv[k]] = v }
        function median(k,   i, j, c, x, a) {
          c = nv[k]; for (i = 1; i <= c; i++) a[i] = vals[k, i] + 0
          for (i = 2; i <= c; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
          return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
        }
        # columns 15 and 16 (absent from CSV files of before 2026-12-04q):
        # the step'"'"'s GFLOP on the PyTorch rows, the FMA peak on aezoo'"'"'s. The
        # rate comes from the aezoo rows that carry a peak only (pooled with
        # older files, a best step from a run of unknown clock would not do)
        function num(v) { return v != "" && v != "nan" && v ~ /^[0-9.eE+-]+$/ }
        NR > 1 && $1 == t {
          if ($4 == "torch" && num($15)) flop[$3] = $15
          if ($4 == "aezoo" && num($16) && num($6)) {
            if (!($3 in peak) || $16 + 0 > peak[$3]) peak[$3] = $16 + 0
            if (!($3 in pkms) || $6 + 0 < pkms[$3]) pkms[$3] = $6 + 0
          }
          better($3 SUBSEP $4 SUBSEP "ms", $6, 0); better($3 SUBSEP $4 SUBSEP "rss", $8, 1); steps[$3] = $5
          if ($4 == "aezoo") keep($3 SUBSEP $4 SUBSEP "cpu", $7); else better($3 SUBSEP $4 SUBSEP "cpu", $7, 0)
        }
        END {
          for (k in nv) best[k] = sprintf("%.4f", median(k))
          n = split(order, ms, " ")
          for (i = 1; i <= n; i++) {
            m = ms[i]; a = m SUBSEP "aezoo" SUBSEP; p = m SUBSEP "torch" SUBSEP
            rate = (m in flop && m in pkms && pkms[m] > 0) ? flop[m] / pkms[m] * 1000 : ""
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m, steps[m], show(a "ms"),
              show(p "ms"), ratio(p "ms", a "ms"), show(a "cpu"), show(p "cpu"), ratio(p "cpu", a "cpu"), show(a "rss"),
              show(p "rss"), (m in flop) ? sprintf("%.4g", flop[m]) : "n/a", rate != "" ? sprintf("%.1f", rate) : "n/a",
              (rate != "" && m in peak && peak[m] > 0) ? sprintf("%.0f%%", 100 * rate / peak[m]) : "n/a"
          }
        }' "$csv"
      # column 17 (absent from CSV files of before 2026-12-05z): minor page
      # faults per timed step: PyTorch's allocator gives big buffers back to
      # the kernel and faults them in again each step; aezoo's warm step
      # allocates nothing, so its count should stay near 0.
      awk -F, -v t="$t" 'NR > 1 && $1 == t && $17 != "" && $17 != "nan" { n++ } END { exit n == 0 }' "$csv" || continue
      echo
      echo "$t thread(s), each round: ms/step and minor page faults per timed step (ru_minflt)"
      echo
      echo "| model | aezoo ms/step | aezoo faults/step | PyTorch ms/step | PyTorch faults/step |"
      echo "|---|---|---|---|---|"
      awk -F, -v t="$t" -v order="$models" '
        function add(k, v) { all[k] = (cnt[k]++ ? all[k] " " : "") v }
        NR > 1 && $1 == t && $17 != "" { add($3 SUBSEP $4 SUBSEP "ms", $6); add($3 SUBSEP $4 SUBSEP "f", $17) }
        END {
          n = split(order, ms, " ")
          for (i = 1; i <= n; i++) {
            m = ms[i]; a = m SUBSEP "aezoo" SUBSEP; p = m SUBSEP "torch" SUBSEP
            if (!((a "f") in all) && !((p "f") in all)) continue
            printf "| %s | %s | %s | %s | %s |\n", m, all[a "ms"], all[a "f"], all[p "ms"], all[p "f"]
          }
        }' "$csv"
    done
  }

  while [ $# -gt 0 ]; do
    case $1 in
      --quick) quick=1; shift; continue ;;
      --check) check=1; shift; continue ;;
      -h | --help) sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    esac
    [ $# -ge 2 ] || die "$1 needs a value (see --help)"
    case $1 in
      --models) models=$(echo "$2" | tr ',' ' ') ;;
      --rounds) count "$1" "$2"; rounds=$2 ;;
      --steps) count "$1" "$2"; steps=$2 ;;
      --warmup) count "$1" "$2"; warmup=$2 ;;
      --threads) threads=$2; for t in $threads; do count --threads "$t"; done ;;
      --batch-size) count "$1" "$2"; batch=$2 ;;
      --csv) csv=$2 ;;
      --aezoo) aezoo=$2 ;;
      --data-dir) data_dir=$2 ;;
      --limit) count "$1" "$2"; limit=$2 ;;
      --report) report=$2 ;;
      --blas-core) blas_core=$2 ;;
      --torch-isa) torch_isa=$2 ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
    shift 2
  done
  if [ "$quick" = 1 ]; then
    rounds=1 warmup=2
    steps=${steps:-10} limit=${limit:-5000}
  fi
  if [ -n "$report" ]; then
    csv=$(mktemp "${TMPDIR:-/tmp}/zoo_vs_torch_report.XXXXXX")
    trap 'rm -f "$csv"' EXIT
    echo "$report" | tr ',' '\n' | while IFS= read -r f; do tail -n +2 "$f"; done | sed '1i\
header' >"$csv"
    [ -n "$models" ] || models=$(awk -F, 'NR > 1 && !seen[$3]++ { printf "%s ", $3 }' "$csv")
    threads=$(awk -F, 'NR > 1 && !seen[$1]++ { printf "%s ", $1 }' "$csv")
    print_tables
    exit 0
  fi
  . "$here/peer_env.sh"
  peer_env_apply "$blas_core" "$torch_isa" || exit 2
  [ "$rounds" -ge 1 ] && [ "$warmup" -ge 1 ] && [ "$batch" -ge 1 ] || die "--rounds, --warmup and --batch-size must be at least 1"
  [ -x "$aezoo" ] || die "no aezoo executable at $aezoo: build first (meson setup build && ninja -C build) or give --aezoo"
  if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    echo "zoo_vs_torch.sh: PyTorch is not importable by $PYTHON (apt-get install python3-torch); skipped" >&2
    exit 77
  fi

  all=$("$aezoo" list | awk '/^[a-z]/ { print $1 }')
  [ -n "$models" ] || models=$all
  for m in $models; do
    echo "$all" | grep -qx -- "$m" || die "unknown model '$m'; valid models: $(echo $all)"
  done

  # Timed steps per model: about a second of aezoo CPU time at 1 thread,
  # batch 128, on the 2-core Xeon of the README's table (a calibration run of
  # 2026-12-03); every run stays inside one epoch (468 batches of 128).
  default_steps() {
    case $1 in
      ae | linear-ae | stacked-ae) echo 400 ;;
      dae | sparse-l1 | sparse-kl) echo 250 ;;
      vae) echo 200 ;;
      deep-ae) echo 40 ;;
      conv-ae) echo 60 ;;
      psd) echo 25 ;;
      cae) echo 20 ;;
      seq-ae | conv-dae | deconv-ae) echo 15 ;;
      cae-h) echo 12 ;;
      *) echo 10 ;; # cae-deep
    esac
  }

  tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo_vs_torch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ -z "$data_dir" ]; then
    data_dir=$tmp/data
    "$PYTHON" "$here/zoo_data.py" "$data_dir" ${limit:+--limit "$limit"}
  fi
  ntrain=$("$PYTHON" -c 'import numpy, sys; print(numpy.load(sys.argv[1], mmap_mode="r").shape[0])' "$data_dir/train.npy")
  per_epoch=$((ntrain / batch))
  train_data=$data_dir/train.npy
  [ -f "$data_dir/train-images-idx3-ubyte" ] && train_data=$data_dir/train-images-idx3-ubyte
  data="--data $train_data --test-data $data_dir/test.npy --batch-size $batch"

  # ---- --check: the first loss of both sides on the same batch and weights ----
  if [ "$check" = 1 ]; then
    echo "| model | term | aezoo | PyTorch | relative difference |"
    echo "|---|---|---:|---:|---:|"
    for m in $models; do
      out=$tmp/check.$m
      # shellcheck disable=SC2086
      if ! "$aezoo" train "$m" $data --lr 0 --no-shuffle --steps 2 --stop-after 1 --threads 1 --quiet \
        --out "$out" >/dev/null 2>"$out.err"; then
        echo "| $m | aezoo failed: $(tail -n 1 "$out.err") | | | |"
        continue
      fi
      if ! "$PYTHON" "$here/zoo_torch.py" check "$m" --data "$data_dir" --ckpt "$out" --batch-size "$batch" \
        >"$out.py" 2>"$out.py.err"; then
        echo "| $m | PyTorch failed: $(tail -n 1 "$out.py.err") | | | |"
        continue
      fi
      tr '\t' '\n' <"$out.py" | awk -F'[=/]' -v m="$m" 'NR > 1 {
        d = $2 - $3; d = d < 0 ? -d : d; s = $2 < 0 ? -$2 : $2
        printf "| %s | %s | %.9g | %.9g | %.1e |\n", m, $1, $2, $3, (s > 0 ? d / s : d) }'
    done
    exit 0
  fi

  for m in $models; do
    n=${steps:-$(default_steps "$m")}
    [ $((warmup + n)) -lt "$per_epoch" ] || die "$m: --warmup $warmup + --steps $n must stay below one epoch ($per_epoch batches of $batch): an epoch's end computes the test loss and writes a checkpoint"
  done

  load1() { cut -d' ' -f1 /proc/loadavg; }
  num() { awk -v v="$1" 'BEGIN { exit !(v ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) }'; }

  # aezoo MODEL THREADS STEPS ROUND: appends a CSV row.
  run_aezoo() {
    m=$1 t=$2 n=$3 r=$4 d=$tmp/a.$1.$2.$4 ld=$(load1) pk=
    stop=$((warmup + n))
    # one thread's FMA peak now, times t (the machine's clock moves between runs)
    [ -x "$bench_gemm" ] && pk=$("$bench_gemm" --peak 2>/dev/null | awk -v t="$t" 'NR == 1 && $1 + 0 > 0 { printf "%.1f", $1 * t }')
    set -- "$aezoo" train "$m" --steps $((stop + 1)) --threads "$t" --quiet
    # shellcheck disable=SC2086
    "$PYTHON" "$here/rusage_run.py" "$d.base.ru" "$@" $data --out "$d.base" --init "$tmp/absent.safetensors" \
      >/dev/null 2>"$d.base.err" || true
    # shellcheck disable=SC2086
    if ! "$PYTHON" "$here/rusage_run.py" "$d.w.ru" "$@" $data --out "$d.w" --stop-after "$warmup" \
      >/dev/null 2>"$d.w.err" ||
      ! "$PYTHON" "$here/rusage_run.py" "$d.n.ru" "$@" $data --out "$d.n" --stop-after "$stop" \
        >/dev/null 2>"$d.n.err"; then
      echo "zoo_vs_torch.sh: aezoo $m failed: $(cat "$d.w.err" "$d.n.err" 2>/dev/null | tail -n 1)" >&2
      echo "$t,$r,$m,aezoo,$n,nan,nan,nan,nan,nan,nan,nan,nan,$ld,,$pk,nan" >>"$csv"
      failed=1
      return
    fi
    # the baseline run must have stopped at --init, after loading and building:
    # its error names the absent file
    base_ok=0
    grep -q 'absent\.safetensors' "$d.base.err" && base_ok=1
    awk -F, -v w="$warmup" -v e="$stop" -v n="$n" -v t="$t" -v r="$r" -v m="$m" -v ld="$ld" -v ok="$base_ok" -v pk="$pk" '
      FILENAME ~ /train.csv$/ && FNR > 1 { if ($1 == w) a = $NF; if ($1 == e) { b = $NF; last = $4 } if ($1 == 1) first = $4 }
      FILENAME ~ /base.ru$/ { split($0, B, " ") }
      FILENAME ~ /w.ru$/ { split($0, W, " ") }
      FILENAME ~ /n.ru$/ { split($0, N, " ") }
      END {
        over = ok ? sprintf("%.2f", (N[4] - B[4]) / 1024) : "nan"
        printf "%s,%s,%s,aezoo,%d,%.4f,%.4f,%s,%s,%.2f,%.4f,%.9g,%.9g,%s,,%s,%.2f\n", t, r, m, n, (b - a) * 1000 / n,
          (N[2] + N[3] - W[2] - W[3]) * 1000 / n, over, ok ? sprintf("%.2f", B[4] / 1024) : "nan", N[4] / 1024,
          (N[1] - W[1]) * 1000 / n, first, last, ld, pk, (N[6] - W[6]) / n
      }' "$d.n/train.csv" "$d.base.ru" "$d.w.ru" "$d.n.ru" >>"$csv"
    rm -rf "$d.base" "$d.w" "$d.n"
  }

  # torch MODEL THREADS STEPS ROUND: appends a CSV row.
  run_torch() {
    m=$1 t=$2 n=$3 r=$4 d=$tmp/t.$1.$2.$4 ld=$(load1)
    if ! "$PYTHON" "$here/zoo_torch.py" bench "$m" --data "$data_dir" --steps "$n" --warmup "$warmup" \
      --threads "$t" --batch-size "$batch" >"$d" 2>"$d.err"; then
      echo "zoo_vs_torch.sh: PyTorch $m failed: $(tail -n 1 "$d.err")" >&2
      echo "$t,$r,$m,torch,$n,nan,nan,nan,nan,nan,nan,nan,nan,$ld,,,nan" >>"$csv"
      failed=1
      return
    fi
    awk -F'\t' -v r="$r" -v ld="$ld" '{
      printf "%s,%s,%s,torch,%d,%.4f,%.4f,%.2f,%.2f,%.2f,,%.9g,%.9g,%s,%s,,%.2f\n", $2, r, $1, $3, $4, $5,
        ($7 - $6) / 1024, $6 / 1024, $7 / 1024, $8, $9, ld, $10, $11 }' "$d" >>"$csv"
  }

  echo "threads,round,model,side,steps,ms_per_step,cpu_ms_per_step,rss_over_base_mib,rss_base_mib,rss_peak_mib,process_ms_per_step,loss_first,loss_last,load1,gflop_per_step,fma_peak_gflops,minflt_per_step" >"$csv"
  start_load=$(load1) failed=0
  # Round by round, model by model, every thread count in turn, in reverse
  # order every other round: a model's runs at 1 and at 2 threads lie next
  # to each other in time, as its two sides do, and neither count always
  # runs first, so the machine's drift over a run (its load, its clock)
  # does not fall on one thread count. (Runs before
  # zoo_vs_torch-2026-12-05z6.csv ran all the rounds of one thread count
  # first: the 2-thread half met the machine minutes later. -z6 ran the
  # counts in turn but always 1 thread first, and that order showed: see
  # the README.)
  threads_back=$(echo "$threads" | tr ' ' '\n' | sed '/^$/d' | sed -n '1!G;h;$p' | tr '\n' ' ')
  r=1
  while [ "$r" -le "$rounds" ]; do
    for m in $models; do
      n=${steps:-$(default_steps "$m")}
      ts=$threads
      [ $((r % 2)) = 0 ] && ts=$threads_back
      for t in $ts; do
        export OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" MKL_NUM_THREADS="$t"
        if [ $((r % 2)) = 1 ]; then
          run_aezoo "$m" "$t" "$n" "$r"
          run_torch "$m" "$t" "$n" "$r"
        else
          run_torch "$m" "$t" "$n" "$r"
          run_aezoo "$m" "$t" "$n" "$r"
        fi
        tail -n 2 "$csv" | awk -F, '{ printf "%s%s %s ms/step", NR == 1 ? "" : ", ", $4, $6 } END { printf "\n" }' |
          sed "s/^/[threads $t, round $r\/$rounds] $m: /" >&2
      done
    done
    r=$((r + 1))
  done

  # ---- the report ----
  cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
  # The CPU's family and model, and the kernels the peer ran (peer_env.sh):
  # the peer's times move with them, not with aezoo.
  fam=$(sed -n 's/^cpu family[[:space:]]*: *//p; s/^model[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 2 | paste -sd / -)
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $cpu (family/model ${fam:-?}), $(getconf _NPROCESSORS_ONLN) cores; load average $start_load at the start, $(load1) at the end"
  echo "aezoo $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '(no git)'), $("$PYTHON" -c 'import torch, numpy, platform; print("PyTorch %s, NumPy %s, Python %s" % (torch.__version__, numpy.__version__, platform.python_version()))')"
  peer_env_describe "$PYTHON"
  echo "command: $cmdline; batch $batch, $warmup warm-up steps, $rounds round(s), $ntrain training images; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)}; raw results: $csv"
  print_tables
  if [ "$failed" != 0 ]; then
    echo "zoo_vs_torch.sh: some runs failed (their errors are above; n/a in the table)" >&2
    exit 1
  fi
}

main "$@"
