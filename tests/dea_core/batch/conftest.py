import shutil
from pathlib import Path

import pytest

from dea_core.paths import SAMPLE_PAGE_JSON

LABELME = Path(__file__).resolve().parents[2] / "data" / "labelme"
# Small real pages with boxes drawn: LabelMe's own examples (one with the picture inside the JSON)
# and the 1696 sample page.
PAGES = [LABELME / "v4.0.0_bbox" / "2011_000025.json", LABELME / "v5.7.0_primitives" / "primitives.json",
         LABELME / "v5.3.1_bbox_imagedata" / "2011_000006.json", SAMPLE_PAGE_JSON]


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    """A folder of four LabelMe pages and their pictures."""
    folder = tmp_path / "pages"
    folder.mkdir()
    for page in PAGES:
        for path in page.parent.glob(page.stem + ".*"):
            shutil.copy(path, folder / path.name)
    return folder
