"""What the CPU computes natively, from /proc/cpuinfo (Linux; elsewhere: nothing assumed)."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def native_bf16() -> bool:
    """bfloat16 products in hardware (AVX512-BF16 or AMX)? Elsewhere bf16 is emulated and slow."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def int8_dot_products() -> bool:
    """VNNI (u8 x s8 summed in int32)? Without it, fbgemm's int16 sums can saturate on full 8-bit inputs."""
    return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & cpu_flags())
