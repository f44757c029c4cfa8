"""Data-parallel training over a few CPU processes (gloo), for the 2-core budget of the toy world's recipe.

Each process trains on its share of the batch with one thread; after every backward pass the gradients
(and the loss, for the log) are averaged over the processes, so every process applies the same update to
the same weights: the run is the single-process run with the same total batch, about `procs` times faster
on `procs` free cores. Process 0 owns the clock, the log and the checkpoints: it broadcasts, every step,
whether to go on and whether to save, so all processes stop and save at the same step."""

import os
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import common


class Group:
    """The calling process's place in the run: rank (0 is the leader) of world processes."""

    def __init__(self, rank, world):
        self.rank, self.world = rank, world

    @property
    def leader(self):
        return self.rank == 0

    def share(self, batch):
        """Returns this process's share of the total batch (which must divide evenly)."""
        if batch % self.world:
            raise SystemExit(f"--batch {batch} is not divisible by --procs {self.world}")
        return batch // self.world

    def log(self, path):
        """Returns the run's JSON-lines log (common.Log) in the leader, a no-op elsewhere."""
        return common.Log(path) if self.leader else (lambda **kw: None)

    def sync_params(self, params):
        """Copies the leader's parameter values to every process (the start of a run)."""
        if self.world > 1:
            for p in params:
                dist.broadcast(p.data, 0)

    def average(self, params, loss):
        """Averages the gradients of params and the scalar loss over the processes; returns the mean loss
        as a float. Every process runs the same graph, so the parameters without a gradient (left as
        they are) are the same in all."""
        if self.world == 1:
            return float(loss.detach())
        live = [p for p in params if p.grad is not None]
        flat = torch.cat([p.grad.reshape(-1) for p in live] + [loss.detach().reshape(1)])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for p in live:
            n = p.numel()
            p.grad.copy_(flat[offset:offset + n].view_as(p))
            offset += n
        return float(flat[-1])

    def control(self, *values):
        """Returns the leader's values (floats) in every process: the leader's clock decides for all."""
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        dist.broadcast(t, 0)
        return tuple(t.tolist())

    def gather(self, obj):
        """Returns the list of every process's obj (in rank order) in every process."""
        if self.world == 1:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out


def _worker(rank, world, store, fn, args):
    dist.init_process_group("gloo", init_method="file://" + store, rank=rank, world_size=world)
    try:
        fn(args, Group(rank, world))
    finally:
        dist.destroy_process_group()


def launch(fn, args, procs):
    """Runs fn(args, group) in procs processes (or in this one when procs is 1)."""
    if procs <= 1:
        fn(args, Group(0, 1))
        return
    fd, store = tempfile.mkstemp(prefix="toyworld-ddp-")
    os.close(fd)
    os.remove(store)  # the file store must not exist yet
    try:
        mp.spawn(_worker, args=(procs, store, fn, args), nprocs=procs, join=True)
    finally:
        if os.path.exists(store):
            os.remove(store)
