#!/usr/bin/python3
"""rusage_run.py: runs a command and prints what the kernel counted for it,
for benchmarks/zoo_vs_torch.sh (which needs no /usr/bin/time):

  rusage_run.py OUTFILE COMMAND [ARGS...]

writes one line to OUTFILE: "wall_s user_s sys_s maxrss_kib exit_status
minflt" (os.wait4's rusage of the child: CPU time of all its threads, peak
resident set size, minor page faults). The command's stdout and stderr
pass through; the exit status of rusage_run.py is the command's."""
import os
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: rusage_run.py OUTFILE COMMAND [ARGS...]")
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(sys.argv[2], sys.argv[2:])
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(sys.argv[1], "w") as f:
        f.write(f"{wall:.6f} {ru.ru_utime:.6f} {ru.ru_stime:.6f} {ru.ru_maxrss} {code} {ru.ru_minflt}\n")
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
