"""The RANSAC GUI: align page scans to a reference (PyQt5)."""
