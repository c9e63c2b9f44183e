"""Models: the catalogue, where installed models are found, downloads, verification, safe
loading, device and memory profiles, and the store of loaded models."""
