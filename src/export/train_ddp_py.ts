// train_ddp.py, written beside model.py by `skipgrad export --to pytorch`: continues the run's
// recipe under torchrun with DistributedDataParallel. It reimplements what must match skipgrad
// bit for bit to give the same batches: the xoshiro128** generator (autograd/random.ts), the
// DataLoader's shuffle and per-batch augmentation seeds (data/dataloader.ts), the transforms
// (data/transforms.ts) and the readers of --data (IDX with or without .gz, Kaggle CSV).
// Kept as a string so that it ships inside dist/ with no extra files to locate at run time.

export const TRAIN_DDP_PY = String.raw`"""Continues a skipgrad run on PyTorch (written by 'skipgrad export --to pytorch').

    torchrun --nproc_per_node N train_ddp.py --data DIR --out RUN_DIR [--max-steps K] [--epochs E]
    python3 train_ddp.py --out RUN_DIR ...          (one process, no torchrun needed)

Starts from the state beside this file (model.safetensors, optimizer.safetensors, state.json) and
runs skipgrad's recipe: the same optimizer and schedule position, loss (label smoothing included),
augmentation and data order; the batch size is the global batch, split across the N processes
(gloo on CPU, nccl on GPU). On one process the batches are skipgrad's, so the losses match
'skipgrad train --resume' step for step. With N > 1 on CPU each process normalises its share of
the batch (BatchNorm statistics are per process; on GPU SyncBatchNorm is used).

RUN_DIR gets skipgrad's layout: metrics.csv (same columns), config.json, model.safetensors (with
skipgrad's metadata, for 'skipgrad evaluate') and checkpoint/ (this folder's layout again, for
'skipgrad import RUN_DIR --out SKIPGRAD_RUN' or another torchrun of checkpoint/train_ddp.py).
"""
import argparse
import gzip
import json
import math
import os
import re
import shutil
import struct
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import build_model  # noqa: E402

FORMAT = 'skipgrad-pytorch-checkpoint'


# ---- safetensors by hand (Debian's python3-torch has no safetensors package) ------------------

_ST = {'F32': np.float32, 'F64': np.float64, 'I32': np.int32, 'I64': np.int64, 'U8': np.uint8}
_ST_OF = {torch.float32: 'F32', torch.float64: 'F64', torch.int32: 'I32', torch.int64: 'I64'}


def load_safetensors(path):
    with open(path, 'rb') as f:
        blob = f.read()
    (n,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop('__metadata__', None) or {}
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        arr = np.frombuffer(blob[8 + n + b:8 + n + end], dtype=np.dtype(_ST[e['dtype']]).newbyteorder('<'))
        out[name] = torch.from_numpy(arr.astype(_ST[e['dtype']]).reshape(e['shape']))
    return out, meta


def save_safetensors(path, tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        raw = t.numpy().astype(np.dtype(_ST[_ST_OF[t.dtype]]).newbyteorder('<')).tobytes()
        header[name] = {'dtype': _ST_OF[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * (-len(head) % 8)
    write_atomically(path, struct.pack('<Q', len(head)) + head + b''.join(chunks))


def write_atomically(path, data):
    tmp = '%s.tmp-%d' % (path, os.getpid())
    with open(tmp, 'wb' if isinstance(data, bytes) else 'w') as f:
        f.write(data)
    os.replace(tmp, path)


# ---- skipgrad's Generator: xoshiro128** seeded through splitmix32 (src/autograd/random.ts) ---

M32 = 0xFFFFFFFF


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Generator:
    def __init__(self, seed):
        seed = int(seed)
        x = (seed & M32) ^ ((seed >> 32) & M32)
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            s.append((z ^ (z >> 16)) & M32)
        if not any(s):
            s[0] = 1
        self.s = s

    def next_uint32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def random(self):
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992

    def randint(self, low, high):
        return low + math.floor(self.random() * (high - low))


# ---- Fashion-MNIST as 'skipgrad train --data' reads it (src/cli/data_args.ts) ---------------

IDX_FILES = {True: ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
             False: ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        blob = f.read()
    if len(blob) < 4 or blob[0] != 0 or blob[1] != 0 or blob[2] != 0x08:
        raise SystemExit('%s: not an unsigned-byte IDX file' % path)
    ndim = blob[3]
    dims = struct.unpack('>' + 'I' * ndim, blob[4:4 + 4 * ndim])
    return np.frombuffer(blob[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def find_idx(root, name):
    for c in (name + '.gz', name):
        if os.path.exists(os.path.join(root, c)):
            return os.path.join(root, c)
    raise SystemExit('Fashion-MNIST file missing in %s: looked for %s.gz and %s' % (root, name, name))


def read_csv(path, side=28):
    rows = np.loadtxt(path, delimiter=',', skiprows=1, dtype=np.int64, ndmin=2)
    if rows.shape[1] != 1 + side * side or rows.min() < 0 or rows[:, 1:].max() > 255:
        raise SystemExit('%s: expected label,pixel1..pixel%d with pixels in 0..255' % (path, side * side))
    return rows[:, 1:].astype(np.uint8).reshape(-1, side, side), rows[:, 0].astype(np.uint8)


def load_split(root, train):
    if os.path.isfile(root):
        if not root.lower().endswith('.csv'):
            raise SystemExit('--data %s: expected a directory of IDX files or a .csv file' % root)
        return read_csv(root)
    images, labels = (read_idx(find_idx(root, n)) for n in IDX_FILES[train])
    if len(images) != len(labels):
        raise SystemExit('%s: %d images but %d labels' % (root, len(images), len(labels)))
    return images, labels


def load_splits(data, test_data):
    if os.path.isfile(data):
        sibling = os.path.join(os.path.dirname(data), re.sub('train', 'test', os.path.basename(data), count=1, flags=re.I))
        test = test_data or (sibling if sibling != data and os.path.exists(sibling) else None)
        if not test:
            raise SystemExit('--data %s is a CSV file; pass the test split with --test-data FILE.csv' % data)
        return load_split(data, True), load_split(test, False)
    return load_split(data, True), load_split(test_data or data, False)


def to_float(pixels):
    # skipgrad divides in float64 and stores float32.
    return (pixels.astype(np.float64) / 255).astype(np.float32)


# ---- transforms (src/data/transforms.ts), images as float32 C x H x W ------------------------

def resize(size):
    def apply(img, rng):
        c, h, w = img.shape
        if h == size and w == size:
            return img
        def axis(n_in, n_out):
            f = np.maximum(0.0, (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5)
            i0 = np.minimum(n_in - 1, np.floor(f).astype(np.int64))
            i1 = np.minimum(n_in - 1, i0 + 1)
            return i0, i1, f - i0
        y0, y1, wy = axis(h, size)
        x0, x1, wx = axis(w, size)
        p = img.astype(np.float64)
        top = p[:, y0][:, :, x0] * (1 - wx) + p[:, y0][:, :, x1] * wx
        bot = p[:, y1][:, :, x0] * (1 - wx) + p[:, y1][:, :, x1] * wx
        return (top * (1 - wy)[:, None] + bot * wy[:, None]).astype(np.float32)
    return apply


def random_crop(size, padding):
    def apply(img, rng):
        c, h, w = img.shape
        ph, pw = h + 2 * padding, w + 2 * padding
        top = rng.randint(0, ph - size + 1)
        left = rng.randint(0, pw - size + 1)
        padded = np.zeros((c, ph, pw), dtype=np.float32)
        padded[:, padding:padding + h, padding:padding + w] = img
        return padded[:, top:top + size, left:left + size].copy()
    return apply


def random_horizontal_flip(p=0.5):
    def apply(img, rng):
        if not (rng.random() < p):
            return img
        return img[:, :, ::-1].copy()
    return apply


def compose(*ts):
    def apply(img, rng):
        for t in ts:
            img = t(img, rng)
        return img
    return apply


def eval_transform(config):
    return resize(config['resize']) if config.get('resize') else None


def train_transform(config):
    base = eval_transform(config)
    if not config.get('augment') and not config.get('flip'):
        return base
    size = config.get('resize') or 28
    if config.get('augment'):
        aug = compose(random_crop(size, math.floor(4 * size / 28 + 0.5)), random_horizontal_flip())
    else:
        aug = random_horizontal_flip()
    return compose(base, aug) if base else aug


# ---- the DataLoader's order and batches (src/data/dataloader.ts) -----------------------------

class Loader:
    def __init__(self, images, labels, batch_size, shuffle, seed, transform):
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.seed, self.transform = batch_size, shuffle, seed, transform

    def __len__(self):
        return -(-len(self.labels) // self.batch_size)

    def order(self, epoch):
        idx = list(range(len(self.labels)))
        if self.shuffle:
            rng = Generator(self.seed * 1000003 + epoch)
            for i in range(len(idx) - 1, 0, -1):
                j = rng.randint(0, i + 1)
                idx[i], idx[j] = idx[j], idx[i]
        return idx

    def batches(self, epoch, start=0):
        order = self.order(epoch)
        for b in range(start, len(self)):
            ids = order[b * self.batch_size:(b + 1) * self.batch_size]
            rng = Generator(((self.seed * 7919 + epoch) * 104729 + b) % 2 ** 52)
            imgs = [to_float(self.images[i])[None] for i in ids]
            if self.transform:
                imgs = [self.transform(img, rng) for img in imgs]
            yield torch.from_numpy(np.stack(imgs)), torch.from_numpy(self.labels[ids].astype(np.int64))


# ---- optimizer and scheduler from the saved torch state_dicts -------------------------------

def make_optimizer(model, config, saved):
    cls = {'SGD': torch.optim.SGD, 'Adam': torch.optim.Adam, 'AdamW': torch.optim.AdamW}[saved['class']]
    names = [n for n, _ in model.named_parameters()]
    if names != saved['param_names']:
        raise SystemExit('model.py and the optimizer state list the parameters differently')
    return cls(model.parameters(), lr=config['lr'])


def load_optimizer(opt, saved, tensors):
    state = {}
    for name, t in tensors.items():
        _, idx, key = name.split('.', 2)
        state.setdefault(int(idx), {})[key] = t
    groups = []
    for mine, g in zip(opt.param_groups, saved['param_groups']):
        merged = {k: v for k, v in mine.items() if k != 'params'}
        merged.update({k: tuple(v) if k == 'betas' else v for k, v in g.items()})
        groups.append(merged)
    opt.load_state_dict({'state': state, 'param_groups': groups})


def make_scheduler(opt, saved, opt_json, total=None, config=None):
    """The saved schedule, or with total (steps, or epochs for StepLR) one rebuilt for a new length
    as skipgrad's makeScheduler builds it (src/cli/train_config.ts)."""
    if not saved:
        return None
    s, cls = saved['state'], saved['class']
    if cls == 'OneCycleLR':
        g = opt_json['param_groups'][0]
        momentum = {'max_momentum': g['max_momentum'], 'base_momentum': g['base_momentum']} \
            if s['cycle_momentum'] and 'max_momentum' in g else {}
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[g['max_lr'] for g in opt_json['param_groups']],
            total_steps=total or s['total_steps'], anneal_strategy=saved['args'].get('anneal_strategy', 'cos'),
            cycle_momentum=s['cycle_momentum'], **momentum)
    elif cls == 'CosineAnnealingLR':
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total or s['T_max'], eta_min=s['eta_min'])
    elif cls == 'StepLR':
        # skipgrad: stepSize max(1, round(epochs / 3)), JavaScript's Math.round.
        step_size = max(1, math.floor(total / 3 + 0.5)) if total else s['step_size']
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=s['gamma'])
    else:
        raise SystemExit('unknown scheduler %s' % cls)
    return sched


def move_scheduler(sched, at):
    """fit's resume with other epochs: scheduler.step(at), the closed form where there is one."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # torch deprecates step(epoch) for users
        sched.step(at)


def scheduler_state(sched, saved):
    if sched is None:
        return None
    # OneCycleLR's anneal_func (a bound method) is rebuilt by its constructor.
    sd = {k: v for k, v in sched.state_dict().items() if not callable(v)}
    return {'class': saved['class'], 'interval': saved['interval'], 'state': sd, 'args': saved['args']}


def optimizer_state(opt, saved):
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd['state'].items():
        for k, v in st.items():
            if v is not None:
                tensors['state.%d.%s' % (idx, k)] = v.detach().float().reshape(v.shape)
    keep = {'params', 'lr', 'momentum', 'dampening', 'weight_decay', 'nesterov', 'maximize', 'betas', 'eps', 'amsgrad',
            'initial_lr', 'max_lr', 'min_lr', 'max_momentum', 'base_momentum', 'foreach', 'capturable', 'differentiable', 'fused'}
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items() if k in keep} for g in sd['param_groups']]
    return {'class': saved['class'], 'param_groups': groups, 'param_names': saved['param_names']}, tensors


# ---- metrics.csv as skipgrad writes it (src/train/metrics.ts) -------------------------------

COLUMNS = ['epoch', 'step', 'lr', 'loss', 'train_acc', 'test_acc', 'examples_per_sec', 'seconds']


def to_precision(x, digits):
    """Number(x.toPrecision(digits)): the exact value rounded half away from zero, as JavaScript does."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    d = Decimal(x)
    return float(d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=ROUND_HALF_UP))


def js_number(x, digits=6):
    """Number(x.toPrecision(digits)) printed as JavaScript prints it."""
    if x is None:
        return ''
    v = to_precision(x, digits)
    if not math.isfinite(v):
        return 'NaN' if v != v else ('Infinity' if v > 0 else '-Infinity')
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    if 1e-7 <= abs(v) < 1e21:
        return np.format_float_positional(v, trim='-')
    m, e = repr(v).split('e')
    return '%se%s%d' % (m, '-' if int(e) < 0 else '+', abs(int(e)))


def write_metrics(path, rows):
    lines = [','.join(COLUMNS)]
    for r in rows:
        lines.append(','.join([js_number(r['epoch'], 4), str(r['step']), js_number(r['lr']), js_number(r['loss']),
                               js_number(r['trainAcc']), js_number(r['testAcc']), js_number(r['examplesPerSec'], 5),
                               js_number(r['seconds'], 5)]))
    write_atomically(path, '\n'.join(lines) + '\n')


# ---- training ---------------------------------------------------------------------------------

def evaluate(model, images, labels, config, device):
    loader = Loader(images, labels, 256, False, 0, eval_transform(config))
    was = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader.batches(0):
            correct += (model(x.to(device)).argmax(1).cpu() == y).sum().item()
    model.train(was)
    return correct / len(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', help="IDX folder (.gz or not), Kaggle train CSV, or the embedded subset's folder (default: the run's)")
    ap.add_argument('--test-data', help='test split when --data is a CSV (default: the sibling *test*.csv)')
    ap.add_argument('--out', required=True, help='run folder to write')
    ap.add_argument('--max-steps', type=int, help='stop after K optimizer steps (a checkpoint is written)')
    ap.add_argument('--epochs', type=int, help='extend (or shorten) the run to E epochs, rebuilding the schedule for E epochs at the checkpoint\'s step (as skipgrad train --resume --epochs)')
    ap.add_argument('--threads', type=int, help='torch.set_num_threads per process')
    ap.add_argument('--cpu', action='store_true', help='stay on the CPU even when CUDA is available')
    args = ap.parse_args()

    with open(os.path.join(HERE, 'state.json')) as f:
        st = json.load(f)
    if st.get('format') != FORMAT:
        raise SystemExit('%s: not a %s state' % (os.path.join(HERE, 'state.json'), FORMAT))
    config = dict(st['config'])
    saved_epochs = st.get('epochs') or config['epochs']
    if args.epochs is not None:
        if args.epochs < 1:
            raise SystemExit('--epochs must be an integer >= 1, got %d' % args.epochs)
        config['epochs'] = args.epochs
    if args.data:
        config['data'] = os.path.abspath(args.data)
        config.pop('testData', None)
    if args.test_data:
        config['testData'] = os.path.abspath(args.test_data)
    data = config.get('data') or st['embedded_data']

    cuda = torch.cuda.is_available() and not args.cpu
    distributed = 'RANK' in os.environ
    if distributed:
        dist.init_process_group('nccl' if cuda else 'gloo')
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device('cuda', local_rank) if cuda else torch.device('cpu')
    if cuda:
        torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)

    (train_x, train_y), (test_x, test_y) = load_splits(data, config.get('testData'))
    if config.get('limit') and config['limit'] < len(train_y):
        train_x, train_y = train_x[:config['limit']], train_y[:config['limit']]

    model = build_model()
    weights, _ = load_safetensors(os.path.join(HERE, 'model.safetensors'))
    model.load_state_dict(weights, strict=True)
    model.to(device)
    loader = Loader(train_x, train_y, config['batchSize'], True, config['seed'], train_transform(config))
    pos, history = dict(st['position']), list(st['history'])
    epochs, batches = config['epochs'], len(loader)
    if pos['epoch'] >= epochs and not (pos['epoch'] == epochs and pos['batch'] == 0):
        raise SystemExit('the checkpoint is at epoch %d, batch %d; --epochs %d would end the run before it' % (
            pos['epoch'] + 1, pos['batch'], epochs))
    opt_json = st['optimizer']
    opt = make_optimizer(model, config, opt_json)
    interval = st['scheduler']['interval'] if st['scheduler'] else 'epoch'
    rebuilt = epochs != saved_epochs
    total = (epochs * batches if interval == 'step' else epochs) if rebuilt else None
    sched = make_scheduler(opt, st['scheduler'], opt_json, total)
    opt_tensors, _ = load_safetensors(os.path.join(HERE, 'optimizer.safetensors'))
    load_optimizer(opt, opt_json, {k: v.to(device) for k, v in opt_tensors.items()})
    schedule_note = ''
    if rebuilt:
        # As skipgrad train --resume --epochs: the schedule is rebuilt for the new length and moved
        # to the checkpoint's position (PyTorch's last_epoch), not continued on the old one.
        at = pos['step'] if interval == 'step' else pos['epoch']
        if sched is not None:
            move_scheduler(sched, at)
            schedule_note = '%s %d -> %d epochs: %s schedule rebuilt for %d epochs (%s), continuing at %s %d' % (
                'extending' if epochs > saved_epochs else 'shortening', saved_epochs, epochs, st['scheduler']['class'],
                epochs, '%d steps' % (epochs * batches) if interval == 'step' else '%d epochs' % epochs, interval, at)
        else:
            schedule_note = '%s %d -> %d epochs (no scheduler), continuing at step %d' % (
                'extending' if epochs > saved_epochs else 'shortening', saved_epochs, epochs, pos['step'])
    elif sched is not None:
        sched.load_state_dict(st['scheduler']['state'])

    net = model
    if distributed:
        if cuda and world > 1:
            net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[local_rank] if cuda else None)

    log_every = max(1, batches // 5)
    smoothing = config.get('labelSmoothing') or 0.0
    if rank == 0:
        print('continuing %s on %d process%s (%s, %s): epoch %d, batch %d, step %d of batch %d' % (
            st['source'], world, '' if world == 1 else 'es', 'nccl' if cuda else 'gloo' if distributed else 'no DDP',
            device, pos['epoch'] + 1, pos['batch'], pos['step'], config['batchSize']), flush=True)
        if schedule_note:
            print(schedule_note, flush=True)

    def save_checkpoint(position):
        ck = os.path.join(args.out, 'checkpoint')
        os.makedirs(ck, exist_ok=True)
        save_safetensors(os.path.join(ck, 'model.safetensors'), model.state_dict(), model_metadata(config))
        opt_out, tensors = optimizer_state(opt, opt_json)
        save_safetensors(os.path.join(ck, 'optimizer.safetensors'), tensors)
        out = dict(st, config=config, epochs=epochs, position=position, history=history, optimizer=opt_out,
                   scheduler=scheduler_state(sched, st['scheduler']), source=os.path.abspath(args.out))
        write_atomically(os.path.join(ck, 'state.json'), json.dumps(out, indent=1) + '\n')
        for f in ('model.py', 'train_ddp.py'):
            if os.path.abspath(os.path.join(HERE, f)) != os.path.abspath(os.path.join(ck, f)):
                shutil.copyfile(os.path.join(HERE, f), os.path.join(ck, f))
        write_metrics(os.path.join(args.out, 'metrics.csv'), history)

    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        write_atomically(os.path.join(args.out, 'config.json'), json.dumps(config, indent=2) + '\n')
    run_steps, stopped = 0, False
    if rank == 0 and pos['epoch'] >= epochs:
        print('the run has done its %d epochs; pass --epochs to extend it' % epochs, flush=True)
    net.train()
    while pos['epoch'] < epochs:
        if pos['batch'] == 0:
            pos.update(lossSum=0, correct=0, count=0, epochSeconds=0)
        for x, y in loader.batches(pos['epoch'], pos['batch']):
            t0 = time.perf_counter()
            n = len(y)
            share = np.array_split(np.arange(n), world)[rank]
            xl, yl = x[share].to(device), y[share].to(device)
            opt.zero_grad(set_to_none=True)
            logits = net(xl)
            if world == 1:
                loss = F.cross_entropy(logits, yl, label_smoothing=smoothing)
                loss.backward()
                loss_value = loss.item()
                stats = torch.tensor([loss_value * n, (logits.argmax(1) == yl).sum().item()], dtype=torch.float64)
            else:
                # Each process's sum over its share, scaled so that DDP's mean over processes is
                # the gradient of the global batch's mean loss.
                loss_sum = F.cross_entropy(logits, yl, label_smoothing=smoothing, reduction='sum')
                (loss_sum * (world / n)).backward()
                stats = torch.tensor([loss_sum.item(), (logits.argmax(1) == yl).sum().item()], dtype=torch.float64)
                loss_value = None
            opt.step()
            if sched is not None and interval == 'step':
                sched.step()
            if distributed:
                stats = stats.to(device)
                dist.all_reduce(stats)
                stats = stats.cpu()
            dt = time.perf_counter() - t0
            if loss_value is None:
                loss_value = stats[0].item() / n
            if not math.isfinite(loss_value):
                raise SystemExit('the loss became %s at epoch %d, batch %d' % (loss_value, pos['epoch'] + 1, pos['batch'] + 1))
            pos['lossSum'] += loss_value * n
            pos['correct'] += int(stats[1].item())
            pos['count'] += n
            pos['epochSeconds'] += dt
            pos['totalSeconds'] += dt
            pos['totalExamples'] += n
            pos['batch'] += 1
            pos['step'] += 1
            run_steps += 1
            if pos['batch'] % log_every == 0 or pos['batch'] == batches:
                history.append({'epoch': pos['epoch'] + pos['batch'] / batches, 'step': pos['step'],
                                'lr': opt.param_groups[0]['lr'], 'loss': pos['lossSum'] / pos['count'],
                                'trainAcc': pos['correct'] / pos['count'], 'testAcc': None,
                                'examplesPerSec': pos['count'] / pos['epochSeconds'], 'seconds': pos['totalSeconds']})
            if args.max_steps is not None and run_steps >= args.max_steps:
                stopped = True
                if pos['batch'] < batches:
                    break
        if stopped and pos['batch'] < batches:
            break
        if sched is not None and interval == 'epoch':
            sched.step()
        acc = evaluate(model, test_x, test_y, config, device) if rank == 0 else None
        if rank == 0:
            history[-1]['testAcc'] = acc
            print('epoch %d/%d: loss %.3f, train acc %.3f, test acc %.3f, %.1f examples/sec' % (
                pos['epoch'] + 1, epochs, pos['lossSum'] / pos['count'], pos['correct'] / pos['count'], acc,
                pos['count'] / pos['epochSeconds']), flush=True)
            save_checkpoint(dict(pos, epoch=pos['epoch'] + 1, batch=0, lossSum=0, correct=0, count=0, epochSeconds=0))
        pos['epoch'] += 1
        pos['batch'] = 0
        if stopped:
            break
    if rank == 0:
        # checkpoint/ always holds the state at the end of this run (also when it ran no step).
        if pos['batch'] > 0 or run_steps == 0:
            save_checkpoint(pos)
        save_safetensors(os.path.join(args.out, 'model.safetensors'), model.state_dict(), model_metadata(config))
        write_metrics(os.path.join(args.out, 'metrics.csv'), history)
        acc = evaluate(model, test_x, test_y, config, device)
        print('final: test acc %.4f on %d images after step %d; run folder %s' % (acc, len(test_y), pos['step'], args.out), flush=True)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


def model_metadata(config):
    return {'format': 'pt', 'producer': 'skipgrad train_ddp.py', 'skipgrad.config': json.dumps(config)}


if __name__ == '__main__':
    main()
`;
