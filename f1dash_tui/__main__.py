"""Allow ``python -m f1dash_tui``."""

from f1dash_tui.cli import main

main()
