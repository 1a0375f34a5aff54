"""Evaluation metrics for generated audio-video clips: plain functions on tensors / arrays.

Frames are ``(F, 3, H, W)`` or ``(F, H, W, 3)``, float in ``[0, 1]`` or ``[-1, 1]`` (read as
``[-1, 1]`` when the minimum is below -0.1) or uint8, or a list of PIL images; audio is ``(S,)`` or ``(C, S)``
float (channels averaged: a ``(2, S)`` is stereo) or an ``AudioTrack`` of one video (see ``_inputs``).

* :func:`camera_motion`: global content motion ``(dx, dy, zoom)`` per frame pair;
* :func:`av_sync_offset_ms`, :func:`av_align_score`: audio-video synchronisation from motion events
  (:func:`video_motion_events`) and audio onsets; :func:`colour_bounce_events` finds the bounces of an
  object of a known colour where segmentation struggles (generated video), for
  :func:`offset_from_events_ms` / :func:`align_score_from_times`;
* :func:`tone_pitch_hz`, :func:`tone_snr_db`, :func:`onset_rise_ms`: objective quality of tone bursts;
* :func:`keyframe_fidelity`: PSNR and SSIM against conditioning keyframes;
* :func:`flicker`, :func:`temporal_drift`: temporal stability;
* :func:`boundary_flicker`, :func:`flow_discontinuity`, :func:`style_distance`: seams between the chunks of a long
  video (:func:`block_flow`: block-matching optical flow);
* :func:`prompt_adherence`, :func:`camera_adherence`: agreement with a prompt of the synthetic
  world's grammar (:mod:`ltx_video.data.synthetic`);
* :func:`bootstrap_interval`: how far a figure over a few dozen clips can be trusted.
"""

from ltx_video.metrics.adherence import camera_adherence, detect_objects, dominant_camera_motion, prompt_adherence
from ltx_video.metrics.audio_quality import onset_rise_ms, tone_pitch_hz, tone_snr_db
from ltx_video.metrics.boundaries import block_flow, boundary_flicker, flow_discontinuity, style_distance
from ltx_video.metrics.camera import camera_motion, compose_motions
from ltx_video.metrics.colour_track import colour_bounce_events, colour_track
from ltx_video.metrics.fidelity import keyframe_fidelity, psnr, ssim
from ltx_video.metrics.motion_events import video_motion_events
from ltx_video.metrics.statistics import bootstrap_interval
from ltx_video.metrics.sync import (
    align_score_from_times,
    audio_onset_envelope,
    audio_onset_times,
    av_align_score,
    av_sync_offset_ms,
    offset_from_events_ms,
)
from ltx_video.metrics.temporal import flicker, temporal_drift

__all__ = [
    "align_score_from_times",
    "audio_onset_envelope",
    "audio_onset_times",
    "av_align_score",
    "av_sync_offset_ms",
    "block_flow",
    "bootstrap_interval",
    "boundary_flicker",
    "camera_adherence",
    "camera_motion",
    "colour_bounce_events",
    "colour_track",
    "compose_motions",
    "detect_objects",
    "dominant_camera_motion",
    "flicker",
    "flow_discontinuity",
    "keyframe_fidelity",
    "offset_from_events_ms",
    "onset_rise_ms",
    "prompt_adherence",
    "psnr",
    "ssim",
    "style_distance",
    "temporal_drift",
    "tone_pitch_hz",
    "tone_snr_db",
    "video_motion_events",
]
