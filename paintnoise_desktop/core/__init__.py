"""Pure image-editing logic: documents, masks, compositing, history, image files. No Qt, no torch."""
