import os

import pytest

# Qt windows run without a screen in tests and CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def labelme_reader():
    """labelme's own loader (imported late: it pulls in Qt and onnxruntime)."""
    from labelme import LabelFile

    return LabelFile
