"""Screenshots of every click-and-collect screen at 768 px (tablet) and 390 px (phone) into
``docs/screens/`` for the README: runs the browser test that takes them, with Debian's
Chromium (``/usr/bin/chromium``).

    .venv/bin/python bench/screenshots.py [OUTPUT_DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screens"
    env = {**os.environ, "SCREENSHOTS_DIR": str(out.resolve())}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/e2e/test_screenshots.py",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode == 0:
        for path in sorted(out.glob("*.png")):
            print(
                f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB"
            )
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
