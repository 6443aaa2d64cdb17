"""Local structural similarity (SSIM) and normalized correlation maps, NumPy/OpenCV (H, W) float32."""

from __future__ import annotations

import cv2
import numpy as np

# SSIM's stabilising constants for pictures in [0, 1] (Wang et al. 2004).
C1 = 0.01**2
C2 = 0.03**2


def window_mean(image: np.ndarray, window: int) -> np.ndarray:
    """(H, W) mean of `image` over the square `window` around each pixel, edges mirrored."""
    return cv2.blur(image, (window, window), borderType=cv2.BORDER_REFLECT)


def local_ssim(a: np.ndarray, b: np.ndarray, window: int = 7) -> np.ndarray:
    """(H, W) SSIM of `a` and `b` (H, W) float32 in [0, 1], with a square `window` of uniform weights."""
    mu_a, mu_b = window_mean(a, window), window_mean(b, window)
    var_a = window_mean(a * a, window) - mu_a * mu_a
    var_b = window_mean(b * b, window) - mu_b * mu_b
    cov = window_mean(a * b, window) - mu_a * mu_b
    return ((2 * mu_a * mu_b + C1) * (2 * cov + C2)) / ((mu_a**2 + mu_b**2 + C1) * (var_a + var_b + C2))


def local_ncc(a: np.ndarray, b: np.ndarray, window: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) normalized correlation of `a` and `b` in a window, and (H, W) the std of `a` there."""
    mu_a, mu_b = window_mean(a, window), window_mean(b, window)
    var_a = np.maximum(window_mean(a * a, window) - mu_a * mu_a, 0)
    var_b = np.maximum(window_mean(b * b, window) - mu_b * mu_b, 0)
    cov = window_mean(a * b, window) - mu_a * mu_b
    return cov / np.sqrt(var_a * var_b + 1e-8), np.sqrt(var_a)
