"""PyTorch side of `npm run bench`: the seed's ResNet-18 (D2L 8.6, code verbatim below) in the
same configurations, with the same warm-up / timing scheme and output as bench/resnet18.ts.

    /usr/bin/python3 bench/torch_resnet18.py [--threads N] [--json] [--quick] [--only NAME]

--threads N sets torch.set_num_threads (default 2, the cores of the machine the targets were set
on); each configuration runs in a fresh subprocess (this script with --no-fork) so its peak RSS
(ru_maxrss, which includes the ~225 MB that importing torch costs) is its own.
"""
import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F


# ---- the seed's code, verbatim ---------------------------------------------------------------

class Residual(nn.Module):  #@save
    def __init__(self, input_channels, num_channels,
                 use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels,
                               kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels,
                               kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels,
                                   kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet_block(input_channels, num_channels, num_residuals,
                 first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels,
                                use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


def make_net():
    # The seed builds b1..b5 and net at module level; a function gives each configuration a fresh net.
    b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                       nn.BatchNorm2d(64), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
    b3 = nn.Sequential(*resnet_block(64, 128, 2))
    b4 = nn.Sequential(*resnet_block(128, 256, 2))
    b5 = nn.Sequential(*resnet_block(256, 512, 2))
    net = nn.Sequential(b1, b2, b3, b4, b5,
                        nn.AdaptiveAvgPool2d((1,1)),
                        nn.Flatten(), nn.Linear(512, 10))
    return net


# ---- the benchmark (mirrors bench/resnet18.ts) ------------------------------------------------

CONFIGS = [
    {'name': 'train-28x28-b64', 'kind': 'train', 'batch': 64, 'size': 28},
    {'name': 'train-28x28-b256', 'kind': 'train', 'batch': 256, 'size': 28},
    {'name': 'train-96x96-b64', 'kind': 'train', 'batch': 64, 'size': 96},
    {'name': 'infer-28x28-b64', 'kind': 'infer', 'batch': 64, 'size': 28},
    {'name': 'infer-28x28-b256', 'kind': 'infer', 'batch': 256, 'size': 28},
    {'name': 'infer-96x96-b64', 'kind': 'infer', 'batch': 64, 'size': 96},
    {'name': 'gemm-1024', 'kind': 'gemm', 'batch': 0, 'size': 1024},
    # Python only: Debian's torch.matmul calls the system BLAS, which here is netlib's reference
    # libblas (~2 GFLOP/s); its convolutions use oneDNN, whose GEMM this row measures.
    {'name': 'gemm-1024-onednn', 'kind': 'gemm-onednn', 'batch': 0, 'size': 1024},
]

# What computes each kind: the network's convolutions run on oneDNN, the rest on ATen's own loops.
KERNELS = {'train': 'native', 'infer': 'native', 'gemm': 'blas', 'gemm-onednn': 'onednn'}

COLUMNS = [('name', 18), ('throughput', 18), ('ms/step', 11), ('steps', 7), ('peak RSS MB', 13), ('threads', 9), ('kernels', 10)]


def select_configs(only):
    if only is None:
        return list(CONFIGS)
    picked = [c for c in CONFIGS if c['name'] == only] or [c for c in CONFIGS if only in c['name']]
    if not picked:
        sys.exit(f"bench: --only '{only}' matches no configuration ({', '.join(c['name'] for c in CONFIGS)})")
    return picked


def timing_plan(quick):
    if quick:
        return dict(warmup_steps=1, warmup_ms=0, min_steps=1, min_ms=0, max_steps=1)
    return dict(warmup_steps=1, warmup_ms=2000, min_steps=1, min_ms=10_000, max_steps=100)


def now_ms():
    return time.perf_counter() * 1000


def run_timed(step, plan):
    w0, n = now_ms(), 0
    while n < plan['warmup_steps'] or (now_ms() - w0 < plan['warmup_ms'] and n < plan['max_steps']):
        step()
        n += 1
    times, t0 = [], now_ms()
    while len(times) < plan['min_steps'] or (now_ms() - t0 < plan['min_ms'] and len(times) < plan['max_steps']):
        t = now_ms()
        step()
        times.append(now_ms() - t)
    return times


def make_step(config):
    torch.manual_seed(0)
    if config['kind'] == 'gemm':
        n = config['size']
        A, B, C = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
        return lambda: torch.matmul(A, B, out=C)
    if config['kind'] == 'gemm-onednn':
        n = config['size']
        A, Bt = torch.randn(n, n).to_mkldnn(), torch.randn(n, n).to_mkldnn()
        return lambda: torch._C._nn.mkldnn_linear(A, Bt)  # A @ Bt^T, float32
    net = make_net()
    x = torch.randn(config['batch'], 1, config['size'], config['size'])
    y = torch.randint(0, 10, (config['batch'],))
    if config['kind'] == 'infer':
        net.eval()

        def infer():
            with torch.no_grad():
                net(x)
        return infer
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def train():
        opt.zero_grad(set_to_none=True)  # skipgrad's zeroGrad also sets grads to null
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        if not torch.isfinite(loss).item():
            raise RuntimeError(f"bench: {config['name']} loss is {loss.item()}")
    return train


def summarize(config, times):
    ms = sum(times) / len(times)
    r = {'name': config['name']}
    if config['kind'].startswith('gemm'):
        r['gflops'] = round(2 * config['size'] ** 3 / ms / 1e6, 2)
    else:
        r['imagesPerSec'] = round(config['batch'] * 1000 / ms, 2)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    r.update(msPerStep=round(ms, 2), steps=len(times), peakRssMb=round(peak_mb, 1),
             threads=torch.get_num_threads(), kernels=KERNELS[config['kind']], framework=f'pytorch {torch.__version__}')
    return r


def table_row(r):
    rate = f"{r['gflops']:.1f} GFLOP/s" if 'gflops' in r else f"{r['imagesPerSec']:.1f} img/s"
    cells = [r['name'], rate, f"{r['msPerStep']:.1f}", str(r['steps']), f"{r['peakRssMb']:.0f}", str(r['threads']), r['kernels']]
    return ''.join(c.ljust(w) for c, (_, w) in zip(cells, COLUMNS)).rstrip()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--json', action='store_true')
    p.add_argument('--quick', action='store_true')
    p.add_argument('--only')
    p.add_argument('--no-fork', action='store_true')
    args = p.parse_args()
    if args.threads < 1:
        p.error(f'--threads expects a positive integer, got {args.threads}')
    torch.set_num_threads(args.threads)
    configs = select_configs(args.only)
    if args.no_fork:
        for c in configs:
            r = summarize(c, run_timed(make_step(c), timing_plan(args.quick)))
            print(json.dumps(r, separators=(',', ':')) if args.json else table_row(r), flush=True)
        return 0
    if not args.json:
        print(''.join(h.ljust(w) for h, w in COLUMNS).rstrip(), flush=True)
    failed = 0
    for c in configs:
        cmd = [sys.executable, __file__, '--threads', str(args.threads), '--json', '--no-fork', '--only', c['name']]
        if args.quick:
            cmd.append('--quick')
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            failed += 1
            print(f"bench: {c['name']} child exited with code {out.returncode}", file=sys.stderr)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(r, separators=(',', ':')) if args.json else table_row(r), flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
