"""LTXAudioVideoTransformer3DModel: legacy parity, zero-gate identity, live paths, time alignment."""

import pytest
import torch
from conftest import assert_fp32_equal
from diffusers import LTXVideoTransformer3DModel

from ltx_video.models.transformer_av import (
    LTXAudioVideoTransformer3DModel,
    audio_block_schedule,
    default_av_cross_attention_layers,
    time_rotary_emb,
)
from ltx_video.testing import tiny_transformer

TINY = {k: v for k, v in tiny_transformer().config.items() if not k.startswith("_")}  # ltx_video.testing's config
TINY_AUDIO = dict(audio_in_channels=8, audio_num_attention_heads=2, audio_attention_head_dim=8)
F, H, W, NA, NT = 3, 2, 2, 20, 5  # latent frames, height, width; audio tokens; text tokens
FRAME_SECONDS = 8 / 24  # one latent frame at 24 fps


def _legacy() -> LTXVideoTransformer3DModel:
    return tiny_transformer(seed=0)


def _inputs(batch: int = 2) -> dict:
    g = torch.Generator("cpu").manual_seed(0)
    mask = torch.ones(batch, NT)
    mask[0, -2:] = 0
    return dict(
        hidden_states=torch.randn(batch, F * H * W, 8, generator=g),
        encoder_hidden_states=torch.randn(batch, NT, 16, generator=g),
        timestep=torch.tensor([700.0, 250.0])[:batch],
        encoder_attention_mask=mask,
        num_frames=F,
        height=H,
        width=W,
        rope_interpolation_scale=(FRAME_SECONDS, 32.0, 32.0),
    )


def _audio(batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, NA, 8, generator=torch.Generator("cpu").manual_seed(1))


def _open_gates(model: LTXAudioVideoTransformer3DModel) -> None:
    g = torch.Generator("cpu").manual_seed(2)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("_gate"):
                p.copy_(torch.randn(p.shape, generator=g))


def _open_model() -> LTXAudioVideoTransformer3DModel:
    """The tiny audio-video transformer (seed 0) with its audio<->video gates open."""
    torch.manual_seed(0)
    model = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO).eval()
    _open_gates(model)
    return model


def test_from_legacy_keeps_weights_and_state_dict_is_superset():
    legacy = _legacy()
    model = LTXAudioVideoTransformer3DModel.from_legacy(legacy, **TINY_AUDIO)
    new_sd, old_sd = model.state_dict(), legacy.state_dict()
    for key, tensor in old_sd.items():
        assert torch.equal(new_sd[key], tensor), key
    legacy_config = {k: v for k, v in legacy.config.items() if not k.startswith("_")}
    assert {k: model.config[k] for k in legacy_config} == legacy_config

    fresh = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO)
    missing, unexpected = fresh.load_state_dict(old_sd, strict=False)
    assert unexpected == []
    assert missing and all(k.startswith(("audio_", "av_")) for k in missing)
    assert set(missing) == set(new_sd) - set(old_sd)


def test_video_output_equals_legacy_at_init_and_without_audio():
    legacy = _legacy()
    model = LTXAudioVideoTransformer3DModel.from_legacy(legacy, **TINY_AUDIO).eval()
    inputs = _inputs()
    with torch.no_grad():
        ref = legacy(**inputs).sample
        no_audio = model(**inputs)
        with_audio = model(**inputs, audio_hidden_states=_audio())
        coords = _video_coords(inputs)
        ref_coords = legacy(**{**inputs, "video_coords": coords}).sample
        with_coords = model(**inputs, video_coords=coords, audio_hidden_states=_audio()).sample
    diff_none = (no_audio.sample - ref).abs().max().item()
    diff_audio = (with_audio.sample - ref).abs().max().item()
    diff_coords = (with_coords - ref_coords).abs().max().item()
    print(f"max |video - legacy|: audio=None {diff_none:.3e}, audio at init {diff_audio:.3e}, coords {diff_coords:.3e}")
    assert no_audio.audio_sample is None
    assert diff_none <= 1e-6 and diff_audio <= 1e-6 and diff_coords <= 1e-6
    assert with_audio.audio_sample.shape == (2, NA, 8) and torch.isfinite(with_audio.audio_sample).all()
    assert ref.abs().max() > 1e-2  # the comparison is not between zeros

    video, audio = model(**inputs, audio_hidden_states=_audio(), return_dict=False)
    assert torch.equal(video, with_audio.sample) and torch.equal(audio, with_audio.audio_sample)


def _video_coords(inputs: dict) -> torch.Tensor:
    """(B, 3, N) coordinates as the pipelines pass them: time in seconds, then pixel rows and columns."""
    f, h, w = torch.meshgrid(torch.arange(F), torch.arange(H), torch.arange(W), indexing="ij")
    coords = torch.stack([f * FRAME_SECONDS, h * 32.0, w * 32.0]).flatten(1).float()
    return coords.expand(inputs["hidden_states"].shape[0], -1, -1).clone()


def test_open_gates_couple_the_streams():
    model = _open_model()
    inputs, audio = _inputs(), _audio()
    with torch.no_grad():
        base = model(**inputs, audio_hidden_states=audio)
        other_audio = model(**inputs, audio_hidden_states=audio + 1.0)
        other_video = model(**{**inputs, "hidden_states": inputs["hidden_states"] + 1.0}, audio_hidden_states=audio)
        no_audio = model(**inputs).sample
    audio_effect = (other_audio.sample - base.sample).abs().max().item()
    video_effect = (other_video.audio_sample - base.audio_sample).abs().max().item()
    gated_vs_legacy = (base.sample - no_audio).abs().max().item()
    print(
        f"audio->video {audio_effect:.3e}, video->audio {video_effect:.3e}, with vs without audio {gated_vs_legacy:.3e}"
    )
    assert audio_effect > 1e-3 and video_effect > 1e-3 and gated_vs_legacy > 1e-3


def test_isolated_rows_skip_the_exchange():
    """``isolate_modalities`` rows are the model with its audio<->video gates closed; the other rows are untouched."""
    model = _open_model()
    closed = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO).eval()
    closed.load_state_dict(model.state_dict())
    with torch.no_grad():
        for name, p in closed.named_parameters():
            if name.endswith("_gate"):
                p.zero_()
        inputs, audio = _inputs(), _audio()
        mixed = model(**inputs, audio_hidden_states=audio, isolate_modalities=torch.tensor([False, True]))
        open_ = model(**inputs, audio_hidden_states=audio)
        shut = closed(**inputs, audio_hidden_states=audio)
    assert torch.isfinite(mixed.sample).all() and torch.isfinite(mixed.audio_sample).all()
    assert torch.allclose(mixed.sample[0], open_.sample[0], atol=1e-6)
    assert torch.allclose(mixed.audio_sample[0], open_.audio_sample[0], atol=1e-6)
    assert torch.allclose(mixed.sample[1], shut.sample[1], atol=1e-6)
    assert torch.allclose(mixed.audio_sample[1], shut.audio_sample[1], atol=1e-6)
    # Not a comparison of equal things: the exchange changes both streams of that row.
    assert (open_.sample[1] - shut.sample[1]).abs().max() > 1e-3
    assert (open_.audio_sample[1] - shut.audio_sample[1]).abs().max() > 1e-3
    with pytest.raises(ValueError, match="audio_hidden_states"):
        model(**inputs, isolate_modalities=torch.tensor([False, True]))


def test_gradients_reach_every_new_parameter():
    torch.manual_seed(0)
    model = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO).train()
    _open_gates(model)
    out = model(**_inputs(), audio_hidden_states=_audio())
    (out.sample.square().mean() + out.audio_sample.square().mean()).backward()
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    zero_grad = [n for n, p in model.named_parameters() if p.grad is not None and not p.grad.abs().sum() > 0]
    assert no_grad == [], no_grad
    assert zero_grad == [], zero_grad


def test_gradient_checkpointing_matches():
    torch.manual_seed(0)
    model = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO)
    _open_gates(model)
    inputs, audio = _inputs(), _audio()
    ref = model(**inputs, audio_hidden_states=audio)
    model.enable_gradient_checkpointing()
    out = model(**inputs, audio_hidden_states=audio)
    assert torch.allclose(out.sample, ref.sample, atol=1e-6) and torch.allclose(
        out.audio_sample, ref.audio_sample, atol=1e-6
    )


def test_video_tokens_attend_to_audio_at_their_own_time():
    """Constructed case: Q and K projections are the identity and every token holds the same content
    (all ones, so every rotary pair has the same norm); only the time difference shapes the weights."""
    torch.manual_seed(0)
    model = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO)
    _open_gates(model)
    cross = model.av_cross_attention[str(model.av_layers[0])]
    with torch.no_grad():
        for attn in (cross.video_attn, cross.audio_attn):
            for linear in (attn.to_q, attn.to_k):
                linear.weight.copy_(torch.eye(16))
                linear.bias.zero_()
    num_audio = 100  # two seconds of 20 ms tokens
    audio_times = (torch.arange(num_audio) * 0.02)[None]
    video_times = (torch.arange(6) * FRAME_SECONDS)[None]  # latent frames at 24 fps: 0, 1/3, ..., 5/3 s
    rope = dict(num_heads=2, head_dim=8, base_seconds=20.0, theta=1000.0)
    v2a, a2v = cross.attention_probs(
        torch.ones(1, 6, 16),
        torch.ones(1, num_audio, 16),
        time_rotary_emb(video_times, **rope),
        time_rotary_emb(audio_times, **rope),
    )
    dist = (video_times[0, :, None] - audio_times[0][None, :]).abs()  # (Nv, Na)
    v2a_peak, a2v_peak = v2a[0].argmax(dim=-1), a2v[0].argmax(dim=-1)  # (H, Nv), (H, Na)
    print("video s", video_times[0].tolist(), "-> audio peak s", (v2a_peak[0] * 0.02).tolist())
    assert torch.equal(v2a_peak, dist.argmin(dim=1).expand(2, -1))  # each frame peaks at its nearest audio token
    # Audio tokens within 10 ms of a frame peak at that frame (between frames the 40 ms rotary period aliases
    # at init; learned per-frequency Q/K magnitudes shape the kernel there).
    on_frame = dist.min(dim=0).values <= 0.01
    assert on_frame.sum() >= 6
    assert torch.equal(a2v_peak[:, on_frame], dist.argmin(dim=0)[on_frame].expand(2, -1))
    # Weights fall off with time distance: mean weight within 0.1 s is over twice that beyond 0.5 s.
    near = (v2a[0] * (dist <= 0.1)).sum(-1) / (dist <= 0.1).sum(-1)
    far = (v2a[0] * (dist > 0.5)).sum(-1) / (dist > 0.5).sum(-1)
    print("near/far weight ratio", (near / far).min().item())
    assert (near > 2 * far).all()


def _time_windowed(window: float = 0.1) -> LTXAudioVideoTransformer3DModel:
    torch.manual_seed(0)
    model = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, av_time_window=window).eval()
    _open_gates(model)
    return model


def test_time_window_is_a_gaussian_on_the_time_difference():
    """Q and K projections zeroed: the content says nothing, so the weights are exactly the window,
    softmax over audio tokens of -0.5 (dt / w)^2, computed here independently; a learned centre shift
    moves the peak, a learned width widens it."""
    model = _time_windowed(0.1)
    cross = model.av_cross_attention[str(model.av_layers[0])]
    with torch.no_grad():
        for attn in (cross.video_attn, cross.audio_attn):
            for linear in (attn.to_q, attn.to_k):
                linear.weight.zero_()
                linear.bias.zero_()
        cross.time_shift.copy_(torch.tensor([0.0, 0.25]))
        cross.time_log_width.copy_(torch.tensor([0.0, 0.5]))
    audio_times = (torch.arange(100) * 0.02)[None]
    video_times = (torch.arange(6) * FRAME_SECONDS)[None]
    rope = dict(num_heads=2, head_dim=8, base_seconds=20.0, theta=1000.0)
    v2a, a2v = cross.attention_probs(
        torch.randn(1, 6, 16), torch.randn(1, 100, 16),
        time_rotary_emb(video_times, **rope), time_rotary_emb(audio_times, **rope), video_times, audio_times,
    )
    for head, (shift, width) in enumerate(((0.0, 0.1), (0.25, 0.1 * 1.6487212707))):
        dt = audio_times[0][None, :] - (video_times[0][:, None] + shift)  # (Nv, Na)
        expected = torch.softmax(-0.5 * (dt / width) ** 2, dim=-1)
        torch.testing.assert_close(v2a[0, head], expected, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(a2v[0, head], torch.softmax(-0.5 * (dt.T / width) ** 2, dim=-1), atol=1e-5, rtol=1e-4)
    peaks = v2a[0].argmax(-1) * 0.02  # (H, Nv) seconds
    assert torch.allclose(peaks[1, :-1] - peaks[0, :-1], torch.tensor(0.25), atol=0.011)  # last frame: clipped at 1.98 s


def test_time_window_reaches_the_attention_kernel():
    """The exchange's output through diffusers' dispatch_attention_fn equals the weights of
    ``attention_probs`` (window included) applied to the values by hand."""
    model = _time_windowed(0.05)
    cross = model.av_cross_attention[str(model.av_layers[0])]
    g = torch.Generator("cpu").manual_seed(3)
    video, audio = torch.randn(2, 6, 16, generator=g), torch.randn(2, 30, 16, generator=g)
    video_times = (torch.arange(6) * FRAME_SECONDS)[None].expand(2, -1)
    audio_times = (torch.arange(30) * 0.02)[None].expand(2, -1)
    rope = dict(num_heads=2, head_dim=8, base_seconds=20.0, theta=1000.0)
    v_rope, a_rope = time_rotary_emb(video_times, **rope), time_rotary_emb(audio_times, **rope)
    with torch.no_grad():
        out_video, out_audio = cross(video, audio, v_rope, a_rope, video_times, audio_times)
        shifted, _ = cross(video, audio, v_rope, a_rope, video_times + 0.2, audio_times)  # same rotary, other window
        v2a, a2v = cross.attention_probs(video, audio, v_rope, a_rope, video_times, audio_times)

        def by_hand(attn, probs, keys_from):
            values = attn.to_v(keys_from).unflatten(2, (attn.heads, -1)).transpose(1, 2)  # (B, H, Nk, hd)
            return attn.to_out[0]((probs @ values).transpose(1, 2).flatten(2))

        expected_video = video + by_hand(cross.video_attn, v2a, cross.audio_norm(audio)) * cross.video_gate
        expected_audio = audio + by_hand(cross.audio_attn, a2v, cross.video_norm(video)) * cross.audio_gate
    torch.testing.assert_close(out_video, expected_video, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out_audio, expected_audio, atol=1e-5, rtol=1e-4)
    assert (out_video - shifted).abs().max() > 1e-3  # the window decides what the video reads


def test_time_window_trains_saves_and_loads(tmp_path):
    model = _time_windowed(0.1).train()
    out = model(**_inputs(), video_coords=_video_coords(_inputs()), audio_hidden_states=_audio())
    (out.sample.square().mean() + out.audio_sample.square().mean()).backward()
    for name in ("time_log_width", "time_shift"):
        grads = [p.grad for n, p in model.named_parameters() if n.endswith(name)]
        assert len(grads) == len(model.av_layers) and all(g is not None and g.abs().sum() > 0 for g in grads)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("time_shift"):
                p.fill_(0.07)
    model.save_pretrained(tmp_path)
    loaded = LTXAudioVideoTransformer3DModel.from_pretrained(tmp_path)
    assert loaded.config.av_time_window == 0.1
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True))
    # Without a window the state dict has no window parameters: checkpoints saved before it load unchanged.
    plain = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO).state_dict()
    assert set(model.state_dict()) - set(plain) == {
        f"av_cross_attention.{i}.{n}" for i in model.av_layers for n in ("time_log_width", "time_shift")
    }
    with pytest.raises(ValueError, match="av_time_window"):
        LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, av_time_window=0.0)
    # A checkpoint saved without a window loads into a windowless model with nothing missing or unexpected.
    saved_without = {k: v for k, v in model.state_dict().items() if not k.endswith(("time_shift", "time_log_width"))}
    result = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO).load_state_dict(saved_without, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_time_window_needs_times_in_seconds_and_stays_finite_in_half_precision():
    model = _time_windowed(0.1)
    inputs = {k: v for k, v in _inputs().items() if k != "rope_interpolation_scale"}
    with pytest.raises(ValueError, match="video_coords"):
        model(**inputs, audio_hidden_states=_audio())
    cross = model.av_cross_attention[str(model.av_layers[0])]
    far = cross.time_bias(torch.full((1, 2), 100.0), torch.arange(5.0)[None] * 0.02)  # all audio 100 s away
    assert far.min() == -1e4 and torch.isfinite(far.half()).all()
    weights = torch.softmax(far.half().float(), dim=-1)
    assert torch.isfinite(weights).all()


def test_default_cross_attention_layers_and_schedule():
    assert default_av_cross_attention_layers(24) == (8, 9, 10, 11)
    assert default_av_cross_attention_layers(28) == (9, 10, 11, 12, 13)
    assert default_av_cross_attention_layers(48) == tuple(range(16, 24))
    assert default_av_cross_attention_layers(2) == (1,)
    assert default_av_cross_attention_layers(1) == (0,)
    assert audio_block_schedule(4, 2) == [[], [0], [], [1]]
    assert audio_block_schedule(2, 1) == [[], [0]]
    assert sum(audio_block_schedule(28, 14), []) == list(range(14))


def test_invalid_config_raises():
    with pytest.raises(ValueError, match="av_cross_attention_layers"):
        LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, av_cross_attention_layers=(2,))
    with pytest.raises(ValueError, match="audio_num_layers"):
        LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, audio_num_layers=3)


def _new_parameter_count(**config) -> tuple[int, int]:
    with torch.device("meta"):
        model = LTXAudioVideoTransformer3DModel(**config)
    new = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("audio_", "av_")))
    return new, sum(p.numel() for p in model.parameters())


def test_new_parameter_counts_2b_and_13b():
    new_2b, total_2b = _new_parameter_count()
    new_13b, total_13b = _new_parameter_count(attention_head_dim=128, cross_attention_dim=4096, num_layers=48)
    print(f"2B: new {new_2b:,} of {total_2b:,}; 13B: new {new_13b:,} of {total_13b:,}")
    assert 0 < new_2b < total_2b and 0 < new_13b < total_13b
    assert 1.8e9 < total_2b - new_2b < 2.2e9 and 12.5e9 < total_13b - new_13b < 14e9  # the legacy sizes


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, av_cross_attention_layers=(0, 1), audio_num_layers=2)
    _open_gates(model)
    model.save_pretrained(tmp_path)
    loaded = LTXAudioVideoTransformer3DModel.from_pretrained(tmp_path)
    assert loaded.av_layers == (0, 1) and len(loaded.audio_transformer_blocks) == 2
    sd, loaded_sd = model.state_dict(), loaded.state_dict()
    assert sd.keys() == loaded_sd.keys() and all(torch.equal(sd[k], loaded_sd[k]) for k in sd)
    with torch.no_grad():
        a = model(**_inputs(), audio_hidden_states=_audio())
        b = loaded(**_inputs(), audio_hidden_states=_audio())
    assert_fp32_equal(a.sample, b.sample)  # bit-equal weights (above), two instances
    assert_fp32_equal(a.audio_sample, b.audio_sample)


def test_audio_timestep_and_coords_defaults_and_attention_backend():
    model = _open_model()
    inputs, audio = _inputs(), _audio()
    per_token_video_t = inputs["timestep"][:, None].expand(-1, F * H * W).clone()
    per_token_video_t[:, : H * W] = 0.0  # a conditioning first frame: the audio default is still the sample's t
    per_token_audio_t = inputs["timestep"][:, None].expand(-1, NA)
    with torch.no_grad():
        inputs_pt = {**inputs, "timestep": per_token_video_t}
        default = model(**inputs_pt, audio_hidden_states=audio)
        explicit = model(
            **inputs_pt,
            audio_hidden_states=audio,
            audio_timestep=per_token_audio_t,
            audio_coords=(torch.arange(NA) * 0.02).expand(2, -1),
        )
        shifted = model(
            **inputs_pt, audio_hidden_states=audio, audio_coords=(torch.arange(NA) * 0.02 + 0.5).expand(2, -1)
        )
        model.set_attention_backend("native")
        native = model(**inputs_pt, audio_hidden_states=audio)
    assert torch.allclose(default.sample, explicit.sample, atol=1e-6)
    assert torch.allclose(default.audio_sample, explicit.audio_sample, atol=1e-6)
    assert (shifted.sample - default.sample).abs().max() > 1e-4  # the audio offset moves the alignment
    assert torch.allclose(native.sample, default.sample, atol=1e-6)
    assert torch.allclose(native.audio_sample, default.audio_sample, atol=1e-6)


def test_set_attn_processor_refuses_a_processor_without_key_rotary_emb_and_takes_a_dict():
    """diffusers' ``set_attn_processor(LTXVideoAttnProcessor())`` was accepted and the next forward failed deep in
    attention (the exchange's keys are the other stream's); now refused at once, changing no attention."""
    from diffusers.models.transformers.transformer_ltx import LTXVideoAttnProcessor

    model = _open_model()
    inputs, audio = _inputs(), _audio()
    with torch.no_grad():
        base = model(**inputs, audio_hidden_states=audio)
    before = model.attn_processors
    refused = r"^`processor`: the audio<->video attentions .* accept LTXAudioVideoAttnProcessor .*got LTXVideoAttnProcessor"
    with pytest.raises(ValueError, match=refused):
        model.set_attn_processor(LTXVideoAttnProcessor())
    one_wrong = {name: (LTXVideoAttnProcessor() if name.startswith("av_") else type(p)()) for name, p in before.items()}
    with pytest.raises(ValueError, match=refused):
        model.set_attn_processor(one_wrong)
    with pytest.raises(ValueError, match=refused):
        model.av_cross_attention[str(model.av_layers[0])].video_attn.set_processor(LTXVideoAttnProcessor())
    assert all(model.attn_processors[name] is p for name, p in before.items())  # nothing changed before refusing
    model.set_attn_processor({name: type(p)() for name, p in before.items()})  # today's processors, fresh
    assert all(model.attn_processors[name] is not p for name, p in before.items())
    with torch.no_grad():
        again = model(**inputs, audio_hidden_states=audio)
    assert torch.equal(again.sample, base.sample) and torch.equal(again.audio_sample, base.audio_sample)
