"""Non-uniform FFT on a fixed point set (gridding), in torch.

The projector needs the 2-D Fourier transform of an N x N image at the points of
a polar grid (Fourier slice theorem) and the adjoint of that map. Both are done
by the classic gridding recipe (Jackson 1991, Fessler & Sutton 2003, Barnett et al. 2019):
deapodise, zero-pad x2, FFT, then interpolate with an exponential-of-semicircle
kernel of width ``W`` grid cells. The interpolation is a sparse matrix that is built
once per point set and kept, with its transpose, as int32 CSR tensors, because
torch's CSR matmul is 20-50x faster on CPU than gather or scatter.

Conventions: image index ``n = i - N//2`` (centred), frequency ``(a, b)`` in
radians per pixel along (column, row), forward sign ``exp(-i (a n_col + b n_row))``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

OVERSAMPLING = 2
#: Kernel width: 4 cells gives ~1e-3 relative accuracy (tested), far below the
#: quantum noise of any simulated dose; 6 gives ~1e-5 at 2x the cost.
DEFAULT_WIDTH = 4


def _beta(width: int) -> float:
    """Shape of the exponential-of-semicircle kernel for oversampling 2 (Barnett et al., SIAM J Sci Comput 2019)."""
    return 2.30 * width


def _kernel(z: torch.Tensor, width: int) -> torch.Tensor:
    """ES kernel exp(beta (sqrt(1 - z^2) - 1)) on z = 2 x / width in [-1, 1]; 0 outside.

    It is as accurate as Kaiser-Bessel and needs only exp and sqrt (10x cheaper than I0),
    which matters because a motion scan builds a fresh operator for its perturbed views.
    """
    arg = (1.0 - z * z).clamp(min=0.0)
    return torch.where(arg > 0, torch.exp(_beta(width) * (torch.sqrt(arg) - 1.0)), torch.zeros_like(arg))


def _kernel_weights(t: torch.Tensor, width: int, n_grid: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid indices (M, W) and kernel weights (M, W) around continuous grid coordinates t."""
    first = torch.floor(t - width / 2).long() + 1
    idx = first[:, None] + torch.arange(width)[None, :]
    dist = (t[:, None] - idx.to(t.dtype)).float()
    return torch.remainder(idx, n_grid), _kernel(2.0 * dist / width, width)


def _deapodisation(n: int, width: int) -> torch.Tensor:
    """1 / (Fourier transform of the kernel) at centred image indices, by Gauss-Legendre quadrature."""
    nodes, weights = np.polynomial.legendre.leggauss(4 * width + 40)
    half = width / 2
    x = torch.from_numpy(nodes * half)  # kernel support [-W/2, W/2] in grid cells
    psi = _kernel(2.0 * x / width, width).double() * torch.from_numpy(weights * half)
    nu = (torch.arange(n, dtype=torch.float64) - n // 2) / (OVERSAMPLING * n)
    transform = (psi[None, :] * torch.cos(2 * math.pi * nu[:, None] * x[None, :])).sum(1)
    return (1.0 / transform).float()


@dataclass(eq=False)
class PolarNufft:
    """Type-2 NUFFT (image -> samples) and its adjoint for one N x N image size and one point set.

    ``a`` and ``b`` are 1-D float64 tensors of frequencies (radians per pixel) along
    columns and rows. Build with :meth:`build`; the operator is immutable afterwards.
    """

    n: int
    n_points: int
    width: int
    matrix: torch.Tensor  # (n_points, grid^2) real CSR
    matrix_t: torch.Tensor | None  # (grid^2, n_points) real CSR, None if only forward is needed
    deapod: torch.Tensor  # (n,) per-axis deapodisation

    @classmethod
    def build(
        cls, n: int, a: torch.Tensor, b: torch.Tensor, *, width: int = DEFAULT_WIDTH, adjoint: bool = True
    ) -> PolarNufft:
        n_grid = OVERSAMPLING * n
        scale = n_grid / (2 * math.pi)
        rows, w_rows = _kernel_weights(b.double() * scale, width, n_grid)
        cols, w_cols = _kernel_weights(a.double() * scale, width, n_grid)
        flat = (rows[:, :, None] * n_grid + cols[:, None, :]).reshape(-1).to(torch.int32)
        values = (w_rows[:, :, None] * w_cols[:, None, :]).reshape(-1).float()
        m = a.numel()
        crow = torch.arange(0, m * width * width + 1, width * width, dtype=torch.int32)
        with warnings.catch_warnings():  # torch flags CSR as beta; we test what we use
            warnings.simplefilter("ignore", UserWarning)
            matrix = torch.sparse_csr_tensor(crow, flat, values, (m, n_grid * n_grid))
            matrix_t = _transpose_csr(flat, values, m, width, n_grid) if adjoint else None
        return cls(n, m, width, matrix, matrix_t, _deapodisation(n, width))

    @property
    def grid(self) -> int:
        return OVERSAMPLING * self.n

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, n, n) real images -> (B, n_points) complex samples of sum f[n] exp(-i w.n)."""
        batch = images.shape[0]
        u = images * self.deapod[:, None] * self.deapod[None, :]
        padded = torch.zeros(batch, self.grid, self.grid, dtype=torch.float32)
        padded[:, : self.n, : self.n] = u
        padded = torch.roll(padded, shifts=(-(self.n // 2), -(self.n // 2)), dims=(1, 2))
        spectrum = torch.fft.fft2(padded)  # (B, G, G) complex
        dense = torch.view_as_real(spectrum).permute(1, 2, 0, 3).reshape(self.grid * self.grid, 2 * batch)
        out = (self.matrix @ dense.contiguous()).reshape(self.n_points, batch, 2)
        return torch.view_as_complex(out.permute(1, 0, 2).contiguous())

    def adjoint(self, samples: torch.Tensor) -> torch.Tensor:
        """(B, n_points) complex -> (B, n, n) complex: sum_j c_j exp(+i w_j.n)."""
        if self.matrix_t is None:
            raise ValueError("this operator was built without its adjoint")
        batch = samples.shape[0]
        dense = torch.view_as_real(samples.to(torch.complex64)).permute(1, 0, 2).reshape(self.n_points, 2 * batch)
        grid = (self.matrix_t @ dense.contiguous()).reshape(self.grid, self.grid, batch, 2)
        grid = torch.view_as_complex(grid.permute(2, 0, 1, 3).contiguous())
        image = torch.fft.ifft2(grid) * (self.grid * self.grid)
        image = torch.roll(image, shifts=(self.n // 2, self.n // 2), dims=(1, 2))[:, : self.n, : self.n]
        return image * (self.deapod[:, None] * self.deapod[None, :])


def _transpose_csr(flat: torch.Tensor, values: torch.Tensor, m: int, width: int, n_grid: int) -> torch.Tensor:
    """CSR of the transpose, built by sorting the entries by grid index (stable keeps rows ordered)."""
    order = torch.argsort(flat, stable=True)
    cols = (order // (width * width)).to(torch.int32)
    counts = torch.bincount(flat.long(), minlength=n_grid * n_grid)
    crow = torch.zeros(n_grid * n_grid + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(counts, 0)
    return torch.sparse_csr_tensor(crow.to(torch.int32), cols, values[order], (n_grid * n_grid, m))
