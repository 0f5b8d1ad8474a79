"""Small shared objects for the physics tests (128-256 px so the suite stays fast)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.data import shepp_logan_phantom
from skimage.transform import resize


@pytest.fixture(autouse=True, scope="session")
def _two_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def disc_phantom() -> np.ndarray:
    """Shepp-Logan (scikit-image's bundled copy) at 129 px, zero outside the inscribed circle."""
    n = 129
    img = resize(shepp_logan_phantom(), (n, n), anti_aliasing=True)
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    img[yy**2 + xx**2 > (n / 2 - 2) ** 2] = 0.0
    img[30:40, 80:90] += 1.0  # an off-centre block: catches flipped or rotated conventions
    return img
