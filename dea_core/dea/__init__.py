"""The Detector-Encoder Autoencoder (docs/dea.md): flags changed or counterfeit ornaments.

Network: `model.DEA` (the trained SSD as encoder, `roi_align`, FC or deconvolution decoder).
Training: `training.train_dea`; scoring a page or crop: `scoring.AnomalyScorer`.
"""
