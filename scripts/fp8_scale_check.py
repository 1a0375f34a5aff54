"""The FP8 GEMM's per-row gain against the exact dequantisation of the FP8 activations it multiplies (docs/benchmarks.md,
"FP8 GEMM activation scale"): the old rescale by the float32 scale, beside the layer as it is now. CPU (oneDNN).

    python scripts/fp8_scale_check.py
"""
import argparse

import torch


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)  # no options: --help only
    from ltx_video.quantization.ltx_quantizer import FP8_DTYPE, FP8_MAX, FP8Linear, channel_scales, round_nearest

    torch.manual_seed(0)
    lin = torch.nn.Linear(256, 256, bias=False)
    s = channel_scales(lin.weight)
    layer = FP8Linear.from_weights(round_nearest(lin.weight, s), s, None)
    layer.matmul = "fp8"
    x = (torch.randn(64, 256) * torch.logspace(-2, 1, 64)[:, None]).bfloat16()
    scale32 = x.abs().amax(1, keepdim=True).float().clamp_min(1e-12) / FP8_MAX
    values = (x / scale32.bfloat16()).clamp(-FP8_MAX, FP8_MAX).to(FP8_DTYPE)  # what both versions quantize to
    ref = (values.float() * scale32.bfloat16().float()) @ layer.dequantized_weight(torch.float32).T

    def gain(y):
        return ((y * ref).sum(1) / (ref * ref).sum(1) - 1).abs().max().item()

    old = torch._scaled_mm(values, layer.weight.t(), scale_a=scale32, scale_b=layer.weight_scale[None],
                           out_dtype=torch.bfloat16)
    print(f"max per-row gain error: old (rescaled by the float32 scale) {gain(old.float()):.2e}, "
          f"now {gain(layer(x).float()):.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
