"""sample_params(): draw one acquisition for the CT-IQA data from a mixture of degradation types.

Each draw picks a *kind* by weight from :data:`MIXTURE` and then its strength from a
physically sensible range (log-uniform where the effect grows with a ratio, e.g.
dose or view count). "combo" joins 2-3 other kinds at reduced strength, as in real
scans (low dose with metal, motion with sparse views). The weights were tuned so
that the protocol's scores span 0-4 with every integer bin [k-0.5, k+0.5) holding
at least 10% of slices; ``docs/ctiqa-annotation.md`` has the measured histogram.

Views are drawn as a fraction of the full view count *for the matrix*: alias-free
sampling needs views in proportion to the number of detector bins, so a 256-pixel
slice with ``FULL_VIEWS * 256/512`` views is as well sampled as a 512 slice with
``FULL_VIEWS``. This keeps 256-pixel (fast) and 512-pixel data comparable.

Blur comes from the signal (focal spot, detector aperture: the noise stays sharp) unless
``soft_kernel`` > 0: then that share of blur draws is a softer reconstruction kernel
instead, which smooths the noise as well. The extra random draw happens only then, so
``soft_kernel=0`` (the default) gives the same acquisitions as before it existed.

``kinds`` keeps only some kinds of the mixture (their weights renormalised), for a training-only
supplement of the aspects a model reads worst; the default (all kinds) draws exactly as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from radscribe.ctiqa.phantoms import METAL_SITE_INFO
from radscribe.ctiqa.physics.params import FULL_VIEWS, AcquisitionParams, MetalInsert

#: kind -> weight. Edit here only; the docs print this table.
MIXTURE: dict[str, float] = {
    "clean": 0.17,
    "low_dose": 0.17,
    "sparse_view": 0.11,
    "limited_angle": 0.06,
    "metal": 0.12,
    "motion": 0.09,
    "ring": 0.07,
    "blur": 0.07,
    "combo": 0.14,
}

#: Strength ranges per kind (what each draw samples); "log" = log-uniform.
RANGES: dict[str, dict[str, Any]] = {
    "clean": {"dose_fraction": (0.6, 1.0, "lin")},
    "low_dose": {"dose_fraction": (0.005, 0.4, "log")},
    "sparse_view": {"view_fraction": (0.03, 0.4, "log")},
    "limited_angle": {"angular_range_deg": (165.0, 200.0, "lin")},  # parallel beam: 180 deg is complete
    "metal": {"radius_scale": (0.6, 1.4, "lin")},
    "motion": {"motion_mm": (0.4, 10.0, "log")},
    "ring": {"ring_gain_sd": (0.0015, 0.03, "log")},
    "blur": {"blur_fwhm_mm": (0.6, 5.0, "log")},
}
#: In a combination each part is drawn from its range shrunk toward the mild end by this power.
COMBO_PARTS = ("low_dose", "sparse_view", "metal", "motion", "ring", "blur")


def _draw(rng: np.random.Generator, lo: float, hi: float, kind: str, *, mild_bias: float = 1.0) -> float:
    """One value in [lo, hi]; ``mild_bias`` > 1 pushes toward ``lo`` for log ranges' weak end."""
    u = float(rng.random()) ** mild_bias
    if kind == "log":
        value = float(np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))))
    else:
        value = lo + u * (hi - lo)
    return float(f"{value:.4g}")  # 4 significant digits: readable params, same physics


def _metal(rng: np.random.Generator, phantom: Any, scale_range: tuple[float, float, str]) -> list[MetalInsert]:
    """1-2 implants at the phantom's own sites, sized and made as METAL_SITE_INFO says (radius scaled)."""
    sites = [s for s in phantom.metal_sites if s in METAL_SITE_INFO]
    if not sites:
        return []
    k = 1 if len(sites) == 1 or rng.random() < 0.7 else 2
    chosen = [sites[i] for i in sorted(rng.choice(len(sites), size=k, replace=False))]
    inserts = []
    for site in chosen:
        info = METAL_SITE_INFO[site]
        scale = _draw(rng, *scale_range)
        radius = round(float(info["radius_mm"]) * scale, 2)
        inserts.append(MetalInsert(center_rc=tuple(phantom.metal_sites[site]), radius_mm=radius,
                                   material=str(info["material"]), site=site))
    return inserts


def _apply(kind: str, rng: np.random.Generator, phantom: Any, values: dict[str, Any], bias: float,
           soft_kernel: float = 0.0) -> None:
    """Set the fields of one degradation kind into ``values`` (AcquisitionParams kwargs)."""
    n = int(np.asarray(phantom.hu).shape[0])
    if kind == "low_dose":
        values["dose_fraction"] = _draw(rng, *RANGES["low_dose"]["dose_fraction"], mild_bias=1.0 / bias)
    elif kind == "sparse_view":
        lo, hi, how = RANGES["sparse_view"]["view_fraction"]
        frac = _draw(rng, lo, hi, how, mild_bias=1.0 / bias)
        values["n_views"] = max(8, int(round(frac * FULL_VIEWS * n / 512)))
    elif kind == "limited_angle":
        values["angular_range_deg"] = round(_draw(rng, *RANGES["limited_angle"]["angular_range_deg"]), 1)
    elif kind == "metal":
        values["metal"] = _metal(rng, phantom, RANGES["metal"]["radius_scale"])
    elif kind in ("motion", "ring", "blur"):
        name, (lo, hi, how) = next(iter(RANGES[kind].items()))
        values[name] = _draw(rng, lo, hi, how, mild_bias=bias)
        if kind == "blur" and soft_kernel > 0.0 and rng.random() < soft_kernel:
            values["kernel_fwhm_mm"] = values.pop(name)  # the same strength, from the kernel instead


def check_kinds(kinds: tuple[str, ...]) -> None:
    """Raise ValueError naming any kind that is not in MIXTURE."""
    unknown = [k for k in kinds if k not in MIXTURE]
    if unknown:
        raise ValueError(f"unknown degradation kind {', '.join(unknown)}; choose from {', '.join(MIXTURE)}")


def sample_params(rng: np.random.Generator, phantom: Any, *, soft_kernel: float = 0.0,
                  kinds: tuple[str, ...] = ()) -> AcquisitionParams:
    """One AcquisitionParams for ``phantom`` (uses its size and metal_sites), drawn from MIXTURE (only
    ``kinds`` of it when given); ``soft_kernel`` is the share of blur made by a soft reconstruction kernel
    (module docstring).

    Deterministic for a given ``rng`` state. The kind is recorded nowhere in the
    params on purpose: annotate() must judge the result, not the recipe.
    """
    check_kinds(kinds)
    names = list(kinds or MIXTURE)
    weights = np.array([MIXTURE[k] for k in names], float)
    kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    values: dict[str, Any] = {"dose_fraction": _draw(rng, 0.5, 1.0, "lin")}
    if kind == "clean":
        values["dose_fraction"] = _draw(rng, *RANGES["clean"]["dose_fraction"])
    elif kind == "combo":
        k = 2 if rng.random() < 0.7 else 3
        parts = [COMBO_PARTS[i] for i in rng.choice(len(COMBO_PARTS), size=k, replace=False)]
        for part in parts:
            _apply(part, rng, phantom, values, bias=1.6, soft_kernel=soft_kernel)
    else:
        _apply(kind, rng, phantom, values, bias=1.0, soft_kernel=soft_kernel)
    values["seed"] = int(rng.integers(0, 2**31 - 1))
    return AcquisitionParams(**values)
