"""Inpaint: inpainters and the crop -> paint -> blend path that runs them."""
