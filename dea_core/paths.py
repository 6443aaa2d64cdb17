"""Where the bundled resources live (icons, sample page, ornament pieces)."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
SAMPLE_PAGE_JSON = RESOURCES / "sample" / "regnard1696_foire-st-germain_f11.json"
