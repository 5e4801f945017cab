"""Suite-wide pytest configuration: only the built-in ``pytester`` plugin is enabled here.

The golden-path plugin itself is not imported: it arrives through its ``pytest11``
entry point, as it would for any project.
"""

pytest_plugins = ["pytester"]
