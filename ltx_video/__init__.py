"""ltx_video: LTX-Video 0.9.8 inference as a diffusers-style library, extended toward LTX-2.

The names below load on first use (PEP 562), as diffusers' and transformers' own top-level names do, so
``import ltx_video`` and the ``ltx-video`` command start without importing torch. The attention backends
(``ltx_block_sparse``, ``ltx_chunked``, ``ltx_flash``) are registered with diffusers when
``ltx_video.attention`` is imported, which every pipeline does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Camera": "ltx_video.conditioning.camera_controller",
    "CameraController": "ltx_video.conditioning.camera_controller",
    "CameraMotionEncoder": "ltx_video.conditioning.camera_controller",  # imports camera_encoder without a cycle
    "ConditioningItem": "ltx_video.conditioning.items",
    "HierarchicalVAE": "ltx_video.models.autoencoders.vae_hierarchical",
    "Keyframe": "ltx_video.conditioning.multi_keyframe_processor",
    "KeyframeAdapter": "ltx_video.conditioning.multi_keyframe_processor",
    "LTXAudioVideoPipeline": "ltx_video.pipelines.ltx_audio_video",
    "LTXVideoCondition": "diffusers.pipelines.ltx.pipeline_ltx_condition",
    "LTXVideoPipeline": "ltx_video.pipelines.ltx_video",
    "TilingConfig": "ltx_video.models.autoencoders.tiling",
    "export_to_video": "ltx_video.io.export",
}

__all__ = [
    "Camera",
    "CameraController",
    "CameraMotionEncoder",
    "ConditioningItem",
    "HierarchicalVAE",
    "Keyframe",
    "KeyframeAdapter",
    "LTXAudioVideoPipeline",
    "LTXVideoCondition",
    "LTXVideoPipeline",
    "TilingConfig",
    "__version__",
    "export_to_video",
]

if TYPE_CHECKING:
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    from ltx_video.conditioning.camera_controller import Camera, CameraController
    from ltx_video.conditioning.camera_encoder import CameraMotionEncoder
    from ltx_video.conditioning.items import ConditioningItem
    from ltx_video.conditioning.multi_keyframe_processor import Keyframe, KeyframeAdapter
    from ltx_video.io.export import export_to_video
    from ltx_video.models.autoencoders.tiling import TilingConfig
    from ltx_video.models.autoencoders.vae_hierarchical import HierarchicalVAE
    from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline
    from ltx_video.pipelines.ltx_video import LTXVideoPipeline


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ltx_video' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
