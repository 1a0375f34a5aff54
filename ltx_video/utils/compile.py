"""torch.compile set-up shared by ``pipe.enable_compile`` and the benchmarks."""

from __future__ import annotations

__all__ = ["prepare_cpu_inductor"]


def prepare_cpu_inductor() -> None:
    """Scalar C++ code from inductor where no vector ISA is usable (``ATEN_CPU_CAPABILITY=default``, old
    CPUs): PyTorch 2.13's inductor still emits ``at::vec`` code in reductions there, which does not compile
    ("'at::vec' has not been declared"). ``cpp.simdlen = 1`` asks for scalar code. No effect elsewhere."""
    from torch._inductor import config, cpu_vec_isa

    if not cpu_vec_isa.pick_vec_isa():
        config.cpp.simdlen = 1
