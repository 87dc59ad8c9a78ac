#!/usr/bin/env python3
"""PyTorch eager rows of sef-onnx's GPU bench (bench/gpu/run.sh), on the same card and in the same run.

The same SEF model as validation/torch-reference/sef_reference.py builds it (torchvision ResNet-50 + SEF heads + SEF
loss, imported from there, not copied): 448 px, batch 32, K=200, G=4 (cub-r50), SGD lr 0.01 momentum 0.9, BatchNorm in
training mode, synthetic N(0,1) images from pinned host memory copied each step (as a data loader hands them over).
Eight configurations: float32 with PyTorch's defaults (TF32 convolutions; matmul TF32 as torch reports it) and AMP
fp16 (autocast + GradScaler, the SEF loss in float32 as sef-onnx's mixed precision computes it), each in NCHW and
channels_last, each with cudnn.benchmark off (PyTorch's default) and on (cuDNN times the algorithms, as sef-onnx's
EXHAUSTIVE search does). Every configuration is timed twice after its warm-up; both numbers are printed.

Appends one tab-separated row per configuration, flushed as soon as it is measured, to the rows file that the Java
sections append to: section, configuration, "rate1, rate2" img/s, arithmetic (tf32|fp16), note. A failing
configuration is a FAILED row and the others go on; --budget stops starting new configurations in time.

    python3 torch_bench.py --rows rows.tsv [--budget SECONDS]
"""
import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "validation", "torch-reference"))

import torch  # noqa: E402
from sef_reference import build_model, sef_forward, sef_loss  # noqa: E402

LAMBDA, GAMMA, PHI = 1.0, 0.05, 1.0
GROUPING_EPS = 1.1920929e-07
SECTION = "torch"


def bench(amp, channels_last, benchmark, args):
    torch.backends.cudnn.benchmark = benchmark
    torch.manual_seed(0)
    net, slices = build_model(args.depth, args.classes, args.groups)
    net = net.cuda().train()
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    gen = torch.Generator().manual_seed(7)
    host = [(torch.randn(args.batch, 3, args.size, args.size, generator=gen).pin_memory(),
             torch.randint(0, args.classes, (args.batch,), generator=gen).pin_memory()) for _ in range(4)]
    skipped = 0

    def step(i):
        nonlocal skipped
        x, y = host[i % len(host)]
        x = x.cuda(non_blocking=True)
        y = y.cuda(non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
            features, logits, group_logits = sef_forward(net, x, slices)
        terms = sef_loss(features.float(), logits.float(), [g.float() for g in group_logits], y, slices,
                         LAMBDA, GAMMA, PHI, GROUPING_EPS)
        opt.zero_grad(set_to_none=True)
        scaler.scale(terms["loss"]).backward()
        before = scaler.get_scale() if amp else 1.0
        scaler.step(opt)
        scaler.update()
        if amp and scaler.get_scale() < before:
            skipped += 1

    for i in range(args.warmup):
        step(i)
    rates = []
    for _ in range(2):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for i in range(args.steps):
            step(i)
        torch.cuda.synchronize()
        rates.append(args.steps * args.batch / (time.perf_counter() - start))
    del net, opt
    torch.cuda.empty_cache()
    return rates, skipped


def append(rows, *fields):
    line = "\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields) + "\n"
    with open(rows, "a") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
    print("ROW | " + " | ".join(str(f) for f in fields), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", required=True, help="the tab-separated rows file to append to")
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--classes", type=int, default=200)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--size", type=int, default=448)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--budget", type=float, default=0, help="seconds; 0: no limit")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        append(args.rows, SECTION, "all configurations", "-", "", "not run: no CUDA device visible to PyTorch")
        return
    begin = time.perf_counter()
    tf32 = "cuDNN TF32 %s, matmul TF32 %s" % (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    version = "torch %s, CUDA %s, cuDNN %s" % (torch.__version__, torch.version.cuda, torch.backends.cudnn.version())
    per_config = None
    for amp in (False, True):
        for channels_last in (False, True):
            for benchmark in (False, True):
                name = ("PyTorch AMP fp16 (autocast + GradScaler)" if amp else "PyTorch fp32 (TF32 convolutions)") + \
                       (", channels_last" if channels_last else ", NCHW") + \
                       (", cudnn.benchmark on" if benchmark else ", cudnn.benchmark off")
                left = args.budget - (time.perf_counter() - begin)
                if args.budget and per_config and left < 1.2 * per_config:
                    append(args.rows, SECTION, name, "-", "", "skipped: out of time (%.0f s left, ~%.0f s each)" % (left, per_config))
                    continue
                t0 = time.perf_counter()
                try:
                    rates, skipped = bench(amp, channels_last, benchmark, args)
                    note = "%d px, batch %d, 2 x %d steps after %d warm-up; %s; %s" % (
                        args.size, args.batch, args.steps, args.warmup, tf32, version)
                    if amp:
                        note += "; %d steps skipped by GradScaler" % skipped
                    append(args.rows, SECTION, name, ", ".join("%.1f" % r for r in rates), "fp16" if amp else "tf32", note)
                except Exception as e:  # a failure is a row, the other configurations go on
                    traceback.print_exc()
                    append(args.rows, SECTION, name, "-", "", "FAILED: %s: %s" % (type(e).__name__, str(e).splitlines()[0][:200] if str(e) else ""))
                    torch.cuda.empty_cache()
                per_config = max(per_config or 0, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
