import os

# Qt windows run without a screen in tests and CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
