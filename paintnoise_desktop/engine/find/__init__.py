"""Find: mask sources that turn words (or clicks) into ranked `MaskCandidate`s."""
