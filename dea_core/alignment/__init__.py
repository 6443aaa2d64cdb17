"""Alignment of page scans and ornament crops to a reference, after RANSAC-Flow (Shen et al. 2020).

Two stages: `coarse` fits several homographies to SIFT + MAGSAC matches and picks one per pixel;
`fine` optimizes a smooth residual flow per pair (SSIM, smoothness, cycle consistency). The result
of each pair is a `mapping`: for every reference pixel, its (x, y) in the source. `pipeline`
holds the API the command line and the window call (`align_pair`, `align_batch`), `job` writes
the files. See docs/alignment.md.
"""
