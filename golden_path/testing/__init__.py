"""The golden-path pytest harness."""
