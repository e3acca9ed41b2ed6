#!/usr/bin/python3
"""PyTorch reference for BenchmarkTrainStep: the same two networks at the production shape
(25 analytes, 128-dim embeddings, 20x130 blocks, 64 units; pooled batches padded to 16
prescription rows), one step = forward + backward + Adam, float32.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 model/testdata/bench_torch.py [seconds]

prints lines "torch <arch> <batch> <samples/s>". Settings that matter (see
docs/gorgonia-notes.md): 2 threads, passive OpenMP waiting, Adam(foreach=True).
"""
import sys
import time

import torch

A, EMB, ROWS, FEATS, U, E, R = 25, 128, 20, 130, 64, 64, 16
RXF = EMB + 2


class Net(torch.nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        if arch == "seed":
            self.td = torch.nn.Linear(ROWS * FEATS, E)
            self.out = torch.nn.Linear(U, ROWS * FEATS)
        else:
            self.pre = torch.nn.Linear(2 * A, E)
            self.rx = torch.nn.Linear(RXF, E)
            self.rxd = torch.nn.Linear(EMB, E, bias=False)  # dose x embedding term
            self.out = torch.nn.Linear(U, A)
        self.lstm = torch.nn.LSTM(E, U, batch_first=True)
        self.drop = torch.nn.Dropout(0.2)

    def forward(self, x0, x1, rmask, pv):
        if self.arch == "seed":
            z0, z1 = self.td(x0), self.td(x1)
        else:
            z0 = torch.relu(self.pre(x0))
            de = x1[:, :, EMB:EMB + 1] * x1[:, :, :EMB]
            z1 = (torch.relu(self.rx(x1) + self.rxd(de)) * rmask).sum(dim=1)
        h, _ = self.lstm(torch.stack([z0, z1], dim=1))
        o = self.out(self.drop(h[:, -1]))
        return o[:, :A] if self.arch == "seed" else o + pv


def bench(arch, b, seconds):
    torch.manual_seed(0)
    net = Net(arch)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, foreach=True)
    if arch == "seed":
        x0, x1 = torch.randn(b, ROWS * FEATS), torch.randn(b, ROWS * FEATS)
        rmask = pv = None
    else:
        x0, x1 = torch.randn(b, 2 * A), torch.randn(b, R, RXF)
        rmask = (torch.rand(b, R, 1) < 0.4).float()
        pv = torch.randn(b, A)
    y, m = torch.randn(b, A), (torch.rand(b, A) < 0.4).float()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = (((net(x0, x1, rmask, pv) - y) ** 2) * m).sum() / m.sum().clamp(min=1)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return b * n / (time.perf_counter() - start)


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    torch.set_num_threads(2)
    for arch in ("pooled-residual", "seed"):
        for b in (1, 32, 128):
            print("torch %s %d %.1f" % (arch, b, bench(arch, b, seconds)), flush=True)
