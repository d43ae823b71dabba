"""The loss: weighted cross-entropy and Dice terms from smp, each reported on its own."""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from segmentation_models_pytorch.losses import (
    DiceLoss,
    SoftBCEWithLogitsLoss,
    SoftCrossEntropyLoss,
)


class SegmentationLoss(torch.nn.Module):
    """`bce` (binary cross-entropy, or cross-entropy when multiclass) plus `dice`.

    Computed in fp32 even under autocast: Dice sums and log-probabilities lose too much in
    half precision. `forward` returns the weighted total and each term's unweighted value.
    """

    def __init__(self, weights: DictConfig, num_classes: int, ignore_index: int) -> None:
        super().__init__()
        self.binary = num_classes == 2
        self.weights = {"bce": float(weights.bce), "dice": float(weights.dice)}
        if self.binary:
            self.bce = SoftBCEWithLogitsLoss(ignore_index=ignore_index)
            self.dice = DiceLoss("binary", from_logits=True, ignore_index=ignore_index)
        else:
            self.bce = SoftCrossEntropyLoss(smooth_factor=0.0, ignore_index=ignore_index)
            self.dice = DiceLoss("multiclass", from_logits=True, ignore_index=ignore_index)

    def forward(
        self, logits: torch.Tensor, mask: torch.Tensor, dice_scale: float = 1.0
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        logits = logits.float()  # (B, K, H, W)
        target = mask.unsqueeze(1).float() if self.binary else mask  # (B, 1, H, W) or (B, H, W)
        terms: dict[str, torch.Tensor] = {}
        total = logits.new_zeros(())
        for name, weight in self.weights.items():
            weight *= dice_scale if name == "dice" else 1.0
            if self.weights[name] == 0:
                continue
            terms[name] = getattr(self, name)(logits, target)
            total = total + weight * terms[name]
        return total, terms
