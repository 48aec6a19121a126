# peer_env.sh: sourced by the benchmark scripts that run PyTorch beside
# aezoo (zoo_vs_torch.sh, run_engine_benchmarks.sh, run_conv.sh), so the
# peer runs at its best on the machine, as a user who tuned it would:
#   peer_env_apply BLAS_CORE TORCH_ISA
#     BLAS_CORE: auto removes an inherited OPENBLAS_CORETYPE, so PyTorch's
#       OpenBLAS picks its kernels from the CPU; inherit keeps the
#       environment's; any other value (SkylakeX, Haswell...) is set. A
#       machine image that sets OPENBLAS_CORETYPE=Haswell on an AVX-512
#       CPU halves the peer's GEMM (128x784x1000: 108 against 197 GFLOP/s
#       on a Zen 5 guest), and ratios would flatter aezoo, whose GEMM does
#       not read the variable.
#     TORCH_ISA: auto sets ATEN_CPU_CAPABILITY=avx512 where the CPU has
#       AVX-512 F, BW, VL and DQ (PyTorch 1.13 picked AVX2 on such a CPU,
#       and its tanh, sigmoid and exp took twice as long); inherit keeps
#       PyTorch's own pick; default, avx2 or avx512 are set as given.
#     Returns 1 (with a message) on an unknown TORCH_ISA.
#   peer_env_describe PYTHON
#     one line naming the kernels the peer will run: OpenBLAS's core and
#     PyTorch's CPU capability, and what the environment had set.
# Environment defaults for the two arguments: AEZOO_PEER_BLAS_CORE and
# AEZOO_PEER_TORCH_ISA (both auto).

peer_env_apply() {
  peer_env_inherited_core=${OPENBLAS_CORETYPE-(unset)}
  peer_env_blas_core=$1 peer_env_torch_isa=$2
  case $1 in
    auto) unset OPENBLAS_CORETYPE ;;
    inherit) ;;
    *) export OPENBLAS_CORETYPE="$1" ;;
  esac
  case $2 in
    auto)
      peer_env_flags=$(sed -n 's/^flags[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
      peer_env_512=1
      for f in avx512f avx512bw avx512vl avx512dq; do
        case " $peer_env_flags " in *" $f "*) ;; *) peer_env_512=0 ;; esac
      done
      [ "$peer_env_512" = 0 ] || export ATEN_CPU_CAPABILITY=avx512 ;;
    inherit) ;;
    default | avx2 | avx512) export ATEN_CPU_CAPABILITY="$2" ;;
    *) echo "peer_env: the PyTorch ISA is auto, inherit, default, avx2 or avx512, not '$2'" >&2; return 1 ;;
  esac
  return 0
}

peer_env_describe() {
  peer_env_core=$(OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=1 "$1" -c 'import torch; torch.ones(64, 64) @ torch.ones(64, 64)' 2>&1 |
    sed -n 's/^Core: *//p' | head -n 1)
  peer_env_isa=$("$1" -c 'import torch; print(torch.__config__.show().split("CPU capability usage:")[1].split()[0])' 2>/dev/null)
  echo "PyTorch's OpenBLAS kernels: ${peer_env_core:-not reported} (blas core $peer_env_blas_core; OPENBLAS_CORETYPE in the environment: $peer_env_inherited_core); PyTorch's CPU capability: ${peer_env_isa:-not reported} (torch isa $peer_env_torch_isa)"
}
