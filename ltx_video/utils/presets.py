"""Transformer configs of the released LTX-Video 0.9.x checkpoints (diffusers' names; the rest default), for the
memory planner: importable without torch, so ``ltx-video plan`` refuses a bad ``--model`` before torch loads."""

__all__ = ["LTX_VIDEO_2B", "LTX_VIDEO_13B"]

LTX_VIDEO_2B = {"num_attention_heads": 32, "attention_head_dim": 64, "cross_attention_dim": 2048, "num_layers": 28,
                "caption_channels": 4096, "in_channels": 128, "out_channels": 128}
LTX_VIDEO_13B = {"num_attention_heads": 32, "attention_head_dim": 128, "cross_attention_dim": 4096, "num_layers": 48,
                 "caption_channels": 4096, "in_channels": 128, "out_channels": 128}
