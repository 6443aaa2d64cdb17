"""AutoLabelme: draw one box per ornament type, get every occurrence boxed (PyQt5)."""
