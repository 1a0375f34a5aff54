"""ltx_video: LTX-Video 0.9.8 inference as a diffusers-style library, extended toward LTX-2."""

from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

from ltx_video.conditioning.items import ConditioningItem
from ltx_video.io.media import export_to_video
from ltx_video.pipelines.ltx_audio_video import LTXAudioVideoPipeline
from ltx_video.pipelines.ltx_video import LTXVideoPipeline

__version__ = "0.1.0"

__all__ = [
    "ConditioningItem",
    "LTXAudioVideoPipeline",
    "LTXVideoCondition",
    "LTXVideoPipeline",
    "__version__",
    "export_to_video",
]
