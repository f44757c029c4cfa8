"""NeTI reference outputs: an independent torch implementation of the mapper, nested dropout and the
textual bypass (spec §3-§5), written from the equations, fed one set of weights that the Go tests load
into a Concept. Writes:

testdata/reference/neti/mapper.safetensors
  Weights of a reduced mapper (CFG below; same equations as the default 1024/128 one, smaller so the
  fixture stays small) under the concept's state-dict names:
    encoder.w [F,2] (N(0,1) x (sigma_t, sigma_l)), net.0.{weight,bias} (weight = anchor init),
    net.1, net.2 (LayerNorm), net.4, net.5, output_layer.0 [2D,H] (word | bypass head),
    nobypass.output_layer.0.{weight,bias} [D,H] (the head of a mapper without bypass).
  inputs.t, inputs.l [N] float32: the (t, l) grid; inputs.keep_rows [N] int32: per-row truncations.
  anchor.features [A*L, 2F]: v(anchor t_i, l) for every anchor row (= net.0.weight).
  net0.out [N, A*L]: the output of net.0 on the grid.
  out.<mode>.k<k>.word / .bypass [N,D] for mode in (word, concat) and k in KS; out.<mode>.rows.* with
  keep_rows; out.nobypass.k<k>.word [N,D] (both modes coincide without bypass).

testdata/reference/neti/bypass.safetensors
  bypass.h [R,L,D], bypass.positions [R,2] int32, bypass.b [R,2,D] and, for one placeholder (column 0)
  with alpha 0.2 and 0.7: bypass.out1.a0.2, bypass.out1.a0.7 [R,L,D]; for two placeholders with alphas
  (0.2, 0.5): bypass.out2 [R,L,D].

testdata/reference/neti/conditioning-tiny-sd1.safetensors
  Whole conditioning on the tiny SD1 text encoder (transformers CLIPTextModel, with hooks as the original
  NeTICLIPTextEmbeddings / NeTICLIPTextTransformer): ids [77] int32 with placeholder ids 1000 (and 1001),
  rows (t, l) layer-major: cond.t, cond.l [R]; one placeholder (mapper mode word, alpha 0.2, k = H):
  cond1.keys, cond1.values [R,77,D]; two placeholders (slot 0 mode word alpha 0.2, slot 1 mode concat
  alpha 0.5, both k = H): cond2.keys, cond2.values.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn
from transformers import CLIPTextModel

from common import REFERENCE, gen, model_dir, save_tensors, setup_torch

OUT = os.path.join(REFERENCE, "neti")

CFG = dict(num_layers=16, num_timesteps=1000, text_width=32, hidden=32, time_anchors=10, num_fourier=64,
           sigma_t=0.03, sigma_l=2.0, target_norm=0.4)
KS = (32, 0, 1, 16, 31)  # truncations: full, none kept, first unit, half, all but one
TIMES = (0, 1, 99, 100, 500, 981, 999)
SEEDS = dict(w=101, net0_bias=102, linears=103, norms=104, nobypass=105, keep=106, bypass=107, cond=108)


def fourier(w, t, l):
    """v(t, l) = [sin(Wx); cos(Wx)] / ||.||, x = (t, l): t, l [N] -> [N, 2F]."""
    x = torch.stack([t, l], dim=1)  # [N, 2]
    wx = x @ w.T  # [N, F]
    v = torch.cat([torch.sin(wx), torch.cos(wx)], dim=1)
    return v / v.norm(dim=1, keepdim=True)


def anchor_features(w):
    """Rows i*L + l = v(t_i, l), t_i = 0, T/A, ..., for the A time anchors."""
    step = CFG["num_timesteps"] // CFG["time_anchors"]
    ts, ls = [], []
    for t in range(0, CFG["time_anchors"] * step, step):
        for l in range(CFG["num_layers"]):
            ts.append(float(t))
            ls.append(float(l))
    return fourier(w, torch.tensor(ts), torch.tensor(ls))


class Mapper(nn.Module):
    """The NeTI mapper of spec §3 with nested-dropout truncation (spec §4) and output normalisation."""

    def __init__(self, w, out_dim):
        super().__init__()
        d_in, a = 2 * w.shape[0], CFG["time_anchors"] * CFG["num_layers"]
        h = CFG["hidden"]
        self.w = w
        self.net = nn.Sequential(nn.Linear(d_in, a), nn.Linear(a, h), nn.LayerNorm(h, eps=1e-5), nn.LeakyReLU(0.01),
                                 nn.Linear(h, h), nn.LayerNorm(h, eps=1e-5), nn.LeakyReLU(0.01))
        self.output_layer = nn.Sequential(nn.Linear(h, out_dim))

    def forward(self, t, l, keep, mode, bypass=True):
        hidden = self.net(fourier(self.w, t, l)).clone()
        for i in range(hidden.shape[0]):  # nested dropout: zero units keep[i]..H-1 of row i
            hidden[i, int(keep[i]):] = 0
        out = self.output_layer(hidden)
        d = CFG["text_width"]
        if not bypass:
            return F.normalize(out, dim=-1) * CFG["target_norm"], None
        if mode == "concat":  # the original: the whole word|bypass vector to the target norm (issue #4)
            out = F.normalize(out, dim=-1) * CFG["target_norm"]
            return out[:, :d], out[:, d:]
        word = F.normalize(out[:, :d], dim=-1) * CFG["target_norm"]
        return word, out[:, d:]


def build_mapper():
    """Seeded weights: W, anchor-initialised net.0, and LayerNorm affines away from 1/0 so that they matter."""
    w = torch.randn(CFG["num_fourier"], 2, generator=gen(SEEDS["w"]))
    w[:, 0] *= CFG["sigma_t"]
    w[:, 1] *= CFG["sigma_l"]
    m = Mapper(w, 2 * CFG["text_width"])
    g = gen(SEEDS["linears"])
    with torch.no_grad():
        m.net[0].weight.copy_(anchor_features(w))
        bound = 1 / math.sqrt(m.net[0].in_features)
        m.net[0].bias.copy_(torch.rand(m.net[0].out_features, generator=gen(SEEDS["net0_bias"])) * 2 * bound - bound)
        for lin in (m.net[1], m.net[4], m.output_layer[0]):
            bound = 1 / math.sqrt(lin.in_features)
            lin.weight.copy_(torch.rand(lin.weight.shape, generator=g) * 2 * bound - bound)
            lin.bias.copy_(torch.rand(lin.bias.shape, generator=g) * 2 * bound - bound)
        gn = gen(SEEDS["norms"])
        for ln in (m.net[2], m.net[5]):
            ln.weight.copy_(1 + 0.1 * torch.randn(ln.weight.shape, generator=gn))
            ln.bias.copy_(0.1 * torch.randn(ln.bias.shape, generator=gn))
    nb = nn.Linear(CFG["hidden"], CFG["text_width"])
    gb = gen(SEEDS["nobypass"])
    with torch.no_grad():
        bound = 1 / math.sqrt(nb.in_features)
        nb.weight.copy_(torch.rand(nb.weight.shape, generator=gb) * 2 * bound - bound)
        nb.bias.copy_(torch.rand(nb.bias.shape, generator=gb) * 2 * bound - bound)
    return m, nb


def state(m, nb):
    """The mapper's tensors under the concept file's names."""
    t = {"encoder.w": m.w}
    for name, p in m.state_dict().items():
        t[name] = p
    t["nobypass.output_layer.0.weight"] = nb.weight
    t["nobypass.output_layer.0.bias"] = nb.bias
    return t


def textual_bypass(h, positions, b, alphas):
    """h [R,L,D]; positions [R,P]; b [R,P,D]: h[p] += alpha_j * b/||b|| * ||h[p]|| for each slot j."""
    out = h.clone()
    for r in range(h.shape[0]):
        for j, a in enumerate(alphas):
            p = int(positions[r, j])
            hp = h[r, p]
            out[r, p] = out[r, p] + a * b[r, j] / b[r, j].norm() * hp.norm()
    return out


def mapper_fixture():
    m, nb = build_mapper()
    n_l = CFG["num_layers"]
    t = torch.tensor([float(x) for x in TIMES for _ in range(n_l)])
    l = torch.tensor([float(y) for _ in TIMES for y in range(n_l)])
    n = len(t)
    keep_rows = torch.randint(0, CFG["hidden"] + 1, (n,), generator=gen(SEEDS["keep"]))
    out = dict(state(m, nb))
    out.update({"inputs.t": t, "inputs.l": l, "inputs.keep_rows": keep_rows.to(torch.int32),
                "anchor.features": anchor_features(m.w)})
    with torch.no_grad():
        out["net0.out"] = m.net[0](fourier(m.w, t, l))
        for mode in ("word", "concat"):
            for k in KS:
                word, byp = m(t, l, [k] * n, mode)
                out[f"out.{mode}.k{k}.word"], out[f"out.{mode}.k{k}.bypass"] = word, byp
            word, byp = m(t, l, keep_rows.tolist(), mode)
            out[f"out.{mode}.rows.word"], out[f"out.{mode}.rows.bypass"] = word, byp
        m_nb = Mapper(m.w, CFG["text_width"])
        m_nb.net.load_state_dict(m.net.state_dict())
        m_nb.output_layer[0].load_state_dict(nb.state_dict())
        for k in KS:
            out[f"out.nobypass.k{k}.word"], _ = m_nb(t, l, [k] * n, "word", bypass=False)
    meta = {"config": CFG, "truncations": list(KS), "timesteps": list(TIMES), "seeds": SEEDS,
            "rows": "row i*16 + l = (timesteps[i], l)"}
    save_tensors(os.path.join(OUT, "mapper.safetensors"), out, meta)
    return m


def bypass_fixture():
    g = gen(SEEDS["bypass"])
    r, length, d = 3, 10, CFG["text_width"]
    h = torch.randn(r, length, d, generator=g) * torch.tensor([1.0, 3.0, 0.5]).view(r, 1, 1)
    positions = torch.tensor([[2, 7], [9, 0], [5, 6]], dtype=torch.int32)
    b = torch.randn(r, 2, d, generator=g) * 5
    out = {"bypass.h": h, "bypass.positions": positions, "bypass.b": b}
    for a in (0.2, 0.7):
        out[f"bypass.out1.a{a}"] = textual_bypass(h, positions[:, :1], b[:, :1], [a])
    out["bypass.out2"] = textual_bypass(h, positions, b, [0.2, 0.5])
    save_tensors(os.path.join(OUT, "bypass.safetensors"), out, {"seeds": {"bypass": SEEDS["bypass"]},
                                                                 "alphas": [0.2, 0.7], "alphas2": [0.2, 0.5]})


def conditioning_fixture(m):
    """keys/values of the tiny SD1 text encoder with mapper words injected, via hooks on transformers' CLIP."""
    text = CLIPTextModel.from_pretrained(model_dir("tiny-sd1") + "/text_encoder").eval()
    tm = text.text_model if hasattr(text, "text_model") else text  # transformers 5 flattened it
    vocab = text.config.vocab_size
    ids = [998, 5, 17, 1000, 42, 1001, 300, 999] + [999] * 69
    p1, p2 = ids.index(1000), ids.index(1001)
    rows_t = [999.0, 500.0, 0.0]
    layers = [0, 6, 15]
    t = torch.tensor([ts for _ in layers for ts in rows_t])  # layer-major: row l*3 + i
    l = torch.tensor([float(y) for y in layers for _ in rows_t])
    n = len(t)
    full = [CFG["hidden"]] * n
    state_ = {}

    def clamp(_, args):  # placeholder ids are past the vocabulary: look up any row, replaced below
        return (args[0].clamp(max=vocab - 1),)

    def inject(_, __, output):
        output = output.clone()
        for pos, word in state_["words"]:
            output[:, pos] = word
        return output

    def capture(_, args):
        state_["h"] = args[0]

    hooks = [tm.embeddings.token_embedding.register_forward_pre_hook(clamp),
             tm.embeddings.token_embedding.register_forward_hook(inject),
             tm.final_layer_norm.register_forward_pre_hook(capture)]
    out = {"ids": torch.tensor(ids, dtype=torch.int32), "cond.t": t, "cond.l": l}
    with torch.no_grad():
        w1, b1 = m(t, l, full, "word")
        w2, b2 = m(t, l, full, "concat")
        for name, slots in (("cond1", [(p1, w1, b1, 0.2)]), ("cond2", [(p1, w1, b1, 0.2), (p2, w2, b2, 0.5)])):
            state_["words"] = [(p, w) for p, w, _, _ in slots]
            keys = text(torch.tensor([ids] * n)).last_hidden_state
            h = state_["h"]
            positions = torch.tensor([[p for p, _, _, _ in slots]] * n)
            b = torch.stack([bb for _, _, bb, _ in slots], dim=1)
            values = tm.final_layer_norm(textual_bypass(h, positions, b, [a for _, _, _, a in slots]))
            assert torch.allclose(tm.final_layer_norm(h), keys, atol=1e-6)
            out[f"{name}.keys"], out[f"{name}.values"] = keys, values
    for hk in hooks:
        hk.remove()
    save_tensors(os.path.join(OUT, "conditioning-tiny-sd1.safetensors"), out,
                 {"placeholder_positions": [p1, p2], "placeholder_ids": [1000, 1001], "rows_t": rows_t,
                  "layers": layers, "cond1": "slot 0: mode word, alpha 0.2",
                  "cond2": "slot 0: mode word, alpha 0.2; slot 1: mode concat, alpha 0.5"})


def main(_=None):
    setup_torch()
    m = mapper_fixture()
    bypass_fixture()
    conditioning_fixture(m)


if __name__ == "__main__":
    main(sys.argv[1:])
