#!/usr/bin/env python3
"""PyTorch reference of the SEF objective and of three momentum-SGD steps, for sef-onnx's TorchReferenceTest.

Reads inputs.safetensors (written by org.sefonnx.validation.torch.TorchReferenceInputs): every weight and BatchNorm
running statistic of a SEF ResNet under torchvision's names (group heads as group_fc.<g>.*), a batch `images`
[B,3,S,S] and `labels` int64 [B], and the hyper-parameters in the header's __metadata__. Builds torchvision's
resnet{18,34,50}(weights=None) with a fresh fc Linear(C, K) and the SEF group heads Linear(C_g, K) on contiguous
channel slices of GAP(X), loads the weights, and computes the SEF loss exactly as docs/sef-method.md states
the authors' code:

    L = CE + lambda*E + gamma*S + phi*L_group                      (P_w not detached)
    E = mean_b sum_k P_w log P_w
    S = (1/G) sum_g mean_b sum_k -P_w log P_g
    n_i = X_i / (||X_i|| + 1.1920929e-07),  Q = (n n^T)^2           (per sample, C x C)
    intra_g = mean of (1 - Q) over block (g, g), diagonal included, and over the batch
    inter_i = mean of Q over [rows of group i] x [columns of groups 0..i-1], and over the batch
    L_group = 0.5 * (mean_g intra_g + sum_i inter_i / (G(G-1)/2))

BatchNorm runs in training mode. Writes golden.safetensors with, per precision ("f64/" in float64 on the CPU, always;
"f32/" in float32 on CUDA when a GPU is there, TF32 off):
    logits, group_logits.<g>, loss, cross_entropy, entropy, distillation, grouping   (at the initial weights)
    grad.<p>            gradients at the initial weights of a few small parameters
    step<N>.<p>         the same parameters after N steps of torch.optim.SGD(lr, momentum) on the same batch
    step<N>.<bn>.running_mean / running_var   for bn1 and the last BatchNorm
    step_losses         the loss of each step
and __metadata__ with inputs_sha256 (the SHA-256 of inputs.safetensors), versions and devices.

Needs Python 3.8+, torch and torchvision; uses the safetensors package when installed, else a built-in reader/writer
of the same format (so Debian's python3-torch suffices for a CPU dry run). No network.

    python3 sef_reference.py inputs.safetensors golden.safetensors            # f64 on CPU + f32 on CUDA if present
    python3 sef_reference.py inputs.safetensors golden.safetensors --f32-device cpu   # dry run without a GPU
"""
import argparse
import hashlib
import json
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

SCRIPT_VERSION = "1"
SMALL_PARAMETERS = ["conv1.weight", "bn1.weight", "bn1.bias", "layer4.1.bn2.weight", "fc.weight", "fc.bias"]
TRACKED_BATCH_NORMS = ["bn1", "layer4.1.bn2"]

# ---- safetensors I/O: the official package when present, else the format by hand -------------------------------

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """(tensors by name, metadata dict) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    try:
        from safetensors.torch import load as st_load
        return st_load(raw), metadata
    except ImportError:
        pass
    if sys.byteorder != "little":
        raise SystemExit("the built-in safetensors reader needs a little-endian machine")
    data = bytearray(raw[8 + n:])
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        shape = info["shape"]
        if end == begin:
            tensors[name] = torch.zeros(shape, dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(data[begin:end], dtype=dtype).reshape(shape).clone()
    return tensors, metadata


def write_safetensors(tensors, metadata, path):
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    try:
        from safetensors.torch import save_file
        save_file(tensors, path, metadata=metadata)
        return
    except ImportError:
        pass
    names = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header, offset, blobs = {}, 0, []
    for name in names:
        t = tensors[name]
        blob = bytes(t.reshape(-1).view(torch.uint8).tolist()) if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


# ---- the model -------------------------------------------------------------------------------------------------

def group_slices(channels, groups):
    """Contiguous split: floor(C/G) channels each, the last group also takes the remainder."""
    base = channels // groups
    sizes = [base] * groups
    sizes[-1] += channels - base * groups
    starts = [sum(sizes[:g]) for g in range(groups)]
    return list(zip(starts, sizes))


def build_model(depth, num_classes, groups):
    net = {18: torchvision.models.resnet18, 34: torchvision.models.resnet34, 50: torchvision.models.resnet50}[depth](weights=None)
    channels = net.fc.in_features
    net.fc = nn.Linear(channels, num_classes)
    slices = group_slices(channels, groups)
    # registered on the torchvision module, so state_dict names are group_fc.<g>.weight|bias
    net.group_fc = nn.ModuleList([nn.Linear(size, num_classes) for _, size in slices])
    return net, slices


def sef_forward(net, images, slices):
    """Last post-ReLU feature map X, global logits, group logits (group g reads channels of its slice of GAP(X))."""
    x = net.maxpool(net.relu(net.bn1(net.conv1(images))))
    x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
    pooled = torch.flatten(net.avgpool(x), 1)
    logits = net.fc(pooled)
    group_logits = [head(pooled[:, start:start + size]) for head, (start, size) in zip(net.group_fc, slices)]
    return x, logits, group_logits


def sef_loss(features, logits, group_logits, labels, slices, lam, gamma, phi, eps):
    """The authors' code form of the SEF objective (see the module docstring); returns every term."""
    cross_entropy = F.cross_entropy(logits, labels)
    p_w = F.softmax(logits, dim=1)
    log_p_w = F.log_softmax(logits, dim=1)
    entropy = (p_w * log_p_w).sum(dim=1).mean()
    distillation = torch.stack([-(p_w * F.log_softmax(g, dim=1)).sum(dim=1).mean() for g in group_logits]).mean()

    b, c, h, w = features.shape
    x = features.reshape(b, c, h * w)
    n = x / (x.norm(p=2, dim=2, keepdim=True) + eps)
    q = torch.bmm(n, n.transpose(1, 2)) ** 2
    intra = torch.stack([(1 - q[:, s:s + k, s:s + k]).mean() for s, k in slices])
    groups = len(slices)
    grouping_terms = intra.mean()
    if groups > 1:
        inter = torch.stack([q[:, s:s + k, 0:s].mean() for s, k in slices[1:]])
        grouping_terms = grouping_terms + inter.sum() / (groups * (groups - 1) / 2)
    grouping = 0.5 * grouping_terms
    total = cross_entropy + lam * entropy + gamma * distillation + phi * grouping
    return {"loss": total, "cross_entropy": cross_entropy, "entropy": entropy, "distillation": distillation, "grouping": grouping}


def run(weights, images, labels, meta, device, dtype):
    depth, k, g = int(meta["depth"]), int(meta["num_classes"]), int(meta["groups"])
    net, slices = build_model(depth, k, g)
    if "group_channels" in meta:
        declared = [int(v) for v in meta["group_channels"].split(",")]
        if declared != [size for _, size in slices]:
            raise SystemExit(f"group split {[size for _, size in slices]} differs from the inputs' group_channels {declared}")
    bn_eps, bn_momentum = float(meta.get("bn_epsilon", 1e-5)), float(meta.get("bn_momentum", 0.1))
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d) and (abs(m.eps - bn_eps) > 1e-12 or abs(m.momentum - bn_momentum) > 1e-12):
            raise SystemExit(f"torchvision BatchNorm2d(eps={m.eps}, momentum={m.momentum}) differs from the inputs' {bn_eps}, {bn_momentum}")
    missing, unexpected = net.load_state_dict(weights, strict=False)
    missing = [n for n in missing if not n.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"inputs do not fit torchvision's resnet{depth}: missing {missing}, unexpected {unexpected}")
    net = net.to(device=device, dtype=dtype).train()
    x = images.to(device=device, dtype=dtype)
    y = labels.to(device=device)
    lam, gamma, phi = float(meta["lambda"]), float(meta["gamma"]), float(meta["phi"])
    eps = float(meta.get("grouping_epsilon", 1.1920929e-07))
    if meta.get("grouping_loss", "code") != "code":
        raise SystemExit("only the authors' code form of the grouping loss is implemented here")
    params = dict(net.named_parameters())
    small = SMALL_PARAMETERS + [n for n in params if n.startswith("group_fc.")]
    opt = torch.optim.SGD(net.parameters(), lr=float(meta["lr"]), momentum=float(meta["momentum"]),
                          weight_decay=float(meta.get("weight_decay", 0.0)))
    out, step_losses = {}, []
    steps = int(meta["steps"])
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        features, logits, group_logits = sef_forward(net, x, slices)
        terms = sef_loss(features, logits, group_logits, y, slices, lam, gamma, phi, eps)
        terms["loss"].backward()
        if step == 0:
            out["logits"] = logits.detach()
            for i, gl in enumerate(group_logits):
                out[f"group_logits.{i}"] = gl.detach()
            for name, value in terms.items():
                out[name] = value.detach()
            for name in small:
                out[f"grad.{name}"] = params[name].grad.detach().clone()
        step_losses.append(terms["loss"].detach())
        opt.step()
    buffers = dict(net.named_buffers())
    for name in small:
        out[f"step{steps}.{name}"] = params[name].detach().clone()
    for bn in TRACKED_BATCH_NORMS:
        out[f"step{steps}.{bn}.running_mean"] = buffers[f"{bn}.running_mean"].detach().clone()
        out[f"step{steps}.{bn}.running_var"] = buffers[f"{bn}.running_var"].detach().clone()
    out["step_losses"] = torch.stack(step_losses)
    return {k: v.detach().cpu() for k, v in out.items()}


def disable_tf32():
    """A true float32 run: no TF32 in convolutions or matmuls (cuDNN convolutions allow it by default on Ampere+).

    torch >= 2.9 has the fp32_precision settings and refuses a mix of them with the legacy allow_tf32 flags, so only
    one of the two APIs is used.
    """
    if hasattr(torch.backends, "fp32_precision"):
        torch.backends.fp32_precision = "ieee"
        for backend in ("cuda.matmul", "cudnn", "cudnn.conv"):
            obj = torch.backends
            for part in backend.split("."):
                obj = getattr(obj, part, None)
            if obj is not None and hasattr(obj, "fp32_precision"):
                obj.fp32_precision = "ieee"
    else:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", help="inputs.safetensors written by TorchReferenceInputs")
    ap.add_argument("output", help="golden.safetensors to write")
    ap.add_argument("--f32-device", default="auto", choices=["auto", "cuda", "cpu", "none"],
                    help="where the float32 run goes: auto = CUDA when available, else none (default auto)")
    args = ap.parse_args()

    with open(args.inputs, "rb") as f:
        inputs_sha256 = hashlib.sha256(f.read()).hexdigest()
    tensors, meta = read_safetensors(args.inputs)
    images, labels = tensors.pop("images"), tensors.pop("labels").long()

    torch.use_deterministic_algorithms(True, warn_only=True)
    golden = {}
    for k, v in run(tensors, images, labels, meta, torch.device("cpu"), torch.float64).items():
        golden["f64/" + k] = v
    f32 = args.f32_device
    if f32 == "auto":
        f32 = "cuda" if torch.cuda.is_available() else "none"
    f32_name = "none"
    if f32 != "none":
        if f32 == "cuda":
            if not torch.cuda.is_available():
                raise SystemExit("--f32-device cuda but torch.cuda.is_available() is False")
            disable_tf32()
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
            f32_name = "cuda:" + torch.cuda.get_device_name(0)
        else:
            f32_name = "cpu"
        for k, v in run(tensors, images, labels, meta, torch.device(f32), torch.float32).items():
            golden["f32/" + k] = v

    metadata = {
        "inputs_sha256": inputs_sha256,
        "script_version": SCRIPT_VERSION,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "f64_device": "cpu",
        "f32_device": f32_name,
        "steps": meta["steps"],
        "small_parameters": ",".join(SMALL_PARAMETERS),
        "tracked_batch_norms": ",".join(TRACKED_BATCH_NORMS),
    }
    write_safetensors(golden, metadata, args.output)
    f = golden
    print(f"{args.output}: {len(golden)} tensors; f64 loss {f['f64/loss'].item():.10f} "
          f"(CE {f['f64/cross_entropy'].item():.6f}, E {f['f64/entropy'].item():.6f}, "
          f"S {f['f64/distillation'].item():.6f}, L_group {f['f64/grouping'].item():.6f}); "
          f"step losses {[round(v, 8) for v in f['f64/step_losses'].tolist()]}")
    if "f32/loss" in golden:
        worst = max(((golden["f32/" + k[4:]].double() - v).norm() / max(v.norm(), 1e-30)).item()
                    for k, v in golden.items() if k.startswith("f64/"))
        print(f"float32 on {f32_name}: worst relative L2 distance to float64 {worst:.2e}")


if __name__ == "__main__":
    main()
