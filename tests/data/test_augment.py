"""Augmentation keeps masks on their images, never invents labels, and replays from a seed."""

import copy
import random

import albumentations as A
import cv2
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from densecli.compose import compose_config
from densecli.data.augment import (
    Normalizer,
    build_train_transform,
    build_transforms,
    channel_stats,
)
from densecli.data.build import build_datasets
from densecli.data.masks import IGNORE
from densecli.errors import ConfigError

from .datafiles import folder_config

RECIPES = ("basic", "strong", "elastic")
SIZE = 64
SEEDS = range(6)
_CONFIGS: dict = {}


def config(recipe: str = "basic", **data):
    """A tiny shapes run with `recipe`; composed once per recipe (Hydra is slow to start)."""
    if recipe not in _CONFIGS:
        _CONFIGS[recipe] = compose_config(
            [
                f"augmentation={recipe}",
                f"data.image_size={SIZE}",
                "data.num_train=8",
                "data.num_val=4",
                "data.batch_size=2",
            ]  # fmt: skip
        )
    cfg = copy.deepcopy(_CONFIGS[recipe])
    for key, value in data.items():
        cfg.data[key] = value
    return cfg


def entries(recipe: str) -> list[dict]:
    return OmegaConf.to_container(config(recipe).augmentation.train, resolve=True)


def spatial_entries() -> list[tuple[str, dict]]:
    found = []
    for recipe in RECIPES:
        for entry in entries(recipe):
            if issubclass(getattr(A, entry["name"]), A.DualTransform):
                found.append((recipe, entry))
    return found


def photometric_entries() -> list[tuple[str, dict]]:
    return [
        (recipe, entry)
        for recipe in RECIPES
        for entry in entries(recipe)
        if issubclass(getattr(A, entry["name"]), A.ImageOnlyTransform)
    ]


def scene(num_classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A label map with a block, a disc, a thin line and an unlabeled corner, and an image
    drawn from it: channel 0 bright exactly on foreground, the others carry structure."""
    labels = np.zeros((SIZE, SIZE), dtype=np.uint8)
    labels[10:30, 8:40] = 1
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    labels[(y - 44) ** 2 + (x - 44) ** 2 < 100] = 2 if num_classes > 2 else 1
    labels[50:52, 4:30] = 1
    if num_classes > 2:
        labels[:6, :6] = IGNORE
    image = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
    image[:, :, 0] = np.where(labels == 0, 30, 230)
    image[:, :, 1] = (x * 4) % 256
    image[:, :, 2] = (y * 4) % 256
    return image, labels


def seeded(transform: A.Compose, seed: int) -> A.Compose:
    transform.set_random_state(np.random.default_rng(seed), random.Random(seed))
    return transform


def compose(entry: dict) -> A.Compose:
    always = {**entry, "p": 1.0}
    return A.Compose(build_transforms([always], "t"), mask_interpolation=cv2.INTER_NEAREST)


def misaligned(image: np.ndarray, mask: np.ndarray) -> int:
    """Pixels where the bright channel and the mask disagree, away from edges: the
    image is interpolated and the mask is not, so their edges may differ by a pixel."""
    labeled = mask != IGNORE
    foreground = (mask > 0) & labeled
    kernel = np.ones((3, 3), np.uint8)
    band = cv2.dilate(foreground.astype(np.uint8), kernel) != cv2.erode(
        foreground.astype(np.uint8), kernel
    )
    # the outermost ring may have been interpolated with pixels the crop cut away
    band[[0, -1], :] = band[:, [0, -1]] = True
    disagree = ((image[:, :, 0] > 130) != foreground) & labeled & ~band
    return int(disagree.sum())


@pytest.mark.parametrize(
    ("recipe", "entry"), spatial_entries(), ids=[f"{r}-{e['name']}" for r, e in spatial_entries()]
)
def test_augment_spatial_transform_keeps_mask_on_image(recipe, entry):
    image, mask = scene()
    for seed in SEEDS:
        out = seeded(compose(entry), seed)(image=image, mask=mask)
        assert misaligned(out["image"], out["mask"]) == 0, f"{recipe} {entry['name']} seed {seed}"


@pytest.mark.parametrize("recipe", RECIPES)
def test_augment_spatial_chain_keeps_mask_on_image(recipe):
    spatial = [e for r, e in spatial_entries() if r == recipe]
    transform = A.Compose(build_transforms(spatial, "t"), mask_interpolation=cv2.INTER_NEAREST)
    image, mask = scene()
    for seed in SEEDS:
        out = seeded(transform, seed)(image=image, mask=mask)
        assert misaligned(out["image"], out["mask"]) == 0, f"{recipe} seed {seed}"


@pytest.mark.parametrize(
    ("recipe", "entry"),
    photometric_entries(),
    ids=[f"{r}-{e['name']}" for r, e in photometric_entries()],
)
def test_augment_photometric_transform_leaves_mask_alone(recipe, entry):
    image, mask = scene(num_classes=3)
    for seed in SEEDS:
        out = seeded(compose(entry), seed)(image=image, mask=mask)
        assert np.array_equal(out["mask"], mask)


@pytest.mark.parametrize("recipe", RECIPES)
def test_augment_recipe_invents_no_label_values(recipe):
    transform = build_train_transform(config(recipe))
    image, mask = scene(num_classes=3)
    for seed in range(12):
        out = seeded(transform, seed)(image=image, mask=mask)
        assert set(np.unique(out["mask"]).tolist()) <= {0, 1, 2, IGNORE}
        assert out["image"].shape == (SIZE, SIZE, 3) and out["mask"].shape == (SIZE, SIZE)


def test_augment_flips_are_drawn_independently():
    # one generator for the whole recipe: the two flips must not always agree
    cfg = config("basic")
    cfg.augmentation.train = entries("basic")[:2]  # HorizontalFlip, VerticalFlip
    train, _ = build_datasets(cfg)
    raw = train.normalizer(train.source.load(0)[0])
    flips = {
        (h, v): raw.flip([d for d, on in ((2, h), (1, v)) if on]) for h in (0, 1) for v in (0, 1)
    }
    seen = set()
    for seed in range(40):
        image = train[(0, seed)][0]
        seen |= {key for key, flipped in flips.items() if torch.equal(image, flipped)}
    assert seen == set(flips)


def test_augment_index_and_seed_give_identical_items():
    train, _ = build_datasets(config("strong"))
    first, again = train[(3, 1234)], train[(3, 1234)]
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    others = [train[(3, seed)][0] for seed in range(4)]
    assert any(not torch.equal(first[0], other) for other in others)


def test_augment_none_recipe_and_short_lists_end_at_image_size(make_folder):
    root = make_folder(count=4, size=(20, 50))
    for recipe in ([], [{"name": "HorizontalFlip", "p": 1.0}]):
        cfg = folder_config(root)
        cfg.augmentation.train = recipe
        train, _ = build_datasets(cfg)
        image, mask = train[(0, 5)]
        assert image.shape == (3, 32, 32) and mask.shape == (32, 32)
        # 20 rows padded to 32: the padding is unlabeled, never background
        assert (mask[:6] == cfg.data.ignore_index).all() and (mask[6:26] != IGNORE).all()


BAD_RECIPES = {
    "unknown-name": (
        [{"name": "HorizontalFlp"}],
        r"^augmentation\.train\.0\.name: got 'HorizontalFlp'; not an albumentations "
        r"transform\. Did you mean HorizontalFlip\?$",
    ),
    "unknown-argument": (
        [{"name": "HorizontalFlip"}, {"name": "RandomScale", "scale_limt": 0.2}],
        r"^augmentation\.train\.1\.scale_limt: got 0\.2; RandomScale takes no such argument\. "
        r"Did you mean augmentation\.train\.1\.scale_limit\?$",
    ),
    "bad-value": (
        [{"name": "RandomCrop", "height": -3, "width": 8}],
        r"^augmentation\.train\.0\.height: got -3; Input should be greater than or equal to 1\. "
        r"Fix the argument of RandomCrop$",
    ),
    "not-a-mapping": (
        ["HorizontalFlip"],
        r"^augmentation\.train\.0: got 'HorizontalFlip'; expected a mapping with a `name` key",
    ),
    "nested-unknown-name": (
        [{"name": "OneOf", "transforms": [{"name": "Blur"}, {"name": "GausNoise"}]}],
        r"^augmentation\.train\.0\.transforms\.1\.name: got 'GausNoise'.*Did you mean GaussNoise",
    ),
}


@pytest.mark.parametrize("case", list(BAD_RECIPES), ids=list(BAD_RECIPES))
def test_augment_bad_recipe_is_config_error(case):
    recipe, message = BAD_RECIPES[case]
    cfg = config("none")
    cfg.augmentation.train = recipe
    with pytest.raises(ConfigError, match=message):
        build_train_transform(cfg)


def test_augment_channel_stats_broadcast_and_average():
    assert channel_stats([0.5], 3).tolist() == [0.5, 0.5, 0.5]
    assert channel_stats([0.1, 0.2, 0.3], 1).tolist() == pytest.approx([0.2])
    assert channel_stats([0.1, 0.2, 0.3, 0.4], 4).tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_augment_normalizer_round_trips():
    normalizer = Normalizer([0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 3)
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    tensor = normalizer(image)
    assert tensor.shape == (3, 5, 7) and tensor.dtype == torch.float32
    assert tensor[0, 0, 0].item() == pytest.approx((image[0, 0, 0] / 255 - 0.485) / 0.229)
    assert np.allclose(normalizer.denormalize(tensor) * 255, image, atol=1e-3)
