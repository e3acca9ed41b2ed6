#!/usr/bin/python3
"""Side-by-side training throughput: PyTorch reference vs BlueBlood's gorgonia graph.

    /usr/bin/python3 model/testdata/bench_compare.py [rounds] [seconds]   # from the repo root

Builds the model package's test binary twice (pure Go, and -tags openblas), then runs
`rounds` interleaved rounds of bench_torch.py and BenchmarkTrainStep (both architectures,
batch 1/32/128; forward + backward + Adam, float32) and prints the median samples/s of
each and the ratio ours/PyTorch. The machine is shared: interleaving and medians keep the
comparison fair. Each side gets its best setting on the 2-core machine: PyTorch 2 threads
with OMP_WAIT_POLICY=PASSIVE; ours OPENBLAS_NUM_THREADS=1 (2 OpenBLAS threads spin and
compete with the Go runtime; override with the environment variable). GOGC from the
environment reaches the Go runs too (since the tape machine keeps its registers between
steps, GOGC=400 changed little: within the machine's noise).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build(tags, out):
    cmd = ["go", "test", "-c", "-o", out, "./model"]
    if tags:
        cmd[2:2] = ["-tags", tags]
    subprocess.run(cmd, cwd=ROOT, check=True)


def run_go(binary, seconds, env):
    out = subprocess.run([binary, "-test.run", "XXX", "-test.bench", "TrainStep",
                          "-test.benchtime", "%gs" % seconds], cwd=os.path.join(ROOT, "model"),
                         env=env, check=True, capture_output=True, text=True).stdout
    res = {}
    for m in re.finditer(r"BenchmarkTrainStep/(\S+)/batch=(\d+)-\d+\s+\d+\s+\d+ ns/op\s+([\d.]+) samples/s", out):
        res[(m.group(1), int(m.group(2)))] = float(m.group(3))
    return res


def run_torch(seconds, env):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "model/testdata/bench_torch.py"), str(seconds)],
                         env=env, check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        _, arch, b, v = line.split()
        res[(arch, int(b))] = float(v)
    return res


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    tmp = tempfile.mkdtemp()
    bins = {"gonum": os.path.join(tmp, "pure.test"), "openblas": os.path.join(tmp, "openblas.test")}
    build("", bins["gonum"])
    build("openblas", bins["openblas"])
    samples = {}
    for r in range(rounds):
        for name, res in [("torch", run_torch(seconds, env)),
                          ("gonum", run_go(bins["gonum"], seconds, env)),
                          ("openblas", run_go(bins["openblas"], seconds, env))]:
            for k, v in res.items():
                samples.setdefault((name,) + k, []).append(v)
        print("round %d/%d done" % (r + 1, rounds), file=sys.stderr)
    print("| architecture | batch | PyTorch | ours (gonum) | ours (OpenBLAS) | OpenBLAS / PyTorch |")
    print("|---|---|---|---|---|---|")
    for arch in ("pooled-residual", "seed"):
        for b in (1, 32, 128):
            med = {n: statistics.median(samples.get((n, arch, b), [float("nan")])) for n in ("torch", "gonum", "openblas")}
            print("| %s | %d | %.0f | %.0f | %.0f | %.2f |" % (arch, b, med["torch"], med["gonum"], med["openblas"],
                                                             med["openblas"] / med["torch"]))


if __name__ == "__main__":
    main()
