"""FP8 quantization of LTX transformers (docs/quantization.md)."""

from ltx_video.quantization.ltx_quantizer import (
    FP8_MAX,
    FP8Linear,
    FP8QuantizationPolicy,
    fp8_weight_bytes,
    is_fp8_quantized,
    quantize_fp8,
    set_fp8_matmul,
)
from ltx_video.quantization.serialization import load_fp8, save_fp8

__all__ = [
    "FP8Linear",
    "FP8QuantizationPolicy",
    "FP8_MAX",
    "fp8_weight_bytes",
    "is_fp8_quantized",
    "load_fp8",
    "quantize_fp8",
    "save_fp8",
    "set_fp8_matmul",
]
