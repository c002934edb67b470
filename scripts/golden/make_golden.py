#!/usr/bin/env python3
"""Golden fixtures for packages/models/src/parity.test.ts, computed by PyTorch in float64.

For small sizes it runs PyTorch's own layers -- nn.LSTM, nn.GRU (2 layers, PyTorch's gate order
and two bias vectors per gate set), nn.MultiheadAttention (batch_first, the tokens the gru-mha
model uses), nn.Linear, nn.LayerNorm -- and one PA step of the `lstm`, `gru` and `gru-mha`
models exactly as /work/shared/bench/torch_reference.py defines them, and writes JSON with the
weights (under our weight names), the inputs, the outputs, and the gradients of a scalar loss
L = sum over outputs of (output * a fixed random tensor) with respect to inputs and weights.

Every input and weight is rounded to 4 significant digits and then to a float32 value before
PyTorch sees it, so the TypeScript test (tfjs computes in float32) receives exactly the numbers
PyTorch used; the only difference left is float32 arithmetic. Outputs and gradients are float64
results, written to within 5e-8 of each tensor's largest entry (the test's tolerances are 1e-5
and 1e-4 of it).

Needs PyTorch (Debian: apt-get install -y python3-torch). Regenerate with
    /usr/bin/python3 scripts/golden/make_golden.py
Optional: --check-reference /work/shared/bench/torch_reference.py also checks that the PA model
transcribed below computes the same step as the reference file (at its own sizes).
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "packages", "models", "src", "test-fixtures", "golden")

# Sizes: rows = batch * coordinates = 2 * 3 = 6; three time steps; hidden 8 for the RNNs and the
# PA models (the models' defaults, 20 and 16, would make the fixtures several times larger without
# testing anything more); the attention layer alone at the gru-mha default, width 16 with 4 heads.
ROWS, STEPS, HIDDEN, LAYERS = 6, 3, 8, 2
BATCH, M, N, LAMBDA = 2, 4, 3, 0.1
MHA_WIDTH, HEADS, WINDOW = 16, 4, 3


# ---------------------------------------------------------------------------------------------
# Helpers


EXACT_DIGITS = 4


def f32(t):
    """t rounded to EXACT_DIGITS significant digits, then to the nearest float32 value, kept as
    float64. Written with EXACT_DIGITS digits, it is read back (decimal -> double -> float32) as
    exactly this value, so the tfjs side holds exactly what PyTorch computed with, in few bytes."""
    t = t.detach()
    short = torch.tensor([float(f"{v:.{EXACT_DIGITS}g}") for v in t.reshape(-1).tolist()]).reshape(t.shape)
    return short.to(torch.float32).to(torch.float64)


def draw(*shape, scale=1.0):
    return f32(torch.randn(*shape) * scale).requires_grad_(True)


def randomise(module):
    """Float32-exact weights. PyTorch's default init is kept where it is random; weights it sets
    to a constant (LayerNorm 1 and 0, attention biases 0) are redrawn, so they are tested too."""
    with torch.no_grad():
        for p in module.parameters():
            if torch.all(p == p.reshape(-1)[0]):  # 1 stays about 1, 0 about 0
                p.copy_(p + 0.3 * torch.randn_like(p))
            p.copy_(f32(p))


def our_name(torch_name):
    """PyTorch state-dict name -> our weight name (packages/models/src/weights.ts).

    Our layers take PyTorch's names on purpose: nn.LSTM/nn.GRU's `weight_ih_l0`, `weight_hh_l0`,
    `bias_ih_l0`, `bias_hh_l0`; nn.MultiheadAttention's `in_proj_weight`, `in_proj_bias`,
    `out_proj.weight`, `out_proj.bias`; nn.Linear/nn.LayerNorm's `weight`, `bias`; and the PA
    model's module names `backbone.rnn`, `backbone.mha`, `backbone.ff1/ff2/ln1/ln2`, `linear`,
    `p`, `a`. So the map is the identity; it lives here, once, so that a renaming on either side
    has one place to go. The TypeScript test's setWeights rejects any missing or extra name.
    """
    return torch_name


def tensor_json(t, digits=None):
    """With `digits`, that many significant digits. Without: outputs and gradients (float64
    results), rounded to 1e-7 of the leading power of ten of the tensor's largest entry, an error
    under 5e-8 of max|t| (the test's tolerances are relative to max|t|; small entries need no more)."""
    t = t.detach().contiguous()
    values = t.reshape(-1).tolist()
    if digits is not None:
        data = [float(f"{v:.{digits}g}") for v in values]
    else:
        top = max((abs(v) for v in values), default=0.0)
        places = 7 - math.floor(math.log10(top)) if top > 0 else 0
        data = [round(v, places) for v in values]
    return {"shape": list(t.shape), "data": data}


def exact_json(t):
    """Weights and inputs (values of f32): the short decimals they were made from."""
    assert torch.equal(t.detach(), f32(t)), "not a value made by f32()"
    return tensor_json(t, EXACT_DIGITS)


def weights_json(module):
    return {our_name(k): exact_json(v) for k, v in module.state_dict().items()}


def grads_json(module):
    return {our_name(k): tensor_json(p.grad) for k, p in module.named_parameters()}


def weighted_loss(outputs):
    """L = sum_k sum(outputs[k] * R_k) with fixed float32-exact random R_k; returns L and the R's."""
    loss, rs = 0.0, {}
    for key, t in outputs.items():
        r = f32(torch.randn(t.shape))
        rs[key] = r
        loss = loss + (t * r).sum()
    return loss, rs


written = []


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as fh:
        json.dump(obj, fh, separators=(",", ":"))
        fh.write("\n")
    written.append((path, os.path.getsize(path)))


ABOUT = "Generated by scripts/golden/make_golden.py (PyTorch {}, float64, seed 0); do not edit.".format(torch.__version__)


# ---------------------------------------------------------------------------------------------
# Layers


def rnn_fixture(kind):
    """nn.LSTM / nn.GRU(2, HIDDEN, LAYERS) over STEPS steps of ROWS rows from a random state."""
    rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(2, HIDDEN, LAYERS)
    randomise(rnn)
    x = draw(STEPS, ROWS, 2)
    h0 = draw(LAYERS, ROWS, HIDDEN, scale=0.5)
    inputs = {"x": x, "h0": h0}
    if kind == "lstm":
        c0 = draw(LAYERS, ROWS, HIDDEN, scale=0.5)
        inputs["c0"] = c0
        out, (hn, cn) = rnn(x, (h0, c0))
        outputs = {"output": out, "h": hn, "c": cn}
    else:
        out, hn = rnn(x, h0)
        outputs = {"output": out, "h": hn}
    loss, rs = weighted_loss(outputs)
    loss.backward()
    write(f"{kind}.json", {
        "about": ABOUT + f" nn.{kind.upper()}(2, {HIDDEN}, {LAYERS}), sequence-first, {STEPS} steps of {ROWS} rows.",
        "config": {"inputSize": 2, "hidden": HIDDEN, "layers": LAYERS, "steps": STEPS, "rows": ROWS},
        "weights": weights_json(rnn),
        "inputs": {k: exact_json(v) for k, v in inputs.items()},
        "outputs": {k: tensor_json(v) for k, v in outputs.items()},
        "lossWeights": {k: exact_json(v) for k, v in rs.items()},
        "loss": float(loss),
        "grads": {"inputs": {k: tensor_json(v.grad) for k, v in inputs.items()}, "weights": grads_json(rnn)},
    })


def mha_fixture():
    """nn.MultiheadAttention(16, 4, batch_first=True), the two token axes of gru-mha:
    `coordinates`: self-attention over the n coordinates of each instance, [B, n, E];
    `history`: one query per row over a window of W keys/values, [rows, 1, E] vs [rows, W, E]."""
    mha = nn.MultiheadAttention(MHA_WIDTH, HEADS, batch_first=True)
    randomise(mha)
    cases = {}
    tokens = draw(BATCH, N, MHA_WIDTH)
    out, _ = mha(tokens, tokens, tokens, need_weights=False)
    loss, rs = weighted_loss({"output": out})
    mha.zero_grad()
    loss.backward()
    cases["coordinates"] = {
        "inputs": {"tokens": exact_json(tokens)},
        "outputs": {"output": tensor_json(out)},
        "lossWeights": {k: exact_json(v) for k, v in rs.items()},
        "loss": float(loss),
        "grads": {"inputs": {"tokens": tensor_json(tokens.grad)}, "weights": grads_json(mha)},
    }
    query = draw(ROWS, 1, MHA_WIDTH)
    kv = draw(ROWS, WINDOW, MHA_WIDTH)
    out, _ = mha(query, kv, kv, need_weights=False)
    loss, rs = weighted_loss({"output": out})
    mha.zero_grad()
    loss.backward()
    cases["history"] = {
        "inputs": {"query": exact_json(query), "keyValue": exact_json(kv)},
        "outputs": {"output": tensor_json(out)},
        "lossWeights": {k: exact_json(v) for k, v in rs.items()},
        "loss": float(loss),
        "grads": {"inputs": {"query": tensor_json(query.grad), "keyValue": tensor_json(kv.grad)}, "weights": grads_json(mha)},
    }
    write("mha.json", {
        "about": ABOUT + f" nn.MultiheadAttention({MHA_WIDTH}, {HEADS}, batch_first=True), need_weights=False.",
        "config": {"embedDim": MHA_WIDTH, "heads": HEADS},
        "weights": weights_json(mha),
        "cases": cases,
    })


def simple_fixture(module, x):
    out = module(x)
    loss, rs = weighted_loss({"output": out})
    loss.backward()
    return {
        "weights": weights_json(module),
        "inputs": {"x": exact_json(x)},
        "outputs": {"output": tensor_json(out)},
        "lossWeights": {k: exact_json(v) for k, v in rs.items()},
        "loss": float(loss),
        "grads": {"inputs": {"x": tensor_json(x.grad)}, "weights": grads_json(module)},
    }


def linear_and_layer_norm_fixture():
    lin = nn.Linear(5, 4)
    randomise(lin)
    ln = nn.LayerNorm(HIDDEN)  # eps 1e-5, as ours
    randomise(ln)
    write("linear-layernorm.json", {
        "about": ABOUT + f" nn.Linear(5, 4) and nn.LayerNorm({HIDDEN}) (eps {ln.eps}) on {ROWS} rows.",
        "linear": {"config": {"inFeatures": 5, "outFeatures": 4}, **simple_fixture(lin, draw(ROWS, 5))},
        "layerNorm": {"config": {"size": HIDDEN, "eps": ln.eps}, **simple_fixture(ln, draw(ROWS, HIDDEN, scale=2.0))},
    })


# ---------------------------------------------------------------------------------------------
# The PA models: torch_reference.py's Backbone and PAOptimizer with the hidden size a parameter
# (the reference fixes 20 for lstm and 16 otherwise), and the body of its run_segment loop as one
# step from a given state.


class Backbone(nn.Module):
    def __init__(self, kind, hidden, heads, axis, window):
        super().__init__()
        self.kind, self.hidden, self.axis, self.window = kind, hidden, axis, window
        rnn = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = rnn(2, hidden, 2)
        self.mha = None
        if kind == "gru-mha":
            self.mha = nn.MultiheadAttention(hidden, heads, batch_first=True)
            self.ff1, self.ff2 = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
            self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
            self.drop = nn.Dropout(0.1)

    def forward(self, inp, state, batch, n, hist):
        out, state = self.rnn(inp, state)  # inp: (1, batch*n, 2)
        h = out[0]  # (batch*n, hidden)
        if self.mha is not None:
            if self.axis == "coordinates":
                t = h.reshape(batch, n, self.hidden)
                a, _ = self.mha(t, t, t, need_weights=False)
                a = a.reshape(batch * n, self.hidden)
            else:
                hist.append(h)
                del hist[: -self.window]
                kv = torch.stack(hist, 1)  # (batch*n, W, hidden)
                a, _ = self.mha(h.unsqueeze(1), kv, kv, need_weights=False)
                a = a[:, 0]
            h = self.ln1(a + self.drop(F.relu(self.ff1(a))))
            h = self.ln2(h + self.drop(F.relu(self.ff2(h))))
        return h, state


class PAOptimizer(nn.Module):
    def __init__(self, kind, hidden, heads=4, axis="coordinates", window=8):
        super().__init__()
        self.backbone = Backbone(kind, hidden, heads, axis, window)
        self.linear = nn.Linear(hidden, hidden)
        self.p, self.a = nn.Linear(hidden, 1), nn.Linear(hidden, 1)


def pa_step(model, A, b, L, lam, x, y, state, hist):
    """One iteration of torch_reference.run_segment: A [B,m,n], b [B,m,1], L [B,1,1], x, y [B,n,1]."""
    batch, m, n = A.shape
    At = A.transpose(1, 2)
    step = 0.9999 / L
    grad = torch.bmm(At, torch.bmm(A, y) - b)
    inp = torch.cat([grad.detach().reshape(1, -1, 1), y.detach().reshape(1, -1, 1)], 2)
    h, state = model.backbone(inp, state, batch, n, hist)
    h = F.relu(model.linear(h))
    P = (2 * torch.sigmoid(model.p(h))).reshape(batch, n, 1)
    Am = (2 * torch.sigmoid(model.a(h))).reshape(batch, n, 1)
    v = y - P * step * grad
    xn = torch.sign(v) * F.relu(v.abs() - lam * P * step)
    yn = xn + Am * (xn - x)
    # How far each coordinate is from the soft threshold's kink (a float32 run must not cross it).
    margin = float((v.abs() - lam * P * step).abs().min())
    zeros = int((xn == 0).sum())
    return xn, yn, state, margin, zeros


def lasso_problem():
    """A tiny LASSO batch as the reference draws it (columns of A scaled to unit norm, b = A x*)."""
    A = torch.randn(BATCH, M, N)
    A = f32(A / A.norm(dim=1, keepdim=True))
    xs = torch.zeros(BATCH, N)
    for i in range(BATCH):
        xs[i, torch.randperm(N)[:1]] = torch.randn(1)
    b = f32(torch.bmm(A, xs.unsqueeze(-1)))
    L = f32(torch.linalg.matrix_norm(A, ord=2) ** 2).reshape(BATCH, 1, 1)
    return A, b, L


def pa_fixture(kind, axes):
    """One step of model `kind` (hidden HIDDEN) from a random state, per attention axis."""
    model = PAOptimizer(kind, HIDDEN, heads=HEADS, window=WINDOW)
    randomise(model)
    model.eval()  # dropout off: the test runs the step with training false
    A, b, L = lasso_problem()
    cases = {}
    for axis in axes:
        model.backbone.axis = axis
        x = draw(BATCH, N, 1, scale=0.1)
        y = draw(BATCH, N, 1, scale=0.1)
        h = draw(LAYERS, ROWS, HIDDEN, scale=0.5)
        inputs = {"x": x, "y": y, "h": h}
        state = h
        if kind == "lstm":
            c = draw(LAYERS, ROWS, HIDDEN, scale=0.5)
            inputs["c"] = c
            state = (h, c)
        hist = []
        if axis == "history":
            # Two earlier top-layer GRU outputs; with the current one the window holds 3.
            hist = [draw(ROWS, HIDDEN, scale=0.5) for _ in range(WINDOW - 1)]
            inputs["history"] = hist
        model.zero_grad()
        xn, yn, state, margin, zeros = pa_step(model, A, b, L, LAMBDA, x, y, state, list(hist))
        outputs = {"x": xn.reshape(BATCH, N), "y": yn.reshape(BATCH, N)}
        if kind == "lstm":
            outputs["h"], outputs["c"] = state
        else:
            outputs["h"] = state
        loss, rs = weighted_loss(outputs)
        loss.backward()
        assert margin > 1e-3, f"{kind}/{axis}: a coordinate is {margin} from the prox kink; change the seed"

        def input_json(k, v):
            if k == "history":
                return [exact_json(t) for t in v]
            return exact_json(v.reshape(BATCH, N) if k in ("x", "y") else v)

        def grad_json(k, v):
            if k == "history":
                return [tensor_json(t.grad) for t in v]
            return tensor_json(v.grad.reshape(BATCH, N) if k in ("x", "y") else v.grad)

        cases[axis] = {
            "proxZeros": zeros,
            "proxMargin": margin,
            "inputs": {k: input_json(k, v) for k, v in inputs.items()},
            "outputs": {k: tensor_json(v) for k, v in outputs.items()},
            "lossWeights": {k: exact_json(v) for k, v in rs.items()},
            "loss": float(loss),
            "grads": {"inputs": {k: grad_json(k, v) for k, v in inputs.items()}, "weights": grads_json(model)},
        }
        print(f"  {kind} step ({axis}): {zeros} of {BATCH * N} coordinates thresholded to 0, prox margin {margin:.3g}")
    options = {"hidden": HIDDEN, "layers": LAYERS}
    if kind == "gru-mha":
        options["attention"] = {"heads": HEADS, "window": WINDOW}
    write(f"pa-{kind}.json", {
        "about": ABOUT + f" One PA step of `{kind}` (torch_reference.py with hidden {HIDDEN}) on a LASSO batch, eval mode (no dropout).",
        "options": options,
        "problem": {"batch": BATCH, "m": M, "n": N, "lambda": LAMBDA, "A": exact_json(A), "b": exact_json(b.reshape(BATCH, M)), "L": exact_json(L.reshape(BATCH))},
        "weights": weights_json(model),
        "cases": cases,
    })


def check_reference(path):
    """Our transcription (pa_step, Backbone, PAOptimizer) against torch_reference.run_segment with
    unroll 1 from its zero start, for each model and axis at the reference's own sizes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("torch_reference", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    gen = torch.Generator().manual_seed(5)
    A, b, L = ref.lasso_batch(2, 6, 5, 2, gen)
    for kind, axis in [("lstm", "coordinates"), ("gru", "coordinates"), ("gru-mha", "coordinates"), ("gru-mha", "history")]:
        theirs = ref.PAOptimizer(kind, axis=axis)
        theirs.eval()
        ours = PAOptimizer(kind, 20 if kind == "lstm" else 16, axis=axis)
        ours.load_state_dict(theirs.state_dict())
        ours.eval()
        with torch.no_grad():
            expected = ref.run_segment(theirs, A, b, L, 0.1, 1, False)
            x = torch.zeros(2, 5, 1)
            xn, yn, _, _, _ = pa_step(ours, A, b, L, 0.1, x, x.clone(), None, [])
            r = torch.bmm(A, yn) - b
            got = (0.5 * (r**2).sum((1, 2)) + 0.1 * yn.abs().sum((1, 2))).mean()
        assert abs(float(got) - float(expected)) <= 1e-12 * abs(float(expected)), (kind, axis, float(got), float(expected))
        print(f"  reference check {kind}/{axis}: loss {float(got):.12g} = {float(expected):.12g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-reference", metavar="TORCH_REFERENCE_PY", help="also check the PA transcription against this file")
    args = ap.parse_args()
    if args.check_reference:
        check_reference(args.check_reference)
    torch.manual_seed(0)
    rnn_fixture("lstm")
    rnn_fixture("gru")
    mha_fixture()
    linear_and_layer_norm_fixture()
    pa_fixture("lstm", ["coordinates"])
    pa_fixture("gru-mha", ["coordinates", "history"])
    total = 0
    for path, size in written:
        total += size
        print(f"wrote {os.path.relpath(path)} ({size / 1024:.1f} KB)")
    print(f"total {total / 1024:.1f} KB")


if __name__ == "__main__":
    main()
