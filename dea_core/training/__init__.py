"""What every training loop of the suite shares (the detector's, the DEA's): running under torchrun."""
