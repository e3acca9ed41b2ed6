#!/usr/bin/python3
"""Regenerate the PyTorch golden files for model/golden_test.go.

An independent implementation of both BlueBlood networks in PyTorch (Debian's
python3-torch 1.13): from the same weights and the same scaled samples it computes the
predictions, the masked-MSE loss (pooled-residual: targets without a pre value weigh 0.1)
and the gradient of every parameter, in float64, and
writes them to golden_<case>.json. The Go tests rebuild the network from those weights,
feed the same samples through the model's own batch filling, and compare.

    /usr/bin/python3 model/testdata/gen_golden.py   # from the repository root

Weight layout (ours): dense weights are [in, out] (PyTorch's Linear.weight transposed);
LSTM weights are gate-major, four [in, U] blocks in PyTorch's gate order (i, f, g, o)
stacked into [4*in, U]; our single LSTM bias [4, U] is PyTorch's bias_ih + bias_hh. All arrays are little-endian, base64-encoded.
"""
import base64
import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def enc(a, dtype):
    a = np.ascontiguousarray(np.asarray(a, dtype=dtype))
    return {"dtype": "f4" if dtype == np.float32 else "f8", "shape": list(a.shape),
            "b64": base64.b64encode(a.astype("<" + ("f4" if dtype == np.float32 else "f8")).tobytes()).decode()}


def f32(rng, *shape, scale=1.0):
    # float32-representable values, so float32 and float64 runs share exact inputs
    return (rng.standard_normal(shape) * scale).astype(np.float32).astype(np.float64)


def to_torch(w, U):
    # ours: gate-major [4*in, U] (four [in, U] blocks i, f, g, o); PyTorch: [4U, in]
    n_in = w.shape[0] // 4
    return w.reshape(4, n_in, U).transpose(0, 2, 1).reshape(4 * U, n_in)


def from_torch(w, U):
    n_in = w.shape[1]
    return w.reshape(4, U, n_in).transpose(0, 2, 1).reshape(4 * n_in, U)


def stride(g):
    # large gradients are sampled (every k-th value) to keep the files small
    return 1 if g.size <= 4096 else 61


def make_case(name, arch, A, emb, rows, feats, E, U, batch, nsamples, seed):
    rng = np.random.default_rng(seed)
    rxf = emb + 2
    samples = []
    for i in range(nsamples):
        pre_obs = (rng.random(A) < 0.7).astype(np.float64)
        post_mask = (rng.random(A) < 0.7).astype(np.float64)
        post_mask[i % A] = 1.0  # at least one observed target per sample
        pre = f32(rng, A) * pre_obs
        post = f32(rng, A) * post_mask
        n = int(rng.integers(0, rows + 1)) if i else rows  # one full group, one maybe empty
        rx = f32(rng, n, rxf)
        samples.append(dict(pre=pre, pre_obs=pre_obs, post=post, post_mask=post_mask, rx=rx, n=n))
    if arch == "seed":
        F = rows * feats
        shapes = [("td_w", F, E), ("td_b", 1, E), ("lstm_wx", 4 * E, U), ("lstm_wh", 4 * U, U),
                  ("lstm_b", 4, U), ("out_w", U, F), ("out_b", 1, F)]
    else:
        shapes = [("pre_w", 2 * A, E), ("pre_b", 1, E), ("rx_w", rxf, E), ("rx_b", 1, E),
                  ("rx_dose_w", emb, E), ("lstm_wx", 4 * E, U), ("lstm_wh", 4 * U, U), ("lstm_b", 4, U),
                  ("out_w", U, A), ("out_b", 1, A)]
    params = {n: f32(rng, r, c, scale=0.5) for n, r, c in shapes}
    # split our LSTM bias into PyTorch's two (their sum is ours, exactly in float64)
    b_ih = f32(rng, 4 * U, scale=0.5)
    b_hh = params["lstm_b"].reshape(-1) - b_ih
    p = 0.25
    drop = ((rng.random((batch, U)) >= p) / (1 - p)).astype(np.float32).astype(np.float64)

    # ---- PyTorch, float64 ----
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    lstm = torch.nn.LSTM(E, U, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(to_torch(params["lstm_wx"], U)))
        lstm.weight_hh_l0.copy_(torch.tensor(to_torch(params["lstm_wh"], U)))
        lstm.bias_ih_l0.copy_(torch.tensor(b_ih))
        lstm.bias_hh_l0.copy_(torch.tensor(b_hh))
    B = batch
    pre = np.zeros((B, A)); pre_obs = np.zeros((B, A)); y = np.zeros((B, A)); m = np.zeros((B, A))
    for i, s in enumerate(samples):
        pre[i], pre_obs[i], y[i], m[i] = s["pre"], s["pre_obs"], s["post"], s["post_mask"]
    if arch == "seed":
        x0 = np.zeros((B, rows, feats)); x1 = np.zeros((B, rows, feats))
        for i, s in enumerate(samples):
            x0[i, 0, :A] = s["pre"]
            x0[i, 1, :A] = s["pre_obs"]
            x1[i, :s["n"], :rxf] = s["rx"]
        x0 = torch.tensor(x0.reshape(B, -1)); x1 = torch.tensor(x1.reshape(B, -1))
        z0 = x0 @ t["td_w"] + t["td_b"]
        z1 = x1 @ t["td_w"] + t["td_b"]
    else:
        R = max(1, max(s["n"] for s in samples))
        R = 1 << (R - 1).bit_length()  # the Go side pads rows to a power of two
        rx = np.zeros((B, R, rxf)); rmask = np.zeros((B, R, 1))
        for i, s in enumerate(samples):
            rx[i, :s["n"]] = s["rx"]
            rmask[i, :s["n"]] = 1
        x0 = torch.tensor(np.concatenate([pre, pre_obs], axis=1))
        z0 = torch.relu(x0 @ t["pre_w"] + t["pre_b"])
        rxt = torch.tensor(rx)
        dose_emb = rxt[:, :, emb:emb + 1] * rxt[:, :, :emb]  # scaled dose x embedding
        e = torch.relu(rxt @ t["rx_w"] + t["rx_b"] + dose_emb @ t["rx_dose_w"])
        z1 = (e * torch.tensor(rmask)).sum(dim=1)
    seq = torch.stack([z0, z1], dim=1)
    out, _ = lstm(seq)
    h = out[:, -1] * torch.tensor(drop)
    o = h @ t["out_w"] + t["out_b"]
    pred = o[:, :A] if arch == "seed" else o + torch.tensor(pre)
    mask = torch.tensor(m)
    weight = mask
    if arch != "seed":
        # pooled-residual: targets whose pre value was missing weigh 0.1 (missingPreWeight)
        weight = mask * torch.tensor(np.where(pre_obs > 0, 1.0, 0.1))
    loss = ((pred - torch.tensor(y)) ** 2 * weight).sum() / mask.sum()
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in t.items() if not k.startswith("lstm_")}
    gl = lstm.bias_ih_l0.grad.numpy()
    assert np.allclose(gl, lstm.bias_hh_l0.grad.numpy())
    grads["lstm_b"] = gl.reshape(4, U)
    grads["lstm_wx"] = from_torch(lstm.weight_ih_l0.grad.numpy(), U)
    grads["lstm_wh"] = from_torch(lstm.weight_hh_l0.grad.numpy(), U)

    doc = {
        "generator": "model/testdata/gen_golden.py, torch " + torch.__version__,
        "arch": arch, "analytes": A, "embedding_dim": emb, "block_rows": rows, "block_features": feats,
        "encoder_units": E, "lstm_units": U, "batch": B,
        "samples": [{"pre": enc(s["pre"], np.float32), "pre_obs": enc(s["pre_obs"], np.float32),
                     "post": enc(s["post"], np.float32), "post_mask": enc(s["post_mask"], np.float32),
                     "rx": enc(s["rx"].reshape(-1), np.float32), "n": s["n"]} for s in samples],
        "dropout": enc(drop, np.float32),
        "params": {n: enc(params[n], np.float32) for n, _, _ in shapes},
        "pred": enc(pred.detach().numpy()[:nsamples], np.float64),
        "loss": float(loss.item()),
        "grads": {n: enc(grads[n].reshape(-1)[::stride(grads[n])], np.float64) for n, _, _ in shapes},
        "grad_strides": {n: stride(grads[n]) for n, _, _ in shapes},
    }
    path = os.path.join(HERE, "golden_" + name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", path, "loss", float(loss.item()))


if __name__ == "__main__":
    torch.set_num_threads(1)
    make_case("seed", "seed", A=4, emb=3, rows=3, feats=6, E=6, U=5, batch=4, nsamples=3, seed=1)
    make_case("pooled", "pooled-residual", A=4, emb=3, rows=5, feats=6, E=6, U=5, batch=4, nsamples=3, seed=2)
    # 130 units: column-range gate slices merge gates from 128 units on (notes, trap 1)
    make_case("pooled_u130", "pooled-residual", A=2, emb=2, rows=3, feats=6, E=2, U=130, batch=3, nsamples=2, seed=3)
