"""A small orders service: the team project of golden-path's examples (see README.md)."""
