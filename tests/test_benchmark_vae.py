"""scripts/benchmark_vae.py's measures: the latent spread tells a collapsed encoder from a working one, and the
object PSNR scores the objects, not the background."""

import sys
from pathlib import Path
from types import SimpleNamespace

import torch

ROOT = Path(__file__).parents[1]


class _Autoencoder(torch.nn.Module):
    """Pools each 8 x 8 block into a latent and repeats it back, or (collapsed) gives every clip the same latents
    and the same image."""

    def __init__(self, collapsed: bool) -> None:
        super().__init__()
        self.collapsed = collapsed

    def encode(self, video):
        latents = torch.nn.functional.avg_pool3d(video, (8, 8, 8))
        if self.collapsed:
            latents = torch.linspace(-1, 1, latents.numel()).reshape(latents.shape)
        return SimpleNamespace(latent_dist=SimpleNamespace(mode=lambda: latents))

    def decode(self, latents, temb, return_dict=False):
        video = latents.repeat_interleave(8, 2).repeat_interleave(8, 3).repeat_interleave(8, 4)
        return (torch.cat([video[:, :, :1], video], dim=2),)


def test_latent_spread_finds_a_collapsed_encoder_and_object_psnr_scores_the_objects():
    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark_vae import evaluate, held_out

    clips = held_out(3, 64, 9)
    working, collapsed = evaluate(_Autoencoder(False), clips), evaluate(_Autoencoder(True), clips)
    assert collapsed["spread"] == 0 and working["spread"] > 0.1
    assert working["object_psnr"] < working["psnr"]  # 8 x 8 means blur the small objects most
