"""The repository's suite uses the golden-path plugin exactly as any project would:
it is loaded through its ``pytest11`` entry point, so nothing is imported here."""
