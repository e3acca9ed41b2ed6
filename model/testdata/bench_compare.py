#!/usr/bin/python3
"""Side-by-side training throughput: PyTorch reference vs BlueBlood's gorgonia graph.

    /usr/bin/python3 model/testdata/bench_compare.py [rounds] [seconds]   # from the repo root

Builds the model package's test binary twice: pure Go (the Dockerfile's trainer-purego
target) and the default image's build (static OpenBLAS, the same tags and link flags as the
Dockerfile's build-openblas stage), plus the static trainer itself to learn which OpenBLAS
kernel it picks from this CPU's features. Then runs `rounds` interleaved rounds of
bench_torch.py and BenchmarkTrainStep (both architectures, batch 1/32/128; forward +
backward + Adam, float32) and prints the median samples/s of each. The machine is shared:
interleaving and medians keep the comparison fair.

Settings, each side's best on the 2-core machine: PyTorch 2 threads with
OMP_WAIT_POLICY=PASSIVE and Adam(foreach=True); ours as the image ships them: GOMAXPROCS =
all cores (data-parallel shards), one OpenBLAS thread (the trainer's default), the kernel the
trainer picks. The pure-Go build gets the same GOMAXPROCS. Each round also runs the default
build at batch 128 pinned to one core (taskset -c 0, GOMAXPROCS=1) against two cores
(taskset -c 0,1, GOMAXPROCS=2): the `scaling` lines.

A shared machine can leave our second core busy with other work, so each round also times
a plain CPU loop alone on core 0 and two copies on cores 0 and 1 at once: the `capacity`
line (2.00x on an idle machine) bounds what the scaling line can show in the same run.

The output ends with one line per architecture and batch, `default-image ARCH BATCH RATIO`,
RATIO = the default build's samples/s over PyTorch's in this run.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCHS = ("pooled-residual", "seed")
BATCHES = (1, 32, 128)
# the Dockerfile's build-openblas stage
STATIC_TAGS = "openblas osusergo netgo"
STATIC_LDFLAGS = "-linkmode external -extldflags -static"


def go_build(args, out, cgo):
    env = dict(os.environ, CGO_ENABLED="1" if cgo else "0")
    subprocess.run(["go"] + args[:1] + ["-o", out] + args[1:], cwd=ROOT, env=env, check=True)


def trainer_kernel(trainer):
    """The OpenBLAS kernel the static trainer chooses here (from its startup line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    env["SAGEMAKER_BASE_DIR"] = tempfile.mkdtemp()  # empty: the trainer logs and exits
    out = subprocess.run([trainer, "train"], env=env, capture_output=True, text=True).stderr
    m = re.search(r"BLAS openblas, kernel (\S+), (\d+) thread", out)
    if not m:
        sys.exit("trainer startup line not found:\n" + out)
    return m.group(1), int(m.group(2))


def run_go(binary, seconds, env, bench="TrainStep", cpus=None):
    cmd = [binary, "-test.run", "XXX", "-test.bench", bench, "-test.benchtime", "%gs" % seconds]
    if cpus:
        cmd = ["taskset", "-c", cpus] + cmd
    out = subprocess.run(cmd, cwd=os.path.join(ROOT, "model"), env=env, check=True,
                         capture_output=True, text=True).stdout
    res = {}
    for m in re.finditer(r"BenchmarkTrainStep/(\S+)/batch=(\d+)(?:-\d+)?\s+\d+\s+\d+ ns/op\s+([\d.]+) samples/s", out):
        res[(m.group(1), int(m.group(2)))] = float(m.group(3))
    return res


LOOP = "import time\nt=time.perf_counter()\nx=0\nfor i in range(3000000): x+=i*i\nprint(time.perf_counter()-t)"


def capacity():
    """How many cores' worth of a CPU loop cores 0 and 1 give together right now."""
    def loop(cpu):
        return subprocess.Popen(["taskset", "-c", cpu, sys.executable, "-c", LOOP], stdout=subprocess.PIPE, text=True)
    alone = float(loop("0").communicate()[0])
    both = [loop(c) for c in ("0", "1")]
    together = max(float(p.communicate()[0]) for p in both)
    return 2 * alone / together


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
    tmp = tempfile.mkdtemp()
    pure, default, trainer = (os.path.join(tmp, n) for n in ("pure.test", "default.test", "trainer"))
    go_build(["test", "-c", "./model"], pure, cgo=False)
    go_build(["test", "-c", "-tags", STATIC_TAGS, "-ldflags", STATIC_LDFLAGS, "./model"], default, cgo=True)
    go_build(["build", "-tags", STATIC_TAGS, "-ldflags", STATIC_LDFLAGS, "./container"], trainer, cgo=True)
    kernel, threads = trainer_kernel(trainer)

    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_") and k != "GOMAXPROCS"}
    torch_env = dict(base, OMP_WAIT_POLICY="PASSIVE")
    ours = dict(base, OPENBLAS_CORETYPE=kernel)  # what the trainer's re-exec sets
    samples = {}

    def add(name, res):
        for k, v in res.items():
            samples.setdefault((name,) + k, []).append(v)

    for r in range(rounds):
        add("torch", run_torch(seconds, torch_env))
        add("gonum", run_go(pure, seconds, ours))
        add("default", run_go(default, seconds, ours))
        add("1core", run_go(default, seconds, dict(ours, GOMAXPROCS="1"), "TrainStep/.*/batch=128$", "0"))
        add("2core", run_go(default, seconds, dict(ours, GOMAXPROCS="2"), "TrainStep/.*/batch=128$", "0,1"))
        samples.setdefault(("capacity",), []).append(capacity())
        print("round %d/%d done" % (r + 1, rounds), file=sys.stderr)

    def med(name, arch, b):
        return statistics.median(samples.get((name, arch, b), [float("nan")]))

    print("default image: static OpenBLAS, kernel %s (chosen by the trainer), %d BLAS thread(s), GOMAXPROCS %d; "
          "PyTorch %s, 2 threads; medians of %d interleaved rounds" % (kernel, threads, os.cpu_count(),
                                                                       torch_version(torch_env), rounds))
    print("| architecture | batch | PyTorch | ours, pure Go | ours, default image | default image / PyTorch |")
    print("|---|---|---|---|---|---|")
    for arch in ARCHS:
        for b in BATCHES:
            print("| %s | %d | %s | %s | %s | %.2f |" % (arch, b, fmt(med("torch", arch, b)), fmt(med("gonum", arch, b)),
                                                        fmt(med("default", arch, b)), med("default", arch, b) / med("torch", arch, b)))
    print("capacity: cores 0 and 1 together ran a CPU loop at %.2fx one core (median; 2.00x when idle)"
          % statistics.median(samples[("capacity",)]))
    for arch in ARCHS:
        one, two = med("1core", arch, 128), med("2core", arch, 128)
        print("scaling %s 128: %s samples/s on 1 core, %s on 2 cores, %.2fx" % (arch, fmt(one), fmt(two), two / one))
    for arch in ARCHS:
        for b in BATCHES:
            print("default-image %s %d %.2f" % (arch, b, med("default", arch, b) / med("torch", arch, b)))


def fmt(v):
    return "{:,.0f}".format(v)


def torch_version(env):
    return subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"], env=env,
                          capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
