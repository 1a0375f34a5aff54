"""Max abs difference between LTXVideoPipeline and diffusers' LTX pipelines, case by case.

    python scripts/parity_report.py                 # tiny components, CPU, prints a Markdown table
    python scripts/parity_report.py --device cuda   # the same cases with every model on the GPU

The same cases as tests/test_parity.py, printed with their figures for docs/benchmarks.md. Every model is
built offline from ltx_video.testing, so nothing here can reach a model hub.
"""

from __future__ import annotations

import argparse
import platform
from datetime import date

import numpy as np
import PIL.Image
import torch

COMMON = dict(height=64, width=96, num_frames=17, num_inference_steps=3, max_sequence_length=16,
              decode_timestep=0.05, decode_noise_scale=0.025)


def _images():
    yy, xx = np.mgrid[0:64, 0:96] / 63.0
    return [PIL.Image.fromarray((np.stack([xx * (k + 1) % 1, yy, np.full_like(xx, k / 2)], -1) * 255).astype(np.uint8))
            for k in range(3)]


def _diff(ref, ours, ours_extra=None, **kw):
    out = []
    for pipe, extra in ((ref, {}), (ours, ours_extra or {})):
        out.append(torch.as_tensor(pipe(**COMMON, **kw, **extra, generator=torch.Generator().manual_seed(0)).frames))
    return (out[0] - out[1]).abs().max().item()


def _on(components: dict, device: str, dtype: torch.dtype | None = None) -> dict:
    return {k: v.to(device, dtype) if isinstance(v, torch.nn.Module) else v for k, v in components.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="where the models run (inputs and generators stay on the CPU)")
    device = parser.parse_args(argv).device
    # diffusers' pipelines take seconds to import: only after the arguments are read (``--help`` stays quick)
    from diffusers import FlowMatchEulerDiscreteScheduler, LTXConditionPipeline, LTXImageToVideoPipeline, LTXPipeline
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
    from diffusers.utils import logging as diffusers_logging

    from ltx_video import LTXVideoPipeline
    from ltx_video.testing import tiny_components

    diffusers_logging.set_verbosity_error()  # the reference pipelines warn about explicit timesteps
    torch.set_num_threads(2)
    comps = _on(tiny_components(), device)
    ref, ours = LTXConditionPipeline(**comps), LTXVideoPipeline(**comps)
    images = _images()
    arrays = [np.asarray(image).astype(np.float32) / 255.0 for image in images]
    clip = torch.from_numpy(np.stack([arrays[i % 3] for i in range(9)])).permute(0, 3, 1, 2)[None]
    three = [LTXVideoCondition(image=images[0], frame_index=0),
             LTXVideoCondition(image=images[1], frame_index=8, strength=0.8),
             LTXVideoCondition(image=images[2], frame_index=16)]
    rows = []
    for pipe in (ref, ours):
        pipe.set_progress_bar_config(disable=True)
    cases = {
        "T2V, CFG 3.0, decoded": dict(prompt="a red ball bounces", output_type="pt"),
        "T2V, no CFG, decoded": dict(prompt="a red ball bounces", guidance_scale=1.0, output_type="pt"),
        "T2V, latents": dict(prompt="a red ball bounces", output_type="latent"),
        "batch of two prompts": dict(prompt=["a red ball", "a blue cube"], output_type="pt"),
        "I2V (frame 0)": dict(prompt="a ball", image=images[0], output_type="pt"),
        "3 keyframes (0, 8, 16), CFG": dict(prompt="a ball", conditions=three, output_type="pt"),
        "3 keyframes, no CFG, latents": dict(prompt="a ball", conditions=three, guidance_scale=1.0,
                                             output_type="latent"),
        "I2V, image as a NumPy (H, W, C) array in [0, 1]": dict(prompt="a ball", image=arrays[1], output_type="pt"),
        "two prompts, image a (2, 3, H, W) tensor in [0, 1]": dict(
            prompt=["a ball", "a cube"], image=torch.from_numpy(np.stack([arrays[0], arrays[2]])).permute(0, 3, 1, 2),
            output_type="pt"),
        "9-frame clip at frame 8 as a (1, F, C, H, W) tensor": dict(
            prompt="a ball", conditions=[LTXVideoCondition(video=clip, frame_index=8, strength=0.9)], output_type="pt"),
    }
    for name, kw in cases.items():
        rows.append(("LTXConditionPipeline", name, _diff(ref, ours, **kw)))
    comps["scheduler"] = FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05,
                                                         base_image_seq_len=1024, max_image_seq_len=4096)
    ref2, ours2 = LTXPipeline(**comps), LTXVideoPipeline(**comps)
    for pipe in (ref2, ours2):
        pipe.set_progress_bar_config(disable=True)
    rows.append(("LTXPipeline", "T2V, CFG 3.0, timestep_schedule='shifted'",
                 _diff(ref2, ours2, {"timestep_schedule": "shifted"}, prompt="a red ball bounces", output_type="pt")))
    i2v_ref = LTXImageToVideoPipeline(**comps)
    i2v_ref.set_progress_bar_config(disable=True)
    rows.append(("LTXImageToVideoPipeline", "I2V, CFG 3.0, timestep_schedule='shifted'",
                 _diff(i2v_ref, ours2, {"timestep_schedule": "shifted"}, prompt="a ball", image=images[0],
                       output_type="pt")))
    rows.append(("LTXImageToVideoPipeline", "two prompts, image=[a, b]: one image per prompt, 'shifted'",
                 _diff(i2v_ref, ours2, {"timestep_schedule": "shifted"}, prompt=["a ball", "a cube"],
                       image=[images[0], images[2]], output_type="pt")))
    start = torch.randn(1, 8, 3, 2, 3, generator=torch.Generator().manual_seed(5))
    rows.insert(len(cases), ("LTXConditionPipeline", "I2V refining given latents, denoise_strength 0.6",
                             _diff(ref, ours, prompt="a ball", image=images[0], latents=start, denoise_strength=0.6,
                                   output_type="latent")))
    bf16 = _on(tiny_components(), device, torch.bfloat16)
    ref3, ours3 = LTXConditionPipeline(**bf16), LTXVideoPipeline(**bf16)
    for pipe in (ref3, ours3):
        pipe.set_progress_bar_config(disable=True)
    rows.append(("LTXConditionPipeline", "bf16 models: 3 keyframes, CFG, decoded",
                 _diff(ref3, ours3, prompt="a ball", conditions=three, output_type="pt")))
    where = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine()
    print(f"Machine: {where}, torch {torch.__version__}, {date.today()}\n")
    print("| reference | case | max abs diff |\n|---|---|---|")
    for ref_name, case, diff in rows:
        print(f"| {ref_name} | {case} | {diff:.2e} |")


if __name__ == "__main__":
    main()
