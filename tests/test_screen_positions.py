"""Screen positions (``screen_position_features``): what RoPE's relative positions cannot say, added at zero."""

import pytest
import torch
from test_transformer_av import TINY, TINY_AUDIO, F, H, W, _audio, _inputs, _open_gates

from ltx_video.conditioning.items import latent_positions
from ltx_video.models.screen_positions import screen_position_features, screen_uv
from ltx_video.models.transformer_av import LTXAudioVideoTransformer3DModel


def _models():
    torch.manual_seed(0)
    base = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO).eval()
    _open_gates(base)
    screen = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, screen_position_features=2).eval()
    missing, unexpected = screen.load_state_dict(base.state_dict(), strict=False)
    assert sorted(missing) == ["screen_position_proj.bias", "screen_position_proj.weight"] and not unexpected
    return base, screen


def test_place_on_screen_from_pixel_coordinates():
    coords = latent_positions(1, 2, 3, 4, temporal_scale=4, spatial_scale=16).float()  # 3 rows, 4 columns
    uv = screen_uv(coords)[0].reshape(2, 3, 4, 2)
    assert torch.allclose(uv[1, 0, :, 0], torch.tensor([-1.0, -1 / 3, 1 / 3, 1.0]))  # u: left edge to right edge
    assert torch.allclose(uv[0, :, 2, 1], torch.tensor([-1.0, 0.0, 1.0]))  # v: top to bottom
    assert torch.equal(uv[0], uv[1])  # the same place in every frame
    # The pixel scale does not matter (32 px cells, LTX-Video's), nor a leading anchor frame at negative time.
    anchored = torch.cat([latent_positions(1, 1, 3, 4, spatial_scale=32), latent_positions(1, 2, 3, 4, spatial_scale=32)], 2)
    anchored[:, 0, :12] = -48
    assert torch.allclose(screen_uv(anchored.float())[0, 12:], screen_uv(coords)[0])
    features = screen_position_features(coords, 2)[0].reshape(2, 3, 4, 8)
    # Mirrored columns: the sines of u change sign, the cosines do not; a one-token-wide grid reads the centre.
    assert torch.allclose(features[0, 1, 0, [0, 2]], -features[0, 1, 3, [0, 2]], atol=1e-6)
    assert torch.allclose(features[0, 1, 0, [4, 6]], features[0, 1, 3, [4, 6]], atol=1e-6)
    assert torch.equal(screen_uv(latent_positions(1, 2, 3, 1).float())[..., 0], torch.zeros(1, 6))


@pytest.mark.parametrize("audio", [False, True])
def test_zero_at_start_then_position_dependent(audio):
    base, screen = _models()
    inputs = _inputs()
    extra = {"audio_hidden_states": _audio()} if audio else {}
    with torch.no_grad():
        expected = base(**inputs, **extra, return_dict=False)[0]
        assert torch.equal(screen(**inputs, **extra, return_dict=False)[0], expected)  # the start is the model
        torch.nn.init.normal_(screen.screen_position_proj.weight, generator=torch.Generator().manual_seed(3))
        moved = screen(**inputs, **extra, return_dict=False)[0]
        assert (moved - expected).abs().max() > 1e-2
        # Given as pixel coordinates, the same places: the same output.
        coords = latent_positions(2, F, H, W, temporal_scale=8, spatial_scale=32).float()
        coords[:, 0] = coords[:, 0] / 24  # seconds, as the pipelines pass them
        given = {k: v for k, v in inputs.items() if k != "rope_interpolation_scale"}
        in_pixels = screen(**given, **extra, video_coords=coords, return_dict=False)[0]
        reference = base(**given, **extra, video_coords=coords, return_dict=False)[0]
        assert (in_pixels - reference).abs().max() > 1e-2
    assert screen._screen_term is None  # nothing left behind for the next call


def test_trains_saves_and_loads(tmp_path):
    _, screen = _models()
    screen.train()
    out = screen(**_inputs(), audio_hidden_states=_audio(), return_dict=False)[0]
    out.square().mean().backward()
    assert screen.screen_position_proj.weight.grad.abs().sum() > 0  # a zero layer still learns
    screen.eval().save_pretrained(tmp_path / "t")
    loaded = LTXAudioVideoTransformer3DModel.from_pretrained(tmp_path / "t").eval()
    assert loaded.config.screen_position_features == 2
    with torch.no_grad():
        torch.nn.init.normal_(screen.screen_position_proj.weight, generator=torch.Generator().manual_seed(3))
        loaded.load_state_dict(screen.state_dict())
        assert torch.equal(loaded(**_inputs(), return_dict=False)[0], screen(**_inputs(), return_dict=False)[0])
    with pytest.raises(ValueError, match="screen_position_features must be >= 0"):
        LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, screen_position_features=-1)


def test_a_fine_tune_may_add_them_to_a_saved_transformer(tmp_path):
    from types import SimpleNamespace

    from ltx_video.training.stages import TransformerStage

    base, screen = _models()
    base.save_pretrained(tmp_path / "base")
    fresh = LTXAudioVideoTransformer3DModel(**TINY, **TINY_AUDIO, screen_position_features=2)
    TransformerStage._load_initial_weights(SimpleNamespace(model=fresh), tmp_path / "base")
    for name, tensor in base.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], tensor), name
    assert not fresh.screen_position_proj.weight.any()
    other = LTXAudioVideoTransformer3DModel(**{**TINY, "num_layers": TINY["num_layers"] + 1}, **TINY_AUDIO)
    with pytest.raises(ValueError, match="num_layers"):
        TransformerStage._load_initial_weights(SimpleNamespace(model=other), tmp_path / "base")
