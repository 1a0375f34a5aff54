"""torch.compile set-up shared by ``pipe.enable_compile`` and the benchmarks."""

from __future__ import annotations

__all__ = ["prepare_cpu_inductor"]


def prepare_cpu_inductor() -> None:
    """Pin inductor's C++ vector width to the ISA this process picked, so that it is part of the cache key.

    - Where no vector ISA is usable (``ATEN_CPU_CAPABILITY=default``, old CPUs) PyTorch 2.13's inductor still
      emits ``at::vec`` code in reductions, which does not compile ("'at::vec' has not been declared");
      ``cpp.simdlen = 1`` asks for scalar code.
    - Elsewhere the width is left implicit by default, and inductor's FX-graph cache key does not hold the
      ISA: a graph compiled under ``ATEN_CPU_CAPABILITY=avx2`` (8-lane loops) is reused on the next run at
      AVX-512 and built with 16-lane ``at::vec`` types, whose stores overrun the buffers (heap corruption,
      "malloc(): unaligned tcache chunk"); the other way round, 16-lane loops over 8-lane vectors leave half
      the elements unwritten (NaN). Setting ``cpp.simdlen`` to the picked width puts it in the key.
    Leaves a width the user set alone."""
    from torch._inductor import config, cpu_vec_isa

    if config.cpp.simdlen is not None:
        return
    isa = cpu_vec_isa.pick_vec_isa()
    config.cpp.simdlen = isa.bit_width() if isa else 1  # in bits; 1 means scalar
