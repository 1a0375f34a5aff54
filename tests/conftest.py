import contextlib
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Under pytest-xdist (the README's ``-n 2``) each of the two workers computes on one core; run alone, on both. Set
# before numpy and torch load, so that the processes the tests start (the CLI, the notebook's kernel) use as many.
TEST_THREADS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
os.environ["OMP_NUM_THREADS"] = str(TEST_THREADS)

import av  # noqa: E402
import numpy as np  # noqa: E402
import PIL.Image  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ltx_video.testing import tiny_components  # noqa: E402

torch.set_num_threads(TEST_THREADS)


@pytest.fixture(autouse=True)
def restore_attention_backend():
    """Attention backends are process-wide in diffusers: undo whatever a test switched on."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    from ltx_video.attention import backends

    active, config = _AttentionBackendRegistry._active_backend, backends._config
    yield
    _AttentionBackendRegistry.set_active_backend(active)
    backends._config, backends._layout, backends._layout_key = config, None, None
    backends._dense_phase = False
    backends._sparse_models.clear()
    backends._ltx_models.clear()  # models a test left on an ltx_* backend would keep the options alive for the next


@pytest.fixture(scope="session")
def components():
    return tiny_components(seed=0)


@pytest.fixture(scope="module")
def pipes(components):
    """diffusers' LTXConditionPipeline and LTXVideoPipeline on the same tiny components."""
    from diffusers import LTXConditionPipeline

    from ltx_video import LTXVideoPipeline

    ref, ours = LTXConditionPipeline(**components), LTXVideoPipeline(**components)
    for p in (ref, ours):
        p.set_progress_bar_config(disable=True)
    return ref, ours


@pytest.fixture
def images():
    """Three smooth 64x64 test images (gradients with different colours)."""
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    out = []
    for k in range(3):
        rgb = np.stack([xx * (k + 1) % 1.0, yy, np.full_like(xx, k / 2)], -1)
        out.append(PIL.Image.fromarray((rgb * 255).astype(np.uint8)))
    return out


def gen(seed=0):
    return torch.Generator("cpu").manual_seed(seed)


# float32 round-off allowed between two computations that are mathematically equal but not the same kernel calls:
# two model instances with bit-identical weights (oneDNN and MKL pick kernels by the CPU's vector unit and by the
# tensors' alignment), or one computation split differently (chunked GEMMs). Seen: up to 1.4e-6 on values in
# [0, 1] after 2-3 denoising steps, on AVX2 and AVX-512 machines. Bit-equality is asserted only where the same
# module runs the same calls twice.
FP32_ROUND_OFF = dict(atol=1e-5, rtol=0)


def assert_fp32_equal(actual, expected):
    """``actual == expected`` up to float32 round-off (:data:`FP32_ROUND_OFF`); tighter than any real change."""
    torch.testing.assert_close(actual, expected, **FP32_ROUND_OFF)


@contextlib.contextmanager
def av_gates(transformer, scale: float, seed: int = 3):
    """Inside the block, every audio<->video gate of ``transformer`` is ``scale`` times standard normal noise (0:
    closed, each stream blind to the other); put back as it was after."""
    gates = {n: p for n, p in transformer.named_parameters() if n.startswith("av_") and n.endswith("_gate")}
    saved = {n: p.data.clone() for n, p in gates.items()}
    g = torch.Generator().manual_seed(seed)
    try:
        for p in gates.values():
            p.data = scale * torch.randn(p.shape, generator=g)
        yield
    finally:
        for n, p in gates.items():
            p.data = saved[n]


@contextlib.contextmanager
def script_module(name: str):
    """``scripts/<name>.py`` imported as a module, with scripts/ on ``sys.path`` while the block runs (the benchmarks
    import each other)."""
    import importlib
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parents[1] / "scripts")
    sys.path.insert(0, folder)
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(folder)


@contextlib.contextmanager
def forward_calls(module: torch.nn.Module):
    """A list that gets one entry per forward of ``module`` while the block runs (e.g. "no text encoder ran")."""
    calls = []
    handle = module.register_forward_hook(lambda *_: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def stream_seconds(path):
    """Each stream's end in seconds from its packets (the container's duration fields round to milliseconds), and
    its frame count."""
    seconds, counts = {}, {}
    for kind in ("video", "audio"):
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type == kind]
            if not streams:
                continue
            ends = [p.pts + p.duration for p in container.demux(streams[0]) if p.size]
            seconds[kind] = float(max(ends) * streams[0].time_base)
            counts[kind] = len(ends)
    return seconds, counts
