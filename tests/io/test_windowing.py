"""Window arithmetic: presets, parsing, and the linear map to [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from radscribe.errors import ConfigError
from radscribe.io import PRESETS, Window, apply_window, get_window, to_uint8


@pytest.mark.parametrize(
    "name,width,level",
    [("abdomen", 400, 40), ("ldct", 350, 40), ("lung", 1500, -600), ("mediastinum", 350, 50), ("brain", 80, 40), ("bone", 2000, 500)],
)
def test_presets(name, width, level):
    assert PRESETS[name] == Window(center=level, width=width)


def test_abdomen_window_maps_edges_and_centre():
    hu = np.array([-1000, -160, 40, 140, 240, 3000], dtype=np.float32)
    np.testing.assert_allclose(apply_window(hu, "abdomen"), [0, 0, 0.5, 0.75, 1, 1], atol=1e-6)


def test_lung_window_values():
    # L-600 W1500: low -1350, high 150.
    np.testing.assert_allclose(apply_window(np.array([-1350.0, -600.0, 150.0]), "lung"), [0, 0.5, 1], atol=1e-6)


@pytest.mark.parametrize("spec", ["W350/L40", "350/40", "w350 l40", "W350L40", "350:40"])
def test_custom_window_parsing(spec):
    assert get_window(spec) == Window(center=40, width=350)


@pytest.mark.parametrize("spec", ["soft", "W0/L40", "W-10/L40", "400"])
def test_bad_window_is_a_config_error(spec):
    with pytest.raises(ConfigError):
        get_window(spec)


def test_to_uint8_rounds_and_clips():
    np.testing.assert_array_equal(to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0])), [0, 0, 128, 255, 255])
