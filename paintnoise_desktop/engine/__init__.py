"""The torch side: models, mask finders, inpainters and the job runner. No Qt.

Importing this package does not import torch; the modules that need it do, so
the window can start before the engine thread has loaded anything.
"""
