"""Loaders: batch shapes, seeded order, a sampler's (index, seed) stream kept across workers,
and uneven validation images padded with unlabeled pixels."""

import copy

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import Sampler

from densecli.compose import compose_config
from densecli.data.build import build_datasets, pad_collate
from densecli.data.loaders import build_loader, seed_worker

from .datafiles import folder_config, image_from_labels, labels_for, write_pair

_BASE = {}


def shapes_config(**data):
    if not _BASE:
        _BASE["cfg"] = compose_config(
            ["data.image_size=32", "data.num_train=12", "data.num_val=5", "data.batch_size=4"]
        )
    cfg = copy.deepcopy(_BASE["cfg"])
    for key, value in data.items():
        cfg.data[key] = value
    return cfg


class ListSampler(Sampler):
    """Yields the given keys in the given order, as a curriculum sampler would."""

    def __init__(self, keys: list) -> None:
        self.keys = keys

    def __iter__(self):
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


@pytest.fixture(scope="module")
def shapes_data():
    return build_datasets(shapes_config())


def test_loader_train_batches_and_drops_last(shapes_data):
    train, _ = shapes_data
    loader = build_loader(train, shapes_config(batch_size=5), train=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 2  # 12 samples, batches of 5, the last 2 dropped
    images, masks = batches[0]
    assert images.shape == (5, 3, 32, 32) and images.dtype == torch.float32
    assert masks.shape == (5, 32, 32) and masks.dtype == torch.int64


def test_loader_train_shuffle_is_seeded(shapes_data):
    train, _ = shapes_data
    first = list(build_loader(train, _seeded(1), train=True).batch_sampler)
    assert first == list(build_loader(train, _seeded(1), train=True).batch_sampler)
    assert first != list(build_loader(train, _seeded(2), train=True).batch_sampler)
    assert sorted(i for batch in first for i in batch) == list(range(12))


def _seeded(seed: int):
    cfg = shapes_config()
    cfg.seed = seed
    return cfg


def test_loader_follows_sampler_of_index_seed_pairs(shapes_data):
    train, _ = shapes_data
    keys = [(11, 5), (0, 6), (3, 7), (3, 8)]
    loader = build_loader(train, shapes_config(), train=True, sampler=ListSampler(keys))
    images, masks = next(iter(loader))
    for row, key in enumerate(keys):
        image, mask = train[key]
        assert torch.equal(images[row], image) and torch.equal(masks[row], mask)


def test_loader_workers_reproduce_the_seeded_stream(shapes_data):
    train, _ = shapes_data
    keys = [(i, 100 + i) for i in range(8)]
    streams = []
    for workers in (0, 1):
        cfg = shapes_config(num_workers=workers)
        loader = build_loader(train, cfg, train=True, sampler=ListSampler(keys))
        assert loader.persistent_workers == (workers > 0)
        streams.append([batch for batch in loader])
    for (a_img, a_mask), (b_img, b_mask) in zip(*streams):
        assert torch.equal(a_img, b_img) and torch.equal(a_mask, b_mask)


def test_loader_pins_memory_only_for_cuda(shapes_data):
    train, val = shapes_data
    assert not build_loader(train, shapes_config(), train=True).pin_memory
    assert build_loader(val, shapes_config(), train=False, device_type="cuda").pin_memory


def test_loader_val_keeps_order_and_all_samples(shapes_data):
    _, val = shapes_data
    batches = list(build_loader(val, shapes_config(), train=False))
    assert [len(masks) for _, masks in batches] == [4, 1]
    assert torch.equal(batches[0][1][2], val[2][1])


def test_seed_worker_seeds_numpy_and_random_from_torch():
    torch.manual_seed(1234)
    seed_worker(0)
    drawn = np.random.rand()
    np.random.seed(1234)
    assert drawn == np.random.rand()


def test_pad_collate_pads_to_largest_with_ignore():
    small = (torch.ones(2, 32, 32), torch.zeros(32, 32, dtype=torch.long))
    large = (torch.ones(2, 64, 96), torch.ones(64, 96, dtype=torch.long))
    images, masks = pad_collate([small, large], ignore_index=7)
    assert images.shape == (2, 2, 64, 96) and masks.shape == (2, 64, 96)
    assert (masks[0, :32, :32] == 0).all() and (masks[0, 32:] == 7).all()
    assert (masks[0, :, 32:] == 7).all() and (images[0, :, 32:] == 0).all()
    assert torch.equal(masks[1], large[1])


def test_loader_val_pads_uneven_folder_images(tmp_path):
    root = tmp_path / "uneven"
    for i, size in enumerate([(32, 40), (50, 70), (32, 40), (40, 33)]):
        labels = labels_for(i, *size)
        image = Image.fromarray(image_from_labels(labels))
        write_pair(root, f"s{i}", image, Image.fromarray(labels * 255))
    cfg = folder_config(root, "data.val_fraction=0.5", "data.batch_size=2", "seed=3")
    _, val = build_datasets(cfg)
    sizes = [tuple(val[i][1].shape) for i in range(len(val))]
    assert all(h % 32 == 0 and w % 32 == 0 for h, w in sizes)
    images, masks = next(iter(build_loader(val, cfg, train=False)))
    height, width = max(h for h, _ in sizes), max(w for _, w in sizes)
    assert images.shape[2:] == masks.shape[1:] == (height, width)
    for row, index in enumerate(range(2)):
        h, w = val.source.load(index)[1].shape
        assert (masks[row, h:] == cfg.data.ignore_index).all()
        assert (masks[row, :, w:] == cfg.data.ignore_index).all()
        assert (masks[row, :h, :w] != cfg.data.ignore_index).all()
