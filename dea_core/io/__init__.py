"""Files in and out: LabelMe JSON (our own Qt-free codec), images, label notes, atomic writes."""

from dea_core.io.atomic import atomic_write_bytes, atomic_write_text
from dea_core.io.images import MAX_IMAGE_PIXELS, decode_image_bytes, encode_png, image_size, read_image
from dea_core.io.label_notes import apply_label_notes, read_label_notes, split_label_note, write_label_notes
from dea_core.io.labelme_json import (
    LABELME_FORMAT_VERSION,
    LabelFile,
    Shape,
    label_file_from_dict,
    label_file_to_dict,
    load_label_file,
    load_label_image,
    new_label_file,
    save_label_file,
)

__all__ = [
    "LABELME_FORMAT_VERSION",
    "MAX_IMAGE_PIXELS",
    "LabelFile",
    "Shape",
    "apply_label_notes",
    "atomic_write_bytes",
    "atomic_write_text",
    "decode_image_bytes",
    "encode_png",
    "image_size",
    "label_file_from_dict",
    "label_file_to_dict",
    "load_label_file",
    "load_label_image",
    "new_label_file",
    "read_image",
    "read_label_notes",
    "save_label_file",
    "split_label_note",
    "write_label_notes",
]
